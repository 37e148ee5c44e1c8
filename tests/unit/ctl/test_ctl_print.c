/* moat ctl's output (ctl/ctl_print.c, ctl_text.c, ctl_json.c,
 * ctl_escape.c): the status table (restarts too), each action's line, a
 * restarted device, the JSON documents parsed back with json-c,
 * refusals, replies that lack what was asked, and hostile strings kept
 * from the terminal. */
#include <json-c/json.h>
#include <stdint.h>

#include "config.h"
#include "ctl_args.h"
#include "ctl_escape.h"
#include "ctl_print.h"
#include "reply_fixture.h"
#include "tap.h"

static struct ctl_cmd cmd;
static char *out_text, *err_text;

/* Parse the command line (after --control /s), then print r as it would
 * be; out_text and err_text hold what went to stdout and stderr. */
static int show(const Moat__Ctl__Reply *r, const char **args)
{
	const char *argv[16] = {"ctl", "--control", "/s"};
	int argc = 3, rc;
	size_t olen, elen;
	char perr[256];
	FILE *out, *errout;

	for (; args[argc - 3]; argc++)
		argv[argc] = args[argc - 3];
	if (ctl_parse_args(argc, (char **)argv, "/w", &cmd, perr, sizeof(perr)) < 0) {
		fprintf(stderr, "parse: %s\n", perr);
		return -1;
	}
	out = open_memstream(&out_text, &olen);
	errout = open_memstream(&err_text, &elen);
	rc = ctl_print_reply(&cmd, r, out, errout);
	fclose(out);
	fclose(errout);
	return rc;
}

#define SHOW(r, ...) show((r), (const char *[]){__VA_ARGS__, NULL})

/* No byte a terminal would act on, but the line ends. */
static bool terminal_safe(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if ((*p < 0x20 && *p != '\n') || *p == 0x7f || *p >= 0x80)
			return false;
	return true;
}

static int t_status_text(void)
{
	struct status_fixture f;

	CHECK(SHOW(status_fixture(&f), "status") == 0);
	CHECK(err_text[0] == 0);
	CHECK(strstr(out_text, "name     web\n"));
	CHECK(strstr(out_text, "state    running\n"));
	CHECK(strstr(out_text, "uptime   01:01:01\n"));
	CHECK(strstr(out_text, "cpus     2\n"));
	CHECK(strstr(out_text, "memory   512 MiB\n"));
	CHECK(strstr(out_text, "monitor  pid 4241\n"));
	CHECK(strstr(out_text,
		     "KIND  ID    PID      STATE    RESTARTS  BACKEND           COUNTERS\n"));
	CHECK(strstr(
	    out_text,
	    "vcpu  vcpu  4242     running  0         -                 exits=1099511627776\n"));
	CHECK(strstr(
	    out_text,
	    "blk   blk0  -        dead     0         /var/lib/web.raw  requests=5 errors=0\n"));
	return 0;
}

/* A device whose new process starts, restarted before: its state and its
 * count, in both formats; a count wider than its heading widens the
 * column. */
