#!/usr/bin/env bash
# The display (issue 13) with a Linux guest: Debian's kernel, the display
# initramfs (bochs-drm, drm-pattern, evdev-print; --build-initrd) and
# guest.action=display. First under qemu-system-x86_64 -enable-kvm -device
# bochs-display -vnc (the oracle: the guest, the pattern and the clients are
# right), then under moat run --vnc 127.0.0.1:N:
#   - moat prints its VNC address; ServerInit says 1024x768, 32 bpp;
#   - the early console (vesafb/simplefb from screen_info, before bochs.ko)
#     has non-black pixels in a capture;
#   - once drm-pattern has put up its four quadrants, gvnccapture's PNG and
#     rfb_probe's 32, 16 and 8-bit captures (and the server's own format)
#     show them;
#   - a VNC key reaches the guest through the i8042's AT keyboard before
#     virtio_input loads, then through the virtio keyboard alone; a click
#     reaches the virtio tablet at its scaled position with BTN_LEFT;
#   - a mode change in the guest reaches a client as DesktopSize of the new
#     size, and that picture equals QEMU's byte for byte;
#   - moat-display is sandboxed (CapEff 0, NoNewPrivs 1, Seccomp 2, its own
#     namespaces) and holds no socket but the listener, its clients and the
#     monitor's socketpairs, and no file of the host;
#   - hostile clients (garbage, truncated, cutbig, noread, badversion) leave
#     moat running, and a capture still works after each (during noread too);
#   - SIGKILL of moat-display: the guest runs on (its heartbeat, and a mode
#     change on the dead card), the audit has the death, moat exits 0.
# Needs a KVM that runs ring-0 code at speed: real hardware, or inside
# tests/kvmbox/run.
#
# gvnccapture (gtk-vnc 1.3.1) only speaks TCP (HOST:DISPLAY, port 5900 +
# DISPLAY; no unix sockets), saves its picture as soon as a rectangle
# reaching the bottom-right corner arrives (a server sending that tile
# before others gets a partial picture saved), and converts colours right
# only when the server's own pixel format is 32-bit with 8-bit channels (it
# hands gtk-vnc the local and remote formats the wrong way round).
#
# Usage: linux-display.sh [--part all|qemu|moat] MOAT BZIMAGE INITRD
#          run the cases here (BZIMAGE: screen_info needs the bzImage's
#          boot protocol, not PVH). INITRD: built beforehand on the host
#          by --build-initrd (building in the box is slow).
#        linux-display.sh --build-initrd BUILD OUT.cpio.gz
#          the display initramfs: tests/guest/build with bochs, virtio_input
#          and evdev (and their dependencies), BUILD/tests/guest/drm-pattern
#          and evdev-print; none of the default guest's disk and network
#          modules or e2fsprogs
#        linux-display.sh --alone [--part ...]
#          run alone from the source tree: scripts/build, --build-initrd
#          into the build directory, then the cases here or, when this
#          host's KVM cannot run Linux, in a KVM box (under flock
#          /work/box.lock when that directory exists)
# Environment: MOAT_TEST_BOOT_TIMEOUT (seconds a boot, default 300),
# MOAT_BUILD (for --alone, default build).
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOP=$(cd "$HERE/../.." && pwd)
DISPLAY_MODULES="virtio virtio_ring virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci \
virtio_input evdev bochs"

