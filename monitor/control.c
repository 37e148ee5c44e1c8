#include "control.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audit.h"
#include "ctl_ops.h"
#include "ctl_request.h"
#include "ctlpath.h"
#include "errline.h"
#include "log.h"
#include "options.h"

void mon_control_init(struct mon_control *ctl)
{
	*ctl = (struct mon_control){.listen_fd = -1, .owner = getuid()};
	for (unsigned i = 0; i < MON_CTL_MAX_CLIENTS; i++)
		ctl->c[i].fd = -1;
}

/* Is a VM answering at path? (Then it is not ours to replace.) */
static bool socket_alive(const char *path)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	bool alive;

	if (fd < 0)
		return false;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	/* a listener whose backlog is full says EAGAIN: alive too */
	alive = connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0 || errno == EAGAIN;
	close(fd);
	return alive;
}

/* The runtime directory of a named VM: made 0700 if missing (and
 * /run/moat with it), and then ours to remove; if it exists it must be a
 * directory of the owner's that nobody else may enter. */
static int make_dir(struct mon_control *ctl, const char *dir, char *err, size_t len)
{
	struct stat st;
	char parent[sizeof(ctl->dir)];
	char *slash;

	snprintf(parent, sizeof(parent), "%s", dir);
	slash = strrchr(parent, '/');
	if (slash && slash != parent) {
		*slash = 0;
		if (mkdir(parent, 0755) < 0 && errno != EEXIST)
			return err_line(err, len, "cannot create %s: %s", parent, strerror(errno));
	}
	if (mkdir(dir, 0700) == 0) {
		snprintf(ctl->dir, sizeof(ctl->dir), "%s", dir);
		return 0;
	}
	if (errno != EEXIST)
		return err_line(err, len, "cannot create %s: %s", dir, strerror(errno));
	if (lstat(dir, &st) < 0 || !S_ISDIR(st.st_mode) || st.st_uid != ctl->owner ||
	    (st.st_mode & 077))
		return err_line(err, len,
				"%s is not a directory of uid %u that only it may enter (mode "
				"0700): refusing to put the control socket there",
				dir, (unsigned)ctl->owner);
	return 0;
}

int mon_control_open(struct mon_control *ctl, const struct mon_config *cfg, char *err,
		     size_t errlen)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	char dir[sizeof(ctl->dir)];
	mode_t old;
	int fd, rc;

	if (cfg->control_path) {
		snprintf(ctl->path, sizeof(ctl->path), "%s", cfg->control_path);
	} else if (cfg->name) {
		rc = ctl_socket_path(cfg->name, ctl->owner, getenv("XDG_RUNTIME_DIR"), dir,
				     sizeof(dir), ctl->path, sizeof(ctl->path));
		if (rc == -EINVAL)
			return err_line(err, errlen,
					"--name %s: no runtime directory for uid %u (set "
					"XDG_RUNTIME_DIR or use --control PATH)",
					cfg->name, (unsigned)ctl->owner);
		if (rc < 0)
			return err_line(err, errlen, "--name %s: the socket path is too long",
					cfg->name);
		if ((rc = make_dir(ctl, dir, err, errlen)) < 0)
			return rc;
	} else {
		return 0;
	}
	if (socket_alive(ctl->path))
		return err_line(err, errlen,
				"a VM already answers on %s (another moat with this name is "
				"running)",
				ctl->path);
	/* a stale socket of a moat that died: ours now (never another kind
	 * of file, which the user may want) */
	struct stat st;
	if (lstat(ctl->path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode))
			return err_line(err, errlen, "%s exists and is not a socket", ctl->path);
		unlink(ctl->path);
	}
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return err_line(err, errlen, "control socket: %s", strerror(errno));
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", ctl->path);
	old = umask(0177); /* born 0600: no window where others may connect */
	rc = bind(fd, (struct sockaddr *)&sun, sizeof(sun));
	umask(old);
	if (rc < 0 || listen(fd, MON_CTL_MAX_CLIENTS) < 0) {
		rc = errno;
		close(fd);
		return err_line(err, errlen, "cannot listen on %s: %s", ctl->path, strerror(rc));
	}
	ctl->listen_fd = fd;
	log_debug("control socket: %s", ctl->path);
	return 0;
}

static void drop_client(struct mon_ctl_client *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->waiting = false;
	c->gen++;
}

void mon_control_close(struct mon_control *ctl)
{
	for (unsigned i = 0; i < MON_CTL_MAX_CLIENTS; i++)
		drop_client(&ctl->c[i]);
	if (ctl->listen_fd < 0)
		return;
	close(ctl->listen_fd);
	ctl->listen_fd = -1;
	unlink(ctl->path);
	if (ctl->dir[0])
		rmdir(ctl->dir);
}

unsigned mon_control_fds(const struct mon_control *ctl, struct pollfd *p, unsigned max)
{
	unsigned n = 0;

	if (ctl->listen_fd < 0 || max < 1 + MON_CTL_MAX_CLIENTS)
		return 0;
	p[n++] = (struct pollfd){.fd = ctl->listen_fd, .events = POLLIN};
	for (unsigned i = 0; i < MON_CTL_MAX_CLIENTS; i++) {
		const struct mon_ctl_client *c = &ctl->c[i];
		p[n++] = (struct pollfd){.fd = c->fd >= 0 && !c->waiting ? c->fd : -1,
					 .events = POLLIN};
	}
	return n;
}

