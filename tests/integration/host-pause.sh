#!/usr/bin/env bash
# moat-vcpu's pause, resume, reset and ping, with the tiny PVH guest
# (tests/tinyguest) on KVM, straight to moat-vcpu (moat ctl drives them
# through the monitor in linux-ctl.sh and tests/hostile):
# vcpu-drive (tests/integration/vcpu_drive.c, built in tests/)
# plays the monitor's end of the channel and runs each scenario's steps;
# it fails a scenario on the first step that does not hold. Also checks
# that the run phase's filter killed nothing meanwhile (SIGSYS: the
# kernel's audit lines for seccomp). Needs root and /dev/kvm. Given a
# Linux kernel and the test initramfs (tests/guest/build), it also checks
# that the guest's clock does not count a pause (that needs a KVM that
# runs ring-0 code at speed: hardware or tests/kvmbox/run).
# Usage: host-pause.sh MOAT TINY_ELF [BZIMAGE INITRD]
MOAT=$1
TINY=$2
BZIMAGE=${3:-}
INITRD=${4:-}
. "$(dirname "$0")/lib.sh"

need_root "user namespaces mapped by unshare(1)"
need_host_kvm
T=$T_TMP
BUILD=$(cd "$(dirname "$MOAT")/.." && pwd)
VCPU=$BUILD/vcpu/moat-vcpu
DRIVE=$BUILD/tests/vcpu-drive

# seccomp kills of moat-vcpu the kernel logged so far (type=1326 with
# sig=31), by executable: comm is the killed thread's ("vcpu0"); dmesg
# may be unreadable, then nothing is compared.
sigsys_count() { dmesg 2>/dev/null | grep -c 'type=1326.*exe="[^"]*/moat-vcpu".*sig=31'; }
kills_before=$(sigsys_count)

# drive NAME [vcpu-drive options] CMDLINE STEP... : the guest $KERNEL
# (the tiny one unless set), the transcript in $T/NAME.log
drive() {
	local name=$1 opts=()
	shift
	while [[ $1 == -* ]]; do opts+=("$1"); shift; done # -c4, -d: one word each
	if ! timeout 600 "$DRIVE" "${opts[@]}" "$VCPU" "${KERNEL:-$TINY}" "$@" \
		>"$T/$name.log" 2>"$T/$name.err"; then
		diag <"$T/$name.log"
		tail -n 20 "$T/$name.err" | diag
		return 1
	fi
}
said() { grep -q -- "$2" "$T/$1.log"; }

# A busy guest (echo: it polls the UART, thousands of exits a second).
# Typed while paused, nothing comes back; after RESUME it does. A second
# PAUSE while paused is answered again; a RESUME while running does
# nothing, and says nothing. The guest's own reset ends it.
check "busy guest: pause holds it, resume lets it go on" \
	drive busy e wait:"TINY: echo" ping:0 pause ping:0 mark input:ab quiet:1500 \
	pause resume wait:ab resume none:500 input:c. exit:RESET
check "busy guest: the guest's own reset is its end" said busy 'detail="guest reset (i8042)"'

# A halted guest sits in KVM_RUN on every vCPU (the boot CPU in hlt, the
# others waiting for a SIPI): only the kick takes them out. Each PAUSE
# gets its own Paused, however they interleave with the parking; RESET
# ends the VM, status 0.
check "halted guest, 4 vCPUs: pause, resume, pause twice, reset" \
	drive halted -c4 w wait:"TINY: waiting" pause ping:0 resume sleep:200 \
	pause-send pause-send paused:30000 paused:5000 none:500 resume ping:0 reset exit:RESET
check "halted guest: RESET says who asked" said halted 'detail="reset by the monitor"'

# The end of the VM while paused: no thread is left waiting for RESUME.
check "STOP while paused ends the VM" \
	drive stop-paused -c2 w wait:"TINY: waiting" pause stop exit:STOPPED
check "RESET while paused ends the VM" \
	drive reset-paused -c2 e wait:"TINY: echo" pause reset exit:RESET

# A vCPU wedged in one exit: its device (on the SMC's ports) never
# answers, so the thread waits out moat-vcpu's device timeout (10 s).
# Meanwhile a ping says stalled, and keeps being answered while a pause
# waits for that thread; the pause completes once the device is given up
# (the guest then reads all ones: "smc absent").
check "a vCPU stuck in one exit: stalled, and the pause waits for it" \
	drive stalled -d l sleep:1500 ping:1 pause-send ping:1 paused:30000 ping:0 \
	resume wait:"TINY: smc absent" ping:0 stop exit:STOPPED
check "stalled: the pause completed after the device timed out" \
	grep -q "paused after [0-9]\{4,\} ms" "$T/stalled.log"
# The monitor gives up on a pause after 10 s and resumes: a RESUME before
# the threads parked calls the pause off, and no Paused follows, ever.
check "RESUME before the pause completed calls it off" \
	drive cancelled -d l sleep:1500 pause-send resume wait:"TINY: smc absent" \
	none:1000 pause resume stop exit:STOPPED

# Linux keeps time by kvmclock: paused for 15 s, it must see (almost)
# none of them pass. Its shell prints its uptime before and after.
linux_drive() { KERNEL=$BZIMAGE drive "$@"; }
if [ -n "$INITRD" ]; then
	up2=$'echo U$((1+1))X $(cut -d" " -f1 /proc/uptime)\n'
	up3=$'echo U$((1+2))X $(cut -d" " -f1 /proc/uptime)\n'
	check "Linux guest: paused 15 s, resumed, ends by its own reset" \
		linux_drive linux -c2 -m256 -t300 "-i$INITRD" \
		'console=ttyS0 reboot=k panic=-1 quiet guest.action=shell' \
		'wait:MOAT-GUEST: shell' sleep:3000 "input:$up2" 'wait:U2X ' sleep:300 \
		pause sleep:15000 resume "input:$up3" 'wait:U3X ' sleep:300 \
		$'input:exit\n' exit:RESET
	before=$(tr -d '\r' <"$T/linux.log" | sed -n 's/^U2X \([0-9]*\).*/\1/p')
	after=$(tr -d '\r' <"$T/linux.log" | sed -n 's/^U3X \([0-9]*\).*/\1/p')
	clock_held() { [ -n "$before" ] && [ -n "$after" ] && [ $((after - before)) -lt 5 ]; }
	check "Linux guest: its clock skipped the pause (uptime ${before:-?} s, then ${after:-?} s)" \
		clock_held
fi

if [ -n "$kills_before" ] && dmesg >/dev/null 2>&1; then
	check "no seccomp kill of moat-vcpu (SIGSYS) in the kernel log" \
		[ "$(sigsys_count)" = "$kills_before" ]
fi
check "nothing left running" bash -c '! pgrep -x moat-vcpu >/dev/null'
finish
