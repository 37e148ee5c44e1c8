/* The state a device process leaves for its successor (issue 15, decision
 * 0023): what the guest programmed into the device that must survive a
 * restart of its process (for the SMC, the values of the keys the guest
 * wrote). One small memfd per restartable device, made and sealed by the
 * monitor, mapped shared by the device process, and handed unchanged to
 * the next process when the monitor restarts it. The monitor never reads
 * it: it would have to believe a child about itself.
 *
 * The successor treats what it finds as hostile input (the process that
 * wrote it may have been compromised): devstate_read() copies the record
 * once into private memory and checks only its framing; the kind's own
 * parser checks the payload.
 *
 * A process can die in the middle of a write (SIGKILL), so the file holds
 * two records and a header naming the complete one: a write goes to the
 * record not named, then the header is switched with one release store.
 * A reader therefore sees the last complete record, or none.
 *
 * A virtio device also keeps a *live area* after the records: state that
 * changes with every request (which descriptors are in flight, vhost-user's
 * "inflight" region), written in place with plain stores, whose layout and
 * crash ordering are its owner's (struct vq_inflight in devproc/virtio/virtqueue.h). The
 * monitor sizes it, DEVSTATE_LIVE_PER_QUEUE bytes a queue, and never reads
 * it either. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define DEVSTATE_MAGIC	 0x5453444du /* "MDST" little-endian */
#define DEVSTATE_VERSION 1u
#define DEVSTATE_SIZE	 4096u
/* The largest payload one record holds. */
#define DEVSTATE_MAX_PAYLOAD ((DEVSTATE_SIZE - 64u) / 2u - 16u)
/* The live area one virtqueue's in-flight record takes (three pages), and
 * the most a file may have (VPCI_MAX_QUEUES queues fit). */
#define DEVSTATE_LIVE_PER_QUEUE 12288u
#define DEVSTATE_MAX_LIVE	(16u * DEVSTATE_LIVE_PER_QUEUE)

/* The device's view of its mapped state file. */
struct devstate {
	void *base;	 /* DEVSTATE_SIZE + live_len bytes, MAP_SHARED */
	void *live;	 /* base + DEVSTATE_SIZE, or NULL without a live area */
	size_t live_len; /* a multiple of the page, <= DEVSTATE_MAX_LIVE */
	uint32_t next;	 /* the record the next write goes to (0 or 1) */
};

/* Monitor: a zeroed, sealed (no shrinking, growing or further seals) memfd
 * of DEVSTATE_SIZE + live_len bytes (live_len a multiple of 4096, at most
 * DEVSTATE_MAX_LIVE), close-on-exec. The descriptor, -EINVAL, or -errno. */
int devstate_create_fd(size_t live_len);

/* Device: map fd (not consumed) after checking its size and seals; 0,
 * -EBADMSG for a size no monitor makes, -EPERM for missing seals, -errno. */
int devstate_map(int fd, struct devstate *out);
void devstate_unmap(struct devstate *s);

/* Device: the payload of the last complete record, copied into buf (cap
 * bytes); its length, 0 when there is none (a first start), or -EBADMSG
 * when the header or the record's framing is broken or longer than cap. */
int devstate_read(struct devstate *s, uint8_t *buf, size_t cap);

/* Device: make payload (len <= DEVSTATE_MAX_PAYLOAD) the last complete
 * record. 0, or -EMSGSIZE. */
int devstate_write(struct devstate *s, const uint8_t *payload, size_t len);
