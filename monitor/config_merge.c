/* moat run --config FILE (config_merge.h, docs/config.md): the file's
 * options, as config_file.c reads them, merged with the command line's
 * into one argv that mon_parse_run_at() checks; a refusal is mapped back
 * to the line that caused it. And `moat config check`, which does that and
 * starts nothing. */
#include "config_merge.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_file.h"
#include "errline.h"
#include "log.h"
#include "options.h"
#include "resources.h"
#include "run.h"
#include "usage.h"

/* The file's options and the argv made of them and the command line's. */
struct mon_config_source {
	struct mon_config_entry *entries; /* config_file.c's */
	size_t nentries;
	int argc;
	char **argv;
	const struct mon_config_entry **origin; /* per argv element: the file's entry, or NULL */
	char (*names)[24];			/* the "--NAME" elements of argv */
};

/* --- the file's options and the command line's, together --- */

static bool cf_repeatable(const char *option)
{
	return strcmp(option, "disk") == 0 || strcmp(option, "net") == 0 ||
	       strcmp(option, "smbios") == 0;
}

/* Whether the command line's option replaces the file's single-valued
 * one: the same option, and --kernel and --firmware are one choice. */
static bool cf_same_slot(const char *file, const char *cl)
{
	bool boot_file = strcmp(file, "kernel") == 0 || strcmp(file, "firmware") == 0;
	bool boot_cl = strcmp(cl, "kernel") == 0 || strcmp(cl, "firmware") == 0;

	return strcmp(file, cl) == 0 || (boot_file && boot_cl);
}

/* The command line's --disk or --net whose id= is e's, not yet used. */
static long cf_replacement(const struct mon_config_entry *e, const struct mon_run_arg *cl,
			   size_t ncl, const bool *used)
{
	char id[sizeof(e->id)];

	if (strcmp(e->option, "disk") != 0 && strcmp(e->option, "net") != 0)
		return -1;
	for (size_t j = 0; j < ncl; j++)
		if (!used[j] && strcmp(cl[j].name, e->option) == 0 &&
		    mon_option_id(cl[j].name, cl[j].value, id, sizeof(id)) == 0 &&
		    strcmp(id, e->id) == 0)
			return (long)j;
	return -1;
}

/* Append one option ("--NAME" and its value, if any) to src->argv. */
static void cf_emit(struct mon_config_source *src, char (*names)[24], const char *name,
		    const char *value, const struct mon_config_entry *origin)
{
	snprintf(names[src->argc], sizeof(names[0]), "--%s", name);
	src->origin[src->argc] = origin;
	src->argv[src->argc] = names[src->argc];
	src->argc++;
	if (value) {
		src->origin[src->argc] = origin;
		src->argv[src->argc++] = (char *)value;
	}
}

/* The argv that mon_parse_run_at reads: the file's options in the file's
 * order, except those the command line overrides (a single-valued option
 * it gives; a --disk or --net with the same id, which takes the file's
 * place so that the guest's device order holds), then the command line's.
 * Command-line values stay in argv's own memory, where --smc osk= is
 * wiped. */
static int cf_merge(struct mon_config_source *src, const struct mon_run_arg *cl, size_t ncl,
		    struct mon_config_report *rep)
{
	size_t max = 1 + 2 * (src->nentries + ncl);
	char(*names)[24] = calloc(max + 1, sizeof(*names));
	bool *used = calloc(ncl + 1, sizeof(bool));

	src->argv = calloc(max + 1, sizeof(*src->argv));
	src->origin = calloc(max + 1, sizeof(*src->origin));
	src->names = names;
	if (!names || !used || !src->argv || !src->origin) {
		free(used);
		return err_line(rep->err, sizeof(rep->err), "out of memory");
	}
	src->argv[src->argc++] = "run";
	for (size_t i = 0; i < src->nentries; i++) {
		const struct mon_config_entry *e = &src->entries[i];
		bool overridden = false;
		long j = cf_replacement(e, cl, ncl, used);

		for (size_t k = 0; k < ncl && !cf_repeatable(e->option); k++)
			overridden |= cf_same_slot(e->option, cl[k].name);
		if (overridden)
			continue;
		if (j >= 0) {
			used[j] = true;
			cf_emit(src, names, cl[j].name, cl[j].value, NULL);
			continue;
		}
		cf_emit(src, names, e->option, e->value, e);
		if (strcmp(e->option, "smc") == 0 && e->value && strncmp(e->value, "osk=", 4) == 0)
			rep->osk_in_file = true;
	}
	for (size_t j = 0; j < ncl; j++)
		if (!used[j])
			cf_emit(src, names, cl[j].name, cl[j].value, NULL);
	free(used);
	return 0;
}

/* Whether e's option with only the value probe is refused with msg. */
static bool cf_probe_fails(const struct mon_config_entry *e, char *probe, const char *msg)
{
	struct mon_config c;
	char opt[24], err[sizeof(((struct mon_config_report *)0)->err)];
	char *argv[] = {"run", "--kernel", "/probe", opt, probe, NULL};
	bool same;

	snprintf(opt, sizeof(opt), "--%s", e->option);
	same = mon_parse_run(5, argv, 0, &c, err, sizeof(err)) < 0 && strcmp(err, msg) == 0;
	explicit_bzero(&c, sizeof(c));
	return same;
}

/* Which key of a section gave the field the parser refused with msg: the
 * first field that, alone after the section's first (path= of a disk, the
 * kind of a card), is refused with the same words. NULL: none alone (a
 * missing key, a clash between devices): the section line is the place. */
