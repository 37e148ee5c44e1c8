#!/usr/bin/env python3
"""A small RFB 3.8 client (security None) for the display tests: screen
captures in 32, 16 and 8-bit true colour, DesktopSize, key and pointer
events, and the hostile clients a VNC server must survive; plus checks of
the pictures (PPM as written here, or PNG as gvnccapture writes).
Standard library only.

ADDR is HOST:PORT (TCP) or unix:PATH.

  rfb_probe.py [--timeout S] ADDR info          ServerInit: size, pixel
                                                format, name
  rfb_probe.py [--timeout S] ADDR capture OUT.ppm [--bpp 32|16|8]
        SetEncodings Raw + DesktopSize, a non-incremental update of the whole
        screen, Raw rectangles assembled into OUT (P6). --bpp asks for that
        true-colour format first (SetPixelFormat); without it the server's
        own format is decoded.
  rfb_probe.py [--timeout S] ADDR watch-resize [--want WxH]
        requests updates until a DesktopSize rectangle comes (of WxH with
        --want) and prints "resize WxH" for each; prints "watching WxH" once
        connected. Exit 1 when none came in time.
  rfb_probe.py ADDR key KEYSYM                 KeyEvent down, then up
  rfb_probe.py ADDR click X Y                  PointerEvent button 1 press,
                                               then release, at X,Y
Hostile clients (exit 0 once done; each prints what the server did):
  rfb_probe.py ADDR garbage [BYTES]            random bytes after the
                                               handshake (default 65536)
  rfb_probe.py ADDR truncated                  half a SetEncodings, close
  rfb_probe.py ADDR cutbig                     ClientCutText of length
                                               0xFFFFFFFF, then 4 MiB of it
  rfb_probe.py ADDR noread SECONDS             full-screen update requests
                                               and never a read
  rfb_probe.py ADDR badversion                 "RFB 999.999" as the version
Checks of a picture (FILE: .ppm or .png):
  rfb_probe.py quadrants FILE    the colours at the centre of each quadrant;
                                 exit 0 only if red, green, blue, white
                                 (each channel within 8)
  rfb_probe.py nonblack FILE     how many pixels are not black; exit 0 if any
"""
import os
import random
import socket
import struct
import sys
import time
import zlib

ENC_RAW = 0
ENC_DESKTOP_SIZE = -223

# (bpp, depth, big-endian, true colour, max r g b, shift r g b)
FORMATS = {
    32: (32, 24, 0, 1, 255, 255, 255, 16, 8, 0),
    16: (16, 16, 0, 1, 31, 63, 31, 11, 5, 0),  # RGB565
    8: (8, 8, 0, 1, 7, 7, 3, 0, 3, 6),  # BGR233, as vncviewer's 8-bit
}
PF = struct.Struct(">BBBBHHHBBB3x")


class ServerClosed(Exception):
    pass


class Conn:
    """One RFB connection; recv_exact raises ServerClosed at EOF and
    socket.timeout past the deadline."""

    def __init__(self, addr, timeout, rcvbuf=None):
        if addr.startswith("unix:"):
            self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            target = addr[5:]
        else:
            host, _, port = addr.rpartition(":")
            if not host or not port.isdigit():
                raise SystemExit(f"rfb_probe: bad address {addr!r} (HOST:PORT or unix:PATH)")
            self.s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            target = (host, int(port))
        if rcvbuf:
            self.s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.s.settimeout(timeout)
        self.s.connect(target)
        self.buf = bytearray()
        self.received = 0

    def recv_exact(self, n):
        while len(self.buf) < n:
            chunk = self.s.recv(max(65536, n - len(self.buf)))
            if not chunk:
                raise ServerClosed(f"server closed after {self.received + len(self.buf)} bytes")
            self.buf += chunk
        out = bytes(self.buf[:n])
        del self.buf[:n]
        self.received += n
        return out

    def send(self, b):
        self.s.sendall(b)

    def close(self):
        self.s.close()


