# shellcheck shell=sh disable=SC2034 # sourced by /init (tests/guest/init)
# guest.action=hello — prints the running kernel's release.
modules_hello=""
action_hello() {
	say "kernel $(uname -r)"
}
