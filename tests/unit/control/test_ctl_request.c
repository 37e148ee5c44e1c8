/* Unit tests for monitor/ctl_request.c: each operation packed by
 * protobuf-c parses to the right struct; each field's boundary values;
 * and hostile datagrams (empty, one byte, cut short, too big, another
 * version, unknown fields, NULs inside strings, wire types protobuf-c
 * refuses), each of which must give its errno, one printable line with
 * client text escaped and clipped, and no change to the output. */
#include <errno.h>
#include <stdint.h>

#include "control.pb-c.h"
#include "ctl_request.h"
#include "options.h"
#include "tap.h"

#define IP(a, b, c, d)                                                                             \
	((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (uint32_t)(d))

static bool printable_line(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7F)
			return false;
	return true;
}

/* Parse buf[0..len) and check the contract: err empty exactly on success,
 * one printable line that fits MON_CTL_ERR_LEN otherwise, *out untouched
 * on failure. Returns what mon_ctl_parse returned, or 1 when the contract
 * broke. */
static int parse_bytes(const uint8_t *buf, size_t len, struct mon_ctl_req *out, char *err)
{
	static struct mon_ctl_req before;
	char big[512];
	int r;

	memset(out, 0xA5, sizeof(*out));
	memcpy(&before, out, sizeof(before));
	memset(big, 'z', sizeof(big));
	r = mon_ctl_parse(buf, len, out, big, sizeof(big));
	if (r == 0 ? big[0] != 0 : (!printable_line(big) || strlen(big) >= MON_CTL_ERR_LEN)) {
		fprintf(stderr, "r=%d, bad error line '%s'\n", r, big);
		return 1;
	}
	if (r != 0 && memcmp(out, &before, sizeof(before))) {
		fprintf(stderr, "r=%d changed the output\n", r);
		return 1;
	}
	if (r)
		fprintf(stderr, "  (%d: %s)\n", r, big);
	strcpy(err, big);
	return r;
}

static int parse_msg(const Moat__Ctl__Request *m, struct mon_ctl_req *out, char *err)
{
	static uint8_t buf[4 * MON_CTL_MAX_REQ];
	size_t n = moat__ctl__request__get_packed_size(m);

	if (n > sizeof(buf))
		return 1;
	moat__ctl__request__pack(m, buf);
	return parse_bytes(buf, n, out, err);
}

/* A request of the current version with one operation. */
#define REQ(field, CASE, msg)                                                                      \
	((Moat__Ctl__Request){PROTOBUF_C_MESSAGE_INIT(&moat__ctl__request__descriptor),            \
			      MOAT__CTL__VERSION__VERSION_CURRENT,                                 \
			      MOAT__CTL__REQUEST__OP_##CASE,                                       \
			      {.field = (msg)}})

static bool only_op(const struct mon_ctl_req *r, enum mon_ctl_op op)
{
	struct mon_ctl_req want;

	memset(&want, 0, sizeof(want));
	want.op = op;
	return !memcmp(r, &want, sizeof(want));
}

/* The operations without fields: the op, and every other field zero. */
static int t_plain_ops(void)
{
	Moat__Ctl__StatusRequest st = MOAT__CTL__STATUS_REQUEST__INIT;
	Moat__Ctl__PauseRequest pa = MOAT__CTL__PAUSE_REQUEST__INIT;
	Moat__Ctl__ResumeRequest re = MOAT__CTL__RESUME_REQUEST__INIT;
	Moat__Ctl__StopRequest so = MOAT__CTL__STOP_REQUEST__INIT;
	Moat__Ctl__ResetRequest rs = MOAT__CTL__RESET_REQUEST__INIT;
	Moat__Ctl__VersionRequest ve = MOAT__CTL__VERSION_REQUEST__INIT;
	struct mon_ctl_req r;
	char err[512];

	CHECK(parse_msg(&REQ(status, STATUS, &st), &r, err) == 0 && only_op(&r, MON_CTL_STATUS));
	CHECK(parse_msg(&REQ(pause, PAUSE, &pa), &r, err) == 0 && only_op(&r, MON_CTL_PAUSE));
	CHECK(parse_msg(&REQ(resume, RESUME, &re), &r, err) == 0 && only_op(&r, MON_CTL_RESUME));
	CHECK(parse_msg(&REQ(stop, STOP, &so), &r, err) == 0 && only_op(&r, MON_CTL_STOP));
	CHECK(parse_msg(&REQ(reset, RESET, &rs), &r, err) == 0 && only_op(&r, MON_CTL_RESET));
	CHECK(parse_msg(&REQ(get_version, GET_VERSION, &ve), &r, err) == 0 &&
	      only_op(&r, MON_CTL_VERSION));
	return 0;
}

