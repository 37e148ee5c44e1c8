/* The whole `moat ctl` (ctl_main) against a fake VM on a real socket: a
 * good status, a refusal, the request as the VM receives it, the --name
 * socket rule; and hostile or broken VMs (garbage, another version, a
 * 100 KiB datagram, a hang-up, silence, no VM, no permission), each one
 * clear line and exit 1, never a crash or a hang. */
#include <grp.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdbool.h>
#include <time.h>

#include "fake_vm.h"
#include "reply_fixture.h"
#include "tap.h"

#define NOBODY 65534

static struct fake_vm vm;
static struct ctl_run run;

/* Become nobody, who may not enter the fake VM's 0700 directory. */
static void drop_to_nobody(void)
{
	if (setgroups(0, NULL) < 0 || setresgid(NOBODY, NOBODY, NOBODY) < 0 ||
	    setresuid(NOBODY, NOBODY, NOBODY) < 0)
		_exit(98);
}

static bool terminal_safe(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if ((*p < 0x20 && *p != '\n') || *p == 0x7f || *p >= 0x80)
			return false;
	return true;
}

/* A failure of the transport: exit 1, one line on stderr that says what
 * (and nothing on stdout). */
static bool one_error_line(const char *says)
{
	const char *nl = strchr(run.err, '\n');

	if (run.status != 1 || run.out[0] || strncmp(run.err, "moat: ctl: ", 11) != 0 || !nl ||
	    nl[1] || !strstr(run.err, says)) {
		fprintf(stderr, "status %d, stdout '%s', stderr '%s'; wanted '%s'\n", run.status,
			run.out, run.err, says);
		return false;
	}
	return true;
}

static int t_status(void)
{
	struct status_fixture f;

	CHECK(fake_vm_start(&vm, FAKE_REPLY, status_fixture(&f)) == 0);
	CHECK(RUN_CTL(vm.dir, NULL, &run, "--control", vm.sock, "status") == 0);
	fake_vm_cleanup(&vm);
	CHECK(run.status == 0 && run.err[0] == 0);
	CHECK(strstr(run.out, "name     web\n") && strstr(run.out, "state    running\n"));
	CHECK(strstr(run.out, "requests=5 errors=0"));
	return 0;
}

static int t_status_json(void)
{
	struct status_fixture f;
	struct json_object *o, *v;

	CHECK(fake_vm_start(&vm, FAKE_REPLY, status_fixture(&f)) == 0);
	CHECK(RUN_CTL(vm.dir, NULL, &run, "--control", vm.sock, "status", "--json") == 0);
	fake_vm_cleanup(&vm);
	CHECK(run.status == 0 && run.err[0] == 0);
	o = json_tokener_parse(run.out);
	CHECK(o && json_object_object_get_ex(o, "processes", &v));
	CHECK(json_object_array_length(v) == 2);
	json_object_put(o);
	return 0;
}

/* What the VM receives: the version, the operation and a disk path made
 * absolute against the client's directory. */
static int t_request_received(void)
{
	Moat__Ctl__Reply ok = ok_reply();
	Moat__Ctl__Request *req;
	char cwd[PATH_MAX], want[PATH_MAX + 16];

	CHECK(fake_vm_start(&vm, FAKE_REPLY, &ok) == 0);
	CHECK(chdir(vm.dir) == 0 && getcwd(cwd, sizeof(cwd)));
	snprintf(want, sizeof(want), "%s/img.raw", cwd);
	CHECK(RUN_CTL(vm.dir, NULL, &run, "--control", vm.sock, "disk", "swap", "blk1",
		      "img.raw,ro") == 0);
	fake_vm_stop(&vm);
	CHECK(run.status == 0 && !strcmp(run.out, "disk blk1: swapped\n"));
	req = fake_vm_request(&vm);
	fake_vm_cleanup(&vm);
	CHECK(req && req->version == MOAT__CTL__VERSION__VERSION_CURRENT);
	CHECK(req->op_case == MOAT__CTL__REQUEST__OP_DISK_SWAP);
	CHECK(!strcmp(req->disk_swap->id, "blk1") && !strcmp(req->disk_swap->path, want));
	CHECK(req->disk_swap->read_only && !req->disk_swap->none);
	moat__ctl__request__free_unpacked(req, NULL);
	return 0;
}

