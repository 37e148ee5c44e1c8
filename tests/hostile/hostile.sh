#!/usr/bin/env bash
# The monitor against children that misbehave (issue: "the monitor checks,
# it does not believe"). hostile-moat is the real monitor code with its
# children looked up in a directory of ours, where stand-in copies named
# moat-vcpu, moat-smc, moat-net and moat-blk do what their .mode file says
# (stand_in.c). For each misbehaviour: the child is cut off and audited as
# hostile, the audit trail holds no forged line and stays under its cap,
# the monitor stays responsive (SIGTERM ends it within a second) and idle,
# and the exit status is the true one. Needs root; no KVM (a stand-in vCPU runs no
# guest). The control socket is driven by the real moat ctl (REAL_MOAT)
# and by raw clients (ctl_probe.py). Usage: hostile.sh HOSTILE_MOAT
# STAND_IN REAL_MOAT
MOAT=$1
STAND_IN=$2
REAL_MOAT=$3
PROBE=$(cd "$(dirname "$0")/../integration" && pwd)/ctl_probe.py
. "$(dirname "$0")/../integration/lib.sh"

need_root "it spawns sandboxed children"
T=$T_TMP
chmod 755 "$T" # the children run as an unprivileged uid and read their mode
mkdir -m 755 "$T/bin"
cp "$STAND_IN" "$T/bin/moat-vcpu"
cp "$STAND_IN" "$T/bin/moat-smc"
cp "$STAND_IN" "$T/bin/moat-net"
od -An -tx1 -N32 /dev/urandom | tr -d ' \n' >"$T/osk" # 64 bytes no one else has
KERNEL=$STAND_IN # any regular file: the stand-in vCPU loads nothing

# start NAME VCPU_MODE SMC_MODE|- : a VM in the background, pid in $mon
start() {
	local name=$1 smc=()
	echo "$2" >"$T/bin/moat-vcpu.mode"
	echo "$3" >"$T/bin/moat-smc.mode"
	[ "$3" != - ] && smc=(--smc "osk-file=$T/osk")
	"$MOAT" "$T/bin" /dev/null run --kernel "$KERNEL" --serial none --mem 64M \
		--audit "$T/$name.audit" "${smc[@]}" >"$T/$name.out" 2>"$T/$name.err" </dev/null &
	mon=$!
}

# finish_within SECONDS: wait for $mon at most that long; status in $st
finish_within() {
	local i
	for ((i = 0; i < $1 * 20; i++)); do
		kill -0 "$mon" 2>/dev/null || break
		sleep 0.05
	done
	if kill -0 "$mon" 2>/dev/null; then
		kill -KILL "$mon"
		wait "$mon"
		st=timeout
		return 1
	fi
	wait "$mon"
	st=$?
}

# Every line of the audit trail is one the monitor wrote: a timestamp, its
# pid, an event; no line came from a child's string.
audit_clean() {
	local f=$1 pid=$2
	[ -s "$f" ] && ! grep -qav "^[0-9]\{4\}-[0-9][0-9]-[0-9][0-9]T[0-9:]*Z moat\[$pid\] [a-z-]* " "$f" &&
		! grep -qa $'\x1b' "$f" && [ "$(grep -c "^[^ ]* moat\[$pid\] vm-end " "$f")" = 1 ]
}

# No stand-in is left running (ours: their executables are in $T/bin; other
# tests' real moat children may be running beside us).
no_children() {
	local p
	for p in /proc/[0-9]*; do
		case "$(readlink "$p/exe" 2>/dev/null)" in "$T/bin/"*) return 1 ;; esac
	done
}

# CPU time (ticks) the monitor used over one second.
idle_ticks() {
	local a b
	a=$(awk '{print $14 + $15}' "/proc/$1/stat")
	sleep 1
	b=$(awk '{print $14 + $15}' "/proc/$1/stat")
	echo $((b - a))
}

# memory_holds PID FILE: does the process's memory hold FILE's bytes?
memory_holds() {
	python3 - "$1" "$2" <<'EOF'
import re, sys
pid, needle = sys.argv[1], open(sys.argv[2], "rb").read()
found = False
with open(f"/proc/{pid}/maps") as maps, open(f"/proc/{pid}/mem", "rb", 0) as mem:
    for line in maps:
        m = re.match(r"([0-9a-f]+)-([0-9a-f]+) r", line)
        if not m or "[vvar" in line or "[vsyscall" in line:
            continue
        lo, hi = int(m.group(1), 16), int(m.group(2), 16)
        try:
            mem.seek(lo)
            found = found or needle in mem.read(hi - lo)
        except OSError:
            pass
sys.exit(0 if found else 1)
EOF
}

# ---- a well-behaved pair: the baseline ---------------------------------------
start good good good
if wait_for "$T/good.audit" "child-ready child=vcpu" 10; then
	ok "good stand-ins start"
	bash -c 'k=$(<"$1"); sleep 30; : "$k"' holder "$T/osk" &
	holder=$!
	sleep 0.2
	check "the memory scan finds the OSK where it is (a shell holding it)" memory_holds "$holder" "$T/osk"
	kill "$holder"
	check "the OSK is nowhere in the monitor's memory once handed over" \
		eval "! memory_holds $mon '$T/osk'"
	check "READY is audited with what /proc showed" \
		grep -Eq "child-ready child=smc0 kind=smc pid=[0-9]+ uid=[0-9]+ caps=none no_new_privs=1 seccomp=2 syscalls=[0-9]+ namespaces=user,mnt,pid,net,ipc,uts,cgroup" "$T/good.audit"
	t0=$(date +%s%N)
	kill -TERM "$mon"
	finish_within 5
	t=$((($(date +%s%N) - t0) / 1000000))
	check "SIGTERM: a clean stop, exit 0 (got $st) in ${t} ms" [ "$st" = 0 ]
	check "the device's answer to our STATS request is audited" grep -q "child-stats child=smc0 .*requests_seen=0" "$T/good.audit"
else
	not_ok "good stand-ins start"
	diag <"$T/good.err"
	kill -KILL "$mon"; wait "$mon"
fi

