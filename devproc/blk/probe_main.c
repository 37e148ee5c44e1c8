/* `moat-blk probe`: one image, one answer. The monitor sends a
 * ProbeRequest with the image's descriptor (ipc/proto/probe.proto); we
 * enter moat-blk's sandbox, read the header with the format's own code
 * (blk_probe.h) and answer with a ProbeResult, then exit. The monitor
 * believes none of it beyond what it checks: the backing name is a string
 * it resolves and opens itself (monitor/image_chain.c). */
#include "probe_main.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "blk_probe.h"
#include "child.h"
#include "log.h"
#include "probe.pb-c.h"
#include "vmdk_desc.h"

static Moat__Dev__BlkFormat proto_format(enum blk_format f)
{
	return f == BLK_FORMAT_QCOW2  ? MOAT__DEV__BLK_FORMAT__BLK_FORMAT_QCOW2
	       : f == BLK_FORMAT_VMDK ? MOAT__DEV__BLK_FORMAT__BLK_FORMAT_VMDK
				      : MOAT__DEV__BLK_FORMAT__BLK_FORMAT_RAW;
}

static int answer(const Moat__Probe__ProbeResult *res)
{
	return ipc_send(CHILD_CONTROL_FD, &res->base, NULL, 0);
}

int blk_probe_main(void)
{
	/* one thread, and no descriptor of its own beyond the image */
	static const struct pol_limits lim = {.nofile_extra = 2, .nproc = 1};
	const struct pol_options opts = {.limits = &lim};
	Moat__Probe__ProbeResult res = MOAT__PROBE__PROBE_RESULT__INIT;
	ProtobufCMessage *m = NULL;
	struct ipc_fds fds = {0};
	struct blk_image_info info;
	struct pol_report rep = {0};
	Moat__Sandbox__SandboxReport sr;
	enum blk_format f = BLK_FORMAT_RAW;
	static struct vmdk_desc desc;
	static char *names[VMDK_DESC_MAX_EXTENTS];
	bool is_desc;
	char err[256] = "";
	int fd, rc;

	log_set_prefix("moat-blk/probe");
	rc = ipc_recv_wait(CHILD_CONTROL_FD, &moat__probe__probe_request__descriptor, &m, &fds,
			   CHILD_START_TIMEOUT_MS);
	if (rc < 0)
		return log_error_errno(rc, "no probe request: %m"), 1;
	const Moat__Probe__ProbeRequest *req = (const Moat__Probe__ProbeRequest *)m;
	fd = ipc_fds_take(&fds, req->fd_image);
	ipc_fds_close(&fds);
	if (fd < 0)
		return log_error("probe: no image descriptor at index %u", req->fd_image), 1;
	if (req->format_given)
		f = req->format == MOAT__DEV__BLK_FORMAT__BLK_FORMAT_QCOW2  ? BLK_FORMAT_QCOW2
		    : req->format == MOAT__DEV__BLK_FORMAT__BLK_FORMAT_VMDK ? BLK_FORMAT_VMDK
									    : BLK_FORMAT_RAW;
	if (child_enter_sandbox("blk", &opts, &rep, &sr) < 0)
		return 1;
	rc = blk_probe_fd(fd, req->format_given, &f, &info, &desc, &is_desc, err, sizeof(err));
	close(fd);
	res.ok = rc == 0;
	res.error = err;
	res.format = proto_format(f);
	if (rc == 0) {
		res.size = info.size;
		res.version = info.version;
		res.cluster_size = info.cluster_size;
		res.allocated = info.allocated;
		res.has_backing = info.has_backing;
		res.backing_name = info.backing_name;
		res.backing_format = info.backing_format;
		res.snapshots = info.snapshots;
		res.dirty = info.dirty;
	}
	for (unsigned i = 0; rc == 0 && is_desc && i < desc.n; i++)
		if (vmdk_extent_needs_file(&desc.ext[i]))
			names[res.n_extent_names++] = desc.ext[i].name;
	res.extent_names = names;
	rc = answer(&res);
	protobuf_c_message_free_unpacked(m, NULL);
	return rc < 0 ? 1 : 0;
}
