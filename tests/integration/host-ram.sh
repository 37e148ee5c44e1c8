#!/usr/bin/env bash
# Guest RAM's backing (--mem ...,hugepages=,prealloc=; monitor/guest_ram.c)
# with the tiny PVH guest: which backing each setting gets, what the host
# sees of it for itself (/proc/PID/smaps_rollup of moat-vcpu, the hugetlb
# pool's counters), what moat ctl status says, and the refusals. Changes
# the hugetlb pool (vm.nr_hugepages) and puts it back: run it in the KVM
# box or on a host where that is acceptable. Needs root and /dev/kvm.
# Usage: host-ram.sh MOAT TINY_ELF
MOAT=$1
TINY=$2
. "$(dirname "$0")/lib.sh"

need_root "the hugetlb pool (vm.nr_hugepages)"
need_host_kvm
T=$T_TMP
POOL=/proc/sys/vm/nr_hugepages
SHMEM_THP=/sys/kernel/mm/transparent_hugepage/shmem_enabled
pool_before=$(cat "$POOL")
trap 'echo "$pool_before" >"$POOL"; rm -rf "$T"' EXIT

# rollup PID FIELD: the field of /proc/PID/smaps_rollup, in kB
rollup() { awk -v k="$2:" '$1 == k { print $2; exit }' "/proc/$1/smaps_rollup"; }
huge_kb() { echo $(($(rollup "$1" ShmemPmdMapped) + $(rollup "$1" FilePmdMapped) +
	$(rollup "$1" Shared_Hugetlb) + $(rollup "$1" Private_Hugetlb))); }

# up NAME MEM [WRAPPER...]: the waiting guest with --mem MEM and a control
# socket, run behind WRAPPER if given
up() {
	local name=$1 mem=$2
	shift 2
	vm_up "$name" "TINY: waiting" 60 "$@" "$MOAT" run -v --kernel "$TINY" --cmdline w \
		--mem "$mem" --control "$T/$name.sock"
}
down() {
	kill -TERM "$mon"
	wait "$mon"
}
status() { "$MOAT" ctl --control "$T/$1.sock" status >"$T/$1.status" 2>&1; }

echo 0 >"$POOL"

# hugepages=on needs the pool to hold all of RAM: one line, exit 2
timeout 60 "$MOAT" run --kernel "$TINY" --cmdline h --mem 64M,hugepages=on \
	>"$T/on.out" 2>"$T/on.err" </dev/null
check "hugepages=on without a pool exits 2 (got $?)" [ $? = 2 ]
check "... saying the pool is short" grep -q "hugetlb pool has 0 free pages, 32 needed" "$T/on.err"
check "... in one line" [ "$(wc -l <"$T/on.err")" = 1 ]

# auto without a pool: transparent huge pages, unless the host denies them
if grep -q '\[deny\]' "$SHMEM_THP" 2>/dev/null; then
	ok "# SKIP transparent huge pages: the host denies them for shmem"
elif up thp 256M,prealloc=on; then
	vcpu=$(child_pid "$mon" moat-vcpu)
	check "the audit's vm-start names the backing" grep -q "vm-start .* ram=thp,prealloc " \
		"$T/thp.audit"
	check "-v says the backing and why" \
		grep -q "guest RAM: 256 MiB, thp pages, all allocated (no hugetlb pool" "$T/thp.err"
	check "moat-vcpu maps guest RAM with 2 MiB pages, as /proc says ($(huge_kb "$vcpu") kB)" \
		[ "$(huge_kb "$vcpu")" -ge 2048 ]
	check "moat ctl status answers" status thp
	check "... with the backing" grep -q "^backing  thp (preallocated), [1-9]" "$T/thp.status"
	check "guest RAM's file is nowhere in the host's mount table" \
		bash -c "! grep -q 'moat\|huge=within_size' /proc/self/mountinfo"
	down
	check "SIGTERM stops it with 0 (got $?)" [ $? = 0 ]
else
	not_ok "waiting guest on transparent huge pages is up"
	diag <"$T/thp.err"
fi

# Under systemd's unit (contrib/systemd) the monitor lacks CAP_SYS_ADMIN
# and may not mount: the tmpfs is then made in a user namespace of its own
if grep -q '\[deny\]' "$SHMEM_THP" 2>/dev/null || ! command -v setpriv >/dev/null; then
	ok "# SKIP transparent huge pages without CAP_SYS_ADMIN (denied, or no setpriv)"
elif up nocap 256M setpriv --bounding-set=-all,+setuid,+setgid,+net_admin --inh-caps=-all; then
	vcpu=$(child_pid "$mon" moat-vcpu)
	check "without CAP_SYS_ADMIN, auto still gets transparent huge pages" \
		grep -q "guest RAM: 256 MiB, thp pages" "$T/nocap.err"
	check "... mapped huge ($(huge_kb "$vcpu") kB)" [ "$(huge_kb "$vcpu")" -ge 2048 ] ||
		grep "guest RAM" "$T/nocap.err" | diag
	check "... made in a user namespace" grep -q "tmpfs made in a user namespace" "$T/nocap.err"
	down
else
	not_ok "waiting guest without CAP_SYS_ADMIN is up"
	diag <"$T/nocap.err"
fi

# hugepages=off: 4 KiB pages, nothing mapped huge
if up small 64M,hugepages=off; then
	vcpu=$(child_pid "$mon" moat-vcpu)
	check "hugepages=off maps no huge page ($(huge_kb "$vcpu") kB)" [ "$(huge_kb "$vcpu")" = 0 ]
	check "moat ctl status says 4k" status small
	check "... and nothing in 2 MiB pages" grep -q "^backing  4k, 0 bytes mapped" "$T/small.status"
	down
else
	not_ok "waiting guest on 4 KiB pages is up"
	diag <"$T/small.err"
fi

# a pool with room: auto takes it, and its pages are reserved for the VM
echo 64 >"$POOL"
if [ "$(cat "$POOL")" != 64 ]; then
	ok "# SKIP the host could not give 64 huge pages to the pool"
elif up pool 64M; then
	vcpu=$(child_pid "$mon" moat-vcpu)
	check "auto takes the pool when it has room" grep -q "hugetlb pages (32 of the pool's 64" \
		"$T/pool.err"
	check "the pool's pages are taken or reserved for all of RAM" \
		[ $(($(cat /sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages) - \
			$(cat /sys/kernel/mm/hugepages/hugepages-2048kB/resv_hugepages))) -le 32 ]
	check "moat-vcpu maps hugetlb pages ($(huge_kb "$vcpu") kB)" [ "$(huge_kb "$vcpu")" -ge 2048 ]
	check "moat ctl status says hugetlb" status pool
	check "... backing hugetlb" grep -q "^backing  hugetlb, " "$T/pool.status"
	# a second VM finds only 32 pages: on is refused, auto falls back
	timeout 60 "$MOAT" run --kernel "$TINY" --cmdline h --mem 128M,hugepages=on \
		>"$T/on2.out" 2>"$T/on2.err" </dev/null
	check "a second VM with hugepages=on beyond what is left exits 2 (got $?)" [ $? = 2 ]
	timeout 60 "$MOAT" run -v --kernel "$TINY" --cmdline h --mem 128M \
		>"$T/auto2.out" 2>"$T/auto2.err" </dev/null
	check "... with auto it boots on other pages (exit $?)" grep -q "TINY: hello" "$T/auto2.out"
	down
	check "the pool's pages come back when the VM ends" \
		[ "$(cat /sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages)" = 64 ]
else
	not_ok "waiting guest on hugetlb pages is up"
	diag <"$T/pool.err"
fi

finish
