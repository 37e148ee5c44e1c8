/* The config file and the command line together (config_merge.c): the
 * file's options (config_file.h reads them) come first and the command
 * line's override them by docs/config.md's rules; options.c's parser checks
 * the lot, and a refusal of one of the file's options is mapped back to
 * "FILE:LINE: [section] key: ...". `moat config check` is that, with no VM
 * started.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

struct mon_config;

/* What reading the options found, for the user. */
struct mon_config_report {
	char err[1024];	  /* the one line of a failure: "FILE:LINE: [disk "root"] path: ..." */
	char warn[512];	  /* shown even on success: an OSK in a file others can read */
	bool osk_in_file; /* the SMC's OSK came from the file, not from argv */
};

/* The file's text turned into options, which the mon_config points into. */
struct mon_config_source;

/* Parse argv of `moat run` (argv[0] "run") into cfg, as mon_parse_run
 * does; with --config FILE, FILE's options come first and the command
 * line's override them (docs/config.md). *src then owns the strings cfg
 * points into: free it with mon_config_source_free() once cfg is no longer
 * used (it stays NULL without --config). 0, or -EINVAL with rep->err. */
int mon_config_parse(int argc, char **argv, uint64_t host_mem_bytes, struct mon_config *cfg,
		     struct mon_config_source **src, struct mon_config_report *rep);
/* Wipes and frees; NULL is fine. */
void mon_config_source_free(struct mon_config_source *src);

/* `moat config check FILE [RUN OPTIONS]` and `moat config --help` (its text
 * is usage.c's mon_usage_config): argv[0] is "config". Exit status: 0 valid
 * ("FILE: ok" on stdout), 2 not (one line on stderr). */
int mon_config_main(int argc, char **argv);
