#include "ctl_io.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>

#include "errline.h"
#include "util.h"

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static unsigned left_ms(uint64_t deadline)
{
	uint64_t now = now_ms();

	return now >= deadline ? 0 : (unsigned)(deadline - now);
}

/* Bound the blocking connect (a VM whose backlog is full) and send (a VM
 * that reads nothing) by what is left of the deadline: both then fail
 * with EAGAIN. */
static int bound_blocking(int fd, uint64_t deadline)
{
	unsigned ms = left_ms(deadline);
	struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};

	if (tv.tv_sec == 0 && tv.tv_usec == 0)
		tv.tv_usec = 1000; /* zero would mean "wait forever" */
	return setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

static int connect_to(const char *path, uint64_t deadline, unsigned timeout_ms, const char *hint,
		      char *err, size_t errlen)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	_cleanup_close_ int fd = -1;

	if (strlen(path) >= sizeof(sun.sun_path))
		return err_line(err, errlen, "%s: too long for a socket address", path);
	memcpy(sun.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return err_line(err, errlen, "cannot make a socket: %s", strerror(errno));
	if (bound_blocking(fd, deadline) < 0)
		return err_line(err, errlen, "cannot set a timeout: %s", strerror(errno));
	while (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		int e = errno;

		if (e == EINTR && left_ms(deadline))
			continue;
		if (e == EACCES || e == EPERM)
			return err_line(err, errlen,
					"permission refused on %s: the caller must be root or the "
					"uid that started the VM",
					path);
		if (e == EAGAIN || e == EINTR)
			return err_line(err, errlen,
					"timed out after %u s connecting to %s (the VM is busy)",
					(timeout_ms + 999) / 1000, path);
		return err_line(err, errlen, "cannot connect to %s: %s%s%s%s", path, strerror(e),
				hint ? " (" : "", hint ? hint : "", hint ? ")" : "");
	}
	return TAKE_FD(fd);
}

/* Wait for the one reply datagram into buf; its length, or -errno with a
 * line in err. */
static ssize_t receive(int fd, uint8_t *buf, size_t buflen, uint64_t deadline, unsigned timeout_ms,
		       char *err, size_t errlen)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	ssize_t n;
	int r;

	do {
		r = poll(&p, 1, (int)left_ms(deadline));
	} while (r < 0 && errno == EINTR);
	if (r < 0)
		return err_line(err, errlen, "cannot wait for the reply: %s", strerror(errno));
	if (r == 0)
		return err_line(err, errlen, "timed out after %u s waiting for the VM's reply",
				(timeout_ms + 999) / 1000);
	/* MSG_TRUNC: the datagram's real length, to tell a too big one */
	n = recv(fd, buf, buflen, MSG_TRUNC | MSG_DONTWAIT);
	/* A VM that answered and hung up without reading our request (as the
	 * monitor does to a caller it refuses) leaves ECONNRESET pending,
	 * which the kernel reports before the answer queued behind it; the
	 * error is consumed by reporting it, so read again. */
	if (n < 0 && errno == ECONNRESET)
		n = recv(fd, buf, buflen, MSG_TRUNC | MSG_DONTWAIT);
	if (n == 0 || (n < 0 && (errno == ECONNRESET || errno == EAGAIN)))
		return err_line(err, errlen, "the VM closed the connection without answering");
	if (n < 0)
		return err_line(err, errlen, "cannot read the reply: %s", strerror(errno));
	if ((size_t)n > buflen)
		return err_line(err, errlen,
				"the VM's reply is %zd bytes, more than the %zu this client takes",
				n, buflen);
	return n;
}

Moat__Ctl__Reply *ctl_decode_reply(const uint8_t *buf, size_t len, char *err, size_t errlen)
{
	Moat__Ctl__Reply *r = moat__ctl__reply__unpack(NULL, len, buf);

	if (!r) {
		err_line(err, errlen,
			 "the reply (%zu bytes) does not unpack: not a moat control socket?", len);
		return NULL;
	}
	if (r->version != MOAT__CTL__VERSION__VERSION_CURRENT) {
		err_line(err, errlen,
			 "the VM speaks control protocol version %u, this client version %u "
			 "(a moat of another version?)",
			 (unsigned)r->version, (unsigned)MOAT__CTL__VERSION__VERSION_CURRENT);
		moat__ctl__reply__free_unpacked(r, NULL);
		return NULL;
	}
	return r;
}

Moat__Ctl__Reply *ctl_call(const char *path, const Moat__Ctl__Request *req, unsigned timeout_ms,
			   const char *hint, char *err, size_t errlen)
{
	uint64_t deadline = now_ms() + timeout_ms;
	size_t len = moat__ctl__request__get_packed_size(req);
	_cleanup_free_ uint8_t *out = malloc(len ? len : 1);
	_cleanup_free_ uint8_t *in = malloc(CTL_MAX_REPLY);
	_cleanup_close_ int fd = -1;
	ssize_t n;

	if (!out || !in) {
		err_line(err, errlen, "out of memory");
		return NULL;
	}
	moat__ctl__request__pack(req, out);
	fd = connect_to(path, deadline, timeout_ms, hint, err, errlen);
	if (fd < 0)
		return NULL;
	if (bound_blocking(fd, deadline) < 0) {
		err_line(err, errlen, "cannot set a timeout: %s", strerror(errno));
		return NULL;
	}
	n = send(fd, out, len, MSG_NOSIGNAL);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
		err_line(err, errlen, "timed out after %u s sending to %s (the VM reads nothing)",
			 (timeout_ms + 999) / 1000, path);
		return NULL;
	}
	/* A VM that refused us may have said why before it hung up (EPIPE):
	 * its reply waits in our queue, so read on. */
	if (n < 0 && errno != EPIPE && errno != ECONNRESET) {
		err_line(err, errlen, "cannot send to %s: %s", path, strerror(errno));
		return NULL;
	}
	if (n >= 0 && (size_t)n != len) {
		err_line(err, errlen, "cannot send to %s: %zd of %zu bytes sent", path, n, len);
		return NULL;
	}
	n = receive(fd, in, CTL_MAX_REPLY, deadline, timeout_ms, err, errlen);
	if (n < 0)
		return NULL;
	return ctl_decode_reply(in, (size_t)n, err, errlen);
}
