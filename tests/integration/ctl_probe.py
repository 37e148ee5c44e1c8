#!/usr/bin/env python3
"""Raw clients of moat's control socket for linux-ctl.sh, which moat ctl
itself would never be: garbage, truncated and huge datagrams, a burst of
requests, a caller of another uid; and a listener standing in for systemd's
notify socket. Requests are encoded by hand (control.proto's field numbers)
so that this needs no protobuf library.

  ctl_probe.py abuse SOCK           one line per case: CASE ok|error TEXT
  ctl_probe.py burst SOCK N         N status requests, one connection each
                                    batch; prints "answered A of N"
  ctl_probe.py as-uid UID SOCK      a status request as UID: the reply
  ctl_probe.py notify-listen PATH OUT   append "SECONDS MESSAGE" per datagram
"""
import os
import socket
import sys
import time

STATUS = bytes([0x08, 0x01, 0x52, 0x00])  # version 1, status {}
# disk_swap {id "blk0", path "/a<ESC>b"}: a control character in a path
BAD_SWAP = b"\x0a\x04blk0" + b"\x12\x04/a\x1bb"
VERSION_REQ = bytes([0x08, 0x01, 0x9A, 0x01, 0x00])  # version 1, get_version {}


def varint(b, i):
    v = s = 0
    while True:
        c = b[i]
        i += 1
        v |= (c & 0x7F) << s
        s += 7
        if not c & 0x80:
            return v, i


def reply_fields(b):
    """ok (field 2) and error (field 3) of a Reply, as far as it parses."""
    ok, err, i = False, "", 0
    try:
        while i < len(b):
            key, i = varint(b, i)
            f, t = key >> 3, key & 7
            if t == 0:
                v, i = varint(b, i)
                if f == 2:
                    ok = bool(v)
            elif t == 2:
                n, i = varint(b, i)
                if f == 3:
                    err = b[i:i + n].decode(errors="replace")
                i += n
            else:
                break
    except IndexError:
        pass
    return ok, err


def ask(path, data, timeout=10):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.settimeout(timeout)
    s.connect(path)
    try:
        s.send(data)
    except OSError:
        pass  # a refused caller is answered (and hung up on) before it asks
    try:
        r = s.recv(65536)
    except ConnectionResetError:
        # the monitor hung up on a refused caller with the request unread:
        # the kernel says so first, then hands over the answer it queued
        r = s.recv(65536)
    s.close()
    return r


def abuse(path):
    cases = {
        "garbage": os.urandom(64) + b"\xff" * 8,
        "truncated": STATUS[:3],
        "empty-message": bytes([0x08, 0x01]),
        "wrong-version": bytes([0x08, 0x07, 0x52, 0x00]),
        "huge": bytes([0x08, 0x01, 0x52, 0x00]) + b"\x00" * (100 * 1024),
        "bad-path": bytes([0x08, 0x01, 0x82, 0x01, len(BAD_SWAP)]) + BAD_SWAP,
    }
    for name, data in cases.items():
        try:
            ok, err = reply_fields(ask(path, data))
            print(f"{name} {'ok' if ok else 'error'} {err}")
        except OSError as e:
            print(f"{name} no-reply {e}")


def burst(path, n):
    answered = 0
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.settimeout(10)
    s.connect(path)
    for k in range(n):
        try:
            s.send(VERSION_REQ if k % 2 else STATUS)
            ok, _ = reply_fields(s.recv(65536))
            answered += ok
        except OSError:
            s.close()
            s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
            s.settimeout(10)
            s.connect(path)
    print(f"answered {answered} of {n}")


def as_uid(uid, path):
    os.setgroups([])
    os.setgid(uid)
    os.setuid(uid)
    try:
        ok, err = reply_fields(ask(path, STATUS))
        print(("ok " if ok else "error ") + err)
    except OSError as e:
        print(f"no-reply {e}")


def notify_listen(path, out):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(path)
    t0 = time.monotonic()
    with open(out, "a", buffering=1) as f:
        while True:
            m = s.recv(4096).decode(errors="replace")
            for line in m.split("\n"):
                if line:
                    f.write(f"{time.monotonic() - t0:.3f} {line}\n")


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "abuse":
        abuse(sys.argv[2])
    elif cmd == "burst":
        burst(sys.argv[2], int(sys.argv[3]))
    elif cmd == "as-uid":
        as_uid(int(sys.argv[2]), sys.argv[3])
    elif cmd == "notify-listen":
        notify_listen(sys.argv[2], sys.argv[3])
    else:
        sys.exit(__doc__)
