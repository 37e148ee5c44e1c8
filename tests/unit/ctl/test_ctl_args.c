/* moat ctl's command line (ctl/ctl_args.c): every command into the Request
 * it packs, relative disk paths made absolute, help, and every usage
 * error refused with a line that names it. */
#include <errno.h>
#include <stdint.h>

#include "ctl_args.h"
#include "tap.h"

static struct ctl_cmd cmd;
static char err[512];

/* Parse "ctl" followed by the NULL-terminated args, against cwd. */
static int parse_in(const char *cwd, const char **args)
{
	const char *argv[32] = {"ctl"};
	int argc = 1;

	for (; args[argc - 1]; argc++)
		argv[argc] = args[argc - 1];
	err[0] = 0;
	return ctl_parse_args(argc, (char **)argv, cwd, &cmd, err, sizeof(err));
}

#define PARSE(...)	   parse_in("/home/u", (const char *[]){__VA_ARGS__, NULL})
#define PARSE_IN(cwd, ...) parse_in((cwd), (const char *[]){__VA_ARGS__, NULL})

/* The request survives packing: what the VM unpacks is what we built. */
static Moat__Ctl__Request *round_trip(void)
{
	static uint8_t buf[8192];
	size_t len = moat__ctl__request__get_packed_size(&cmd.req);

	if (len > sizeof(buf))
		return NULL;
	moat__ctl__request__pack(&cmd.req, buf);
	return moat__ctl__request__unpack(NULL, len, buf);
}

static int t_status_defaults(void)
{
	Moat__Ctl__Request *r;

	CHECK(PARSE("--name", "web", "status") == 0);
	CHECK(!cmd.help && !cmd.json && cmd.op == CTL_STATUS);
	CHECK(strcmp(cmd.name, "web") == 0 && cmd.control == NULL);
	CHECK(cmd.timeout_s == CTL_DEF_TIMEOUT_S);
	r = round_trip();
	CHECK(r && r->version == MOAT__CTL__VERSION__VERSION_CURRENT);
	CHECK(r->op_case == MOAT__CTL__REQUEST__OP_STATUS);
	moat__ctl__request__free_unpacked(r, NULL);
	return 0;
}

static int t_every_command(void)
{
	static const struct {
		const char *args[4];
		enum ctl_op op;
		Moat__Ctl__Request__OpCase op_case;
	} cases[] = {
	    {{"status"}, CTL_STATUS, MOAT__CTL__REQUEST__OP_STATUS},
	    {{"pause"}, CTL_PAUSE, MOAT__CTL__REQUEST__OP_PAUSE},
	    {{"resume"}, CTL_RESUME, MOAT__CTL__REQUEST__OP_RESUME},
	    {{"shutdown"}, CTL_SHUTDOWN, MOAT__CTL__REQUEST__OP_SHUTDOWN},
	    {{"stop"}, CTL_STOP, MOAT__CTL__REQUEST__OP_STOP},
	    {{"reset"}, CTL_RESET, MOAT__CTL__REQUEST__OP_RESET},
	    {{"disk", "swap", "blk0", "none"}, CTL_DISK_SWAP, MOAT__CTL__REQUEST__OP_DISK_SWAP},
	    {{"hostfwd", "add", "tcp::8080-:80"}, CTL_HOSTFWD_ADD, MOAT__CTL__REQUEST__OP_HOSTFWD},
	    {{"hostfwd", "remove", "tcp::8080-:80"},
	     CTL_HOSTFWD_REMOVE,
	     MOAT__CTL__REQUEST__OP_HOSTFWD},
	    {{"hostfwd", "list"}, CTL_HOSTFWD_LIST, MOAT__CTL__REQUEST__OP_HOSTFWD},
	    {{"audit", "tail"}, CTL_AUDIT_TAIL, MOAT__CTL__REQUEST__OP_AUDIT_TAIL},
	    {{"version"}, CTL_VERSION, MOAT__CTL__REQUEST__OP_GET_VERSION},
	    {{"device", "restart", "smc0"},
	     CTL_DEVICE_RESTART,
	     MOAT__CTL__REQUEST__OP_DEVICE_RESTART},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *args[8] = {"--control", "/tmp/vm.sock"};
		Moat__Ctl__Request *r;

		for (int k = 0; k < 4 && cases[i].args[k]; k++)
			args[2 + k] = cases[i].args[k];
		if (parse_in("/", args) != 0 || cmd.op != cases[i].op) {
			fprintf(stderr, "case %zu (%s): %s\n", i, cases[i].args[0], err);
			return 1;
		}
		CHECK(strcmp(ctl_op_name(cmd.op), "?") != 0);
		r = round_trip();
		CHECK(r && r->op_case == cases[i].op_case);
		CHECK(r->version == MOAT__CTL__VERSION__VERSION_CURRENT);
		moat__ctl__request__free_unpacked(r, NULL);
	}
	return 0;
}

