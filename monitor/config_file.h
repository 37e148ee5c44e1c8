/* `moat run --config FILE` and `moat config check FILE`: an INI file in
 * the style of QEMU's -readconfig, read with libinih, turned into the same
 * options the command line gives, so that one parser (options.c) makes the
 * VM description and both sources share every check. The format and the
 * override rules are docs/config.md's.
 *
 *   [machine]            kernel, firmware, initrd, cmdline, mem, cpus, ...
 *   [disk "ID"]          path, ro, blockdev, serial    -> --disk id=ID,...
 *   [net "ID"]           type, ifname, mac, hostfwd... -> --net ...,id=ID
 *   [smc]                osk-file or osk               -> --smc ...
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

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

/* `moat config check FILE [RUN OPTIONS]` and `moat config --help`: argv[0]
 * is "config". Exit status: 0 valid ("FILE: ok" on stdout), 2 not (one
 * line on stderr). */
int mon_config_main(int argc, char **argv);

/* The help text of `moat config` (usage.c, with the others; declared here
 * because usage.h is not this module's). */
void mon_usage_config(FILE *f);
