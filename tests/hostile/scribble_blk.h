/* What a compromised moat-blk could leave in its state file for the real
 * moat-blk that succeeds it (issue 15, decision 0024): the stand-in's
 * scribble-inflight, scribble-counter, scribble-loop and save-inflight
 * modes (stand_in.c), for hostile.sh's disk tamper tests. */
#pragma once

#include "channel.h"
#include "device.pb-c.h"

/* Where queue 0's rings are put in guest RAM: 2 MiB in (well inside the
 * low RAM of any guest size moat accepts), each part on a page of its
 * own. hostile.sh reads guest RAM outside [SCRIBBLE_RING_GPA,
 * SCRIBBLE_RING_END) and expects SCRIBBLE_RAM_BYTE in every byte. */
#define SCRIBBLE_RING_GPA  0x200000ull
#define SCRIBBLE_RING_END  (SCRIBBLE_RING_GPA + 0x3000)
#define SCRIBBLE_RING_SIZE 256
#define SCRIBBLE_RAM_BYTE  0x5a

enum scribble_blk {
	SCRIBBLE_BLK_GOOD,    /* what a real moat-blk leaves: nothing in flight */
	SCRIBBLE_BLK_HEAD,    /* a marked head >= the queue's size */
	SCRIBBLE_BLK_COUNTER, /* a head's counter >= next */
	SCRIBBLE_BLK_LOOP,    /* a valid record, whose one head in flight
			       * leads to a descriptor chain that loops */
};

/* From the start request s (its virtio part, state file and guest RAM, its
 * descriptors taken from fds): fill guest RAM with SCRIBBLE_RAM_BYTE and
 * zero the rings; bring a virtio-pci transport of the request's shape up
 * through its registers as Linux's driver would (VERSION_1, queue 0 of
 * SCRIBBLE_RING_SIZE at SCRIBBLE_RING_GPA, DRIVER_OK); write its image
 * (vpci_state_save) as the state file's record, and queue 0's in-flight
 * record in the live area, as how says (LOOP: with descriptors 0 and 1 of
 * the table each the other's next). 0, or -1 with a line on stderr. */
int scribble_blk(const Moat__Dev__StartRequest *s, struct ipc_fds *fds, enum scribble_blk how);
