/* libFuzzer target: what the monitor does with one message from a child
 * (monitor/proto.c and the two channel modules, children.c, devmsg.c): the
 * rule tables, the handlers, the escaping of every string. The input is
 *   byte 0: bit 0 the channel (0 moat-vcpu, 1 a device), bit 1 a descriptor
 *           travels with the message, bits 2-3 the child's state, bit 4 one
 *           StatsRequest of ours is pending
 *   rest:   the datagram, as a child would send it.
 * Invariants: a message with a descriptor, or in a state or number its rule
 * forbids, cuts the child off; nothing a handler keeps holds a control
 * character; the per-message counters never pass their rule's limit. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "channel.h"
#include "devices.h"
#include "log.h"
#include "proto_dev.h"
#include "proto_vcpu.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_printable(const char *s, bool newlines)
{
	for (; s && *s; s++)
		if (((unsigned char)*s < 0x20 && !(newlines && *s == '\n')) ||
		    (unsigned char)*s >= 0x7f)
			abort();
}

/* Send the datagram (and a descriptor) to the monitor's end. */
static int deliver(const uint8_t *msg, size_t len, bool with_fd, int sv[2])
{
	char cbuf[CMSG_SPACE(sizeof(int))] = {0};
	struct iovec iov = {.iov_base = (void *)msg, .iov_len = len};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
	int fd = 0;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) < 0)
		return -1;
	if (with_fd) {
		mh.msg_control = cbuf;
		mh.msg_controllen = sizeof(cbuf);
		struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
	}
	if (sendmsg(sv[1], &mh, 0) < 0) {
		close(sv[0]);
		close(sv[1]);
		return -1;
	}
	return 0;
}

static void prepare(struct mon_proc *p, uint8_t flags, int ctl)
{
	p->ctl = ctl;
	/* pid 0: /proc/0 does not exist, so a READY that passes its rule is
	 * checked and refused, without touching a real process */
	p->child.pid = 0;
	p->state = (enum mon_proc_state)((flags >> 2) & 3);
	p->requests = (flags >> 4) & 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct mon_vm vm;
	static struct mon_device dev;
	struct mon_proc *p;
	int sv[2];

	if (size < 1 || size > IPC_MAX_MSG)
		return 0;
	log_set_level(LOG_LVL_ERROR);
	if (deliver(data + 1, size - 1, data[0] & 2, sv) < 0)
		return 0;
	memset(&vm, 0, sizeof(vm));
	memset(&dev, 0, sizeof(dev));
	mon_proc_init(&vm.vcpu, "vcpu", "vcpu", "vcpu");
	mon_proc_init(&dev.proc, "smc0", "smc", "smc");
	p = data[0] & 1 ? &dev.proc : &vm.vcpu;
	prepare(p, data[0], sv[0]);
	enum mon_proc_state before = p->state;
	if (data[0] & 1)
		mon_dev_dispatch(&dev);
	else
		mon_vcpu_dispatch(&vm);

	if ((data[0] & 2) && p->state != before && !p->hostile)
		abort(); /* a message with a descriptor was acted upon */
	for (unsigned i = 0; i < MON_PROTO_MAX_MSG; i++)
		if (p->seen[i] > 1 && !(data[0] & 1 && i == 2)) /* only STATS repeats */
			abort();
	check_printable(vm.exit_detail, false);
	check_printable(vm.bad_input, false);
	check_printable(vm.exit_dump, true);
	check_printable(dev.start_error, false);
	free(vm.exit_dump);
	free(vm.bad_input);
	if (p->ctl >= 0)
		close(p->ctl);
	close(sv[1]);
	return 0;
}
