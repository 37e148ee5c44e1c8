#include "kinds.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "moat_limits.h"

/* ---- smc: the Apple SMC (moat-smc), on its ports ---- */

static unsigned smc_count(const struct mon_config *cfg)
{
	return cfg->smc ? 1 : 0;
}

static void smc_bind(struct mon_device *d, const struct mon_config *cfg, unsigned i)
{
	mon_proc_init(&d->proc, "smc0", "smc", "smc");
}

/* The OSK travels here and nowhere else. */
static int smc_build(const struct mon_device *d, const struct mon_config *cfg,
		     const struct mon_resources *r, Moat__Dev__StartRequest *s,
		     struct mon_dev_start *b, int *fds, unsigned *n)
{
	moat__dev__smc_config__init(&b->smc);
	b->smc.osk.data = (uint8_t *)cfg->smc_osk;
	b->smc.osk.len = sizeof(cfg->smc_osk);
	s->config_case = MOAT__DEV__START_REQUEST__CONFIG_SMC;
	s->smc = &b->smc;
	return 0;
}

/* ---- blk: a virtio-blk disk (moat-blk) ---- */

static unsigned blk_count(const struct mon_config *cfg)
{
	return cfg->ndisks;
}

/* --disk queues=, else one per vCPU (as QEMU's virtio-blk-pci defaults
 * to): each vCPU then submits on a queue of its own, and its completions'
 * interrupt comes back to it (Linux spreads the queues' vectors over the
 * CPUs). */
static unsigned blk_queues(const struct mon_config *cfg, unsigned i)
{
	unsigned q = cfg->disks[i].queues ? cfg->disks[i].queues : cfg->cpus;

	return q < MOAT_BLK_MAX_QUEUES ? q : MOAT_BLK_MAX_QUEUES;
}

static void blk_bind(struct mon_device *d, const struct mon_config *cfg, unsigned i)
{
	mon_proc_init(&d->proc, cfg->disks[i].id, "blk", "blk");
}

static Moat__Dev__BlkFormat blk_format(enum mon_disk_format f)
{
	return f == MON_FORMAT_QCOW2  ? MOAT__DEV__BLK_FORMAT__BLK_FORMAT_QCOW2
	       : f == MON_FORMAT_VMDK ? MOAT__DEV__BLK_FORMAT__BLK_FORMAT_VMDK
				      : MOAT__DEV__BLK_FORMAT__BLK_FORMAT_RAW;
}

/* The image was opened and locked by the monitor (resources.c), and its
 * backing chain too. */
static int blk_build(const struct mon_device *d, const struct mon_config *cfg,
		     const struct mon_resources *r, Moat__Dev__StartRequest *s,
		     struct mon_dev_start *b, int *fds, unsigned *n)
{
	const struct mon_disk *disk = &cfg->disks[d->index];

	moat__dev__blk_config__init(&b->blk);
	b->blk.fd_image = *n, fds[(*n)++] = r->disk_fd[d->index];
	b->blk.read_only = disk->ro;
	b->blk.serial = (char *)disk->serial;
	b->blk.cache_none = disk->cache_none;
	/* as given, or as moat-blk's probe found (resources.c) */
	b->blk.format = blk_format(r->disk_format[d->index]);
	b->blk.probed_raw = r->disk_probed_raw[d->index];
	for (unsigned k = 0; k < r->nbacking[d->index]; k++) {
		moat__dev__blk_backing__init(&b->backing[k]);
		b->backing[k].fd_image = *n, fds[(*n)++] = r->backing_fd[d->index][k];
		b->backing[k].format = blk_format(r->backing_format[d->index][k]);
		b->backingp[k] = &b->backing[k];
	}
	b->blk.n_backing = r->nbacking[d->index];
	b->blk.backing = b->backingp;
	for (unsigned k = 0; k < r->nextents[d->index]; k++)
		b->extent_idx[k] = *n, fds[(*n)++] = r->extent_fd[d->index][k];
	b->blk.n_fd_extent = r->nextents[d->index];
	b->blk.fd_extent = b->extent_idx;
	b->blk.aio = disk->aio == MON_AIO_THREADS    ? MOAT__DEV__BLK_AIO__BLK_AIO_THREADS
		     : disk->aio == MON_AIO_IO_URING ? MOAT__DEV__BLK_AIO__BLK_AIO_IO_URING
						     : MOAT__DEV__BLK_AIO__BLK_AIO_DEFAULT;
	s->config_case = MOAT__DEV__START_REQUEST__CONFIG_BLK;
	s->blk = &b->blk;
	return 0;
}

/* ---- net: a virtio-net card (moat-net) on slirp or a tap ---- */

static unsigned net_count(const struct mon_config *cfg)
{
	return cfg->nnets;
}

/* slirp makes host sockets for the guest: only it keeps the host's network
 * namespace (a tap is a descriptor, and needs none). */
static void net_bind(struct mon_device *d, const struct mon_config *cfg, unsigned i)
{
	bool user = cfg->nets[i].kind == NETOPT_USER;

	mon_proc_init(&d->proc, cfg->nets[i].id, "net", user ? "net-user" : "net-tap");
	d->proc.host_net = user;
}