static int shutdown_req(bool has, uint32_t s, struct mon_ctl_req *r, char *err)
{
	Moat__Ctl__ShutdownRequest sd = MOAT__CTL__SHUTDOWN_REQUEST__INIT;

	sd.has_timeout = has;
	sd.timeout_s = s;
	return parse_msg(&REQ(shutdown, SHUTDOWN, &sd), r, err);
}

static int t_shutdown(void)
{
	struct mon_ctl_req r;
	char err[512];

	CHECK(shutdown_req(false, 0, &r, err) == 0 && only_op(&r, MON_CTL_SHUTDOWN));
	CHECK(shutdown_req(true, 0, &r, err) == 0);
	CHECK(r.op == MON_CTL_SHUTDOWN && r.has_timeout && r.timeout_s == 0);
	CHECK(shutdown_req(true, MON_MAX_SHUTDOWN_S, &r, err) == 0);
	CHECK(r.has_timeout && r.timeout_s == MON_MAX_SHUTDOWN_S);
	CHECK(shutdown_req(true, MON_MAX_SHUTDOWN_S + 1, &r, err) == -EINVAL);
	CHECK(strstr(err, "3601 s is over the limit of 3600 s"));
	CHECK(shutdown_req(true, UINT32_MAX, &r, err) == -EINVAL);
	CHECK(shutdown_req(false, 5, &r, err) == -EINVAL && strstr(err, "without has_timeout"));
	return 0;
}

static int swap_req(const char *id, const char *path, bool none, bool ro, struct mon_ctl_req *r,
		    char *err)
{
	Moat__Ctl__DiskSwapRequest d = MOAT__CTL__DISK_SWAP_REQUEST__INIT;

	d.id = (char *)id;
	d.path = (char *)path;
	d.none = none;
	d.read_only = ro;
	return parse_msg(&REQ(disk_swap, DISK_SWAP, &d), r, err);
}

static int t_disk_swap(void)
{
	static char longest[PATH_MAX];
	struct mon_ctl_req r;
	char err[512];

	CHECK(swap_req("blk0", "/var/lib/img.raw", false, true, &r, err) == 0);
	CHECK(r.op == MON_CTL_DISK_SWAP && !strcmp(r.id, "blk0"));
	CHECK(!strcmp(r.path, "/var/lib/img.raw") && r.read_only && !r.none);
	CHECK(swap_req("cd_rom-1", "", true, false, &r, err) == 0);
	CHECK(r.none && !r.read_only && r.path[0] == 0 && !strcmp(r.id, "cd_rom-1"));
	CHECK(swap_req("abcdefghijklmno", "/", false, false, &r, err) == 0); /* 15: the limit */
	CHECK(!strcmp(r.id, "abcdefghijklmno") && !strcmp(r.path, "/"));
	CHECK(swap_req("0", "/x", false, false, &r, err) == 0 && !strcmp(r.id, "0"));
	/* paths are bytes: UTF-8 and other high bytes are a file's business */
	CHECK(swap_req("d", "/srv/\xc3\xa9t\xc3\xa9.img", false, false, &r, err) == 0);
	CHECK(swap_req("d", "/srv/\xff\x80", false, false, &r, err) == 0);
	/* the longest path: PATH_MAX - 1 bytes */
	memset(longest, 'p', PATH_MAX - 1);
	longest[0] = '/';
	CHECK(swap_req("d", longest, false, false, &r, err) == 0 && !strcmp(r.path, longest));
	return 0;
}

struct bad_swap {
	const char *id, *path;
	bool none, ro;
	const char *want; /* a piece of the error line */
};

