# guest.action=smc — the Apple SMC as Linux's applesmc driver sees it, and as
# /bin/smc-read sees it at the ports (needs the SMC device and Apple DMI data
# from the VMM: applesmc only loads on a Mac). Prints
#   MOAT-GUEST: smc key_count N
#   MOAT-GUEST: smc key <index> <name>       for every index, from sysfs
#   MOAT-GUEST: smc #KEY <count>             from smc-read, then for each key
#   MOAT-GUEST: smc <key> <hex of its value> (guest.smc-keys=A,B; default
#                                             OSK0,OSK1)
# smc-read is built by tests/guest/meson.build and added to the initramfs
# with tests/guest/build --add BUILD/tests/guest/smc-read:/bin/smc-read.
modules_smc="applesmc"
action_smc() {
	local dev="${SMC_SYSFS:-/sys/devices/platform/applesmc.768}"
	local n i name keys out

	[ -d "$dev" ] || { fail "no $dev: applesmc found no SMC"; return; }
	[ -e "$dev/driver" ] || { fail "applesmc is not bound to $dev"; return; }
	n=$(cat "$dev/key_count") || { fail "cannot read $dev/key_count"; return; }
	case "$n" in
	''|*[!0-9]*) fail "key_count is '$n', not a number"; return ;;
	esac
	say "smc key_count $n"
	i=0
	while [ "$i" -lt "$n" ]; do
		echo "$i" >"$dev/key_at_index" || { fail "cannot select key $i"; return; }
		name=$(cat "$dev/key_at_index_name") || { fail "cannot read key $i"; return; }
		say "smc key $i $name"
		i=$((i + 1))
	done

	keys=${GUEST_SMC_KEYS:-OSK0,OSK1}
	case "$keys" in
	*[!A-Za-z0-9#,]*) fail "guest.smc-keys=$keys: keys are letters, digits and #"; return ;;
	esac
	[ -x /bin/smc-read ] || { fail "no /bin/smc-read in the initramfs"; return; }
	# shellcheck disable=SC2046 # split the comma list into arguments
	out=$(/bin/smc-read $(echo "$keys" | tr ',' ' ') 2>&1) ||
		{ fail "$(printf '%s\n' "$out" | tail -n 1)"; return; }
	printf '%s\n' "$out" | while read -r k v; do
		say "smc $k $v"
	done
}
