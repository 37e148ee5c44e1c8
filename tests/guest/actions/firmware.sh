# shellcheck shell=sh disable=SC2034 # sourced by /init (tests/guest/init)
# guest.action=firmware — what a guest booted by firmware and a boot loader
# (tests/firmware/build-images) sees of the machine, then an ACPI power-off
# (`poweroff -f`: the VMM must end with status 0 on the guest's S5 request).
#   MOAT-GUEST: firmware image NAME        guest.image=NAME from the boot
#                                           loader's command line ("-" if none)
#   MOAT-GUEST: cpus N                      from /sys/devices/system/cpu/online
#   MOAT-GUEST: acpi-tables DSDT FACP APIC  those of the three the kernel found
#                                           in /sys/firmware/acpi/tables, in
#                                           this order ("none" if none)
#   MOAT-GUEST: efi yes|no                  /sys/firmware/efi exists
#   MOAT-GUEST: poweroff
# Without ACPI `poweroff -f` only halts the CPUs: the VM then never ends, and
# the harness's timeout is what fails. If poweroff returns, the action fails
# and /init reboots as usual.
modules_firmware=""
action_firmware() {
	say "firmware image ${GUEST_IMAGE:--}"
	# "0-3,5" style list; nproc as a fallback
	cpus=$(tr ',' '\n' </sys/devices/system/cpu/online 2>/dev/null |
		awk -F- 'NF { n += (NF == 2 ? $2 - $1 + 1 : 1) } END { print n + 0 }')
	[ "${cpus:-0}" -gt 0 ] || cpus=$(nproc 2>/dev/null) || cpus=""
	case "$cpus" in
	''|0|*[!0-9]*) fail "cannot count CPUs (got '$cpus')"; return ;;
	esac
	say "cpus $cpus"
	tables=""
	for t in DSDT FACP APIC; do
		[ -e "/sys/firmware/acpi/tables/$t" ] && tables="$tables $t"
	done
	tables=${tables# }
	say "acpi-tables ${tables:-none}"
	if [ -d /sys/firmware/efi ]; then say "efi yes"; else say "efi no"; fi
	say "poweroff"
	sync
	poweroff -f
	fail "poweroff -f returned"
}
