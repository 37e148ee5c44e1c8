/* The control channel against a hostile peer: garbage bytes, oversized
 * datagrams, too many descriptors, descriptors with no message. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "channel.h"
#include "tap.h"
#include "vcpu.pb-c.h"

static const ProtobufCMessageDescriptor *D = &moat__vcpu__vcpu_to_monitor__descriptor;

static int t_roundtrip_with_fds(void)
{
	int sv[2], p[2];
	Moat__Vcpu__BadInputEvent bad = MOAT__VCPU__BAD_INPUT_EVENT__INIT;
	Moat__Vcpu__VcpuToMonitor env = MOAT__VCPU__VCPU_TO_MONITOR__INIT;
	ProtobufCMessage *m;
	struct ipc_fds fds;

	CHECK(ipc_channel_pair(sv) == 0 && pipe(p) == 0);
	bad.message = "hello";
	env.msg_case = MOAT__VCPU__VCPU_TO_MONITOR__MSG_BAD_INPUT;
	env.bad_input = &bad;
	CHECK(ipc_send(sv[0], &env.base, p, 2) == 0);
	CHECK(ipc_recv(sv[1], D, &m, &fds) == 0);
	Moat__Vcpu__VcpuToMonitor *got = (Moat__Vcpu__VcpuToMonitor *)m;
	CHECK(got->msg_case == MOAT__VCPU__VCPU_TO_MONITOR__MSG_BAD_INPUT);
	CHECK(strcmp(got->bad_input->message, "hello") == 0);
	CHECK(fds.n == 2);
	int w = ipc_fds_take(&fds, 1);
	CHECK(w >= 0 && ipc_fds_take(&fds, 1) == -EBADF && ipc_fds_take(&fds, 7) == -EBADF);
	CHECK(write(w, "x", 1) == 1);
	char c;
	CHECK(read(p[0], &c, 1) == 1 && c == 'x');
	CHECK(fcntl(w, F_GETFD) & FD_CLOEXEC);
	ipc_fds_close(&fds);
	protobuf_c_message_free_unpacked(m, NULL);
	CHECK(ipc_recv(sv[1], D, &m, &fds) == -EAGAIN);
	close(sv[0]);
	CHECK(ipc_recv(sv[1], D, &m, &fds) == -EPIPE);
	return 0;
}

static int t_garbage(void)
{
	int sv[2];
	ProtobufCMessage *m;
	struct ipc_fds fds;
	uint8_t junk[512];

	CHECK(ipc_channel_pair(sv) == 0);
	for (int round = 0; round < 200; round++) {
		for (size_t i = 0; i < sizeof(junk); i++)
			junk[i] = (uint8_t)(rand() >> 7);
		size_t len = 1 + rand() % sizeof(junk);
		CHECK(send(sv[0], junk, len, 0) == (ssize_t)len);
		int r = ipc_recv(sv[1], D, &m, &fds);
		CHECK(r == 0 || r == -EBADMSG);
		if (r == 0)
			protobuf_c_message_free_unpacked(m, NULL);
		CHECK(fds.n == 0);
	}
	return 0;
}

static int t_oversized_and_fd_flood(void)
{
	int sv[2], devnull = open("/dev/null", O_RDONLY);
	ProtobufCMessage *m;
	struct ipc_fds fds;
	static uint8_t big[IPC_MAX_MSG + 100];
	int many[IPC_MAX_FDS + 1];
	struct msghdr mh = {0};
	/* wire type 7 does not exist: the message cannot unpack */
	struct iovec iov = {.iov_base = "\x0f\x00", .iov_len = 2};
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(many))];
	} ctl;

	CHECK(ipc_channel_pair(sv) == 0);
	int sz = 4 * IPC_MAX_MSG;
	setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	CHECK(send(sv[0], big, sizeof(big), 0) == (ssize_t)sizeof(big));
	CHECK(ipc_recv(sv[1], D, &m, &fds) == -EMSGSIZE);

	for (size_t i = 0; i < sizeof(many) / sizeof(many[0]); i++)
		many[i] = devnull;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = ctl.buf;
	mh.msg_controllen = sizeof(ctl.buf);
	struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(many));
	memcpy(CMSG_DATA(c), many, sizeof(many));
	/* IPC_MAX_FDS is the kernel's SCM_MAX_FD: one more is never sent, so
	 * no message can carry more than a channel takes */
	CHECK(sendmsg(sv[0], &mh, 0) < 0 && errno == EINVAL);
	/* the most there can be, with a message that does not unpack */
	mh.msg_controllen = CMSG_SPACE(IPC_MAX_FDS * sizeof(int));
	c->cmsg_len = CMSG_LEN(IPC_MAX_FDS * sizeof(int));
	int before = open("/dev/null", O_RDONLY);
	close(before);
	CHECK(sendmsg(sv[0], &mh, 0) == 2);
	CHECK(ipc_recv(sv[1], D, &m, &fds) == -EBADMSG);
	/* Every received descriptor was closed: the next one gets the same
	 * number as before the flood. */
	int after = open("/dev/null", O_RDONLY);
	CHECK(after == before);
	return 0;
}

/* A peer that sends its last message and closes with one of ours unread
 * (moat-vcpu exiting with a ping of the watchdog in its queue): the kernel
 * then says ECONNRESET once before anything else; the last message is
 * still read, then the end, as from a peer that read everything. Both
 * receive calls. */
static int t_peer_closed_with_ours_unread(void)
{
	Moat__Vcpu__BadInputEvent bad = MOAT__VCPU__BAD_INPUT_EVENT__INIT;
	Moat__Vcpu__VcpuToMonitor env = MOAT__VCPU__VCPU_TO_MONITOR__INIT;

	bad.message = "last words";
	env.msg_case = MOAT__VCPU__VCPU_TO_MONITOR__MSG_BAD_INPUT;
	env.bad_input = &bad;
	for (int nofds = 0; nofds < 2; nofds++) {
		ProtobufCMessage *m = NULL;
		struct ipc_fds fds;
		unsigned n = 0;
		int sv[2];

		CHECK(ipc_channel_pair(sv) == 0);
		CHECK(ipc_send(sv[1], &env.base, NULL, 0) == 0); /* ours, never read */
		CHECK(ipc_send(sv[0], &env.base, NULL, 0) == 0); /* its last message */
		close(sv[0]);
		CHECK((nofds ? ipc_recv_nofds(sv[1], D, &m, &n, NULL) : ipc_recv(sv[1], D, &m, &fds)) ==
		      0);
		CHECK(strcmp(((Moat__Vcpu__VcpuToMonitor *)m)->bad_input->message, "last words") == 0);
		protobuf_c_message_free_unpacked(m, NULL);
		CHECK((nofds ? ipc_recv_nofds(sv[1], D, &m, &n, NULL) : ipc_recv(sv[1], D, &m, &fds)) ==
		      -EPIPE);
		close(sv[1]);
	}
	return 0;
}

TAP_MAIN(TEST(t_roundtrip_with_fds), TEST(t_garbage), TEST(t_oversized_and_fd_flood),
	 TEST(t_peer_closed_with_ours_unread))