static int t_status_restarts(void)
{
	struct status_fixture f;
	Moat__Ctl__Reply *r = status_fixture(&f);
	struct json_object *o, *procs, *v;

	f.blk.state = "restarting";
	f.blk.pid = 4250;
	f.blk.restarts = 2;
	CHECK(SHOW(r, "status") == 0 && err_text[0] == 0);
	CHECK(strstr(out_text,
		     "KIND  ID    PID      STATE       RESTARTS  BACKEND           COUNTERS\n"));
	CHECK(strstr(out_text,
		     "vcpu  vcpu  4242     running     0         -                 exits="));
	CHECK(strstr(
	    out_text,
	    "blk   blk0  4250     restarting  2         /var/lib/web.raw  requests=5 errors=0\n"));

	CHECK(SHOW(r, "--json", "status") == 0 && err_text[0] == 0);
	o = json_tokener_parse(out_text);
	CHECK(o && json_object_object_get_ex(o, "processes", &procs));
	CHECK(json_object_object_get_ex(json_object_array_get_idx(procs, 0), "restarts", &v));
	CHECK(json_object_is_type(v, json_type_int) && json_object_get_int(v) == 0);
	CHECK(json_object_object_get_ex(json_object_array_get_idx(procs, 1), "restarts", &v));
	CHECK(json_object_get_int(v) == 2);
	CHECK(json_object_object_get_ex(json_object_array_get_idx(procs, 1), "state", &v));
	CHECK(!strcmp(json_object_get_string(v), "restarting"));
	json_object_put(o);

	f.blk.restarts = UINT32_MAX;
	CHECK(SHOW(r, "status") == 0);
	CHECK(strstr(out_text, "STATE       RESTARTS    BACKEND"));
	CHECK(strstr(out_text, "running     0           -"));
	CHECK(strstr(out_text, "restarting  4294967295  /var/lib/web.raw"));
	CHECK(SHOW(r, "status", "--json") == 0);
	o = json_tokener_parse(out_text);
	CHECK(o && json_object_object_get_ex(o, "processes", &procs));
	CHECK(json_object_object_get_ex(json_object_array_get_idx(procs, 1), "restarts", &v));
	CHECK(json_object_get_int64(v) == UINT32_MAX);
	json_object_put(o);
	return 0;
}

static int t_status_text_units(void)
{
	struct status_fixture f;
	Moat__Ctl__Reply *r = status_fixture(&f);

	f.status.uptime_ms = 2 * 86400000ull + 59999;
	f.status.mem_bytes = 4ull << 30;
	f.status.name = "";
	f.status.n_processes = 0;
	CHECK(SHOW(r, "status") == 0);
	CHECK(strstr(out_text, "uptime   2d 00:00:59\n"));
	CHECK(strstr(out_text, "memory   4 GiB\n"));
	CHECK(strstr(out_text, "name     -\n"));
	CHECK(!strstr(out_text, "KIND"));
	CHECK(!strstr(out_text, "backing")); /* an older monitor: no line */
	f.status.mem_bytes = 1000;
	CHECK(SHOW(r, "status") == 0 && strstr(out_text, "memory   1000 bytes\n"));
	f.status.mem_backing = "thp";
	f.status.mem_huge_bytes = 510ull << 20;
	CHECK(SHOW(r, "status") == 0);
	CHECK(strstr(out_text, "backing  thp, 510 MiB mapped in 2 MiB pages\n"));
	f.status.mem_backing = "hugetlb\033[2J";
	f.status.mem_prealloc = true;
	f.status.mem_huge_bytes = 0;
	CHECK(SHOW(r, "status") == 0 && !strchr(out_text, '\033'));
	CHECK(strstr(out_text, " (preallocated), 0 bytes mapped in 2 MiB pages\n"));
	return 0;
}

