#!/usr/bin/env bash
# moat's virtio-blk disks (--disk) under Debian's stock kernel and the test
# initramfs (tests/guest/build, with e2fsprogs): an ext4 written in one boot
# and read back in the next, clean for the host's e2fsck; two disks, one
# read-only with a serial; data the guest synced survives a SIGKILL of the
# whole of moat; a killed disk process leaves the VM running; cache= and
# aio= (data written through O_DIRECT and io_uring, read back through the
# threads; cache=none refused where O_DIRECT is); queues= (one request
# queue per vCPU by default, each interrupting on its own vector);
# format=qcow2 (an ext4 written on a qcow2 image, which qemu-img check
# finds clean and whose files have the guest's sums); format=vmdk (the
# first disk converted to a sparse vmdk reads back, read-only; and as a
# descriptor file over a flat extent, its format probed); a qcow2 overlay
# over a raw base, probed, its chain followed; SIGKILL of all of moat while
# the guest writes a qcow2 image leaves no corruption (leaks at worst); the
# disk process's sandbox; moat-blk killed five times and restarted by moat
# ctl under a guest that writes and verifies (no I/O error, no wrong block:
# issue 15); and bad --disk input. Needs a KVM that runs ring-0 code at
# speed: real hardware, or inside tests/kvmbox/run. Fourteen guest boots:
# two of them write with cache=none,aio=io_uring and read back with
# aio=threads, one writes on a qcow2 image, two read vmdks, two use a
# qcow2 overlay.
# Usage: linux-disk.sh MOAT BZIMAGE INITRD
# Environment: MOAT_TEST_BOOT_TIMEOUT (seconds per boot, default 300);
# MOAT_TEST_BLK_RESTART=0 (skip the restart section);
# MOAT_TEST_QCOW2_KILLS (rounds of SIGKILL during qcow2 writes, default 1).
MOAT=$1
BZIMAGE=$2
INITRD=$3
# shellcheck source=lib.sh source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh"
T=$T_TMP
BOOT_TIMEOUT=${MOAT_TEST_BOOT_TIMEOUT:-300}
CMDLINE="console=ttyS0 reboot=k panic=-1 quiet"
FILES="hello.txt data1.bin data2.bin" # what disk-write writes

for t in e2fsck debugfs sha256sum truncate setsid; do
	command -v "$t" >/dev/null || { echo "Bail out! '$t' not found (e2fsprogs, coreutils, util-linux)"; exit 1; }
done

boot() { # boot NAME ACTION "GUEST-PARAMS" MOAT-ARGS...; console in $T/NAME.out
	local name=$1 action=$2 params=$3
	shift 3
	run_guest "$name" "$action" --kernel "$BZIMAGE" --initrd "$INITRD" --mem 256M \
		--cmdline "$CMDLINE guest.action=$action $params" "$@"
}
sha() { sha256sum "$@" | cut -d' ' -f1; }
# moat processes (the monitor and its children), one pid a line
moat_pids() { pgrep -x 'moat|moat-.*' | sort; }
# the pids in $T/pids.before that are gone, and no new ones, within 5 s
no_new_moat() {
	local i new
	for ((i = 0; i < 50; i++)); do
		new=$(moat_pids | comm -13 "$T/pids.before" -)
		[ -z "$new" ] && return 0
		sleep 0.1
	done
	echo "# moat processes left: $(echo "$new" | tr '\n' ' ')" >&2
	# ours: do not let them hold images or CPUs
	for p in $new; do kill -KILL "$p" 2>/dev/null; done
	return 1
}

IMG=$T/disk.img
RO=$T/ro.img
truncate -s 64M "$IMG"
head -c 1M /dev/urandom >"$RO"
ro_sum=$(sha "$RO")

# ---- 1. write, 2. read back after a reboot ----------------------------------
check "disk-write: mkfs.ext4 and files on vda" boot write disk-write "" --disk "path=$IMG"
sums=""
for f in $FILES; do
	s=$(marker write "disk file $f")
	[ -n "$s" ] && sums+="${sums:+,}$f:$s"
done
check "disk-write: the guest wrote 3 files ($sums)" [ "$(tr ',' '\n' <<<"$sums" | grep -c :)" = 3 ]
check "disk-write: one vCPU, one request queue by default (saw '$(marker write "disk vda queues")')" \
	[ "$(marker write "disk vda queues")" = 1 ]

