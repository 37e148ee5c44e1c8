# Shared helpers for moat's integration tests (bash). TAP output: each
# check prints "ok N - name" or "not ok N - name"; finish() prints the plan
# and a summary line and sets the exit status.
set -u

T_N=0
T_FAIL=0
T_TMP=$(mktemp -d "${TMPDIR:-/tmp}/moat-it.XXXXXX")
trap 'rm -rf "$T_TMP"' EXIT

ok() { T_N=$((T_N + 1)); echo "ok $T_N - $*"; }
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
	check "$name: runs as non-root uid ($uid)" [ -n "$uid" ] && [ "$uid" != 0 ] && [ "$uid" != 65534 ]
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
