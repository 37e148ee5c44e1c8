# Shared helpers for moat's integration tests (bash). TAP output: each
# check prints "ok N - name" or "not ok N - name"; finish() prints the plan
# and a summary line and sets the exit status.
set -u

T_N=0
T_FAIL=0
T_TMP=$(mktemp -d "${TMPDIR:-/tmp}/moat-it.XXXXXX")
# MOAT_TEST_KEEP=1 keeps it (images, consoles, audit trails) for a look after
trap '[ "${MOAT_TEST_KEEP:-0}" = 1 ] && echo "# kept $T_TMP" || rm -rf "$T_TMP"' EXIT

ok() { T_N=$((T_N + 1)); echo "ok $T_N - $*"; }
# said STATUS WANT PATTERN TEXT: STATUS is WANT and TEXT matches PATTERN
# (grep -iE): an exit status and its message as one command, for check
said() { [ "$1" = "$2" ] && grep -qiE -- "$3" <<<"$4"; }
not_ok() { T_N=$((T_N + 1)); T_FAIL=$((T_FAIL + 1)); echo "not ok $T_N - $*"; }
check() { # check NAME COMMAND...
	local name=$1
	shift
	if "$@"; then ok "$name"; else not_ok "$name"; fi
}
diag() { sed 's/^/# /' >&2; }
finish() {
	echo "1..$T_N"
	echo "# $((T_N - T_FAIL)) passed, $T_FAIL failed"
	[ "$T_FAIL" -eq 0 ]
}

# Tests that spawn sandboxed children (user namespaces mapped to other
# uids), make devices or namespaces skip (exit 77) unless run as root.
need_root() {
	if [ "$(id -u)" != 0 ]; then
		echo "1..0 # SKIP needs root ($*)"
		exit 77
	fi
}

# Tests of moat on the host's own KVM skip (exit 77) without one.
need_host_kvm() {
	if [ ! -w /dev/kvm ]; then
		echo "1..0 # SKIP no usable /dev/kvm"
		exit 77
	fi
}

# wait_for FILE PATTERN SECONDS: poll until PATTERN appears in FILE.
wait_for() {
	local i
	for ((i = 0; i < $3 * 10; i++)); do
		grep -qa -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# The status fields of a process, one "Name: value" a line.
status_field() { awk -v k="$2:" '$1 == k { $1 = ""; sub(/^ /, ""); print; exit }' "/proc/$1/status"; }

# check_sandboxed PID NAME [host-net]: the checks of DESIGN.md on one child.
# With host-net (moat-net with slirp) it must share our network namespace.
check_sandboxed() {
	local pid=$1 name=$2 hostnet=${3:-} uid
	check "$name: CapEff is 0" [ "$(status_field "$pid" CapEff)" = 0000000000000000 ]
	check "$name: CapPrm is 0" [ "$(status_field "$pid" CapPrm)" = 0000000000000000 ]
	check "$name: CapBnd is 0" [ "$(status_field "$pid" CapBnd)" = 0000000000000000 ]
	check "$name: NoNewPrivs is 1" [ "$(status_field "$pid" NoNewPrivs)" = 1 ]
	check "$name: Seccomp is 2 (filter)" [ "$(status_field "$pid" Seccomp)" = 2 ]
	uid=$(status_field "$pid" Uid | awk '{print $1}')
	check "$name: runs as non-root uid ($uid)" [ -n "$uid" -a "$uid" != 0 -a "$uid" != 65534 ]
	for ns in mnt pid user net ipc uts; do
		if [ "$ns" = net ] && [ -n "$hostnet" ]; then
			check "$name: in the host's network namespace (slirp's sockets)" \
				[ "$(readlink /proc/$pid/ns/$ns)" = "$(readlink /proc/self/ns/$ns)" ]
			continue
		fi
		check "$name: own $ns namespace" \
			[ "$(readlink /proc/$pid/ns/$ns)" != "$(readlink /proc/self/ns/$ns)" ]
	done
}

# The pids of children named NAME under the process PARENT.
child_pid() { pgrep -P "$1" -x "$2" | head -1; }

# wait_vm SECONDS: wait for the monitor $mon to end, SIGKILLing it after
# SECONDS (a guest that lost its disk waits for it for ever); its status
# in $st (137 when it had to be killed).
wait_vm() {
	local secs=$1 wd
	(sleep "$secs" && kill -KILL "$mon" 2>/dev/null) &
	wd=$!
	wait "$mon"
	st=$?
	kill "$wd" 2>/dev/null
	wait "$wd" 2>/dev/null
}

# vm_up NAME PATTERN SECONDS COMMAND...: run COMMAND ("$MOAT" run ...,
# perhaps behind a wrapper) in the background with its console in
# $T/NAME.log, its audit trail in $T/NAME.audit, stdout and stderr in
# $T/NAME.out and $T/NAME.err; the monitor's pid in $mon. Succeeds once
# PATTERN is on the console; fails if it is not there within SECONDS.
vm_up() {
	local name=$1 pat=$2 secs=$3
	shift 3
	"$@" --audit "$T/$name.audit" --serial "file:$T/$name.log" \
		>"$T/$name.out" 2>"$T/$name.err" </dev/null &
	mon=$!
	wait_for "$T/$name.log" "$pat" "$secs"
}

# check_child VAR PROCESS ID AUDIT [host-net]: the monitor $mon's child
# PROCESS (moat-blk) runs, sandboxed (check_sandboxed), and AUDIT records
# the size of its policy for child ID (blk0). Its pid goes to variable VAR
# (empty if it was not found).
check_child() {
	local pid n
	pid=$(child_pid "$mon" "$2")
	printf -v "$1" '%s' "$pid"
	check "$2 runs under the monitor" [ -n "$pid" ]
	[ -n "$pid" ] && check_sandboxed "$pid" "$2" "${5:-}"
	n=$(sed -n "s/.*child-ready child=$3 .*syscalls=\([0-9]*\).*/\1/p" "$4")
	check "$2's policy size is in the audit trail (${n:-?} syscalls)" [ "${n:-0}" -gt 0 ]
}

# Tests that boot a Linux guest (tests/guest): BOOT_TIMEOUT seconds a boot.
# run_guest NAME ACTION MOAT-RUN-ARGS...: "$MOAT" run to its end, output in
# $T/NAME.out and .err; succeeds if moat exits 0 and the guest said its
# ACTION went well, else shows the end of the output.
run_guest() {
	local name=$1 action=$2 st
	shift 2
	run_watched "$name" "$@" >"$T/$name.out" 2>"$T/$name.err" </dev/null
	st=$?
	if [ $st != 0 ] || ! grep -q "MOAT-GUEST: result $action ok" "$T/$name.out"; then
		echo "# $name: exit $st" >&2
		tail -n 30 "$T/$name.out" "$T/$name.err" | diag
		[ -s "$T/$name.stall" ] && diag <"$T/$name.stall"
		return 1
	fi
	# a guest that passed only after it was looked at (a pause can wake
	# a guest that waits for a lost interrupt) says so
	if [ -s "$T/$name.stall" ]; then
		echo "# $name: still running 20 s before its timeout; it was looked at:" >&2
		diag <"$T/$name.stall"
	fi
}

# vcpu_threads MONITOR-PID: moat-vcpu's threads (state, user and system
# ticks, wchan, kernel stack): a vCPU thread stuck in the kernel shows here.
vcpu_threads() {
	local v t
	v=$(child_pid "$1" moat-vcpu)
	for t in /proc/${v:-0}/task/*; do
		[ -r "$t/stat" ] || continue
		echo "thread ${t##*/} $(cut -d' ' -f2-3,14-15 "$t/stat") wchan $(cat "$t/wchan" 2>/dev/null)"
		sed 's/^/    /' "$t/stack" 2>/dev/null | head -n 12
	done
}