check "disk-check: after a reboot e2fsck -fn is clean and every file has its sum" \
	boot check disk-check "guest.sums=$sums" --disk "path=$IMG"
for f in $FILES; do
	got=$(marker check "disk file $f")
	check "disk-check: $f read back as written" [ -n "$got" -a "$got" = "$(marker write "disk file $f")" ]
done
e2fsck -fn "$IMG" >"$T/e2fsck.out" 2>&1
st=$?
check "host: e2fsck -fn on the image is clean (exit $st)" [ $st = 0 ]
[ $st = 0 ] || diag <"$T/e2fsck.out"
for f in $FILES; do
	debugfs -R "dump /$f $T/dump.$f" "$IMG" >/dev/null 2>&1
	check "host: debugfs reads $f from the image with the guest's sum" \
		[ -f "$T/dump.$f" -a "$(sha "$T/dump.$f")" = "$(marker write "disk file $f")" ]
done

# ---- 2a. format=vmdk: the same ext4 as a sparse vmdk, read-only -------------
qemu-img convert -f raw -O vmdk "$IMG" "$T/disk.vmdk"
vmdk_sum=$(sha "$T/disk.vmdk")
check "disk-check on a vmdk of the same disk (format=vmdk, read-only)" \
	boot vcheck disk-check "guest.sums=$sums" -v --disk "path=$T/disk.vmdk,format=vmdk"
check "format=vmdk: moat-blk read its header, read-only (-v: $(grep -o 'vmdk, [0-9]* sectors[^,]*' "$T/vcheck.err" | head -n 1))" \
	grep -q 'vmdk, 131072 sectors, read-only' "$T/vcheck.err"
check "format=vmdk: the image is unchanged" [ "$(sha "$T/disk.vmdk")" = "$vmdk_sum" ]
rm -f "$T/disk.vmdk"
# a vmdk descriptor file over a flat extent (monolithicFlat), found by
# probing: the monitor opens the extent file it names, moat-blk reads it
qemu-img convert -f raw -O vmdk -o subformat=monolithicFlat "$IMG" "$T/flat.vmdk"
flat_sum=$(sha "$T/flat-flat.vmdk")
check "disk-check on a monolithicFlat vmdk, found by probing, read-only" \
	boot fcheck disk-check "guest.sums=$sums" -v --disk "path=$T/flat.vmdk,ro"
check "the probe found vmdk, and its extent file" \
	bash -c "grep -q 'flat.vmdk: vmdk, found from its header' '$T/fcheck.err' &&
		grep -q 'extent file 1 is $T/flat-flat.vmdk' '$T/fcheck.err'"
check "the extent file is unchanged" [ "$(sha "$T/flat-flat.vmdk")" = "$flat_sum" ]
rm -f "$T/flat.vmdk" "$T/flat-flat.vmdk"

# ---- 2b. cache=none,aio=io_uring writes, aio=threads reads back --------------
# O_DIRECT needs a file system with direct I/O: $T if it has it (the KVM
# box's /tmp is a tmpfs, which may not), else the box's out directory.
direct_ok() { dd if=/dev/zero of="$1/probe" bs=4096 count=1 oflag=direct 2>/dev/null; }
DDIR=""
for d in "$T" "${KVMBOX_OUT:-}"; do
	if [ -n "$d" ] && direct_ok "$d"; then DDIR=$d; break; fi
