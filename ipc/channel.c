#include "channel.h"

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "util.h"

int ipc_channel_pair(int sv[2])
{
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, sv) < 0)
		return -errno;
	return 0;
}

static int wait_fd(int fd, short events, int timeout_ms)
{
	struct pollfd p = {.fd = fd, .events = events};
	int r;

	do
		r = poll(&p, 1, timeout_ms);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return -errno;
	if (r == 0)
		return -ETIMEDOUT;
	return 0;
}

int ipc_send(int sock, const ProtobufCMessage *msg, const int *fds, unsigned nfds)
{
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int) * IPC_MAX_FDS)];
	} ctl;
	size_t len = protobuf_c_message_get_packed_size(msg);
	_cleanup_free_ uint8_t *buf = NULL;
	struct msghdr mh = {0};
	struct iovec iov;

	if (len > IPC_MAX_MSG || nfds > IPC_MAX_FDS)
		return -EMSGSIZE;
	buf = malloc(len ? len : 1);
	if (!buf)
		return -ENOMEM;
	protobuf_c_message_pack(msg, buf);
	iov.iov_base = buf;
	iov.iov_len = len;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	if (nfds) {
		memset(&ctl, 0, sizeof(ctl));
		mh.msg_control = ctl.buf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
	}
	for (;;) {
		ssize_t n = sendmsg(sock, &mh, MSG_NOSIGNAL);
		if (n >= 0)
			return (size_t)n == len ? 0 : -EIO;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN)
			return -errno;
		int r = wait_fd(sock, POLLOUT, 5000);
		if (r < 0)
			return r;
	}
}

/* Collect SCM_RIGHTS descriptors; any other control message, or more than
 * IPC_MAX_FDS descriptors (MSG_CTRUNC), makes the datagram invalid. */
static int collect_fds(struct msghdr *mh, struct ipc_fds *fds)
{
	bool bad = (mh->msg_flags & MSG_CTRUNC) != 0;

	for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) {
			bad = true;
			continue;
		}
		size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		int *in = (int *)CMSG_DATA(c);
		for (size_t i = 0; i < n; i++) {
			int fd;
			memcpy(&fd, in + i, sizeof(fd));
			if (fds->n < IPC_MAX_FDS)
				fds->fd[fds->n++] = fd;
			else {
				close(fd);
				bad = true;
			}
		}
	}
	return bad ? -EBADMSG : 0;
}

int ipc_recv(int sock, const ProtobufCMessageDescriptor *desc, ProtobufCMessage **out,
	     struct ipc_fds *fds)
{
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int) * IPC_MAX_FDS)];
	} ctl;
	_cleanup_free_ uint8_t *buf = malloc(IPC_MAX_MSG + 1);
	struct iovec iov = {.iov_base = buf, .iov_len = IPC_MAX_MSG + 1};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
	ssize_t n;
	int r;

	fds->n = 0;
	*out = NULL;
	if (!buf)
		return -ENOMEM;
	mh.msg_control = ctl.buf;
	mh.msg_controllen = sizeof(ctl.buf);
	do
		n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	r = collect_fds(&mh, fds);
	if (n == 0 && fds->n == 0)
		return -EPIPE;
	if (r == 0 && ((mh.msg_flags & MSG_TRUNC) || n > IPC_MAX_MSG))
		r = -EMSGSIZE;
	if (r == 0) {
		*out = protobuf_c_message_unpack(desc, NULL, n, buf);
		if (!*out)
			r = -EBADMSG;
	}
	if (r < 0)
		ipc_fds_close(fds);
	return r;
}

int ipc_recv_wait(int sock, const ProtobufCMessageDescriptor *desc, ProtobufCMessage **out,
		  struct ipc_fds *fds, int timeout_ms)
{
	for (;;) {
		int r = ipc_recv(sock, desc, out, fds);
		if (r != -EAGAIN)
			return r;
		r = wait_fd(sock, POLLIN, timeout_ms);
		if (r < 0)
			return r;
	}
}

int ipc_fds_take(struct ipc_fds *fds, unsigned idx)
{
	if (idx >= fds->n || fds->fd[idx] < 0)
		return -EBADF;
	int fd = fds->fd[idx];
	fds->fd[idx] = -1;
	return fd;
}

void ipc_fds_close(struct ipc_fds *fds)
{
	for (unsigned i = 0; i < fds->n; i++)
		if (fds->fd[i] >= 0)
			close(fds->fd[i]);
	fds->n = 0;
}

/* protobuf-c keeps a oneof's case where the first member's quantifier
 * would be (quantifier_offset). */
int ipc_envelope_case(const ProtobufCMessage *m)
{
	const ProtobufCFieldDescriptor *f = &m->descriptor->fields[0];

	if (m->descriptor->n_fields == 0 || !(f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF))
		return -1;
	return (int)*(const uint32_t *)((const char *)m + f->quantifier_offset);
}
