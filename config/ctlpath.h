/* Where the control socket of a named VM lives, the one rule `moat run
 * --name` and `moat ctl --name` share: /run/moat/NAME/control.sock for
 * root (systemd's RuntimeDirectory=moat/%i makes that directory), and
 * $XDG_RUNTIME_DIR/moat/NAME/control.sock for any other user (a user has
 * no /run/moat). Pure but for reading the environment and the uid. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define CTL_NAME_MAX	 64
#define CTL_SOCKET_FILE	 "control.sock"
#define CTL_SYSTEM_DIR	 "/run/moat"

/* 1..CTL_NAME_MAX of [A-Za-z0-9_.-], not starting with '.' or '-': a
 * name is one path component and a systemd instance name. */
bool ctl_name_valid(const char *name);

/* The directory of VM name's runtime files (dir) and its control socket
 * (sock) for a process of uid with runtime_dir ($XDG_RUNTIME_DIR, or NULL).
 * 0, -EINVAL for a bad name or a non-root uid without a runtime directory,
 * -ENAMETOOLONG when the path does not fit a socket address. */
int ctl_socket_path(const char *name, uid_t uid, const char *runtime_dir, char *dir,
		    size_t dirlen, char *sock, size_t socklen);
