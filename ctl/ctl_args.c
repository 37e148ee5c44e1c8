#include "ctl_args.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "ctlpath.h"
#include "errline.h"

/* Options a command takes after its words. */
#define OPT_NET	    (1u << 0) /* hostfwd: --net ID */
#define OPT_TIMEOUT (1u << 1) /* shutdown: --timeout S */

#define MAX_POS 2

/* What followed the command's words: positionals and its own options. */
struct cmd_args {
	const char *pos[MAX_POS];
	unsigned npos;
	const char *net;
	const char *timeout;
};

struct cmd_spec {
	const char *word;
	const char *sub; /* the second word, or NULL */
	const char *usage;
	enum ctl_op op;
	unsigned opts;
	unsigned min_pos, max_pos;
};

static const struct cmd_spec specs[] = {
    {"status", NULL, "", CTL_STATUS, 0, 0, 0},
    {"pause", NULL, "", CTL_PAUSE, 0, 0, 0},
    {"resume", NULL, "", CTL_RESUME, 0, 0, 0},
    {"shutdown", NULL, "[--timeout S]", CTL_SHUTDOWN, OPT_TIMEOUT, 0, 0},
    {"stop", NULL, "", CTL_STOP, 0, 0, 0},
    {"reset", NULL, "", CTL_RESET, 0, 0, 0},
    {"disk", "swap", "ID PATH[,ro] | none", CTL_DISK_SWAP, 0, 2, 2},
    {"hostfwd", "add", "RULE [--net ID]", CTL_HOSTFWD_ADD, OPT_NET, 1, 1},
    {"hostfwd", "remove", "RULE [--net ID]", CTL_HOSTFWD_REMOVE, OPT_NET, 1, 1},
    {"hostfwd", "list", "[--net ID]", CTL_HOSTFWD_LIST, OPT_NET, 0, 0},
    {"audit", "tail", "[N]", CTL_AUDIT_TAIL, 0, 0, 1},
    {"version", NULL, "", CTL_VERSION, 0, 0, 0},
    {"device", "restart", "ID", CTL_DEVICE_RESTART, 0, 1, 1},
};

const char *ctl_op_name(enum ctl_op op)
{
	static const char *const names[] = {
	    [CTL_STATUS] = "status",
	    [CTL_PAUSE] = "pause",
	    [CTL_RESUME] = "resume",
	    [CTL_SHUTDOWN] = "shutdown",
	    [CTL_STOP] = "stop",
	    [CTL_RESET] = "reset",
	    [CTL_DISK_SWAP] = "disk swap",
	    [CTL_HOSTFWD_ADD] = "hostfwd add",
	    [CTL_HOSTFWD_REMOVE] = "hostfwd remove",
	    [CTL_HOSTFWD_LIST] = "hostfwd list",
	    [CTL_AUDIT_TAIL] = "audit tail",
	    [CTL_VERSION] = "version",
	    [CTL_DEVICE_RESTART] = "device restart",
	};
	return (unsigned)op < sizeof(names) / sizeof(names[0]) ? names[op] : "?";
}

static bool is_help(const char *a)
{
	return strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0;
}

/* Does argv[*i] name option opt, as "--opt VALUE" or "--opt=VALUE"? 1 with
 * *val set (and *i on the value), 0 if it is another word, -EINVAL when
 * the value is missing. */
static int option_value(int argc, char **argv, int *i, const char *opt, const char **val, char *err,
			size_t errlen)
{
	size_t n = strlen(opt);

	if (strncmp(argv[*i], opt, n) != 0)
		return 0;
	if (argv[*i][n] == '=') {
		*val = argv[*i] + n + 1;
	} else if (argv[*i][n] == 0) {
		if (*i + 1 >= argc)
			return err_line(err, errlen, "%s needs a value", opt);
		*val = argv[++*i];
	} else {
		return 0;
	}
	if (!**val)
		return err_line(err, errlen, "%s needs a value", opt);
	return 1;
}