static int t_global_options(void)
{
	CHECK(PARSE("--name=web", "--json", "--timeout", "5", "pause") == 0);
	CHECK(cmd.json && cmd.timeout_s == 5 && strcmp(cmd.name, "web") == 0);
	CHECK(PARSE("--control=/run/x.sock", "--timeout=86400", "--", "stop") == 0);
	CHECK(strcmp(cmd.control, "/run/x.sock") == 0 && cmd.timeout_s == 86400);
	CHECK(cmd.op == CTL_STOP && !cmd.json);
	/* --json after the command, for convenience */
	CHECK(PARSE("--name", "web", "audit", "tail", "--json") == 0 && cmd.json);
	CHECK(PARSE("--name", "web", "hostfwd", "list", "--json", "--net", "net1") == 0);
	CHECK(cmd.json && strcmp(cmd.sub.hostfwd.net_id, "net1") == 0);
	return 0;
}

static int t_shutdown_timeout(void)
{
	CHECK(PARSE("--name", "web", "shutdown") == 0);
	CHECK(!cmd.sub.shutdown.has_timeout);
	CHECK(PARSE("--name", "web", "--timeout", "90", "shutdown", "--timeout", "60") == 0);
	CHECK(cmd.timeout_s == 90); /* the client's wait, not the guest's */
	CHECK(cmd.sub.shutdown.has_timeout && cmd.sub.shutdown.timeout_s == 60);
	CHECK(PARSE("--name", "web", "shutdown", "--timeout=0") == 0);
	CHECK(cmd.sub.shutdown.has_timeout && cmd.sub.shutdown.timeout_s == 0);
	CHECK(PARSE("--name", "web", "shutdown", "--timeout", "4294967295") == 0);
	CHECK(cmd.sub.shutdown.timeout_s == UINT32_MAX);
	return 0;
}

static int t_disk_swap(void)
{
	Moat__Ctl__Request *r;

	CHECK(PARSE("--name", "web", "disk", "swap", "blk1", "/srv/a.iso,ro") == 0);
	CHECK(strcmp(cmd.disk_id, "blk1") == 0);
	r = round_trip();
	CHECK(r && strcmp(r->disk_swap->id, "blk1") == 0);
	CHECK(strcmp(r->disk_swap->path, "/srv/a.iso") == 0);
	CHECK(r->disk_swap->read_only && !r->disk_swap->none);
	moat__ctl__request__free_unpacked(r, NULL);

	CHECK(PARSE("--name", "web", "disk", "swap", "blk1", "none") == 0);
	r = round_trip();
	CHECK(r && r->disk_swap->none && r->disk_swap->path[0] == 0 && !r->disk_swap->read_only);
	moat__ctl__request__free_unpacked(r, NULL);

	/* only a final ,ro is an option: other commas belong to the name */
	CHECK(PARSE("--name", "web", "disk", "swap", "blk1", "/a,b.img") == 0);
	CHECK(strcmp(cmd.sub.disk_swap.path, "/a,b.img") == 0 && !cmd.sub.disk_swap.read_only);
	CHECK(PARSE("--name", "web", "disk", "swap", "blk1", "/x,ro,ro") == 0);
	CHECK(strcmp(cmd.sub.disk_swap.path, "/x,ro") == 0 && cmd.sub.disk_swap.read_only);
	/* a file named none */
	CHECK(PARSE("--name", "web", "disk", "swap", "blk1", "./none") == 0);
	CHECK(!cmd.sub.disk_swap.none && strcmp(cmd.sub.disk_swap.path, "/home/u/none") == 0);
	/* a path that starts with '-' after -- */
	CHECK(PARSE("--name", "web", "disk", "swap", "--", "blk1", "-odd.img") == 0);
	CHECK(strcmp(cmd.sub.disk_swap.path, "/home/u/-odd.img") == 0);
	return 0;
}

