/* moat's config file (config_file.h, docs/config.md): libinih reads the
 * INI syntax; this file knows the sections and keys and turns each into the
 * option it mirrors. config_merge.c merges those with the command line's,
 * has mon_parse_run_at() check the lot and maps a refusal back to the line
 * that caused it. */
#include "config_file.h"

#include <errno.h>
#include <ini.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "errline.h"
#include "netopt.h"
#include "options.h"
#include "userfile.h"

#define CF_MAX_FILE	(1 << 20) /* bytes: a VM's description is a page or two */
#define CF_MAX_LINE	16384	  /* bytes, without the line end */
#define CF_MAX_SECTIONS (2 + MON_MAX_DISKS + MON_MAX_NETS)
/* A key the reader puts after each section line (control characters are
 * refused in the file, so none of the file's keys can be it): this inih
 * is built without INI_CALL_HANDLER_ON_NEW_SECTION, and a section without
 * keys, or one given twice, must still be seen. */
#define CF_MARKER "\x01"

enum cf_kind { CF_MACHINE, CF_DISK, CF_NET, CF_SMC };

/* A key and how often it may be given in one section: 1, or the cap of a
 * repeatable key (the most its option takes). */
struct cf_key_rule {
	const char *name;
	unsigned max;
};

struct cf_kind_rule {
	enum cf_kind kind;
	const char *name;
	bool has_id;  /* [disk "ID"] */
	unsigned max; /* sections of this kind */
	const struct cf_key_rule *keys;
	const char *key_list; /* for the message about an unknown key */
};

/* [machine]: each key is the option of the same name (verbose = on|off). */
static const struct cf_key_rule machine_keys[] = {
    {"kernel", 1},
    {"firmware", 1},
    {"initrd", 1},
    {"cmdline", 1},
    {"mem", 1},
    {"cpus", 1},
    {"serial", 1},
    {"shutdown-timeout", 1},
    {"device-restart", 1},
    {"audit", 1},
    {"limits", 1},
    {"smbios", MON_MAX_SMBIOS},
    {"name", 1},
    {"control", 1},
    {"vnc", 1},
    {"display", 1},
    {"verbose", 1},
    {NULL, 0},
};
static const struct cf_key_rule disk_keys[] = {
    {"path", 1}, {"ro", 1},	{"blockdev", 1}, {"serial", 1}, {"cache", 1},
    {"aio", 1},	 {"queues", 1}, {"format", 1},	 {NULL, 0},
};
static const struct cf_key_rule net_keys[] = {
    {"type", 1},     {"ifname", 1},   {"mac", 1}, {"hostfwd", NETOPT_MAX_FWD},
    {"restrict", 1}, {"hostloop", 1}, {NULL, 0},
};
static const struct cf_key_rule smc_keys[] = {{"osk-file", 1}, {"osk", 1}, {NULL, 0}};

static const struct cf_kind_rule kinds[] = {
    {CF_MACHINE, "machine", false, 1, machine_keys,
     "kernel, firmware, initrd, cmdline, mem, cpus, serial, shutdown-timeout, device-restart, "
     "audit, limits, "
     "smbios, name, control, vnc, display, verbose"},
    {CF_DISK, "disk", true, MON_MAX_DISKS, disk_keys,
     "path, format, ro, blockdev, serial, cache, aio, queues"},
    {CF_NET, "net", true, MON_MAX_NETS, net_keys, "type, ifname, mac, hostfwd, restrict, hostloop"},
    {CF_SMC, "smc", false, 1, smc_keys, "osk-file, osk"},
};

struct cf_value {
	const struct cf_key_rule *rule;
	char *text;
	int line;
};

struct cf_section {
	const struct cf_kind_rule *kind;
	char id[MON_CONFIG_ID_MAX + 1];
	int line;
	struct cf_value keys[MON_CONFIG_MAX_KEYS];
	unsigned nkeys;
};