static int t_status_json(void)
{
	struct status_fixture f;
	struct json_object *o, *procs, *p, *c, *v;

	CHECK(SHOW(status_fixture(&f), "--json", "status") == 0);
	CHECK(err_text[0] == 0);
	o = json_tokener_parse(out_text);
	CHECK(o && json_object_is_type(o, json_type_object));
	CHECK(json_object_object_get_ex(o, "name", &v) &&
	      !strcmp(json_object_get_string(v), "web"));
	CHECK(json_object_object_get_ex(o, "state", &v));
	CHECK(!strcmp(json_object_get_string(v), "running"));
	CHECK(json_object_object_get_ex(o, "uptime_ms", &v) && json_object_get_int64(v) == 3661000);
	CHECK(json_object_object_get_ex(o, "cpus", &v) && json_object_get_int(v) == 2);
	CHECK(json_object_object_get_ex(o, "mem_bytes", &v));
	CHECK(json_object_get_uint64(v) == 512ull << 20);
	CHECK(json_object_object_get_ex(o, "mem_backing", &v));
	CHECK(json_object_object_get_ex(o, "mem_huge_bytes", &v));
	CHECK(json_object_object_get_ex(o, "monitor_pid", &v) && json_object_get_int(v) == 4241);
	CHECK(json_object_object_get_ex(o, "processes", &procs));
	CHECK(json_object_is_type(procs, json_type_array) && json_object_array_length(procs) == 2);
	p = json_object_array_get_idx(procs, 0);
	CHECK(json_object_object_get_ex(p, "kind", &v) &&
	      !strcmp(json_object_get_string(v), "vcpu"));
	CHECK(json_object_object_get_ex(p, "pid", &v) && json_object_get_int(v) == 4242);
	CHECK(json_object_object_get_ex(p, "backend", &v) &&
	      !strcmp(json_object_get_string(v), ""));
	CHECK(json_object_object_get_ex(p, "counters", &c));
	CHECK(json_object_object_get_ex(c, "exits", &v) && json_object_get_uint64(v) == 1ull << 40);
	p = json_object_array_get_idx(procs, 1);
	CHECK(json_object_object_get_ex(p, "id", &v) && !strcmp(json_object_get_string(v), "blk0"));
	CHECK(json_object_object_get_ex(p, "state", &v));
	CHECK(!strcmp(json_object_get_string(v), "dead"));
	CHECK(json_object_object_get_ex(p, "backend", &v));
	CHECK(!strcmp(json_object_get_string(v), "/var/lib/web.raw"));
	CHECK(json_object_object_get_ex(p, "counters", &c) && json_object_object_length(c) == 2);
	CHECK(json_object_object_get_ex(c, "requests", &v) && json_object_get_int(v) == 5);
	json_object_put(o);
	return 0;
}

static int t_actions(void)
{
	static const struct {
		const char *args[6];
		const char *line;
	} cases[] = {
	    {{"pause"}, "paused\n"},
	    {{"resume"}, "resumed\n"},
	    {{"shutdown", "--timeout", "5"}, "shutting down\n"},
	    {{"stop"}, "stopping\n"},
	    {{"reset"}, "reset\n"},
	    {{"disk", "swap", "blk1", "/a.iso,ro"}, "disk blk1: swapped\n"},
	    {{"disk", "swap", "blk1", "none"}, "disk blk1: swapped\n"},
	    {{"hostfwd", "add", "tcp::8080-:80"}, "added tcp::8080-:80\n"},
	    {{"hostfwd", "remove", "tcp::8080-:80"}, "removed tcp::8080-:80\n"},
	};
	Moat__Ctl__Reply ok = ok_reply();

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *json_args[8] = {"--json"};
		const char **args = (const char **)cases[i].args;
		struct json_object *o, *v;

		if (show(&ok, args) != 0 || strcmp(out_text, cases[i].line) != 0) {
			fprintf(stderr, "case %zu: printed '%s'\n", i, out_text);
			return 1;
		}
		for (int k = 0; k < 6 && cases[i].args[k]; k++)
			json_args[1 + k] = cases[i].args[k];
		CHECK(show(&ok, json_args) == 0);
		o = json_tokener_parse(out_text);
		CHECK(o && json_object_object_get_ex(o, "ok", &v) && json_object_get_boolean(v));
		CHECK(json_object_object_length(o) == 1);
		json_object_put(o);
	}
	return 0;
}

