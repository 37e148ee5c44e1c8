/* systemd's service notification protocol (sd_notify(3), written here:
 * one datagram to $NOTIFY_SOCKET) and the watchdog's interval. Under
 * Type=notify the monitor says READY=1 once every child is READY and the
 * vCPUs run, STATUS= on state changes, STOPPING=1, EXTEND_TIMEOUT_USEC=
 * while a guest shuts down and WATCHDOG=1 while every child answers. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/un.h>

/* The largest notification sent: systemd reads one datagram of at most
 * this size (its own limit is PIPE_BUF); a longer one is not sent at all
 * rather than cut into a message that says something else. */
#define MON_NOTIFY_MAX 4096

struct mon_notify {
	int fd; /* -1: no $NOTIFY_SOCKET, every send is a no-op */
	struct sockaddr_un addr;
	socklen_t addrlen;
	uint64_t watchdog_usec; /* $WATCHDOG_USEC for us; 0: no watchdog */
};

/* Read $NOTIFY_SOCKET (an absolute path or, with '@', an abstract name),
 * $WATCHDOG_USEC (decimal microseconds, > 0) and $WATCHDOG_PID (the
 * watchdog is ours only when it names our pid or no pid), then remove all
 * three from the environment, whatever they held, so that no child
 * inherits them. Each variable counts on its own: a malformed
 * $NOTIFY_SOCKET means no notifications, a malformed watchdog variable
 * means no watchdog, and either makes the result -EINVAL (to be logged);
 * the socket's own failure gives its -errno. Otherwise 0, also with none
 * set. n is always usable: its sends are no-ops without a socket. */
int mon_notify_init(struct mon_notify *n);
/* Send one notification ("READY=1\nSTATUS=running"): one datagram of
 * newline-separated KEY=VALUE lines. Best effort: never blocks, never
 * raises SIGPIPE, and a failure costs at most one debug line. */
void mon_notify_send(struct mon_notify *n, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Close the socket; n's sends are no-ops afterwards. */
void mon_notify_close(struct mon_notify *n);
