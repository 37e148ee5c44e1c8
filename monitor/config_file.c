#include "config_file.h"

#include <errno.h>
#include <stdio.h>

int mon_config_file_args(const char *path, int argc, char **argv, int *out_argc,
			 char ***out_argv, char *err, size_t errlen)
{
	snprintf(err, errlen, "%s: config files are not supported yet", path);
	return -ENOTSUP;
}

void mon_config_file_free(int argc, char **argv)
{
}

int mon_config_main(int argc, char **argv)
{
	fprintf(stderr, "moat: config: not built yet\n");
	return 2;
}
