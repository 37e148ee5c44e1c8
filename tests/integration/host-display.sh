#!/usr/bin/env bash
# The display on KVM with the tiny PVH guest ('d', tests/tinyguest/tiny.S),
# which draws straight into the video memory and programs bochs-display's
# registers itself, so no Linux driver is involved: moat prints the VNC
# address; a VNC client (tests/integration/rfb_probe.py) sees the guest's
# picture in 32, 16 and 8-bit colour; a mode change reaches it as
# DesktopSize; moat-display's sandbox as /proc shows it (its video memory
# mapped read-only, no socket but the listener and its clients); hostile
# register writes from the guest and hostile VNC clients leave it serving;
# SIGKILL of moat-display leaves the guest running; bad --vnc input.
# Needs root and /dev/kvm.
# Usage: host-display.sh MOAT TINY_ELF
MOAT=$1
TINY=$2
. "$(dirname "$0")/lib.sh"

need_host_kvm
T=$T_TMP
PROBE="$(dirname "$0")/rfb_probe.py"

# a display number whose port is free on loopback
free_display() {
	python3 - <<'EOF'
import socket
for n in range(31, 99):
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", 5900 + n))
    except OSError:
        continue
    finally:
        s.close()
    print(n)
    break
EOF
}
N=$(free_display)
ADDR=127.0.0.1:$((5900 + N))

# The guest's console is moat's stdin and stdout: commands go through a FIFO.
mkfifo "$T/in"
"$MOAT" run --kernel "$TINY" --cmdline d --vnc "127.0.0.1:$N" --audit "$T/vm.audit" \
	<"$T/in" >"$T/vm.log" 2>"$T/vm.err" &
mon=$!
exec 3>"$T/in"
say() { printf '%s' "$1" >&3; }

if ! wait_for "$T/vm.log" "TINY: drawn" 60; then
	not_ok "the guest draws (console: $(tr '\n' ' ' <"$T/vm.log" | tail -c 300); $(tail -3 "$T/vm.err" | tr '\n' ' '))"
	kill -9 "$mon" 2>/dev/null
	finish
	exit
fi
ok "the tiny guest draws into the video memory"
check "moat prints the VNC address" grep -q "VNC server on $ADDR" "$T/vm.err"
check "the audit's vm-start names it" grep -q "vm-start .*vnc=\"$ADDR\"" "$T/vm.audit"

# picture NAME [WxH] [--bpp N]: a VNC client's picture ($T/NAME.ppm, by
# rfb_probe) shows the four quadrants (and is WxH)
picture() {
	local name=$1 size=
	shift
	case "${1:-}" in *x*) size=${1/x/ } && shift ;; esac
	timeout 30 python3 "$PROBE" --timeout 20 "$ADDR" capture "$T/$name.ppm" "$@" \
		>"$T/$name.probe" 2>&1 || { diag <"$T/$name.probe"; return 1; }
	python3 "$PROBE" quadrants "$T/$name.ppm" >"$T/$name.check" 2>&1 ||
		{ diag <"$T/$name.check"; return 1; }
	[ -z "$size" ] || [ "$(head -c 20 "$T/$name.ppm" | sed -n 2p)" = "$size" ]
}

check "a VNC client sees the four quadrants at 1024x768 (32 bits)" picture q32 1024x768
check "the same in 16-bit colour (RGB565)" picture q16 --bpp 16
check "the same in 8-bit colour (BGR233)" picture q8 --bpp 8

