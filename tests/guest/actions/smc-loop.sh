# shellcheck shell=sh disable=SC2034 # sourced by /init (tests/guest/init)
# guest.action=smc-loop — the SMC across restarts of its process (issue
# 15): writes guest.smc-write=KEY=HEX (default NATJ=07) through the ports,
# says "MOAT-GUEST: smc wrote", then reads that key over and over for
# guest.wait=SECONDS (default 20) while the host kills moat-smc, and prints
#   MOAT-GUEST: smc loop reads <ok> failed <n> last <hex of the last read>
# A read that fails (its transaction was cut by a kill) is counted, not
# fatal. Needs /bin/smc-read (tests/guest/smc-read.c).
modules_smc_loop=""
action_smc_loop() {
	spec=${GUEST_SMC_WRITE:-NATJ=07}
	secs=${GUEST_WAIT:-20}
	case "$secs" in
	''|*[!0-9]*) fail "guest.wait=$secs is not a number of seconds"; return ;;
	esac
	key=${spec%%=*}
	[ -x /bin/smc-read ] || { fail "no /bin/smc-read in the initramfs"; return; }
	out=$(/bin/smc-read "$spec" 2>&1) || { fail "writing $spec: $out"; return; }
	say "smc wrote"
	ok=0 bad=0 last=none
	end=$(($(date +%s) + secs))
	while [ "$(date +%s)" -lt "$end" ]; do
		if out=$(/bin/smc-read "$key" 2>&1); then
			ok=$((ok + 1))
			last=$(printf '%s\n' "$out" | sed -n "s/^$key //p")
		else
			bad=$((bad + 1))
			say "smc read failed: $(printf '%s\n' "$out" | tail -n 1)"
		fi
		usleep 100000
	done
	say "smc loop reads $ok failed $bad last $last"
}
