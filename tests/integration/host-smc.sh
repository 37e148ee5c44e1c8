#!/usr/bin/env bash
# The SMC device process on the host's own KVM with the tiny PVH guest:
# the guest sees the SMC through moat-smc; moat-smc's sandbox as /proc
# shows it; with --device-restart off, SIGKILL of moat-smc leaves the VM
# running with the SMC's ports reading all ones and the death in the audit
# trail; by default a new moat-smc takes over, at most 3 times a minute;
# the OSK stays out of every command line; bad --smc input. Needs root and
# /dev/kvm.
# Usage: host-smc.sh MOAT TINY_ELF
MOAT=$1
TINY=$2
. "$(dirname "$0")/lib.sh"

need_host_kvm
T=$T_TMP
OSK="hardwork-moat-test-osk-$(printf %041d 7)" # 64 bytes, made up
printf '%s\n' "$OSK" >"$T/osk"

if vm_up vm "TINY: smc present" 30 "$MOAT" run --kernel "$TINY" --cmdline l --smc osk-file="$T/osk" \
	--device-restart off; then
	ok "the guest finds the SMC (served by moat-smc)"
	smc=$(child_pid "$mon" moat-smc)
	vcpu=$(child_pid "$mon" moat-vcpu)
	check "moat-smc runs under the monitor" [ -n "$smc" ]
	[ -n "$smc" ] && check_sandboxed "$smc" moat-smc
	# one uid per child (monitor/uids.h): a device cannot signal another
	su=$(status_field "$smc" Uid | awk '{print $1}') vu=$(status_field "$vcpu" Uid | awk '{print $1}')
	check "moat-smc and moat-vcpu run as uids of their own ($su, $vu), neither root" \
		[ -n "$su" -a -n "$vu" -a "$su" != "$vu" -a "$su" != 0 -a "$vu" != 0 ]
	check "audit records moat-smc's sandbox and policy size" \
		grep -Eq "child-ready child=smc0 kind=smc .*seccomp=2 syscalls=[0-9]+" "$T/vm.audit"
	check "the OSK is in no command line" \
		bash -c "! cat /proc/$mon/cmdline /proc/$smc/cmdline /proc/$vcpu/cmdline | grep -qa hardwork"
	kill -KILL "$smc"
	if wait_for "$T/vm.log" "TINY: smc absent" 30; then
		ok "after SIGKILL of moat-smc its ports read all ones"
	else
		not_ok "after SIGKILL of moat-smc its ports read all ones"
	fi
	check "the VM is still running" kill -0 "$mon"
	check "moat-vcpu is still running" kill -0 "$vcpu"
	wait_for "$T/vm.audit" "child-died child=smc0" 10
	check "audit records the death and its signal" \
		grep -q "child-died child=smc0 kind=smc pid=$smc was killed by signal KILL" "$T/vm.audit"
	check "the death is logged" grep -q "smc0 (moat-smc, pid $smc) was killed by signal KILL" "$T/vm.err"
else
	not_ok "the guest finds the SMC (served by moat-smc)"
	diag <"$T/vm.err"
fi
kill -TERM "$mon"
wait "$mon"
check "SIGTERM then ends the VM with exit 0 (got $?)" [ $? = 0 ]
check "no child left" bash -c '! pgrep -x moat-smc && ! pgrep -x moat-vcpu'
check "audit has the end of the VM" grep -q "vm-end status=0" "$T/vm.audit"
check "the OSK is not in the audit trail or the logs" \
	bash -c "! grep -qa hardwork '$T/vm.audit' '$T/vm.err' '$T/vm.out'"