disp=$(child_pid "$mon" moat-display)
check "moat-display runs under the monitor" [ -n "$disp" ]
if [ -n "$disp" ]; then
	check_sandboxed "$disp" moat-display
	n=$(sed -n "s/.*child-ready child=display0 .*syscalls=\([0-9]*\).*/\1/p" "$T/vm.audit")
	check "moat-display's policy size is in the audit trail (${n:-?} syscalls)" [ "${n:-0}" -gt 0 ]
	check "its video memory is mapped read-only (r--s)" \
		bash -c "grep moat-vram /proc/$disp/maps | awk '{print \$2}' | sort -u | grep -qx 'r--s'"
	# the listener, and no client now: one socket besides the ring's
	# doorbell, the control channel and the keyboard channel (AF_UNIX)
	tcp=$(ls -l /proc/$disp/fd | grep -c 'socket:')
	inodes=$(for f in /proc/$disp/fd/*; do readlink "$f"; done | sed -n 's/socket:\[\([0-9]*\)\]/\1/p')
	ntcp=0
	for i in $inodes; do
		grep -q " $i " /proc/net/tcp /proc/net/tcp6 2>/dev/null && ntcp=$((ntcp + 1))
	done
	check "its only TCP socket is the listener it was given ($ntcp TCP of $tcp sockets)" [ "$ntcp" = 1 ]
fi

# A mode change through the registers: a client watching hears DesktopSize.
timeout 30 python3 "$PROBE" --timeout 25 "$ADDR" watch-resize --want 800x600 >"$T/resize.out" 2>&1 &
watcher=$!
wait_for "$T/resize.out" "watching" 10
say m
check "the guest sets 800x600 through DISPI" wait_for "$T/vm.log" "TINY: mode 800x600" 30
wait "$watcher"
check "a client watching hears DesktopSize 800x600" grep -q "resize 800x600" "$T/resize.out"
check "and sees the quadrants at 800x600" picture m800 800x600

# The guest writes garbage all over the registers; moat-display must serve on.
say x
check "the guest's 20000 hostile register writes end" wait_for "$T/vm.log" "TINY: hostile done" 60
check "moat-display survives them" kill -0 "$disp"
modes() { grep -c 'TINY: mode 800x600' "$T/vm.log"; }
# wait_modes N: the guest has said it set 800x600 N times
wait_modes() {
	local i
	for ((i = 0; i < 300; i++)); do
		[ "$(modes)" -ge "$1" ] && return 0
		sleep 0.1
	done
	return 1
}
say m
check "the guest sets 800x600 again" wait_modes 2
check "and the picture is back" picture after 800x600

# Hostile clients: each is dropped or ignored; the server goes on.
for h in "garbage 65536" truncated cutbig "noread 3" badversion; do
	timeout 30 python3 "$PROBE" --timeout 10 "$ADDR" $h >"$T/hostile.out" 2>&1
	check "a hostile client ($h) leaves moat-display serving" picture hostile
done

# stuck_report: where moat and moat-vcpu are when the guest stopped
# answering (this check has failed now and then in the KVM box, issue 17):
# the console's and moat's last lines, and each thread's state, kernel
# wait channel and kernel stack
stuck_report() {
	local pid tid
	{
		echo "console: $(tail -c 300 "$T/vm.log" | tr '\n' ' ')"
		echo "moat's stderr:"
		tail -n 8 "$T/vm.err"
		echo "audit:"
		tail -n 4 "$T/vm.audit"
		for pid in "$mon" $(pgrep -P "$mon" -x moat-vcpu); do
			for tid in /proc/"$pid"/task/*; do
				echo "$(cat "$tid/comm" 2>/dev/null) ${tid#/proc/}:" \
					"$(awk '{print $3}' "$tid/stat" 2>/dev/null)" \
					"wchan=$(cat "$tid/wchan" 2>/dev/null)"
				head -n 6 "$tid/stack" 2>/dev/null | sed 's/^/    /'
			done
		done
	} | diag
}

# SIGKILL of moat-display: the guest goes on (it still answers on COM1).
kill -9 "$disp"
sleep 1
say m
if wait_modes 3; then
	ok "after SIGKILL of moat-display the guest still runs (and its mode registers read 0)"
else
	not_ok "after SIGKILL of moat-display the guest still runs (and its mode registers read 0)"
	stuck_report
fi
check "the audit records moat-display's death" \
	grep -q "child-died child=display0 kind=display pid=$disp was killed by signal KILL" "$T/vm.audit"
say .
exec 3>&-
# never wait forever: a VM that does not end is a failure, and is killed
for ((i = 0; i < 300 && $(kill -0 "$mon" 2>/dev/null && echo 1 || echo 0); i++)); do
	sleep 0.1
done
if kill -0 "$mon" 2>/dev/null; then
	not_ok "the guest's reset ends moat (it still runs after 30 s: killed)"
	kill -9 "$mon"
	wait "$mon" 2>/dev/null
else
	wait "$mon"
	st=$?
	check "the guest's reset ends moat with status 0 (got $st)" [ "$st" = 0 ]
fi

# Bad --vnc input: one line, exit 2, nothing left behind.
bad() { # bad NAME PATTERN ARGS...
	local name=$1 pat=$2 st
	shift 2
	timeout 30 "$MOAT" run --kernel "$TINY" --cmdline h --serial none "$@" >"$T/$name.out" 2>"$T/$name.err"
	st=$?
	[ "$st" = 2 ] && grep -q -- "$pat" "$T/$name.err" || {
		echo "# $name: exit $st" >&2
		diag <"$T/$name.err"
		return 1
	}
}
python3 -c "
import socket, time, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('127.0.0.1', $((5900 + N)))); s.listen(1)
open('$T/busy', 'w').write('listening'); time.sleep(120)" 2>"$T/busy.err" &
busy=$!
# python starts slowly in a busy box: moat must not get there first
check "a listener holds the VNC port" wait_for "$T/busy" listening 60 || diag <"$T/busy.err"
check "a VNC port in use is refused" bad inuse "cannot listen on $ADDR" --vnc "127.0.0.1:$N"
kill "$busy" 2>/dev/null
touch "$T/file"
check "a unix path that is a file is refused" bad notsock "not a socket" --vnc "unix:$T/file"
check "a bad display number is refused" bad badnum "display number" --vnc "127.0.0.1:x"
check "--vnc with --display none is refused" bad both "conflicts" --vnc ":$N" --display none
check "a unix socket works and is removed at the end" \
	bash -c "timeout 30 '$MOAT' run --kernel '$TINY' --cmdline h --serial none --vnc 'unix:$T/vnc.sock' --audit '$T/unix.audit' >/dev/null 2>'$T/unix.err' && grep -q 'VNC server on unix:$T/vnc.sock' '$T/unix.err' && [ ! -e '$T/vnc.sock' ]"
check "moat-display's counters are in the audit trail at the end" \
	grep -Eq "child-stats child=display0 .*clients=0 .*frames=[0-9]+ .*register_writes=[0-9]+" "$T/unix.audit"
finish
