/* moat-display: the display in its own sandboxed process. It holds the
 * bochs-display function's registers (BAR2, over the ring), a read-only
 * mapping of the video memory the guest draws into (BAR0, mapped into the
 * guest by moat-vcpu), the virtio-input keyboard and tablet (guest RAM for
 * their queues, their eventfds) at the next two slots
 * (ipc/display_layout.h), and the VNC server on the listening socket the
 * monitor bound; no files, no way to open a socket. What VNC clients type
 * and point reaches the guest through the keyboard and the tablet.
 *
 * Each frame (every DISPLAY_FRAME_MS while a client waits for an update),
 * the scanout the guest programmed is compared with a private shadow
 * (fb_shadow.h) and only the shadow is encoded. A mode change is a new
 * shadow size, which the VNC server turns into DesktopSize. While the
 * registers describe no valid picture (the driver between two modes), the
 * last picture stays. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "bochs.h"
#include "channel.h"
#include "display_layout.h"
#include "devproc.h"
#include "fb_shadow.h"
#include "ioring.h"
#include "log.h"
#include "pol.h"
#include "ps2_keymap.h"
#include "vdev_proc.h"
#include "vinput.h"
#include "vnc.h"

/* QEMU refreshes a VNC client every 30 ms by default: so do we. */
#define DISPLAY_FRAME_MS 30
/* Out of reset, before the guest sets a mode: the size clients are shown. */
#define DISPLAY_IDLE_W 640
#define DISPLAY_IDLE_H 480
/* A direct kernel boot's mode (vcpu/main.c writes the same into screen_info). */
#define DISPLAY_PRESET_W   1024
#define DISPLAY_PRESET_H   768
#define DISPLAY_PRESET_BPP 32

struct display {
	struct bochs regs;
	struct vdev_res res; /* guest RAM and the inputs' eventfds */
	struct vinput *input[DISPLAY_INPUTS];
	uint64_t input_gpa[DISPLAY_INPUTS]; /* their BAR0s' nominal windows */
	unsigned input_fds[DISPLAY_INPUTS]; /* their entries in the polled slice */
	uint64_t mmio_gpa;
	const uint8_t *vram;
	uint64_t vram_bytes;
	int listen_fd;
	int kbd_fd; /* scan codes to moat-vcpu's i8042 */
	uint64_t ps2_keys, ps2_dropped;
	struct vnc *vnc;
	struct fb_shadow shadow;
	uint8_t *dirty;
	int64_t next_frame_ms;
	uint64_t frames, mode_changes;
};

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A new size for the shadow and its dirty bitmap. */
static int display_resize(struct display *d, uint32_t w, uint32_t h)
{
	uint8_t *dirty = calloc(1, fb_dirty_bytes(w, h));
	int rc;

	if (!dirty)
		return -ENOMEM;
	rc = fb_shadow_resize(&d->shadow, w, h);
	if (rc < 0) {
		free(dirty);
		return rc;
	}
	free(d->dirty);
	d->dirty = dirty;
	return 0;
}

/* One frame: the scanout as the registers describe it now, compared into
 * the shadow, then handed to the clients. */
static void display_frame(struct display *d)
{
	struct bochs_scanout s;

	d->frames++;
	if (!bochs_get_scanout(&d->regs, &s))
		return; /* no picture now: the last one stays */
	if (s.width != d->shadow.width || s.height != d->shadow.height) {
		if (display_resize(d, s.width, s.height) < 0) {
			log_warn("no memory for a %ux%u picture", s.width, s.height);
			return;
		}
		d->mode_changes++;
		log_debug("mode %ux%u, %u bits per pixel", s.width, s.height, s.bpp);
	}
	memset(d->dirty, 0, fb_dirty_bytes(d->shadow.width, d->shadow.height));
	/* bochs_get_scanout checked that the picture lies inside video
	 * memory; the bound passed is the mapping's end all the same. */
	fb_shadow_update(&d->shadow, d->vram + s.offset, d->vram_bytes - s.offset, s.stride, s.bpp,
			 d->dirty);
	vnc_frame(d->vnc, &d->shadow, d->dirty);
}

/* What VNC clients type: to the virtio keyboard once the guest's driver
 * runs it, else to the i8042's keyboard in moat-vcpu (firmware, early
 * boot), never both, or Linux would see each key twice (as QEMU, which
 * sends to the keyboard the guest used last). A full channel (moat-vcpu
 * not reading) drops the key. */
