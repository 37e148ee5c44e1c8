#!/usr/bin/env python3
"""bench/restart_stall.py — the guest-visible stall of each kill (bench/restart).

Usage: restart_stall.py CONSOLE ANCHORS KILLS

CONSOLE is the guest's console of a disk-verify run with guest.verify-top
(its median round, and every round of at least twice the median with the
uptime it ended at). ANCHORS holds console lines "verify progress ... at
uptime U centiseconds", each prefixed with the box's uptime in seconds when
bench/restart read it; KILLS one box uptime a line (first on the line,
restart_kill.py's), taken just before each kill (or, for a VMM that is not
killed, at the same moments).

The guest's clock is tied to the box's by the anchors: a line is read some
time after the guest wrote it, never before, so the smallest difference
between the two uptimes is the closest. A kill's stall is the longest round
that overlaps the 200 ms around the kill (its time in the guest's clock),
less the median round; 0 when no slow round is there. Prints the median
round, then one stall in ms per kill. Exit 1 when the console lacks the
figures or no anchor was read.
"""
import re
import sys

SLACK_CS = 10  # the kill's time is known to about this, either way


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__.split("\n\n")[1])
    console, anchors, kills = sys.argv[1:]
    with open(console, errors="replace") as f:
        text = f.read()
    m = re.search(r"verify gaps median-ms (\d+)", text)
    if not m:
        print("restart_stall: no 'verify gaps' line on the console", file=sys.stderr)
        return 1
    median = int(m.group(1))
    slow = [(int(end), int(ms)) for end, ms in
            re.findall(r"verify slow-round ended-cs (\d+) ms (\d+)", text)]
    offsets = []
    with open(anchors, errors="replace") as f:
        for line in f:
            a = re.match(r"([0-9.]+) .*verify progress rounds \d+ at uptime (\d+) centiseconds", line)
            if a:
                offsets.append(round(float(a.group(1)) * 100) - int(a.group(2)))
    if not offsets:
        print("restart_stall: no anchor (progress line) was read", file=sys.stderr)
        return 1
    offset = min(offsets)
    print(f"median-round {median}")
    with open(kills) as f:
        for line in f:
            if not line.strip():
                continue
            k = round(float(line.split()[0]) * 100) - offset
            spans = [ms for end, ms in slow
                     if end >= k - SLACK_CS and end - (ms + 9) // 10 <= k + SLACK_CS]
            print(max(spans) - median if spans else 0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