# look_at_vm MONITOR-PID CONTROL-SOCKET: what a VM that went silent was
# doing: its vCPU threads, then a pause, which makes each vCPU thread of a
# moat run with -v log where its guest stopped and what it waited for
# (halted, pending interrupts, its timer: vcpu/dump.c) on moat's stderr,
# then a resume; and the kernel's last messages.
look_at_vm() {
	echo "# $(date +%T): the VM is silent; its vCPU threads:"
	vcpu_threads "$1"
	timeout 10 "$MOAT" ctl --control "$2" status
	timeout 10 "$MOAT" ctl --control "$2" pause && sleep 1 &&
		timeout 10 "$MOAT" ctl --control "$2" resume
	echo "# the kernel's last messages:"
	dmesg 2>/dev/null | tail -n 15
}

# run_watched NAME MOAT-RUN-ARGS...: "$MOAT" run -v with a control socket
# at $T/NAME.ctl, ended by timeout after BOOT_TIMEOUT seconds. A run still
# going 20 s before that is looked at (look_at_vm) into $T/NAME.stall.
run_watched() {
	local name=$1 pid watcher st
	shift
	rm -f "$T/$name.stall"
	timeout "$BOOT_TIMEOUT" "$MOAT" run -v --control "$T/$name.ctl" "$@" &
	pid=$!
	(sleep $((BOOT_TIMEOUT > 40 ? BOOT_TIMEOUT - 20 : BOOT_TIMEOUT / 2)) &&
		kill -0 "$pid" 2>/dev/null &&
		look_at_vm "$(child_pid "$pid" moat)" "$T/$name.ctl" >"$T/$name.stall" 2>&1) \
		>/dev/null 2>&1 &
	watcher=$!
	wait "$pid"
	st=$?
	pkill -P "$watcher" 2>/dev/null # its sleep
	kill "$watcher" 2>/dev/null
	wait "$watcher" 2>/dev/null
	return $st
}
# marker NAME KEY: what the guest printed as "MOAT-GUEST: KEY value" in $T/NAME.out
marker() { sed -n "s/^MOAT-GUEST: $2 //p" "$T/$1.out" | tr -d '\r' | head -1; }
