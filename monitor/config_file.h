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
 *
 * This header is the reader's (config_file.c): the file's sections as
 * options, each with the lines it came from. Merging them with the command
 * line, and `moat config`, are config_merge.h's.
 */
#pragma once

#include <stddef.h>

#define MON_CONFIG_MAX_KEYS 32 /* in one section: each key once, smbios/hostfwd capped */
/* inih keeps 49 bytes of a section name and drops the rest unsaid */
#define MON_CONFIG_MAX_SECTION_NAME 48
#define MON_CONFIG_ID_MAX	    MON_CONFIG_MAX_SECTION_NAME /* an id fits in its section's name */

/* One piece of an option's value and where it came from. */
struct mon_config_field {
	char *text;
	int line;
	const char *key; /* NULL: the section line itself (a section's id) */
};

/* One option the file gives: a [machine] key, or a whole section. */
struct mon_config_entry {
	const char *option; /* its long name: "mem", "disk" */
	char *value;	    /* the fields joined by ','; NULL for a flag */
	char label[MON_CONFIG_ID_MAX + 16];
	int line; /* the section's */
	char id[MON_CONFIG_ID_MAX + 1];
	struct mon_config_field fields[MON_CONFIG_MAX_KEYS + 1];
	unsigned nfields;
};

/* Read the file at path (a regular file, opened as userfile.h opens the
 * user's files), check its syntax, sections and keys, and turn it into
 * options in the file's order. On success *entries (*n of them) is the
 * caller's: free it with mon_config_entries_free(). On failure nothing is
 * written there and err holds one line (for a fault in the text,
 * "FILE:LINE: [section] key: ...").
 * warn gets a line, even on failure, when the file holds an OSK that
 * others can read; else it is left alone. 0, or a negative errno. */
int mon_config_read(const char *path, struct mon_config_entry **entries, size_t *n, char *err,
		    size_t errlen, char *warn, size_t warnlen);
/* Wipes each value (one may be the OSK) and frees; NULL is fine. */
void mon_config_entries_free(struct mon_config_entry *entries, size_t n);

/* Write "FILE:LINE: LABEL KEY: message" to err, leaving out a line of 0
 * and a NULL label or key. Returns -EINVAL, to be returned in turn. */
__attribute__((format(printf, 7, 8))) int mon_config_error(char *err, size_t errlen,
							   const char *path, int line,
							   const char *label, const char *key,
							   const char *fmt, ...);
