#!/usr/bin/env bash
# moat on the host's own KVM with the tiny PVH guest (tests/tinyguest):
# boot, console both ways, exit statuses, register dump, the vcpu sandbox,
# stop by signal, and every kind of bad input. Needs root and /dev/kvm.
# Usage: host-tiny.sh MOAT TINY_ELF
MOAT=$1
TINY=$2
. "$(dirname "$0")/lib.sh"

need_host_kvm
T=$T_TMP

run() { # run NAME EXPECTED_STATUS ARGS... ; output in $T/NAME.out/.err
	local name=$1 want=$2 got
	shift 2
	timeout 60 "$MOAT" run "$@" >"$T/$name.out" 2>"$T/$name.err" </dev/null
	got=$?
	if [ "$got" != "$want" ]; then
		echo "# $name: exit $got, expected $want" >&2
		diag <"$T/$name.err"
		return 1
	fi
}

no_leftovers() { ! pgrep -x moat-vcpu >/dev/null; }

check "hello boots and exits 0 on i8042 reset" run hello 0 --kernel "$TINY" --cmdline h
check "guest output reaches stdout" grep -q "TINY: hello" "$T/hello.out"

printf 'abc.' >"$T/in"
timeout 60 "$MOAT" run --kernel "$TINY" --cmdline e <"$T/in" >"$T/echo.out" 2>"$T/echo.err"
check "stdin reaches the guest and comes back (exit $?)" grep -q "abc\." "$T/echo.out"

check "triple fault exits 1" run triple 1 --kernel "$TINY" --cmdline t
check "triple fault is named" grep -q "triple fault" "$T/triple.err"
# KVM on AMD resets the vCPU at a triple fault: a reset-state dump says so
check "the triple fault's registers are where it failed, or said to be the reset state" \
	bash -c '! grep -q "RIP=000000000000fff0" "$1" || grep -q "the reset state" "$1"' _ "$T/triple.err"
check "register dump printed" grep -q "RIP=" "$T/triple.err"
# what the guest last asked of moat-vcpu: tiny.S's POST write before it faults
check "the report ends with the guest's last exit, its POST port write" \
	grep -Eq "#[0-9]+ port write 0x80, 1 byte = 0x7a$" "$T/triple.err"

check "--serial file: writes the console to a file" \
	run file 0 --kernel "$TINY" --cmdline h --serial "file:$T/console.log"
check "file console has the output" grep -q "TINY: hello" "$T/console.log"
check "--serial none boots" run none 0 --kernel "$TINY" --cmdline h --serial none
check "--cpus 4 --mem 5G boots" run big 0 --kernel "$TINY" --cmdline h --cpus 4 --mem 5G

# A guest that waits: inspect the sandbox, then stop moat with SIGTERM.
if vm_up wait "TINY: waiting" 30 "$MOAT" run --kernel "$TINY" --cmdline w -v; then
	ok "waiting guest is up"
	vcpu=$(child_pid "$mon" moat-vcpu)
	check "moat-vcpu runs under the monitor" [ -n "$vcpu" ]
	[ -n "$vcpu" ] && check_sandboxed "$vcpu" moat-vcpu
	check "monitor logged the sandbox report" grep -q "seccomp=2" "$T/wait.err"
else
	not_ok "waiting guest is up"
	diag <"$T/wait.err"
fi
kill -TERM "$mon"
wait "$mon"
check "SIGTERM stops the VM with exit 0 (got $?)" [ $? = 0 ]
check "nothing left running after stop" no_leftovers

# Killing moat-vcpu from outside: the monitor reports it and exits 1.
"$MOAT" run --kernel "$TINY" --cmdline w --serial none >"$T/kill.out" 2>"$T/kill.err" </dev/null &
mon=$!
sleep 1
for _ in $(seq 50); do vcpu=$(child_pid "$mon" moat-vcpu); [ -n "$vcpu" ] && break; sleep 0.1; done
kill -KILL "$vcpu" 2>/dev/null
wait "$mon"
st=$?
check "a killed moat-vcpu ends the run with exit 1 (got $st)" [ $st = 1 ]
check "the death is reported with its signal" grep -q "killed by signal KILL" "$T/kill.err"

# Bad input: exit 2, one line, nothing left behind.
bad() { # bad NAME PATTERN ARGS...
	local name=$1 pat=$2
	shift 2
	run "$name" 2 "$@" && grep -q -- "$pat" "$T/$name.err" &&
		[ "$(wc -l <"$T/$name.err")" -le 2 ] && no_leftovers
}
head -c 100000 /dev/urandom >"$T/random.bin"
printf 'short' >"$T/short.bin"
gzip -c "$TINY" >"$T/rd.gz"
head -c $(($(stat -c %s "$T/rd.gz") - 9)) "$T/rd.gz" >"$T/rd-cut.gz"
check "missing kernel" bad nokernel "cannot open kernel" --kernel "$T/none"
check "kernel is a directory" bad dirkernel "not a regular file" --kernel /
check "random kernel" bad randkernel "neither a bzImage" --kernel "$T/random.bin"
check "tiny kernel" bad shortkernel "plausible size" --kernel "$T/short.bin"
check "ELF without PVH note" bad elfkernel "not a PVH vmlinux" --kernel /bin/true
check "missing initrd" bad noinitrd "cannot open initrd" --kernel "$TINY" --initrd "$T/none"
check "truncated initrd" bad cutinitrd "initrd is damaged" --kernel "$TINY" --initrd "$T/rd-cut.gz" --cmdline h
check "whole initrd boots" run goodinitrd 0 --kernel "$TINY" --initrd "$T/rd.gz" --cmdline h
check "--mem too small" bad memsmall "too small" --kernel "$TINY" --mem 1M
check "--mem beyond the host" bad memhuge "more than this host" --kernel "$TINY" --mem 100T
check "--cpus 0" bad cpus0 "--cpus" --kernel "$TINY" --cpus 0
check "--cpus too many" bad cpus99 "--cpus" --kernel "$TINY" --cpus 99
check "unknown option" bad unknown "unknown option" --kernel "$TINY" --frobnicate
check "bad --serial" bad badserial "--serial" --kernel "$TINY" --serial tcp:1
check "unwritable serial file" bad serialfile "cannot open serial file" --kernel "$TINY" --serial file:/proc/nope/x
mkfifo "$T/fifo"
check "a FIFO as --kernel is refused" bad fifokernel "is a FIFO" --kernel "$T/fifo"
check "a serial FIFO nobody reads is refused" bad serialfifo "nobody reads" --kernel "$TINY" --serial "file:$T/fifo"
if unshare -m true 2>/dev/null; then
	check "no /dev/kvm" unshare -m bash -c "mount -t tmpfs none /dev && \
		timeout 20 '$MOAT' run --kernel '$TINY' 2>'$T/nokvm.err'; [ \$? = 2 ] && grep -q 'cannot open /dev/kvm' '$T/nokvm.err'"
fi
"$MOAT" --help >"$T/help" && check "moat --help" grep -q "Commands:" "$T/help"
"$MOAT" run --help >"$T/rhelp" && check "moat run --help documents exit status" grep -q "Exit status" "$T/rhelp"
finish
