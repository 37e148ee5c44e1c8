/* display-draw: the guest side of bench/display. It puts a dumb buffer on
 * the screen the way a compositor does (KMS: dumb buffer, ADDFB, SETCRTC on
 * the first connected connector, as tests/guest/drm-pattern does) and then
 * redraws the whole screen, frame after frame, with a picture that changes
 * every pixel each frame: pixel (x, y) of frame f is
 * (x + 1024 y + 0x050301 f) mod 2^24, a gradient whose every tile differs
 * from the frame before.
 *
 *   display-draw [--card PATH] [--mode WxH] [--fps N]
 *
 * --mode: default 1024x768 (fails, listing the connector's modes, when it
 * is absent). --fps N: at most N frames a second, each frame started at
 * its slot on CLOCK_MONOTONIC (a late frame does not make the next ones
 * hurry); 0: as fast as it can. Default 60.
 *
 * Prints on stdout "display-draw: WxH on connector N, fps target T" once
 * the picture is up, then once a second
 *
 *   display-draw: frames TOTAL fps F busy B
 *
 * F: frames drawn in that second (per second of wall time), B: the share
 * of that second spent drawing (0..1), the guest CPU time a frame costs
 * times F. Runs until killed. Exits 1 with one line on stderr when a step
 * fails, 2 on bad usage.
 *
 * Raw ioctls on the kernel's uapi DRM headers from libdrm-dev (the library
 * is not linked); built static by bench/display for the initramfs. */
#include <errno.h>
#include <fcntl.h>
#include <libdrm/drm.h>
#include <libdrm/drm_mode.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define MAX_OBJS  64
#define MAX_MODES 256

static const char *prog = "display-draw";

struct screen {
	uint32_t connector, crtc, fb_id;
	struct drm_mode_modeinfo mode;
	uint32_t *px; /* the mapped dumb buffer */
	uint32_t width, height, pitch;
};

static int xioctl(int fd, unsigned long req, void *arg)
{
	int r;

	do
		r = ioctl(fd, req, arg);
	while (r < 0 && (errno == EINTR || errno == EAGAIN));
	return r;
}

static int die(const char *what)
{
	fprintf(stderr, "%s: %s: %s\n", prog, what, strerror(errno));
	return 1;
}

/* One connector's modes and its current (or first) encoder; the counts
 * may grow between the sizing call and the filling one: ask again. */
static int get_connector(int fd, uint32_t id, struct drm_mode_get_connector *c,
			 struct drm_mode_modeinfo *modes, uint32_t *encoders)
{
	for (int tries = 0; tries < 5; tries++) {
		uint32_t nmodes, nenc;

		memset(c, 0, sizeof(*c));
		c->connector_id = id;
		if (xioctl(fd, DRM_IOCTL_MODE_GETCONNECTOR, c) < 0)
			return -1;
		nmodes = c->count_modes;
		nenc = c->count_encoders;
		if (nmodes > MAX_MODES || nenc > MAX_OBJS) {
			errno = E2BIG;
			return -1;
		}
		c->count_props = 0;
		c->modes_ptr = (uintptr_t)modes;
		c->encoders_ptr = (uintptr_t)encoders;
		if (xioctl(fd, DRM_IOCTL_MODE_GETCONNECTOR, c) < 0)
			return -1;
		if (c->count_modes <= nmodes && c->count_encoders <= nenc)
			return 0;
	}
	errno = EAGAIN;
	return -1;
}

/* The CRTC the encoder drives now, else the first of the card's CRTCs it
 * can drive; 0 when none. */
static uint32_t pick_crtc(int fd, uint32_t encoder, const uint32_t *crtcs, uint32_t ncrtcs)
{
	struct drm_mode_get_encoder e = {.encoder_id = encoder};

	if (xioctl(fd, DRM_IOCTL_MODE_GETENCODER, &e) < 0)
		return 0;
	if (e.crtc_id)
		return e.crtc_id;
	for (uint32_t i = 0; i < ncrtcs && i < 32; i++)
		if (e.possible_crtcs & (1u << i))
			return crtcs[i];
	return 0;
}