/* Send one reply: a client that does not take it within
 * MON_CTL_SEND_TIMEOUT_MS (its buffer full) is cut off. */
static void send_reply(struct mon_ctl_client *c, Moat__Ctl__Reply *r)
{
	uint8_t buf[64 * 1024];
	size_t len = moat__ctl__reply__get_packed_size(r);
	struct pollfd p = {.fd = c->fd, .events = POLLOUT};

	if (len > sizeof(buf)) {
		log_warn("control: a reply of %zu bytes does not fit; dropping the client", len);
		drop_client(c);
		return;
	}
	moat__ctl__reply__pack(r, buf);
	if (send(c->fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL) == (ssize_t)len)
		return;
	if (errno == EAGAIN && poll(&p, 1, MON_CTL_SEND_TIMEOUT_MS) == 1 &&
	    send(c->fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL) == (ssize_t)len)
		return;
	drop_client(c);
}

void mon_control_reply(struct mon_control *ctl, struct mon_ctl_who who, Moat__Ctl__Reply *r)
{
	struct mon_ctl_client *c;

	if (who.slot < 0 || who.slot >= MON_CTL_MAX_CLIENTS)
		return;
	c = &ctl->c[who.slot];
	if (c->fd < 0 || c->gen != who.gen)
		return; /* it hung up meanwhile */
	r->version = MOAT__CTL__VERSION__VERSION_CURRENT;
	c->waiting = false;
	send_reply(c, r);
}

void mon_control_error(struct mon_control *ctl, struct mon_ctl_who who, const char *fmt, ...)
{
	Moat__Ctl__Reply r = MOAT__CTL__REPLY__INIT;
	char line[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	r.ok = false;
	r.error = line;
	mon_control_reply(ctl, who, &r);
}

/* A new connection: root or the owner, and a free slot; anyone else
 * hears why and is closed. */
static void accept_one(struct mon_control *ctl)
{
	struct ucred cred;
	socklen_t clen = sizeof(cred);
	int fd = accept4(ctl->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	struct mon_ctl_client tmp = {.fd = fd};
	int slot = -1;

	if (fd < 0)
		return;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) < 0 || clen != sizeof(cred)) {
		close(fd);
		return;
	}
	if (cred.uid != 0 && cred.uid != ctl->owner) {
		Moat__Ctl__Reply r = MOAT__CTL__REPLY__INIT;
		char line[160];
		snprintf(line, sizeof(line),
			 "permission denied: uid %u is neither root nor the VM's owner (uid %u)",
			 (unsigned)cred.uid, (unsigned)ctl->owner);
		r.version = MOAT__CTL__VERSION__VERSION_CURRENT;
		r.error = line;
		send_reply(&tmp, &r);
		if (tmp.fd >= 0)
			close(tmp.fd);
		ctl->refused++;
		mon_audit("ctl-refused", "uid=%u pid=%d why=peer", (unsigned)cred.uid,
			  (int)cred.pid);
		return;
	}
	for (int i = 0; i < MON_CTL_MAX_CLIENTS && slot < 0; i++)
		if (ctl->c[i].fd < 0)
			slot = i;
	if (slot < 0) {
		Moat__Ctl__Reply r = MOAT__CTL__REPLY__INIT;
		r.version = MOAT__CTL__VERSION__VERSION_CURRENT;
		r.error = "too many control connections; try again";
		send_reply(&tmp, &r);
		if (tmp.fd >= 0)
			close(tmp.fd);
		return;
	}
	ctl->c[slot].fd = fd;
	ctl->c[slot].uid = cred.uid;
	ctl->c[slot].waiting = false;
	ctl->c[slot].gen++;
}

/* One datagram from client slot: parse, then carry out (or refuse). */
static void read_one(struct mon_control *ctl, struct mon_vm *vm, int slot)
{
	struct mon_ctl_client *c = &ctl->c[slot];
	static uint8_t buf[MON_CTL_MAX_REQ + 1];
	struct mon_ctl_who who = {slot, c->gen};
	struct mon_ctl_req *req;
	char err[256];
	ssize_t n = recv(c->fd, buf, sizeof(buf), MSG_DONTWAIT | MSG_TRUNC);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) { /* hung up (0) or broken */
		drop_client(c);
		return;
	}
	req = calloc(1, sizeof(*req)); /* PATH_MAX inside: not on the stack */
	if (!req) {
		mon_control_error(ctl, who, "out of memory");
		return;
	}
	c->waiting = true;
	if (mon_ctl_parse(buf, (size_t)n, req, err, sizeof(err)) < 0) {
		ctl->refused++;
		mon_control_error(ctl, who, "%s", err);
	} else {
		ctl->requests++;
		mon_ctl_execute(vm, who, req);
	}
	free(req);
}

void mon_control_polled(struct mon_control *ctl, struct mon_vm *vm, const struct pollfd *p,
			unsigned n)
{
	if (n < 1 + MON_CTL_MAX_CLIENTS)
		return;
	for (unsigned i = 0; i < MON_CTL_MAX_CLIENTS; i++) {
		if (!p[1 + i].revents || ctl->c[i].fd != p[1 + i].fd)
			continue;
		if (p[1 + i].revents & POLLIN)
			read_one(ctl, vm, (int)i);
		else
			drop_client(&ctl->c[i]); /* POLLHUP, POLLERR without data */
	}
	if (p[0].revents & POLLIN)
		accept_one(ctl);
}
