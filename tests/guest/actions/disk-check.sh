# shellcheck shell=sh disable=SC2034 # sourced by /init (tests/guest/init)
# guest.action=disk-check — what disk-write wrote on guest.disk (default vda)
# is there: e2fsck -fn is clean (skipped with guest.fsck=0), then, with the
# ext4 mounted read-only, every file has its expected SHA-256. The expected
# sums: guest.sums=NAME:SHA,NAME:SHA,... (those files; the sums disk-write
# printed), or else the SHA256SUMS file disk-write left on the disk. Prints
#   MOAT-GUEST: disk fsck clean
#   MOAT-GUEST: disk file NAME SHA256        for each file, as read
#   disk-info.sh's disk_queues lines         (a direct read on each queue)
#   MOAT-GUEST: disk check ok                or fails naming the bad files
# shellcheck source=disk-info.sh source-path=SCRIPTDIR
. /actions/disk-info.sh
modules_disk_check="virtio_pci virtio_blk ext4 crc32c_generic"
action_disk_check() {
	case "${GUEST_SUMS:-}" in
	*[!A-Za-z0-9._:,-]*) fail "guest.sums=$GUEST_SUMS: NAME:SHA,... expected"; return ;;
	esac
	disk_wait || return
	dev=$(disk_dev) || return
	if [ "${GUEST_FSCK:-1}" != 0 ]; then
		out=$(/sbin/e2fsck -fn "$dev" 2>&1)
		rc=$?
		if [ "$rc" != 0 ]; then
			printf '%s\n' "$out" | tail -n 20
			fail "e2fsck -fn $dev: exit $rc"
			return
		fi
		say "disk fsck clean"
	fi
	disk_mount "$dev" ro || return
	# "NAME SHA" lines
	if [ -n "${GUEST_SUMS:-}" ]; then
		want=$(printf '%s\n' "$GUEST_SUMS" | tr ',' '\n' | sed -n 's/^\([^:]*\):\(.*\)$/\1 \2/p')
	elif [ -f /mnt/SHA256SUMS ]; then
		want=$(awk 'NF == 2 { print $2, $1 }' /mnt/SHA256SUMS)
	else
		umount /mnt
		fail "no guest.sums= and no SHA256SUMS on $dev"
		return
	fi
	bad="" n=0
	while read -r f sum; do
		[ -n "$f" ] || continue
		n=$((n + 1))
		case "$f" in */*|..) bad="$bad $f(bad-name)"; continue ;; esac
		if [ ! -f "/mnt/$f" ]; then
			bad="$bad $f(missing)"
			continue
		fi
		got=$(disk_sha "/mnt/$f")
		say "disk file $f $got"
		[ "$got" = "$sum" ] || bad="$bad $f"
	done <<EOT
$want
EOT
	umount /mnt
	[ "$n" -gt 0 ] || { fail "no files to check"; return; }
	[ -z "$bad" ] || { fail "wrong content:$bad"; return; }
	disk_queues "${dev#/dev/}" || return
	say "disk check ok"
}
