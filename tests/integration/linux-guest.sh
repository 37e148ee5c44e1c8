#!/usr/bin/env bash
# moat booting Debian's stock kernel with the project's test initramfs
# (tests/guest/build): SMP and memory sizes across the 4 GiB hole, the date,
# console input, the PVH entry of the extracted vmlinux, and the vcpu
# sandbox while a guest runs. Needs a KVM that runs ring-0 code at speed:
# real hardware, or inside tests/kvmbox/run.
# Usage: linux-guest.sh MOAT BZIMAGE INITRD [VMLINUX]
MOAT=$1
BZIMAGE=$2
INITRD=$3
VMLINUX=${4:-}
. "$(dirname "$0")/lib.sh"
T=$T_TMP
BOOT_TIMEOUT=${MOAT_TEST_BOOT_TIMEOUT:-300}

boot() { # boot NAME KERNEL ACTION MOAT-ARGS...; console in $T/NAME.out
	local name=$1 kernel=$2 action=$3
	shift 3
	run_guest "$name" "$action" --kernel "$kernel" --initrd "$INITRD" \
		--cmdline "console=ttyS0 reboot=k panic=-1 quiet guest.action=$action" "$@"
}

check_info() { # check_info NAME CPUS MEM_MIN_KB MEM_MAX_KB
	local cpus mem
	cpus=$(marker "$1" cpus)
	mem=$(marker "$1" memtotal-kb)
	check "$1: guest sees $2 CPUs (saw ${cpus:-none})" [ "${cpus:-0}" = "$2" ]
	check "$1: MemTotal ${mem:-none} kB in [$3, $4]" \
		[ "${mem:-0}" -ge "$3" -a "${mem:-0}" -le "$4" ]
}

check "bzImage, 1 CPU, 256M" boot small "$BZIMAGE" info --cpus 1 --mem 256M
check_info small 1 180000 262144
gdate=$(marker small date)
hdiff=$(( $(date -u +%s) - $(date -u -d "${gdate:-1970-01-01}" +%s) ))
check "guest date ${gdate:-none} is the host's (${hdiff}s apart)" [ "${hdiff#-}" -lt 600 ]

check "bzImage, 4 CPUs, 5G (RAM above the 4 GiB hole)" boot big "$BZIMAGE" info --cpus 4 --mem 5G
check_info big 4 4700000 5242880

if [ -n "$VMLINUX" ]; then
	check "PVH vmlinux, 2 CPUs, 512M" boot pvh "$VMLINUX" info --cpus 2 --mem 512M
	check_info pvh 2 400000 524288
fi

# Console input: a shell in the guest runs what we type, once it is up
# (bytes sent before the guest's serial driver starts are flushed by it,
# as on real hardware).
mkfifo "$T/typed"
timeout "$BOOT_TIMEOUT" "$MOAT" run --kernel "$BZIMAGE" --initrd "$INITRD" --mem 256M \
	--cmdline "console=ttyS0 reboot=k panic=-1 quiet guest.action=shell" \
	<"$T/typed" >"$T/shell.out" 2>"$T/shell.err" &
mon=$!
exec 3>"$T/typed"
if wait_for "$T/shell.out" "MOAT-GUEST: shell" "$BOOT_TIMEOUT"; then
	sleep 2
	printf 'echo typed-$((6*7))\nexit\n' >&3
fi
wait_for "$T/shell.out" "typed-42" 60
exec 3>&-
wait "$mon"
check "typed input reaches the guest shell (exit $?)" grep -q "typed-42" "$T/shell.out"