/* device restart end to end: the id as sent, the new process shown. */
static int t_device_restart(void)
{
	Moat__Ctl__DeviceRestarted dr = MOAT__CTL__DEVICE_RESTARTED__INIT;
	Moat__Ctl__Reply ok = ok_reply();
	Moat__Ctl__Reply no = error_reply("smc0: a restart is already under way");
	Moat__Ctl__Request *req;

	dr.id = "smc0";
	dr.kind = "smc";
	dr.pid = 4321;
	dr.restarts = 1;
	ok.result_case = MOAT__CTL__REPLY__RESULT_DEVICE_RESTARTED;
	ok.device_restarted = &dr;
	CHECK(fake_vm_start(&vm, FAKE_REPLY, &ok) == 0);
	CHECK(RUN_CTL(vm.dir, NULL, &run, "--control", vm.sock, "device", "restart", "smc0") == 0);
	fake_vm_stop(&vm);
	CHECK(run.status == 0 && run.err[0] == 0);
	CHECK(!strcmp(run.out, "smc0: restarted, moat-smc pid 4321\n"));
	req = fake_vm_request(&vm);
	fake_vm_cleanup(&vm);
	CHECK(req && req->version == MOAT__CTL__VERSION__VERSION_CURRENT);
	CHECK(req->op_case == MOAT__CTL__REQUEST__OP_DEVICE_RESTART);
	CHECK(!strcmp(req->device_restart->id, "smc0"));
	moat__ctl__request__free_unpacked(req, NULL);

	CHECK(fake_vm_start(&vm, FAKE_REPLY, &no) == 0);
	CHECK(RUN_CTL(vm.dir, NULL, &run, "--control", vm.sock, "device", "restart", "smc0") == 0);
	fake_vm_cleanup(&vm);
	CHECK(one_error_line("moat: ctl: device restart: smc0: a restart is already under way"));
	return 0;
}

static int t_refusal(void)
{
	Moat__Ctl__Reply r = error_reply("no disk blk9");
	struct json_object *o, *v;

	CHECK(fake_vm_start(&vm, FAKE_REPLY, &r) == 0);
	CHECK(RUN_CTL(vm.dir, NULL, &run, "--control", vm.sock, "disk", "swap", "blk9", "none") ==
	      0);
	fake_vm_cleanup(&vm);
	CHECK(one_error_line("moat: ctl: disk swap: no disk blk9"));

	CHECK(fake_vm_start(&vm, FAKE_REPLY, &r) == 0);
	CHECK(RUN_CTL(vm.dir, NULL, &run, "--control", vm.sock, "--json", "pause") == 0);
	fake_vm_cleanup(&vm);
	CHECK(run.status == 1 && run.err[0] == 0);
	o = json_tokener_parse(run.out);
	CHECK(o && json_object_object_get_ex(o, "ok", &v) && !json_object_get_boolean(v));
	CHECK(json_object_object_get_ex(o, "error", &v));
	CHECK(!strcmp(json_object_get_string(v), "no disk blk9"));
	json_object_put(o);
	return 0;
}

/* The monitor answers a caller of another uid before reading anything,
 * and hangs up. Depending on who is quicker, the client's send fails
 * (EPIPE), or the hang-up with the request unread makes the kernel report
 * ECONNRESET before the answer: either way the client reads why. Run
 * many times, so that each order is seen. */
static int t_refused_before_request(void)
{
	Moat__Ctl__Reply r = error_reply("permission denied: uid 1000 is neither root nor the "
					 "VM's owner (uid 0)");

	for (int i = 0; i < 40; i++) {
		CHECK(fake_vm_start(&vm, FAKE_REFUSE_FIRST, &r) == 0);
		CHECK(RUN_CTL(vm.dir, NULL, &run, "--control", vm.sock, "status") == 0);
		fake_vm_cleanup(&vm);
		CHECK(one_error_line("moat: ctl: status: permission denied: uid 1000"));
	}
	return 0;
}

static int t_garbage(void)
{
	CHECK(fake_vm_start(&vm, FAKE_GARBAGE, NULL) == 0);
	CHECK(RUN_CTL(vm.dir, NULL, &run, "--control", vm.sock, "status") == 0);
	fake_vm_cleanup(&vm);
	CHECK(one_error_line("the reply (14 bytes) does not unpack"));
	return 0;
}

static int t_other_version(void)
{
	struct status_fixture f;

	CHECK(fake_vm_start(&vm, FAKE_OTHER_VERSION, status_fixture(&f)) == 0);
	CHECK(RUN_CTL(vm.dir, NULL, &run, "--control", vm.sock, "--json", "status") == 0);
	fake_vm_cleanup(&vm);
	CHECK(one_error_line("the VM speaks control protocol version 2, this client version 1"));
	return 0;
}

