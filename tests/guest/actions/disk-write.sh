# shellcheck shell=sh disable=SC2034 # sourced by /init (tests/guest/init)
# guest.action=disk-write — a fresh ext4 on guest.disk (default vda; no mkfs
# with guest.mkfs=0), the test files of disk-info.sh written to it, then
# sync and unmount. Prints
#   MOAT-GUEST: disk mkfs /dev/vda ext4
#   MOAT-GUEST: disk file NAME SHA256        for each file, as written
#   MOAT-GUEST: disk written                 after sync and umount
# Files: hello.txt, data1.bin (guest.disk-mb=N MiB, default 4), data2.bin.
. /actions/disk-info.sh
modules_disk_write="virtio_pci virtio_blk ext4 crc32c_generic"
action_disk_write() {
	disk_wait || return
	dev=$(disk_dev) || return
	disk_mkfs "$dev" || return
	disk_mount "$dev" rw || return
	for f in $DISK_FILES; do
		if ! disk_content "$f" >"/mnt/$f"; then
			fail "cannot write /mnt/$f"
			umount /mnt
			return 1
		fi
		say "disk file $f $(disk_sha "/mnt/$f")"
	done
	sync
	out=$(umount /mnt 2>&1) || { fail "umount /mnt: $out"; return; }
	say "disk written"
}