static const struct bad_swap bad_swaps[] = {
    {"", "/x", false, false, "id is empty"},
    {"Blk0", "/x", false, false, "id 'Blk0' has a character outside"},
    {"BLK", "/x", false, false, "outside a-z"},
    {"abcdefghijklmnop", "/x", false, false, "longer than 15"},
    {"a.b", "/x", false, false, "outside a-z"},
    {"a b", "/x", false, false, "outside a-z"},
    {"a/b", "/x", false, false, "outside a-z"},
    {"a\x1b[2J", "/x", false, false, "id 'a\\x1b[2J'"},
    {"\xc3\xa9", "/x", false, false, "'\\xc3\\xa9'"},
    {"blk0", "", false, false, "no path"},
    {"blk0", "", false, true, "no path"},
    {"blk0", "/x", true, false, "both none and a path"},
    {"blk0", "", true, true, "none cannot be read-only"},
    {"blk0", "img.raw", false, false, "path 'img.raw' is not absolute"},
    {"blk0", "./img.raw", false, false, "not absolute"},
    {"blk0", "~/img.raw", false, false, "not absolute"},
    {"blk0", " /img.raw", false, false, "not absolute"},
    {"blk0", "/img\n.raw", false, false, "control character (0x0a) at byte 4"},
    {"blk0", "/img\x1b[31m", false, false, "control character (0x1b)"},
    {"blk0", "/img\x7f", false, false, "control character (0x7f) at byte 4"},
    {"blk0", "/img\t", false, false, "(0x09)"},
    {"blk0", "/img\r", false, false, "(0x0d)"},
    {"blk0", "\x01/img", false, false, "at byte 0"},
    {"blk0", "rel\x1b", false, false, "control character"},
};

static int t_disk_swap_bad(void)
{
	struct mon_ctl_req r;
	char err[512];
	int failed = 0;

	for (size_t i = 0; i < sizeof(bad_swaps) / sizeof(bad_swaps[0]); i++) {
		const struct bad_swap *b = &bad_swaps[i];
		int ret = swap_req(b->id, b->path, b->none, b->ro, &r, err);

		if (ret != -EINVAL || !strstr(err, b->want)) {
			fprintf(stderr, "bad_swaps[%zu]: r=%d err='%s' (want '%s')\n", i, ret,
				ret < 0 ? err : "", b->want);
			failed = 1;
		}
	}
	return failed;
}

/* A path of PATH_MAX bytes does not fit; a long relative one is quoted
 * clipped, so the line stays short. */
static int t_disk_swap_long(void)
{
	static char path[PATH_MAX + 1];
	struct mon_ctl_req r;
	char err[512];

	memset(path, 'p', PATH_MAX);
	path[0] = '/';
	CHECK(swap_req("d", path, false, false, &r, err) == -EINVAL);
	CHECK(strstr(err, "path is 4096 bytes (at most 4095)"));
	path[0] = 'p';
	path[PATH_MAX - 1] = 0;
	CHECK(swap_req("d", path, false, false, &r, err) == -EINVAL && strstr(err, "..."));
	CHECK(strlen(err) < 120);
	/* escapes count against the clip too */
	memset(path, '\\', 500);
	path[500] = 0;
	CHECK(swap_req(path, "/x", false, false, &r, err) == -EINVAL);
	CHECK(strstr(err, "\\x5c\\x5c") && strstr(err, "...") && strlen(err) < 120);
	return 0;
}

static int fwd_req(int op, const char *net_id, const char *rule, struct mon_ctl_req *r, char *err)
{
	Moat__Ctl__HostfwdRequest h = MOAT__CTL__HOSTFWD_REQUEST__INIT;

	h.op = (Moat__Ctl__HostfwdRequest__Op)op;
	h.net_id = (char *)net_id;
	h.rule = (char *)rule;
	return parse_msg(&REQ(hostfwd, HOSTFWD, &h), r, err);
}

enum { LIST = 0, ADD = 1, REMOVE = 2 };

static int t_hostfwd(void)
{
	struct mon_ctl_req r;
	char err[512];

	CHECK(fwd_req(LIST, "", "", &r, err) == 0 && only_op(&r, MON_CTL_HOSTFWD_LIST));
	CHECK(fwd_req(LIST, "net0", "", &r, err) == 0);
	CHECK(r.op == MON_CTL_HOSTFWD_LIST && !strcmp(r.id, "net0"));
	CHECK(fwd_req(ADD, "", "tcp::8080-:80", &r, err) == 0);
	CHECK(r.op == MON_CTL_HOSTFWD_ADD && r.id[0] == 0 && r.fwd.proto == NETOPT_TCP);
	CHECK(r.fwd.host_addr == IP(127, 0, 0, 1) && r.fwd.host_port == 8080);
	CHECK(r.fwd.guest_addr == IP(10, 0, 2, 15) && r.fwd.guest_port == 80);
	CHECK(fwd_req(REMOVE, "lan_0-a", "udp:0.0.0.0:65535-10.0.2.100:1", &r, err) == 0);
	CHECK(r.op == MON_CTL_HOSTFWD_REMOVE && !strcmp(r.id, "lan_0-a"));
	CHECK(r.fwd.proto == NETOPT_UDP && r.fwd.host_addr == 0 && r.fwd.host_port == 65535);
	CHECK(r.fwd.guest_addr == IP(10, 0, 2, 100) && r.fwd.guest_port == 1);
	CHECK(fwd_req(ADD, "abcdefghijklmno", "tcp::1-:1", &r, err) == 0);
	return 0;
}

