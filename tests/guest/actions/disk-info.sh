# shellcheck shell=sh disable=SC2034 # sourced by /init (tests/guest/init)
# guest.action=disk-info — the virtio-blk disks the guest found, one line each
# in name order:
#   MOAT-GUEST: disk vda size-bytes N ro 0|1 serial S
# (S is the rest of the line, "-" when the device reports no serial).
# Waits up to guest.disk-wait=SECONDS (default 10) for guest.disks=N (default
# 1) disks to appear.
#
# This file also holds what the other disk-* actions share (they source it):
# the disk wait and listing, the chosen device, mounting on /mnt, and the
# files disk-write writes and disk-check and disk-sync-wait expect:
#   hello.txt   a line of text
#   data1.bin   guest.disk-mb=N MiB (default 4) of pseudo-random text lines
#   data2.bin   65537 bytes of the same, another seed (not a whole block)
#   synced.bin  1 MiB of the same, a third seed (disk-sync-wait only)
# The data files are 64-byte lines "NAME LINENO w1 w2 w3 w4 w5" where the
# w are successive values of the LCG x = (x * 69069 + 1) mod 2^31 as %08x,
# starting at x = SEED: deterministic (any awk gives the same bytes, e.g. the
# host's), unique in every sector, and never zero.
modules_disk_info="virtio_pci virtio_blk"

DISK_FILES="hello.txt data1.bin data2.bin"

# disk_gen NAME SEED BYTES: BYTES bytes of the pseudo-random lines
disk_gen() {
	awk -v name="$1" -v x="$2" -v n="$3" 'BEGIN {
		lines = int((n + 63) / 64)
		for (i = 0; i < lines; i++) {
			l = sprintf("%-8.8s %09d", name, i)
			for (j = 0; j < 5; j++) {
				x = (x * 69069 + 1) % 2147483648
				l = l sprintf(" %08x", x)
			}
			print l
		}
	}' | head -c "$3"
}

# disk_content NAME: the expected content of file NAME
disk_content() {
	case "$1" in
	hello.txt) echo "moat virtio-blk test file" ;;
	data1.bin) disk_gen data1 1 $((${GUEST_DISK_MB:-4} * 1048576)) ;;
	data2.bin) disk_gen data2 2 65537 ;;
	synced.bin) disk_gen synced 3 1048576 ;;
	*) return 1 ;;
	esac
}

# disk_wait: wait for guest.disks virtio disks (block device and /dev node)
disk_wait() {
	want=${GUEST_DISKS:-1} secs=${GUEST_DISK_WAIT:-10}
	case "$want$secs" in
	*[!0-9]*) fail "guest.disks=$want, guest.disk-wait=$secs: numbers expected"; return ;;
	esac
	i=0
	while :; do
		n=0
		for d in /sys/block/vd*; do
			[ -e "$d" ] && [ -b "/dev/${d##*/}" ] && n=$((n + 1))
		done
		[ "$n" -ge "$want" ] && return 0
		if [ "$i" -ge $((secs * 10)) ]; then
			fail "$n virtio disk(s) after ${secs}s, expected $want"
			return
		fi
		sleep 0.1
		i=$((i + 1))
	done
}

# disk_list: one "disk ..." line per /sys/block/vd*
disk_list() {
	for d in /sys/block/vd*; do
		[ -e "$d" ] || continue
		sectors=$(cat "$d/size") || { fail "cannot read $d/size"; return; }
		ro=$(cat "$d/ro") || { fail "cannot read $d/ro"; return; }
		# reading it asks the device (VIRTIO_BLK_T_GET_ID); absent or failing: -
		serial=$(cat "$d/serial" 2>/dev/null) || serial=""
		say "disk ${d##*/} size-bytes $((sectors * 512)) ro $ro serial ${serial:--}"
	done
}

# disk_dev: /dev/NAME of guest.disk=NAME (default vda)
disk_dev() {
	name=${GUEST_DISK:-vda}
	case "$name" in
	vd[a-z]|vd[a-z][a-z]) ;;
	*) fail "guest.disk=$name is not a virtio disk name (vda, vdb, ...)"; return ;;
	esac
	[ -b "/dev/$name" ] || { fail "no /dev/$name"; return; }
	echo "/dev/$name"
}

# disk_mkfs DEV: a fresh ext4 on DEV, unless guest.mkfs=0. By full path:
# busybox sh runs its own applet (an ext2-only mke2fs) for a bare name.
disk_mkfs() {
	[ "${GUEST_MKFS:-1}" = 0 ] && return 0
	out=$(/sbin/mke2fs -t ext4 -q -F "$1" 2>&1) ||
		{ fail "mke2fs -t ext4 $1: $(printf '%s\n' "$out" | tail -n 1)"; return; }
	say "disk mkfs $1 ext4"
}

# disk_mount DEV ro|rw: DEV's ext4 on /mnt
disk_mount() {
	out=$(mount -t ext4 -o "$2" "$1" /mnt 2>&1) ||
		{ fail "mount -t ext4 -o $2 $1: $(printf '%s\n' "$out" | tail -n 1)"; return; }
}

disk_sha() { sha256sum "$@" | cut -d' ' -f1; }

action_disk_info() {
	disk_wait || return
	disk_list
}
