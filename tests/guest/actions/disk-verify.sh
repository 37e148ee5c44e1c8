# shellcheck shell=sh disable=SC2034 # sourced by /init (tests/guest/init)
# guest.action=disk-verify — a write-verify loop on the raw disk (default
# vda, guest.disk=) for guest.verify-secs=N seconds (default 30), while the
# host restarts its moat-blk (issue 15). Each round writes 64 KiB of random
# data to the next of 64 slots with O_DIRECT and an fsync (a write and a
# flush), reads it back with O_DIRECT and compares its SHA-256; at the end
# every slot is read back once more. Prints
#   MOAT-GUEST: verify started
#   MOAT-GUEST: verify progress rounds R at uptime U centiseconds
# (every 10 s, and every 200 rounds)
#   MOAT-GUEST: verify rounds R errors E bad B kernel K maxgap-ms G
#   MOAT-GUEST: verify ran from uptime U0 to U1 centiseconds (asked N s)
# R rounds done, E dd runs that failed (an I/O error the guest saw), B slots
# whose data came back wrong (in a round or at the end), K kernel lines
# that speak of an I/O error or a reset, and G the longest time between two
# rounds completing (the stall a restart cost the guest, to 10 ms). With
# guest.verify-top=N (bench/restart), also the median time between rounds
# and the N longest, longest first, then every round that took at least
# twice the median, with the uptime it ended at (bench/restart finds the
# round a kill stalled by it):
#   MOAT-GUEST: verify gaps median-ms M top-ms G1 G2 ... GN
#   MOAT-GUEST: verify slow-round ended-cs U ms G
# Fails unless E, B and K are all 0. A request stuck for 10 s makes the
# kernel's hung-task detector print the waiting task's stack on the
# console (and count in K): where a lost request or interrupt shows.
# shellcheck source=disk-info.sh source-path=SCRIPTDIR
. /actions/disk-info.sh
modules_disk_verify="virtio_pci virtio_blk"

# centiseconds since boot
verify_now() { sed 's/^\([0-9]*\)\.\([0-9]*\) .*/\1\2/; s/^0*\([0-9]\)/\1/' /proc/uptime; }

action_disk_verify() {
	verify_secs=${GUEST_VERIFY_SECS:-30} top=${GUEST_VERIFY_TOP:-0}
	case "$verify_secs$top" in *[!0-9]*) fail "guest.verify-secs=$verify_secs, guest.verify-top=$top: numbers expected"; return ;; esac
	disk_wait || return
	dev=$(disk_dev) || return
	mkdir -p /tmp/verify
	rounds=0 errors=0 bad=0 gap=0
	[ -w /proc/sys/kernel/hung_task_timeout_secs ] && echo 10 >/proc/sys/kernel/hung_task_timeout_secs
	say "verify started"
	# by the uptime: a nested guest's wall clock may run fast
	last=$(verify_now)
	start=$last
	end=$((last + verify_secs * 100))
	told=$last
	while [ "$last" -lt "$end" ]; do
		slot=$((rounds % 64))
		head -c 65536 /dev/urandom >/tmp/verify/data
		want=$(sha256sum </tmp/verify/data | cut -d' ' -f1)
		if ! dd if=/tmp/verify/data of="$dev" bs=64k seek="$slot" count=1 oflag=direct \
			conv=notrunc,fsync 2>/dev/null; then
			errors=$((errors + 1))
		elif ! got=$(dd if="$dev" bs=64k skip="$slot" count=1 iflag=direct 2>/dev/null |
			sha256sum | cut -d' ' -f1); then
			errors=$((errors + 1))
		elif [ "$got" != "$want" ]; then
			bad=$((bad + 1))
		fi
		echo "$want" >"/tmp/verify/$slot"
		rounds=$((rounds + 1))
		now=$(verify_now)
		[ $((now - last)) -gt "$gap" ] && gap=$((now - last))
		echo "$(((now - last) * 10)) $now" >>/tmp/verify/gaps
		last=$now
		# by rounds too: a guest whose clock stopped shows it here
		if [ $((now - told)) -ge 1000 ] || [ $((rounds % 200)) = 0 ]; then
			say "verify progress rounds $rounds at uptime $now centiseconds"
			told=$now
		fi
	done
	for f in /tmp/verify/[0-9]*; do
		[ -f "$f" ] || continue
		slot=${f##*/}
		got=$(dd if="$dev" bs=64k skip="$slot" count=1 iflag=direct 2>/dev/null |
			sha256sum | cut -d' ' -f1)
		[ "$got" = "$(cat "$f")" ] || bad=$((bad + 1))
	done
	if [ "$top" -gt 0 ]; then
		cut -d' ' -f1 /tmp/verify/gaps | sort -n >/tmp/verify/sorted
		median=$(sed -n "$((($(wc -l </tmp/verify/sorted) + 1) / 2))p" /tmp/verify/sorted)
		say "verify gaps median-ms $median top-ms $(tail -n "$top" /tmp/verify/sorted | sort -rn | tr '\n' ' ')"
		while read -r ms at; do
			[ "$ms" -ge $((median * 2)) ] && say "verify slow-round ended-cs $at ms $ms"
		done </tmp/verify/gaps
	fi
	kernel=$(dmesg | grep -ciE 'I/O error|blk_update_request|virtio_blk.*(reset|timeout)|hung task|blocked for more than')
	say "verify rounds $rounds errors $errors bad $bad kernel $kernel maxgap-ms $((gap * 10))"
	say "verify ran from uptime $start to $last centiseconds (asked $verify_secs s)"
	if [ "$errors" != 0 ] || [ "$bad" != 0 ] || [ "$kernel" != 0 ]; then
		fail "errors $errors, bad slots $bad, kernel lines $kernel"
	fi
}
