/* drm-pattern: put a known picture on the screen from inside the test
 * guest, the way a compositor does (KMS with a dumb buffer), for the
 * display tests: four quadrants, top-left red 0xFF0000, top-right green
 * 0x00FF00, bottom-left blue 0x0000FF, bottom-right white 0xFFFFFF.
 *
 *   drm-pattern [--card PATH] [--mode WxH] [--hold SECONDS]
 *
 * Opens the card (default /dev/dri/card0), takes the first connected
 * connector, its encoder's CRTC (or the first CRTC the encoder can drive),
 * the connector's preferred mode (or the first one listed; --mode picks
 * WxH from the list and fails, listing what there is, when it is absent),
 * creates a dumb buffer, adds it as a 32 bpp depth 24 framebuffer, maps it,
 * draws, sets the CRTC and prints one line on stdout:
 *
 *   drm-pattern: WxH on connector N
 *
 * Then it stays alive (forever, or --hold SECONDS), as closing the card
 * would let the kernel take the CRTC back. Exits 1 with one line on stderr
 * when a step fails, 2 on bad usage.
 *
 * Raw ioctls on the kernel's uapi headers (as libdrm-dev ships them: Debian's
 * linux-libc-dev has no drm/); the library is not linked. Built static, as
 * the initramfs has no C library; see tests/guest/meson.build. */
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
#include <unistd.h>

#define MAX_OBJS  64
#define MAX_MODES 256

static const char *prog = "drm-pattern";

