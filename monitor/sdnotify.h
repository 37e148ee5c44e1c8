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

struct mon_notify {
	int fd; /* -1: no $NOTIFY_SOCKET, every send is a no-op */
	struct sockaddr_un addr;
	socklen_t addrlen;
	uint64_t watchdog_usec; /* $WATCHDOG_USEC for us; 0: no watchdog */
};

/* Read $NOTIFY_SOCKET (a path or, with '@', an abstract name),
 * $WATCHDOG_USEC and $WATCHDOG_PID (the watchdog is ours only when it
 * names our pid or no pid), then remove all three from the environment so
 * that no child inherits them. 0, or -errno for a variable that is set
 * but malformed (then n is as with none set). */
int mon_notify_init(struct mon_notify *n);
/* Send one notification ("READY=1\nSTATUS=running"); best effort, never
 * blocks. */
void mon_notify_send(struct mon_notify *n, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void mon_notify_close(struct mon_notify *n);
