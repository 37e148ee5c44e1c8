#!/usr/bin/env bash
# The monitor's checks of the files the user names: kernel, initrd, OSK
# file, disk images. They all run before /dev/kvm is opened and before any
# child starts, so this needs no KVM: a FIFO, a device, a directory, or a
# symlink to one, is refused with one line and exit 2 within a second,
# before anything opens it; a block device only with blockdev=on; an image
# that QEMU holds is refused. (QEMU refusing an image moat holds needs a
# running VM: host-disk.sh.) Needs root: loop devices, mknod, namespaces.
# Usage: host-files.sh MOAT TINY_ELF
MOAT=$1
TINY=$2
. "$(dirname "$0")/lib.sh"

need_root "loop devices, mknod, namespaces"
T=$T_TMP
mkfifo "$T/fifo"
truncate -s 4M "$T/img"
ln -s /dev/null "$T/to-null"
ln -s img "$T/to-img"

# refused NAME PATTERN ARGS...: `moat run ARGS` exits 2 within a second
# with one line matching PATTERN, and no VM was started (no vm-start in
# the audit trail: nothing was spawned). A monitor hanging in open() is
# killed by timeout (exit 124) and fails.
refused() {
	local name=$1 pat=$2 st t0 ms
	shift 2
	t0=$(date +%s%N)
	timeout 10 "$MOAT" run --audit "$T/$name.audit" "$@" >"$T/$name.out" 2>"$T/$name.err" </dev/null
	st=$?
	ms=$((($(date +%s%N) - t0) / 1000000))
	if [ $st = 2 ] && [ $ms -lt 1000 ] && [ "$(wc -l <"$T/$name.err")" = 1 ] &&
		grep -q -- "$pat" "$T/$name.err" && ! grep -qs vm-start "$T/$name.audit"; then
		return 0
	fi
	echo "# $name: exit $st after $ms ms" >&2
	diag <"$T/$name.err"
	return 1
}

# past_checks NAME ARGS...: `moat run ARGS` in a mount namespace whose /dev
# is an empty tmpfs, so it stops at "cannot open /dev/kvm" whether or not
# this host has KVM: every file the user named has passed its checks.
past_checks() {
	local name=$1 st
	shift
	# /dev/null stays: a disk's format is probed by a sandboxed moat-blk
	# before /dev/kvm is opened, and its stdin is /dev/null
	unshare -m bash -c 'mount -t tmpfs moat-nodev /dev && mknod -m 666 /dev/null c 1 3 &&
		exec timeout 10 "$@"' _ \
		"$MOAT" run "$@" >"$T/$name.out" 2>"$T/$name.err" </dev/null
	st=$?
	[ $st = 2 ] && grep -q "cannot open /dev/kvm" "$T/$name.err" && return 0
	echo "# $name: exit $st" >&2
	diag <"$T/$name.err"
	return 1
}

# Kernel, initrd, OSK file: regular files only.
check "a FIFO as --kernel is refused" refused kfifo "kernel $T/fifo is a FIFO" --kernel "$T/fifo"
check "a FIFO as --initrd is refused" refused ififo "initrd $T/fifo is a FIFO" \
	--kernel "$TINY" --initrd "$T/fifo"
check "a FIFO as the OSK file is refused" refused oskfifo "OSK file $T/fifo is a FIFO" \
	--kernel "$TINY" --smc osk-file="$T/fifo"
check "a symlink to /dev/null as --kernel is refused" refused knull "is a character device" \
	--kernel "$T/to-null"
check "a directory as --kernel is refused" refused kdir "is a directory" --kernel "$T"

# Disk images: regular files, whatever the path's symlinks lead to.
check "a FIFO as a read-only disk is refused" refused dfifo-ro "disk image $T/fifo is a FIFO" \
	--kernel "$TINY" --disk path="$T/fifo",ro
check "a FIFO as a read-write disk is refused" refused dfifo-rw "disk image $T/fifo is a FIFO" \
	--kernel "$TINY" --disk path="$T/fifo"
check "a symlink to /dev/null as a disk is refused" refused dnull "is a character device" \
	--kernel "$TINY" --disk path="$T/to-null"
check "/dev/null is still a character device" [ -c /dev/null ]
check "a directory as a disk is refused" refused ddir "disk image $T is a directory" \
	--kernel "$TINY" --disk path="$T",ro
check "a regular file with blockdev=on is refused" refused dnotblk "not a block device" \
	--kernel "$TINY" --disk path="$T/img",blockdev=on
check "a symlink to an image passes the checks" past_checks dlink \
	--kernel "$TINY" --disk path="$T/to-img" -v
check "and -v names the image it leads to" grep -q "disk image $T/to-img is $T/img" "$T/dlink.err"

# A block device: refused without blockdev=on, accepted with it. The loop
# device's node is copied into $T so that it stays reachable in
# past_checks' empty /dev.
truncate -s 8M "$T/blk.img"
if loop=$(losetup -f --show "$T/blk.img" 2>"$T/losetup.err"); then
	mknod "$T/blk" b "0x$(stat -c %t "$loop")" "0x$(stat -c %T "$loop")"
	check "a block device without blockdev=on is refused" refused blk "blockdev=on" \
		--kernel "$TINY" --disk path="$loop"
	check "nor read-only" refused blkro "blockdev=on" --kernel "$TINY" --disk path="$loop",ro
	check "with blockdev=on it passes the checks" past_checks blkon \
		--kernel "$TINY" --disk path="$T/blk",blockdev=on
	check "and read-only too" past_checks blkonro \
		--kernel "$TINY" --disk path="$T/blk",blockdev=on,ro
	blockdev --setro "$loop"
	check "a read-only block device is refused read-write" refused blksetro "is read-only" \
		--kernel "$TINY" --disk path="$loop",blockdev=on
	blockdev --setrw "$loop"
	if mke2fs -q -F "$loop" >/dev/null 2>&1 && mkdir "$T/mnt" && mount "$loop" "$T/mnt"; then
		check "a mounted block device is refused read-write" refused blkmounted "busy" \
			--kernel "$TINY" --disk path="$loop",blockdev=on
		umount "$T/mnt"
	fi
	losetup -d "$loop"
