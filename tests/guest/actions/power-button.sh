# shellcheck shell=sh disable=SC2034 # sourced by /init (tests/guest/init)
# guest.action=power-button — an OS that listens for the ACPI power button,
# as a distribution's (systemd-logind, acpid) does: it loads the button and
# evdev drivers, prints
#   MOAT-GUEST: power-button waiting        once it listens
# and, when the button is pressed (moat's SIGTERM),
#   MOAT-GUEST: power-button pressed
# then powers off through ACPI (`poweroff -f`), which must end moat with 0.
modules_power_button="button evdev"
action_power_button() {
	dev=""
	for d in /sys/class/input/event*; do
		[ "$(cat "$d/device/name" 2>/dev/null)" = "Power Button" ] && dev=/dev/input/${d##*/}
	done
	[ -n "$dev" ] || { fail "no ACPI power button input device"; return; }
	say "power-button waiting"
	# One input event (24 bytes) is the press; the release follows it.
	head -c 24 "$dev" >/dev/null || { fail "cannot read $dev"; return; }
	say "power-button pressed"
	sync
	poweroff -f
	fail "poweroff -f returned"
}