/* The file as inih reads it, line by line through cf_next_line(). */
struct cf_reader {
	const char *path;
	const char *text;
	size_t len, pos;
	int lineno; /* of the line last handed to inih */
	bool line_is_section;
	bool marker_due;
	bool failed;
	char *err;
	size_t errlen;
	bool has_osk;
	struct cf_section sections[CF_MAX_SECTIONS];
	unsigned nsections;
	struct cf_section *cur;
};

/* "FILE:LINE: LABEL KEY: message", leaving out what is 0 or NULL. */
int mon_config_error(char *err, size_t errlen, const char *path, int line, const char *label,
		     const char *key, const char *fmt, ...)
{
	char where[64] = "";
	size_t n;
	va_list ap;

	if (line > 0)
		snprintf(where, sizeof(where), ":%d", line);
	n = (size_t)snprintf(err, errlen, "%s%s: %s%s%s%s", path, where, label ? label : "",
			     label && key ? " " : "", key ? key : "", label || key ? ": " : "");
	if (n < errlen) {
		va_start(ap, fmt);
		vsnprintf(err + n, errlen - n, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

static void cf_label(const struct cf_section *s, char *buf, size_t len)
{
	if (s->kind->has_id)
		snprintf(buf, len, "[%s \"%s\"]", s->kind->name, s->id);
	else
		snprintf(buf, len, "[%s]", s->kind->name);
}

static void cf_wipe(char *s)
{
	if (s)
		explicit_bzero(s, strlen(s));
	free(s);
}

/* --- reading: lines, sections, keys --- */

/* Each line is checked before inih sees it: its length (inih would split
 * a long one into two lines) and its bytes (a NUL would end it early).
 * A CR before the LF is dropped; bytes from 0x80 up pass (UTF-8). */
static int cf_check_line(struct cf_reader *r, const char *s, size_t n)
{
	if (n > CF_MAX_LINE)
		return mon_config_error(r->err, r->errlen, r->path, r->lineno, NULL, NULL,
					"the line is longer than %d bytes", CF_MAX_LINE);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == 0)
			return mon_config_error(r->err, r->errlen, r->path, r->lineno, NULL, NULL,
						"a NUL byte: this is not a text file");
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return mon_config_error(r->err, r->errlen, r->path, r->lineno, NULL, NULL,
						"a control character (0x%02x)", c);
	}
	return 0;
}

/* A section line ("[name]" after blanks; the UTF-8 BOM inih skips on line
 * 1) gets the marker key after it. Text after its ']' is refused: inih
 * would drop it without a word. */
static int cf_note_section(struct cf_reader *r, const char *s, size_t n)
{
	const char *close;
	size_t skip = 0;

	if (r->lineno == 1 && n >= 3 && memcmp(s, "\xef\xbb\xbf", 3) == 0)
		skip = 3;
	while (skip < n && (s[skip] == ' ' || s[skip] == '\t'))
		skip++;
	r->line_is_section = skip < n && s[skip] == '[';
	if (!r->line_is_section)
		return 0;
	r->marker_due = true;
	close = memchr(s + skip, ']', n - skip);
	if (!close)
		return 0; /* inih refuses the line */
	if (close - (s + skip) - 1 > MON_CONFIG_MAX_SECTION_NAME)
		return mon_config_error(r->err, r->errlen, r->path, r->lineno, NULL, NULL,
					"a section name longer than %d bytes",
					MON_CONFIG_MAX_SECTION_NAME);
	for (close++; close < s + n; close++)
		if (*close != ' ' && *close != '\t')
			return mon_config_error(r->err, r->errlen, r->path, r->lineno, NULL, NULL,
						"text after the section's ']'");
	return 0;
}

/* inih's fgets: the next line of the text, or the marker after a section
 * line; NULL at the end or once a line is refused. */
static char *cf_next_line(char *buf, int size, void *stream)
{
	struct cf_reader *r = stream;
	const char *s, *nl;
	size_t n;

	if (r->failed)
		return NULL;
	if (r->marker_due) {
		r->marker_due = false;
		snprintf(buf, (size_t)size, "%s=\n", CF_MARKER);
		return buf;
	}
	if (r->pos >= r->len)
		return NULL;
	s = r->text + r->pos;
	nl = memchr(s, '\n', r->len - r->pos);
	n = nl ? (size_t)(nl - s) : r->len - r->pos;
	r->pos += n + (nl ? 1 : 0);
	r->lineno++;
	if (n > 0 && s[n - 1] == '\r')
		n--;
	if (cf_check_line(r, s, n) < 0 || (size_t)size < n + 2 || cf_note_section(r, s, n) < 0) {
		r->failed = true;
		return NULL;
	}
	memcpy(buf, s, n);
	buf[n] = '\n';
	buf[n + 1] = 0;
	return buf;
}

/* `machine`, `smc`, `disk "ID"`, `net "ID"` (blanks around the parts). */
static int cf_parse_header(struct cf_reader *r, const char *text, struct cf_section *s)
{
	const struct cf_kind_rule *k = NULL;
	const char *rest;
	size_t n, restlen;

	text += strspn(text, " \t");
	n = strcspn(text, " \t\"");
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (strlen(kinds[i].name) == n && strncmp(kinds[i].name, text, n) == 0)
			k = &kinds[i];
	if (!k)
		return mon_config_error(
		    r->err, r->errlen, r->path, r->lineno, NULL, NULL,
		    "[%s]: unknown section (want [machine], [disk \"ID\"], [net \"ID\"] "
		    "or [smc])",
		    text);
	rest = text + n + strspn(text + n, " \t");
	restlen = strlen(rest);
	while (restlen && (rest[restlen - 1] == ' ' || rest[restlen - 1] == '\t'))
		restlen--;
	if (!restlen && k->has_id)
		return mon_config_error(r->err, r->errlen, r->path, r->lineno, NULL, NULL,
					"[%s]: needs an id: [%s \"ID\"]", k->name, k->name);
	if (restlen && !k->has_id)
		return mon_config_error(r->err, r->errlen, r->path, r->lineno, NULL, NULL,
					"[%s]: takes no id", text);
	if (restlen && (restlen < 2 || rest[0] != '"' || rest[restlen - 1] != '"' ||
			memchr(rest + 1, '"', restlen - 2)))
		return mon_config_error(r->err, r->errlen, r->path, r->lineno, NULL, NULL,
					"[%s]: the id goes in double quotes: [%s \"ID\"]", text,
					k->name);
	s->kind = k;
	snprintf(s->id, sizeof(s->id), "%.*s", restlen ? (int)restlen - 2 : 0, rest + 1);
	return 0;
}

static int cf_begin_section(struct cf_reader *r, const char *text)
{
	struct cf_section s = {.line = r->lineno};
	unsigned same = 0;
	char label[sizeof(((struct mon_config_entry *)0)->label)];

	if (cf_parse_header(r, text, &s) < 0)
		return -EINVAL;
	cf_label(&s, label, sizeof(label));
	for (unsigned i = 0; i < r->nsections; i++) {
		const struct cf_section *o = &r->sections[i];

		if (o->kind != s.kind)
			continue;
		if (strcmp(o->id, s.id) == 0)
			return mon_config_error(r->err, r->errlen, r->path, r->lineno, label, NULL,
						"given twice (first on line %d)", o->line);
		same++;
	}
	if (same >= s.kind->max || r->nsections >= CF_MAX_SECTIONS)
		return mon_config_error(r->err, r->errlen, r->path, r->lineno, label, NULL,
					"more than %u [%s] sections (the most moat takes)",
					s.kind->max, s.kind->name);
	r->sections[r->nsections] = s;
	r->cur = &r->sections[r->nsections++];
	return 0;
}

static int cf_add_key(struct cf_reader *r, const char *name, const char *value)
{
	struct cf_section *s = r->cur;
	const struct cf_key_rule *rule = NULL;
	char label[sizeof(((struct mon_config_entry *)0)->label)];
	unsigned count = 0;
	int first = 0;
	size_t n = strlen(value);

	if (!*name)
		return mon_config_error(r->err, r->errlen, r->path, r->lineno, NULL, NULL,
					"no key before the '='");
	if (!s)
		return mon_config_error(r->err, r->errlen, r->path, r->lineno, NULL, name,
					"a key outside any section (begin with [machine])");
	cf_label(s, label, sizeof(label));
	for (const struct cf_key_rule *k = s->kind->keys; k->name; k++)
		if (strcmp(k->name, name) == 0)
			rule = k;
	if (!rule)
		return mon_config_error(r->err, r->errlen, r->path, r->lineno, label, name,
					"unknown key (%s takes %s)", s->kind->name,
					s->kind->key_list);
	for (unsigned i = 0; i < s->nkeys; i++)
		if (s->keys[i].rule == rule && count++ == 0)
			first = s->keys[i].line;
	if (count >= rule->max && rule->max == 1)
		return mon_config_error(r->err, r->errlen, r->path, r->lineno, label, name,
					"given twice (first on line %d)", first);
	if (count >= rule->max || s->nkeys >= MON_CONFIG_MAX_KEYS)
		return mon_config_error(r->err, r->errlen, r->path, r->lineno, label, name,
					"given more than %u times (the most moat takes)",
					rule->max);
	/* "VALUE" as QEMU writes it: the outer quotes go */
	if (n >= 2 && value[0] == '"' && value[n - 1] == '"') {
		value++;
		n -= 2;
	}
	/* no option but --cmdline means anything by an empty value */
	if (n == 0 && strcmp(name, "cmdline") != 0)
		return mon_config_error(r->err, r->errlen, r->path, r->lineno, label, name,
					"an empty value");
	s->keys[s->nkeys] = (struct cf_value){.rule = rule, .line = r->lineno};
	s->keys[s->nkeys].text = strndup(value, n);
	if (!s->keys[s->nkeys].text)
		return mon_config_error(r->err, r->errlen, r->path, r->lineno, NULL, NULL,
					"out of memory");
	s->nkeys++;
	if (s->kind->kind == CF_SMC && strcmp(name, "osk") == 0)
		r->has_osk = true;
	return 0;
}

/* inih's handler: 1 to go on, 0 on error (the message is in r->err). */
static int cf_handler(void *user, const char *section, const char *name, const char *value)
{
	struct cf_reader *r = user;
	int rc;

	if (r->failed)
		return 0;
	if (strcmp(name, CF_MARKER) == 0)
		rc = cf_begin_section(r, section);
	else
		rc = cf_add_key(r, name, value);
	if (rc < 0)
		r->failed = true;
	return rc == 0;
}

/* inih read each line, an OSK's too, into a buffer on its stack: overwrite
 * that stretch now the call has returned (best effort: the same depth). */
static __attribute__((noinline)) void cf_scrub_stack(void)
{
	char pad[CF_MAX_LINE + 4096];

	explicit_bzero(pad, sizeof(pad));
	__asm__ volatile("" : : "r"(pad) : "memory");
}

/* Run inih over text; the sections land in r. */
static int cf_parse_text(struct cf_reader *r)
{
	int rc;

	/* Debian's inih makes its build options run-time variables. */
	ini_allow_multiline = false;	   /* an indented key is a key (QEMU indents) */
	ini_allow_inline_comments = false; /* " ;" can be part of a cmdline */
	ini_allow_no_value = false;
	ini_stop_on_first_error = true;
	ini_max_line = CF_MAX_LINE + 3; /* the line, '\n', NUL: never split */
	rc = ini_parse_stream(cf_next_line, r, cf_handler, r);
	if (r->has_osk)
		cf_scrub_stack();
	if (r->failed)
		return -EINVAL;
	if (rc == 0)
		return 0;
	if (rc < 0)
		return mon_config_error(r->err, r->errlen, r->path, 0, NULL, NULL, "out of memory");
	/* inih's own refusal, of the line it read last */
	if (r->line_is_section)
		return mon_config_error(r->err, r->errlen, r->path, r->lineno, NULL, NULL,
					"a section line without its ']'");
	return mon_config_error(r->err, r->errlen, r->path, r->lineno, NULL, NULL,
				"expected a [section] line or KEY = VALUE");
}

/* Open (a regular file only, as userfile.h opens the user's files), read
 * whole, parse. */
static int cf_read(struct cf_reader *r, const char *path, char *warn, size_t warnlen)
{
	struct stat st;
	char *text;
	ssize_t got;
	size_t len = 0;
	int fd, rc;

	fd = mon_open_regular("the config file", path, r->err, r->errlen);
	if (fd < 0)
		return fd;
	if (fstat(fd, &st) < 0) {
		close(fd);
		return mon_config_error(r->err, r->errlen, path, 0, NULL, NULL,
					"cannot read it: %s", strerror(errno));
	}
	text = malloc(CF_MAX_FILE + 1);
	if (!text) {
		close(fd);
		return mon_config_error(r->err, r->errlen, path, 0, NULL, NULL, "out of memory");
	}
	while (len <= CF_MAX_FILE && (got = read(fd, text + len, CF_MAX_FILE + 1 - len)) != 0) {
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			rc = errno;
			close(fd);
			free(text);
			return mon_config_error(r->err, r->errlen, path, 0, NULL, NULL,
						"cannot read it: %s", strerror(rc));
		}
		len += (size_t)got;
	}
	close(fd);
	if (len > CF_MAX_FILE) {
		free(text);
		return mon_config_error(r->err, r->errlen, path, 0, NULL, NULL,
					"larger than %d KiB: not a config file", CF_MAX_FILE >> 10);
	}
	r->path = path;
	r->text = text;
	r->len = len;
	rc = cf_parse_text(r);
	if (r->has_osk && (st.st_mode & (S_IRGRP | S_IROTH)))
		snprintf(warn, warnlen,
			 "%s holds the SMC's OSK and other users can read it (mode %04o): "
			 "chmod 600 it",
			 path, st.st_mode & 07777);
	explicit_bzero(text, len);
	free(text);
	r->text = NULL;
	return rc;
}