else
	not_ok "a loop device for the block device checks"
	diag <"$T/losetup.err"
fi

# QEMU holding an image: qemu-io keeps it open (and its lock bytes taken)
# for as long as its 'sleep' command runs.
if command -v qemu-io >/dev/null; then
	truncate -s 1M "$T/held"
	qemu-io -f raw -c 'sleep 30000' "$T/held" >/dev/null 2>&1 &
	qio=$!
	ino=$(stat -c %i "$T/held")
	for _ in $(seq 100); do
		grep -q ":$ino 100 " /proc/locks && break
		sleep 0.1
	done
	check "moat refuses an image qemu-io holds for writing" refused qemu-rw \
		"in use by another process, which holds it for writing" \
		--kernel "$TINY" --disk path="$T/held"
	check "read-only too (it would change under the guest)" refused qemu-ro \
		"in use by another process" --kernel "$TINY" --disk path="$T/held",ro
	kill "$qio"
	wait "$qio" 2>/dev/null
	qemu-io -r -f raw -c 'sleep 30000' "$T/held" >/dev/null 2>&1 &
	qio=$!
	for _ in $(seq 100); do
		grep -q ":$ino 100 " /proc/locks && break
		sleep 0.1
	done
	check "a read-only moat disk shares reading with qemu-io -r" past_checks qemu-shared \
		--kernel "$TINY" --disk path="$T/held",ro
	check "and so does a read-write one: qemu-io -r lets others write" past_checks qemu-shared-rw \
		--kernel "$TINY" --disk path="$T/held"
	kill "$qio"
	wait "$qio" 2>/dev/null
else
	not_ok "qemu-io is installed (scripts/deps: qemu-utils)"
fi
# The audit file: root appends to it, so never through a symbolic link (one
# in a shared directory could aim root's appends anywhere), never a FIFO
# (the open would wait) or a device.
audit_refused() { # audit_refused NAME PATTERN PATH
	timeout 10 "$MOAT" run --kernel "$TINY" --audit "$3" >"$T/$1.out" 2>"$T/$1.err" </dev/null
	local st=$?
	[ $st = 2 ] && grep -q -- "$2" "$T/$1.err" && return 0
	echo "# $1: exit $st" >&2
	diag <"$T/$1.err"
	return 1
}
ln -s img "$T/audit-link"
check "a symlink as --audit is refused" \
	audit_refused alink "audit file $T/audit-link: it is a symbolic link" "$T/audit-link"
check "and the file it leads to is untouched" [ "$(stat -c %s "$T/img")" = $((4 << 20)) ]
check "a FIFO as --audit is refused" audit_refused afifo "cannot open the audit file $T/fifo" "$T/fifo"
check "a device as --audit is refused" audit_refused adev "audit file /dev/null: not a regular file" /dev/null
# Firmware (--firmware PATH[,vars=PATH]): what the monitor checks before
# /dev/kvm. (The image's contents, truncated or not firmware at all, are
# checked by moat-vcpu, after KVM: linux-firmware.sh.)
SEABIOS=/usr/share/seabios/bios-256k.bin
OVMF_CODE=/usr/share/OVMF/OVMF_CODE_4M.fd
OVMF_VARS=/usr/share/OVMF/OVMF_VARS_4M.fd
check "a missing firmware file is refused" refused fwmissing "cannot open firmware $T/no-such.bin" \
	--firmware "$T/no-such.bin" --disk path="$T/img"
check "a FIFO as --firmware is refused" refused fwfifo "firmware $T/fifo is a FIFO" \
	--firmware "$T/fifo" --disk path="$T/img"
check "a directory as --firmware is refused" refused fwdir "is a directory" \
	--firmware "$T" --disk path="$T/img"
check "a FIFO as OVMF's variable store is refused" refused fwvarsfifo "variable store $T/fifo is a FIFO" \
	--firmware "$OVMF_CODE,vars=$T/fifo" --disk path="$T/img"
check "a missing variable store is refused" refused fwvarsmissing "$T/no-such.fd" \
	--firmware "$OVMF_CODE,vars=$T/no-such.fd" --disk path="$T/img"
check "OVMF's Secure Boot build, which needs SMM, is refused" refused fwsecboot "SMM" \
	--firmware /usr/share/OVMF/OVMF_CODE_4M.secboot.fd --disk path="$T/img"
check "--kernel together with --firmware is refused" refused fwkernel "--kernel and --firmware" \
	--kernel "$TINY" --firmware "$SEABIOS" --disk path="$T/img"
check "--initrd with --firmware (the boot loader chooses) is refused" refused fwinitrd "--initrd" \
	--firmware "$SEABIOS" --initrd "$TINY" --disk path="$T/img"
check "SeaBIOS passes the monitor's checks" past_checks fwbios \
	--firmware "$SEABIOS" --disk path="$T/img"
check "OVMF with vars= passes the monitor's checks" past_checks fwovmf \
	--firmware "$OVMF_CODE,vars=$OVMF_VARS" --disk path="$T/img"
check "OVMF alone passes too (its descriptor names the variable store)" past_checks fwovmf-novars \
	--firmware "$OVMF_CODE" --disk path="$T/img"
finish
