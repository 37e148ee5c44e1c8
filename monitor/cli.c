/* moat's command line: `moat run`, help and version (cli.h). */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "config.h"
#include "log.h"
#include "options.h"
#include "resources.h"
#include "run.h"
#include "usage.h"

static int cmd_run(int argc, char **argv)
{
	struct mon_config cfg;
	char err[256] = "";

	if (mon_parse_run(argc, argv, mon_host_mem_bytes(), &cfg, err, sizeof(err)) < 0) {
		log_error("%s", err);
		return MON_EXIT_BAD_INPUT;
	}
	if (cfg.help) {
		mon_usage_run(stdout);
		return MON_EXIT_OK;
	}
	if (cfg.smc_osk_inline)
		log_warn("the OSK given with --smc osk= was visible to other users in the process "
			 "list until now; prefer --smc osk-file=PATH");
	return mon_run(&cfg);
}

int mon_main(int argc, char **argv)
{
	log_set_prefix("moat");
	if (argc < 2) {
		mon_usage(stderr);
		return MON_EXIT_BAD_INPUT;
	}
	if (strcmp(argv[1], "run") == 0)
		return cmd_run(argc - 1, argv + 1);
	if (strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0) {
		mon_usage(stdout);
		return MON_EXIT_OK;
	}
	if (strcmp(argv[1], "version") == 0 || strcmp(argv[1], "--version") == 0) {
		printf("moat %s\n", MOAT_VERSION);
		return MON_EXIT_OK;
	}
	log_error("unknown command '%s' (see moat --help)", argv[1]);
	return MON_EXIT_BAD_INPUT;
}