def handshake(c, version=b"RFB 003.008\n"):
    """Version, security None, ClientInit shared; returns (w, h, pf, name)."""
    sv = c.recv_exact(12)
    if not sv.startswith(b"RFB "):
        raise SystemExit(f"rfb_probe: not an RFB server: {sv!r}")
    c.send(version)
    n = c.recv_exact(1)[0]
    if n == 0:
        reason = c.recv_exact(struct.unpack(">I", c.recv_exact(4))[0])
        raise SystemExit(f"rfb_probe: server refused: {reason.decode(errors='replace')}")
    types = c.recv_exact(n)
    if 1 not in types:
        raise SystemExit(f"rfb_probe: no security type None offered ({list(types)})")
    c.send(b"\x01")
    if struct.unpack(">I", c.recv_exact(4))[0] != 0:
        reason = c.recv_exact(struct.unpack(">I", c.recv_exact(4))[0])
        raise SystemExit(f"rfb_probe: security failed: {reason.decode(errors='replace')}")
    c.send(b"\x01")  # ClientInit: shared
    w, h = struct.unpack(">HH", c.recv_exact(4))
    pf = PF.unpack(c.recv_exact(16))
    name = c.recv_exact(struct.unpack(">I", c.recv_exact(4))[0])
    return w, h, pf, name.decode(errors="replace")


def set_pixel_format(c, pf):
    c.send(struct.pack(">B3x", 0) + PF.pack(*pf))


def set_encodings(c, encs):
    c.send(struct.pack(">BxH", 2, len(encs)) + b"".join(struct.pack(">i", e) for e in encs))


def update_request(c, incremental, w, h, x=0, y=0):
    c.send(struct.pack(">BBHHHH", 3, incremental, x, y, w, h))


def pf_text(pf):
    bpp, depth, be, tc, rm, gm, bm, rs, gs, bs = pf
    return (f"bpp={bpp} depth={depth} big-endian={be} true-colour={tc} "
            f"max={rm},{gm},{bm} shift={rs},{gs},{bs}")