struct bad_fwd {
	int op;
	const char *net_id, *rule;
	const char *want;
};

static const struct bad_fwd bad_fwds[] = {
    {3, "", "", "unknown op 3"},
    {-1, "", "", "unknown op -1"},
    {1000, "", "tcp::1-:1", "unknown op 1000"},
    {LIST, "", "tcp::22-:22", "list takes no rule"},
    {ADD, "", "", "add needs a rule"},
    {REMOVE, "", "", "remove needs a rule"},
    {LIST, "Net0", "", "net_id 'Net0' has a character outside"},
    {LIST, "abcdefghijklmnop", "", "net_id 'abcdefghijklmnop' is longer than 15"},
    {ADD, "net.0", "tcp::1-:1", "outside a-z"},
    {ADD, "", "tcp", "wants PROTO"},
    {ADD, "", "tcp::", "no '-'"},
    {ADD, "", "sctp::22-:22", "unknown hostfwd protocol 'sctp'"},
    {ADD, "", "::22-:22", "unknown hostfwd protocol ''"},
    {ADD, "", "TCP::22-:22", "unknown hostfwd protocol"},
    {ADD, "", "tcp::2222", "no '-'"},
    {ADD, "", "tcp:2222-:22", "host side"},
    {ADD, "", "tcp::2222-22", "guest side"},
    {ADD, "", "tcp::0-:22", "host port 0 is out of range"},
    {ADD, "", "tcp::22-:0", "guest port 0 is out of range"},
    {ADD, "", "tcp::65536-:22", "host port 65536 is out of range"},
    {ADD, "", "tcp::22-:65536", "guest port 65536 is out of range"},
    {REMOVE, "", "tcp::99999999999999999999-:22", "out of range"},
    {ADD, "", "tcp::-:22", "host port is missing"},
    {ADD, "", "tcp::22-:", "guest port is missing"},
    {ADD, "", "tcp::+22-:22", "not a number"},
    {ADD, "", "tcp:: 22-:22", "not a number"},
    {ADD, "", "tcp::0x16-:22", "not a number"},
    {ADD, "", "tcp::22-:22-", "not a number"},
    {ADD, "", "tcp::22-:22\n", "not a number"},
    {ADD, "", "tcp::22-::22", "not a number"},
    {ADD, "", "tcp:localhost:22-:22", "host address 'localhost'"},
    {ADD, "", "tcp:127.0.0.01:22-:22", "not an IPv4"},
    {ADD, "", "tcp:127.0.0:22-:22", "not an IPv4"},
    {ADD, "", "tcp:[::1]:22-:22", "not an IPv4"},
    {ADD, "", "tcp:224.0.0.1:22-:22", "not a unicast"},
    {ADD, "", "tcp::22-10.0.2:22", "guest address"},
    {ADD, "", "hostfwd=tcp::22-:22", "unknown hostfwd protocol"},
    {ADD, "", "tcp::22-:22,hostfwd=tcp::23-:23", "not a number"},
    {ADD, "", "\x1b[2Jtcp::22-:22", "protocol '?[2Jtcp'"},
};

static int t_hostfwd_bad(void)
{
	struct mon_ctl_req r;
	char err[512];
	int failed = 0;

	for (size_t i = 0; i < sizeof(bad_fwds) / sizeof(bad_fwds[0]); i++) {
		const struct bad_fwd *b = &bad_fwds[i];
		int ret = fwd_req(b->op, b->net_id, b->rule, &r, err);

		if (ret != -EINVAL || !strstr(err, b->want)) {
			fprintf(stderr, "bad_fwds[%zu]: r=%d err='%s' (want '%s')\n", i, ret,
				ret < 0 ? err : "", b->want);
			failed = 1;
		}
	}
	return failed;
}

static int tail_req(uint32_t lines, struct mon_ctl_req *r, char *err)
{
	Moat__Ctl__AuditTailRequest a = MOAT__CTL__AUDIT_TAIL_REQUEST__INIT;

	a.lines = lines;
	return parse_msg(&REQ(audit_tail, AUDIT_TAIL, &a), r, err);
}

