#!/usr/bin/env python3
"""bench/restart_kill.py — one kill of a device process, timed (bench/restart).

Usage: restart_kill.py PID AUDIT CHILD

SIGKILLs PID and watches, every 2 ms for at most 10 s, for the process to
be gone (reaped by the monitor: /proc/PID vanishes) and for one more
"child-reattached child=CHILD" line in the monitor's AUDIT trail. Prints
one line: the box's uptime in seconds just before the kill, then the ms
from the kill to gone and to reattached ("-" for what did not happen in
time). One process does the whole of it, so no fork lies between the kill
and the clock (in the KVM box a fork and exec costs about 150 ms).
"""
import os
import signal
import sys
import time


def reattached(audit, child):
    try:
        with open(audit, errors="replace") as f:
            return f.read().count(f"child-reattached child={child} ")
    except OSError:
        return 0


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__.split("\n\n")[1])
    pid, audit, child = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    before = reattached(audit, child)
    with open("/proc/uptime") as f:
        up = f.read().split()[0]
    t0 = time.monotonic()
    os.kill(pid, signal.SIGKILL)
    gone = back = None
    while time.monotonic() - t0 < 10 and back is None:
        ms = round((time.monotonic() - t0) * 1000)
        if gone is None and not os.path.exists(f"/proc/{pid}"):
            gone = ms
        if reattached(audit, child) > before:
            back = ms
        time.sleep(0.002)
    print(up, "-" if gone is None else gone, "-" if back is None else back)
    return 0


if __name__ == "__main__":
    sys.exit(main())
