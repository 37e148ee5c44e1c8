# shellcheck shell=sh disable=SC2034 # sourced by /init (tests/guest/init)
# guest.action=disk-sync-wait — a fresh ext4 on guest.disk (default vda; no
# mkfs with guest.mkfs=0), /synced.bin (1 MiB from /dev/urandom) written to
# it and synced, then waits forever with the filesystem mounted: for tests
# that kill the VMM and look at the image. Prints
#   MOAT-GUEST: disk synced SHA256           SHA-256 of /synced.bin
# The journal may still hold the file's metadata: replay it (e2fsck -fy)
# before reading the image with debugfs.
# shellcheck source=disk-info.sh source-path=SCRIPTDIR
. /actions/disk-info.sh
modules_disk_sync_wait="virtio_pci virtio_blk ext4 crc32c_generic"
action_disk_sync_wait() {
	disk_wait || return
	dev=$(disk_dev) || return
	disk_mkfs "$dev" || return
	disk_mount "$dev" rw || return
	dd if=/dev/urandom of=/mnt/synced.bin bs=64k count=16 iflag=fullblock 2>/dev/null ||
		{ fail "cannot write /mnt/synced.bin"; return; }
	sync
	say "disk synced $(disk_sha /mnt/synced.bin)"
	while :; do sleep 3600; done
}