static int t_lists(void)
{
	char *rules[] = {"tcp:127.0.0.1:8080-10.0.2.15:80", "udp:127.0.0.1:53-10.0.2.15:53"};
	char *lines[] = {"one", "two", "three"};
	Moat__Ctl__HostfwdList hl = MOAT__CTL__HOSTFWD_LIST__INIT;
	Moat__Ctl__AuditLines al = MOAT__CTL__AUDIT_LINES__INIT;
	Moat__Ctl__Reply r = ok_reply();
	struct json_object *o, *v;

	hl.net_id = "net0";
	hl.n_rules = 2;
	hl.rules = rules;
	r.result_case = MOAT__CTL__REPLY__RESULT_HOSTFWD;
	r.hostfwd = &hl;
	CHECK(SHOW(&r, "hostfwd", "list") == 0);
	CHECK(
	    !strcmp(out_text, "tcp:127.0.0.1:8080-10.0.2.15:80\nudp:127.0.0.1:53-10.0.2.15:53\n"));
	CHECK(SHOW(&r, "hostfwd", "list", "--json") == 0);
	o = json_tokener_parse(out_text);
	CHECK(o && json_object_object_get_ex(o, "net", &v) &&
	      !strcmp(json_object_get_string(v), "net0"));
	CHECK(json_object_object_get_ex(o, "rules", &v) && json_object_array_length(v) == 2);
	CHECK(!strcmp(json_object_get_string(json_object_array_get_idx(v, 1)), rules[1]));
	json_object_put(o);

	al.n_lines = 3;
	al.lines = lines;
	r.result_case = MOAT__CTL__REPLY__RESULT_AUDIT;
	r.audit = &al;
	CHECK(SHOW(&r, "audit", "tail", "3") == 0 && !strcmp(out_text, "one\ntwo\nthree\n"));
	CHECK(SHOW(&r, "--json", "audit", "tail") == 0);
	o = json_tokener_parse(out_text);
	CHECK(o && json_object_object_get_ex(o, "lines", &v) && json_object_array_length(v) == 3);
	CHECK(!strcmp(json_object_get_string(json_object_array_get_idx(v, 2)), "three"));
	json_object_put(o);
	return 0;
}

static int t_version(void)
{
	Moat__Ctl__Reply r = ok_reply();
	struct json_object *o, *v;
	char want[128];

	r.result_case = MOAT__CTL__REPLY__RESULT_MOAT_VERSION;
	r.moat_version = "9.8.7";
	CHECK(SHOW(&r, "version") == 0);
	snprintf(want, sizeof(want), "client  %s\nvm      9.8.7\n", MOAT_VERSION);
	CHECK(!strcmp(out_text, want));
	CHECK(SHOW(&r, "version", "--json") == 0);
	o = json_tokener_parse(out_text);
	CHECK(o && json_object_object_get_ex(o, "client", &v));
	CHECK(!strcmp(json_object_get_string(v), MOAT_VERSION));
	CHECK(json_object_object_get_ex(o, "vm", &v) &&
	      !strcmp(json_object_get_string(v), "9.8.7"));
	json_object_put(o);
	return 0;
}

/* A device restarted: its new process, one line or a document; the
 * VM's strings escaped. */
static int t_device_restarted(void)
{
	Moat__Ctl__DeviceRestarted dr = MOAT__CTL__DEVICE_RESTARTED__INIT;
	Moat__Ctl__Reply r = ok_reply();
	Moat__Ctl__Reply no = error_reply(
	    "display0: moat-display cannot be restarted (its state lives only in its process)");
	struct json_object *o, *v;

	dr.id = "smc0";
	dr.kind = "smc";
	dr.pid = 4321;
	dr.restarts = 1;
	r.result_case = MOAT__CTL__REPLY__RESULT_DEVICE_RESTARTED;
	r.device_restarted = &dr;
	CHECK(SHOW(&r, "device", "restart", "smc0") == 0 && err_text[0] == 0);
	CHECK(!strcmp(out_text, "smc0: restarted, moat-smc pid 4321\n"));
	CHECK(SHOW(&r, "device", "restart", "smc0", "--json") == 0 && err_text[0] == 0);
	o = json_tokener_parse(out_text);
	CHECK(o && json_object_object_length(o) == 4);
	CHECK(json_object_object_get_ex(o, "id", &v) && !strcmp(json_object_get_string(v), "smc0"));
	CHECK(json_object_object_get_ex(o, "kind", &v) &&
	      !strcmp(json_object_get_string(v), "smc"));
	CHECK(json_object_object_get_ex(o, "pid", &v) && json_object_get_int(v) == 4321);
	CHECK(json_object_object_get_ex(o, "restarts", &v) && json_object_get_int(v) == 1);
	json_object_put(o);

	dr.id = "smc0\x1b]0;owned\x07";
	dr.kind = "smc\n\xc2\x9b"
		  "2J\xff";
	CHECK(SHOW(&r, "device", "restart", "smc0") == 0 && terminal_safe(out_text));
	CHECK(!strcmp(out_text,
		      "smc0\\x1b]0;owned\\x07: restarted, moat-smc\\n\\u009b2J\\xff pid 4321\n"));
	CHECK(SHOW(&r, "--json", "device", "restart", "smc0") == 0 && !strchr(out_text, 0x1b));
	o = json_tokener_parse(out_text);
	CHECK(o && json_object_object_get_ex(o, "id", &v));
	CHECK(!strcmp(json_object_get_string(v), dr.id));
	CHECK(json_object_object_get_ex(o, "kind", &v));
	CHECK(!strcmp(json_object_get_string(v), "smc\n\xc2\x9b"
						 "2J\xef\xbf\xbd"));
	json_object_put(o);

	CHECK(SHOW(&no, "device", "restart", "display0") == 1 && out_text[0] == 0);
	CHECK(!strcmp(err_text, "moat: ctl: device restart: display0: moat-display cannot be "
				"restarted (its state lives only in its process)\n"));
	CHECK(SHOW(&no, "device", "restart", "display0", "--json") == 1 && err_text[0] == 0);
	o = json_tokener_parse(out_text);
	CHECK(o && json_object_object_get_ex(o, "ok", &v) && !json_object_get_boolean(v));
	CHECK(json_object_object_get_ex(o, "error", &v) &&
	      strstr(json_object_get_string(v), "lives only in its process"));
	json_object_put(o);
	return 0;
}

