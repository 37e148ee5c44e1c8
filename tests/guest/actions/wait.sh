# shellcheck shell=sh disable=SC2034 # sourced by /init (tests/guest/init)
# guest.action=wait — prints info, then "MOAT-GUEST: waiting", then sleeps
# guest.wait=SECONDS (default 10) before finishing. For tests that act on a
# running guest from the host (pause/resume, stats, device restarts).
. /actions/info.sh
modules_wait=""
action_wait() {
	secs=${GUEST_WAIT:-10}
	case "$secs" in
	''|*[!0-9]*) fail "guest.wait=$secs is not a number of seconds"; return ;;
	esac
	action_info || return
	say "waiting"
	sleep "$secs"
}