static void cf_reader_free(struct cf_reader *r)
{
	for (unsigned i = 0; i < r->nsections; i++)
		for (unsigned k = 0; k < r->sections[i].nkeys; k++)
			cf_wipe(r->sections[i].keys[k].text);
	r->nsections = 0;
}

/* --- the sections as options --- */

/* Append the field PREFIX VALUE to e; escape doubles each comma of value,
 * as --disk reads ",," (next_field in options.c). */
static int cf_add_field(struct mon_config_entry *e, const char *prefix, const char *value,
			bool escape, int line, const char *key)
{
	char *t = malloc(strlen(prefix) + 2 * strlen(value) + 1), *w;

	if (!t)
		return -ENOMEM;
	w = stpcpy(t, prefix);
	for (const char *v = value; *v; v++) {
		*w++ = *v;
		if (escape && *v == ',')
			*w++ = ',';
	}
	*w = 0;
	e->fields[e->nfields++] = (struct mon_config_field){.text = t, .line = line, .key = key};
	return 0;
}

/* e->value: the fields joined by ','. */
static int cf_join(struct mon_config_entry *e)
{
	size_t len = 1;
	char *w;

	for (unsigned i = 0; i < e->nfields; i++)
		len += strlen(e->fields[i].text) + 1;
	e->value = malloc(len);
	if (!e->value)
		return -ENOMEM;
	w = e->value;
	*w = 0;
	for (unsigned i = 0; i < e->nfields; i++) {
		if (i)
			*w++ = ',';
		w = stpcpy(w, e->fields[i].text);
	}
	return 0;
}