# ---- a device that dies is restarted, within a budget (issue 15) --------------
# The successor is a new process, checked at READY against /proc like the
# first; a successor that lies is cut off, and its death counts against
# the budget; the fourth death within a minute is not restarted. The
# monitor stays responsive, and the audit trail holds only its own lines.
start restart good good
a=$T/restart.audit
count() { grep -c "$1 child=smc0" "$a"; }
if wait_for "$a" "child-ready child=vcpu" 10; then
	first=$(child_pid "$mon" moat-smc)
	[ -n "$first" ] && kill -KILL "$first"
	wait_for "$a" "child-reattached child=smc0" 10
	second=$(child_pid "$mon" moat-smc)
	check "restart: a killed device gets a new process ($first, then $second)" \
		[ -n "$second" -a "$second" != "$first" ]
	check "restart: the new process was checked at READY" [ "$(count child-ready)" = 2 ]
	check "restart: audited with its cause" \
		grep -q "child-restart child=smc0 kind=smc pid=$first cause=\"was killed by signal KILL\" process=2" "$a"
	echo lie >"$T/bin/moat-smc.mode"
	[ -n "$second" ] && kill -KILL "$second"
	wait_for "$a" "child-restart-refused child=smc0" 30
	check "restart: successors that lie are cut off ($(count child-hostile) of them)" \
		[ "$(count child-hostile)" = 2 ]
	check "restart: three restarts in a minute, then none ($(count child-restart) restarts)" \
		[ "$(count child-restart)" = 3 -a "$(count child-restart-refused)" = 1 ]
	check "restart: the refusal is logged" grep -q "the VM continues without it" "$T/restart.err"
	check "restart: no moat-smc left running" bash -c "! pgrep -P $mon -x moat-smc"
	kill -TERM "$mon"
	finish_within 5
	check "restart: then SIGTERM stops it, exit 0 (got $st)" [ "$st" = 0 ]
	check "restart: the audit trail holds only the monitor's lines" audit_clean "$a" "$mon"
else
	not_ok "restart: good stand-ins start"
	diag <"$T/restart.err"
	kill -KILL "$mon"; wait "$mon"
fi
echo good >"$T/bin/moat-smc.mode"

# A compromised moat-smc leaves a tampered state file and dies: the real
# moat-smc that succeeds it refuses the state (it names a read-only key)
# and does not start; so do the next two; then the device stays detached.
REAL_SMC=$(dirname "$REAL_MOAT")/../devproc/smc/moat-smc
if [ -x "$REAL_SMC" ]; then
	start tamper good scribble-state
	a=$T/tamper.audit
	if wait_for "$a" "child-ready child=vcpu" 10; then
		first=$(child_pid "$mon" moat-smc)
		cp "$REAL_SMC" "$T/bin/moat-smc.real" && mv "$T/bin/moat-smc.real" "$T/bin/moat-smc"
		[ -n "$first" ] && kill -KILL "$first"
		wait_for "$a" "child-restart-refused child=smc0" 30
		check "tamper: the real successor refuses the state it finds" \
			grep -q "the SMC state the previous process left is not valid" "$T/tamper.err"
		check "tamper: no successor served ($(grep -c 'child-reattached child=smc0' "$a") reattached)" \
			[ "$(grep -c 'child-reattached child=smc0' "$a")" = 0 ]
		check "tamper: three tries, then detached for good" \
			[ "$(grep -c 'child-restart child=smc0' "$a")" = 3 ]
		kill -TERM "$mon"
		finish_within 5
		check "tamper: then SIGTERM stops it, exit 0 (got $st)" [ "$st" = 0 ]
	else
		not_ok "tamper: stand-ins start"
		diag <"$T/tamper.err"
		kill -KILL "$mon"; wait "$mon"
	fi
	cp "$STAND_IN" "$T/bin/moat-smc.new" && mv "$T/bin/moat-smc.new" "$T/bin/moat-smc"
	echo good >"$T/bin/moat-smc.mode"
else
	not_ok "tamper: the real moat-smc is beside moat ($REAL_SMC)"
fi

# ---- a disk's in-flight record, tampered with (issue 15) -----------------------
# A compromised moat-blk leaves a state file with a valid transport image
# (queue 0 live, its rings in guest RAM) and an in-flight record no
# moat-blk writes, and is killed once the real moat-blk is in its place
# (a stand-in that died by itself would be restarted as a stand-in): the
# real moat-blk that succeeds it refuses the record and does not start; so
# do the next two; then the disk stays detached. Guest RAM outside the queue's rings stays as the compromised
# process left it (every byte 0x5a: scribble_blk.h). A record a real
# moat-blk could have left is taken back, so a refusal is the record's
# doing, not the image's or the rings'.
REAL_BLK=$(dirname "$REAL_MOAT")/../devproc/blk/moat-blk
truncate -s 1M "$T/disk.img"
cp "$STAND_IN" "$T/bin/moat-blk"

# start_disk NAME BLK_MODE: a VM with a stand-in vCPU and one disk, blk0
start_disk() {
	echo good >"$T/bin/moat-vcpu.mode"
	echo "$2" >"$T/bin/moat-blk.mode"
	"$MOAT" "$T/bin" /dev/null run --kernel "$KERNEL" --serial none --mem 64M \
		--disk "path=$T/disk.img,format=raw" --audit "$T/$1.audit" \
		>"$T/$1.out" 2>"$T/$1.err" </dev/null &
	mon=$!
}

# ram_untouched PID: the guest RAM monitor PID holds (its one regular file
# of 64 MiB) is 0x5a outside queue 0's rings (SCRIBBLE_RING_GPA..END).
ram_untouched() {
	python3 - "$1" <<'EOF'
import os, stat, sys
pid, lo, hi = sys.argv[1], 0x200000, 0x203000
ram = []
for fd in os.listdir(f"/proc/{pid}/fd"):
    try:
        st = os.stat(f"/proc/{pid}/fd/{fd}")
    except OSError:
        continue
    if stat.S_ISREG(st.st_mode) and st.st_size == 64 << 20:
        ram.append(fd)
if len(ram) != 1:
    sys.exit(f"guest RAM not found among the monitor's descriptors ({len(ram)} candidates)")
with open(f"/proc/{pid}/fd/{ram[0]}", "rb") as f:
    data = f.read()
bad = sum(len(part) - part.count(0x5a) for part in (data[:lo], data[hi:]))
sys.exit(f"{bad} bytes changed outside the rings" if bad else 0)
EOF
}