/* A decimal number 0..max, digits only. */
static bool parse_uint(const char *s, unsigned long max, unsigned long *out)
{
	unsigned long v = 0;

	if (!*s)
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return false;
		if (v > (max - (unsigned long)(*s - '0')) / 10)
			return false;
		v = v * 10 + (unsigned long)(*s - '0');
	}
	*out = v;
	return true;
}

/* The options before the command. Leaves *i on the command word. */
static int parse_global(int argc, char **argv, int *i, struct ctl_cmd *cmd, char *err,
			size_t errlen)
{
	for (; *i < argc && argv[*i][0] == '-'; ++*i) {
		const char *a = argv[*i], *val = NULL;
		unsigned long t;
		int r;

		if (strcmp(a, "--") == 0) {
			++*i;
			return 0;
		}
		if (is_help(a)) {
			cmd->help = true;
			return 0;
		}
		if (strcmp(a, "--json") == 0) {
			cmd->json = true;
			continue;
		}
		if ((r = option_value(argc, argv, i, "--name", &val, err, errlen)) != 0) {
			if (r < 0)
				return r;
			if (cmd->name)
				return err_line(err, errlen, "--name given twice");
			if (!ctl_name_valid(val))
				return err_line(err, errlen,
						"--name %s: a name is 1 to %d of A-Z a-z 0-9 _ . - "
						"and does not start with . or -",
						val, CTL_NAME_MAX);
			cmd->name = val;
		} else if ((r = option_value(argc, argv, i, "--control", &val, err, errlen)) != 0) {
			if (r < 0)
				return r;
			if (cmd->control)
				return err_line(err, errlen, "--control given twice");
			if (strlen(val) >= sizeof(((struct sockaddr_un *)0)->sun_path))
				return err_line(err, errlen,
						"--control %s: too long for a socket address "
						"(at most %zu bytes)",
						val,
						sizeof(((struct sockaddr_un *)0)->sun_path) - 1);
			cmd->control = val;
		} else if ((r = option_value(argc, argv, i, "--timeout", &val, err, errlen)) != 0) {
			if (r < 0)
				return r;
			if (!parse_uint(val, CTL_MAX_TIMEOUT_S, &t) || t == 0)
				return err_line(err, errlen, "--timeout %s: seconds, 1 to %d", val,
						CTL_MAX_TIMEOUT_S);
			cmd->timeout_s = (unsigned)t;
		} else {
			return err_line(err, errlen, "unknown option %s", a);
		}
	}
	return 0;
}

/* The command's words at argv[*i]: its spec, with *i past them. NULL with
 * err set for an unknown one; NULL with cmd->help set for "WORD --help". */
static const struct cmd_spec *find_command(int argc, char **argv, int *i, struct ctl_cmd *cmd,
					   char *err, size_t errlen)
{
	const char *word = argv[*i], *sub = *i + 1 < argc ? argv[*i + 1] : NULL;
	const struct cmd_spec *known = NULL;
	char subs[64] = "";

	for (size_t k = 0; k < sizeof(specs) / sizeof(specs[0]); k++) {
		const struct cmd_spec *s = &specs[k];

		if (strcmp(s->word, word) != 0)
			continue;
		known = s;
		if (!s->sub) {
			*i += 1;
			return s;
		}
		if (sub && strcmp(s->sub, sub) == 0) {
			*i += 2;
			return s;
		}
	}
	if (!known) {
		err_line(err, errlen, "unknown command '%s'", word);
		return NULL;
	}
	if (sub && is_help(sub)) {
		cmd->help = true;
		cmd->help_topic = known->word;
		return NULL;
	}
	for (size_t k = 0, n = 0; k < sizeof(specs) / sizeof(specs[0]); k++)
		if (strcmp(specs[k].word, word) == 0) {
			int w = snprintf(subs + n, sizeof(subs) - n, "%s%s", n ? ", " : "",
					 specs[k].sub);
			n += w > 0 && (size_t)w < sizeof(subs) - n ? (size_t)w : 0;
		}
	if (sub)
		err_line(err, errlen, "%s: unknown subcommand '%s' (%s)", word, sub, subs);
	else
		err_line(err, errlen, "%s: which? (%s)", word, subs);
	return NULL;
}

