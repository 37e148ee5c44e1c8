#!/usr/bin/env bash
# The limits of one VM (machine/moat_limits.h) on the host's own KVM with the
# tiny PVH guest: what the monitor accepts must start, and one more of any
# kind is refused before anything starts (exit 2, one line). Needs root and
# /dev/kvm. Usage: host-limits.sh MOAT TINY_ELF
MOAT=$1
TINY=$2
. "$(dirname "$0")/lib.sh"

need_host_kvm
T=$T_TMP
MAX_CPUS=8 MAX_DISKS=8 MAX_NETS=4
head -c 64 /dev/zero | tr '\0' 'k' >"$T/osk"
disks=() nets=()
for ((i = 0; i <= MAX_DISKS; i++)); do
	truncate -s 1M "$T/img$i"
	disks+=(--disk "path=$T/img$i")
done
for ((i = 0; i <= MAX_NETS; i++)); do nets+=(--net user); done

children() { pgrep -c -x 'moat-(vcpu|smc|blk|net)' || true; }

# everything at its maximum: --smc, every disk, every card, every vCPU
"$MOAT" run --kernel "$TINY" --cmdline w --cpus $MAX_CPUS --smc "osk-file=$T/osk" \
	"${disks[@]:0:$((2 * MAX_DISKS))}" "${nets[@]:0:$((2 * MAX_NETS))}" \
	--audit "$T/audit" --serial "file:$T/console" >"$T/out" 2>"$T/err" </dev/null &
mon=$!
if wait_for "$T/console" "TINY: waiting" 60; then
	ok "the SMC, $MAX_DISKS disks, $MAX_NETS cards and $MAX_CPUS vCPUs start"
	n=$(grep -c " child-ready " "$T/audit")
	check "every child is READY and checked ($n of $((2 + MAX_DISKS + MAX_NETS)))" \
		[ "$n" = $((2 + MAX_DISKS + MAX_NETS)) ]
	check "each runs ($(children) processes)" [ "$(children)" = $((2 + MAX_DISKS + MAX_NETS)) ]
else
	not_ok "the SMC, $MAX_DISKS disks, $MAX_NETS cards and $MAX_CPUS vCPUs start"
	diag <"$T/err"
fi
kill -TERM "$mon"
wait "$mon"
check "SIGTERM ends it with exit 0 (got $?)" [ $? = 0 ]

# one more of anything: refused at parse time, nothing started
over() { # over NAME PATTERN ARGS...
	local name=$1 pat=$2 st
	shift 2
	timeout 30 "$MOAT" run --kernel "$TINY" --cmdline h "$@" >"$T/$name.out" 2>"$T/$name.err" </dev/null
	st=$?
	[ $st = 2 ] && grep -q -- "$pat" "$T/$name.err" && [ "$(wc -l <"$T/$name.err")" = 1 ] &&
		[ "$(children)" = 0 ] || { echo "# $name: exit $st" >&2; diag <"$T/$name.err"; return 1; }
}
check "$((MAX_DISKS + 1)) disks: exit 2 at parse time" over disks "at most $MAX_DISKS" "${disks[@]}"
check "$((MAX_NETS + 1)) cards: exit 2 at parse time" over nets "at most $MAX_NETS" "${nets[@]}"
check "$((MAX_CPUS + 1)) vCPUs: exit 2 at parse time" over cpus "" --cpus $((MAX_CPUS + 1))
check "nothing left running" [ "$(children)" = 0 ]
finish
