#!/usr/bin/env bash
# Disks on the host's own KVM with the tiny PVH guest (which does not touch
# them: Linux guests do, in linux-disk.sh): bad --disk input, the image
# lock between two moats, moat-blk's sandbox, and SIGKILL of moat-blk
# while the VM runs. Needs root and /dev/kvm.
# Usage: host-disk.sh MOAT TINY_ELF
MOAT=$1
TINY=$2
. "$(dirname "$0")/lib.sh"

need_host_kvm
T=$T_TMP
truncate -s 64M "$T/img"
truncate -s 1000 "$T/odd"

nblk() { pgrep -cx moat-blk || true; }
bad() { # bad NAME PATTERN ARGS... : exit 2, one clear line, no process left behind
	local name=$1 pat=$2 before
	shift 2
	before=$(nblk)
	timeout 30 "$MOAT" run --kernel "$TINY" --cmdline h "$@" >"$T/$name.out" 2>"$T/$name.err" </dev/null
	local st=$?
	[ $st = 2 ] && grep -q -- "$pat" "$T/$name.err" && [ "$(wc -l <"$T/$name.err")" -le 2 ] &&
		[ "$(nblk)" = "$before" ] || { echo "# $name: exit $st" >&2; diag <"$T/$name.err"; return 1; }
}
check "missing image" bad missing "cannot open disk image" --disk path="$T/none"
check "image not whole sectors" bad odd "not a whole number of 512-byte sectors" --disk path="$T/odd"
check "image is a directory" bad dir "not a regular file" --disk path="$T",ro
check "--disk without path" bad nopath "needs path=" --disk ro
check "--disk with an unknown field" bad field "unknown field" --disk path="$T/img",bogus=1
check "--disk id used twice" bad twice "used twice" --disk path="$T/img",id=a --disk path="$T/odd",id=a
check "--disk queues=9" bad queues9 "queues= takes 1 to 8, not '9'" --disk path="$T/img",queues=9

# format=qcow2: moat-blk parses the header in its sandbox; a file that is
# not qcow2 is the user's error (exit 2, one line), and the options that
# are raw's alone are refused before anything starts
head -c 1M /dev/zero >"$T/notq.qcow2"
check "format=qcow2 on a file that is not qcow2" bad notq "qcow2: " --disk path="$T/notq.qcow2",format=qcow2
check "format=qcow2 with cache=none" bad qnone "cache=none is for raw images only" \
	--disk path="$T/img",format=qcow2,cache=none
qemu-img create -q -f qcow2 "$T/q.qcow2" 16M
timeout 60 "$MOAT" run -v --kernel "$TINY" --cmdline h --disk path="$T/q.qcow2",format=qcow2 \
	>"$T/q.out" 2>"$T/q.err" </dev/null
st=$?
check "a qcow2 disk: the VM runs and ends, exit 0 (got $st)" [ $st = 0 ]
check "a qcow2 disk: moat-blk read its header (-v: $(grep -o 'qcow2, [0-9]* sectors' "$T/q.err" | head -n 1))" \
	grep -q 'qcow2, 32768 sectors' "$T/q.err"
check "a qcow2 disk: qemu-img check is clean after" qemu-img check -q "$T/q.qcow2"

# The most descriptors one VM passes: 8 vCPUs, 8 disks of 8 request
# queues (a notify eventfd each) and 9 vectors (an irqfd each): moat-vcpu's
# start request carries them all, and every moat-blk takes its own.
disks=()
for i in 0 1 2 3 4 5 6 7; do
	truncate -s 1M "$T/many$i"
	disks+=(--disk "path=$T/many$i,queues=8")
done
timeout 60 "$MOAT" run -v --kernel "$TINY" --cmdline h --cpus 8 "${disks[@]}" \
	>"$T/many.out" 2>"$T/many.err" </dev/null
st=$?
check "8 vCPUs and 8 disks of 8 queues: the guest runs, exit 0 (got $st)" [ $st = 0 ]
[ $st = 0 ] || diag <"$T/many.err"
check "each moat-blk got 8 queues and 9 vectors ($(grep -c ' 8 queues, 9 vectors' "$T/many.err") of 8)" \
	[ "$(grep -c ' 8 queues, 9 vectors' "$T/many.err")" = 8 ]

blk="" # check_child sets it
if vm_up vm "TINY: waiting" 30 \
	"$MOAT" run --kernel "$TINY" --cmdline w --disk path="$T/img",serial=host-disk-1; then
	ok "a VM with a disk is up"
	check_child blk moat-blk blk0 "$T/vm.audit"
	check "a second moat cannot use the same image" bad locked "in use by another process" --disk path="$T/img"
	check "nor read-only" bad lockedro "in use by another process" --disk path="$T/img",ro
	# QEMU sees moat's lock (its own lock bytes): no write, reading allowed.
	qemu-io -f raw -c 'write 0 512' "$T/img" >"$T/qio.out" 2>&1
	check "qemu-io cannot write the image (exit $?)" grep -q 'Failed to get "write" lock' "$T/qio.out"
	check "qemu-io -r may read it" \
		bash -c 'qemu-io -r -f raw -c "read 0 512" "$1" >/dev/null' _ "$T/img"
	kill -KILL "$blk"
	wait_for "$T/vm.audit" "child-died child=blk0" 10
	check "SIGKILL of moat-blk is recorded" grep -q "child-died child=blk0 kind=blk pid=$blk was killed by signal KILL" "$T/vm.audit"
	check "the VM keeps running without it" kill -0 "$mon"
else
	not_ok "a VM with a disk is up"
	diag <"$T/vm.err"
fi
kill -TERM "$mon"
wait "$mon"
check "SIGTERM ends it with exit 0 (got $?)" [ $? = 0 ]
check "nothing left running" bash -c '! pgrep -x moat-blk && ! pgrep -x moat-vcpu'
truncate -s 64M "$T/img2"
check "two read-only users may share an image" bash -c "
	'$MOAT' run --kernel '$TINY' --cmdline w --disk path='$T/img2',ro --serial file:'$T/c1' </dev/null >/dev/null 2>&1 &
	m1=\$!
	for i in \$(seq 100); do grep -q waiting '$T/c1' 2>/dev/null && break; sleep 0.1; done
	timeout 30 '$MOAT' run --kernel '$TINY' --cmdline h --disk path='$T/img2',ro </dev/null >/dev/null 2>&1
	st=\$?
	kill -TERM \$m1; wait \$m1
	[ \$st = 0 ]"
finish