static int t_refusal(void)
{
	Moat__Ctl__Reply r = error_reply("the VM is already paused");
	struct json_object *o, *v;

	CHECK(SHOW(&r, "pause") == 1);
	CHECK(out_text[0] == 0);
	CHECK(!strcmp(err_text, "moat: ctl: pause: the VM is already paused\n"));
	CHECK(SHOW(&r, "--json", "pause") == 1);
	CHECK(err_text[0] == 0);
	o = json_tokener_parse(out_text);
	CHECK(o && json_object_object_get_ex(o, "ok", &v) && !json_object_get_boolean(v));
	CHECK(json_object_object_get_ex(o, "error", &v));
	CHECK(!strcmp(json_object_get_string(v), "the VM is already paused"));
	json_object_put(o);
	/* a refusal without a reason still says something */
	r.error = "";
	CHECK(SHOW(&r, "stop") == 1 && strstr(err_text, "moat: ctl: stop: refused"));
	return 0;
}

/* ok, but not what was asked: an error, not a crash on a missing result. */
static int t_reply_lacks_result(void)
{
	Moat__Ctl__Reply r = ok_reply();

	CHECK(SHOW(&r, "status") == 1 && strstr(err_text, "carries no status"));
	CHECK(SHOW(&r, "--json", "status") == 1 && out_text[0] == 0);
	CHECK(SHOW(&r, "hostfwd", "list") == 1 && strstr(err_text, "carries no list"));
	CHECK(SHOW(&r, "audit", "tail") == 1 && strstr(err_text, "carries no audit"));
	CHECK(SHOW(&r, "device", "restart", "smc0") == 1);
	CHECK(strstr(err_text, "carries no restarted device"));
	CHECK(SHOW(&r, "--json", "device", "restart", "smc0") == 1 && out_text[0] == 0);
	r.result_case = MOAT__CTL__REPLY__RESULT_MOAT_VERSION;
	r.moat_version = "1";
	CHECK(SHOW(&r, "status") == 1 && strstr(err_text, "carries no status"));
	return 0;
}

static char *escaped(const char *s)
{
	static char buf[512];
	FILE *f = fmemopen(buf, sizeof(buf), "w");
	size_t n = ctl_put_escaped(f, s);

	fclose(f);
	return n == strlen(buf) ? buf : "(length differs)";
}