static int t_relative_path(void)
{
	static const struct {
		const char *cwd, *arg, *want;
	} cases[] = {
	    {"/home/u", "img.raw", "/home/u/img.raw"},
	    {"/home/u", "./img.raw", "/home/u/img.raw"},
	    {"/home/u", ".//./img.raw", "/home/u/img.raw"},
	    {"/home/u", "../shared/img.raw", "/home/u/../shared/img.raw"},
	    {"/home/u", "sub/dir/img.raw,ro", "/home/u/sub/dir/img.raw"},
	    {"/", "img.raw", "/img.raw"},
	    {"/home/u/", "img.raw", "/home/u/img.raw"},
	    {"/home/u", "/abs/img.raw", "/abs/img.raw"},
	    {"/home/link", "x", "/home/link/x"}, /* never resolved */
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (PARSE_IN(cases[i].cwd, "--name", "web", "disk", "swap", "blk0", cases[i].arg) ||
		    strcmp(cmd.sub.disk_swap.path, cases[i].want) != 0) {
			fprintf(stderr, "case %zu: %s in %s gave '%s' (%s)\n", i, cases[i].arg,
				cases[i].cwd, cmd.sub.disk_swap.path, err);
			return 1;
		}
	}
	/* no working directory: a relative path cannot be sent, an absolute can */
	CHECK(PARSE_IN(NULL, "--name", "web", "disk", "swap", "blk0", "img.raw") == -EINVAL);
	CHECK(strstr(err, "img.raw") && strstr(err, "absolute"));
	CHECK(PARSE_IN(NULL, "--name", "web", "disk", "swap", "blk0", "/img.raw") == 0);
	return 0;
}

static int t_hostfwd(void)
{
	Moat__Ctl__Request *r;

	CHECK(PARSE("--name", "web", "hostfwd", "add", "tcp::8080-:80", "--net", "net0") == 0);
	r = round_trip();
	CHECK(r && r->hostfwd->op == MOAT__CTL__HOSTFWD_REQUEST__OP__ADD);
	CHECK(strcmp(r->hostfwd->rule, "tcp::8080-:80") == 0);
	CHECK(strcmp(r->hostfwd->net_id, "net0") == 0);
	moat__ctl__request__free_unpacked(r, NULL);

	CHECK(PARSE("--name", "web", "hostfwd", "remove", "--net=n1", "udp::53-:53") == 0);
	CHECK(cmd.sub.hostfwd.op == MOAT__CTL__HOSTFWD_REQUEST__OP__REMOVE);
	CHECK(strcmp(cmd.sub.hostfwd.rule, "udp::53-:53") == 0);
	CHECK(strcmp(cmd.sub.hostfwd.net_id, "n1") == 0);

	CHECK(PARSE("--name", "web", "hostfwd", "list") == 0);
	CHECK(cmd.sub.hostfwd.op == MOAT__CTL__HOSTFWD_REQUEST__OP__LIST);
	CHECK(cmd.sub.hostfwd.net_id[0] == 0 && cmd.sub.hostfwd.rule[0] == 0);
	return 0;
}

static int t_device_restart(void)
{
	Moat__Ctl__Request *r;

	CHECK(PARSE("--name", "web", "device", "restart", "smc0") == 0);
	CHECK(cmd.op == CTL_DEVICE_RESTART && !cmd.json);
	CHECK(!strcmp(ctl_op_name(cmd.op), "device restart"));
	r = round_trip();
	CHECK(r && r->op_case == MOAT__CTL__REQUEST__OP_DEVICE_RESTART);
	CHECK(strcmp(r->device_restart->id, "smc0") == 0);
	moat__ctl__request__free_unpacked(r, NULL);
	/* --json after it; the client leaves the id's rule to the VM */
	CHECK(PARSE("--name", "web", "device", "restart", "smc0", "--json") == 0 && cmd.json);
	CHECK(PARSE("--name", "web", "device", "restart", "Blk.0") == 0);
	CHECK(strcmp(cmd.sub.device_restart.id, "Blk.0") == 0);
	/* an id that starts with '-' after -- */
	CHECK(PARSE("--name", "web", "device", "restart", "--", "-x") == 0);
	CHECK(strcmp(cmd.sub.device_restart.id, "-x") == 0);
	return 0;
}