/* The first connected connector, its mode of want_w x want_h and a CRTC
 * into s. Returns 0, or 1 after saying why on stderr. */
static int find_output(int fd, unsigned want_w, unsigned want_h, struct screen *s)
{
	static struct drm_mode_modeinfo modes[MAX_MODES];
	uint32_t conns[MAX_OBJS], crtcs[MAX_OBJS], encoders[MAX_OBJS];
	struct drm_mode_card_res res = {0};

	if (xioctl(fd, DRM_IOCTL_MODE_GETRESOURCES, &res) < 0)
		return die("DRM_IOCTL_MODE_GETRESOURCES");
	if (res.count_connectors > MAX_OBJS || res.count_crtcs > MAX_OBJS) {
		errno = E2BIG;
		return die("DRM_IOCTL_MODE_GETRESOURCES");
	}
	res.count_fbs = res.count_encoders = 0;
	res.connector_id_ptr = (uintptr_t)conns;
	res.crtc_id_ptr = (uintptr_t)crtcs;
	if (xioctl(fd, DRM_IOCTL_MODE_GETRESOURCES, &res) < 0)
		return die("DRM_IOCTL_MODE_GETRESOURCES");
	for (uint32_t i = 0; i < res.count_connectors; i++) {
		struct drm_mode_get_connector c;
		uint32_t enc;
		int found = -1;

		if (get_connector(fd, conns[i], &c, modes, encoders) < 0)
			return die("DRM_IOCTL_MODE_GETCONNECTOR");
		if (c.connection != 1) /* 1 connected, 2 disconnected, 3 unknown */
			continue;
		for (uint32_t k = 0; k < c.count_modes && found < 0; k++)
			if (modes[k].hdisplay == want_w && modes[k].vdisplay == want_h)
				found = (int)k;
		if (found < 0) {
			fprintf(stderr, "%s: connector %u has no mode %ux%u; it has:", prog,
				conns[i], want_w, want_h);
			for (uint32_t k = 0; k < c.count_modes; k++)
				fprintf(stderr, " %ux%u", modes[k].hdisplay, modes[k].vdisplay);
			fprintf(stderr, "\n");
			return 1;
		}
		enc = c.encoder_id ? c.encoder_id : (c.count_encoders ? encoders[0] : 0);
		s->crtc = enc ? pick_crtc(fd, enc, crtcs, res.count_crtcs) : 0;
		if (!s->crtc) {
			fprintf(stderr, "%s: connector %u: no encoder with a CRTC\n", prog,
				conns[i]);
			return 1;
		}
		s->connector = conns[i];
		s->mode = modes[found];
		return 0;
	}
	fprintf(stderr, "%s: no connected connector\n", prog);
	return 1;
}

/* Frame f into the buffer: every pixel differs from frame f - 1's. */
static void draw(const struct screen *s, uint32_t f)
{
	uint32_t base = f * 0x050301u;

	for (uint32_t y = 0; y < s->height; y++) {
		uint32_t *row = (uint32_t *)((uint8_t *)s->px + (size_t)y * s->pitch);
		uint32_t v = base + y * 1024u;

		for (uint32_t x = 0; x < s->width; x++)
			row[x] = (v + x) & 0xFFFFFF;
	}
}

