#!/usr/bin/env bash
# The VM's cgroup (monitor/cgroup.h), where cgroup v2 has the pids and
# memory controllers (the KVM box; a systemd service with Delegate=yes):
# moat.PID under the cgroup moat runs in, pids.max and memory.max as
# --limits says, every child born in a leaf of its own, all removed at the
# end; and, with stand-in children (tests/hostile), a child that starts
# threads or touches memory without end is stopped inside the VM's limits.
# Needs root and /dev/kvm.
# Usage: host-cgroup.sh MOAT TINY_ELF HOSTILE_MOAT STAND_IN
MOAT=$1
TINY=$2
HMOAT=$3
STAND_IN=$4
. "$(dirname "$0")/lib.sh"

need_host_kvm
mnt=$(awk '$9 == "cgroup2" { print $5; exit }' /proc/self/mountinfo)
own=$(sed -n 's/^0:://p' /proc/self/cgroup)
base=$mnt${own%/}
if [ -z "$mnt" ] || ! grep -qw pids "$base/cgroup.controllers" 2>/dev/null ||
	! grep -qw memory "$base/cgroup.controllers"; then
	echo "1..0 # SKIP no cgroup v2 with the pids and memory controllers here"
	exit 0
fi
T=$T_TMP
head -c 64 /dev/zero | tr '\0' 'k' >"$T/osk"
truncate -s 1M "$T/img"

# ---- the real children --------------------------------------------------------
if vm_up real "TINY: waiting" 30 "$MOAT" run --kernel "$TINY" --cmdline w --mem 64M \
	--smc "osk-file=$T/osk" --disk "path=$T/img" --limits pids=100,overhead=256M; then
	cg=$base/moat.$mon
	check "the VM's cgroup is there ($cg)" [ -d "$cg" ]
	check "pids.max is --limits pids (100)" [ "$(cat "$cg/pids.max")" = 100 ]
	check "memory.max is guest RAM + overhead (320 MiB)" [ "$(cat "$cg/memory.max")" = $((320 << 20)) ]
	for name in vcpu smc0 blk0; do
		pid=$(pgrep -P "$mon" -f "^moat-(vcpu|smc|blk)" | while read -r p; do
			grep -q "/moat.$mon/$name\$" "/proc/$p/cgroup" && echo "$p"; done | head -1)
		check "$name runs in its own leaf moat.$mon/$name (pid ${pid:-none})" [ -n "$pid" ]
	done
else
	not_ok "the VM is up"
	diag <"$T/real.err"
	cg=$base/moat.$mon
fi
kill -TERM "$mon"
wait "$mon"
check "SIGTERM ends it (exit $?)" [ $? = 0 ]
check "the VM's cgroup is gone after" [ ! -d "$cg" ]

# ---- stand-ins that go past the limits ------------------------------------------
mkdir -m 755 "$T/bin"
chmod 755 "$T"
cp "$STAND_IN" "$T/bin/moat-vcpu"
stand_in() { # stand_in NAME MODE LIMITS: a stand-in moat-vcpu, the monitor in $mon
	echo "$2" >"$T/bin/moat-vcpu.mode"
	"$HMOAT" "$T/bin" /dev/null run --kernel "$STAND_IN" --serial none --mem 64M \
		--limits "$3" --audit "$T/$1.audit" >"$T/$1.out" 2>"$T/$1.err" </dev/null &
	mon=$!
}

stand_in threads threads pids=24
if wait_for "$T/threads.err" "threads: " 20; then
	n=$(sed -n 's/.*threads: \([0-9]*\).*/\1/p' "$T/threads.err")
	check "a child starting threads without end gets $n, inside pids.max (24)" [ "$n" -lt 24 ]
	check "the host is untouched: moat still answers" kill -0 "$mon"
else
	not_ok "a child starting threads without end is stopped"
	diag <"$T/threads.err"
fi
kill -TERM "$mon"
wait "$mon"

stand_in alloc alloc overhead=64M
if wait_for "$T/alloc.audit" "child-died child=vcpu" 60; then
	ok "a child touching memory without end is stopped"
	check "by the VM's memory.max: killed (audit: $(grep -o 'child-died.*' "$T/alloc.audit"))" \
		grep -q "child-died child=vcpu .*signal KILL" "$T/alloc.audit"
	check "it got no further than 128 MiB" bash -c "! grep -q 'alloc: 256 MiB' '$T/alloc.err'"
else
	not_ok "a child touching memory without end is stopped"
	diag <"$T/alloc.err"
	kill -KILL "$mon"
fi
wait "$mon"
finish