# swap_in_real: the real moat-blk replaces the stand-in, which is killed
swap_in_real() {
	local first
	first=$(child_pid "$mon" moat-blk)
	cp "$REAL_BLK" "$T/bin/moat-blk.real" && mv "$T/bin/moat-blk.real" "$T/bin/moat-blk"
	[ -n "$first" ] && kill -KILL "$first"
}
swap_back() { cp "$STAND_IN" "$T/bin/moat-blk.new" && mv "$T/bin/moat-blk.new" "$T/bin/moat-blk"; }
blk_count() { grep -c "$1 child=blk0" "$a"; }

if [ -x "$REAL_BLK" ]; then
	for mode in scribble-inflight scribble-counter; do
		start_disk "$mode" "$mode"
		a=$T/$mode.audit
		if wait_for "$a" "child-ready child=vcpu" 10; then
			swap_in_real
			wait_for "$a" "child-restart-refused child=blk0" 30
			check "$mode: the real successor refuses the record, and says why" \
				grep -q "^\[blk0\] moat-blk[^ ]*: error: queue 0 cannot be taken back.*in-flight record" \
				"$T/$mode.err"
			check "$mode: no successor served ($(blk_count child-reattached) reattached)" \
				[ "$(blk_count child-reattached)" = 0 ]
			check "$mode: three tries, then detached for good ($(blk_count child-restart) restarts)" \
				[ "$(blk_count child-restart)/$(blk_count child-restart-refused)" = 3/1 ]
			check "$mode: no moat-blk left running" bash -c "! pgrep -P $mon -x moat-blk >/dev/null"
			check "$mode: guest RAM outside the queue untouched" ram_untouched "$mon"
			kill -TERM "$mon"
			finish_within 5
			check "$mode: then SIGTERM stops it, exit 0 (got $st)" [ "$st" = 0 ]
			check "$mode: the audit trail holds only the monitor's lines" audit_clean "$a" "$mon"
		else
			not_ok "$mode: the VM with a stand-in disk starts"
			diag <"$T/$mode.err"
			kill -KILL "$mon"; wait "$mon"
		fi
		swap_back
	done
	# the control: a record as a real moat-blk leaves it is taken back
	start_disk save-inflight save-inflight
	a=$T/save-inflight.audit
	if wait_for "$a" "child-ready child=vcpu" 10; then
		swap_in_real
		check "save-inflight: the real successor takes a valid record back and serves" \
			wait_for "$a" "child-reattached child=blk0" 10
		check "save-inflight: ... and says so" \
			grep -q "^\[blk0\] moat-blk[^ ]*: info: restarted (process 2 of this device), its state taken back" \
			"$T/save-inflight.err"
		check "save-inflight: guest RAM outside the queue untouched" ram_untouched "$mon"
		kill -TERM "$mon"
		finish_within 5
		check "save-inflight: then SIGTERM stops it, exit 0 (got $st)" [ "$st" = 0 ]
	else
		not_ok "save-inflight: the VM with a stand-in disk starts"
		diag <"$T/save-inflight.err"
		kill -KILL "$mon"; wait "$mon"
	fi
	swap_back
	# A valid record whose request in flight is a descriptor chain that
	# loops: guest RAM is never a reason to refuse (decision 0024), so the
	# successor serves; the loop breaks the queue when the request is taken
	# again (the device then asks for a reset), and nothing hangs or spins.
	start_disk scribble-loop scribble-loop
	a=$T/scribble-loop.audit
	if wait_for "$a" "child-ready child=vcpu" 10; then
		swap_in_real
		check "scribble-loop: the real successor takes the record back and serves" \
			wait_for "$a" "child-reattached child=blk0" 10
		sleep 0.5
		blk=$(child_pid "$mon" moat-blk)
		check "scribble-loop: it stays up (pid ${blk:-none}, $(blk_count child-restart) restart)" \
			[ "${blk:+up}/$(blk_count child-restart)" = up/1 ]
		ticks=99
		[ -n "$blk" ] && ticks=$(idle_ticks "$blk")
		check "scribble-loop: the loop does not make it spin ($ticks ticks in a second)" \
			[ "$ticks" -le 3 ]
		check "scribble-loop: guest RAM outside the queue untouched" ram_untouched "$mon"
		kill -TERM "$mon"
		finish_within 5
		check "scribble-loop: then SIGTERM stops it, exit 0 (got $st)" [ "$st" = 0 ]
	else
		not_ok "scribble-loop: the VM with a stand-in disk starts"
		diag <"$T/scribble-loop.err"
		kill -KILL "$mon"; wait "$mon"
	fi
	swap_back
else
	not_ok "disk tamper: the real moat-blk is beside moat ($REAL_BLK)"
fi

# ---- SIGTERM presses the power button ------------------------------------------
# A guest that takes the press and never powers off is stopped once
# --shutdown-timeout has passed; a second SIGTERM does not wait for it.
deaf() { # deaf NAME TIMEOUT: moat with a vcpu that ignores the power button
	echo deaf-button >"$T/bin/moat-vcpu.mode"
	"$MOAT" "$T/bin" /dev/null run --kernel "$KERNEL" --serial none --mem 64M \
		--shutdown-timeout "$2" --audit "$T/$1.audit" >"$T/$1.out" 2>"$T/$1.err" </dev/null &
	mon=$!
	wait_for "$T/$1.audit" "child-ready child=vcpu" 10
}
if deaf deaf 2; then
	t0=$(date +%s%N)
	kill -TERM "$mon"
	finish_within 10
	t=$((($(date +%s%N) - t0) / 1000000))
	check "a guest that ignores the power button is stopped after --shutdown-timeout 2 (${t} ms), exit 0 (got $st)" \
		bash -c "[ '$st' = 0 ] && [ $t -ge 1900 ]"
	check "... and moat says why" grep -q "did not power off within 2 s" "$T/deaf.err"
else
	not_ok "a vcpu that ignores the power button starts"
	kill -KILL "$mon"; wait "$mon"
fi
if deaf deaf-twice 300; then
	kill -TERM "$mon"
	sleep 0.3
	t0=$(date +%s%N)
	kill -TERM "$mon"
	finish_within 5
	t=$((($(date +%s%N) - t0) / 1000000))
	check "a second SIGTERM stops it without waiting out the timeout (${t} ms), exit 0 (got $st)" [ "$st" = 0 ]
else
	not_ok "a vcpu that ignores the power button starts (twice)"
	kill -KILL "$mon"; wait "$mon"
fi

