/* `moat ctl`: parse, find the socket, one request, one reply, show it. */
#include "ctl.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/un.h>
#include <unistd.h>

#include "ctl_args.h"
#include "ctl_help.h"
#include "ctl_io.h"
#include "ctl_print.h"
#include "ctlpath.h"

/* The socket cmd names: --control as given, or --name's by the rule of
 * config/ctlpath.h. 0, or -EINVAL with a line in err (bad usage: no
 * runtime directory, a path too long). */
static int socket_of(const struct ctl_cmd *cmd, char *sock, size_t socklen, char *err,
		     size_t errlen)
{
	char dir[PATH_MAX];
	int r;

	if (cmd->control) {
		snprintf(sock, socklen, "%s", cmd->control);
		return 0;
	}
	r = ctl_socket_path(cmd->name, getuid(), getenv("XDG_RUNTIME_DIR"), dir, sizeof(dir), sock,
			    socklen);
	if (r == -ENAMETOOLONG)
		snprintf(err, errlen,
			 "--name %s: the socket path is too long for a socket address "
			 "(give --control PATH)",
			 cmd->name);
	else if (r < 0)
		snprintf(err, errlen,
			 "--name %s: no runtime directory for uid %u (set XDG_RUNTIME_DIR, or "
			 "give --control PATH)",
			 cmd->name, (unsigned)getuid());
	return r < 0 ? -EINVAL : 0;
}

static int usage_error(const char *err)
{
	fprintf(stderr, "moat: ctl: %s\nTry 'moat ctl --help'.\n", err);
	return 2;
}

int ctl_main(int argc, char **argv)
{
	struct ctl_cmd cmd;
	char cwd[PATH_MAX], sock[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char err[512], hint[128];
	Moat__Ctl__Reply *reply;
	int rc;

	if (ctl_parse_args(argc, argv, getcwd(cwd, sizeof(cwd)), &cmd, err, sizeof(err)) < 0)
		return usage_error(err);
	if (cmd.help) {
		ctl_help(stdout, cmd.help_topic);
		return fflush(stdout) == 0 ? 0 : 1;
	}
	if (socket_of(&cmd, sock, sizeof(sock), err, sizeof(err)) < 0)
		return usage_error(err);
	snprintf(hint, sizeof(hint), "is the VM running with %s %s?",
		 cmd.name ? "--name" : "--control", cmd.name ? cmd.name : cmd.control);
	reply = ctl_call(sock, &cmd.req, cmd.timeout_s * 1000u, hint, err, sizeof(err));
	if (!reply) {
		fprintf(stderr, "moat: ctl: %s\n", err);
		return 1;
	}
	rc = ctl_print_reply(&cmd, reply, stdout, stderr);
	moat__ctl__reply__free_unpacked(reply, NULL);
	if (fflush(stdout) != 0) {
		perror("moat: ctl: standard output");
		return 1;
	}
	return rc;
}