static int t_audit_tail(void)
{
	CHECK(PARSE("--name", "web", "audit", "tail") == 0);
	CHECK(cmd.sub.audit_tail.lines == CTL_DEF_LINES);
	CHECK(PARSE("--name", "web", "audit", "tail", "1") == 0);
	CHECK(cmd.sub.audit_tail.lines == 1);
	CHECK(PARSE("--name", "web", "audit", "tail", "1000") == 0);
	CHECK(cmd.sub.audit_tail.lines == CTL_MAX_LINES);
	return 0;
}

static int t_help(void)
{
	/* help needs no --name */
	CHECK(PARSE("--help") == 0 && cmd.help && cmd.help_topic == NULL);
	CHECK(PARSE("-h") == 0 && cmd.help && cmd.help_topic == NULL);
	CHECK(PARSE("--json", "--help", "status") == 0 && cmd.help && !cmd.help_topic);
	CHECK(PARSE("status", "--help") == 0 && cmd.help);
	CHECK(strcmp(cmd.help_topic, "status") == 0);
	CHECK(PARSE("disk", "--help") == 0 && strcmp(cmd.help_topic, "disk") == 0);
	CHECK(PARSE("disk", "swap", "-h") == 0 && strcmp(cmd.help_topic, "disk") == 0);
	CHECK(PARSE("--name", "web", "hostfwd", "add", "--help") == 0);
	CHECK(cmd.help && strcmp(cmd.help_topic, "hostfwd") == 0);
	CHECK(PARSE("audit", "tail", "--help") == 0 && strcmp(cmd.help_topic, "audit") == 0);
	CHECK(PARSE("device", "--help") == 0 && strcmp(cmd.help_topic, "device") == 0);
	CHECK(PARSE("--name", "web", "device", "restart", "smc0", "-h") == 0);
	CHECK(cmd.help && strcmp(cmd.help_topic, "device") == 0);
	return 0;
}

