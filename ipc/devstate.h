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
 * A reader therefore sees the last complete record, or none. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define DEVSTATE_MAGIC	 0x5453444du /* "MDST" little-endian */
#define DEVSTATE_VERSION 1u
#define DEVSTATE_SIZE	 4096u
/* The largest payload one record holds. */
#define DEVSTATE_MAX_PAYLOAD ((DEVSTATE_SIZE - 64u) / 2u - 16u)

/* The device's view of its mapped state file. */
struct devstate {
	void *base;    /* DEVSTATE_SIZE bytes, MAP_SHARED */
	uint32_t next; /* the record the next write goes to (0 or 1) */
};

/* Monitor: a zeroed, sealed (no shrinking, growing or further seals)
 * DEVSTATE_SIZE memfd, close-on-exec. The descriptor or -errno. */
int devstate_create_fd(void);

/* Device: map fd (not consumed) after checking its size and seals; 0,
 * -EBADMSG for a wrong size, -EPERM for missing seals, -errno. */
int devstate_map(int fd, struct devstate *out);
void devstate_unmap(struct devstate *s);

/* Device: the payload of the last complete record, copied into buf (cap
 * bytes); its length, 0 when there is none (a first start), or -EBADMSG
 * when the header or the record's framing is broken or longer than cap. */
int devstate_read(struct devstate *s, uint8_t *buf, size_t cap);

/* Device: make payload (len <= DEVSTATE_MAX_PAYLOAD) the last complete
 * record. 0, or -EMSGSIZE. */
int devstate_write(struct devstate *s, const uint8_t *payload, size_t len);
