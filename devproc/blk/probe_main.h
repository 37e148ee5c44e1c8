/* `moat-blk probe`: read one image's header in moat-blk's sandbox and tell
 * the monitor what it says (ipc/proto/probe.proto). */
#pragma once

/* The process's exit status: 0 once the answer is sent. */
int blk_probe_main(void);