/* What follows the command's words: positionals, --json, --help and the
 * command's own options. */
static int parse_rest(int argc, char **argv, int i, const struct cmd_spec *s, struct ctl_cmd *cmd,
		      struct cmd_args *a, char *err, size_t errlen)
{
	const char *name = ctl_op_name(s->op);
	bool only_pos = false;

	for (; i < argc; i++) {
		const char *arg = argv[i];
		int r = 0;

		if (!only_pos && arg[0] == '-' && arg[1]) {
			if (strcmp(arg, "--") == 0) {
				only_pos = true;
				continue;
			}
			if (is_help(arg)) {
				cmd->help = true;
				cmd->help_topic = s->word;
				return 0;
			}
			if (strcmp(arg, "--json") == 0) {
				cmd->json = true;
				continue;
			}
			if ((s->opts & OPT_NET) && (r = option_value(argc, argv, &i, "--net",
								     &a->net, err, errlen)) != 0) {
				if (r < 0)
					return r;
				continue;
			}
			if ((s->opts & OPT_TIMEOUT) &&
			    (r = option_value(argc, argv, &i, "--timeout", &a->timeout, err,
					      errlen)) != 0) {
				if (r < 0)
					return r;
				continue;
			}
			if (!strncmp(arg, "--name", 6) || !strncmp(arg, "--control", 9) ||
			    !strncmp(arg, "--timeout", 9))
				return err_line(err, errlen,
						"%s: %s is a global option: put it before the "
						"command",
						name, arg);
			return err_line(err, errlen, "%s: unknown option %s", name, arg);
		}
		if (a->npos == s->max_pos)
			return err_line(err, errlen, "%s: unexpected argument '%s' (usage: %s %s)",
					name, arg, name, s->usage);
		a->pos[a->npos++] = arg;
	}
	if (a->npos < s->min_pos)
		return err_line(err, errlen, "%s: missing arguments (usage: %s %s)", name, name,
				s->usage);
	return 0;
}

/* Join cwd and a relative path, lexically: a leading "./" is dropped,
 * nothing else is resolved (the monitor opens and checks the file). */
static int make_absolute(const char *path, const char *cwd, char *out, size_t outlen, char *err,
			 size_t errlen)
{
	int n;

	if (path[0] == '/') {
		n = snprintf(out, outlen, "%s", path);
	} else {
		if (!cwd || cwd[0] != '/')
			return err_line(err, errlen,
					"disk swap: cannot make %s absolute: the current "
					"directory is unknown",
					path);
		while (path[0] == '.' && path[1] == '/') {
			path += 2;
			while (*path == '/')
				path++;
		}
		n = snprintf(out, outlen, "%s%s%s", cwd, cwd[strlen(cwd) - 1] == '/' ? "" : "/",
			     path);
	}
	if (n < 0 || (size_t)n >= outlen)
		return err_line(err, errlen, "disk swap: path too long: %s", path);
	return 0;
}

static int fill_disk_swap(struct ctl_cmd *cmd, const struct cmd_args *a, const char *cwd, char *err,
			  size_t errlen)
{
	Moat__Ctl__DiskSwapRequest *d = &cmd->sub.disk_swap;
	char spec[PATH_MAX];
	size_t n;

	if (!a->pos[0][0])
		return err_line(err, errlen, "disk swap: the disk ID is empty");
	cmd->disk_id = a->pos[0];
	d->id = (char *)a->pos[0];
	if (strcmp(a->pos[1], "none") == 0) {
		d->none = true;
		return 0;
	}
	if (snprintf(spec, sizeof(spec), "%s", a->pos[1]) >= (int)sizeof(spec))
		return err_line(err, errlen, "disk swap: path too long");
	n = strlen(spec);
	if (n >= 3 && strcmp(spec + n - 3, ",ro") == 0) {
		spec[n - 3] = 0;
		d->read_only = true;
		if (strcmp(spec, "none") == 0)
			return err_line(err, errlen, "disk swap: none takes no ,ro");
	}
	if (!spec[0])
		return err_line(err, errlen, "disk swap: the path is empty (or say none)");
	if (make_absolute(spec, cwd, cmd->path, sizeof(cmd->path), err, errlen) < 0)
		return -EINVAL;
	d->path = cmd->path;
	return 0;
}

