# shellcheck shell=sh disable=SC2034 # sourced by /init (tests/guest/init)
# guest.action=info — CPU count, memory size and date, as the guest sees them.
#   MOAT-GUEST: cpus N
#   MOAT-GUEST: memtotal-kb N
#   MOAT-GUEST: date YYYY-MM-DDTHH:MM:SSZ
modules_info=""
action_info() {
	cpus=$(grep -c '^processor' /proc/cpuinfo 2>/dev/null) || cpus=""
	if [ -z "$cpus" ] || [ "$cpus" -eq 0 ]; then
		# "0-3,5" style list
		cpus=$(tr ',' '\n' </sys/devices/system/cpu/online |
			awk -F- '{ n += (NF == 2 ? $2 - $1 + 1 : 1) } END { print n + 0 }')
	fi
	mem=$(awk '/^MemTotal:/ { print $2 }' /proc/meminfo)
	[ -n "$cpus" ] && [ "$cpus" -gt 0 ] || { fail "cannot count CPUs"; return; }
	[ -n "$mem" ] || { fail "no MemTotal in /proc/meminfo"; return; }
	say "cpus $cpus"
	say "memtotal-kb $mem"
	say "date $(date -u +%Y-%m-%dT%H:%M:%SZ)"
}