# cut_off_at_start NAME CHILD KIND VCPU_MODE SMC_MODE: a child cut off before
# the VM ran: exit 1, audited as hostile, a clean audit trail.
cut_off_at_start() {
	local name=$1 child=$2 kind=$3 a=$T/$1.audit
	start "$name" "$4" "$5"
	finish_within 10
	check "$name: exit 1 (got $st)" [ "$st" = 1 ]
	check "$name: audited as hostile" grep -q "child-hostile child=$child kind=$kind .*reason=" "$a"
	check "$name: the audit trail holds only the monitor's lines" audit_clean "$a" "$mon"
	grep -a child-hostile "$a" | diag
}

# ---- host uids: one per child, no two VMs alike, even across PID namespaces --
uids_of() { sed -n 's/.* child-start .* uid=\([0-9]*\) .*/\1/p' "$1" | sort; }
check "each child of a VM has a uid of its own" \
	bash -c "[ \"\$(sort -u <<<'$(uids_of "$T/good.audit")' | wc -l)\" = 2 ]"
# Two monitors that are each pid 1 of a PID namespace of their own: a uid
# made from the monitor's pid would be the same in both.
for ns in 1 2; do
	unshare --pid --fork --mount-proc "$MOAT" "$T/bin" /dev/null run --kernel "$KERNEL" \
		--serial none --mem 64M --smc "osk-file=$T/osk" --audit "$T/pidns$ns.audit" \
		>"$T/pidns$ns.out" 2>"$T/pidns$ns.err" </dev/null &
	eval "ns$ns=\$!"
done
if wait_for "$T/pidns1.audit" "child-ready child=vcpu" 10 && wait_for "$T/pidns2.audit" "child-ready child=vcpu" 10; then
	ok "two moats, each pid 1 of its own PID namespace, run at once"
	check "their monitors are both pid 1 in there" \
		bash -c "grep -q 'moat\[1\] vm-start' '$T/pidns1.audit' && grep -q 'moat\[1\] vm-start' '$T/pidns2.audit'"
	all=$( (uids_of "$T/pidns1.audit"; uids_of "$T/pidns2.audit") | sort)
	check "their four children have four distinct uids ($(echo $all))" \
		[ "$(sort -u <<<"$all" | wc -l)" = 4 ]
else
	not_ok "two moats, each pid 1 of its own PID namespace, run at once"
	cat "$T/pidns1.err" "$T/pidns2.err" | diag
fi
pkill -TERM -f "^$MOAT $T/bin" ; wait "$ns1" "$ns2"

# ---- a hostile moat-vcpu: cut off, and the VM is over (exit 1) --------------
for mode in ready-twice ready-fds exit-twice lie unconfined hangup hangup-leader; do
	cut_off_at_start "vcpu-$mode" vcpu vcpu "$mode" -
done
# each reason, as the audit trail gives it
while IFS='|' read -r name what reason; do
	check "$name: $what" grep -q "reason=\"$reason" "$T/$name.audit"
done <<'EOF'
vcpu-ready-twice|the reason names it|sent READY more than 1 time
vcpu-ready-fds|the reason names the descriptors|sent 1 descriptors with READY
vcpu-exit-twice|the reason names it|sent EXIT more than 1 time
vcpu-lie|the claimed policy size is refused|claims a policy of
vcpu-unconfined|/proc shows it is not confined|holds capabilities
vcpu-hangup|a closed channel with the child alive is cut off|closed its control channel but stayed alive
vcpu-hangup-leader|a dead main thread is not an exiting process|closed its control channel but stayed alive
EOF

# EXIT, then a death by SIGSYS: the real end wins
start vcpu-exit-sigsys exit-sigsys -
finish_within 10
check "vcpu EXIT then SIGSYS: exit 1, not the claimed clean end (got $st)" [ "$st" = 1 ]
check "vcpu EXIT then SIGSYS: the death is audited as it was" \
	grep -q "child-died child=vcpu kind=vcpu .*seccomp" "$T/vcpu-exit-sigsys.audit"
check "vcpu EXIT then SIGSYS: the audit trail is clean" audit_clean "$T/vcpu-exit-sigsys.audit" "$mon"

# the run phase's filter, stacked after READY: set-up ioctls kill
start vcpu-create-vm-late create-vm-late -
finish_within 10
check "vcpu KVM_CREATE_VM after the run phase began: exit 1 (got $st)" [ "$st" = 1 ]
# The call is named when the kernel's audit record of the kill is there to
# read (/dev/kmsg; the kernel rate-limits them when many kills come at once).
check "vcpu KVM_CREATE_VM after the run phase began: killed by its policy" \
	grep -Eq "child-died child=vcpu kind=vcpu .*(killed by its seccomp policy \(syscall ioctl|signal SYS \(its seccomp policy\))" \
	"$T/vcpu-create-vm-late.audit"
grep -a child-died "$T/vcpu-create-vm-late.audit" | diag

# strings with newlines, forged fields and terminal escapes
start vcpu-escapes escapes -
finish_within 10
check "vcpu escapes: exit 1 (a triple fault, said so) (got $st)" [ "$st" = 1 ]
check "vcpu escapes: no forged audit line, no escape byte" audit_clean "$T/vcpu-escapes.audit" "$mon"
check "vcpu escapes: nothing raw reaches the terminal" \
	bash -c "! grep -qa \$'\\x1b\\|\\x07' '$T/vcpu-escapes.err' && grep -q 'x\\\\x0a2026' '$T/vcpu-escapes.err'"
check "vcpu escapes: the register dump is escaped too" grep -q 'RIP=0' "$T/vcpu-escapes.err"

# ---- a device that lies at READY: the VM does not start (exit 1) -----------
for mode in ready-fds lie unconfined; do
	cut_off_at_start "smc-$mode" smc0 smc good "$mode"
done

