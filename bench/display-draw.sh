# shellcheck shell=sh disable=SC2034 # sourced by /init (tests/guest/init)
# guest.action=display-draw — the guest of bench/display: loads bochs-drm,
# then /bin/bench-display-draw (bench/display_draw.c) redraws the whole
# screen continuously, at most guest.fps=N frames a second (default 60; 0:
# as fast as it can), until the host writes "done" on the console.
#
#   MOAT-GUEST: display-draw: WxH on connector N, fps target T
#   MOAT-GUEST: display-draw: frames TOTAL fps F busy B     once a second
#   MOAT-GUEST: display-draw failed WHY                     it died
#
# bench/display adds this file as /actions/display-draw.sh and the program
# as /bin/bench-display-draw.
modules_display_draw="bochs"

action_display_draw() {
	fps=${GUEST_FPS:-60}
	case "$fps" in ''|*[!0-9]*) fail "guest.fps=$fps is not a number"; return ;; esac
	i=0
	while [ ! -c /dev/dri/card0 ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
	[ -c /dev/dri/card0 ] || { fail "bochs loaded but no /dev/dri/card0"; return; }
	# Its lines through say, each on a line of its own; the pipe's reader
	# ends with it.
	/bin/bench-display-draw --fps "$fps" </dev/null 2>&1 |
		while read -r l; do say "$l"; done &
	while read -r line; do
		[ "$line" = done ] && break
	done
	killall bench-display-draw 2>/dev/null
	wait
	return 0
}
