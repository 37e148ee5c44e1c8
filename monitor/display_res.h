/* The host side of --vnc, made by the monitor before any child exists:
 * the display's video memory (a sealed memfd, writable for moat-vcpu,
 * which maps it into the guest, and opened again read-only for
 * moat-display) and the VNC server's listening socket (TCP, or a unix
 * socket of mode 0600 removed at exit), and the one-way channel of the
 * PS/2 keyboard's scan codes from moat-display to moat-vcpu's i8042.
 * moat-display gets them ready-made and never binds, listens or opens
 * anything. The listener is non-blocking: a client that goes between
 * moat-display's poll and its accept4 must not leave it blocked there. */
#pragma once

#include <stddef.h>

#include "vncopt.h"

struct mon_display_res {
	int vram_fd; /* read-write: moat-vcpu's */
	uint64_t vram_bytes;
	int vram_ro_fd; /* read-only: moat-display's */
	int listen_fd;
	int kbd_vcpu_fd, kbd_display_fd;     /* the PS/2 keyboard's scan codes */
	char unix_path[VNCOPT_PATH_MAX + 1]; /* to remove at exit; "" if none */
	char address[VNCOPT_ADDR_STRLEN];    /* "127.0.0.1:5901", "unix:PATH" */
};

void mon_display_res_init(struct mon_display_res *d);
/* Make them for o. 0, or -errno with one line in err (a port in use, a
 * path that exists and is not a dead socket, no memory). */
int mon_display_open(const struct vncopt *o, struct mon_display_res *d, char *err, size_t errlen);
/* Close what the children have now. */
void mon_display_close_child_ends(struct mon_display_res *d);
/* Close the rest, and remove the unix socket. */
void mon_display_close(struct mon_display_res *d);
