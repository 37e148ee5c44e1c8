#include "sdnotify.h"

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

/* A decimal number of digits only (no sign, space or base prefix) that
 * fits in a uint64_t: 0 or -EINVAL. */
static int parse_decimal(const char *s, uint64_t *out)
{
	uint64_t v = 0;

	if (!*s)
		return -EINVAL;
	for (; *s; s++) {
		unsigned d = (unsigned)(*s - '0');
		if (d > 9 || v > (UINT64_MAX - d) / 10)
			return -EINVAL;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

/* $NOTIFY_SOCKET into n->addr: "/path" (NUL-terminated in sun_path) or
 * "@name" (an abstract name: a leading NUL, and the address is exactly as
 * long as the name). Nothing else: systemd's other forms (vsock) are not
 * ours to reach. 0 or -EINVAL. */
static int parse_socket(struct mon_notify *n, const char *s)
{
	size_t len = strlen(s);

	if ((s[0] != '/' && s[0] != '@') || len < 2 || len > sizeof(n->addr.sun_path) ||
	    (s[0] == '/' && len == sizeof(n->addr.sun_path)))
		return -EINVAL;
	n->addr.sun_family = AF_UNIX;
	memcpy(n->addr.sun_path, s, len);
	if (s[0] == '@')
		n->addr.sun_path[0] = '\0';
	n->addrlen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len + (s[0] == '/'));
	return 0;
}

/* The watchdog's interval for us, from the two variables (either may be
 * NULL). 0 with *usec 0 when there is none or it watches another pid. */
static int parse_watchdog(const char *usec_s, const char *pid_s, uint64_t *usec)
{
	uint64_t v, pid;

	*usec = 0;
	if (!usec_s)
		return pid_s ? -EINVAL : 0; /* a pid without an interval */
	if (parse_decimal(usec_s, &v) < 0 || v == 0)
		return -EINVAL;
	if (pid_s) {
		if (parse_decimal(pid_s, &pid) < 0 || pid == 0)
			return -EINVAL;
		if (pid != (uint64_t)getpid())
			return 0; /* set for the process that started us: not ours */
	}
	*usec = v;
	return 0;
}

int mon_notify_init(struct mon_notify *n)
{
	const char *sock = getenv("NOTIFY_SOCKET");
	const char *usec = getenv("WATCHDOG_USEC");
	const char *pid = getenv("WATCHDOG_PID");
	int rc = 0, r;

	*n = (struct mon_notify){.fd = -1};
	r = parse_watchdog(usec, pid, &n->watchdog_usec);
	if (r < 0)
		rc = r;
	if (sock) {
		r = parse_socket(n, sock);
		if (r == 0) {
			/* Non-blocking: a listener that stopped reading must not hold up
			 * the monitor's loop. */
			n->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
			if (n->fd < 0)
				r = -errno;
		}
		if (r < 0) {
			rc = r;
			n->addrlen = 0;
		}
	}
	/* Last: the strings above point into the environment. */
	unsetenv("NOTIFY_SOCKET");
	unsetenv("WATCHDOG_USEC");
	unsetenv("WATCHDOG_PID");
	return rc;
}

void mon_notify_send(struct mon_notify *n, const char *fmt, ...)
{
	char msg[MON_NOTIFY_MAX];
	va_list ap;
	int len;

	if (n->fd < 0)
		return;
	va_start(ap, fmt);
	len = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (len < 0 || (size_t)len >= sizeof(msg)) {
		log_debug("sd_notify: a message of %d bytes not sent (at most %d)", len,
			  MON_NOTIFY_MAX - 1);
		return;
	}
	/* MSG_NOSIGNAL: a datagram socket raises no SIGPIPE anyway, but say so. */
	if (sendto(n->fd, msg, (size_t)len, MSG_DONTWAIT | MSG_NOSIGNAL,
		   (const struct sockaddr *)&n->addr, n->addrlen) < 0)
		log_msg_errno(LOG_LVL_DEBUG, errno, "sd_notify: %.*s: %m", (int)strcspn(msg, "\n"),
			      msg);
}

void mon_notify_close(struct mon_notify *n)
{
	if (n->fd >= 0)
		close(n->fd);
	n->fd = -1;
}