# The Apple SMC through Linux's own applesmc driver: it binds (it needs
# #KEY, FNum and an Apple DMI identity), lists our keys by index, and a
# static guest program reads OSK0/OSK1 through the ports.
OSK="moat-linux-test-osk-$(printf %044d 42)" # 64 bytes, made up
printf '%s' "$OSK" >"$T/osk"
check "applesmc binds to moat's SMC" boot smc "$BZIMAGE" smc --mem 256M --smc osk-file="$T/osk"
check "smc: key count is 18" [ "$(marker smc 'smc key_count')" = 18 ]
# One name a line: names are four bytes and may end in a space ("REV ").
sed -n 's/^MOAT-GUEST: smc key [0-9]* //p' "$T/smc.out" | tr -d '\r' >"$T/keys"
keys=$(tr '\n' ' ' <"$T/keys")
check "smc: keys by index in ascending byte order ($keys)" env LC_ALL=C sort -c "$T/keys"
check "smc: #KEY, OSK0, OSK1, FNum, REV listed" \
	bash -c "grep -q '#KEY' <<<'$keys' && grep -q OSK0 <<<'$keys' && grep -q OSK1 <<<'$keys' && grep -q FNum <<<'$keys' && grep -q 'REV' <<<'$keys'"
hex=$(printf '%s' "$OSK" | od -An -tx1 | tr -d ' \n')
check "smc: OSK0 read through the ports is the configured OSK's first half" \
	[ "$(marker smc 'smc OSK0')" = "${hex:0:64}" ]
check "smc: OSK1 is the second half" [ "$(marker smc 'smc OSK1')" = "${hex:64:64}" ]

# A running guest: the sandboxes of moat-vcpu and moat-smc, as /proc shows
# them; then moat-smc is killed and the guest still reaches its end.
smc="" # check_child sets it
if vm_up wait "MOAT-GUEST: waiting" "$BOOT_TIMEOUT" \
	"$MOAT" run --kernel "$BZIMAGE" --initrd "$INITRD" --mem 256M --cpus 2 \
	--cmdline "console=ttyS0 reboot=k panic=-1 quiet guest.action=wait guest.wait=20" \
	--smc osk-file="$T/osk"; then
	ok "waiting guest is up"
	vcpu=$(child_pid "$mon" moat-vcpu)
	check "moat-vcpu found under the monitor" [ -n "$vcpu" ]
	[ -n "$vcpu" ] && check_sandboxed "$vcpu" moat-vcpu
	check "vcpu threads: main + 2 vCPUs" [ "$(ls /proc/$vcpu/task 2>/dev/null | wc -l)" = 3 ]
	check_child smc moat-smc smc0 "$T/wait.audit"
	kill -KILL "$smc"
else
	not_ok "waiting guest is up"
	tail -n 30 "$T/wait.log" "$T/wait.err" | diag
	kill -TERM "$mon"
fi
wait "$mon"
check "with moat-smc killed the guest still finishes and moat exits 0 (got $?)" [ $? = 0 ]
check "the guest reached its end marker" grep -q "MOAT-GUEST: result wait ok" "$T/wait.log"
check "the SMC's death is in the audit trail" \
	grep -q "child-died child=smc0 kind=smc pid=${smc:-none} was killed by signal KILL" "$T/wait.audit"
check "no moat process left" bash -c '! pgrep -x moat-vcpu && ! pgrep -x moat-smc'

# The SMC's process restarted under a running guest (issue 15): the guest
# writes NATJ through the ports and keeps reading it while moat-smc is
# killed three times; each time a new moat-smc, sandboxed like the first,
# serves the value the guest wrote, and the guest goes on.
restarts() { grep -c "child-reattached child=smc0" "$T/smcloop.audit" 2>/dev/null; }
if vm_up smcloop "MOAT-GUEST: smc wrote" "$BOOT_TIMEOUT" \
	"$MOAT" run --kernel "$BZIMAGE" --initrd "$INITRD" --mem 256M \
	--cmdline "console=ttyS0 reboot=k panic=-1 quiet guest.action=smc-loop guest.wait=20 guest.smc-write=NATJ=07" \
	--smc osk-file="$T/osk"; then
	ok "smc-loop guest is up and wrote NATJ"
	pids=""
	for k in 1 2 3; do
		smc=$(child_pid "$mon" moat-smc)
		pids="$pids ${smc:-none}"
		[ -n "$smc" ] && kill -KILL "$smc"
		for _ in $(seq 100); do [ "$(restarts)" -ge "$k" ] && break; sleep 0.1; done
		sleep 1 # let the guest read from this one
	done
	check "moat-smc was restarted three times (reattached $(restarts) times)" [ "$(restarts)" = 3 ]
	smc=$(child_pid "$mon" moat-smc)
	check "the fourth moat-smc is a new process ($smc, after$pids)" \
		bash -c "[ -n '$smc' ] && ! grep -qw '$smc' <<<'$pids'"
	[ -n "$smc" ] && check_sandboxed "$smc" moat-smc
