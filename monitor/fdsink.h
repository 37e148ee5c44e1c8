/* Where the monitor puts descriptors a child sent it. No child message
 * carries one, so any that arrives is evidence of a hostile child, and is
 * also a trap: the last close of a TCP socket with SO_LINGER and unsent
 * data waits in the kernel (sk_stream_wait_close) for up to the linger
 * time, and would stop the monitor's loop (console, signals, supervision)
 * for that long. So each one is first made to abort on close (SO_LINGER
 * of zero, for a socket) and then closed by a thread of its own, so that
 * nothing the monitor's loop does waits on it. */
#pragma once

/* Hand fd over to be closed elsewhere. Never blocks; if the closing thread
 * cannot take it (it cannot start, or is far behind and its queue is
 * full), fd stays open until moat exits, which is the lesser harm. */
void mon_fdsink_put(int fd);
