# shellcheck shell=sh disable=SC2034 # sourced by /init (tests/guest/init)
# guest.action=display — a guest for the display tests (tests/integration/
# linux-display.sh): the early framebuffer, then bochs-drm with a known
# picture put up by /bin/drm-pattern (four quadrants), then, until the host
# writes "done" on the console, a heartbeat and the host's commands.
#
#   MOAT-GUEST: display fb0 NAME WxH BPP    the early framebuffer (vesafb or
#                                           simplefb from the boot
#                                           parameters' screen_info), or
#                                           "display fb0 none"
#   MOAT-GUEST: display early ready         text is on the early console;
#                                           with guest.early-wait=SECONDS the
#                                           guest then waits that long for
#                                           the host's "go" before bochs
#   MOAT-GUEST: display bochs LINE          the kernel's lines about bochs
#                                           and the framebuffers, once loaded
#   MOAT-GUEST: display pattern WxH on connector N up=UPTIME
#                                           in the connector's preferred
#                                           mode, or guest.mode=WxH
#   MOAT-GUEST: display ready
#   MOAT-GUEST: display tick N up=UPTIME    once a second
#
# Host commands, one a line on the console:
#   mode WxH    drm-pattern again in mode WxH: "display pattern ..." or
#               "display mode-failed WHY" (and the previous mode again)
#   evdev       load evdev and print what /bin/evdev-print prints of the
#               input devices there are now ("display evdev: key CODE
#               VALUE", "... abs X Y"): without virtio_pci, the i8042's
#               AT keyboard alone; "display evdev ready" once it runs
#   input       load virtio_pci, virtio_input and evdev, then the same for
#               every device (the virtio keyboard and tablet too), after
#               "display input ready"
#   kms         the KMS state and the video memory's allocations as
#               bochs-drm sees them (debugfs: dri/0/state, dri/0/vram-mm),
#               as "display kms LINE"
#   done        stop drawing and end the action (ok)
# drm-pattern and evdev-print are built by tests/guest/meson.build and
# added by linux-display.sh --build-initrd.
modules_display=""

# display_fb0: the name, size and depth of fb0, or "none"
display_fb0() {
	f=/sys/class/graphics/fb0
	[ -e "$f/name" ] || { echo none; return; }
	echo "$(cat "$f/name") $(tr , x <"$f/virtual_size") $(cat "$f/bits_per_pixel")"
}

# display_pattern [ARGS]: drm-pattern ARGS in the background (pid in
# $pattern); prints its line, or fails with what it said
display_pattern() {
	rm -f /tmp/pattern.out
	/bin/drm-pattern "$@" </dev/null >/tmp/pattern.out 2>&1 &
	pattern=$!
	i=0
	while [ $i -lt 100 ]; do
		if grep -q '^drm-pattern: .* on connector' /tmp/pattern.out; then
			say "display pattern $(sed -n 's/^drm-pattern: //p' /tmp/pattern.out) up=$(cut -d' ' -f1 /proc/uptime)"
			return 0
		fi
		kill -0 "$pattern" 2>/dev/null || break
		sleep 0.1
		i=$((i + 1))
	done
	kill "$pattern" 2>/dev/null
	pattern=""
	fail "$(tail -n 1 /tmp/pattern.out)"
}

display_stop_pattern() {
	[ -n "$pattern" ] || return 0
	kill "$pattern" 2>/dev/null
	wait "$pattern" 2>/dev/null
	pattern=""
}

# evdev-print on the devices there are now, in place of an earlier one.
display_evdev() {
	modprobe evdev || { say "display evdev-failed modprobe"; return; }
	killall evdev-print 2>/dev/null
	/bin/evdev-print </dev/null 2>&1 | while read -r l; do say "display $l"; done &
	say "display evdev ready"
}

display_input() {
	{ modprobe virtio_pci && modprobe virtio_input && modprobe evdev; } ||
		{ say "display input-failed modprobe"; return; }
	i=0 # virtio_input's devices appear asynchronously
	while [ "$(grep -c 'moat virtio\|QEMU Virtio' /proc/bus/input/devices)" -lt 2 ] && [ $i -lt 50 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	grep '^N: ' /proc/bus/input/devices | while read -r l; do say "display input-device $l"; done
	display_evdev
	say "display input ready"
}

display_kms() {
	d=/sys/kernel/debug
	[ -d $d/dri ] || mount -t debugfs debugfs $d 2>/dev/null
	for f in $d/dri/0/state $d/dri/0/vram-mm; do
		[ -r "$f" ] || { say "display kms no $f"; continue; }
		while read -r l; do say "display kms $l"; done <"$f"
	done
}

action_display() {
	pattern=""
	say "display fb0 $(display_fb0)"
	dmesg | grep -iE 'vesafb|simplefb|efifb|fb0' | while read -r l; do say "display early-log $l"; done
	# Text on the early console whatever the log level: with "quiet" fbcon
	# may show nothing but a cursor.
	for t in tty1 tty0; do
		[ -c /dev/$t ] || continue
		printf '\033[1;37mmoat display test: the early console\n%s\n\033[0m' \
			'########################################' >/dev/$t 2>/dev/null && break
	done
	say "display early ready"
	wait_s=${GUEST_EARLY_WAIT:-0}
	case "$wait_s" in ''|*[!0-9]*) fail "guest.early-wait=$wait_s is not a number"; return ;; esac
	if [ "$wait_s" -gt 0 ]; then
		while read -r -t "$wait_s" line; do
			[ "$line" = go ] && break
		done
	fi

	modprobe bochs || { fail "modprobe bochs failed"; return; }
	i=0
	while [ ! -c /dev/dri/card0 ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
	dmesg | grep -E 'bochs|fb0|\[drm\]' | while read -r l; do say "display bochs $l"; done
	[ -c /dev/dri/card0 ] || { fail "bochs loaded but no /dev/dri/card0"; return; }
	say "display fb0-after $(display_fb0)"
	mode=${GUEST_MODE:-}
	display_pattern ${mode:+--mode "$mode"} || return
	say "display ready"

	n=0
	while :; do
		say "display tick $n up=$(cut -d' ' -f1 /proc/uptime)"
		n=$((n + 1))
		read -r -t 1 line || continue
		case "$line" in
		done) display_stop_pattern; return 0 ;;
		evdev) display_evdev ;;
		input) display_input ;;
		kms) display_kms ;;
		"mode "*)
			display_stop_pattern
			if display_pattern --mode "${line#mode }"; then
				mode=${line#mode }
			else
				say "display mode-failed $(cat "$REASON_FILE" 2>/dev/null)"
				rm -f "$REASON_FILE"
				display_pattern ${mode:+--mode "$mode"} || return
			fi ;;
		esac
	done
}