static void display_key(void *opaque, unsigned keycode, bool down)
{
	struct display *d = opaque;
	uint8_t codes[8];
	size_t n;

	if (vdev_live(vinput_vdev(d->input[0]))) {
		vinput_key(d->input[0], keycode, down);
		return;
	}
	n = ps2_set2_encode(keycode, down, codes);
	if (n && d->kbd_fd >= 0 && send(d->kbd_fd, codes, n, MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
		d->ps2_dropped++;
	else if (n)
		d->ps2_keys++;
}

static void display_pointer(void *opaque, uint32_t x, uint32_t y, uint32_t w, uint32_t h,
			    uint8_t buttons)
{
	struct display *d = opaque;

	vinput_pointer(d->input[1], x, y, w, h, buttons);
}

static const struct vnc_ops display_vnc_ops = {
    .key = display_key,
    .pointer = display_pointer,
};

static int display_check(const Moat__Dev__StartRequest *req, char *err, size_t errlen)
{
	const Moat__Dev__DisplayConfig *c = req->display;

	if (req->config_case != MOAT__DEV__START_REQUEST__CONFIG_DISPLAY || !c || !req->virtio ||
	    req->virtio->bar0_gpa != c->mmio_gpa) {
		snprintf(err, errlen, "start: no display configuration");
		return -EPROTO;
	}
	if (c->vram_bytes < (1u << 20) || c->vram_bytes > (1ULL << 31) ||
	    (c->vram_bytes & (c->vram_bytes - 1)) || c->mmio_gpa % VPCI_WINDOW_SIZE) {
		snprintf(err, errlen, "start: bad display configuration");
		return -EPROTO;
	}
	return 0;
}

/* The keyboard and the tablet, each on its share of the transport's
 * resources (display_layout.h's order), at the slots after ours. */
static int display_inputs(struct display *d, const Moat__Dev__StartRequest *req,
			  struct ipc_fds *fds, char *err, size_t errlen)
{
	static const enum vinput_kind kinds[DISPLAY_INPUTS] = {VINPUT_KEYBOARD, VINPUT_TABLET};
	int rc = vdev_res_take(&d->res, req->virtio, DISPLAY_NQ, DISPLAY_NQ, fds, err, errlen);

	if (rc == 0 && d->res.nirq != DISPLAY_NVEC) {
		snprintf(err, errlen, "start: %u irq descriptors (want %u)", d->res.nirq,
			 DISPLAY_NVEC);
		rc = -EPROTO;
	}
	for (unsigned i = 0; rc == 0 && i < DISPLAY_INPUTS; i++) {
		d->input_gpa[i] = d->mmio_gpa + (1 + i) * VPCI_WINDOW_SIZE;
		struct vdev_params p = {
		    .mem = &d->res.mem,
		    .bar0_gpa = d->input_gpa[i],
		    .notify_fds = d->res.notify_fd + i * DISPLAY_INPUT_QUEUES,
		    .nqueues = DISPLAY_INPUT_QUEUES,
		    .irq_fds = d->res.irq_fd + i * DISPLAY_INPUT_VECTORS,
		    .nvectors = DISPLAY_INPUT_VECTORS,
		};
		rc = vinput_create(&d->input[i], kinds[i], &p, err, errlen);
	}
	return rc;
}

static int display_init(void **model, const Moat__Dev__StartRequest *req, struct ipc_fds *fds,
			char *err, size_t errlen)
{
	const Moat__Dev__DisplayConfig *c = req->display;
	struct display *d;
	int vram_fd, rc;

	if ((rc = display_check(req, err, errlen)) < 0)
		return rc;
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->mmio_gpa = c->mmio_gpa;
	d->vram_bytes = c->vram_bytes;
	vram_fd = ipc_fds_take(fds, c->fd_vram);
	d->listen_fd = ipc_fds_take(fds, c->fd_listen);
	d->kbd_fd = ipc_fds_take(fds, c->fd_keyboard);
	if (vram_fd < 0 || d->listen_fd < 0 || d->kbd_fd < 0) {
		snprintf(err, errlen, "start: descriptor indices do not match");
		rc = -EBADF;
		goto fail;
	}
	/* Read-only: the descriptor is too, so this mapping can never be
	 * made writable. */
	d->vram = mmap(NULL, d->vram_bytes, PROT_READ, MAP_SHARED, vram_fd, 0);
	if (d->vram == MAP_FAILED) {
		rc = -errno;
		d->vram = NULL;
		snprintf(err, errlen, "video memory: %s", strerror(-rc));
		goto fail;
	}
	bochs_init(&d->regs, d->vram_bytes, DISPLAY_PRESET_W, DISPLAY_PRESET_H);
	if (c->preset)
		bochs_preset(&d->regs, DISPLAY_PRESET_W, DISPLAY_PRESET_H, DISPLAY_PRESET_BPP);
	rc = c->preset ? display_resize(d, DISPLAY_PRESET_W, DISPLAY_PRESET_H)
		       : display_resize(d, DISPLAY_IDLE_W, DISPLAY_IDLE_H);
	if (rc == 0)
		rc = vnc_create(&d->vnc, d->listen_fd, "moat", &display_vnc_ops, d);
	if (rc < 0) {
		snprintf(err, errlen, "VNC server: %s", strerror(-rc));
		goto fail;
	}
	if ((rc = display_inputs(d, req, fds, err, errlen)) < 0)
		goto fail;
	log_debug("%llu MiB of video memory, VNC on %s", (unsigned long long)(d->vram_bytes >> 20),
		  c->address ? c->address : "?");
	close(vram_fd);
	*model = d;
	return 0;
fail:
	for (unsigned i = 0; i < DISPLAY_INPUTS; i++)
		vinput_destroy(d->input[i]);
	vdev_res_release(&d->res);
	vnc_destroy(d->vnc);
	if (vram_fd >= 0)
		close(vram_fd);
	if (d->vram)
		munmap((void *)d->vram, d->vram_bytes);
	if (d->listen_fd >= 0)
		close(d->listen_fd);
	if (d->kbd_fd >= 0)
		close(d->kbd_fd);
	fb_shadow_free(&d->shadow);
	free(d->dirty);
	free(d);
	return rc;
}

static bool inside(uint64_t addr, unsigned size, uint64_t base, uint64_t len)
{
	return addr >= base && addr - base < len && size <= len - (addr - base);
}

/* One access for one of our three functions: bochs-display's BAR2 and the
 * inputs' BAR0s by their nominal windows, the inputs' config spaces by
 * the function index moat-vcpu puts above the register (bochs-display's
 * config space is moat-vcpu's own). Anything else floats high. */
static void display_io(void *model, unsigned space, uint64_t addr, unsigned size, bool is_write,
		       uint64_t *data)
{
	struct display *d = model;

	if (space == IORING_SPACE_PCICFG) {
		unsigned fn = (unsigned)(addr >> DISPLAY_FN_SHIFT);
		if (fn >= 1 && fn <= DISPLAY_INPUTS)
			vdev_io(vinput_vdev(d->input[fn - 1]), space, addr & 0xff, size, is_write,
				data);
		return;
	}
	if (space != IORING_SPACE_MMIO)
		return;
	if (inside(addr, size, d->mmio_gpa, BOCHS_MMIO_SIZE)) {
		bochs_mmio(&d->regs, addr - d->mmio_gpa, size, is_write, data);
		return;
	}
	for (unsigned i = 0; i < DISPLAY_INPUTS; i++)
		if (inside(addr, size, d->input_gpa[i], VPCI_BAR0_SIZE))
			vdev_io(vinput_vdev(d->input[i]), space, addr, size, is_write, data);
}

/* The inputs' kick eventfds first, then the VNC server's sockets. */
static int display_fds(void *model, struct pollfd *out, unsigned max, int *timeout_ms)
{
	struct display *d = model;
	unsigned n = 0;

	for (unsigned i = 0; i < DISPLAY_INPUTS; i++) {
		d->input_fds[i] = vdev_fds(vinput_vdev(d->input[i]), out + n, max - n);
		n += d->input_fds[i];
	}
	n += vnc_fds(d->vnc, out + n, max - n);

	if (vnc_wants_frame(d->vnc)) {
		int64_t left = d->next_frame_ms - now_ms();
		int t = left < 0 ? 0 : left > DISPLAY_FRAME_MS ? DISPLAY_FRAME_MS : (int)left;
		if (*timeout_ms < 0 || *timeout_ms > t)
			*timeout_ms = t;
	}
	return (int)n;
}

/* Take a frame if one is due (DISPLAY_FRAME_MS since the last). */
static void frame_if_due(struct display *d)
{
	int64_t now = now_ms();

	if (now < d->next_frame_ms)
		return;
	d->next_frame_ms = now + DISPLAY_FRAME_MS;
	display_frame(d);
}

/* The inputs' kicks, then the VNC clients. A client's input may be a
 * request answered at once from the shadow (a whole picture), and the
 * shadow is as old as the last frame, which is long ago when nobody was
 * watching: so a due frame is taken first. */
static void display_polled(void *model, struct pollfd *p, unsigned n)
{
	struct display *d = model;
	unsigned at = 0;
	bool clients = false;

	for (unsigned i = 0; i < DISPLAY_INPUTS && at <= n; i++) {
		unsigned k = d->input_fds[i] < n - at ? d->input_fds[i] : n - at;
		vdev_polled(vinput_vdev(d->input[i]), p + at, k);
		at += k;
	}
	for (unsigned i = at; i < n; i++)
		clients |= p[i].revents != 0;
	if (clients)
		frame_if_due(d);
	vnc_polled(d->vnc, p + at, n - at, &d->shadow);
	if (vnc_wants_frame(d->vnc))
		frame_if_due(d);
}

static unsigned display_counters(void *model, struct dev_counter *out)
{
	struct display *d = model;
	struct vnc_counters c;
	unsigned n = 0;

	vnc_get_counters(d->vnc, &c);
	out[n++] = (struct dev_counter){"clients", c.clients};
	out[n++] = (struct dev_counter){"clients_now", c.connected};
	out[n++] = (struct dev_counter){"updates", c.updates};
	out[n++] = (struct dev_counter){"bytes", c.bytes};
	out[n++] = (struct dev_counter){"malformed", c.malformed};
	out[n++] = (struct dev_counter){"dropped_slow", c.dropped};
	out[n++] = (struct dev_counter){"refused", c.refused};
	out[n++] = (struct dev_counter){"frames", d->frames};
	out[n++] = (struct dev_counter){"mode_changes", d->mode_changes};
	out[n++] = (struct dev_counter){"register_writes", d->regs.writes};
	out[n++] = (struct dev_counter){"ps2_keys", d->ps2_keys};
	out[n++] = (struct dev_counter){"ps2_dropped", d->ps2_dropped};
	for (unsigned i = 0; i < DISPLAY_INPUTS; i++) {
		struct vinput_stats st;
		vinput_get_stats(d->input[i], &st);
		out[n++] = (struct dev_counter){i ? "tablet_events" : "key_events", st.events};
		out[n++] = (struct dev_counter){i ? "tablet_dropped" : "key_dropped", st.dropped};
	}
	return n;
}

static void display_destroy(void *model)
{
	struct display *d = model;

	if (!d)
		return;
	vnc_destroy(d->vnc);
	for (unsigned i = 0; i < DISPLAY_INPUTS; i++)
		vinput_destroy(d->input[i]);
	vdev_res_release(&d->res);
	close(d->listen_fd);
	close(d->kbd_fd);
	munmap((void *)d->vram, d->vram_bytes);
	fb_shadow_free(&d->shadow);
	free(d->dirty);
	free(d);
}

/* One thread. Descriptors of its own: one per VNC client (accept4), and
 * the runtime's few. No RLIMIT_AS: the video memory it maps may be as
 * large as 256 MiB (struct pol_limits says why such processes go without);
 * the VM's cgroup bounds its memory. */
static int display_sandbox(const Moat__Dev__StartRequest *req, const char **policy,
			   struct pol_options *o, char *err, size_t errlen)
{
	static const struct pol_limits lim = {
	    .nofile_extra = DEV_NOFILE_EXTRA + VNC_MAX_CLIENTS + 1,
	    .nproc = 1,
	};

	o->limits = &lim;
	return 0;
}

static const struct dev_kind display_kind = {
    .kind = "display",
    .sandbox = display_sandbox,
    .init_fds = display_init,
    .io = display_io,
    .destroy = display_destroy,
    .fds = display_fds,
    .polled = display_polled,
    .counters = display_counters,
};

int main(void)
{
	return dev_main(&display_kind);
}