struct output {
	uint32_t connector;
	uint32_t crtc;
	struct drm_mode_modeinfo mode;
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

/* The card's connectors and CRTCs (up to MAX_OBJS of each). */
static int get_resources(int fd, uint32_t *conns, uint32_t *nconns, uint32_t *crtcs,
			 uint32_t *ncrtcs)
{
	struct drm_mode_card_res res = {0};

	if (xioctl(fd, DRM_IOCTL_MODE_GETRESOURCES, &res) < 0)
		return -1;
	if (res.count_connectors > MAX_OBJS || res.count_crtcs > MAX_OBJS) {
		errno = E2BIG;
		return -1;
	}
	res.count_fbs = res.count_encoders = 0;
	res.connector_id_ptr = (uintptr_t)conns;
	res.crtc_id_ptr = (uintptr_t)crtcs;
	if (xioctl(fd, DRM_IOCTL_MODE_GETRESOURCES, &res) < 0)
		return -1;
	*nconns = res.count_connectors < MAX_OBJS ? res.count_connectors : MAX_OBJS;
	*ncrtcs = res.count_crtcs < MAX_OBJS ? res.count_crtcs : MAX_OBJS;
	return 0;
}

/* One connector with its modes and encoders. The first call (no arrays)
 * probes the outputs and gives the counts; they may change before the
 * second, which then reports larger counts: ask again. */
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

/* The mode of WxH from the list (want_w 0: the preferred one, else the
 * first); NULL when none fits. */
static const struct drm_mode_modeinfo *pick_mode(const struct drm_mode_modeinfo *modes, uint32_t n,
						 unsigned want_w, unsigned want_h)
{
	if (n == 0)
		return NULL;
	for (uint32_t i = 0; i < n; i++) {
		if (want_w && modes[i].hdisplay == want_w && modes[i].vdisplay == want_h)
			return &modes[i];
		if (!want_w && (modes[i].type & DRM_MODE_TYPE_PREFERRED))
			return &modes[i];
	}
	return want_w ? NULL : &modes[0];
}

/* The CRTC for an encoder: the one it drives now, else the first of the
 * card's CRTCs it can drive (possible_crtcs is a mask over that list). */
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

/* Finds the first connected connector with a usable mode and CRTC.
 * Returns 0, or 1 after saying why on stderr. */
static int find_output(int fd, unsigned want_w, unsigned want_h, struct output *out)
{
	static struct drm_mode_modeinfo modes[MAX_MODES];
	uint32_t conns[MAX_OBJS], crtcs[MAX_OBJS], encoders[MAX_OBJS];
	uint32_t nconns, ncrtcs;
	int connected = 0;

	if (get_resources(fd, conns, &nconns, crtcs, &ncrtcs) < 0)
		return die("DRM_IOCTL_MODE_GETRESOURCES");
	for (uint32_t i = 0; i < nconns; i++) {
		struct drm_mode_get_connector c;
		const struct drm_mode_modeinfo *m;
		uint32_t enc;

		if (get_connector(fd, conns[i], &c, modes, encoders) < 0)
			return die("DRM_IOCTL_MODE_GETCONNECTOR");
		if (c.connection != 1) /* 1 connected, 2 disconnected, 3 unknown */
			continue;
		connected = 1;
		m = pick_mode(modes, c.count_modes, want_w, want_h);
		if (!m) {
			fprintf(stderr, "%s: connector %u has no mode %ux%u; it has:", prog,
				conns[i], want_w, want_h);
			for (uint32_t k = 0; k < c.count_modes; k++)
				fprintf(stderr, " %ux%u", modes[k].hdisplay, modes[k].vdisplay);
			fprintf(stderr, "%s\n", c.count_modes ? "" : " none");
			return 1;
		}
		enc = c.encoder_id ? c.encoder_id : (c.count_encoders ? encoders[0] : 0);
		out->crtc = enc ? pick_crtc(fd, enc, crtcs, ncrtcs) : 0;
		if (!out->crtc) {
			fprintf(stderr, "%s: connector %u: no encoder with a CRTC\n", prog,
				conns[i]);
			return 1;
		}
		out->connector = conns[i];
		out->mode = *m;
		return 0;
	}
	fprintf(stderr, "%s: %s\n", prog,
		connected ? "no usable connector" : "no connected connector");
	return 1;
}

/* The four quadrants into a mapped XRGB8888 buffer. */
static void draw(uint8_t *px, uint32_t w, uint32_t h, uint32_t pitch)
{
	for (uint32_t y = 0; y < h; y++) {
		uint32_t *row = (uint32_t *)(px + (size_t)y * pitch);

		for (uint32_t x = 0; x < w; x++) {
			if (y < h / 2)
				row[x] = x < w / 2 ? 0xFF0000 : 0x00FF00;
			else
				row[x] = x < w / 2 ? 0x0000FF : 0xFFFFFF;
		}
	}
}

/* Dumb buffer, framebuffer, picture, CRTC. Returns 0 or 1 (said why). */
static int show(int fd, const struct output *o)
{
	struct drm_mode_create_dumb cd = {
	    .width = o->mode.hdisplay, .height = o->mode.vdisplay, .bpp = 32};
	struct drm_mode_fb_cmd fb = {0};
	struct drm_mode_map_dumb md = {0};
	struct drm_mode_crtc crtc = {0};
	struct drm_mode_fb_dirty_cmd dirty = {0};
	uint32_t conn = o->connector;
	uint8_t *px;

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
	px = mmap(NULL, cd.size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, (off_t)md.offset);
	if (px == MAP_FAILED)
		return die("mmap of the dumb buffer");
	draw(px, cd.width, cd.height, cd.pitch);

	crtc.crtc_id = o->crtc;
	crtc.fb_id = fb.fb_id;
	crtc.set_connectors_ptr = (uintptr_t)&conn;
	crtc.count_connectors = 1;
	crtc.mode = o->mode;
	crtc.mode_valid = 1;
	if (xioctl(fd, DRM_IOCTL_MODE_SETCRTC, &crtc) < 0)
		return die("DRM_IOCTL_MODE_SETCRTC");
	/* Scanning out may have moved the buffer (into video memory, for
	 * bochs' VRAM helper): draw again through the mapping, which now
	 * reaches it there, and say so for drivers that need a flush. */
	draw(px, cd.width, cd.height, cd.pitch);
	dirty.fb_id = fb.fb_id;
	(void)xioctl(fd, DRM_IOCTL_MODE_DIRTYFB, &dirty); /* ENOSYS: not needed */
	return 0;
}

static int usage(void)
{
	fprintf(stderr, "usage: %s [--card PATH] [--mode WxH] [--hold SECONDS]\n", prog);
	return 2;
}

int main(int argc, char **argv)
{
	const char *card = "/dev/dri/card0";
	unsigned want_w = 0, want_h = 0;
	long hold = -1;
	struct output o = {0};
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
		} else if (!strcmp(argv[i], "--hold")) {
			if (sscanf(argv[++i], "%ld%c", &hold, &end) != 1 || hold < 0)
				return usage();
		} else {
			return usage();
		}
	}

	fd = open(card, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return die(card);
	if (find_output(fd, want_w, want_h, &o) || show(fd, &o))
		return 1;
	printf("%s: %ux%u on connector %u\n", prog, o.mode.hdisplay, o.mode.vdisplay, o.connector);
	fflush(stdout);

	if (hold >= 0) {
		sleep((unsigned)hold);
		return 0;
	}
	for (;;)
		pause();
}
