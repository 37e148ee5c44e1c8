/* The transport of `moat ctl`: one Request, one Reply, over the VM's
 * SOCK_SEQPACKET control socket, within a deadline. Every failure is one
 * line for the user; nothing here prints. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "control.pb-c.h"

#define CTL_MAX_REPLY (64 * 1024) /* bytes of one reply datagram */

/* Connect to the socket at path, send req, and wait until timeout_ms from
 * now for the reply. hint ends the line of a failed connect ("is the VM
 * running with --name web?"; NULL: none). Returns the reply, unpacked and
 * of this client's protocol version (the caller frees it with
 * moat__ctl__reply__free_unpacked(r, NULL)), or NULL with a line in err. */
Moat__Ctl__Reply *ctl_call(const char *path, const Moat__Ctl__Request *req, unsigned timeout_ms,
			   const char *hint, char *err, size_t errlen);

/* Unpack one reply datagram and check its version; as ctl_call. */
Moat__Ctl__Reply *ctl_decode_reply(const uint8_t *buf, size_t len, char *err, size_t errlen);
