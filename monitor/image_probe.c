#include "image_probe.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "channel.h"
#include "devmsg.h"
#include "errline.h"
#include "log.h"
#include "paths.h"
#include "probe.pb-c.h"
#include "spawn.h"
#include "util.h"

const char *mon_format_name(enum mon_disk_format f)
{
	return f == MON_FORMAT_QCOW2 ? "qcow2" : f == MON_FORMAT_VMDK ? "vmdk" : "raw";
}

int mon_format_parse(const char *s, enum mon_disk_format *f)
{
	for (enum mon_disk_format i = MON_FORMAT_RAW; i <= MON_FORMAT_VMDK; i++)
		if (strcmp(s, mon_format_name(i)) == 0) {
			*f = i;
			return 0;
		}
	return -EINVAL;
}

static Moat__Dev__BlkFormat to_proto(enum mon_disk_format f)
{
	return f == MON_FORMAT_QCOW2  ? MOAT__DEV__BLK_FORMAT__BLK_FORMAT_QCOW2
	       : f == MON_FORMAT_VMDK ? MOAT__DEV__BLK_FORMAT__BLK_FORMAT_VMDK
				      : MOAT__DEV__BLK_FORMAT__BLK_FORMAT_RAW;
}

static int from_proto(Moat__Dev__BlkFormat f, enum mon_disk_format *out)
{
	switch (f) {
	case MOAT__DEV__BLK_FORMAT__BLK_FORMAT_RAW:
		*out = MON_FORMAT_RAW;
		return 0;
	case MOAT__DEV__BLK_FORMAT__BLK_FORMAT_QCOW2:
		*out = MON_FORMAT_QCOW2;
		return 0;
	case MOAT__DEV__BLK_FORMAT__BLK_FORMAT_VMDK:
		*out = MON_FORMAT_VMDK;
		return 0;
	default:
		return -EPROTO;
	}
}

/* A name from the image: printable, no control byte, not too long. */
static bool name_ok(const char *s, size_t max)
{
	size_t n = s ? strnlen(s, max) : 0;

	if (n == max)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return false;
	return true;
}

int mon_probe_check(const Moat__Probe__ProbeResult *r, const char *path, bool given,
		    enum mon_disk_format format, struct mon_probe *out, char *err, size_t errlen)
{
	char line[200];

	if (!r->ok) {
		mon_untrusted_line(r->error ? r->error : "?", line, sizeof(line));
		return err_line(err, errlen, "disk image %s: %s", path, line);
	}
	*out = (struct mon_probe){0};
	if (from_proto(r->format, &out->format) < 0 || (given && out->format != format) ||
	    !name_ok(r->backing_name, sizeof(out->backing_name)) ||
	    !name_ok(r->backing_format, sizeof(out->backing_format)) ||
	    (!r->has_backing && r->backing_name && r->backing_name[0]))
		return err_line(err, errlen, "disk image %s: the probe's answer makes no sense",
				path),
		       -EPROTO;
	out->size = r->size;
	out->version = r->version;
	out->cluster_size = r->cluster_size;
	out->allocated = r->allocated;
	out->snapshots = r->snapshots;
	out->dirty = r->dirty;
	out->has_backing = r->has_backing;
	snprintf(out->backing_name, sizeof(out->backing_name), "%s",
		 r->backing_name ? r->backing_name : "");
	snprintf(out->backing_format, sizeof(out->backing_format), "%s",
		 r->backing_format ? r->backing_format : "");
	enum mon_disk_format bf;
	if (out->backing_format[0] && mon_format_parse(out->backing_format, &bf) < 0)
		return err_line(err, errlen,
				"disk image %s: its backing file's format '%s' is not one moat "
				"reads (raw, qcow2, vmdk)",
				path, out->backing_format);
	if (out->has_backing && !out->backing_name[0])
		return err_line(err, errlen, "disk image %s: names an empty backing file", path);
	if (r->n_extent_names && (out->format != MON_FORMAT_VMDK || out->has_backing ||
				  r->n_extent_names > MON_PROBE_MAX_EXTENTS))
		return err_line(err, errlen, "disk image %s: the probe's answer makes no sense",
				path),
		       -EPROTO;
	if (r->n_extent_names) {
		out->extents = calloc(r->n_extent_names, sizeof(*out->extents));
		if (!out->extents)
			return -ENOMEM;
	}
	for (size_t i = 0; i < r->n_extent_names; i++) {
		if (!name_ok(r->extent_names[i], MON_PROBE_NAME_MAX) || !r->extent_names[i][0]) {
			mon_probe_free(out);
			return err_line(err, errlen,
					"disk image %s: the probe's answer makes no sense", path),
			       -EPROTO;
		}
		snprintf(out->extents[i], MON_PROBE_NAME_MAX, "%s", r->extent_names[i]);
		out->nextents++;
	}
	return 0;
}