# ---- devices start side by side; one that fails stops them all ---------------
# start_pair NAME SMC_MODE NET_MODE: a VM with an SMC and a user-net card;
# moat-vcpu, as the real one, waits for RUN after READY (wait-run)
start_pair() {
	local name=$1
	echo wait-run >"$T/bin/moat-vcpu.mode"
	echo "$2" >"$T/bin/moat-smc.mode"
	echo "$3" >"$T/bin/moat-net.mode"
	"$MOAT" "$T/bin" /dev/null run --kernel "$KERNEL" --serial none --mem 64M \
		--smc "osk-file=$T/osk" --net user --audit "$T/$name.audit" \
		>"$T/$name.out" 2>"$T/$name.err" </dev/null &
	mon=$!
}
# first_line AUDIT EVENT CHILD: the audit line number of CHILD's first EVENT
first_line() { grep -n " $2 child=$3 " "$1" | head -1 | cut -d: -f1; }
start_pair par-good good good
if wait_for "$T/par-good.audit" "child-ready child=vcpu" 10; then
	a=$T/par-good.audit
	check "parallel start: net0 is spawned before smc0 is READY" \
		[ "$(first_line "$a" child-start net0)" -lt "$(first_line "$a" child-ready smc0)" ]
	check "parallel start: moat-vcpu is spawned first, before any device" \
		[ "$(first_line "$a" child-start vcpu)" -lt "$(first_line "$a" child-start smc0)" ]
	kill -TERM "$mon"
	finish_within 5
	check "parallel start: both devices READY, a clean stop (exit $st)" \
		bash -c "[ '$st' = 0 ] && grep -q 'child-ready child=net0' '$a'"
	check "parallel start: moat-vcpu was told to hold, and took RUN" \
		bash -c "grep -q 'stand-in: READY, waiting for RUN (hold=1)' '$T/par-good.err' &&
			grep -q 'stand-in: RUN taken' '$T/par-good.err'"
else
	not_ok "parallel start: the VM starts"
	diag <"$T/par-good.err"
	kill -KILL "$mon"; wait "$mon"
fi
# par_fail WHEN NAME SMC_MODE NET_MODE STATUS WHO LINE: WHO fails, early
# (while the other is still starting: slow-ready) or late (a second after
# its sandbox, late-MODE, while moat-vcpu is READY and waiting for RUN and
# the other device is READY): exit STATUS within 10 s, WHO's own line, no
# RUN sent, moat-vcpu and the other device stopped, nothing left running
par_fail() {
	local when=$1 name=$2 other=smc0 a=$T/$2.audit
	shift
	[ "$5" = smc0 ] && other=net0
	start_pair "$name" "$2" "$3"
	finish_within 10
	check "$name: exit $4 within 10 s (got $st)" [ "$st" = "$4" ]
	check "$name: the failing device's own line" grep -q "$6" "$T/$name.err"
	if [ "$when" = early ]; then
		check "$name: $other, still starting, is stopped and never READY" \
			bash -c "grep -Eq 'child-(exit|died) child=$other ' '$a' && ! grep -q 'child-ready child=$other ' '$a'"
	else
		check "$name: moat-vcpu was READY and waiting for RUN" \
			grep -q 'stand-in: READY, waiting for RUN (hold=1)' "$T/$name.err"
		check "$name: $other, READY, is stopped too" \
			bash -c "grep -q 'child-ready child=$other ' '$a' && grep -Eq 'child-(exit|died) child=$other ' '$a'"
	fi
	check "$name: moat-vcpu, set up beside them, is stopped and never told to run" \
		bash -c "grep -Eq 'child-(exit|died) child=vcpu ' '$a' && ! grep -q 'stand-in: RUN taken' '$T/$name.err'"
	check "$name: no child is left running" no_children
	check "$name: the audit trail is clean" audit_clean "$a" "$mon"
	grep -a "error" "$T/$name.err" | diag
}
par_fail early par-smc-user-error user-error slow-ready 2 smc0 "^moat: error: stand-in: port in use"
par_fail early par-smc-dies die-starting slow-ready 1 smc0 "smc0 (moat-smc) exited with status 3 while starting"
par_fail early par-net-dies slow-ready die-starting 1 net0 "net0 (moat-net) exited with status 3 while starting"
par_fail late late-smc-dies late-die-starting good 1 smc0 "smc0 (moat-smc) exited with status 3 while starting"
par_fail late late-net-user-error good late-user-error 2 net0 "^moat: error: stand-in: port in use"
par_fail late late-smc-lies late-lie good 1 smc0 "smc0 (moat-smc, pid [0-9]*) claims a policy of"

# ---- a device hostile while the VM runs: cut off, the VM goes on -------------
for mode in ready-twice stats-flood hangup; do
	start "smc-$mode" good "$mode"
	a=$T/smc-$mode.audit
	if ! wait_for "$a" "child-hostile child=smc0" 10; then
		not_ok "smc $mode: audited as hostile"
		diag <"$T/smc-$mode.err"
		kill -KILL "$mon"; wait "$mon"
		continue
	fi
	ok "smc $mode: audited as hostile"
	grep -a child-hostile "$a" | diag
	check "smc $mode: its death is audited" wait_for "$a" "child-died child=smc0" 5
	check "smc $mode: the monitor is idle afterwards" [ "$(idle_ticks "$mon")" -le 3 ]
	t0=$(date +%s%N)
	kill -TERM "$mon"
	finish_within 5
	t=$((($(date +%s%N) - t0) / 1000000))
	check "smc $mode: SIGTERM ends the VM in ${t} ms (under a second), exit 0 (got $st)" \
		[ "$st" = 0 -a "$t" -lt 1000 ]
	check "smc $mode: the audit trail is clean" audit_clean "$a" "$mon"
	check "smc $mode: the audit trail stays small ($(wc -l <"$a") lines)" [ "$(wc -l <"$a")" -lt 40 ]
done
while IFS='|' read -r name what reason; do
	check "$name: $what" grep -q "reason=\"$reason" "$T/$name.audit"
done <<'EOF'
smc-ready-fds|the reason names the descriptors|sent 1 descriptors with READY
smc-lie|the claimed policy size is refused|claims a policy of
smc-unconfined|/proc shows it is not confined|holds capabilities
smc-ready-twice|the reason names it|sent READY more than 1 time
smc-hangup|a closed channel with the child alive is cut off|closed its control channel but stayed alive
EOF
check "smc stats-flood: the first unrequested STATS cuts it off" \
	grep -q 'reason="sent STATS that nobody asked for"' "$T/smc-stats-flood.audit"

# an answer to our STATS request, carrying a descriptor
start smc-stats-fds good stats-fds
if wait_for "$T/smc-stats-fds.audit" "child-ready child=vcpu" 10; then
	kill -TERM "$mon"
	finish_within 5
	check "smc stats-fds: the VM still ends cleanly (exit $st)" [ "$st" = 0 ]
	check "smc stats-fds: STATS with descriptors is hostile" \
		grep -q 'child-hostile child=smc0 .*reason="sent 1 descriptors with STATS"' "$T/smc-stats-fds.audit"
	check "smc stats-fds: no child-stats line taken from it" \
		bash -c "! grep -q child-stats '$T/smc-stats-fds.audit'"
