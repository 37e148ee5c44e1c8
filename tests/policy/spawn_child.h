/* The tests' side of sandboxed-child (sandboxed_child.c): spawn it the way
 * the monitor spawns its children (monitor/spawn.h), with a socketpair as
 * its fd 3, and read what it sends back within a timeout. Header-only: each
 * test program of the policy suite includes it. */
#pragma once

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <sys/socket.h>
#include <unistd.h>

#include "spawn.h"

#define CHILD_TIMEOUT_MS 10000

/* One message from the child, or -ETIMEDOUT. */
static inline int child_recv(int sock, void *buf, size_t len)
{
	struct pollfd p = {.fd = sock, .events = POLLIN};
	ssize_t n;

	if (poll(&p, 1, CHILD_TIMEOUT_MS) != 1)
		return -ETIMEDOUT;
	n = recv(sock, buf, len, 0);
	return n < 0 ? -errno : (int)n;
}

/* Spawn sandboxed-child in mode as host uid *uid (MOAT_UID_BASE + our pid),
 * in the host's network namespace when keep_net. *sock is our end of its
 * fd 3. 0 or -errno. */
static inline int child_spawn(const char *mode, bool keep_net, struct mon_child *c, int *sock,
			      uid_t *uid)
{
	char path[4096];
	char *argv[] = {"sandboxed-child", (char *)mode, NULL};
	int sp[2], r;

	if ((r = mon_child_path("sandboxed-child", path, sizeof(path))) < 0 ||
	    (r = mon_child_uid(getpid(), uid)) < 0)
		return r;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0)
		return -errno;
	struct mon_spawn_args a = {.path = path,
				   .argv = argv,
				   .fds = &sp[1],
				   .nfds = 1,
				   .keep_net = keep_net,
				   .uid = *uid,
				   .gid = *uid};
	r = mon_spawn(&a, c);
	close(sp[1]);
	if (r < 0) {
		close(sp[0]);
		return r;
	}
	*sock = sp[0];
	return 0;
}