static int t_audit_tail(void)
{
	struct mon_ctl_req r;
	char err[512];

	CHECK(tail_req(0, &r, err) == 0 && r.op == MON_CTL_AUDIT_TAIL);
	CHECK(r.lines == MON_CTL_DEF_LINES);
	CHECK(tail_req(1, &r, err) == 0 && r.lines == 1);
	CHECK(tail_req(MON_CTL_MAX_LINES, &r, err) == 0 && r.lines == MON_CTL_MAX_LINES);
	CHECK(tail_req(MON_CTL_MAX_LINES + 1, &r, err) == -EINVAL);
	CHECK(strstr(err, "1001 lines is over the limit of 1000"));
	CHECK(tail_req(UINT32_MAX, &r, err) == -EINVAL);
	return 0;
}

static int t_version(void)
{
	Moat__Ctl__StatusRequest st = MOAT__CTL__STATUS_REQUEST__INIT;
	Moat__Ctl__Request m = REQ(status, STATUS, &st);
	struct mon_ctl_req r;
	char err[512];

	m.version = 0;
	CHECK(parse_msg(&m, &r, err) == -EPROTO);
	CHECK(strstr(err, "version 0; this moat speaks 1"));
	m.version = 2;
	CHECK(parse_msg(&m, &r, err) == -EPROTO && strstr(err, "version 2; this moat speaks 1"));
	m.version = UINT32_MAX;
	CHECK(parse_msg(&m, &r, err) == -EPROTO && strstr(err, "4294967295"));
	/* the version is checked before the operation's fields */
	m.version = 2;
	m.op_case = MOAT__CTL__REQUEST__OP__NOT_SET;
	CHECK(parse_msg(&m, &r, err) == -EPROTO && strstr(err, "version 2"));
	m.version = MOAT__CTL__VERSION__VERSION_CURRENT;
	CHECK(parse_msg(&m, &r, err) == -EPROTO && strstr(err, "no operation"));
	return 0;
}

/* A tiny wire writer, for what protobuf-c would never pack. */
struct wire {
	uint8_t b[2 * MON_CTL_MAX_REQ];
	size_t n;
};

static void put_varint(struct wire *w, uint64_t v)
{
	do {
		w->b[w->n++] = (uint8_t)((v & 0x7F) | (v > 0x7F ? 0x80 : 0));
		v >>= 7;
	} while (v);
}

static void put_bytes(struct wire *w, unsigned field, const void *p, size_t n)
{
	put_varint(w, (uint64_t)field << 3 | 2);
	put_varint(w, n);
	memcpy(w->b + w->n, p, n);
	w->n += n;
}

static void put_uint(struct wire *w, unsigned field, uint64_t v)
{
	put_varint(w, (uint64_t)field << 3);
	put_varint(w, v);
}

/* version 1, then field op holding sub. */
static void put_req(struct wire *w, unsigned op, const struct wire *sub)
{
	w->n = 0;
	put_uint(w, 1, 1);
	put_bytes(w, op, sub->b, sub->n);
}

static int restart_req(const char *id, struct mon_ctl_req *r, char *err)
{
	Moat__Ctl__DeviceRestartRequest d = MOAT__CTL__DEVICE_RESTART_REQUEST__INIT;

	d.id = (char *)id;
	return parse_msg(&REQ(device_restart, DEVICE_RESTART, &d), r, err);
}

/* The op and the id, every other field zero. */
static bool restart_of(const struct mon_ctl_req *r, const char *id)
{
	struct mon_ctl_req want;

	memset(&want, 0, sizeof(want));
	want.op = MON_CTL_DEVICE_RESTART;
	snprintf(want.id, sizeof(want.id), "%s", id);
	return !memcmp(r, &want, sizeof(want));
}

static int t_device_restart(void)
{
	struct mon_ctl_req r;
	char err[512];

	CHECK(restart_req("smc0", &r, err) == 0 && restart_of(&r, "smc0"));
	CHECK(restart_req("abcdefghijklmno", &r, err) == 0 && restart_of(&r, "abcdefghijklmno"));
	CHECK(restart_req("0", &r, err) == 0 && restart_of(&r, "0"));
	CHECK(restart_req("cd_rom-1", &r, err) == 0 && restart_of(&r, "cd_rom-1"));
	/* any id of the right characters: whether it names a device, and
	 * which kind, is the VM's business */
	CHECK(restart_req("vcpu", &r, err) == 0 && restart_of(&r, "vcpu"));
	return 0;
}