else
	not_ok "smc-loop guest is up and wrote NATJ"
	tail -n 30 "$T/smcloop.log" "$T/smcloop.err" | diag
	kill -TERM "$mon"
fi
wait "$mon"
check "moat exits 0 after the restarts (got $?)" [ $? = 0 ]
loop=$(sed -n 's/^MOAT-GUEST: smc loop //p' "$T/smcloop.log" | tr -d '\r')
read -r _ nok _ nbad _ last <<<"$loop"
check "the guest read NATJ across the restarts ($loop)" [ "${nok:-0}" -gt 10 ]
check "NATJ is still what the guest wrote (07): the state outlived the processes" \
	[ "${last:-}" = 07 ]
check "at most one read a restart was cut short (${nbad:-?} failed)" [ "${nbad:-9}" -le 3 ]
check "each restart is in the audit trail with its cause" \
	[ "$(grep -c 'child-restart child=smc0 kind=smc pid=[0-9]* cause="was killed by signal KILL"' "$T/smcloop.audit")" = 3 ]
check "each successor was checked sandboxed (child-ready for 4 processes)" \
	[ "$(grep -c 'child-ready child=smc0' "$T/smcloop.audit")" = 4 ]
check "the OSK is in no log, audit line or console of the restarts" \
	bash -c "! grep -qa moat-linux-test-osk '$T/smcloop.audit' '$T/smcloop.err' '$T/smcloop.log'"

# SIGTERM is an orderly shutdown: moat presses the ACPI power button, and a
# guest that listens for it (as logind or acpid do) powers off through
# ACPI S5, which ends moat with 0.
if vm_up button "MOAT-GUEST: power-button waiting" "$BOOT_TIMEOUT" \
	"$MOAT" run -v --kernel "$BZIMAGE" --initrd "$INITRD" --mem 256M \
	--cmdline "console=ttyS0 reboot=k panic=-1 quiet guest.action=power-button"; then
	kill -TERM "$mon"
	wait "$mon"
	st=$?
	check "SIGTERM to a listening guest: it powered off, moat exits 0 (got $st)" [ $st = 0 ]
	check "the guest saw the power button" grep -q "MOAT-GUEST: power-button pressed" "$T/button.log"
	check "the VM ended by ACPI soft-off" grep -q "ACPI S5" "$T/button.err"
else
	not_ok "a guest listening for the power button is up"
	tail -n 30 "$T/button.log" "$T/button.err" | diag
	kill -KILL "$mon"
	wait "$mon"
fi

# A guest that does not listen (no button driver) is stopped at once, not
# after --shutdown-timeout.
if vm_up deaf "MOAT-GUEST: waiting" "$BOOT_TIMEOUT" \
	"$MOAT" run -v --kernel "$BZIMAGE" --initrd "$INITRD" --mem 256M --shutdown-timeout 300 \
	--cmdline "console=ttyS0 reboot=k panic=-1 quiet guest.action=wait guest.wait=600"; then
	start=$(date +%s)
	kill -TERM "$mon"
	wait "$mon"
	st=$?
	took=$(($(date +%s) - start))
	check "SIGTERM to a guest without the button driver: exit 0 (got $st)" [ $st = 0 ]
	check "... and at once (${took}s), not after the 300 s timeout" [ "$took" -lt 30 ]
	check "... said why" grep -q "does not listen for the power button" "$T/deaf.err"
else
	not_ok "a guest that does not listen for the power button is up"
	tail -n 30 "$T/deaf.log" "$T/deaf.err" | diag
	kill -KILL "$mon"
	wait "$mon"
fi
finish
