# shellcheck shell=sh disable=SC2034 # sourced by /init (tests/guest/init)
# guest.action=disk-check — what disk-write wrote on guest.disk (default vda)
# is there: e2fsck -fn is clean (skipped with guest.fsck=0), then with the
# ext4 mounted read-only every file has its expected SHA-256. Expected sums:
# guest.sums=NAME:SHA,NAME:SHA,... (those files only), or without it the
# content disk-info.sh defines, regenerated here (same guest.disk-mb= as the
# write). Prints
#   MOAT-GUEST: disk fsck clean
#   MOAT-GUEST: disk file NAME SHA256        for each file, as read
#   MOAT-GUEST: disk check ok                or fails naming the bad files
. /actions/disk-info.sh
modules_disk_check="virtio_pci virtio_blk ext4 crc32c_generic"

# the sum guest.sums gives NAME, or that of its regenerated content
disk_expected() {
	if [ -n "${GUEST_SUMS:-}" ]; then
		printf '%s\n' "$GUEST_SUMS" | tr ',' '\n' | sed -n "s/^$1://p" | head -n 1
	else
		disk_content "$1" | disk_sha
	fi
}

action_disk_check() {
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
	if [ -n "${GUEST_SUMS:-}" ]; then
		files=$(printf '%s\n' "$GUEST_SUMS" | tr ',' '\n' | sed -n 's/:.*//p')
		case "$GUEST_SUMS" in
		*[!A-Za-z0-9._:,-]*) fail "guest.sums=$GUEST_SUMS: NAME:SHA,... expected"; return ;;
		esac
	else
		files=$DISK_FILES
	fi
	[ -n "$files" ] || { fail "no files to check"; return; }
	disk_mount "$dev" ro || return
	bad=""
	for f in $files; do
		if [ ! -f "/mnt/$f" ]; then
			bad="$bad $f(missing)"
			continue
		fi
		sum=$(disk_sha "/mnt/$f")
		say "disk file $f $sum"
		[ "$sum" = "$(disk_expected "$f")" ] || bad="$bad $f"
	done
	umount /mnt
	[ -z "$bad" ] || { fail "wrong content:$bad"; return; }
	say "disk check ok"
}