void mon_probe_free(struct mon_probe *p)
{
	free(p->extents);
	p->extents = NULL;
	p->nextents = 0;
}

static int spawn_probe(int ctl_end, uid_t uid, struct mon_child *child)
{
	char exe[PATH_MAX], argv0[] = "moat-blk", arg1[] = "probe";
	char *argv[] = {argv0, arg1, NULL};
	int devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
	struct mon_spawn_args sa = {
	    .path = exe, .argv = argv, .fds = &ctl_end, .nfds = 1, .uid = uid, .gid = uid};
	int rc = mon_find_child_exe(argv0, "devproc/blk", exe, sizeof(exe));

	if (rc < 0 || devnull < 0) {
		if (devnull >= 0)
			close(devnull);
		return rc < 0 ? rc : -errno;
	}
	/* its words would be a hostile file's: only its answer counts */
	sa.log_fd = devnull;
	rc = mon_spawn(&sa, child);
	close(devnull);
	return rc;
}

static void end_probe(struct mon_child *child)
{
	siginfo_t si;

	syscall(SYS_pidfd_send_signal, child->pidfd, SIGKILL, NULL, 0);
	while (waitid(P_PIDFD, child->pidfd, &si, WEXITED) < 0 && errno == EINTR)
		;
	close(child->pidfd);
}

int mon_probe_image(int fd, const char *path, bool given, enum mon_disk_format format, uid_t uid,
		    struct mon_probe *out, char *err, size_t errlen)
{
	Moat__Probe__ProbeRequest req = MOAT__PROBE__PROBE_REQUEST__INIT;
	ProtobufCMessage *m = NULL;
	struct ipc_fds fds = {0};
	struct mon_child child;
	int sv[2], rc;

	rc = ipc_channel_pair(sv);
	if (rc < 0)
		return err_line(err, errlen, "cannot probe disk image %s: %s", path, strerror(-rc)),
		       rc;
	rc = spawn_probe(sv[1], uid, &child);
	close(sv[1]);
	if (rc < 0) {
		close(sv[0]);
		return err_line(err, errlen, "cannot start moat-blk to probe disk image %s: %s",
				path, strerror(-rc)),
		       rc;
	}
	req.fd_image = 0;
	req.format_given = given;
	req.format = to_proto(format);
	rc = ipc_send(sv[0], &req.base, &fd, 1);
	if (rc == 0)
		rc = ipc_recv_wait(sv[0], &moat__probe__probe_result__descriptor, &m, &fds,
				   MON_PROBE_TIMEOUT_MS);
	close(sv[0]);
	end_probe(&child);
	if (rc == 0 && fds.n) /* it has no descriptor to send */
		rc = -EPROTO;
	ipc_fds_close(&fds);
	if (rc < 0) {
		if (m)
			protobuf_c_message_free_unpacked(m, NULL);
		err_line(err, errlen, "disk image %s: moat-blk's probe gave no answer (%s)", path,
			 rc == -EAGAIN ? "timed out" : strerror(-rc));
		return rc == -EAGAIN ? -ETIMEDOUT : rc;
	}
	rc = mon_probe_check((const Moat__Probe__ProbeResult *)m, path, given, format, out, err,
			     errlen);
	protobuf_c_message_free_unpacked(m, NULL);
	return rc;
}
