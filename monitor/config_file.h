/* `moat run --config FILE` and `moat config check FILE`: an INI file in
 * the style of QEMU's -readconfig, read with libinih, turned into the same
 * options the command line gives, so that one parser (options.c) makes the
 * VM description and both sources share every check. */
#pragma once

#include <stddef.h>

struct mon_config;

/* Build the argument vector of `moat run` from FILE's options followed by
 * the command line's (argv[0] "run", then argv[1..argc)): the command
 * line overrides the file. *out_argv is malloc'ed (free with
 * mon_config_file_free). 0, or -errno with "FILE:LINE: message" in err. */
int mon_config_file_args(const char *path, int argc, char **argv, int *out_argc,
			 char ***out_argv, char *err, size_t errlen);
void mon_config_file_free(int argc, char **argv);

/* `moat config check FILE`: argv[0] is "config". Exit status: 0 valid, 2
 * not (one line on stderr). */
int mon_config_main(int argc, char **argv);
