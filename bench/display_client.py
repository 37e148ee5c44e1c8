#!/usr/bin/env python3
"""The VNC viewer of bench/display: an RFB 3.8 client (security None,
standard library only) that watches the screen for SECS seconds the way a
real viewer does, with one incremental FramebufferUpdateRequest of the whole
screen outstanding at all times (the next is sent as soon as an update has
been read in full), and prints what it got.

  display_client.py HOST:PORT SECS [--enc raw|zrle] [--pids PID,...]

--enc raw (default): SetEncodings Raw, DesktopSize. --enc zrle: ZRLE
first, then Raw and DesktopSize, as a viewer offering a compressed
encoding would; the server chooses (a server without ZRLE sends Raw).
Pixels are asked for as 32-bit true colour (depth 24, little-endian,
red at bit 16): 4 bytes a pixel, the same for every server.

The first update (a non-incremental request: the whole picture) is not
counted; the window of SECS seconds starts when it has arrived. One line
on stdout:

  updates U ups F bytes B bps R rects-per-update P bytes-per-update Q
    secs S cpu C enc E first T

U: FramebufferUpdate messages with at least one pixel rectangle in the
window; F: U a second; B: bytes received in the window; R: B a second; P:
pixel rectangles per counted update; Q: B / U; S: the window's length (it ends with
the update in flight at the deadline, read to its end); C: with --pids,
the host CPU time (user + system, from /proc/PID/stat) of those processes
in the window, in seconds a second ("-" without); E: the encodings of the
rectangles seen; T: seconds from the first request to its whole
picture. Exit 1 with a line on stderr when the server closes or
fails the handshake.
"""
import os
import socket
import struct
import sys
import time

ENC_RAW = 0
ENC_ZRLE = 16
ENC_DESKTOP_SIZE = -223
ENC_NAMES = {ENC_RAW: "raw", ENC_ZRLE: "zrle", ENC_DESKTOP_SIZE: "desktop-size"}
PIXEL_FORMAT = struct.pack(">BBBBHHHBBB3x", 32, 24, 0, 1, 255, 255, 255, 16, 8, 0)
BPP = 4
CLK_TCK = os.sysconf("SC_CLK_TCK")


class Closed(Exception):
    pass


class Stream:
    """A socket read through one large buffer; counts every byte."""

    def __init__(self, sock):
        self.s = sock
        self.buf = bytearray(1 << 20)
        self.view = memoryview(self.buf)
        self.start = self.end = 0
        self.received = 0

    def _fill(self):
        if self.start == self.end:
            self.start = self.end = 0
        elif self.end == len(self.buf):
            self.buf[: self.end - self.start] = self.buf[self.start : self.end]
            self.end -= self.start
            self.start = 0
        n = self.s.recv_into(self.view[self.end :])
        if n == 0:
            raise Closed(f"the server closed after {self.received} bytes")
        self.end += n
        self.received += n

    def read(self, n):
        while self.end - self.start < n:
            self._fill()
        out = bytes(self.view[self.start : self.start + n])
        self.start += n
        return out

    def skip(self, n):
        while n > 0:
            if self.start == self.end:
                self._fill()
            k = min(n, self.end - self.start)
            self.start += k
            n -= k


def handshake(st):
    """Version 3.8, security None, shared ClientInit: (width, height)."""
    if not st.read(12).startswith(b"RFB "):
        raise Closed("not an RFB server")
    st.s.sendall(b"RFB 003.008\n")
    n = st.read(1)[0]
    if n == 0:
        raise Closed("the server refused: " + st.read(struct.unpack(">I", st.read(4))[0]).decode())
    if 1 not in st.read(n):
        raise Closed("no security type None")
    st.s.sendall(b"\x01")
    if struct.unpack(">I", st.read(4))[0] != 0:
        raise Closed("security None failed")
    st.s.sendall(b"\x01")
    w, h = struct.unpack(">HH", st.read(4))
    st.read(16)  # the server's pixel format: ours replaces it
    st.read(struct.unpack(">I", st.read(4))[0])
    return w, h


def request(sock, incremental, w, h):
    sock.sendall(struct.pack(">BBHHHH", 3, incremental, 0, 0, w, h))


