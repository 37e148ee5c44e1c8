# shellcheck shell=sh disable=SC2034 # sourced by /init (tests/guest/init)
# guest.action=fio-load — a steady disk load for bench/ctl: 4 KiB random
# reads at iodepth 32 on /dev/vda (read-only) for guest.fio-secs=N seconds
# (default 20), while the host acts on the VM (disk swaps, pauses). Needs
# an initramfs built with --add-bin /usr/bin/fio. Prints
#   MOAT-GUEST: fio-load started
#   MOAT-GUEST: fio-load <fio's terse v3 line>
modules_fio_load="virtio_pci virtio_blk"
action_fio_load() {
	secs=${GUEST_FIO_SECS:-20}
	[ -x /usr/bin/fio ] || { fail "no /usr/bin/fio in this initramfs"; return; }
	for i in $(seq 100); do [ -b /dev/vda ] && break; sleep 0.1; done
	[ -b /dev/vda ] || { fail "no /dev/vda"; return; }
	say "fio-load started"
	line=$(/usr/bin/fio --name=load --filename=/dev/vda --readonly --rw=randread --bs=4k \
		--iodepth=32 --ioengine=libaio --direct=1 --runtime="$secs" --time_based \
		--minimal 2>&1) || { fail "fio: $line"; return; }
	say "fio-load $line"
}
