#!/usr/bin/env bash
# moat ctl on a running Linux guest (Debian's kernel, the test initramfs,
# guest.action=ctl): status with every process, pause and resume checked
# from the guest's own ticks, disk swap to another image, to none and back
# while the guest reads its disk, forwards added and removed at run time,
# the audit tail, the systemd notify socket and watchdog (and its silence
# while moat-vcpu is stopped), abuse of the control socket, a config file
# that equals a command line, and moat ctl shutdown and reset. Two boots.
# Needs a KVM that runs ring-0 code at speed: real hardware, or inside
# tests/kvmbox/run.
# Usage: linux-ctl.sh MOAT BZIMAGE INITRD
# Environment: MOAT_TEST_BOOT_TIMEOUT (seconds per boot, default 300).
MOAT=$1
BZIMAGE=$2
INITRD=$3
# shellcheck source=lib.sh source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh"
need_root "moat run"
T=$T_TMP
chmod 755 "$T" # the abuse test's other uid must reach the socket to be refused by it
HERE=$(cd "$(dirname "$0")" && pwd)
PROBE=$HERE/ctl_probe.py
BOOT_TIMEOUT=${MOAT_TEST_BOOT_TIMEOUT:-300}
CMDLINE="console=ttyS0 reboot=k panic=-1 quiet"
SOCK=$T/ctl.sock
ctl() { "$MOAT" ctl --control "$SOCK" "$@"; }
# jq-less JSON: python reads moat ctl's output
json() { python3 -c "import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1]))" "$1"; }
# ticks NAME: how many tick lines the guest printed so far
ticks() { grep -c "^MOAT-GUEST: ctl tick" "$T/$1.out"; }
# last_tick NAME FIELD: FIELD (up, vda, size) of the guest's last tick
last_tick() { grep "^MOAT-GUEST: ctl tick" "$T/$1.out" | tail -1 | tr ' ' '\n' | sed -n "s/^$2=//p" | tr -d '\r'; }
# wait_tick NAME FIELD VALUE SECONDS: until the last tick shows FIELD=VALUE
wait_tick() {
	local i
	for ((i = 0; i < $4 * 10; i++)); do
		[ "$(last_tick "$1" "$2")" = "$3" ] && return 0
		sleep 0.1
	done
	echo "# $1: last tick: $(grep "^MOAT-GUEST: ctl tick" "$T/$1.out" | tail -1)" >&2
	return 1
}
# wait_for_more NAME N SECONDS: until the guest printed more than N ticks
wait_for_more() {
	local i
	for ((i = 0; i < $3 * 10; i++)); do
		[ "$(ticks "$1")" -gt "$2" ] && return 0
		sleep 0.1
	done
	return 1
}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
http_get() { python3 -c '
import sys, urllib.request
print(urllib.request.urlopen(sys.argv[1], timeout=20).read().decode().strip())' "$1" 2>/dev/null; }
ms() { date +%s%3N; }

# Two disk images with a marker each and different sizes, a third to lock.
mkimg() { truncate -s "$2" "$1" && printf '%s' "$3" | dd of="$1" conv=notrunc status=none; }
mkimg "$T/a.img" 64M MARKER-AAAA-0001
mkimg "$T/b.img" 96M MARKER-BBBB-0002
mkimg "$T/locked.img" 32M MARKER-CCCC-0003
mkfifo "$T/fifo.img"
OSK="moat-ctl-test-osk-$(printf %046d 7)"
printf '%s' "$OSK" >"$T/osk"

# start NAME ACTION MOAT-ARGS...: moat run in the background (under
# timeout, whose pid is $job), console in $T/NAME.out, console input
# through fd 3; the monitor's own pid in $mon
start() {
	local name=$1 action=$2 i
	shift 2
	mkfifo "$T/$name.in"
	timeout "$BOOT_TIMEOUT" "$MOAT" run --audit "$T/$name.audit" "$@" \
		<"$T/$name.in" >"$T/$name.out" 2>"$T/$name.err" &
	job=$!
	exec 3<>"$T/$name.in"
	for ((i = 0; i < 100; i++)); do
		mon=$(pgrep -P "$job" -x moat) && return
		sleep 0.1
	done
}
# hold_port PORT: a listener on 127.0.0.1:PORT for 60 s, in the
# background ($holder), once it listens (python starts slowly in a box)
hold_port() {
	rm -f "$T/held"
	python3 -c "import socket,time; s=socket.socket(); s.bind(('127.0.0.1',$1)); s.listen(); open('$T/held','w').close(); time.sleep(60)" &
	holder=$!
	for ((i = 0; i < 100; i++)); do [ -e "$T/held" ] && return; sleep 0.1; done
}

# ---- boot 1: from a config file, under a stand-in for systemd ----------------
cat >"$T/vm.conf" <<EOF
[machine]
kernel = $BZIMAGE
initrd = $INITRD
cmdline = $CMDLINE guest.action=ctl guest.token=tok-ctl
mem = 256M
cpus = 1
control = $SOCK

[disk "data"]
path = $T/a.img

[net "net0"]
type = user

[smc]
osk-file = $T/osk
EOF
python3 "$PROBE" notify-listen "$T/notify.sock" "$T/notify.log" &
listener=$!
for ((i = 0; i < 50; i++)); do [ -S "$T/notify.sock" ] && break; sleep 0.1; done
# -v: should its exit status be wrong at the end, its last words say why
NOTIFY_SOCKET=$T/notify.sock WATCHDOG_USEC=1000000 start one ctl -v --config "$T/vm.conf"
if ! wait_for "$T/one.out" "MOAT-GUEST: ctl tick 0\|MOAT-GUEST: result" "$BOOT_TIMEOUT" ||
	! grep -q "MOAT-GUEST: ctl tick 0" "$T/one.out"; then
	not_ok "boot 1: the guest is up"
	tail -n 30 "$T/one.out" "$T/one.err" | diag
	kill "$job" "$listener" 2>/dev/null
	finish
	exit
fi
ok "boot 1 (--config): the guest is up and ticking"

check "control socket: a socket of mode 0600" \
	[ -S "$SOCK" -a "$(stat -c %a "$SOCK")" = 600 ]
check "systemd: READY=1 once the guest runs" wait_for "$T/notify.log" "READY=1" 10

# -- status
t0=$(ms)
ctl --json status >"$T/status.json"
st=$?
t1=$(ms)
check "status --json exits 0 ($((t1 - t0)) ms)" [ $st = 0 ]
diag <"$T/status.json"
check "status: state running" [ "$(json 'd["state"]' <"$T/status.json")" = running ]
check "status: 1 vCPU, 256 MiB" [ "$(json 'd["cpus"], d["mem_bytes"]' <"$T/status.json")" = "(1, 268435456)" ]
check "status: the monitor's pid" [ "$(json 'd["monitor_pid"]' <"$T/status.json")" = "$mon" ]
kinds=$(json '" ".join(sorted(p["kind"] for p in d["processes"]))' <"$T/status.json")
check "status: four processes: vcpu, blk, net, smc ($kinds)" [ "$kinds" = "blk net smc vcpu" ]
for k in vcpu blk net smc; do
	pid=$(json "[p['pid'] for p in d['processes'] if p['kind'] == '$k'][0]" <"$T/status.json")
	check "status: moat-$k's pid $pid is the monitor's child moat-$k" \
		[ "$(child_pid "$mon" "moat-$k")" = "$pid" ]
done
check "status: blk's backend is a.img" \
	[ "$(json "[p['backend'] for p in d['processes'] if p['kind'] == 'blk'][0]" <"$T/status.json")" = "$T/a.img" ]
check "status: blk has counters (requests)" \
	[ "$(json "[p['counters'].get('requests', -1) for p in d['processes'] if p['kind'] == 'blk'][0]" <"$T/status.json")" -gt 0 ]
lat=()
for i in 1 2 3 4 5 6 7 8 9 10; do
	t0=$(ms); ctl status >/dev/null; lat+=($(($(ms) - t0)))
done
echo "# moat ctl status latency (ms, 10 runs, process start included): ${lat[*]}"

# -- pause and resume, seen from the guest
wait_tick one vda MARKER-AAAA-0001 10
check "pause exits 0" ctl pause
sleep 0.5 # a tick in flight on the console may still land
n0=$(ticks one)
up0=$(last_tick one up)
check "status: paused" [ "$(ctl --json status | json 'd["state"]')" = paused ]
sleep 3
n1=$(ticks one)
check "paused: the guest printed no tick in 3 s ($n0, then $n1)" [ "$n0" = "$n1" ]
check "resume exits 0" ctl resume
check "resumed: the guest ticks again within 5 s" wait_for_more one "$n1" 5
up1=$(last_tick one up)
echo "# guest uptime across the 3.5 s pause: $up0 -> $up1"
check "paused: the guest's clock did not run while paused ($up0 -> $up1, under 3 s)" \
	python3 -c "import sys; sys.exit(0 if float('$up1') - float('$up0') < 3.0 else 1)"

# -- disk swap
t0=$(ms)
check "disk swap data b.img exits 0" ctl disk swap data "$T/b.img"
echo "# disk swap latency (idle guest): $(($(ms) - t0)) ms"
check "swap: the guest reads b.img's marker" wait_tick one vda MARKER-BBBB-0002 10
check "swap: the guest sees b.img's capacity (196608 sectors)" wait_tick one size 196608 10
check "swap: status names b.img" \
	[ "$(ctl --json status | json "[p['backend'] for p in d['processes'] if p['kind'] == 'blk'][0]")" = "$T/b.img" ]
check "swap: a.img is released (no moat lock left: flock -n succeeds)" flock -n "$T/a.img" true
# A read the guest makes between the swap to none and its handling of the
# config change may fail (the medium is gone): I/O errors are counted
# until then and after the swap back, not in between.
check "no I/O error reached the guest's console while it had a medium" \
	bash -c "! grep -qi 'I/O error' '$T/one.out'"
check "disk swap data none exits 0" ctl disk swap data none
check "swap none: the guest sees an empty medium (0 sectors)" wait_tick one size 0 10
check "disk swap data a.img,ro exits 0" ctl disk swap data "$T/a.img,ro"
check "swap back: the guest reads a.img's marker again" wait_tick one vda MARKER-AAAA-0001 10
check "swap back: and its capacity (131072 sectors)" wait_tick one size 131072 10
lines_back=$(wc -l <"$T/one.out")
out=$(ctl disk swap data "$T/missing.img" 2>&1)
check "swap to a missing file: exit 1 and why ($out)" said $? 1 "missing.img" "$out"
flock -x "$T/locked.img" sleep 30 &
locker=$!
sleep 0.3
out=$(ctl disk swap data "$T/locked.img" 2>&1)
check "swap to a locked image: exit 1, in use ($out)" said $? 1 "in use" "$out"
kill $locker 2>/dev/null
out=$(ctl disk swap data "$T/fifo.img" 2>&1)
check "swap to a FIFO: exit 1, not a regular file ($out)" said $? 1 "fifo" "$out"
out=$(ctl disk swap nosuch "$T/b.img" 2>&1)
check "swap of an unknown disk: exit 1 ($out)" [ $? = 1 ]
sleep 2
check "after the refused swaps the guest still reads a.img" wait_tick one vda MARKER-AAAA-0001 5
check "no I/O error reached the guest's console after the swap back" \
	bash -c "! tail -n +$lines_back '$T/one.out' | grep -qi 'I/O error'"

# -- forwards at run time
P1=$(free_port)
check "hostfwd add tcp::$P1-:80 exits 0" ctl hostfwd add "tcp::$P1-:80"
check "hostfwd: 127.0.0.1:$P1 reaches the guest's httpd" [ "$(http_get "http://127.0.0.1:$P1/")" = "moat-ctl-httpd tok-ctl" ]
check "hostfwd list shows it" bash -c "'$MOAT' ctl --control '$SOCK' hostfwd list | grep -q ':$P1-'"
check "hostfwd remove exits 0" ctl hostfwd remove "tcp::$P1-:80"
check "hostfwd: after remove, 127.0.0.1:$P1 refuses connections" \
	python3 -c "import socket,sys; s=socket.socket(); sys.exit(0 if s.connect_ex(('127.0.0.1',$P1)) != 0 else 1)"
P2=$(free_port)
hold_port "$P2"
out=$(ctl hostfwd add "tcp::$P2-:80" 2>&1)
check "hostfwd add on a port in use: exit 1 ($out)" [ $? = 1 ]
kill $holder 2>/dev/null
P3=$(free_port)
check "hostfwd: the card still works (another port added)" ctl hostfwd add "tcp::$P3-:80"
check "hostfwd: and it reaches the guest" [ "$(http_get "http://127.0.0.1:$P3/")" = "moat-ctl-httpd tok-ctl" ]

# -- audit tail, version
ctl audit tail 50 >"$T/tail.txt"
check "audit tail shows the swaps and the forward" \
	bash -c "grep -q disk-swap '$T/tail.txt' && grep -q hostfwd-add '$T/tail.txt'"
check "version: the VM runs this moat" \
	bash -c "'$MOAT' ctl --control '$SOCK' version | grep -q \"\$('$MOAT' --version | awk '{print \$2}')\""

# -- abuse
python3 "$PROBE" abuse "$SOCK" >"$T/abuse.txt" 2>&1
diag <"$T/abuse.txt"
for c in garbage truncated empty-message wrong-version huge bad-path; do
	check "abuse: $c gets an error reply" grep -q "^$c error ." "$T/abuse.txt"
done
chmod 0666 "$SOCK"
out=$(python3 "$PROBE" as-uid 65534 "$SOCK" 2>&1)
chmod 0600 "$SOCK"
check "abuse: uid 65534 is refused by SO_PEERCRED ($out)" grep -q "^error permission denied" <<<"$out"
out=$(setpriv --reuid 65534 --regid 65534 --clear-groups "$MOAT" ctl --control "$SOCK" status 2>&1)
check "abuse: uid 65534 cannot even connect to the 0600 socket (exit $?)" [ $? = 1 ]
t0=$(ms)
out=$(python3 "$PROBE" burst "$SOCK" 1000)
echo "# 1000 requests in $(($(ms) - t0)) ms"
check "abuse: 1,000 requests in a burst are all answered ($out)" [ "$out" = "answered 1000 of 1000" ]
n0=$(ticks one)
check "abuse: the guest still runs after all of it" wait_for_more one "$n0" 5

# -- the watchdog: fed while every child answers, silent while moat-vcpu is stopped
sleep 2
w0=$(grep -c WATCHDOG=1 "$T/notify.log")
check "systemd: WATCHDOG=1 at the configured rate ($w0 so far)" [ "$w0" -ge 4 ]
vcpu=$(child_pid "$mon" moat-vcpu)
kill -STOP "$vcpu"
sleep 1.2 # the round in flight may still be fed
w1=$(grep -c WATCHDOG=1 "$T/notify.log")
sleep 3
w2=$(grep -c WATCHDOG=1 "$T/notify.log")
kill -CONT "$vcpu"
check "systemd: no WATCHDOG=1 in 3 s while moat-vcpu is stopped ($w1, then $w2)" [ "$w1" = "$w2" ]
sleep 2.5
check "systemd: WATCHDOG=1 again once it runs" [ "$(grep -c WATCHDOG=1 "$T/notify.log")" -gt "$w2" ]
n0=$(ticks one)
check "stopped and continued, the guest ticks on" wait_for_more one "$n0" 5
check "no child was cut off" bash -c "! grep -q child-hostile '$T/one.audit'"

# -- graceful shutdown through the power button
check "shutdown --timeout 60 exits 0" ctl shutdown --timeout 60
wait "$job"
st=$?
check "shutdown: the guest heard the power button" grep -q "MOAT-GUEST: ctl power-button pressed" "$T/one.out"
check "shutdown: moat exited 0 (got $st)" [ $st = 0 ]
check "systemd: STOPPING=1" grep -q "STOPPING=1" "$T/notify.log"
check "systemd: EXTEND_TIMEOUT_USEC while the guest shuts down" grep -q "EXTEND_TIMEOUT_USEC=" "$T/notify.log"
check "the control socket is removed on exit" [ ! -e "$SOCK" ]
kill "$listener" 2>/dev/null
exec 3>&-
# moat's own words first: a long log is cut from the middle
if [ $st != 0 ]; then
	grep -v ' audit: ' "$T/one.err" | tail -n 25 | diag
	tail -n 8 "$T/one.audit" "$T/one.out" | diag
fi

# ---- boot 2: the same VM from the command line, by name; reset ---------------
# (as root, --name puts the socket in /run/moat/NAME: in a KVM box, its
# own /run)
NAME=moat-ctl-test-$$
start two ctl --kernel "$BZIMAGE" --initrd "$INITRD" \
	--cmdline "$CMDLINE guest.action=ctl guest.token=tok-ctl" --mem 256M --cpus 1 \
	--name "$NAME" --disk "id=data,path=$T/a.img" --net "user,id=net0" --smc "osk-file=$T/osk"
if wait_for "$T/two.out" "MOAT-GUEST: ctl tick 0" "$BOOT_TIMEOUT"; then
	ok "boot 2 (command line): the guest is up"
	check "--name: /run/moat/$NAME is a 0700 directory with the 0600 socket" \
		[ "$(stat -c %a "/run/moat/$NAME")" = 700 -a "$(stat -c %a "/run/moat/$NAME/control.sock")" = 600 ]
	ln -sf "/run/moat/$NAME/control.sock" "$SOCK"
	check "moat ctl --name finds it" "$MOAT" ctl --name "$NAME" version
	ctl --json status >"$T/status2.json"
	shape='[d["cpus"], d["mem_bytes"], sorted((p["kind"], p["id"], p["backend"]) for p in d["processes"])]'
	a=$(json "$shape" <"$T/status.json" | sed "s#$T/b.img#$T/a.img#")
	b=$(json "$shape" <"$T/status2.json")
	check "the config file and the command line give the same VM" [ "$a" = "$b" ]
	[ "$a" = "$b" ] || { echo "file: $a"; echo "line: $b"; } | diag
	check "reset exits 0" ctl reset
	wait "$job"
	st=$?
	check "reset: moat exited 0 (got $st)" [ $st = 0 ]
	check "reset: the audit trail says so" grep -q "vm-reset" "$T/two.audit"
	check "--name: the directory is removed on exit" [ ! -e "/run/moat/$NAME" ]
	rm -f "$SOCK"
else
	not_ok "boot 2 (command line): the guest is up"
	tail -n 30 "$T/two.out" "$T/two.err" | diag
	kill "$job" 2>/dev/null
fi
exec 3>&-

# ---- no VM: clear errors ---------------------------------------------------------
out=$("$MOAT" ctl --control "$T/nothing.sock" status 2>&1)
check "ctl without a VM: exit 1 and the path named ($out)" said $? 1 nothing.sock "$out"
"$MOAT" ctl status >/dev/null 2>&1
check "ctl without --name or --control: exit 2" [ $? = 2 ]
finish
