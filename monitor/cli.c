/* moat's command line: `moat run`, help and version (cli.h). */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <unistd.h>
#include <string.h>

#include "cli.h"
#include "config.h"
#include "config_merge.h"
#include "img_cmd.h"
#include "log.h"
#include "options.h"
#include "resources.h"
#include "run.h"
#include "usage.h"
#include "util.h"

/* The configuration holds the SMC's OSK until it is handed over: it lives
 * in pages of its own, kept out of core dumps and, where the limit allows,
 * out of swap; and a moat given an OSK is not dumpable, so no core file
 * and no unprivileged ptrace or /proc/PID/mem can read it. */
static struct mon_config *secret_config(bool *locked)
{
	size_t len = ALIGN_UP(sizeof(struct mon_config), (size_t)sysconf(_SC_PAGESIZE));
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	(void)madvise(p, len, MADV_DONTDUMP);
	*locked = mlock(p, len) == 0;
	return p;
}

/* The options, from --config FILE and the command line (config_merge.h). */
static int cmd_run(int argc, char **argv)
{
	struct mon_config_source *src = NULL;
	struct mon_config_report rep;
	struct mon_config *cfg;
	bool locked;
	int rc;

	cfg = secret_config(&locked);
	if (!cfg)
		return log_error_errno(errno, "Failed to set up: %m"), MON_EXIT_FAILURE;
	rc = mon_config_parse(argc, argv, mon_host_mem_bytes(), cfg, &src, &rep);
	if (rep.warn[0])
		log_warn("%s", rep.warn);
	if (rc < 0) {
		log_error("%s", rep.err);
		return MON_EXIT_BAD_INPUT;
	}
	if (cfg->help) {
		mon_usage_run(stdout);
		return MON_EXIT_OK;
	}
	if (cfg->smc && prctl(PR_SET_DUMPABLE, 0) < 0)
		return log_error_errno(errno, "Failed to keep the OSK out of dumps: %m"),
		       MON_EXIT_FAILURE;
	if (cfg->smc && !locked)
		log_debug("the configuration's pages could not be locked: the OSK may reach swap");
	if (cfg->smc_osk_inline && !rep.osk_in_file)
		log_warn("the OSK given with --smc osk= was visible to other users in the process "
			 "list until now; prefer --smc osk-file=PATH");
	rc = mon_run(cfg);
	explicit_bzero(cfg, sizeof(*cfg));
	mon_config_source_free(src); /* cfg pointed into it */
	return rc;
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
	if (strcmp(argv[1], "config") == 0)
		return mon_config_main(argc - 1, argv + 1);
	if (strcmp(argv[1], "img") == 0)
		return mon_img_main(argc - 1, argv + 1);
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