static const struct {
	const char *id, *want;
} bad_restarts[] = {
    {"", "device_restart: id is empty (want 1-15 of a-z 0-9 _ -)"},
    {"abcdefghijklmnop", "device_restart: id 'abcdefghijklmnop' is longer than 15"},
    {"Smc0", "device_restart: id 'Smc0' has a character outside a-z 0-9 _ -"},
    {"smc.0", "outside a-z"},
    {"smc 0", "outside a-z"},
    {"smc0\n", "id 'smc0\\x0a' has a character outside"},
    {"smc0\x1b[2J", "id 'smc0\\x1b[2J'"},
    {"\xc3\xa9", "'\\xc3\\xa9'"},
    {"../smc0", "outside a-z"},
};

static int t_device_restart_bad(void)
{
	static char longest[MON_CTL_MAX_REQ / 2];
	static struct wire sub, w;
	struct mon_ctl_req r;
	char err[512];
	int failed = 0;

	for (size_t i = 0; i < sizeof(bad_restarts) / sizeof(bad_restarts[0]); i++) {
		int ret = restart_req(bad_restarts[i].id, &r, err);

		if (ret != -EINVAL || !strstr(err, bad_restarts[i].want)) {
			fprintf(stderr, "bad_restarts[%zu]: r=%d err='%s' (want '%s')\n", i, ret,
				ret < 0 ? err : "", bad_restarts[i].want);
			failed = 1;
		}
	}
	/* a long id is quoted clipped: the line stays short */
	memset(longest, 'a', sizeof(longest) - 1);
	CHECK(restart_req(longest, &r, err) == -EINVAL && strstr(err, "...") && strlen(err) < 120);
	/* a NUL inside the id, which protobuf-c would cut at */
	sub.n = 0;
	put_bytes(&sub, 1, "smc0\0x", 6);
	put_req(&w, 20, &sub);
	CHECK(parse_bytes(w.b, w.n, &r, err) == -EINVAL);
	CHECK(!strcmp(err, "request: string id holds a NUL byte"));
	/* the same without it passes */
	sub.n = 0;
	put_bytes(&sub, 1, "smc0", 4);
	put_req(&w, 20, &sub);
	CHECK(parse_bytes(w.b, w.n, &r, err) == 0 && restart_of(&r, "smc0"));
	/* an empty message: no id */
	sub.n = 0;
	put_req(&w, 20, &sub);
	CHECK(parse_bytes(w.b, w.n, &r, err) == -EINVAL && strstr(err, "id is empty"));
	return failed;
}

static int t_short_bytes(void)
{
	static const uint8_t one[][1] = {{0x08}, {0x00}, {0xFF}, {0x80}, {0x0A}, {0x0B}};
	struct mon_ctl_req r;
	char err[512];

	CHECK(parse_bytes((const uint8_t *)"", 0, &r, err) == -EPROTO && strstr(err, "version 0"));
	CHECK(parse_bytes(NULL, 0, &r, err) == -EPROTO);
	CHECK(parse_bytes(NULL, 5, &r, err) == -EBADMSG);
	for (size_t i = 0; i < sizeof(one) / sizeof(one[0]); i++)
		CHECK(parse_bytes(one[i], 1, &r, err) == -EBADMSG);
	/* one byte that is a whole field: version 0 after all */
	CHECK(parse_bytes((const uint8_t *)"\x08\x00", 2, &r, err) == -EPROTO);
	CHECK(parse_bytes((const uint8_t *)"\x08\x01", 2, &r, err) == -EPROTO);
	CHECK(strstr(err, "no operation"));
	return 0;
}

/* Every proper prefix of a good request fails, by not decoding or by
 * naming no operation. */
static int t_truncated(void)
{
	Moat__Ctl__DiskSwapRequest d = MOAT__CTL__DISK_SWAP_REQUEST__INIT;
	Moat__Ctl__Request m = REQ(disk_swap, DISK_SWAP, &d);
	uint8_t buf[256];
	struct mon_ctl_req r;
	char err[512];
	size_t n;

	d.id = "blk1";
	d.path = "/images/debian-12.qcow2";
	d.read_only = true;
	n = moat__ctl__request__pack(&m, buf);
	CHECK(parse_bytes(buf, n, &r, err) == 0 && r.read_only);
	for (size_t k = 0; k < n; k++) {
		int ret = parse_bytes(buf, k, &r, err);

		if (ret != -EBADMSG && ret != -EPROTO) {
			fprintf(stderr, "prefix %zu: %d\n", k, ret);
			return 1;
		}
	}
	return 0;
}