if [ "${1:-}" = --build-initrd ]; then
	[ $# = 3 ] || { echo "usage: $0 --build-initrd BUILD OUT.cpio.gz" >&2; exit 2; }
	for p in drm-pattern evdev-print; do
		[ -x "$2/tests/guest/$p" ] ||
			{ echo "$0: no $2/tests/guest/$p (meson compile; drm-pattern needs libdrm-dev)" >&2; exit 1; }
	done
	exec "$TOP/tests/guest/build" "$3" --no-default-bins --modules "$DISPLAY_MODULES" \
		--add "$2/tests/guest/drm-pattern:/bin/drm-pattern" \
		--add "$2/tests/guest/evdev-print:/bin/evdev-print"
fi
if [ "${1:-}" = --alone ]; then
	shift
	set -e
	cd "$TOP"
	BUILD=${MOAT_BUILD:-build}
	KERNEL=$(scripts/build)
	"$0" --build-initrd "$BUILD" "$BUILD/display.cpio.gz" >/dev/null
	args=("$@" "$PWD/$BUILD/monitor/moat" "$KERNEL" "$PWD/$BUILD/display.cpio.gz")
	set +e
	if tests/kvmbox/probe; then
		exec "$0" "${args[@]}"
	fi
	lock=()
	[ -d /work ] && [ -w /work ] && lock=(flock /work/box.lock)
	exec "${lock[@]}" tests/kvmbox/run --timeout 600 -- "$HERE/linux-display.sh" "${args[@]}"
fi

PART=all
if [ "${1:-}" = --part ]; then
	PART=${2:-}
	shift 2
fi
case "$PART" in all|qemu|moat) ;; *) echo "$0: --part all, qemu or moat" >&2; exit 2 ;; esac
[ $# = 3 ] || { sed -n 's/^# \{0,1\}//;/^Usage:/,/^Environment/p' "$0" | head -n -1 >&2; exit 2; }
MOAT=$1
BZIMAGE=$2
INITRD=$3
# shellcheck source=lib.sh source-path=SCRIPTDIR
. "$HERE/lib.sh"
need_root "moat run"
T=$T_TMP
BOOT_TIMEOUT=${MOAT_TEST_BOOT_TIMEOUT:-300}
CMDLINE="console=ttyS0 reboot=k panic=-1 quiet guest.action=display"
PROBE=(python3 "$HERE/rfb_probe.py" --timeout 60)
MODE2=800x600 # the mode change; QEMU's picture of it is the reference
command -v gvnccapture >/dev/null ||
	{ echo "Bail out! gvnccapture not found (scripts/deps: gvncviewer)"; exit 1; }
command -v qemu-system-x86_64 >/dev/null ||
	{ echo "Bail out! qemu-system-x86_64 not found (scripts/deps: qemu-system-x86)"; exit 1; }
ms() { date +%s%3N; }
T0=$(ms)
elapsed() { echo "$((($(ms) - T0) / 1000)) s"; }

# free_display: a display number N whose port 5900+N is free on 127.0.0.1
free_display() {
	python3 -c '
import random, socket
for n in random.sample(range(10, 1000), 990):
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", 5900 + n))
    except OSError:
        continue
    print(n)
    break'
}

# start NAME COMMAND...: COMMAND in the background under timeout (its pid
# $job), stdin from the fifo $T/NAME.in (held open on fd 3: `echo CMD >&3`
# reaches the guest's console), console in $T/NAME.out, stderr in
# $T/NAME.err
start() {
	local name=$1
	shift
	mkfifo "$T/$name.in"
	timeout "$BOOT_TIMEOUT" "$@" <"$T/$name.in" >"$T/$name.out" 2>"$T/$name.err" &
	job=$!
	exec 3<>"$T/$name.in"
}
# wait_guest NAME PATTERN SECONDS: until PATTERN is on NAME's console;
# fails early when the action ended or the VMM is gone
wait_guest() {
	local i
	for ((i = 0; i < $3 * 10; i++)); do
		grep -qa -- "$2" "$T/$1.out" && return 0
		grep -qa "^MOAT-GUEST: result" "$T/$1.out" && break
		kill -0 "$job" 2>/dev/null || break
		sleep 0.1
	done
	grep -qa -- "$2" "$T/$1.out"
}
# show NAME: the end of NAME's console and stderr, as TAP comments
show() { tail -n 25 "$T/$1.out" "$T/$1.err" 2>/dev/null | tr -d '\r' | diag; }
# gmarker NAME KEY: the value of the last "MOAT-GUEST: display KEY VALUE"
gmarker() { sed -n "s/^MOAT-GUEST: display $2 //p" "$T/$1.out" | tr -d '\r' | tail -1; }
# wait_pattern NAME WxH SECONDS: until the guest's last pattern is WxH
wait_pattern() {
	local i
	for ((i = 0; i < $3 * 10; i++)); do
		[ "$(gmarker "$1" pattern | cut -d' ' -f1)" = "$2" ] && return 0
		sleep 0.1
	done
	return 1
}
ticks() { grep -ca "^MOAT-GUEST: display tick" "$T/$1.out"; }
# wait_ticks NAME N SECONDS: until the guest printed more than N ticks
wait_ticks() {
	local i
	for ((i = 0; i < $3 * 10; i++)); do
		[ "$(ticks "$1")" -gt "$2" ] && return 0
		sleep 0.1
	done
	return 1
}
# finish_guest NAME LABEL: "done" to the guest, then the VMM's exit status
# and the action's result
finish_guest() {
	local st
	echo 'done' >&3
	wait "$job"
	st=$?
	exec 3>&-
	check "$2: the VMM exited 0 after the guest's done (got $st)" [ "$st" = 0 ]
	check "$2: the guest's action ended well" grep -qa "^MOAT-GUEST: result display ok" "$T/$1.out"
	[ "$st" = 0 ] || show "$1"
}
# probe_out FILE ARGS...: rfb_probe ARGS, its output (stdout and stderr)
# in FILE and as a comment; its status
probe_out() {
	local f=$1 st
	shift
	"${PROBE[@]}" "$@" >"$f" 2>&1
	st=$?
	diag <"$f"
	return $st
}
# quadrants LABEL FILE [WxH]: the check that FILE shows the four quadrants
# (of size WxH)
quadrants() {
	local out st
	out=$(python3 "$HERE/rfb_probe.py" quadrants "$2" 2>&1)
	st=$?
	check "$1: the four quadrants ($out)" said "$st" 0 "^quadrants ${3:+$3 }" "$out"
}
# capture_check LABEL ADDR OUT WxH [--bpp B]: a capture by rfb_probe and its
# quadrants, in a picture of WxH ("-": any size)
capture_check() {
	local label=$1 addr=$2 out=$3 size=$4
	shift 4
	if probe_out "$T/cap.txt" "$addr" capture "$out" "$@"; then
		quadrants "$label" "$out" "${size#-}"
	else
		not_ok "$label: capture failed ($(tail -n 1 "$T/cap.txt"))"
	fi
}
# gvnc_check LABEL DISPLAY OUT.png: gvnccapture HOST:DISPLAY and its quadrants
gvnc_check() {
	rm -f "$3"
	if timeout 60 gvnccapture "127.0.0.1:$2" "$3" >"$T/gvnc.txt" 2>&1 && [ -s "$3" ]; then
		quadrants "$1: gvnccapture" "$3"
	else
		not_ok "$1: gvnccapture 127.0.0.1:$2 failed ($(tail -n 1 "$T/gvnc.txt"))"
	fi
}

# kms NAME: the guest's KMS state and video memory allocations, as comments
kms() {
	local n
	n=$(grep -ca "^MOAT-GUEST: display kms" "$T/$1.out")
	echo kms >&3
	sleep 2
	grep -a "^MOAT-GUEST: display kms" "$T/$1.out" | tail -n +"$((n + 1))" | tr -d '\r' |
		grep -E 'plane|crtc|fb=|size=|src=|mode:|used|free|offset' | diag
}

# ---- QEMU: the oracle ---------------------------------------------------------
qemu_part() {
	local M port
	M=$(free_display)
	port=$((5900 + M))
	start qemu qemu-system-x86_64 -enable-kvm -cpu host -M pc -nodefaults -no-user-config \
		-m 256M -smp 1 -display none -vnc "127.0.0.1:$M" -device bochs-display \
		-serial stdio -no-reboot -kernel "$BZIMAGE" -initrd "$INITRD" \
		-append "$CMDLINE guest.mode=$MODE2"
	if ! wait_guest qemu "MOAT-GUEST: display ready" "$BOOT_TIMEOUT"; then
		not_ok "qemu: the guest put up the pattern ($(elapsed))"
		show qemu
		kill "$job" 2>/dev/null
		exec 3>&-
		return
	fi
	ok "qemu: the guest put up the pattern: $(gmarker qemu pattern) ($(elapsed))"
	gvnc_check qemu "$M" "$T/qemu.png"
	capture_check "qemu: rfb_probe 32-bit" "127.0.0.1:$port" "$T/qemu-$MODE2.ppm" "$MODE2" --bpp 32
	finish_guest qemu qemu
}

# ---- moat ------------------------------------------------------------------------
# socket_table PID MON: moat-display's descriptors, one line each:
# "FD tcp LOCALPORT STATE", "FD unix TYPE PATH" (from the monitor's network
# namespace, where the listener and the socketpairs were made), "FD
# socket-other INODE" (any other socket, or one of another namespace),
# "FD file TARGET"
socket_table() {
	python3 - "$1" "$2" <<'EOF'
import os, sys
pid, mon = sys.argv[1], sys.argv[2]
tcp, unix = {}, {}
for name in ("tcp", "tcp6"):
    try:
        for line in open(f"/proc/{mon}/net/{name}").readlines()[1:]:
            f = line.split()
            tcp[f[9]] = (int(f[1].rsplit(":", 1)[1], 16),
                         {"0A": "LISTEN", "01": "ESTABLISHED"}.get(f[3], "state-" + f[3]))
    except FileNotFoundError:
        pass
for line in open(f"/proc/{mon}/net/unix").readlines()[1:]:
    f = line.split()
    unix[f[6]] = ({"0001": "STREAM", "0002": "DGRAM", "0005": "SEQPACKET"}.get(f[4], f[4]),
                  f[7] if len(f) > 7 else "-")
for fd in sorted(os.listdir(f"/proc/{pid}/fd"), key=int):
    t = os.readlink(f"/proc/{pid}/fd/{fd}")
    if t.startswith("socket:["):
        ino = t[8:-1]
        if ino in tcp:
            print(fd, "tcp", *tcp[ino])
        elif ino in unix:
            print(fd, "unix", *unix[ino])
        else:
            print(fd, "socket-other", ino)
    else:
        print(fd, "file", t)
EOF
}

# check_display_fds PID PORT CLIENTS: the descriptor checks, with CLIENTS
# VNC clients connected
check_display_fds() {
	local pid=$1 port=$2 clients=$3 tab=$T/fds.txt
	socket_table "$pid" "$mon" >"$tab"
	diag <"$tab"
	check "moat-display: one listener, on port $port" \
		[ "$(grep -c " tcp $port LISTEN$" "$tab")" = 1 ]
	check "moat-display: $clients accepted client(s) of port $port" \
		[ "$(grep -c " tcp $port ESTABLISHED$" "$tab")" = "$clients" ]
	check "moat-display: no other TCP socket" none_but " tcp " " tcp $port " "$tab"
	check "moat-display: its other sockets are unnamed unix socketpairs from the monitor" \
		none_but " (unix|socket-other) " " unix (SEQPACKET|STREAM|DGRAM) -$" "$tab"
	check "moat-display: no file of the host open (memfd, anon inodes, pipes only)" \
		none_but " file " " file (/memfd:|anon_inode:|pipe:|/dev/null)" "$tab"
}
# none_but WHICH ALLOWED FILE: every line of FILE matching WHICH matches
# ALLOWED too (extended regular expressions)
none_but() { ! grep -E -- "$1" "$3" | grep -qvE -- "$2"; }

# nlines NAME PATTERN: how many console lines of NAME match PATTERN
nlines() { grep -ca -- "$2" "$T/$1.out"; }
# wait_n NAME PATTERN N SECONDS: until at least N lines match
wait_n() {
	local i
	for ((i = 0; i < $4 * 10; i++)); do
		[ "$(nlines "$1" "$2")" -ge "$3" ] && return 0
		sleep 0.1
	done
	return 1
}

# input_part ADDR WxH: keys and a click through VNC (the picture is WxH)
input_part() {
	local addr=$1 w=${2%x*} h=${2#*x} x y ax ay
	echo evdev >&3
	if wait_guest moat "display evdev: device .*AT Translated Set 2 keyboard" 30; then
		probe_out "$T/key.txt" "$addr" key 0x61
		check "before virtio_input, a VNC key reaches the guest's i8042 keyboard (KEY_A down, up)" \
			wait_n moat "display evdev: key 30 0" 1 15
		check "  ... as KEY_A down once" [ "$(nlines moat "display evdev: key 30 1")" = 1 ]
	else
		not_ok "the guest's evdev-print opened the i8042's AT keyboard"
		show moat
	fi
	echo input >&3
	if ! wait_guest moat "display input ready" 60; then
		not_ok "the guest loaded virtio_input"
		show moat
		return
	fi
	sed -n 's/^MOAT-GUEST: display input-device //p' "$T/moat.out" | tr -d '\r' | diag
	check "the guest finds the virtio keyboard" grep -qa 'input-device N: Name="moat virtio keyboard"' "$T/moat.out"
	check "the guest finds the virtio tablet" grep -qa 'input-device N: Name="moat virtio tablet"' "$T/moat.out"
	wait_n moat "display evdev: device .*moat virtio tablet" 1 15
	probe_out "$T/key.txt" "$addr" key 0x62
	check "a VNC key then reaches the guest (KEY_B down, up)" wait_n moat "display evdev: key 48 0" 1 15
	sleep 1
	check "  ... once: the virtio keyboard alone, not the i8042's too" \
		[ "$(nlines moat "display evdev: key 48 1")" = 1 ]
	x=$((w / 2)) y=$((h / 4))
	ax=$((x * 32767 / (w - 1))) ay=$((y * 32767 / (h - 1)))
	probe_out "$T/click.txt" "$addr" click "$x" "$y"
	check "a VNC click at $x,$y reaches the tablet at $ax,$ay of 0..32767" \
		wait_n moat "display evdev: abs $ax $ay" 1 15
	check "  ... with the left button down and up (BTN_LEFT)" wait_n moat "display evdev: key 272 0" 1 15
}

moat_part() {
	local N port addr pat size early dpid cur n0 wr
	N=$(free_display)
	port=$((5900 + N))
	addr=127.0.0.1:$port
	start moat "$MOAT" run --kernel "$BZIMAGE" --initrd "$INITRD" --mem 256M --cpus 1 \
		--cmdline "$CMDLINE guest.early-wait=120" --vnc "127.0.0.1:$N" --audit "$T/moat.audit"
	for ((i = 0; i < 100; i++)); do
		mon=$(pgrep -P "$job" -x moat) && break
		sleep 0.1
	done
	check "moat prints its VNC address (127.0.0.1:$port)" \
		wait_for "$T/moat.err" "VNC server on 127.0.0.1:$port" 30
	if ! wait_guest moat "MOAT-GUEST: display early ready" "$BOOT_TIMEOUT"; then
		not_ok "moat: the guest booted to its early console ($(elapsed))"
		show moat
		kill "$job" 2>/dev/null
		exec 3>&-
		return
	fi
	ok "moat: the guest booted to its early console ($(elapsed))"

	# -- the early console, before bochs.ko
	early=$(gmarker moat fb0)
	sed -n 's/^MOAT-GUEST: display early-log //p' "$T/moat.out" | tr -d '\r' | diag
	check "early framebuffer from screen_info: fb0 is $early" \
		grep -qiE '^(VESA VGA|simple|EFI VGA) ' <<<"$early"
	check "early framebuffer: 1024x768, 32 bpp" [ "$(awk '{print $(NF-1), $NF}' <<<"$early")" = "1024x768 32" ]
	if probe_out "$T/info.txt" "$addr" info; then
		check "ServerInit: 1024x768, 32 bpp" grep -q "^server-init 1024x768 bpp=32 " "$T/info.txt"
	else
		not_ok "ServerInit: rfb_probe info failed"
	fi
	if probe_out "$T/cap.txt" "$addr" capture "$T/early.ppm"; then
		out=$(python3 "$HERE/rfb_probe.py" nonblack "$T/early.ppm")
		check "the early console shows text: $out" python3 "$HERE/rfb_probe.py" nonblack "$T/early.ppm"
	else
		not_ok "early console: capture failed ($(tail -n 1 "$T/cap.txt"))"
	fi
	echo go >&3

	# -- bochs.ko and the pattern
	if ! wait_guest moat "MOAT-GUEST: display ready" 120; then
		not_ok "moat: bochs-drm and drm-pattern put up the pattern ($(elapsed))"
		show moat
		kill "$job" 2>/dev/null
		exec 3>&-
		return
	fi
	pat=$(gmarker moat pattern)
	size=${pat%% *}
	ok "moat: bochs-drm and drm-pattern put up the pattern: $pat ($(elapsed))"
	sed -n 's/^MOAT-GUEST: display bochs //p' "$T/moat.out" | tr -d '\r' | diag
	kms moat
	gvnc_check moat "$N" "$T/moat.png"
	for b in 32 16 8; do
		capture_check "moat: rfb_probe $b-bit" "$addr" "$T/moat-$b.ppm" "$size" --bpp "$b"
	done
	capture_check "moat: rfb_probe in the server's own format" "$addr" "$T/moat-own.ppm" "$size"

	# -- a mode change reaches a client as DesktopSize
	local m2=$MODE2
	[ "$size" = "$MODE2" ] && m2=1024x768
	"${PROBE[@]}" "$addr" watch-resize --want "$m2" >"$T/resize.txt" 2>&1 &
	wr=$!
	wait_for "$T/resize.txt" "^watching" 30
	echo "mode $m2" >&3
	wait "$wr"
	check "mode $m2 in the guest reaches the client as DesktopSize" grep -q "^resize $m2$" "$T/resize.txt"
	diag <"$T/resize.txt"
	check "the guest says it is in $m2" wait_pattern moat "$m2" 30
	capture_check "moat: after the mode change" "$addr" "$T/moat-$m2.ppm" "$m2" --bpp 32
	if [ "$m2" = "$MODE2" ] && [ -s "$T/qemu-$MODE2.ppm" ]; then
		check "moat's $MODE2 picture equals QEMU's, byte for byte" cmp -s "$T/moat-$MODE2.ppm" "$T/qemu-$MODE2.ppm"
	fi
	kms moat
	# and back to the first mode
	"${PROBE[@]}" "$addr" watch-resize --want "$size" >"$T/resize.txt" 2>&1 &
	wr=$!
	wait_for "$T/resize.txt" "^watching" 30
	echo "mode $size" >&3
	wait "$wr"
	check "back to $size: the client gets DesktopSize $size" grep -q "^resize $size$" "$T/resize.txt"
	check "back to $size: the guest says so" wait_pattern moat "$size" 30
	capture_check "moat: back in $size" "$addr" "$T/moat-back.ppm" "$size" --bpp 32
	kms moat
	echo "mode $m2" >&3
	check "and $m2 again, for what follows" wait_pattern moat "$m2" 30

	# -- input: a VNC client's key and click reach the guest, through the
	# i8042's keyboard until the guest takes the virtio keyboard, then
	# through the virtio keyboard and tablet only
	input_part "$addr" "$m2"

	# -- the sandbox
	dpid=$(child_pid "$mon" moat-display)
	check "moat-display runs under the monitor (pid ${dpid:-none})" [ -n "$dpid" ]
	if [ -n "$dpid" ]; then
		check_sandboxed "$dpid" moat-display
		for ns in user net mnt; do
			check "moat-display: its $ns namespace is not moat's" \
				[ "$(readlink "/proc/$dpid/ns/$ns")" != "$(readlink "/proc/$mon/ns/$ns")" ]
		done
		"${PROBE[@]}" "$addr" watch-resize --want 1x1 >"$T/held.txt" 2>&1 &
		wr=$!
		wait_for "$T/held.txt" "^watching" 30
		sleep 0.5
		check_display_fds "$dpid" "$port" 1
		kill "$wr" 2>/dev/null
		wait "$wr" 2>/dev/null
	fi

	# -- hostile clients
	for h in garbage truncated cutbig badversion; do
		probe_out "$T/hostile.txt" "$addr" "$h"
		check "hostile $h: moat runs on" kill -0 "$mon"
		cur=$(child_pid "$mon" moat-display)
		[ "$cur" = "$dpid" ] || echo "# hostile $h: moat-display is now ${cur:-gone} (was $dpid)"
		capture_check "after hostile $h: a capture" "$addr" "$T/after-$h.ppm" "$m2"
	done
	n0=$(ticks moat)
	"${PROBE[@]}" "$addr" noread 15 >"$T/noread.txt" 2>&1 &
	wr=$!
	sleep 3
	capture_check "while a client never reads: another's capture" "$addr" "$T/during-noread.ppm" "$m2"
	check "while a client never reads: the guest ticks on" wait_ticks moat "$((n0 + 2))" 10
	wait "$wr"
	diag <"$T/noread.txt"
	check "hostile noread: moat runs on" kill -0 "$mon"
	capture_check "after hostile noread: a capture" "$addr" "$T/after-noread.ppm" "$m2"
	check "no hostile client cost moat-display its life" [ "$(child_pid "$mon" moat-display)" = "$dpid" ]

	# -- SIGKILL of moat-display
	dpid=$(child_pid "$mon" moat-display)
	if [ -n "$dpid" ]; then
		n0=$(ticks moat)
		kill -KILL "$dpid"
		check "SIGKILL of moat-display is in the audit trail" \
			wait_for "$T/moat.audit" "child-died child=display0 kind=display pid=$dpid was killed by signal KILL" 10
		check "moat-display killed: the guest ticks on" wait_ticks moat "$((n0 + 3))" 15
		n0=$(ticks moat)
		echo "mode 1024x768" >&3
		check "moat-display killed: a mode change on the dead card does not stop the guest" \
			wait_ticks moat "$((n0 + 3))" 20
		gmarker moat mode-failed | diag
		probe_out "$T/dead.txt" "$addr" info
		echo "# a client after moat-display's death: exit $?"
		check "moat runs on without moat-display" kill -0 "$mon"
	fi
	finish_guest moat moat
	grep -a "display0" "$T/moat.audit" | diag
}

case "$PART" in all|qemu) qemu_part ;; esac
case "$PART" in all|moat) moat_part ;; esac
echo "# total $(elapsed)"
finish
