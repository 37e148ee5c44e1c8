#!/usr/bin/env python3
"""Round trips of control requests for bench/ctl, timed in-process (no
client start-up counted): moat's control socket (requests encoded by hand,
ipc/proto/control.proto's field numbers) and QEMU's QMP.

  ctl_lat.py moat-status SOCK N        N status requests
  ctl_lat.py moat-pause SOCK N         N pause + resume pairs
  ctl_lat.py moat-swap SOCK ID A B N   N disk swaps, alternating A and B,
                                       one a second
  ctl_lat.py qmp-status SOCK N         N query-status
  ctl_lat.py qmp-pause SOCK N          N stop + cont pairs
Prints one latency in ms per line; a failed request prints "error TEXT".
"""
import json
import socket
import sys
import time


def field(num, payload):
    key = num << 3 | 2
    out = bytearray()
    for v in (key, len(payload)):
        while v >= 0x80:
            out.append(v & 0x7F | 0x80)
            v >>= 7
        out.append(v)
    return bytes(out) + payload


def request(num, payload=b""):
    return b"\x08\x01" + field(num, payload)


def moat_ask(s, data):
    t0 = time.perf_counter()
    try:
        s.send(data)
        r = s.recv(65536)
    except OSError:  # the VM ended (its guest finished) meanwhile
        return 0, False
    dt = (time.perf_counter() - t0) * 1000
    return dt, b"\x10\x01" in r[:4]  # field 2 (ok) = true near the start


def moat(cmd, path, args):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.settimeout(60)
    s.connect(path)
    if cmd == "moat-status":
        for _ in range(int(args[0])):
            dt, ok = moat_ask(s, request(10))
            print(f"{dt:.2f}" if ok else "error status")
    elif cmd == "moat-pause":
        for _ in range(int(args[0])):
            a, ok1 = moat_ask(s, request(11))
            b, ok2 = moat_ask(s, request(12))
            print(f"{a + b:.2f}" if ok1 and ok2 else "error pause")
            time.sleep(0.2)
    elif cmd == "moat-swap":
        dev, imgs, n = args[0].encode(), [args[1], args[2]], int(args[3])
        for k in range(n):
            swap = field(1, dev) + field(2, imgs[(k + 1) % 2].encode())
            dt, ok = moat_ask(s, request(16, swap))
            print(f"{dt:.2f}" if ok else "error swap")
            time.sleep(1)


def qmp(cmd, path, args):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(60)
    s.connect(path)
    f = s.makefile("rwb", buffering=0)

    def call(name):
        t0 = time.perf_counter()
        f.write(json.dumps({"execute": name}).encode() + b"\n")
        while True:
            r = json.loads(f.readline())
            if "return" in r or "error" in r:
                return (time.perf_counter() - t0) * 1000, "return" in r

    json.loads(f.readline())  # greeting
    call("qmp_capabilities")
    for _ in range(int(args[0])):
        if cmd == "qmp-status":
            dt, ok = call("query-status")
        else:
            a, ok1 = call("stop")
            b, ok2 = call("cont")
            dt, ok = a + b, ok1 and ok2
            time.sleep(0.2)
        print(f"{dt:.2f}" if ok else f"error {cmd}")


if __name__ == "__main__":
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    cmd = sys.argv[1]
    (moat if cmd.startswith("moat-") else qmp)(cmd, sys.argv[2], sys.argv[3:])