static int t_oversize(void)
{
	static struct wire w, pad;
	Moat__Ctl__Request m = MOAT__CTL__REQUEST__INIT;
	struct mon_ctl_req r;
	char err[512];
	size_t padlen;

	/* a status request padded with an unknown field to exactly the limit */
	put_uint(&w, 1, 1);
	put_bytes(&w, 10, "", 0);
	padlen = MON_CTL_MAX_REQ - w.n - 4; /* tag and length: 2 bytes each */
	memset(pad.b, 'x', padlen);
	put_bytes(&w, 99, pad.b, padlen);
	CHECK(w.n == MON_CTL_MAX_REQ);
	CHECK(parse_bytes(w.b, w.n, &r, err) == 0 && only_op(&r, MON_CTL_STATUS));
	w.b[w.n++] = 0x08; /* one byte more: version again, cut short */
	CHECK(parse_bytes(w.b, w.n, &r, err) == -EMSGSIZE);
	CHECK(strstr(err, "(8193 bytes) is over the limit of 8192"));
	/* a good request that is too big is refused before it is read */
	{
		Moat__Ctl__DiskSwapRequest d = MOAT__CTL__DISK_SWAP_REQUEST__INIT;
		static char path[MON_CTL_MAX_REQ + 1];

		memset(path, 'a', sizeof(path) - 1);
		path[0] = '/';
		d.id = "d";
		d.path = path;
		m = REQ(disk_swap, DISK_SWAP, &d);
		CHECK(parse_msg(&m, &r, err) == -EMSGSIZE);
	}
	CHECK(parse_bytes(w.b, SIZE_MAX, &r, err) == -EMSGSIZE);
	return 0;
}

/* protobuf-c keeps fields it does not know aside: they change nothing. */
static int t_unknown_fields(void)
{
	static struct wire sub, w;
	struct mon_ctl_req r;
	char err[512];

	sub.n = 0;
	put_bytes(&sub, 1, "blk0", 4);
	put_uint(&sub, 77, 12345);
	put_bytes(&sub, 2, "/x.img", 6);
	put_bytes(&sub, 5000, "junk", 4);
	put_req(&w, 16, &sub);
	put_uint(&w, 536870911, 1); /* the highest field number */
	CHECK(parse_bytes(w.b, w.n, &r, err) == 0 && r.op == MON_CTL_DISK_SWAP);
	CHECK(!strcmp(r.id, "blk0") && !strcmp(r.path, "/x.img"));
	/* 64- and 32-bit unknown fields */
	put_varint(&w, 99 << 3 | 1);
	memset(w.b + w.n, 0xEE, 8);
	w.n += 8;
	put_varint(&w, 98 << 3 | 5);
	memset(w.b + w.n, 0xEE, 4);
	w.n += 4;
	CHECK(parse_bytes(w.b, w.n, &r, err) == 0 && !strcmp(r.path, "/x.img"));
	/* an operation newer than this moat (field 21): no operation known */
	sub.n = 0;
	put_req(&w, 21, &sub);
	CHECK(parse_bytes(w.b, w.n, &r, err) == -EPROTO && strstr(err, "no operation"));
	return 0;
}

/* protobuf-c ends a string at its first NUL; the wire check refuses it. */
static int t_nul_in_strings(void)
{
	static struct wire sub, w;
	struct mon_ctl_req r;
	char err[512];

	sub.n = 0;
	put_bytes(&sub, 1, "blk0", 4);
	put_bytes(&sub, 2, "/ok\0/../../etc/shadow", 21);
	put_req(&w, 16, &sub);
	CHECK(parse_bytes(w.b, w.n, &r, err) == -EINVAL);
	CHECK(!strcmp(err, "request: string path holds a NUL byte"));
	sub.n = 0;
	put_bytes(&sub, 1, "blk0\0", 5);
	put_bytes(&sub, 2, "/ok", 3);
	put_req(&w, 16, &sub);
	CHECK(parse_bytes(w.b, w.n, &r, err) == -EINVAL && strstr(err, "NUL"));
	sub.n = 0;
	put_uint(&sub, 1, 1);
	put_bytes(&sub, 3, "tcp::22-:22\0garbage", 19);
	put_req(&w, 17, &sub);
	CHECK(parse_bytes(w.b, w.n, &r, err) == -EINVAL && strstr(err, "string rule holds"));
	/* the same without the NUL passes: the check is the only difference */
	sub.n = 0;
	put_uint(&sub, 1, 1);
	put_bytes(&sub, 3, "tcp::22-:22", 11);
	put_req(&w, 17, &sub);
	CHECK(parse_bytes(w.b, w.n, &r, err) == 0 && r.fwd.host_port == 22);
	/* a NUL in a string that a later copy of the field replaced */
	sub.n = 0;
	put_bytes(&sub, 1, "a\0", 2);
	put_bytes(&sub, 1, "blk0", 4);
	put_bytes(&sub, 2, "/ok", 3);
	put_req(&w, 16, &sub);
	CHECK(parse_bytes(w.b, w.n, &r, err) == -EINVAL);
	/* NULs in an unknown field, or in a bytes-like place, are no string */
	sub.n = 0;
	put_bytes(&sub, 1, "blk0", 4);
	put_bytes(&sub, 2, "/ok", 3);
	put_bytes(&sub, 9, "\0\0", 2);
	put_req(&w, 16, &sub);
	CHECK(parse_bytes(w.b, w.n, &r, err) == 0);
	return 0;
}

