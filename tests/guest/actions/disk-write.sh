# shellcheck shell=sh disable=SC2034 # sourced by /init (tests/guest/init)
# guest.action=disk-write — a fresh ext4 on guest.disk (default vda; no mkfs
# with guest.mkfs=0) and test files written to it:
#   hello.txt   a line of text
#   data1.bin   guest.disk-mb=N MiB (default 4) from /dev/urandom
#   data2.bin   65537 bytes from /dev/urandom (ends inside a block)
#   SHA256SUMS  their sums, as sha256sum writes them (for disk-check)
# then sync and unmount. Prints
#   MOAT-GUEST: disk mkfs /dev/vda ext4
#   MOAT-GUEST: disk file NAME SHA256        for each file, as written
#   MOAT-GUEST: disk written                 after sync and umount
# then disk-info.sh's disk_queues lines (a direct read on each queue).
# The data is random: tests take the sums from these lines (disk-check's
# guest.sums=, or debugfs on the host). Random data, unlike generated
# patterns (busybox awk makes ~0.15 MB/s in the nested test VM), is fast
# and differs in every block, so a misplaced or dropped write shows.
# shellcheck source=disk-info.sh source-path=SCRIPTDIR
. /actions/disk-info.sh
modules_disk_write="virtio_pci virtio_blk ext4 crc32c_generic"

# disk_write_file NAME: write /mnt/NAME
disk_write_file() {
	case "$1" in
	hello.txt) echo "moat virtio-blk test file" >/mnt/hello.txt ;;
	data1.bin) dd if=/dev/urandom of=/mnt/data1.bin bs=1M count="$mb" iflag=fullblock 2>/dev/null ;;
	data2.bin) head -c 65537 /dev/urandom >/mnt/data2.bin ;;
	esac
}

action_disk_write() {
	mb=${GUEST_DISK_MB:-4}
	case "$mb" in ''|*[!0-9]*) fail "guest.disk-mb=$mb is not a number"; return ;; esac
	disk_wait || return
	dev=$(disk_dev) || return
	disk_mkfs "$dev" || return
	disk_mount "$dev" rw || return
	files="hello.txt data1.bin data2.bin"
	for f in $files; do
		if ! disk_write_file "$f"; then
			fail "cannot write /mnt/$f"
			umount /mnt
			return 1
		fi
		say "disk file $f $(disk_sha "/mnt/$f")"
	done
	# shellcheck disable=SC2086 # the list of names
	(cd /mnt && sha256sum $files >SHA256SUMS) || { fail "cannot write /mnt/SHA256SUMS"; umount /mnt; return 1; }
	sync
	out=$(umount /mnt 2>&1) || { fail "umount /mnt: $out"; return; }
	say "disk written"
	disk_queues "${dev#/dev/}"
}
