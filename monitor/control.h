/* The control socket of a running VM (moat ctl; ipc/proto/control.proto):
 * a SOCK_SEQPACKET listener the monitor owns, at --control PATH or, with
 * --name NAME, in the runtime directory config/ctlpath.h names (directory
 * 0700, socket 0600, removed on exit). Each connection is checked with
 * SO_PEERCRED: root or the uid that started moat, no one else. Each
 * datagram is one request, checked by ctl_request.c before the VM hears of
 * it and carried out by ctl_ops.c; each gets one reply, in order: a client
 * is not read again until its request is answered. A request that breaks
 * a rule gets an error reply and the VM goes on. */
#pragma once

#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/un.h>

#include "control.pb-c.h"

#define MON_CTL_MAX_CLIENTS 8
/* A client must take its reply within this long, or it is cut off. */
#define MON_CTL_SEND_TIMEOUT_MS 1000

struct mon_config;
struct mon_vm;

struct mon_ctl_client {
	int fd;	      /* -1: free slot */
	uint64_t gen; /* bumped when the slot is reused: a late answer for a
		       * gone client is dropped */
	bool waiting; /* its request is being carried out: not read meanwhile */
	uid_t uid;
};

struct mon_control {
	int listen_fd; /* -1: no control socket */
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)]; /* made by us, or "" */
	uid_t owner;					       /* who started moat */
	struct mon_ctl_client c[MON_CTL_MAX_CLIENTS];
	uint64_t requests, refused; /* served; refused (peer, garbage) */
};

/* A handle on one client's pending request (a slot and its generation). */
struct mon_ctl_who {
	int slot; /* -1: nobody to answer */
	uint64_t gen;
};

void mon_control_init(struct mon_control *ctl);
/* Create the socket the configuration asks for (none: 0, nothing done).
 * A socket path where a live VM answers is refused; a stale one is
 * replaced. 0, or -errno with one line in err. */
int mon_control_open(struct mon_control *ctl, const struct mon_config *cfg, char *err,
		     size_t errlen);
/* Close every connection, remove the socket (and its directory if we
 * made it). */
void mon_control_close(struct mon_control *ctl);

/* The descriptors to poll: the listener and each client not waiting.
 * Returns how many it wrote (at most max). */
unsigned mon_control_fds(const struct mon_control *ctl, struct pollfd *p, unsigned max);
/* After poll: accept, check and read what is ready; each good request
 * goes to mon_ctl_execute(vm, ...). */
void mon_control_polled(struct mon_control *ctl, struct mon_vm *vm, const struct pollfd *p,
			unsigned n);

/* Answer who (once); a client that is gone is skipped. r->version is set
 * here. */
void mon_control_reply(struct mon_control *ctl, struct mon_ctl_who who, Moat__Ctl__Reply *r);
/* Answer who with an error line. */
void mon_control_error(struct mon_control *ctl, struct mon_ctl_who who, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
