/* The fake device model and fixture of the virtio-pci transport tests
 * (test_virtio_pci.c: a Linux-like driver; test_vpci_hostile.c: a hostile
 * one). The model counts what the transport asks of it and sets up its
 * queues with vq_init over a fake guest RAM. */
#pragma once

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "tap.h"
#include "virtio_pci.h"
#include "virtqueue.h"
#include "vpci_drv.h"

#define NVEC	       3
#define NQ	       2
#define QMAX	       256
#define MODEL_FEATURES (1ull << 5 | 1ull << 9)

struct model {
	struct ram ram;
	struct virtqueue vq[NQ];
	int enabled[NQ], notified[NQ], resets, driver_ok;
	int busy; /* reset returns 1 this many more times */
	uint64_t features;
	uint8_t config[10];
};

struct fixture {
	struct model m;
	struct vpci_dev *d;
	int irq[NVEC];
	struct drv drv;
};

static inline void m_config_read(void *model, uint32_t off, unsigned size, uint64_t *data)
{
	struct model *m = model;
	uint64_t v = 0;

	for (unsigned i = 0; i < size; i++)
		v |= (uint64_t)m->config[off + i] << (8 * i);
	*data = v;
}

static inline void m_config_write(void *model, uint32_t off, unsigned size, uint64_t data)
{
	struct model *m = model;

	if (off == 0 && size == 1)
		m->config[0] = (uint8_t)data; /* one writable byte */
}

static inline int m_queue_enable(void *model, unsigned q, const struct vpci_queue_cfg *cfg)
{
	struct model *m = model;
	int rc = vq_init(&m->vq[q], &m->ram.g, cfg->size, cfg->desc, cfg->driver, cfg->device,
			 cfg->event_idx);

	if (rc == 0)
		m->enabled[q]++;
	return rc;
}

static inline void m_queue_notify(void *model, unsigned q)
{
	((struct model *)model)->notified[q]++;
}

static inline void m_driver_ok(void *model, uint64_t features)
{
	struct model *m = model;

	m->driver_ok++;
	m->features = features;
}

static inline int m_reset(void *model)
{
	struct model *m = model;

	m->resets++;
	if (m->busy > 0) {
		m->busy--;
		return 1;
	}
	return 0;
}

static const struct vpci_ops m_ops = {
    .config_read = m_config_read,
    .config_write = m_config_write,
    .queue_enable = m_queue_enable,
    .queue_notify = m_queue_notify,
    .driver_ok = m_driver_ok,
    .reset = m_reset,
};

static inline int setup(struct fixture *f)
{
	struct vpci_params p = {
	    .ops = &m_ops,
	    .model = &f->m,
	    .virtio_id = 2,
	    .class_code = 0x018000,
	    .features = MODEL_FEATURES,
	    .num_queues = NQ,
	    .queue_max = QMAX,
	    .config_len = sizeof(f->m.config),
	    .bar0_gpa = DRV_BAR0,
	    .irq_fds = f->irq,
	    .nvectors = NVEC,
	};

	memset(f, 0, sizeof(*f));
	ram_init(&f->m.ram, QMAX);
	for (unsigned i = 0; i < sizeof(f->m.config); i++)
		f->m.config[i] = (uint8_t)(0xa0 + i);
	for (int i = 0; i < NVEC; i++) {
		f->irq[i] = eventfd(0, EFD_NONBLOCK);
		if (f->irq[i] < 0)
			return -errno;
	}
	f->drv = (struct drv){.io = drv_vpci_io};
	int rc = vpci_create(&f->d, &p);
	f->drv.dev = f->d;
	return rc;
}

/* Interrupts on vector v since the last call. */
static inline uint64_t irqs(struct fixture *f, unsigned v)
{
	uint64_t n = 0;

	if (read(f->irq[v], &n, sizeof(n)) != sizeof(n))
		return 0;
	return n;
}

/* setup() and the driver's probe: capabilities found, nothing negotiated. */
static inline int setup_probed(struct fixture *f)
{
	return setup(f) < 0 || drv_probe(&f->drv) < 0 ? -1 : 0;
}

/* Probe, negotiate, queue 0 on vector 1 and config on vector 0, MSI-X on,
 * DRIVER_OK: what Linux does before the first request. */
static inline int bring_up(struct fixture *f)
{
	uint64_t offered;

	if (setup_probed(f) < 0)
		return -1;
	uint64_t want = MODEL_FEATURES | 1ull << VPCI_F_VERSION_1 | 1ull << VPCI_F_EVENT_IDX;
	if (!(drv_negotiate(&f->drv, want, &offered) & S_FEATURES_OK))
		return -1;
	drv_msix_enable(&f->drv);
	drv_common_write(&f->drv, C_MSIX, 2, 0);
	if (drv_common_read(&f->drv, C_MSIX, 2) != 0)
		return -1;
	if (drv_setup_queue(&f->drv, 0, QMAX, RING_DESC, RING_AVL, RING_USED, 1) != 1)
		return -1;
	drv_common_write(&f->drv, C_STATUS, 1, S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK);
	return f->m.driver_ok == 1 ? 0 : -1;
}