class Decoder:
    """Raw pixels of a true-colour format to RGB bytes. Byte-aligned 32-bit
    formats by slicing; the others through a cache of each pixel value seen
    (a dict whose misses compute it), so a picture of few colours costs
    little even in a slow (emulated) box."""

    def __init__(self, pf):
        self.bpp, _, self.be, tc, self.rm, self.gm, self.bm, self.rs, self.gs, self.bs = pf
        if not tc:
            raise SystemExit("rfb_probe: colour-map pixel formats are not supported")
        if self.bpp not in (8, 16, 32):
            raise SystemExit(f"rfb_probe: {self.bpp} bits per pixel is not supported")
        self.bypp = self.bpp // 8
        self.fast = (self.bpp == 32 and (self.rm, self.gm, self.bm) == (255, 255, 255)
                     and all(s % 8 == 0 for s in (self.rs, self.gs, self.bs)))
        dec = self

        class Cache(dict):
            def __missing__(self, v):
                rgb = bytes((((v >> dec.rs) & dec.rm) * 255 // dec.rm,
                             ((v >> dec.gs) & dec.gm) * 255 // dec.gm,
                             ((v >> dec.bs) & dec.bm) * 255 // dec.bm))
                self[v] = rgb
                return rgb

        self.cache = Cache()

    def rgb(self, data):
        n = len(data) // self.bypp
        if self.fast:
            out = bytearray(n * 3)
            for i, s in enumerate((self.rs, self.gs, self.bs)):
                k = s // 8 if not self.be else 3 - s // 8
                out[i::3] = data[k::4]
            return bytes(out)
        if self.bpp == 8:
            values = data
        else:
            code = {16: "H", 32: "I"}[self.bpp]
            order = ">" if self.be else "<"
            values = struct.unpack(f"{order}{n}{code}", data)
        return b"".join(map(self.cache.__getitem__, values))


class Screen:
    """The client's copy of the framebuffer, RGB, and which of its pixels
    a rectangle has covered since the last resize."""

    def __init__(self, w, h):
        self.resize(w, h)

    def resize(self, w, h):
        self.w, self.h = w, h
        self.rgb = bytearray(w * h * 3)
        self.mask = bytearray(w * h)

    @property
    def covered(self):
        return self.mask.count(1)

    def put(self, x, y, w, h, rgb):
        if x + w > self.w or y + h > self.h:
            raise SystemExit(f"rfb_probe: rectangle {w}x{h}+{x}+{y} outside the "
                             f"{self.w}x{self.h} screen")
        ones = b"\x01" * w
        for row in range(h):
            o = (y + row) * self.w + x
            self.rgb[o * 3:(o + w) * 3] = rgb[row * w * 3:(row + 1) * w * 3]
            self.mask[o:o + w] = ones

    def write_ppm(self, path):
        with open(path, "wb") as f:
            f.write(b"P6\n%d %d\n255\n" % (self.w, self.h))
            f.write(self.rgb)


def read_message(c, screen, dec, on_resize=None):
    """One server message. Returns ("update", rects) for a
    FramebufferUpdate, or (kind, None); Raw rectangles go into screen,
    DesktopSize resizes it (and calls on_resize(w, h))."""
    t = c.recv_exact(1)[0]
    if t == 0:
        n = struct.unpack(">xH", c.recv_exact(3))[0]
        rects = []
        for _ in range(n):
            x, y, w, h, enc = struct.unpack(">HHHHi", c.recv_exact(12))
            rects.append((x, y, w, h, enc))
            if enc == ENC_RAW:
                screen.put(x, y, w, h, dec.rgb(c.recv_exact(w * h * dec.bypp)))
            elif enc == ENC_DESKTOP_SIZE:
                screen.resize(w, h)
                if on_resize:
                    on_resize(w, h)
            else:
                raise SystemExit(f"rfb_probe: encoding {enc} was not asked for")
        return "update", rects
    if t == 1:  # SetColourMapEntries
        _, n = struct.unpack(">xHH", c.recv_exact(5))
        c.recv_exact(6 * n)
        return "colour-map", None
    if t == 2:
        return "bell", None
    if t == 3:  # ServerCutText
        c.recv_exact(struct.unpack(">3xI", c.recv_exact(7))[0])
        return "cut-text", None
    raise SystemExit(f"rfb_probe: unknown server message type {t}")


def cmd_info(c, args):
    w, h, pf, name = handshake(c)
    print(f"server-init {w}x{h} {pf_text(pf)} name={name}")


def cmd_capture(c, args, timeout):
    if not args:
        raise SystemExit("rfb_probe: capture OUT.ppm [--bpp 32|16|8]")
    out, bpp = args[0], None
    if args[1:2] == ["--bpp"] and len(args) == 3 and args[2].isdigit() and int(args[2]) in FORMATS:
        bpp = int(args[2])
    elif len(args) != 1:
        raise SystemExit("rfb_probe: capture OUT.ppm [--bpp 32|16|8]")
    w, h, pf, _ = handshake(c)
    if bpp:
        pf = FORMATS[bpp]
        set_pixel_format(c, pf)
    dec = Decoder(pf)
    screen = Screen(w, h)
    set_encodings(c, [ENC_RAW, ENC_DESKTOP_SIZE])
    update_request(c, 0, w, h)
    deadline = time.monotonic() + timeout
    rects = 0
    # A DesktopSize resets the picture: ask for the whole new screen.
    while screen.covered < screen.w * screen.h:
        if time.monotonic() > deadline:
            raise SystemExit(f"rfb_probe: capture: {screen.covered} of "
                             f"{screen.w * screen.h} pixels in {timeout} s")
        kind, rs = read_message(c, screen, dec,
                                on_resize=lambda nw, nh: update_request(c, 0, nw, nh))
        if kind == "update":
            rects += len(rs)
            if screen.covered < screen.w * screen.h:
                update_request(c, 1, screen.w, screen.h)
    screen.write_ppm(out)
    print(f"capture {screen.w}x{screen.h} {pf_text(pf)} rects={rects} bytes={c.received}")


def cmd_watch_resize(c, args, timeout):
    want = None
    if args[:1] == ["--want"] and len(args) == 2:
        want = args[1]
    elif args:
        raise SystemExit("rfb_probe: watch-resize [--want WxH]")
    w, h, pf, _ = handshake(c)
    dec = Decoder(pf)
    screen = Screen(w, h)
    set_encodings(c, [ENC_RAW, ENC_DESKTOP_SIZE])
    update_request(c, 0, w, h)
    print(f"watching {w}x{h}", flush=True)
    seen = []
    deadline = time.monotonic() + timeout

    def resized(nw, nh):
        print(f"resize {nw}x{nh}", flush=True)
        seen.append(f"{nw}x{nh}")

    c.s.settimeout(1)
    while time.monotonic() < deadline:
        try:
            kind, _ = read_message(c, screen, dec, on_resize=resized)
        except socket.timeout:
            continue
        if seen and (want is None or want in seen):
            return
        if kind == "update":
            update_request(c, 1, screen.w, screen.h)
    sys.exit(f"rfb_probe: no DesktopSize{' to ' + want if want else ''} in {timeout} s "
             f"(saw: {' '.join(seen) or 'none'})")


def cmd_key(c, args):
    if len(args) != 1:
        raise SystemExit("rfb_probe: key KEYSYM")
    ks = int(args[0], 0)
    handshake(c)
    c.send(struct.pack(">BBxxI", 4, 1, ks) + struct.pack(">BBxxI", 4, 0, ks))
    time.sleep(0.2)  # let the server read both before the close
    print(f"key 0x{ks:x} down, up")


def cmd_click(c, args):
    if len(args) != 2:
        raise SystemExit("rfb_probe: click X Y")
    x, y = int(args[0]), int(args[1])
    handshake(c)
    c.send(struct.pack(">BBHH", 5, 1, x, y) + struct.pack(">BBHH", 5, 0, x, y))
    time.sleep(0.2)
    print(f"click {x},{y} press, release")


def drain(c, seconds):
    """Reads what the server sends for up to SECONDS; says whether it
    closed the connection."""
    end = time.monotonic() + seconds
    c.s.settimeout(0.2)
    try:
        while time.monotonic() < end:
            try:
                c.recv_exact(len(c.buf) + 1)
            except socket.timeout:
                pass
    except (ServerClosed, ConnectionError):
        return "server closed the connection"
    return "server kept the connection"


def send_until_closed(c, data):
    """Sends DATA; returns how much went out before the server closed (or
    all of it)."""
    sent = 0
    try:
        for i in range(0, len(data), 65536):
            c.send(data[i:i + 65536])
            sent = i + len(data[i:i + 65536])
    except (BrokenPipeError, ConnectionResetError, socket.timeout):
        pass
    return sent


def cmd_garbage(c, args):
    n = int(args[0]) if args else 65536
    seed = int.from_bytes(os.urandom(4), "big")
    handshake(c)
    data = random.Random(seed).randbytes(n)
    sent = send_until_closed(c, data)
    print(f"garbage seed={seed}: sent {sent} of {n} bytes; {drain(c, 2)}")


def cmd_truncated(c, args):
    handshake(c)
    # SetEncodings announcing 20 encodings, 3 of them sent
    c.send(struct.pack(">BxH", 2, 20) + struct.pack(">iii", 0, -223, 1))
    time.sleep(0.5)
    print("truncated: half a SetEncodings, then close")


def cmd_cutbig(c, args):
    handshake(c)
    sent = send_until_closed(c, struct.pack(">B3xI", 6, 0xFFFFFFFF) + b"A" * (4 << 20))
    print(f"cutbig: ClientCutText of 0xFFFFFFFF, {sent} bytes went out; {drain(c, 2)}")


def cmd_noread(c, args):
    if len(args) != 1:
        raise SystemExit("rfb_probe: noread SECONDS")
    secs = float(args[0])
    w, h, _, _ = handshake(c)
    end = time.monotonic() + secs
    n = 0
    c.s.settimeout(0.5)
    while time.monotonic() < end:
        try:
            update_request(c, 0, w, h)
            n += 1
        except socket.timeout:
            pass  # our send buffer is full too: the server stopped reading
        except (BrokenPipeError, ConnectionResetError):
            print(f"noread: the server dropped us after {n} requests")
            return
        time.sleep(0.01)
    print(f"noread: {n} full-screen requests in {secs:g} s, nothing read")


def cmd_badversion(c, args):
    sv = c.recv_exact(12)
    c.send(b"RFB 999.999\n")
    print(f"badversion: server said {sv!r}; {drain(c, 3)}")


# ---- pictures -----------------------------------------------------------------

def read_ppm(path):
    with open(path, "rb") as f:
        data = f.read()
    fields, i = [], 0
    while len(fields) < 4:
        while data[i:i + 1].isspace():
            i += 1
        if data[i:i + 1] == b"#":
            i = data.index(b"\n", i)
            continue
        j = i
        while not data[j:j + 1].isspace():
            j += 1
        fields.append(data[i:j])
        i = j
    if fields[0] != b"P6" or fields[3] != b"255":
        raise SystemExit(f"rfb_probe: {path}: not a P6 PPM of maxval 255")
    w, h = int(fields[1]), int(fields[2])
    return w, h, 3, data[i + 1:i + 1 + w * h * 3]


def paeth(a, b, c):
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    if pa <= pb and pa <= pc:
        return a
    return b if pb <= pc else c


def add_bytes(x, y, hi, lo):
    """Bytewise (x + y) mod 256 of two little-endian ints of bytes, no carry
    from one byte into the next (the low 7 bits add, the top bit is an
    exclusive or): whole rows at C speed, which matters in an emulated box."""
    return ((x & lo) + (y & lo)) ^ ((x ^ y) & hi)


def unfilter_row(ft, line, prev, bpp):
    """One PNG row without its filter (types 0-4). Sub and Up, which
    libpng's adaptive filter picks for flat areas, work on whole rows as
    ints; Average and Paeth go byte by byte."""
    n = len(line)
    hi = int.from_bytes(b"\x80" * n, "little")
    lo = int.from_bytes(b"\x7f" * n, "little")
    full = (1 << (8 * n)) - 1
    if ft == 0:
        return bytes(line)
    if ft == 1:  # Sub: a running sum with a stride of bpp bytes (doubling scan)
        s, step = int.from_bytes(line, "little"), bpp
        while step < n:
            s = add_bytes(s, (s << (8 * step)) & full, hi, lo)
            step *= 2
        return s.to_bytes(n, "little")
    if ft == 2:  # Up
        s = add_bytes(int.from_bytes(line, "little"), int.from_bytes(prev, "little"), hi, lo)
        return s.to_bytes(n, "little")
    out = bytearray(line)
    for x in range(n):
        left = out[x - bpp] if x >= bpp else 0
        if ft == 3:
            out[x] = (out[x] + ((left + prev[x]) >> 1)) & 0xFF
        elif ft == 4:
            ul = prev[x - bpp] if x >= bpp else 0
            out[x] = (out[x] + paeth(left, prev[x], ul)) & 0xFF
        else:
            raise SystemExit(f"rfb_probe: bad PNG filter type {ft}")
    return bytes(out)


def read_png(path):
    """8-bit RGB or RGBA, not interlaced: (w, h, bytes per pixel, pixels)."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise SystemExit(f"rfb_probe: {path}: not a PNG")
    i, idat, ihdr = 8, [], None
    while i + 8 <= len(data):
        n, kind = struct.unpack(">I4s", data[i:i + 8])
        body = data[i + 8:i + 8 + n]
        if kind == b"IHDR":
            ihdr = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat.append(body)
        elif kind == b"IEND":
            break
        i += 12 + n
    if not ihdr:
        raise SystemExit(f"rfb_probe: {path}: no IHDR")
    w, h, depth, ctype, _, _, interlace = ihdr
    if depth != 8 or ctype not in (2, 6) or interlace:
        raise SystemExit(f"rfb_probe: {path}: only 8-bit RGB/RGBA, not interlaced "
                         f"(depth {depth}, colour type {ctype}, interlace {interlace})")
    bpp = 3 if ctype == 2 else 4
    raw = zlib.decompress(b"".join(idat))
    stride = w * bpp
    if len(raw) < h * (stride + 1):
        raise SystemExit(f"rfb_probe: {path}: {len(raw)} bytes of pixels, not {h * (stride + 1)}")
    rows, prev = [], bytes(stride)
    for y in range(h):
        o = y * (stride + 1)
        prev = unfilter_row(raw[o], raw[o + 1:o + 1 + stride], prev, bpp)
        rows.append(prev)
    return w, h, bpp, b"".join(rows)


def read_picture(path):
    try:
        with open(path, "rb") as f:
            magic = f.read(8)
    except OSError as e:
        raise SystemExit(f"rfb_probe: {path}: {e.strerror}")
    return read_png(path) if magic.startswith(b"\x89PNG") else read_ppm(path)


def cmd_quadrants(args):
    if len(args) != 1:
        raise SystemExit("rfb_probe: quadrants FILE")
    w, h, bpp, px = read_picture(args[0])
    want = {"tl": (255, 0, 0), "tr": (0, 255, 0), "bl": (0, 0, 255), "br": (255, 255, 255)}
    at = {"tl": (w // 4, h // 4), "tr": (3 * w // 4, h // 4),
          "bl": (w // 4, 3 * h // 4), "br": (3 * w // 4, 3 * h // 4)}
    good, words = True, []
    for q, (x, y) in at.items():
        o = (y * w + x) * bpp
        got = tuple(px[o:o + 3])
        words.append(f"{q}={bytes(got).hex()}")
        good &= all(abs(a - b) <= 8 for a, b in zip(got, want[q]))
    print(f"quadrants {w}x{h} {' '.join(words)} {'ok' if good else 'WRONG'}")
    sys.exit(0 if good else 1)


def cmd_nonblack(args):
    if len(args) != 1:
        raise SystemExit("rfb_probe: nonblack FILE")
    w, h, bpp, px = read_picture(args[0])
    # one byte a pixel, the OR of its three colours (alpha left out)
    r, g, b = (int.from_bytes(px[i::bpp], "little") for i in range(3))
    n = w * h - (r | g | b).to_bytes(w * h, "little").count(0)
    print(f"nonblack {n} of {w * h} pixels ({w}x{h})")
    sys.exit(0 if n > 0 else 1)


def main(argv):
    timeout = 30.0
    if argv[:1] == ["--timeout"] and len(argv) > 1:
        timeout = float(argv[1])
        argv = argv[2:]
    if len(argv) >= 1 and argv[0] in ("quadrants", "nonblack"):
        return {"quadrants": cmd_quadrants, "nonblack": cmd_nonblack}[argv[0]](argv[1:])
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    addr, cmd, args = argv[0], argv[1], argv[2:]
    simple = {"info": cmd_info, "key": cmd_key, "click": cmd_click, "garbage": cmd_garbage,
              "truncated": cmd_truncated, "cutbig": cmd_cutbig, "noread": cmd_noread,
              "badversion": cmd_badversion}
    timed = {"capture": cmd_capture, "watch-resize": cmd_watch_resize}
    if cmd not in simple and cmd not in timed:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    try:
        c = Conn(addr, timeout, rcvbuf=4096 if cmd == "noread" else None)
    except OSError as e:
        sys.exit(f"rfb_probe: {cmd}: cannot connect to {addr}: {e.strerror or e}")
    try:
        if cmd in timed:
            timed[cmd](c, args, timeout)
        else:
            simple[cmd](c, args)
    except ServerClosed as e:
        sys.exit(f"rfb_probe: {cmd}: {e}")
    except socket.timeout:
        sys.exit(f"rfb_probe: {cmd}: no answer in {timeout:g} s")
    except ConnectionError as e:
        sys.exit(f"rfb_probe: {cmd}: {e.strerror or e}")
    finally:
        c.close()


if __name__ == "__main__":
    main(sys.argv[1:])
