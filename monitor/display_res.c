#include "display_res.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "util.h"

#define VNC_BACKLOG 16

void mon_display_res_init(struct mon_display_res *d)
{
	*d = (struct mon_display_res){.vram_fd = -1,
				      .vram_ro_fd = -1,
				      .listen_fd = -1,
				      .kbd_vcpu_fd = -1,
				      .kbd_display_fd = -1};
}

/* The video memory: sized once and sealed, as guest RAM, so that neither
 * child can shrink it under the other's mapping. moat-display gets its
 * own open file description of it, read-only, so it can neither write it
 * nor map it writable (mprotect is refused on a read-only file). */
static int create_vram(uint64_t bytes, struct mon_display_res *d, char *err, size_t len)
{
	char path[64];
	int fd = memfd_create("moat-vram", MFD_CLOEXEC | MFD_ALLOW_SEALING);

	if (fd < 0 || ftruncate(fd, (off_t)bytes) < 0 ||
	    fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) < 0)
		goto fail;
	d->vram_fd = fd;
	d->vram_bytes = bytes;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	d->vram_ro_fd = open(path, O_RDONLY | O_CLOEXEC);
	if (d->vram_ro_fd < 0)
		goto fail;
	return 0;
fail:
	snprintf(err, len, "cannot create %llu MiB of video memory: %s",
		 (unsigned long long)(bytes >> 20), strerror(errno));
	return -errno;
}

/* A unix socket at path: an existing socket nobody listens on any more
 * (a moat that was killed) is replaced; anything else there is an error. */
static int listen_unix(const char *path, struct mon_display_res *d, char *err, size_t len)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	struct stat st;
	mode_t old;
	int fd, rc;

	memcpy(sun.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode) ||
		    connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0 ||
		    errno != ECONNREFUSED) {
			close(fd);
			snprintf(err, len, "--vnc unix:%s: %s", path,
				 S_ISSOCK(st.st_mode) ? "another process listens there"
						      : "the path exists and is not a socket");
			return -EINVAL;
		}
		unlink(path);
	}
	old = umask(0177);
	rc = bind(fd, (struct sockaddr *)&sun, sizeof(sun));
	umask(old);
	if (rc < 0 || listen(fd, VNC_BACKLOG) < 0) {
		rc = -errno;
		snprintf(err, len, "--vnc unix:%s: %s", path, strerror(errno));
		close(fd);
		return rc == -EADDRINUSE || rc == -ENOENT || rc == -EACCES ? -EINVAL : rc;
	}
	snprintf(d->unix_path, sizeof(d->unix_path), "%s", path);
	d->listen_fd = fd;
	return 0;
}

static int listen_tcp(const struct vncopt *o, struct mon_display_res *d, char *err, size_t len)
{
	struct sockaddr_in sin = {
	    .sin_family = AF_INET, .sin_port = htons(o->port), .sin_addr.s_addr = htonl(o->addr)};
	int one = 1, rc;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	/* Updates are written whole: no Nagle delay. Accepted connections
	 * inherit it, so moat-display needs no setsockopt of its own. */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 || listen(fd, VNC_BACKLOG) < 0) {
		rc = -errno;
		snprintf(err, len, "--vnc: cannot listen on %s: %s%s", d->address, strerror(errno),
			 rc == -EADDRINUSE ? " (another VNC server? choose another display number)"
					   : "");
		close(fd);
		return rc == -EADDRINUSE || rc == -EADDRNOTAVAIL || rc == -EACCES ? -EINVAL : rc;
	}
	d->listen_fd = fd;
	return 0;
}

/* Scan codes flow one way: moat-display may only send, moat-vcpu only
 * read. Datagrams, so a key's bytes arrive together or not at all. */
static int keyboard_channel(struct mon_display_res *d)
{
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, sv) < 0)
		return -errno;
	shutdown(sv[0], SHUT_WR);
	shutdown(sv[1], SHUT_RD);
	d->kbd_vcpu_fd = sv[0];
	d->kbd_display_fd = sv[1];
	return 0;
}

int mon_display_open(const struct vncopt *o, struct mon_display_res *d, char *err, size_t errlen)
{
	int rc;

	vncopt_format(o, d->address, sizeof(d->address));
	rc = keyboard_channel(d);
	if (rc == 0)
		rc = create_vram(o->vram, d, err, errlen);
	if (rc == 0)
		rc = o->is_unix ? listen_unix(o->path, d, err, errlen)
				: listen_tcp(o, d, err, errlen);
	return rc;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

void mon_display_close_child_ends(struct mon_display_res *d)
{
	close_fd(&d->vram_fd);
	close_fd(&d->vram_ro_fd);
	close_fd(&d->listen_fd);
	close_fd(&d->kbd_vcpu_fd);
	close_fd(&d->kbd_display_fd);
}

void mon_display_close(struct mon_display_res *d)
{
	mon_display_close_child_ends(d);
	if (d->unix_path[0])
		unlink(d->unix_path);
	d->unix_path[0] = '\0';
}
