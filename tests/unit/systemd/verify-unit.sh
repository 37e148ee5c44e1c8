#!/usr/bin/env bash
# contrib/systemd/moat@.service as systemd reads it. systemd-analyze verify
# loads an instance of the unit and fails on what it cannot use, but only
# warns, with exit 0, about an unknown or malformed setting: so any line it
# prints fails here too. It also checks that ExecStart's program exists,
# and /usr/bin/moat need not exist on the build machine: the unit is
# verified as a copy whose ExecStart names the moat just built, the one
# change made to it (checked). Then the settings whose absence moat needs
# (each would stop every VM from starting, or from getting its cgroup)
# are checked absent, so that "more hardening" cannot slip them in.
# Skips (77) only where systemd-analyze is not installed.
# Usage: verify-unit.sh UNIT MOAT
UNIT=$1
MOAT=$(readlink -f -- "$2") # meson passes it relative to the build directory
if ! command -v systemd-analyze >/dev/null; then
	echo "1..0 # SKIP systemd-analyze is not installed (package systemd)"
	exit 77
fi
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/../../integration/lib.sh"
T=$T_TMP
exec_line='ExecStart=/usr/bin/moat run --name %i --config /etc/moat/%i.conf'

check "the unit starts /usr/bin/moat run with the VM's name and configuration file" \
	[ "$(grep -c '^ExecStart=' "$UNIT")" = 1 ] && grep -qxF "$exec_line" "$UNIT"

check "the moat to verify with is built ($MOAT)" [ -x "$MOAT" ]
# The copy: ExecStart's program replaced, nothing else.
sed "s#^ExecStart=/usr/bin/moat #ExecStart=$MOAT #" "$UNIT" >"$T/moat@.service"
check "the copy differs in ExecStart alone" \
	[ "$(diff "$UNIT" "$T/moat@.service" | grep -c '^[<>]')" = 2 ]

verified() { # verified INSTANCE: verify passes and says nothing
	local out st
	out=$(systemd-analyze verify --man=no "$T/$1" 2>&1)
	st=$?
	[ $st = 0 ] && [ -z "$out" ] && return 0
	echo "# systemd-analyze verify $1: exit $st" >&2
	diag <<<"$out"
	return 1
}
check "systemd-analyze verify passes an instance, without a warning" verified moat@web1.service

# The check can fail: one unknown key is enough.
{ cat "$T/moat@.service"; printf '[Service]\nProtectEverything=yes\n'; } >"$T/bad@.service"
noticed() { [ -n "$(systemd-analyze verify --man=no "$T/bad@web1.service" 2>&1)" ]; }
check "... and it notices an unknown setting" noticed

# absent SETTING WHY: SETTING= is not set (RestrictNamespaces=no is allowed).
absent() {
	! grep -E "^$1=" "$UNIT" | grep -vqx "$1=no"
}
check "no RestrictNamespaces= (systemd then fails clone3 with ENOSYS: no child starts)" \
	absent RestrictNamespaces
check "no ProtectControlGroups= (read-only cgroup tree: no VM cgroup)" absent ProtectControlGroups
check "no ProtectHostname= (refuses the children's sethostname)" absent ProtectHostname
check "no PrivateDevices= (hides /dev/kvm and /dev/net/tun)" absent PrivateDevices
check "no PrivateUsers= (root must map the children's uids)" absent PrivateUsers
check "no User= or DynamicUser= (root must map the children's uids)" \
	bash -c "! grep -Eq '^(User|DynamicUser)=' '$UNIT'"

# Each group of settings starts with the comment that says why: no
# setting follows a blank line or a section header directly.
uncommented() {
	awk '/^[A-Za-z]+=/ && (prev == "" || prev ~ /^\[/) { print FILENAME ":" NR ": " $0; n++ }
		{ prev = $0 } END { exit n > 0 }' "$UNIT" >&2
}
check "every group of settings has its comment" uncommented

finish