static int t_big_datagram(void)
{
	CHECK(fake_vm_start(&vm, FAKE_BIG, NULL) == 0);
	CHECK(RUN_CTL(vm.dir, NULL, &run, "--control", vm.sock, "status") == 0);
	fake_vm_cleanup(&vm);
	CHECK(one_error_line("the VM's reply is 102400 bytes, more than the 65536"));
	return 0;
}

static int t_hang_up(void)
{
	CHECK(fake_vm_start(&vm, FAKE_CLOSE, NULL) == 0);
	CHECK(RUN_CTL(vm.dir, NULL, &run, "--control", vm.sock, "pause") == 0);
	fake_vm_cleanup(&vm);
	CHECK(one_error_line("the VM closed the connection without answering"));
	return 0;
}

static int t_silence(void)
{
	struct timespec a, b;

	CHECK(fake_vm_start(&vm, FAKE_SILENT, NULL) == 0);
	clock_gettime(CLOCK_MONOTONIC, &a);
	CHECK(RUN_CTL(vm.dir, NULL, &run, "--control", vm.sock, "--timeout", "1", "status") == 0);
	clock_gettime(CLOCK_MONOTONIC, &b);
	fake_vm_cleanup(&vm);
	CHECK(one_error_line("timed out after 1 s waiting for the VM's reply"));
	CHECK(b.tv_sec - a.tv_sec < 5);
	return 0;
}

static int t_no_vm(void)
{
	char path[128];

	snprintf(vm.dir, sizeof(vm.dir), "/tmp/moat-ctl-XXXXXX");
	CHECK(mkdtemp(vm.dir));
	snprintf(path, sizeof(path), "%s/control.sock", vm.dir);
	CHECK(RUN_CTL(vm.dir, NULL, &run, "--control", path, "status") == 0);
	CHECK(one_error_line("cannot connect to "));
	CHECK(strstr(run.err, "/control.sock: No such file or directory (is the VM running "
			      "with --control /tmp/moat-ctl-"));
	fake_vm_cleanup(&vm);
	return 0;
}

/* A socket left behind by a VM that is gone: nobody listens. */
static int t_stale_socket(void)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_SEQPACKET, 0);

	snprintf(vm.dir, sizeof(vm.dir), "/tmp/moat-ctl-XXXXXX");
	CHECK(mkdtemp(vm.dir));
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/control.sock", vm.dir);
	CHECK(fd >= 0 && bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0);
	close(fd);
	CHECK(RUN_CTL(vm.dir, NULL, &run, "--control", sun.sun_path, "status") == 0);
	fake_vm_cleanup(&vm);
	CHECK(one_error_line("Connection refused (is the VM running with --control"));
	return 0;
}

/* Neither root nor the VM's uid: connect is refused by the file system. */
static int t_permission(void)
{
	Moat__Ctl__Reply ok = ok_reply();

	CHECK(fake_vm_start(&vm, FAKE_REPLY, &ok) == 0);
	if (geteuid() != 0)
		CHECK(chmod(vm.sock, 0) == 0); /* its owner may not write it either */
	CHECK(RUN_CTL(vm.dir, geteuid() == 0 ? drop_to_nobody : NULL, &run, "--control", vm.sock,
		      "status") == 0);
	fake_vm_cleanup(&vm);
	CHECK(one_error_line("permission refused on "));
	CHECK(strstr(run.err, "must be root or the uid that started the VM"));
	return 0;
}

/* --name NAME: $XDG_RUNTIME_DIR/moat/NAME/control.sock for a user (as
 * root, the run is made as nobody: root's /run/moat is not ours to use). */
static void as_user_in_vm_dir(void)
{
	if (geteuid() == 0)
		drop_to_nobody();
	setenv("XDG_RUNTIME_DIR", vm.dir, 1);
}