else
	not_ok "smc stats-fds: the VM starts"
	kill -KILL "$mon"; wait "$mon"
fi

# a start error full of escapes
start smc-escapes good escapes
finish_within 10
check "smc escapes: the start fails with exit 1 (got $st)" [ "$st" = 1 ]
check "smc escapes: nothing raw reaches the terminal" \
	bash -c "! grep -qa \$'\\x1b\\|\\x07' '$T/smc-escapes.err' && grep -q 'did not start: x\\\\x0a2026' '$T/smc-escapes.err'"
check "smc escapes: the audit trail is clean" audit_clean "$T/smc-escapes.audit" "$mon"

# ---- a child's stdout and stderr: never the terminal -------------------------
# Under a pseudo-terminal (script(1)), as a user at a terminal runs moat.
echo stderr >"$T/bin/moat-vcpu.mode"
echo good >"$T/bin/moat-smc.mode"
script -qfec "'$MOAT' '$T/bin' /dev/null run --kernel '$KERNEL' --serial none --mem 64M \
	--smc osk-file='$T/osk' --audit '$T/tty.audit'" "$T/tty.out" >/dev/null 2>&1 </dev/null &
scr=$!
if wait_for "$T/tty.audit" "child-ready child=vcpu" 10; then
	mon=$(pgrep -f "^$MOAT $T/bin" | head -1)
	tty_held=""
	for c in $(pgrep -P "$mon"); do
		for fd in 0 1 2; do
			case "$(readlink "/proc/$c/fd/$fd")" in /dev/pts/* | /dev/tty*) tty_held+=" $c:$fd" ;; esac
		done
	done
	check "under a terminal, no child's fd 0, 1 or 2 is the terminal${tty_held:+ (held:$tty_held)}" [ -z "$tty_held" ]
	check "its lines reach the terminal while it runs, not only when it ends" \
		wait_for "$T/tty.out" "^\[vcpu\] moat: error: forged" 5
	sleep 1.5 # past the first second's allowance of lines
	kill -TERM "$mon"
	wait "$scr"
	out=$T/tty.out
	check "the child's forged error line reaches the terminal only prefixed" \
		bash -c "grep -q '^\[vcpu\] moat: error: forged by the child' '$out' && ! grep -q '^moat: error: forged' '$out'"
	check "its escapes reach the terminal escaped" \
		bash -c "! grep -qa \$'\\x1b\\|\\x07' '$out' && grep -q '\\\\x1b]0;owned\\\\x07' '$out'"
	check "a long line is cut into pieces" grep -q "^\[vcpu\] L\{512\}" "$out"
	n=$(grep -c '^\[vcpu\] flood' "$out")
	check "a flood is rate-limited ($n of 5000 lines shown)" [ "$n" -lt 200 ]
	check "and the rest is counted" grep -q '^\[vcpu\] ([0-9]* lines not shown' "$out"
else
	not_ok "under a terminal, the VM starts"
	cat "$T/tty.out" | diag
	pkill -KILL -f "^$MOAT $T/bin"
fi

# ---- descriptors that would block the monitor's close --------------------------
# A peer on loopback that accepts and never reads, so a socket to it with
# full buffers and SO_LINGER waits in its last close.
python3 -c '
import socket, sys
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(8)
print(s.getsockname()[1], flush=True)
kept = []
while True: kept.append(s.accept()[0])' >"$T/port" &
peer=$!
wait_for "$T/port" "[0-9]" 5
echo "linger $(cat "$T/port")" >"$T/bin/moat-net.mode"
echo good >"$T/bin/moat-vcpu.mode"
"$MOAT" "$T/bin" /dev/null run --kernel "$KERNEL" --serial none --mem 64M --net user \
	--audit "$T/linger.audit" >"$T/linger.out" 2>"$T/linger.err" </dev/null &
mon=$!
if wait_for "$T/linger.audit" "child-hostile child=net0" 10; then
	ok "linger: a device sending 200 lingering sockets is cut off"
	grep -a child-hostile "$T/linger.audit" | diag
	check "linger: the reason names the descriptors" \
		grep -q 'reason="sent 200 descriptors with STATS"' "$T/linger.audit"
	sleep 0.5 # the monitor's copies are the last ones now
	t0=$(date +%s%N)
	kill -TERM "$mon"
	finish_within 5
	t=$((($(date +%s%N) - t0) / 1000000))
	check "linger: SIGTERM still ends the VM in ${t} ms, exit 0 (got $st)" [ "$st" = 0 -a "$t" -lt 1000 ]
else
	not_ok "linger: a device sending 200 lingering sockets is cut off"
	diag <"$T/linger.err"
	kill -KILL "$mon"; wait "$mon"
fi
kill "$peer" 2>/dev/null
wait "$peer" 2>/dev/null

# ---- the control socket (moat ctl) and systemd's notify socket ---------------
# start_ctl NAME VCPU_MODE SMC_MODE: as start, with a control socket and a
# stand-in for systemd listening (WATCHDOG_USEC 400 ms: fed every 200 ms)
start_ctl() {
	local name=$1
	echo "$2" >"$T/bin/moat-vcpu.mode"
	echo "$3" >"$T/bin/moat-smc.mode"
	rm -f "$T/$name.sock" "$T/$name.notify"
	python3 "$PROBE" notify-listen "$T/$name.notify" "$T/$name.notes" &
	listener=$!
	for ((i = 0; i < 50; i++)); do [ -S "$T/$name.notify" ] && break; sleep 0.1; done
	NOTIFY_SOCKET=$T/$name.notify WATCHDOG_USEC=400000 \
		"$MOAT" "$T/bin" /dev/null run --kernel "$KERNEL" --serial none --mem 64M \
		--audit "$T/$name.audit" --smc "osk-file=$T/osk" --control "$T/$name.sock" \
		>"$T/$name.out" 2>"$T/$name.err" </dev/null &
	mon=$!
}
ctl() { "$REAL_MOAT" ctl --control "$T/$1.sock" "${@:2}"; }
# ctl_ok NAME COMMAND...: it succeeds (its output is not TAP: dropped)
ctl_ok() { ctl "$@" >/dev/null; }
watchdogs() { grep -c WATCHDOG=1 "$T/$1.notes"; }

start_ctl ctl good good
if wait_for "$T/ctl.notes" "READY=1" 10; then
	ok "ctl: READY=1 reaches the notify socket once both children are READY"
	check "ctl: the control socket has mode 0600" [ "$(stat -c %a "$T/ctl.sock")" = 600 ]
	ctl ctl --json status >"$T/ctl.status"
	check "ctl: status lists moat-vcpu and moat-smc with their pids" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
got = {p["kind"]: p["pid"] for p in d["processes"]}
want = {"vcpu": int(sys.argv[2]), "smc": int(sys.argv[3])}
sys.exit(0 if got == want and d["state"] == "running" else 1)' \
		"$T/ctl.status" "$(child_pid "$mon" moat-vcpu)" "$(child_pid "$mon" moat-smc)"
	check "ctl: pause (each stand-in says PAUSED)" ctl_ok ctl pause
	check "ctl: status says paused" bash -c "'$REAL_MOAT' ctl --control '$T/ctl.sock' --json status | grep -q '\"state\":\"paused\"'"
	check "ctl: resume" ctl_ok ctl resume
	sleep 1.5
	check "ctl: WATCHDOG=1 while both answer their pings ($(watchdogs ctl))" [ "$(watchdogs ctl)" -ge 4 ]
	python3 "$PROBE" abuse "$T/ctl.sock" >"$T/ctl.abuse"
	for c in garbage truncated empty-message wrong-version huge bad-path; do
		check "ctl: $c gets an error reply" grep -q "^$c error ." "$T/ctl.abuse"
	done
	chmod 0666 "$T/ctl.sock"
	out=$(python3 "$PROBE" as-uid 65534 "$T/ctl.sock")
	chmod 0600 "$T/ctl.sock"
	check "ctl: uid 65534 is refused by SO_PEERCRED ($out)" grep -q "^error permission denied" <<<"$out"
	check "ctl: the refusal is audited" grep -q "ctl-refused uid=65534" "$T/ctl.audit"
	out=$(python3 "$PROBE" burst "$T/ctl.sock" 1000)
	check "ctl: 1,000 requests in a burst are all answered ($out)" [ "$out" = "answered 1000 of 1000" ]
	check "ctl: the VM still runs after all of it" ctl_ok ctl status
	# moat ctl device restart (issue 15): answered once the new process
	# serves; the watchdog keeps being fed through it
	old=$(child_pid "$mon" moat-smc)
	out=$(ctl ctl device restart smc0 2>&1)
	new=$(child_pid "$mon" moat-smc)
	check "ctl: device restart answers once a new moat-smc serves ($out)" \
		bash -c "[ -n '$new' ] && [ '$new' != '$old' ] && grep -q '^smc0: restarted, moat-smc pid $new\$' <<<'$out'"
	check "ctl: the restart is audited with its cause" \
		grep -q "child-restart child=smc0 kind=smc pid=$old cause=\"moat ctl device restart\"" "$T/ctl.audit"
	ctl ctl --json status >"$T/ctl.status2"
	check "ctl: status counts the restart" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
got = {p["kind"]: p["restarts"] for p in d["processes"]}
sys.exit(0 if got == {"vcpu": 0, "smc": 1} else 1)' "$T/ctl.status2"
	out=$(ctl ctl device restart vcpu 2>&1)
	check "ctl: moat-vcpu cannot be restarted (exit $?: $out)" \
		bash -c "[ $? = 1 ] && grep -q 'moat-vcpu cannot be restarted' <<<'$out'"
	w1=$(watchdogs ctl)
	sleep 1.5
	check "ctl: WATCHDOG=1 goes on after the restart ($w1, then $(watchdogs ctl))" \
		[ "$(watchdogs ctl)" -gt "$w1" ]
	# stopped, moat-vcpu owes one ping; the watchdog starves; once it
	# runs again its late answer is the one it was asked for
	vcpu=$(child_pid "$mon" moat-vcpu)
	kill -STOP "$vcpu"
	sleep 0.5
	w1=$(watchdogs ctl)
	sleep 1.5
	w2=$(watchdogs ctl)
	kill -CONT "$vcpu"
	check "ctl: no WATCHDOG=1 while moat-vcpu is stopped ($w1, then $w2)" [ "$w1" = "$w2" ]
	sleep 1
	check "ctl: once it runs again it is fed again, and moat-vcpu was not cut off" \
		bash -c "[ \$(grep -c WATCHDOG=1 '$T/ctl.notes') -gt $w2 ] && ! grep -q child-hostile '$T/ctl.audit'"
	check "ctl: stop" ctl_ok ctl stop
	finish_within 5
	check "ctl: moat exits 0 after stop (got $st)" [ "$st" = 0 ]
	check "ctl: STOPPING=1 was said" grep -q STOPPING=1 "$T/ctl.notes"
	check "ctl: the control socket is gone" [ ! -e "$T/ctl.sock" ]
else
	not_ok "ctl: READY=1 reaches the notify socket once both children are READY"
	diag <"$T/ctl.err"
	kill -KILL "$mon"; wait "$mon"
fi
kill "$listener" 2>/dev/null

# A second moat with the same control socket is refused while the first runs.
start_ctl first good good
if wait_for "$T/first.notes" "READY=1" 10; then
	"$MOAT" "$T/bin" /dev/null run --kernel "$KERNEL" --serial none --mem 64M \
		--control "$T/first.sock" >"$T/second.out" 2>"$T/second.err" </dev/null
	st=$?
	check "ctl: a second VM on a live control socket exits 2 (got $st)" [ "$st" = 2 ]
	check "ctl: it says the socket already answers" grep -q "already answers" "$T/second.err"
	ctl first stop >/dev/null
	finish_within 5
else
	not_ok "ctl: the first VM starts"
	kill -KILL "$mon"; wait "$mon"
fi
kill "$listener" 2>/dev/null

# A wedged vCPU (it never answers a ping) starves the watchdog; the VM runs.
start_ctl mute mute-ping good
if wait_for "$T/mute.notes" "READY=1" 10; then
	sleep 2
	check "watchdog: no WATCHDOG=1 while moat-vcpu does not answer ($(watchdogs mute))" \
		[ "$(watchdogs mute)" = 0 ]
	check "watchdog: the VM still answers moat ctl" ctl_ok mute status
	ctl mute stop >/dev/null
	finish_within 5
else
	not_ok "watchdog: the mute VM starts"
	kill -KILL "$mon"; wait "$mon"
fi
kill "$listener" 2>/dev/null

# A device that dies owing a ping (wedged, then killed) is restarted, and
# its successor is pinged at once: the watchdog is fed again (issue 15).
start_ctl mutedev good mute-ping
if wait_for "$T/mutedev.notes" "READY=1" 10; then
	sleep 1.5
	check "watchdog: no WATCHDOG=1 while moat-smc does not answer ($(watchdogs mutedev))" \
		[ "$(watchdogs mutedev)" = 0 ]
	echo good >"$T/bin/moat-smc.mode"
	smc=$(child_pid "$mon" moat-smc)
	[ -n "$smc" ] && kill -KILL "$smc"
	wait_for "$T/mutedev.audit" "child-reattached child=smc0" 10
	sleep 1.5
	check "watchdog: fed again once its successor serves ($(watchdogs mutedev))" \
		[ "$(watchdogs mutedev)" -ge 2 ]
	ctl mutedev stop >/dev/null
	finish_within 5
else
	not_ok "watchdog: the mute-device VM starts"
	kill -KILL "$mon"; wait "$mon"
fi
kill "$listener" 2>/dev/null
echo good >"$T/bin/moat-smc.mode"

# A device restarted while the VM is paused starts paused (its start
# request says so: else it would serve its queues under a paused guest
# until a PauseRequest reached it), and resume resumes it; one restarted
# while the VM runs is asked no pause (decisions 0023, 0024). moat-smc says on stderr what it is asked
# (tell): its lines reach $T/NAME.err, each process's after its "ready".
# asked NAME: what the newest moat-smc of VM NAME was asked, in order
asked() {
	sed -n 's/^\[smc0\] stand-in: //p' "$T/$1.err" |
		awk '$0 == "ready" { got = ""; next } { got = got " " $2 } END { print got }'
}
# asked_within NAME WORD SECONDS: poll until the newest moat-smc was asked WORD
asked_within() {
	local i
	for ((i = 0; i < $3 * 10; i++)); do
		[[ " $(asked "$1") " == *" $2 "* ]] && return 0
		sleep 0.1
	done
	return 1
}
# smc_state NAME: the VM's state and moat-smc's, from moat ctl --json status
smc_state() {
	ctl "$1" --json status | python3 -c '
import json, sys
d = json.load(sys.stdin)
smc = [p for p in d["processes"] if p["kind"] == "smc"]
print(d["state"], smc[0]["state"] if smc else "none", smc[0].get("restarts", 0) if smc else 0)'
}
start_ctl pause-restart good tell
a=$T/pause-restart.audit
if wait_for "$T/pause-restart.notes" "READY=1" 10; then
	check "pause-restart: pause" ctl_ok pause-restart pause
	asked_within pause-restart pause 5
	check "pause-restart: the first moat-smc is asked to pause (it was asked:$(asked pause-restart))" \
		[ "$(asked pause-restart)" = " pause" ]
	first=$(child_pid "$mon" moat-smc)
	[ -n "$first" ] && kill -KILL "$first"
	check "pause-restart: killed under a paused VM, it is restarted and reattached" \
		wait_for "$a" "child-reattached child=smc0 .*restarts=1 " 10
	second=$(child_pid "$mon" moat-smc)
	check "pause-restart: a new process serves ($first, then $second)" \
		[ -n "$second" -a "$second" != "$first" ]
	asked_within pause-restart paused-start 5
	check "pause-restart: the successor starts paused (it was asked:$(asked pause-restart))" \
		[ "$(asked pause-restart)" = " paused-start" ]
	s=$(smc_state pause-restart)
	check "pause-restart: status still says paused, the successor too ($s)" [ "$s" = "paused paused 1" ]
	check "pause-restart: resume" ctl_ok pause-restart resume
	asked_within pause-restart resume 5
	check "pause-restart: resume resumes the successor (it was asked:$(asked pause-restart))" \
		[ "$(asked pause-restart)" = " paused-start stats resume" ]
	s=$(smc_state pause-restart)
	check "pause-restart: the VM runs, the successor serves it ($s)" [ "$s" = "running running 1" ]
	# the control: restarted under a running VM, no pause is asked (the
	# status's STATS, sent after any pause, marks that all was said)
	[ -n "$second" ] && kill -KILL "$second"
	check "pause-restart: killed under a running VM, it is restarted and reattached" \
		wait_for "$a" "child-reattached child=smc0 .*restarts=2 " 10
	s=$(smc_state pause-restart)
	asked_within pause-restart stats 5
	check "pause-restart: that successor is asked no pause (it was asked:$(asked pause-restart); $s)" \
		[ "$(asked pause-restart)/$s" = " stats/running running 2" ]
	check "pause-restart: no moat-smc was cut off" bash -c "! grep -q 'child-hostile child=smc0 ' '$a'"
	check "pause-restart: stop" ctl_ok pause-restart stop
	finish_within 5
	check "pause-restart: moat exits 0 after stop (got $st)" [ "$st" = 0 ]
	check "pause-restart: the audit trail is clean" audit_clean "$a" "$mon"
else
	not_ok "pause-restart: the VM starts"
	diag <"$T/pause-restart.err"
	kill -KILL "$mon"; wait "$mon"
fi
kill "$listener" 2>/dev/null
echo good >"$T/bin/moat-smc.mode"

# Children that answer what they were not asked are cut off.
for m in pong-wrong paused-unasked ctl-forged; do
	start_ctl "$m" good "$m"
	if wait_for "$T/$m.audit" "child-hostile child=smc0" 10; then
		ok "$m: moat-smc is cut off ($(sed -n 's/.*child-hostile child=smc0 .*reason="\([^"]*\)".*/\1/p' "$T/$m.audit"))"
		check "$m: the VM goes on" ctl_ok "$m" status
	else
		not_ok "$m: moat-smc is cut off"
		diag <"$T/$m.audit"
	fi
	ctl "$m" stop >/dev/null 2>&1
	finish_within 5 || kill -KILL "$mon" 2>/dev/null
	kill "$listener" 2>/dev/null
done
start_ctl vpaused paused-unasked good
if wait_for "$T/vpaused.audit" "child-hostile child=vcpu" 10; then
	ok "paused-unasked: moat-vcpu is cut off, and the VM is over"
	finish_within 5
	check "paused-unasked: moat exits 1 (got $st)" [ "$st" = 1 ]
else
	not_ok "paused-unasked: moat-vcpu is cut off"
	kill -KILL "$mon"; wait "$mon"
fi
kill "$listener" 2>/dev/null

check "no stand-in is left running" no_children
finish