done
if [ -n "$DDIR" ]; then
	IMG2=$DDIR/direct.img
	truncate -s 64M "$IMG2"
	check "disk-write with cache=none,aio=io_uring on 2 vCPUs" \
		boot write2 disk-write "" -v --cpus 2 --disk "path=$IMG2,cache=none,aio=io_uring"
	check "cache=none,aio=io_uring: the disk got them (-v: $(grep -o 'cache=[a-z]*, aio=[a-z_]*' "$T/write2.err" | head -n 1))" \
		grep -q 'cache=none, aio=io_uring' "$T/write2.err"
	# queues=: one per vCPU by default; each queue takes the I/O of its
	# CPUs and interrupts on its own vector (VIRTIO_BLK_F_MQ)
	check "2 vCPUs: moat-blk got 2 request queues (-v: $(grep -o '[0-9]* queues, [0-9]* vectors' "$T/write2.err" | head -n 1))" \
		grep -q ' 2 queues, 3 vectors' "$T/write2.err"
	check "2 vCPUs: the guest's virtio_blk uses 2 queues (saw '$(marker write2 "disk vda queues")')" \
		[ "$(marker write2 "disk vda queues")" = 2 ]
	for q in 0 1; do
		seen=$(marker write2 "disk vda queue $q")
		check "queue $q: a read from its CPU interrupted on its vector ($seen)" \
			bash -c '[[ $1 =~ ^cpu\ [0-9]+\ irqs\ ([0-9]+)$ ]] && [ "${BASH_REMATCH[1]}" -gt 0 ]' _ "$seen"
	done
	sums2=""
	for f in $FILES; do
		s=$(marker write2 "disk file $f")
		[ -n "$s" ] && sums2+="${sums2:+,}$f:$s"
	done
	check "disk-check with aio=threads,queues=1 on 2 vCPUs reads back what io_uring wrote" \
		boot check2 disk-check "guest.sums=$sums2" -v --cpus 2 --disk "path=$IMG2,aio=threads,queues=1"
	check "aio=threads: the disk got threads" grep -q 'cache=writeback, aio=threads' "$T/check2.err"
	check "queues=1 on 2 vCPUs: the guest uses 1 queue (saw '$(marker check2 "disk vda queues")')" \
		[ "$(marker check2 "disk vda queues")" = 1 ]
	check "aio=threads: the 3 files read back with their sums" \
		[ "$(tr ',' '\n' <<<"$sums2" | grep -c :)" = 3 ]
	e2fsck -fn "$IMG2" >"$T/e2fsck2.out" 2>&1
	check "host: e2fsck -fn on the cache=none image is clean" [ $? = 0 ]
	rm -f "$IMG2" "$DDIR/probe"
else
	ok "# SKIP cache=none: no file system here with direct I/O"
fi

# ---- 2c. format=qcow2: an ext4 on a qcow2 image, judged by QEMU's tools ------
QIMG=$T/disk.qcow2
qemu-img create -q -f qcow2 "$QIMG" 64M
check "disk-write on a qcow2 image (format=qcow2)" \
	boot qwrite disk-write "" -v --cpus 2 --disk "path=$QIMG,format=qcow2"
check "format=qcow2: moat-blk read its header (-v: $(grep -o 'qcow2, [0-9]* sectors' "$T/qwrite.err" | head -n 1))" \
	grep -q 'qcow2, 131072 sectors' "$T/qwrite.err"
# judge_qcow2 WHAT IMAGE BOOT RAW: qemu-img check is clean, and the content
# (converted to RAW, kept) is an ext4 that e2fsck finds clean, holding the
# files with the sums the guest printed in boot BOOT
judge_qcow2() {
	local what=$1 img=$2 boot=$3 raw=$4 st f
	qemu-img check "$img" >"$T/$boot.qcheck" 2>&1
	st=$?
	check "host: qemu-img check on $what is clean (exit $st)" [ $st = 0 ]
	[ $st = 0 ] || diag <"$T/$boot.qcheck"
	qemu-img convert -f qcow2 -O raw "$img" "$raw"
	e2fsck -fn "$raw" >"$T/$boot.e2fsck" 2>&1
	check "host: e2fsck -fn on $what's content is clean" [ $? = 0 ]
	for f in $FILES; do
		debugfs -R "dump /$f $T/$boot.dump.$f" "$raw" >/dev/null 2>&1
		got=$([ -f "$T/$boot.dump.$f" ] && sha "$T/$boot.dump.$f")
		check "host: $f in $what has the guest's sum" \
			[ -n "$got" -a "$got" = "$(marker "$boot" "disk file $f")" ]
	done
}
judge_qcow2 "the qcow2 image" "$QIMG" qwrite "$T/qconv.raw"
rm -f "$QIMG"

# ---- 2d. a qcow2 overlay over a raw base, its format found from its header ---
# The base is the ext4 the guest just wrote (converted to raw); the overlay
# names it relative to its own directory, with its format recorded, as
# `qemu-img create -b` makes it. No format= is given: moat-blk's probe finds
# qcow2, the monitor follows the chain and hands the base over read-only.
BASE=$T/qconv.raw
base_sum=$(sha "$BASE")
qsums=""
for f in $FILES; do
	s=$(marker qwrite "disk file $f")
	[ -n "$s" ] && qsums+="${qsums:+,}$f:$s"