static int t_name_rule(void)
{
	struct fake_vm named = {0};
	Moat__Ctl__Reply ok = ok_reply();
	char dir[80], sock[sizeof(named.sock)];

	snprintf(vm.dir, sizeof(vm.dir), "/tmp/moat-ctl-XXXXXX");
	CHECK(mkdtemp(vm.dir) && chmod(vm.dir, 0755) == 0);
	snprintf(dir, sizeof(dir), "%s/moat", vm.dir);
	CHECK(mkdir(dir, 0755) == 0);
	snprintf(dir, sizeof(dir), "%s/moat/web", vm.dir);
	CHECK(mkdir(dir, 0755) == 0);
	snprintf(sock, sizeof(sock), "%s/control.sock", dir);
	snprintf(named.dir, sizeof(named.dir), "%s", vm.dir);
	CHECK(fake_vm_start_at(&named, sock, FAKE_REPLY, &ok) == 0);
	CHECK(chmod(sock, 0777) == 0);
	CHECK(RUN_CTL(vm.dir, as_user_in_vm_dir, &run, "--name", "web", "resume") == 0);
	fake_vm_stop(&named);
	CHECK(run.status == 0 && !strcmp(run.out, "resumed\n"));
	/* a name with no VM: the path it tried, and the hint */
	CHECK(RUN_CTL(vm.dir, as_user_in_vm_dir, &run, "--name", "db", "resume") == 0);
	fake_vm_cleanup(&vm);
	CHECK(one_error_line("/moat/db/control.sock: No such file or directory (is the VM "
			     "running with --name db?)"));
	return 0;
}

/* A hostile VM's status cannot reach the terminal with escape sequences. */
static int t_hostile_strings(void)
{
	struct status_fixture f;
	Moat__Ctl__Reply *r = status_fixture(&f);

	f.status.name = "\x1b]0;pwned\x07\x1b[2J";
	f.vcpu.state = "\r\x1b[Krunning";
	CHECK(fake_vm_start(&vm, FAKE_REPLY, r) == 0);
	CHECK(RUN_CTL(vm.dir, NULL, &run, "--control", vm.sock, "status") == 0);
	fake_vm_cleanup(&vm);
	CHECK(run.status == 0 && terminal_safe(run.out));
	CHECK(strstr(run.out, "name     \\x1b]0;pwned\\x07\\x1b[2J\n"));
	CHECK(strstr(run.out, "\\r\\x1b[Krunning"));
	return 0;
}

static int t_usage_and_help(void)
{
	snprintf(vm.dir, sizeof(vm.dir), "/tmp/moat-ctl-XXXXXX");
	CHECK(mkdtemp(vm.dir));
	CHECK(RUN_CTL(vm.dir, NULL, &run, "--name", "web") == 0);
	CHECK(run.status == 2 && run.out[0] == 0);
	CHECK(!strcmp(run.err, "moat: ctl: no command given (see moat ctl --help)\n"
			       "Try 'moat ctl --help'.\n"));
	CHECK(RUN_CTL(vm.dir, NULL, &run, "status") == 0);
	CHECK(run.status == 2 && strstr(run.err, "--name NAME or --control PATH"));
	CHECK(RUN_CTL(vm.dir, NULL, &run, "--name", "web", "disk", "swap", "blk0") == 0);
	CHECK(run.status == 2 && strstr(run.err, "disk swap: missing arguments"));

	CHECK(RUN_CTL(vm.dir, NULL, &run, "--help") == 0);
	CHECK(run.status == 0 && run.err[0] == 0);
	CHECK(strstr(run.out, "Usage: moat ctl"));
	CHECK(strstr(run.out, "/run/moat/NAME/control.sock"));
	CHECK(strstr(run.out, "$XDG_RUNTIME_DIR/moat/NAME/control.sock"));
	CHECK(strstr(run.out, "root or the uid that started the VM"));
	CHECK(strstr(run.out, "Exit status:") && strstr(run.out, "Examples:"));
	for (const char *w = "disk swap\0hostfwd add\0audit tail\0shutdown [--timeout S]\0"
			     "device restart ID\0version\0";
	     *w; w += strlen(w) + 1)
		CHECK(strstr(run.out, w));
	CHECK(RUN_CTL(vm.dir, NULL, &run, "hostfwd", "--help") == 0);
	CHECK(run.status == 0 && strstr(run.out, "hostfwd list [--net ID]"));
	CHECK(!strstr(run.out, "disk swap"));
	CHECK(RUN_CTL(vm.dir, NULL, &run, "device", "restart", "--help") == 0);
	CHECK(run.status == 0 && strstr(run.out, "device restart ID\n"));
	CHECK(strstr(run.out, "the display cannot") && strstr(run.out, "3 times a minute"));
	fake_vm_cleanup(&vm);
	return 0;
}

TAP_MAIN(TEST(t_status), TEST(t_status_json), TEST(t_request_received), TEST(t_device_restart),
	 TEST(t_refusal), TEST(t_refused_before_request), TEST(t_garbage), TEST(t_other_version),
	 TEST(t_big_datagram), TEST(t_hang_up), TEST(t_silence), TEST(t_no_vm),
	 TEST(t_stale_socket), TEST(t_permission), TEST(t_name_rule), TEST(t_hostile_strings),
	 TEST(t_usage_and_help))
