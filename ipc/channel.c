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

/* sendmsg, waiting a little for room when the socket is full. 0, -EIO for
 * a short write, or -errno. */
static int send_packed(int sock, struct msghdr *mh)
{
	for (;;) {
		ssize_t n = sendmsg(sock, mh, MSG_NOSIGNAL);
		if (n >= 0)
			return (size_t)n == mh->msg_iov[0].iov_len ? 0 : -EIO;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN)
			return -errno;
		int r = wait_fd(sock, POLLOUT, 5000);
		if (r < 0)
			return r;
	}
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
	int r = send_packed(sock, &mh);
	/* The packed copy may hold a secret (the SMC's OSK travels this way):
	 * no copy of it stays behind in freed heap memory. */
	explicit_bzero(buf, len);
	return r;
}

/* The most descriptors one message can carry (the kernel's SCM_MAX_FD). */
#define IPC_KERNEL_MAX_FDS 253

/* Hand every SCM_RIGHTS descriptor of mh to take(); true when the datagram
 * carried anything else, or lost descriptors (MSG_CTRUNC). */
static bool each_fd(struct msghdr *mh, void (*take)(int fd, void *ctx), void *ctx)
{
	bool bad = (mh->msg_flags & MSG_CTRUNC) != 0;

	for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) {
			bad = true;
			continue;
		}
		size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < n; i++) {
			int fd;
			memcpy(&fd, (char *)CMSG_DATA(c) + i * sizeof(int), sizeof(fd));
			take(fd, ctx);
		}
	}
	return bad;
}

/* One datagram into buf (IPC_MAX_MSG + 1 bytes), its descriptors (all of
 * them, whatever else is wrong) to take(). Returns its length (0 with no
 * descriptor: the peer hung up), -EMSGSIZE when it was too long, or
 * -errno (-EAGAIN); *bad when it carried foreign control data or lost
 * descriptors. */
static ssize_t recv_datagram(int sock, uint8_t *buf, void (*take)(int fd, void *ctx), void *ctx,
			     bool *bad)
{
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int) * IPC_KERNEL_MAX_FDS)];
	} ctl;
	struct iovec iov = {.iov_base = buf, .iov_len = IPC_MAX_MSG + 1};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
	ssize_t n;

	mh.msg_control = ctl.buf;
	mh.msg_controllen = sizeof(ctl.buf);
	/* ECONNRESET: the peer closed with a message of ours unread (a child
	 * that exits with a ping in its queue). The kernel reports that once,
	 * before what the peer sent first, and clears it: read on, and its
	 * last messages (moat-vcpu's EXIT) come, then the end (0). */
	do
		n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
	while (n < 0 && (errno == EINTR || errno == ECONNRESET));
	if (n < 0)
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	*bad = each_fd(&mh, take, ctx);
	return (mh.msg_flags & MSG_TRUNC) || n > IPC_MAX_MSG ? -EMSGSIZE : n;
}

static void take_into(int fd, void *ctx)
{
	struct ipc_fds *fds = ctx;

	if (fds->n < IPC_MAX_FDS)
		fds->fd[fds->n++] = fd;
	else {
		close(fd); /* more than a message of ours carries */
		fds->overflow = true;
	}
}

int ipc_recv(int sock, const ProtobufCMessageDescriptor *desc, ProtobufCMessage **out,
	     struct ipc_fds *fds)
{
	_cleanup_free_ uint8_t *buf = malloc(IPC_MAX_MSG + 1);
	bool bad = false;
	ssize_t n;

	fds->n = 0;
	fds->overflow = false;
	*out = NULL;
	if (!buf)
		return -ENOMEM;
	n = recv_datagram(sock, buf, take_into, fds, &bad);
	if (n == 0 && fds->n == 0 && !fds->overflow && !bad)
		return -EPIPE;
	if (n >= 0 && (bad || fds->overflow))
		n = -EBADMSG;
	if (n < 0) {
		ipc_fds_close(fds);
		return (int)n;
	}
	*out = protobuf_c_message_unpack(desc, NULL, (size_t)n, buf);
	if (!*out) {
		ipc_fds_close(fds);
		return -EBADMSG;
	}
	return 0;
}

struct discard_ctx {
	void (*discard)(int fd);
	unsigned n;
};

static void take_discard(int fd, void *ctx)
{
	struct discard_ctx *d = ctx;

	d->discard(fd);
	d->n++;
}

int ipc_recv_nofds(int sock, const ProtobufCMessageDescriptor *desc, ProtobufCMessage **out,
		   unsigned *nfds, void (*discard)(int fd))
{
	_cleanup_free_ uint8_t *buf = malloc(IPC_MAX_MSG + 1);
	struct discard_ctx d = {.discard = discard};
	bool bad = false;
	ssize_t n;

	*out = NULL;
	*nfds = 0;
	if (!buf)
		return -ENOMEM;
	n = recv_datagram(sock, buf, take_discard, &d, &bad);
	*nfds = d.n;
	if (n == 0 && d.n == 0 && !bad)
		return -EPIPE;
	if (n < 0)
		return (int)n;
	if (bad)
		return -EBADMSG;
	*out = protobuf_c_message_unpack(desc, NULL, (size_t)n, buf);
	return *out ? 0 : -EBADMSG;
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