done
(cd "$T" && qemu-img create -q -f qcow2 -b qconv.raw -F raw over.qcow2)
check "disk-check through a qcow2 overlay reads the base's files" \
	boot ocheck disk-check "guest.sums=$qsums" -v --disk "path=$T/over.qcow2"
check "no format=: the probe found qcow2" \
	grep -q "over.qcow2: qcow2, found from its header" "$T/ocheck.err"
check "the backing file was followed, read-only" \
	grep -q "over.qcow2: backing file 1 is $T/qconv.raw (raw, read-only)" "$T/ocheck.err"
check "disk-write on the overlay (a new ext4 over the base's)" \
	boot owrite disk-write "" --disk "path=$T/over.qcow2"
judge_qcow2 "the overlay" "$T/over.qcow2" owrite "$T/oconv.raw"
check "host: the base is unchanged" [ "$(sha "$BASE")" = "$base_sum" ]
rm -f "$T/qconv.raw" "$T/oconv.raw" "$T/over.qcow2"

# ---- 3. two disks, the second read-only with an id and a serial -------------
check "disk-ro: two disks, writes to the read-only vdb fail" \
	boot ro disk-ro "guest.disks=2 guest.rodisk=vdb" --audit "$T/ro.audit" \
	--disk "path=$IMG" --disk "path=$RO,ro,id=rodisk,serial=moat-ro-1"
check "vda: 64 MiB, writable, as given first (saw '$(marker ro "disk vda")')" \
	grep -q '^size-bytes 67108864 ro 0 ' <<<"$(marker ro "disk vda")"
check "vdb: 1 MiB, read-only, serial moat-ro-1 (saw '$(marker ro "disk vdb")')" \
	[ "$(marker ro "disk vdb")" = "size-bytes 1048576 ro 1 serial moat-ro-1" ]
check "vdb: the guest reads the image's content" [ "$(marker ro "disk vdb sha256")" = "$ro_sum" ]
for a in dd dd-direct dd-after-setrw dd-direct-after-setrw blkdiscard; do
	check "vdb: write attempt '$a' failed in the guest ($(marker ro "disk ro-attempt $a"))" \
		grep -q '^failed' <<<"$(marker ro "disk ro-attempt $a")"
done
check "vdb: the guest saw every write fail" grep -q "MOAT-GUEST: disk ro-write-failed" "$T/ro.out"
check "host: the read-only image is unchanged" [ "$(sha "$RO")" = "$ro_sum" ]
check "audit: the disks' processes are named blk0 and rodisk (id=)" \
	bash -c "grep -q 'child-ready child=blk0 ' '$T/ro.audit' && grep -q 'child-ready child=rodisk ' '$T/ro.audit'"

# ---- 4. synced data survives SIGKILL of all of moat ---------------------------
# moat in its own process group (setsid: the background job is no group
# leader, so setsid needs no fork and keeps the pid)
moat_pids >"$T/pids.before"
setsid "$MOAT" run --kernel "$BZIMAGE" --initrd "$INITRD" --mem 256M \
	--cmdline "$CMDLINE guest.action=disk-sync-wait guest.mkfs=0" --disk "path=$IMG" \
	>"$T/sync.out" 2>"$T/sync.err" </dev/null &
mon=$!
pgid=$(ps -o pgid= -p "$mon" | tr -d ' ')
if wait_for "$T/sync.out" "MOAT-GUEST: disk synced" "$BOOT_TIMEOUT"; then
	ok "disk-sync-wait: the guest synced /synced.bin"
else
	not_ok "disk-sync-wait: the guest synced /synced.bin"
	tail -n 30 "$T/sync.out" "$T/sync.err" | diag
fi
check "moat runs in its own process group ($pgid)" [ "$pgid" = "$mon" ]
if [ "$pgid" = "$mon" ]; then kill -KILL -- "-$pgid"; else kill -KILL "$mon"; fi
wait "$mon" 2>/dev/null
check "no moat process left after SIGKILL of its process group" no_new_moat
synced=$(marker sync "disk synced")
e2fsck -fy "$IMG" >"$T/e2fsck-y.out" 2>&1
st=$?
# 1: the journal was replayed (and the free counts, which it does not hold,
# were fixed)
check "host: e2fsck -fy replays the journal (exit $st, 0 or 1)" [ $st -le 1 ]
[ $st -le 1 ] || diag <"$T/e2fsck-y.out"
e2fsck -fn "$IMG" >"$T/e2fsck.out" 2>&1
st=$?
check "host: then e2fsck -fn is clean (exit $st)" [ $st = 0 ]
got=$(debugfs -R "cat /synced.bin" "$IMG" 2>/dev/null | sha)
check "host: /synced.bin has the sum the guest printed before the kill (${synced:-none})" \
	[ -n "$synced" -a "$got" = "$synced" ]