/* What protobuf-c refuses: a known field with the wrong wire type, groups,
 * a length past the end, an over-long varint. */
static int t_bad_wire(void)
{
	static struct wire sub, w;
	static const uint8_t group[] = {0x08, 0x01, 0x93, 0x03, 0x94, 0x03};
	static const uint8_t longvar[] = {0x08, 0x81, 0x80, 0x80, 0x80, 0x80,
					  0x80, 0x80, 0x80, 0x80, 0x80, 0x00};
	struct mon_ctl_req r;
	char err[512];

	w.n = 0;
	put_bytes(&w, 1, "1", 1); /* version as a string */
	CHECK(parse_bytes(w.b, w.n, &r, err) == -EBADMSG);
	CHECK(parse_bytes(group, sizeof(group), &r, err) == -EBADMSG);
	CHECK(parse_bytes(longvar, sizeof(longvar), &r, err) == -EBADMSG);
	sub.n = 0;
	put_bytes(&sub, 1, "blk0", 4);
	put_req(&w, 16, &sub);
	w.b[4] = 100; /* the submessage's length, past the end */
	CHECK(parse_bytes(w.b, w.n, &r, err) == -EBADMSG);
	w.n = 0;
	put_uint(&w, 1, 1);
	put_uint(&w, 16, 0); /* the disk_swap message as a varint */
	CHECK(parse_bytes(w.b, w.n, &r, err) == -EBADMSG);
	return 0;
}

/* Small or absent error buffers are never overrun; a NULL output is
 * refused. */
static int t_err_buffer(void)
{
	static const uint8_t bad[] = {0xFF};
	static const uint8_t ok[] = {0x08, 0x01, 0x52, 0x00}; /* version 1, status */
	struct mon_ctl_req r;
	char err[8];

	memset(err, 'z', sizeof(err));
	CHECK(mon_ctl_parse(bad, 1, &r, err, 4) == -EBADMSG && err[3] == 0 && err[4] == 'z');
	CHECK(mon_ctl_parse(bad, 1, &r, NULL, 0) == -EBADMSG);
	memset(err, 'z', sizeof(err));
	CHECK(mon_ctl_parse(bad, 1, &r, err, 0) == -EBADMSG && err[0] == 'z');
	CHECK(mon_ctl_parse(ok, sizeof(ok), NULL, err, sizeof(err)) == -EINVAL);
	CHECK(mon_ctl_parse(ok, sizeof(ok), &r, NULL, 0) == 0 && r.op == MON_CTL_STATUS);
	memset(err, 'z', sizeof(err));
	CHECK(mon_ctl_parse(ok, sizeof(ok), &r, err, 1) == 0 && err[0] == 0 && err[1] == 'z');
	return 0;
}

TAP_MAIN(TEST(t_plain_ops), TEST(t_shutdown), TEST(t_disk_swap), TEST(t_disk_swap_bad),
	 TEST(t_disk_swap_long), TEST(t_hostfwd), TEST(t_hostfwd_bad), TEST(t_audit_tail),
	 TEST(t_device_restart), TEST(t_device_restart_bad), TEST(t_version), TEST(t_short_bytes),
	 TEST(t_truncated), TEST(t_oversize), TEST(t_unknown_fields), TEST(t_nul_in_strings),
	 TEST(t_bad_wire), TEST(t_err_buffer))
