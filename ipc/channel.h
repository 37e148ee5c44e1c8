/* A control channel: one protobuf-c message per SOCK_SEQPACKET datagram,
 * with up to IPC_MAX_FDS descriptors alongside (SCM_RIGHTS). Every message is
 * size-capped; a datagram that was truncated, carries too many descriptors or
 * does not unpack is rejected, and its descriptors are closed. */
#pragma once

#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>
#include <stddef.h>

#define IPC_MAX_MSG (64 * 1024)
#define IPC_MAX_FDS 253 /* the kernel's SCM_MAX_FD: one message carries no more */

struct ipc_fds {
	int fd[IPC_MAX_FDS];
	unsigned n;
	bool overflow; /* more came than IPC_MAX_FDS: the message is refused */
};

/* Both ends of a fresh CLOEXEC, non-blocking SOCK_SEQPACKET socketpair. */
int ipc_channel_pair(int sv[2]);

/* Pack msg and send it with fds (may be NULL). 0 or -errno. Blocks briefly
 * (poll) if the socket buffer is full. */
int ipc_send(int sock, const ProtobufCMessage *msg, const int *fds, unsigned nfds);

/* Receive one datagram and unpack it as desc. On success *out owns the
 * message (free with protobuf_c_message_free_unpacked) and fds the received
 * descriptors (the caller owns them; ipc_fds_close). Returns 0, -EAGAIN when
 * nothing is pending, -EPIPE when the peer hung up, -EBADMSG on garbage. */
int ipc_recv(int sock, const ProtobufCMessageDescriptor *desc, ProtobufCMessage **out,
	     struct ipc_fds *fds);

/* As ipc_recv, for a peer that has no reason to send a descriptor (every
 * child, seen from the monitor). The control buffer holds the kernel's
 * maximum (SCM_MAX_FD), so the kernel itself discards none of what came:
 * its last close, which can block for a socket with SO_LINGER, would
 * happen in our thread. Each descriptor that came anyway is handed to
 * discard() instead of being closed here, and counted in *nfds (the message
 * is still returned: the caller decides what a descriptor means). */
int ipc_recv_nofds(int sock, const ProtobufCMessageDescriptor *desc, ProtobufCMessage **out,
		   unsigned *nfds, void (*discard)(int fd));

/* As ipc_recv, but waits up to timeout_ms (-1: forever). */
int ipc_recv_wait(int sock, const ProtobufCMessageDescriptor *desc, ProtobufCMessage **out,
		  struct ipc_fds *fds, int timeout_ms);

/* The case of an envelope: every envelope of ipc/proto is one oneof, and
 * this is which member it holds (-1 for a message that is not an
 * envelope). */
int ipc_envelope_case(const ProtobufCMessage *m);

/* Take descriptor idx out of fds (so ipc_fds_close no longer closes it);
 * -EBADF if idx is out of range or already taken. */
int ipc_fds_take(struct ipc_fds *fds, unsigned idx);
void ipc_fds_close(struct ipc_fds *fds);