# ---- 4b. SIGKILL of all of moat while the guest writes a qcow2 image ---------
# qcow2.h orders its metadata writes so that a kill at any point leaks
# clusters at worst: qemu-img check then exits 0 (clean) or 3 (leaks only),
# never 2 (corruption). Killed at a random point of the 128 MiB file's
# writes (once the guest has written hello.txt, within a second);
# MOAT_TEST_QCOW2_KILLS rounds (default 1: test_qcow2_crash kills a writer
# 80 times on the host, and each round here is a boot).
for ((round = 1; round <= ${MOAT_TEST_QCOW2_KILLS:-1}; round++)); do
	KIMG=$T/kill.qcow2
	qemu-img create -q -f qcow2 "$KIMG" 256M
	setsid "$MOAT" run --kernel "$BZIMAGE" --initrd "$INITRD" --mem 256M \
		--cmdline "$CMDLINE guest.action=disk-write guest.disk-mb=128" \
		--disk "path=$KIMG,format=qcow2" >"$T/kill$round.out" 2>"$T/kill$round.err" </dev/null &
	mon=$!
	if wait_for "$T/kill$round.out" "MOAT-GUEST: disk file hello.txt" "$BOOT_TIMEOUT"; then
		sleep "0.$((RANDOM % 10))$((RANDOM % 10))"
		at=$(grep -c "MOAT-GUEST: disk" "$T/kill$round.out")
		kill -KILL -- "-$mon" 2>/dev/null || kill -KILL "$mon"
		wait "$mon" 2>/dev/null
		qemu-img check "$KIMG" >"$T/kcheck$round.out" 2>&1
		st=$?
		leaks=$(sed -n 's/^\([0-9]*\) leaked clusters.*/\1/p' "$T/kcheck$round.out")
		check "round $round: SIGKILL of moat after $at disk lines: qemu-img check finds no corruption (exit $st, ${leaks:-0} leaked clusters)" \
			[ $st = 0 -o $st = 3 ]
		grep -q "MOAT-GUEST: disk written" "$T/kill$round.out" &&
			echo "# round $round: the guest had finished writing before the kill" >&2
		[ $st = 0 ] || [ $st = 3 ] || diag <"$T/kcheck$round.out"
	else
		not_ok "round $round: the guest began writing the qcow2 image"
		kill -KILL -- "-$mon" 2>/dev/null
		wait "$mon" 2>/dev/null
		tail -n 20 "$T/kill$round.out" "$T/kill$round.err" | diag
	fi
	rm -f "$KIMG"
done

# ---- 5. a running guest: sandbox, image lock, disk process killed -----------
moat_pids >"$T/pids.before"
blk=""
if vm_up wait "MOAT-GUEST: waiting" "$BOOT_TIMEOUT" \
	"$MOAT" run --kernel "$BZIMAGE" --initrd "$INITRD" --mem 256M \
	--cmdline "$CMDLINE guest.action=wait guest.wait=30 guest.modules=virtio_pci,virtio_blk" \
	--disk "path=$IMG"; then
	ok "waiting guest with a disk is up"
	check_child blk moat-blk blk0 "$T/wait.audit"

	# the image is locked while in use: a second moat refuses it
	timeout 60 "$MOAT" run --kernel "$BZIMAGE" --initrd "$INITRD" --serial none \
		--disk "path=$IMG" >"$T/lock.out" 2>"$T/lock.err" </dev/null
	st=$?
	check "an image in use by another moat: exit 2 (got $st)" [ $st = 2 ]
	check "an image in use: one line, naming it ($(head -n 1 "$T/lock.err"))" \
		bash -c "[ \$(wc -l <'$T/lock.err') = 1 ] && grep -qF '$IMG' '$T/lock.err'"

	if [ -n "$blk" ]; then
		kill -KILL "$blk"
		check "moat-blk killed while the guest still waits" \
			bash -c "! grep -q 'MOAT-GUEST: result' '$T/wait.log'"
	fi