static int t_escape(void)
{
	CHECK(!strcmp(escaped("plain /path-1.raw"), "plain /path-1.raw"));
	CHECK(!strcmp(escaped("\x1b]0;pwned\x07"), "\\x1b]0;pwned\\x07"));
	CHECK(!strcmp(escaped("a\nb\tc\rd"), "a\\nb\\tc\\rd"));
	CHECK(!strcmp(escaped("back\\slash"), "back\\\\slash"));
	CHECK(!strcmp(escaped("del\x7f"), "del\\x7f"));
	/* C1 CSI as UTF-8, and as a lone byte (not UTF-8) */
	CHECK(!strcmp(escaped("\xc2\x9b"
			      "2J"),
		      "\\u009b2J"));
	CHECK(!strcmp(escaped("\x9b"
			      "2J"),
		      "\\x9b2J"));
	/* a right-to-left override would reorder what follows */
	CHECK(!strcmp(escaped("a\xe2\x80\xae"
			      "b"),
		      "a\\u202eb"));
	/* overlong '/', a surrogate, a truncated sequence */
	CHECK(!strcmp(escaped("\xc0\xaf"), "\\xc0\\xaf"));
	CHECK(!strcmp(escaped("\xed\xa0\x80"), "\\xed\\xa0\\x80"));
	CHECK(!strcmp(escaped("\xe2\x82"), "\\xe2\\x82"));
	/* printable UTF-8 passes */
	CHECK(!strcmp(escaped("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x90\x9f"),
		      "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x90\x9f"));
	CHECK(ctl_put_escaped(NULL, "\x1b") == 4);
	return 0;
}

/* Hostile strings in a status: the text has no byte a terminal acts on;
 * the JSON parses back to the same strings, broken UTF-8 replaced. */
static int t_status_hostile_strings(void)
{
	struct status_fixture f;
	Moat__Ctl__Reply *r = status_fixture(&f);
	struct json_object *o, *v, *p;

	f.status.name = "\x1b[2J\x1b]0;owned\x07";
	f.status.state = "run\nning";
	f.blk.backend = "/x\xc2\x9b"
			"31m\xff";
	f.requests.name = "req\x1b[8m";
	CHECK(SHOW(r, "status") == 0);
	CHECK(terminal_safe(out_text));
	CHECK(strstr(out_text, "name     \\x1b[2J\\x1b]0;owned\\x07\n"));
	CHECK(strstr(out_text, "state    run\\nning\n"));
	CHECK(strstr(out_text, "/x\\u009b31m\\xff"));
	CHECK(strstr(out_text, "req\\x1b[8m=5"));

	CHECK(SHOW(r, "--json", "status") == 0);
	o = json_tokener_parse(out_text);
	CHECK(o && json_object_object_get_ex(o, "name", &v));
	CHECK(!strcmp(json_object_get_string(v), f.status.name));
	CHECK(!strchr(out_text, 0x1b)); /* escaped by json-c as \u001b */
	CHECK(json_object_object_get_ex(o, "processes", &p));
	p = json_object_array_get_idx(p, 1);
	CHECK(json_object_object_get_ex(p, "backend", &v));
	CHECK(!strcmp(json_object_get_string(v), "/x\xc2\x9b"
						 "31m\xef\xbf\xbd"));
	json_object_put(o);
	return 0;
}

static int t_refusal_hostile(void)
{
	Moat__Ctl__Reply r = error_reply("no\x1b[31m such disk\n\x07");

	CHECK(SHOW(&r, "disk", "swap", "blk9", "none") == 1);
	CHECK(!strcmp(err_text, "moat: ctl: disk swap: no\\x1b[31m such disk\\n\\x07\n"));
	return 0;
}

TAP_MAIN(TEST(t_status_text), TEST(t_status_restarts), TEST(t_status_text_units),
	 TEST(t_status_json), TEST(t_actions), TEST(t_lists), TEST(t_version),
	 TEST(t_device_restarted), TEST(t_refusal), TEST(t_reply_lacks_result), TEST(t_escape),
	 TEST(t_status_hostile_strings), TEST(t_refusal_hostile))
