# shellcheck shell=sh disable=SC2034 # sourced by /init (tests/guest/init)
# guest.action=fio — the disk benchmark of bench/blk, on /dev/vda (needs an
# initramfs built with --add-bin /usr/bin/fio; bench/blk makes one). Prints
# fio's terse (v3) line per job:
#   MOAT-GUEST: fio seqread <terse>    1 MiB sequential reads, iodepth 4
#   MOAT-GUEST: fio seqwrite <terse>   1 MiB sequential writes, iodepth 4
#   MOAT-GUEST: fio randread <terse>   4 KiB random reads, iodepth 32
#   MOAT-GUEST: fio randread1 <terse>  4 KiB random reads, iodepth 1
#   MOAT-GUEST: fio randwrite <terse>  4 KiB random writes, iodepth 32
#   MOAT-GUEST: fio randwrite1 <terse> 4 KiB random writes, iodepth 1
# guest.fio-secs=N sets each job's run time (default 5).
modules_fio="virtio_pci virtio_blk"
action_fio() {
	local secs=${GUEST_FIO_SECS:-5} i job
	[ -x /usr/bin/fio ] || { fail "no /usr/bin/fio in this initramfs"; return; }
	for i in $(seq 100); do [ -b /dev/vda ] && break; sleep 0.1; done
	[ -b /dev/vda ] || { fail "no /dev/vda"; return; }
	for job in "seqread read 1M 4" "seqwrite write 1M 4" "randread randread 4k 32" \
		"randread1 randread 4k 1" "randwrite randwrite 4k 32" "randwrite1 randwrite 4k 1"; do
		set -- $job
		line=$(/usr/bin/fio --name="$1" --filename=/dev/vda --rw="$2" --bs="$3" \
			--iodepth="$4" --ioengine=libaio --direct=1 --runtime="$secs" \
			--time_based --size=256M --minimal 2>&1) || { fail "fio $1: $line"; return; }
		say "fio $1 $line"
	done
}