else
	not_ok "waiting guest with a disk is up"
	tail -n 30 "$T/wait.log" "$T/wait.err" | diag
	kill -TERM "$mon"
fi
wait "$mon"
st=$?
check "with moat-blk killed the guest still finishes and moat exits 0 (got $st)" [ $st = 0 ]
check "the guest reached its end marker" grep -q "MOAT-GUEST: result wait ok" "$T/wait.log"
check "the disk process's death is in the audit trail" \
	grep -q "child-died child=blk0 .*pid=${blk:-none} .*signal KILL" "$T/wait.audit"
check "no moat process left" no_new_moat

# ---- 6. moat-blk restarted under a guest that writes (issue 15) -------------
# The guest writes, flushes and reads back 64 KiB blocks with O_DIRECT
# (disk-verify) while moat-blk is killed five times and restarted once by
# moat ctl: each successor takes the transport and the requests in flight
# back from the state file, so the guest sees no I/O error, no reset and no
# wrong block. The restart budget is 3 a minute: three kills, then a minute
# after the first, two more kills and the ctl restart. Most kills land in a
# write or a flush (every round ends with one).
# It was off by default while the guest, in the KVM box, now and then
# stopped after the restarts (its disk hung): a box whose QEMU lost
# interrupts (docs/decisions/0025, 0026). On the backported QEMU it passed
# in every run (issue 15's note); MOAT_TEST_BLK_RESTART=0 skips it.
if [ "${MOAT_TEST_BLK_RESTART:-1}" != 0 ]; then
moat_pids >"$T/pids.before"
blk_restarts() { grep -c "child-reattached child=blk0" "$T/verify.audit" 2>/dev/null; }
truncate -s 8M "$T/verify.img"
pids=""
if vm_up verify "MOAT-GUEST: verify started" "$BOOT_TIMEOUT" \
	"$MOAT" run -v --kernel "$BZIMAGE" --initrd "$INITRD" --mem 256M --control "$T/verify.sock" \
	--cmdline "$CMDLINE guest.action=disk-verify guest.verify-secs=90" \
	--disk "path=$T/verify.img"; then
	ok "disk-verify guest is up and writing"
	t0=$SECONDS k=0
	for at in 3 7 11 66 70 74; do
		while [ $((SECONDS - t0)) -lt "$at" ]; do sleep 0.2; done
		k=$((k + 1))
		blk=$(child_pid "$mon" moat-blk)
		pids="$pids ${blk:-none}"
		if [ "$k" = 6 ]; then
			"$MOAT" ctl --control "$T/verify.sock" device restart blk0 >"$T/verify.ctl" 2>&1
			check "moat ctl device restart blk0 exits 0 ($(head -n 1 "$T/verify.ctl"))" [ $? = 0 ]
		elif [ -n "$blk" ]; then
			kill -KILL "$blk"
		fi
		for _ in $(seq 100); do [ "$(blk_restarts)" -ge "$k" ] && break; sleep 0.1; done
	done
	check "moat-blk was restarted six times (reattached $(blk_restarts) times)" [ "$(blk_restarts)" = 6 ]
	blk=$(child_pid "$mon" moat-blk)
	check "the seventh moat-blk is a new process ($blk, after$pids)" \
		bash -c "[ -n '$blk' ] && ! grep -qw '$blk' <<<'$pids'"
	[ -n "$blk" ] && check_sandboxed "$blk" moat-blk
else
	not_ok "disk-verify guest is up and writing"
	tail -n 30 "$T/verify.log" "$T/verify.err" | diag
	kill -TERM "$mon"
fi
# the guest ends 90 s after it started writing; while it runs, a console
# that stopped growing for 15 s gets a look (look_at_vm): the disk's
# queues (moat ctl status: requests waiting, in flight, interrupts sent),
# moat-vcpu's threads, and where each vCPU stopped (a pause, with -v)
stall_watch() {
	local size last=-1 quiet=0
	while kill -0 "$mon" 2>/dev/null; do
		sleep 5
		size=$(stat -c %s "$T/verify.log" 2>/dev/null || echo 0)
		if [ "$size" = "$last" ]; then quiet=$((quiet + 5)); else quiet=0; fi
		last=$size
		if [ "$quiet" -ge 15 ]; then
			{ echo "console quiet for $quiet s at $(date +%T)"
			  look_at_vm "$mon" "$T/verify.sock"; } >>"$T/verify.stall" 2>&1
			quiet=0
		fi
	done
}
stall_watch &
watcher=$!
wait_vm 120
kill "$watcher" 2>/dev/null
wait "$watcher" 2>/dev/null
check "moat exits 0 after the restarts (got $st)" [ $st = 0 ]
if [ $st != 0 ]; then
	tail -n 40 "$T/verify.log" | diag
	tail -n 25 "$T/verify.err" | diag
	grep -v child-stats "$T/verify.audit" | tail -n 12 | diag
	tail -n 80 "$T/verify.stall" 2>/dev/null | diag