/* Every usage error: refused, with a line that says what is wrong. */
static int t_usage_errors(void)
{
	static const struct {
		const char *args[8];
		const char *says;
	} cases[] = {
	    {{NULL}, "no command"},
	    {{"--name", "web"}, "no command"},
	    {{"--name", "web", "frobnicate"}, "unknown command 'frobnicate'"},
	    {{"--frob", "status"}, "unknown option --frob"},
	    {{"--name"}, "--name needs a value"},
	    {{"--name="}, "--name needs a value"},
	    {{"--name", "../etc", "status"}, "--name ../etc"},
	    {{"--name", "a/b", "status"}, "--name a/b"},
	    {{"--name", "a", "--name", "b", "status"}, "--name given twice"},
	    {{"--control", "/a", "--control", "/b", "status"}, "--control given twice"},
	    {{"--name", "a", "--control", "/b", "status"}, "give one"},
	    {{"status"}, "--name NAME or --control PATH"},
	    {{"--control", "", "status"}, "--control needs a value"},
	    {{"--name", "w", "--timeout", "0", "status"}, "--timeout 0"},
	    {{"--name", "w", "--timeout", "2s", "status"}, "--timeout 2s"},
	    {{"--name", "w", "--timeout", "86401", "status"}, "--timeout 86401"},
	    {{"--name", "w", "--timeout", "-1", "status"}, "--timeout -1"},
	    {{"--name", "w", "--timeout"}, "--timeout needs a value"},
	    {{"--name", "w", "status", "now"}, "status: unexpected argument 'now'"},
	    {{"--name", "w", "status", "--frob"}, "status: unknown option --frob"},
	    {{"--name", "w", "status", "--timeout", "3"}, "put it before the command"},
	    {{"status", "--name", "w"}, "put it before the command"},
	    {{"--name", "w", "pause", "--net", "n0"}, "pause: unknown option --net"},
	    {{"--name", "w", "disk"}, "disk: which? (swap)"},
	    {{"--name", "w", "disk", "eject"}, "disk: unknown subcommand 'eject'"},
	    {{"--name", "w", "disk", "swap"}, "disk swap: missing arguments"},
	    {{"--name", "w", "disk", "swap", "blk0"}, "disk swap: missing arguments"},
	    {{"--name", "w", "disk", "swap", "blk0", "/a", "/b"}, "unexpected argument '/b'"},
	    {{"--name", "w", "disk", "swap", "blk0", "none,ro"}, "none takes no ,ro"},
	    {{"--name", "w", "disk", "swap", "blk0", ""}, "the path is empty"},
	    {{"--name", "w", "disk", "swap", "blk0", ",ro"}, "the path is empty"},
	    {{"--name", "w", "disk", "swap", "", "/a"}, "the disk ID is empty"},
	    {{"--name", "w", "hostfwd"}, "hostfwd: which? (add, remove, list)"},
	    {{"--name", "w", "hostfwd", "flush"}, "hostfwd: unknown subcommand 'flush'"},
	    {{"--name", "w", "hostfwd", "add"}, "hostfwd add: missing arguments"},
	    {{"--name", "w", "hostfwd", "add", ""}, "the rule is empty"},
	    {{"--name", "w", "hostfwd", "remove", "--net"}, "--net needs a value"},
	    {{"--name", "w", "hostfwd", "list", "tcp::1-:2"}, "unexpected argument"},
	    {{"--name", "w", "audit"}, "audit: which? (tail)"},
	    {{"--name", "w", "audit", "tail", "0"}, "audit tail 0"},
	    {{"--name", "w", "audit", "tail", "1001"}, "audit tail 1001"},
	    {{"--name", "w", "audit", "tail", "ten"}, "audit tail ten"},
	    {{"--name", "w", "audit", "tail", "1", "2"}, "unexpected argument '2'"},
	    {{"--name", "w", "shutdown", "--timeout", "soon"}, "shutdown --timeout soon"},
	    {{"--name", "w", "shutdown", "--timeout", "4294967296"}, "4294967296"},
	    {{"--name", "w", "version", "x"}, "version: unexpected argument 'x'"},
	    {{"--name", "w", "device"}, "device: which? (restart)"},
	    {{"--name", "w", "device", "kill", "smc0"}, "device: unknown subcommand 'kill'"},
	    {{"--name", "w", "device", "restart"},
	     "device restart: missing arguments (usage: device restart ID)"},
	    {{"--name", "w", "device", "restart", "smc0", "blk0"},
	     "device restart: unexpected argument 'blk0'"},
	    {{"--name", "w", "device", "restart", ""}, "device restart: the device ID is empty"},
	    {{"--name", "w", "device", "restart", "smc0", "--net", "n0"},
	     "device restart: unknown option --net"},
	    {{"--name", "w", "device", "restart", "--timeout", "9", "smc0"},
	     "put it before the command"},
	    {{"device", "restart", "smc0"}, "--name NAME or --control PATH"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int r = parse_in("/", (const char **)cases[i].args);

		if (r != -EINVAL || !strstr(err, cases[i].says)) {
			fprintf(stderr, "case %zu: rc %d, said '%s', wanted '%s'\n", i, r, err,
				cases[i].says);
			return 1;
		}
	}
	return 0;
}

static int t_control_too_long(void)
{
	char path[200];

	memset(path, 'a', sizeof(path) - 1);
	path[0] = '/';
	path[sizeof(path) - 1] = 0;
	CHECK(PARSE("--control", path, "status") == -EINVAL);
	CHECK(strstr(err, "too long for a socket address"));
	return 0;
}

TAP_MAIN(TEST(t_status_defaults), TEST(t_every_command), TEST(t_global_options),
	 TEST(t_shutdown_timeout), TEST(t_disk_swap), TEST(t_relative_path), TEST(t_hostfwd),
	 TEST(t_device_restart), TEST(t_audit_tail), TEST(t_help), TEST(t_usage_errors),
	 TEST(t_control_too_long))