static const struct cf_value *cf_key(const struct cf_section *s, const char *name)
{
	for (unsigned i = 0; i < s->nkeys; i++)
		if (strcmp(s->keys[i].rule->name, name) == 0)
			return &s->keys[i];
	return NULL;
}

/* on -> true, off -> false, else an error at the key's line. */
static int cf_switch(struct cf_reader *r, const struct mon_config_entry *e,
		     const struct cf_value *v, bool *on)
{
	if (strcmp(v->text, "on") == 0 || strcmp(v->text, "off") == 0) {
		*on = strcmp(v->text, "on") == 0;
		return 0;
	}
	return mon_config_error(r->err, r->errlen, r->path, v->line, e->label, v->rule->name,
				"takes on or off, not '%s'", v->text);
}

/* [machine]: one entry per key, named as the option it is. */
static int cf_machine(struct cf_reader *r, const struct cf_section *s, struct mon_config_entry *out,
		      size_t *n)
{
	for (unsigned i = 0; i < s->nkeys; i++) {
		const struct cf_value *v = &s->keys[i];
		struct mon_config_entry *e = &out[*n];
		bool on = true;

		*e = (struct mon_config_entry){.option = v->rule->name, .line = s->line};
		cf_label(s, e->label, sizeof(e->label));
		if (strcmp(v->rule->name, "verbose") == 0 && cf_switch(r, e, v, &on) < 0)
			return -EINVAL;
		if (!on)
			continue;
		if (cf_add_field(e, "", v->text, false, v->line, v->rule->name) < 0)
			return -ENOMEM;
		(*n)++;
		if (strcmp(v->rule->name, "verbose") != 0 && cf_join(e) < 0)
			return -ENOMEM;
	}
	return 0;
}

