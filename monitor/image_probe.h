/* Ask `moat-blk probe` what a disk image is (ipc/proto/probe.proto): the
 * monitor never parses an image itself. moat-blk runs sandboxed as uid,
 * reads the header with the format's own code, answers once and exits.
 * Its answer is checked as the hostile data it may be: a known format
 * (the one asked for, if one was), names without control bytes, a backing
 * format moat knows. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "options.h"

#define MON_PROBE_NAME_MAX    1024
#define MON_PROBE_MAX_EXTENTS 128 /* vmdk_desc.h's VMDK_DESC_MAX_EXTENTS */
#define MON_PROBE_TIMEOUT_MS  10000

struct mon_probe {
	enum mon_disk_format format;
	uint64_t size;	  /* virtual size, bytes */
	uint32_t version; /* 0: raw */
	uint32_t cluster_size;
	uint64_t allocated; /* host bytes in use */
	uint32_t snapshots;
	bool dirty;
	bool has_backing;
	char backing_name[MON_PROBE_NAME_MAX];
	/* "" when the header records none; else "raw", "qcow2" or "vmdk" */
	char backing_format[8];
	/* a vmdk descriptor file: the names of the extent files it reads, in
	 * its order (malloc'd; mon_probe_free) */
	char (*extents)[MON_PROBE_NAME_MAX];
	unsigned nextents;
};

void mon_probe_free(struct mon_probe *p);

/* Probe fd (any access mode): as format when given is true, else from its
 * header. path names it in err. 0 with *out, or -errno with one line in
 * err: -EINVAL for an image the probe refused or found malformed (the
 * user's input at fault), another for a probe that failed to run. */
int mon_probe_image(int fd, const char *path, bool given, enum mon_disk_format format, uid_t uid,
		    struct mon_probe *out, char *err, size_t errlen);

/* The answer, checked: moat-blk read a hostile file and may be its tool.
 * 0 with *out (mon_probe_free it), or -errno with one line in err and
 * nothing kept. (For the fuzzer; mon_probe_image calls it.) */
struct Moat__Probe__ProbeResult;
int mon_probe_check(const struct Moat__Probe__ProbeResult *r, const char *path, bool given,
		    enum mon_disk_format format, struct mon_probe *out, char *err, size_t errlen);

/* "raw", "qcow2", "vmdk", and back: 0, or -EINVAL for another name. */
const char *mon_format_name(enum mon_disk_format f);
int mon_format_parse(const char *s, enum mon_disk_format *f);
