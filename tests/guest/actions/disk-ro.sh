# shellcheck shell=sh disable=SC2034 # sourced by /init (tests/guest/init)
# guest.action=disk-ro — writes to the read-only disk guest.rodisk (default
# vdb) fail. Lists the disks as disk-info does (waiting for guest.disks=N,
# default 2), reads the whole disk, then tries to write it: dd, dd with
# O_DIRECT, the same after `blockdev --setrw`, and blkdiscard. Each attempt
# must fail; then, with the caches dropped, the disk must read back the same.
#   MOAT-GUEST: disk vda size-bytes N ro 0 serial S       (the disk-info lines)
#   MOAT-GUEST: disk vdb sha256 SHA                       content before
#   MOAT-GUEST: disk ro-attempt LABEL failed: ERROR       for each attempt
#   MOAT-GUEST: disk vdb sha256-after SHA                 content after
#   MOAT-GUEST: disk ro-write-failed                      all failed, unchanged
# (an attempt that works prints "disk ro-attempt LABEL succeeded" and fails
# the action). When the device offers VIRTIO_BLK_F_RO, Linux (6.1) refuses
# these writes itself (EPERM; --setrw does not clear a disk's read-only
# state), so no write request reaches the device: that the device refuses
# them too is for the host to check, on the image.
# shellcheck source=disk-info.sh source-path=SCRIPTDIR
. /actions/disk-info.sh
modules_disk_ro="virtio_pci virtio_blk"

# disk_try LABEL COMMAND...: run a write that must fail
disk_try() {
	label=$1
	shift
	out=$("$@" 2>&1)
	rc=$?
	if [ "$rc" = 0 ]; then
		say "disk ro-attempt $label succeeded"
		wrote="$wrote $label"
	else
		# the error, not dd's "0+0 records" lines after it
		err=$(printf '%s\n' "$out" | grep -v '^[0-9]*+[0-9]* records' | head -n 1)
		say "disk ro-attempt $label failed: ${err:-exit status $rc}"
	fi
}

action_disk_ro() {
	GUEST_DISKS=${GUEST_DISKS:-2}
	disk_wait || return
	disk_list || return
	GUEST_DISK=${GUEST_RODISK:-vdb}
	dev=$(disk_dev) || return
	name=${dev#/dev/}
	before=$(disk_sha "$dev") || { fail "cannot read $dev"; return; }
	say "disk $name sha256 $before"
	wrote=""
	disk_try dd dd if=/dev/zero of="$dev" bs=4096 count=1 conv=notrunc,fsync
	disk_try dd-direct dd if=/dev/zero of="$dev" bs=4096 count=1 seek=1 conv=notrunc oflag=direct
	out=$(blockdev --setrw "$dev" 2>&1) && out="ok"
	say "disk ro-attempt setrw: $out, ro now $(blockdev --getro "$dev" 2>&1)"
	disk_try dd-after-setrw dd if=/dev/zero of="$dev" bs=4096 count=1 conv=notrunc,fsync
	disk_try dd-direct-after-setrw dd if=/dev/zero of="$dev" bs=4096 count=1 seek=2 conv=notrunc oflag=direct
	disk_try blkdiscard blkdiscard "$dev"
	blockdev --setro "$dev" 2>/dev/null
	blockdev --flushbufs "$dev" 2>/dev/null
	echo 3 >/proc/sys/vm/drop_caches
	after=$(disk_sha "$dev") || { fail "cannot read $dev again"; return; }
	say "disk $name sha256-after $after"
	[ -z "$wrote" ] || { fail "writes to read-only $name succeeded:$wrote"; return; }
	[ "$after" = "$before" ] || { fail "read-only $name changed"; return; }
	say "disk ro-write-failed"
}