static const struct mon_config_field *cf_blame(const struct mon_config_entry *e, const char *msg)
{
	const struct mon_config_field *found = NULL;

	if (e->nfields <= 1)
		return e->nfields ? &e->fields[0] : NULL;
	for (unsigned i = 0; i < e->nfields && !found; i++) {
		const char *base = e->fields[0].text;
		char *probe = malloc(strlen(base) + strlen(e->fields[i].text) + 2);

		if (!probe)
			return NULL;
		if (i == 0)
			strcpy(probe, base);
		else
			sprintf(probe, "%s,%s", base, e->fields[i].text);
		if (cf_probe_fails(e, probe, msg))
			found = &e->fields[i];
		explicit_bzero(probe, strlen(probe));
		free(probe);
	}
	return found;
}

/* Turn the parser's line about argv[at] into "FILE:LINE: [section] key: ...". */
static int cf_map_error(const struct mon_config_source *src, const char *path, int at,
			const char *msg, char *err, size_t errlen)
{
	const struct mon_config_entry *e = at >= 0 && at < src->argc ? src->origin[at] : NULL;
	const struct mon_config_field *f;

	if (at < 0)
		return mon_config_error(err, errlen, path, 0, NULL, NULL, "%s", msg);
	if (!e)
		return err_line(err, errlen, "%s", msg); /* the command line's own */
	f = cf_blame(e, msg);
	return mon_config_error(err, errlen, path, f ? f->line : e->line, e->label,
				f ? f->key : NULL, "%s", msg);
}

/* Read the file, merge, parse. */
static int cf_load(const char *path, const struct mon_run_arg *cl, size_t ncl, uint64_t host,
		   struct mon_config *cfg, struct mon_config_source *src,
		   struct mon_config_report *rep)
{
	char msg[sizeof(rep->err)];
	int rc, at = -1;

	rc = mon_config_read(path, &src->entries, &src->nentries, rep->err, sizeof(rep->err),
			     rep->warn, sizeof(rep->warn));
	if (rc == 0)
		rc = cf_merge(src, cl, ncl, rep);
	if (rc < 0)
		return rc;
	if (mon_parse_run_at(src->argc, src->argv, host, cfg, &at, msg, sizeof(msg)) == 0)
		return 0;
	return cf_map_error(src, path, at, msg, rep->err, sizeof(rep->err));
}

int mon_config_parse(int argc, char **argv, uint64_t host_mem_bytes, struct mon_config *cfg,
		     struct mon_config_source **srcp, struct mon_config_report *rep)
{
	struct mon_config_source *src;
	struct mon_run_arg *cl = NULL;
	const char *path = NULL;
	bool help = false;
	size_t ncl = 0;
	int rc;

	*srcp = NULL;
	rep->err[0] = rep->warn[0] = 0;
	rep->osk_in_file = false;
	if (mon_scan_run(argc, argv, &cl, &ncl, rep->err, sizeof(rep->err)) < 0)
		return -EINVAL;
	for (size_t j = 0; j < ncl; j++) {
		help |= strcmp(cl[j].name, "help") == 0;
		if (strcmp(cl[j].name, "config") != 0)
			continue;
		if (path) {
			free(cl);
			return err_line(rep->err, sizeof(rep->err), "--config given twice");
		}
		path = cl[j].value;
	}
	if (help || !path) {
		free(cl);
		return mon_parse_run(argc, argv, host_mem_bytes, cfg, rep->err, sizeof(rep->err));
	}
	src = calloc(1, sizeof(*src));
	rc = src ? cf_load(path, cl, ncl, host_mem_bytes, cfg, src, rep)
		 : err_line(rep->err, sizeof(rep->err), "out of memory");
	free(cl);
	if (rc < 0) {
		mon_config_source_free(src);
		return rc;
	}
	*srcp = src;
	return 0;
}

void mon_config_source_free(struct mon_config_source *src)
{
	if (!src)
		return;
	mon_config_entries_free(src->entries, src->nentries);
	free(src->argv);
	free(src->origin);
	free(src->names);
	free(src);
}

/* --- moat config --- */

static int cf_check(const char *path, int nmore, char **more)
{
	struct mon_config_report rep;
	struct mon_config_source *src = NULL;
	struct mon_config *cfg = calloc(1, sizeof(*cfg));
	char **argv = calloc((size_t)nmore + 4, sizeof(char *));
	int rc;

	if (!cfg || !argv) {
		free(cfg);
		free(argv);
		return log_error("out of memory"), MON_EXIT_FAILURE;
	}
	argv[0] = "run";
	argv[1] = "--config";
	argv[2] = (char *)path;
	memcpy(argv + 3, more, (size_t)nmore * sizeof(char *));
	rc = mon_config_parse(nmore + 3, argv, mon_host_mem_bytes(), cfg, &src, &rep);
	if (rep.warn[0])
		log_warn("%s", rep.warn);
	if (rc < 0)
		log_error("%s", rep.err);
	else
		printf("%s: ok\n", path);
	explicit_bzero(cfg, sizeof(*cfg)); /* it may hold the OSK */
	free(cfg);
	free(argv);
	mon_config_source_free(src);
	return rc < 0 ? MON_EXIT_BAD_INPUT : MON_EXIT_OK;
}

int mon_config_main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			mon_usage_config(stdout);
			return MON_EXIT_OK;
		}
	if (argc < 2) {
		mon_usage_config(stderr);
		return MON_EXIT_BAD_INPUT;
	}
	if (strcmp(argv[1], "check") != 0) {
		log_error("unknown config command '%s' (see moat config --help)", argv[1]);
		return MON_EXIT_BAD_INPUT;
	}
	if (argc < 3) {
		log_error("config check needs a FILE (see moat config --help)");
		return MON_EXIT_BAD_INPUT;
	}
	return cf_check(argv[2], argc - 3, argv + 3);
}