def read_update(st, size, seen):
    """The rest of a FramebufferUpdate (its type byte read): its pixel
    rectangles' count; a DesktopSize rectangle changes size[:]."""
    (nrects,) = struct.unpack(">xH", st.read(3))
    pixels = 0
    for _ in range(nrects):
        x, y, w, h, enc = struct.unpack(">HHHHi", st.read(12))
        seen.add(ENC_NAMES.get(enc, str(enc)))
        if enc == ENC_RAW:
            st.skip(w * h * BPP)
            pixels += 1
        elif enc == ENC_ZRLE:
            st.skip(struct.unpack(">I", st.read(4))[0])
            pixels += 1
        elif enc == ENC_DESKTOP_SIZE:
            size[:] = [w, h]
        else:
            raise Closed(f"rectangle of encoding {enc}, not asked for")
    return pixels


def read_message(st, size, seen):
    """One server message: the pixel rectangles of an update, else None."""
    t = st.read(1)[0]
    if t == 0:
        return read_update(st, size, seen)
    if t == 1:  # SetColourMapEntries
        _, n = struct.unpack(">xxHH", st.read(5))
        st.skip(6 * n)
    elif t == 2:  # Bell
        pass
    elif t == 3:  # ServerCutText
        st.skip(struct.unpack(">3xI", st.read(7))[0])
    else:
        raise Closed(f"unknown server message {t}")
    return None


def cpu_ticks(pids):
    """utime + stime of the processes (gone ones count 0)."""
    total = 0
    for p in pids:
        try:
            with open(f"/proc/{p}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except (OSError, IndexError, ValueError):
            pass
    return total


def main():
    args = sys.argv[1:]
    enc, pids = "raw", []
    while len(args) > 2:
        opt, val = args[-2], args[-1]
        if opt == "--enc" and val in ("raw", "zrle"):
            enc = val
        elif opt == "--pids":
            pids = [p for p in val.split(",") if p]
        else:
            break
        del args[-2:]
    if len(args) != 2 or ":" not in args[0]:
        sys.exit(__doc__.split("\n\n")[1])
    host, _, port = args[0].rpartition(":")
    secs = float(args[1])

    sock = socket.create_connection((host, int(port)), timeout=60)
    st = Stream(sock)
    size = list(handshake(st))
    encs = ([ENC_ZRLE] if enc == "zrle" else []) + [ENC_RAW, ENC_DESKTOP_SIZE]
    sock.sendall(b"\x00\x00\x00\x00" + PIXEL_FORMAT)
    sock.sendall(struct.pack(">BxH", 2, len(encs)) + b"".join(struct.pack(">i", e) for e in encs))
    seen = set()
    t_ask = time.monotonic()
    request(sock, 0, *size)
    while read_message(st, size, seen) is None:
        pass
    first = time.monotonic() - t_ask

    seen = set()
    bytes0, cpu0, t0 = st.received, cpu_ticks(pids), time.monotonic()
    end = t0 + secs
    updates = rects = 0
    request(sock, 1, *size)
    try:
        # The update in flight at the deadline is read to its end and
        # counted: the window ends with it (or 2 s past the deadline
        # when none comes).
        while True:
            sock.settimeout(max(end - time.monotonic(), 0) + 2)
            n = read_message(st, size, seen)
            if n is None:
                continue
            if n:
                updates += 1
                rects += n
            if time.monotonic() >= end:
                break
            request(sock, 1, *size)
    except socket.timeout:
        pass
    t1 = time.monotonic()
    cpu1 = cpu_ticks(pids)
    got = st.received - bytes0
    span = t1 - t0
    cpu = f"{(cpu1 - cpu0) / CLK_TCK / span:.3f}" if pids else "-"
    print(f"updates {updates} ups {updates / span:.2f} bytes {got} bps {got / span:.0f} "
          f"rects-per-update {rects / updates if updates else 0:.1f} "
          f"bytes-per-update {got / updates if updates else 0:.0f} secs {span:.2f} "
          f"cpu {cpu} enc {','.join(sorted(seen)) or '-'} first {first:.2f}")
    sock.close()


if __name__ == "__main__":
    try:
        main()
    except (Closed, OSError) as e:
        print(f"display_client: {e}", file=sys.stderr)
        sys.exit(1)
