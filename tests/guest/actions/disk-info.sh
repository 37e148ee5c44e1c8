# shellcheck shell=sh disable=SC2034 # sourced by /init (tests/guest/init)
# guest.action=disk-info — the virtio-blk disks the guest found, one line each
# in name order:
#   MOAT-GUEST: disk vda size-bytes N ro 0|1 serial S
# (S is the rest of the line, "-" when the device reports no serial).
# Waits up to guest.disk-wait=SECONDS (default 10) for guest.disks=N (default
# 1) disks to appear.
#
# This file also holds what the other disk-* actions share (they source it):
# the disk wait and listing, the chosen device, mkfs and mount on /mnt.
modules_disk_info="virtio_pci virtio_blk"

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

# disk_queue_irqs VIRTIO K: interrupts so far on request queue K's vector
# of device VIRTIO (virtio0: the /proc/interrupts line ending in
# virtio0-req.K), summed over the CPUs; 0 without such a line
disk_queue_irqs() {
	awk -v n="$1-req.$2" '$NF == n { for (i = 2; i <= NF; i++) if ($i ~ /^[0-9]+$/) s += $i; f = 1 }
		END { print f ? s : 0 }' /proc/interrupts
}

# disk_queues NAME: its request queues (blk-mq hardware contexts) and, for
# each, the interrupts that a direct read issued from the queue's first CPU
# brought on the queue's own vector:
#   MOAT-GUEST: disk NAME queues N
#   MOAT-GUEST: disk NAME queue K cpu C irqs DELTA     for each queue
disk_queues() {
	name=$1
	vdev=$(readlink "/sys/block/$name/device") || { fail "no /sys/block/$name/device"; return; }
	vdev=${vdev##*/}
	n=0
	for h in /sys/block/"$name"/mq/[0-9]*; do [ -d "$h" ] && n=$((n + 1)); done
	say "disk $name queues $n"
	for h in /sys/block/"$name"/mq/[0-9]*; do
		[ -d "$h" ] || continue
		k=${h##*/}
		cpu=$(tr -d ' ' <"$h/cpu_list" | cut -d, -f1 | cut -d- -f1)
		before=$(disk_queue_irqs "$vdev" "$k")
		taskset -c "$cpu" dd if="/dev/$name" of=/dev/null bs=4096 count=16 \
			skip=$((k * 16)) iflag=direct 2>/dev/null ||
			{ fail "direct read of /dev/$name on CPU $cpu"; return; }
		say "disk $name queue $k cpu $cpu irqs $(($(disk_queue_irqs "$vdev" "$k") - before))"
	done
}

action_disk_info() {
	disk_wait || return
	disk_list
}