/* Dumb buffer, framebuffer, mapping, CRTC. Returns 0 or 1 (said why). */
static int show(int fd, struct screen *s)
{
	struct drm_mode_create_dumb cd = {
	    .width = s->mode.hdisplay, .height = s->mode.vdisplay, .bpp = 32};
	struct drm_mode_fb_cmd fb = {0};
	struct drm_mode_map_dumb md = {0};
	struct drm_mode_crtc crtc = {0};
	uint32_t conn = s->connector;
	void *p;

	if (xioctl(fd, DRM_IOCTL_MODE_CREATE_DUMB, &cd) < 0)
		return die("DRM_IOCTL_MODE_CREATE_DUMB");
	fb.width = cd.width;
	fb.height = cd.height;
	fb.pitch = cd.pitch;
	fb.bpp = 32;
	fb.depth = 24;
	fb.handle = cd.handle;
	if (xioctl(fd, DRM_IOCTL_MODE_ADDFB, &fb) < 0)
		return die("DRM_IOCTL_MODE_ADDFB");
	md.handle = cd.handle;
	if (xioctl(fd, DRM_IOCTL_MODE_MAP_DUMB, &md) < 0)
		return die("DRM_IOCTL_MODE_MAP_DUMB");
	p = mmap(NULL, cd.size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, (off_t)md.offset);
	if (p == MAP_FAILED)
		return die("mmap of the dumb buffer");
	s->px = p;
	s->width = cd.width;
	s->height = cd.height;
	s->pitch = cd.pitch;
	s->fb_id = fb.fb_id;

	/* Drawing starts after SETCRTC: scanning out pins the buffer in
	 * video memory (bochs' VRAM helper), where the mapping reaches it
	 * from then on. No DIRTYFB a frame: bochs-drm has no dirty hook
	 * (the card scans out video memory as it is). */
	crtc.crtc_id = s->crtc;
	crtc.fb_id = fb.fb_id;
	crtc.set_connectors_ptr = (uintptr_t)&conn;
	crtc.count_connectors = 1;
	crtc.mode = s->mode;
	crtc.mode_valid = 1;
	if (xioctl(fd, DRM_IOCTL_MODE_SETCRTC, &crtc) < 0)
		return die("DRM_IOCTL_MODE_SETCRTC");
	return 0;
}

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void sleep_until(int64_t t)
{
	struct timespec ts = {.tv_sec = t / 1000000000, .tv_nsec = t % 1000000000};

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

/* Frames until killed, at most fps a second (0: no limit), and a report
 * line each second. */
static void run(const struct screen *s, unsigned fps)
{
	const int64_t period = fps ? 1000000000 / fps : 0;
	int64_t slot = now_ns(), report = slot + 1000000000, busy = 0;
	uint32_t f = 0, at_report = 0;

	for (;;) {
		int64_t t0, t1;

		if (period) {
			sleep_until(slot);
			slot += period;
		}
		t0 = now_ns();
		draw(s, ++f);
		t1 = now_ns();
		busy += t1 - t0;
		if (period && slot < t1)
			slot = t1; /* late: the next frame now, no catching up */
		if (t1 >= report) {
			double secs = (double)(t1 - report + 1000000000) / 1e9;

			printf("%s: frames %u fps %.1f busy %.3f\n", prog, f,
			       (f - at_report) / secs, (double)busy / 1e9 / secs);
			fflush(stdout);
			at_report = f;
			busy = 0;
			report = t1 + 1000000000;
		}
	}
}

static int usage(void)
{
	fprintf(stderr, "usage: %s [--card PATH] [--mode WxH] [--fps N]\n", prog);
	return 2;
}

int main(int argc, char **argv)
{
	const char *card = "/dev/dri/card0";
	unsigned want_w = 1024, want_h = 768, fps = 60;
	struct screen s = {0};
	int fd;

	for (int i = 1; i < argc; i++) {
		char end;

		if (i + 1 >= argc)
			return usage();
		if (!strcmp(argv[i], "--card")) {
			card = argv[++i];
		} else if (!strcmp(argv[i], "--mode")) {
			if (sscanf(argv[++i], "%ux%u%c", &want_w, &want_h, &end) != 2 || !want_w ||
			    !want_h)
				return usage();
		} else if (!strcmp(argv[i], "--fps")) {
			if (sscanf(argv[++i], "%u%c", &fps, &end) != 1 || fps > 1000)
				return usage();
		} else {
			return usage();
		}
	}

	fd = open(card, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return die(card);
	if (find_output(fd, want_w, want_h, &s) || show(fd, &s))
		return 1;
	printf("%s: %ux%u on connector %u, fps target %u\n", prog, s.width, s.height, s.connector,
	       fps);
	fflush(stdout);
	run(&s, fps);
	return 0;
}