/* [disk "ID"] -> --disk path=P,id=ID[,ro][,blockdev=B][,serial=S][,cache=C][,aio=A][,queues=N]
 * [,format=F] */
static int cf_disk(struct cf_reader *r, const struct cf_section *s, struct mon_config_entry *e)
{
	const struct cf_value *path = cf_key(s, "path");

	if (path && cf_add_field(e, "path=", path->text, true, path->line, "path") < 0)
		return -ENOMEM;
	if (cf_add_field(e, "id=", s->id, true, s->line, NULL) < 0)
		return -ENOMEM;
	for (unsigned i = 0; i < s->nkeys; i++) {
		const struct cf_value *v = &s->keys[i];
		const char *key = v->rule->name;
		bool on;
		int rc = 0;

		if (v == path)
			continue;
		if (strcmp(key, "ro") == 0) {
			if (cf_switch(r, e, v, &on) < 0)
				return -EINVAL;
			if (on)
				rc = cf_add_field(e, "ro", "", false, v->line, key);
		} else {
			char prefix[16];

			snprintf(prefix, sizeof(prefix), "%s=", key);
			rc = cf_add_field(e, prefix, v->text, true, v->line, key);
		}
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* [net "ID"] -> --net user,id=ID,... or --net tap=IFNAME,id=ID,... */
static int cf_net(struct cf_reader *r, const struct cf_section *s, struct mon_config_entry *e)
{
	const struct cf_value *type = cf_key(s, "type"), *ifname = cf_key(s, "ifname");
	bool tap;

	/* --net has no escape for a comma: one would start another field */
	if (strchr(s->id, ','))
		return mon_config_error(r->err, r->errlen, r->path, s->line, e->label, NULL,
					"an id cannot hold a comma");
	for (unsigned i = 0; i < s->nkeys; i++)
		if (strchr(s->keys[i].text, ','))
			return mon_config_error(r->err, r->errlen, r->path, s->keys[i].line,
						e->label, s->keys[i].rule->name,
						"a [net] value cannot hold a comma");
	if (!type)
		return mon_config_error(r->err, r->errlen, r->path, s->line, e->label, NULL,
					"needs type = user or type = tap");
	tap = strcmp(type->text, "tap") == 0;
	if (!tap && strcmp(type->text, "user") != 0)
		return mon_config_error(r->err, r->errlen, r->path, type->line, e->label, "type",
					"takes user or tap, not '%s'", type->text);
	if (!tap && ifname)
		return mon_config_error(r->err, r->errlen, r->path, ifname->line, e->label,
					"ifname", "is for type = tap");
	if (tap && !ifname)
		return mon_config_error(r->err, r->errlen, r->path, s->line, e->label, NULL,
					"type = tap needs ifname = IFNAME");
	if (tap ? cf_add_field(e, "tap=", ifname->text, false, ifname->line, "ifname")
		: cf_add_field(e, "user", "", false, type->line, "type"))
		return -ENOMEM;
	if (cf_add_field(e, "id=", s->id, false, s->line, NULL) < 0)
		return -ENOMEM;
	for (unsigned i = 0; i < s->nkeys; i++) {
		const struct cf_value *v = &s->keys[i];
		char prefix[16];

		if (v == type || v == ifname)
			continue;
		snprintf(prefix, sizeof(prefix), "%s=", v->rule->name);
		if (cf_add_field(e, prefix, v->text, false, v->line, v->rule->name) < 0)
			return -ENOMEM;
	}
	return 0;
}

/* [smc] -> --smc osk-file=PATH or --smc osk=STRING */
static int cf_smc(struct cf_reader *r, const struct cf_section *s, struct mon_config_entry *e)
{
	const struct cf_value *file = cf_key(s, "osk-file"), *osk = cf_key(s, "osk");

	if (file && osk) {
		const struct cf_value *later = file->line > osk->line ? file : osk;

		return mon_config_error(r->err, r->errlen, r->path, later->line, e->label,
					later->rule->name, "osk and osk-file exclude each other");
	}
	if (file)
		return cf_add_field(e, "osk-file=", file->text, false, file->line, "osk-file");
	if (osk)
		return cf_add_field(e, "osk=", osk->text, false, osk->line, "osk");
	return 0; /* an empty --smc: the parser says what it needs */
}

/* Every section as options, in the file's order (the order of --disk and
 * --net is the guest's order of devices). *out, with *n entries made, is
 * the caller's to free, after a failure too. */
static int cf_entries(struct cf_reader *r, struct mon_config_entry **out, size_t *n)
{
	struct mon_config_entry *entries;
	size_t cap = 1;

	for (unsigned i = 0; i < r->nsections; i++)
		cap += r->sections[i].kind->kind == CF_MACHINE ? r->sections[i].nkeys : 1;
	entries = calloc(cap, sizeof(*entries));
	if (!entries)
		return mon_config_error(r->err, r->errlen, r->path, 0, NULL, NULL, "out of memory");
	*out = entries;
	for (unsigned i = 0; i < r->nsections; i++) {
		const struct cf_section *s = &r->sections[i];
		struct mon_config_entry *e = &entries[*n];
		int rc;

		if (s->kind->kind == CF_MACHINE) {
			rc = cf_machine(r, s, entries, n);
		} else {
			*e = (struct mon_config_entry){.option = s->kind->name, .line = s->line};
			cf_label(s, e->label, sizeof(e->label));
			snprintf(e->id, sizeof(e->id), "%s", s->id);
			(*n)++;
			rc = s->kind->kind == CF_DISK  ? cf_disk(r, s, e)
			     : s->kind->kind == CF_NET ? cf_net(r, s, e)
						       : cf_smc(r, s, e);
			if (rc == 0)
				rc = cf_join(e);
		}
		if (rc == -ENOMEM)
			return mon_config_error(r->err, r->errlen, r->path, 0, NULL, NULL,
						"out of memory");
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* --- the file as a whole --- */

int mon_config_read(const char *path, struct mon_config_entry **entries, size_t *n, char *err,
		    size_t errlen, char *warn, size_t warnlen)
{
	struct cf_reader *r = calloc(1, sizeof(*r));
	struct mon_config_entry *made = NULL;
	size_t nmade = 0;
	int rc;

	if (!r)
		return err_line(err, errlen, "out of memory");
	r->err = err;
	r->errlen = errlen;
	rc = cf_read(r, path, warn, warnlen);
	if (rc == 0)
		rc = cf_entries(r, &made, &nmade);
	cf_reader_free(r);
	free(r);
	if (rc < 0) {
		mon_config_entries_free(made, nmade);
		return rc;
	}
	*entries = made;
	*n = nmade;
	return 0;
}

void mon_config_entries_free(struct mon_config_entry *entries, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		for (unsigned k = 0; k < entries[i].nfields; k++)
			cf_wipe(entries[i].fields[k].text);
		cf_wipe(entries[i].value);
	}
	free(entries);
}