/* Point the request at its sub-message, initialised, and fill that in from
 * the command's arguments. */
static int fill_request(struct ctl_cmd *cmd, const struct cmd_args *a, const char *cwd, char *err,
			size_t errlen)
{
	Moat__Ctl__Request *r = &cmd->req;
	unsigned long v;

	*r = (Moat__Ctl__Request)MOAT__CTL__REQUEST__INIT;
	r->version = MOAT__CTL__VERSION__VERSION_CURRENT;
	switch (cmd->op) {
	case CTL_STATUS:
		cmd->sub.status = (Moat__Ctl__StatusRequest)MOAT__CTL__STATUS_REQUEST__INIT;
		r->op_case = MOAT__CTL__REQUEST__OP_STATUS;
		r->status = &cmd->sub.status;
		return 0;
	case CTL_PAUSE:
		cmd->sub.pause = (Moat__Ctl__PauseRequest)MOAT__CTL__PAUSE_REQUEST__INIT;
		r->op_case = MOAT__CTL__REQUEST__OP_PAUSE;
		r->pause = &cmd->sub.pause;
		return 0;
	case CTL_RESUME:
		cmd->sub.resume = (Moat__Ctl__ResumeRequest)MOAT__CTL__RESUME_REQUEST__INIT;
		r->op_case = MOAT__CTL__REQUEST__OP_RESUME;
		r->resume = &cmd->sub.resume;
		return 0;
	case CTL_SHUTDOWN:
		cmd->sub.shutdown = (Moat__Ctl__ShutdownRequest)MOAT__CTL__SHUTDOWN_REQUEST__INIT;
		r->op_case = MOAT__CTL__REQUEST__OP_SHUTDOWN;
		r->shutdown = &cmd->sub.shutdown;
		if (!a->timeout)
			return 0;
		if (!parse_uint(a->timeout, UINT32_MAX, &v))
			return err_line(err, errlen, "shutdown --timeout %s: a number of seconds",
					a->timeout);
		cmd->sub.shutdown.has_timeout = true;
		cmd->sub.shutdown.timeout_s = (uint32_t)v;
		return 0;
	case CTL_STOP:
		cmd->sub.stop = (Moat__Ctl__StopRequest)MOAT__CTL__STOP_REQUEST__INIT;
		r->op_case = MOAT__CTL__REQUEST__OP_STOP;
		r->stop = &cmd->sub.stop;
		return 0;
	case CTL_RESET:
		cmd->sub.reset = (Moat__Ctl__ResetRequest)MOAT__CTL__RESET_REQUEST__INIT;
		r->op_case = MOAT__CTL__REQUEST__OP_RESET;
		r->reset = &cmd->sub.reset;
		return 0;
	case CTL_DISK_SWAP:
		cmd->sub.disk_swap = (Moat__Ctl__DiskSwapRequest)MOAT__CTL__DISK_SWAP_REQUEST__INIT;
		r->op_case = MOAT__CTL__REQUEST__OP_DISK_SWAP;
		r->disk_swap = &cmd->sub.disk_swap;
		return fill_disk_swap(cmd, a, cwd, err, errlen);
	case CTL_HOSTFWD_ADD:
	case CTL_HOSTFWD_REMOVE:
	case CTL_HOSTFWD_LIST:
		cmd->sub.hostfwd = (Moat__Ctl__HostfwdRequest)MOAT__CTL__HOSTFWD_REQUEST__INIT;
		r->op_case = MOAT__CTL__REQUEST__OP_HOSTFWD;
		r->hostfwd = &cmd->sub.hostfwd;
		cmd->sub.hostfwd.op =
		    cmd->op == CTL_HOSTFWD_ADD	    ? MOAT__CTL__HOSTFWD_REQUEST__OP__ADD
		    : cmd->op == CTL_HOSTFWD_REMOVE ? MOAT__CTL__HOSTFWD_REQUEST__OP__REMOVE
						    : MOAT__CTL__HOSTFWD_REQUEST__OP__LIST;
		if (a->net)
			cmd->sub.hostfwd.net_id = (char *)a->net;
		if (a->npos && !a->pos[0][0])
			return err_line(err, errlen, "%s: the rule is empty", ctl_op_name(cmd->op));
		if (a->npos)
			cmd->sub.hostfwd.rule = (char *)a->pos[0];
		return 0;
	case CTL_AUDIT_TAIL:
		cmd->sub.audit_tail =
		    (Moat__Ctl__AuditTailRequest)MOAT__CTL__AUDIT_TAIL_REQUEST__INIT;
		r->op_case = MOAT__CTL__REQUEST__OP_AUDIT_TAIL;
		r->audit_tail = &cmd->sub.audit_tail;
		v = CTL_DEF_LINES;
		if (a->npos && (!parse_uint(a->pos[0], CTL_MAX_LINES, &v) || v == 0))
			return err_line(err, errlen, "audit tail %s: N is a number, 1 to %d",
					a->pos[0], CTL_MAX_LINES);
		cmd->sub.audit_tail.lines = (uint32_t)v;
		return 0;
	case CTL_VERSION:
		cmd->sub.get_version = (Moat__Ctl__VersionRequest)MOAT__CTL__VERSION_REQUEST__INIT;
		r->op_case = MOAT__CTL__REQUEST__OP_GET_VERSION;
		r->get_version = &cmd->sub.get_version;
		return 0;
	case CTL_DEVICE_RESTART:
		cmd->sub.device_restart =
		    (Moat__Ctl__DeviceRestartRequest)MOAT__CTL__DEVICE_RESTART_REQUEST__INIT;
		r->op_case = MOAT__CTL__REQUEST__OP_DEVICE_RESTART;
		r->device_restart = &cmd->sub.device_restart;
		if (!a->pos[0][0])
			return err_line(err, errlen, "device restart: the device ID is empty");
		cmd->sub.device_restart.id = (char *)a->pos[0];
		return 0;
	}
	return err_line(err, errlen, "no such command");
}

int ctl_parse_args(int argc, char **argv, const char *cwd, struct ctl_cmd *cmd, char *err,
		   size_t errlen)
{
	const struct cmd_spec *s;
	struct cmd_args a = {0};
	int i = 1, r;

	memset(cmd, 0, sizeof(*cmd));
	cmd->timeout_s = CTL_DEF_TIMEOUT_S;
	if ((r = parse_global(argc, argv, &i, cmd, err, errlen)) < 0 || cmd->help)
		return r;
	if (i >= argc)
		return err_line(err, errlen, "no command given (see moat ctl --help)");
	s = find_command(argc, argv, &i, cmd, err, errlen);
	if (!s)
		return cmd->help ? 0 : -EINVAL;
	cmd->op = s->op;
	if ((r = parse_rest(argc, argv, i, s, cmd, &a, err, errlen)) < 0 || cmd->help)
		return r;
	if (!cmd->name && !cmd->control)
		return err_line(err, errlen, "which VM? give --name NAME or --control PATH");
	if (cmd->name && cmd->control)
		return err_line(err, errlen, "--name and --control: give one, not both");
	return fill_request(cmd, &a, cwd, err, errlen);
}
