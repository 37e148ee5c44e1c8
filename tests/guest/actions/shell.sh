# shellcheck shell=sh disable=SC2034 # sourced by /init (tests/guest/init)
# guest.action=shell — an interactive busybox sh on the console (with job
# control: cttyhack finds the console's real tty). Exit the shell to reboot.
modules_shell=""
action_shell() {
	say "shell (exit to reboot)"
	setsid cttyhack sh -l
	return 0
}