fi
verify=$(sed -n 's/^MOAT-GUEST: verify rounds/rounds/p' "$T/verify.log" | tr -d '\r')
echo "# disk-verify: $verify"
read -r _ rounds _ errors _ bad _ kernel _ gap <<<"$verify"
check "the guest wrote and verified across the restarts (${rounds:-0} rounds)" [ "${rounds:-0}" -gt 20 ]
check "the guest saw no I/O error (${errors:-?}), no wrong block (${bad:-?}), no kernel complaint (${kernel:-?})" \
	grep -q "MOAT-GUEST: result disk-verify ok" "$T/verify.log"
check "each kill is in the audit trail with its cause" \
	[ "$(grep -c 'child-restart child=blk0 kind=blk pid=[0-9]* cause="was killed by signal KILL"' "$T/verify.audit")" = 5 ]
check "each successor was checked sandboxed (child-ready for 7 processes)" \
	[ "$(grep -c 'child-ready child=blk0' "$T/verify.audit")" = 7 ]
echo "# longest stall between verified rounds: ${gap:-?} ms (a round is a write, a flush and a read)"
check "no moat process left" no_new_moat
else
	ok "# SKIP moat-blk restarted under a writing guest (MOAT_TEST_BLK_RESTART=0)"
fi

# ---- bad --disk input: exit 2, one line naming the image, nothing left -------
bad_disk() { # bad_disk NAME DISK-OPTION PATH
	local name=$1 opt=$2 path=$3 st
	moat_pids >"$T/pids.before"
	timeout 60 "$MOAT" run --kernel "$BZIMAGE" --initrd "$INITRD" --serial none \
		--cmdline "$CMDLINE" --disk "$opt" >"$T/bad.out" 2>"$T/bad.err" </dev/null
	st=$?
	check "$name: exit 2 (got $st)" [ $st = 2 ]
	check "$name: one line on stderr, naming $path ($(head -n 1 "$T/bad.err"))" \
		bash -c "[ \$(wc -l <'$T/bad.err') = 1 ] && grep -qF '$path' '$T/bad.err'"
	check "$name: no moat process left" no_new_moat
}
bad_disk "missing image" "path=$T/missing.img" "$T/missing.img"
truncate -s 1000 "$T/odd.img"
bad_disk "image of 1000 bytes (not whole sectors)" "path=$T/odd.img" "$T/odd.img"
# cache=none where the file system refuses O_DIRECT (a tmpfs before 6.6)
if ! direct_ok "$T"; then
	truncate -s 1M "$T/tmpfs.img"
	bad_disk "cache=none on a file system without O_DIRECT" "path=$T/tmpfs.img,cache=none" \
		"$T/tmpfs.img"
else
	ok "# SKIP cache=none refused: $T has direct I/O"
fi
mkdir "$T/dir.img"
bad_disk "a directory as image" "path=$T/dir.img,ro" "$T/dir.img"
# Unreadable with ro: root reads any mode-000 file, but not a sysfs
# attribute without read permission (kernfs refuses the open itself).
if [ "$(id -u)" != 0 ]; then
	head -c 4096 /dev/zero >"$T/noread.img"
	chmod 000 "$T/noread.img"
	bad_disk "ro image without read permission" "path=$T/noread.img,ro" "$T/noread.img"
else
	noread=""
	for f in /sys/bus/pci/rescan /sys/bus/pci/drivers_probe; do
		if [ -f "$f" ] && ! head -c 1 "$f" >/dev/null 2>&1; then noread=$f; break; fi
	done
	if [ -n "$noread" ]; then
		bad_disk "ro image without read permission (as root: $noread)" "path=$noread,ro" "$noread"
	else
		ok "# SKIP ro image without read permission: root, and no unreadable sysfs file"
	fi
fi
finish