# By default a device that dies is restarted (issue 15): a new moat-smc,
# checked sandboxed, serves the same ports; the guest finds the SMC again.
# The fourth death within a minute is not restarted: the device stays
# detached and its ports read all ones.
n_of() { grep -c "$1 child=smc0" "$T/re.audit" 2>/dev/null; }
if vm_up re "TINY: smc present" 30 "$MOAT" run --kernel "$TINY" --cmdline l --smc osk-file="$T/osk"; then
	first=$(child_pid "$mon" moat-smc)
	for k in 1 2 3; do
		smc=$(child_pid "$mon" moat-smc)
		[ -n "$smc" ] && kill -KILL "$smc"
		for _ in $(seq 100); do [ "$(n_of child-reattached)" -ge "$k" ] && break; sleep 0.1; done
	done
	check "three SIGKILLs: moat-smc restarted three times ($(n_of child-reattached))" \
		[ "$(n_of child-reattached)" = 3 ]
	smc=$(child_pid "$mon" moat-smc)
	check "a new moat-smc serves ($smc, the first was $first)" [ -n "$smc" -a "$smc" != "$first" ]
	[ -n "$smc" ] && check_sandboxed "$smc" moat-smc
	check "each successor was checked at READY (4 child-ready lines)" [ "$(n_of child-ready)" = 4 ]
	check "each restart is audited with its cause" \
		[ "$(grep -c 'child-restart child=smc0 kind=smc pid=[0-9]* cause="was killed by signal KILL" process=[2-4]' "$T/re.audit")" = 3 ]
	check "the guest sees the SMC after the restarts" \
		bash -c "sleep 0.5; grep -a 'TINY: smc' '$T/re.log' | tail -n 1 | grep -q present"
	[ -n "$smc" ] && kill -KILL "$smc"
	check "the fourth death in a minute is not restarted" wait_for "$T/re.audit" "child-restart-refused child=smc0" 10
	check "the refusal says why" grep -q 'child-restart-refused child=smc0 .*reason="it was restarted 3 times within a minute"' "$T/re.audit"
	check "then the SMC's ports read all ones" wait_for "$T/re.log" "TINY: smc absent" 10
	check "and the VM runs on" kill -0 "$mon"
else
	not_ok "a VM with a restartable SMC starts"
	diag <"$T/re.err"
fi
kill -TERM "$mon"
wait "$mon"
check "SIGTERM then ends the VM with exit 0 (got $?)" [ $? = 0 ]
check "--device-restart takes on or off only" \
	bash -c "timeout 10 '$MOAT' run --kernel '$TINY' --device-restart maybe </dev/null >/dev/null 2>'$T/dr.err'; [ \$? = 2 ] && grep -q 'device-restart must be on or off' '$T/dr.err'"

# Without --smc the ports are empty.
timeout 30 "$MOAT" run --kernel "$TINY" --cmdline l --serial "file:$T/nosmc" </dev/null >/dev/null 2>&1 &
mon=$!
check "without --smc the guest sees no SMC" wait_for "$T/nosmc" "TINY: smc absent" 30
kill -TERM "$mon"; wait "$mon"

# osk= on the command line: wiped from /proc/PID/cmdline at once, with a warning.
"$MOAT" run --kernel "$TINY" --cmdline l --smc "osk=$OSK" --serial "file:$T/inline" \
	>/dev/null 2>"$T/inline.err" </dev/null &
mon=$!
if wait_for "$T/inline" "TINY: smc present" 30; then
	check "osk= is wiped from the monitor's command line" \
		bash -c "! grep -qa hardwork /proc/$mon/cmdline"
	check "osk= gets a warning" grep -q "prefer --smc osk-file" "$T/inline.err"
else
	not_ok "osk= boots with an SMC"
fi
kill -TERM "$mon"; wait "$mon"

bad() { # bad NAME PATTERN ARGS...
	local name=$1 pat=$2
	shift 2
	timeout 30 "$MOAT" run --kernel "$TINY" --cmdline h "$@" >"$T/$name.out" 2>"$T/$name.err" </dev/null
	[ $? = 2 ] && grep -q -- "$pat" "$T/$name.err" && ! grep -qa hardwork "$T/$name.err" &&
		! pgrep -x moat-smc >/dev/null
}
printf 'short' >"$T/short"
check "OSK file missing" bad nofile "cannot open the OSK file" --smc osk-file="$T/none"
check "OSK file too short" bad shortfile "exactly 64 bytes" --smc osk-file="$T/short"
check "osk= too short" bad shortinline "exactly 64" --smc osk=abc
check "--smc without a key" bad nokey "--smc takes" --smc foo
check "bad --smbios type" bad smbiostype "type" --smbios type=9,foo=bar
check "bad --smbios uuid" bad smbiosuuid "uuid" --smbios type=1,uuid=nothex
finish