/* The forwards are those in force: --net's, or, once moat ctl hostfwd has
 * changed them, the monitor's list (a restarted moat-net sets up what the
 * user last asked for, not what the card started with). A start request
 * carries at most NETOPT_MAX_FWD: -E2BIG beyond (a restart is then
 * refused with that reason). */
static int net_user(const struct mon_device *d, const struct netopt *o,
		    const struct mon_resources *r, struct mon_dev_start *b)
{
	const struct netopt_fwd *fwd = d->fwd ? d->fwd : o->fwd;
	unsigned nfwd = d->fwd ? d->nfwd : o->nfwd;

	if (nfwd > NETOPT_MAX_FWD)
		return -E2BIG;
	moat__dev__net_user__init(&b->user);
	b->user.restricted = o->restricted;
	b->user.hostloop = o->hostloop;
	b->user.dns_upstream = r->dns_upstream;
	for (unsigned i = 0; i < nfwd; i++) {
		moat__dev__net_forward__init(&b->fwd[i]);
		b->fwd[i].udp = fwd[i].proto == NETOPT_UDP;
		b->fwd[i].host_addr = fwd[i].host_addr;
		b->fwd[i].host_port = fwd[i].host_port;
		b->fwd[i].guest_addr = fwd[i].guest_addr;
		b->fwd[i].guest_port = fwd[i].guest_port;
		b->fwdp[i] = &b->fwd[i];
	}
	b->user.n_fwd = nfwd;
	b->user.fwd = b->fwdp;
	b->net.backend_case = MOAT__DEV__NET_CONFIG__BACKEND_USER;
	b->net.user = &b->user;
	return 0;
}

static int net_build(const struct mon_device *d, const struct mon_config *cfg,
		     const struct mon_resources *r, Moat__Dev__StartRequest *s,
		     struct mon_dev_start *b, int *fds, unsigned *n)
{
	const struct netopt *o = &cfg->nets[d->index];

	moat__dev__net_config__init(&b->net);
	memcpy(b->mac, o->mac, sizeof(b->mac));
	b->net.mac.data = b->mac;
	b->net.mac.len = sizeof(b->mac);
	if (o->kind == NETOPT_TAP) {
		moat__dev__net_tap__init(&b->tap);
		b->tap.fd_tap = *n, fds[(*n)++] = r->tap_fd[d->index];
		b->tap.ifname = (char *)o->ifname;
		b->net.backend_case = MOAT__DEV__NET_CONFIG__BACKEND_TAP;
		b->net.tap = &b->tap;
	} else if (net_user(d, o, r, b) < 0) {
		return -E2BIG;
	}
	s->config_case = MOAT__DEV__START_REQUEST__CONFIG_NET;
	s->net = &b->net;
	return 0;
}

/* ---- display: bochs-display and the VNC server (moat-display) ---- */

static unsigned display_count(const struct mon_config *cfg)
{
	return cfg->vnc ? 1 : 0;
}

static void display_bind(struct mon_device *d, const struct mon_config *cfg, unsigned i)
{
	mon_proc_init(&d->proc, "display0", "display", "display");
}

/* The video memory read-only and the listening socket (display_res.c);
 * its registers at its slot's window, as virtio devices' BAR0; its input
 * functions' part (guest RAM, eventfds) is the virtio part every virtio
 * device gets (ipc/display_layout.h says how it is split). */
static int display_build(const struct mon_device *d, const struct mon_config *cfg,
			 const struct mon_resources *r, Moat__Dev__StartRequest *s,
			 struct mon_dev_start *b, int *fds, unsigned *n)
{
	moat__dev__display_config__init(&b->display);
	b->display.fd_vram = *n, fds[(*n)++] = r->display.vram_ro_fd;
	b->display.vram_bytes = cfg->vnc_opt.vram;
	b->display.fd_listen = *n, fds[(*n)++] = r->display.listen_fd;
	b->display.fd_keyboard = *n, fds[(*n)++] = r->display.kbd_display_fd;
	b->display.mmio_gpa = d->bar0;
	b->display.preset = !cfg->firmware;
	b->display.address = (char *)r->display.address;
	s->config_case = MOAT__DEV__START_REQUEST__CONFIG_DISPLAY;
	s->display = &b->display;
	return 0;
}

/* In this order: the SMC, then PCI slots from VPCI_FIRST_SLOT to disks, then cards,
 * then the display.
 * One row a kind (clang-format would spread each over seven lines). */
/* clang-format off */
const struct mon_kind mon_kinds[] = {
	{"smc", MOAT_MAX_SMC, MOAT_SMC_PIO_BASE, MOAT_SMC_PIO_LEN, 0, 0, smc_count, smc_bind, smc_build, 0, NULL, true},
	{"blk", MOAT_MAX_DISKS, 0, 0, 0, 0, blk_count, blk_bind, blk_build, 1, blk_queues, true},
	{"net", MOAT_MAX_NETS, 0, 0, MOAT_NET_QUEUES, MOAT_NET_VECTORS, net_count, net_bind, net_build, 1, NULL, true},
	{"display", MOAT_MAX_DISPLAY, 0, 0, DISPLAY_NQ, DISPLAY_NVEC, display_count, display_bind, display_build, DISPLAY_FUNCTIONS, NULL, false},
};
/* clang-format on */
const unsigned mon_nkinds = sizeof(mon_kinds) / sizeof(mon_kinds[0]);
