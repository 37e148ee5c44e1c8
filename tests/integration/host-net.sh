#!/usr/bin/env bash
# moat-net on the host's own KVM with the tiny PVH guest (which has no
# network driver: Linux guests use the card in linux-net.sh): bad --net
# input and a hostfwd port in use (exit 2, one line, nothing left running),
# the sandbox of both kinds of moat-net (user: the host's network namespace,
# listening on loopback only; tap: an empty network namespace of its own,
# holding the tap; a tap of another user refused without CAP_NET_ADMIN), and
# SIGKILL of moat-net while the VM runs (a new one takes its forwards up
# again, issue 15). Needs root,
# /dev/kvm and /dev/net/tun.
# Usage: host-net.sh MOAT TINY_ELF
MOAT=$1
TINY=$2
# shellcheck source=lib.sh source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh"

need_host_kvm
T=$T_TMP
[ -e /dev/net/tun ] || modprobe tun 2>/dev/null # the KVM box loads no module by itself
NS=moat-hn-$$
P1=$((20000 + $$ % 20000)) # ports for this run's forwards
P2=$((P1 + 1))

nnet() { pgrep -cx moat-net || true; }
bad() { # bad NAME PATTERN ARGS... : exit 2, one clear line, no process left behind
	local name=$1 pat=$2 before st
	shift 2
	before=$(nnet)
	timeout 30 "$MOAT" run --kernel "$TINY" --cmdline h "$@" >"$T/$name.out" 2>"$T/$name.err" </dev/null
	st=$?
	[ $st = 2 ] && grep -q -- "$pat" "$T/$name.err" && [ "$(wc -l <"$T/$name.err")" -le 2 ] &&
		[ "$(nnet)" = "$before" ] || { echo "# $name: exit $st" >&2; diag <"$T/$name.err"; return 1; }
}
check "unknown --net kind" bad kind "" --net socket,listen=:1234
check "hostfwd without a guest port" bad fwd1 "hostfwd" --net "user,hostfwd=tcp::$P1-:"
check "hostfwd with a bad protocol" bad fwd2 "hostfwd" --net "user,hostfwd=sctp::$P1-:22"
check "hostfwd to slirp's own gateway" bad fwd3 "10.0.2.2" --net "user,hostfwd=tcp::$P1-10.0.2.2:22"
check "hostfwd to an address outside 10.0.2.0/24" bad fwd4 "outside" --net "user,hostfwd=tcp::$P1-192.168.1.5:22"
check "a multicast MAC" bad mac "" --net user,mac=01:00:5e:00:00:01
check "unknown --net field" bad field "" --net user,model=e1000
check "--net id used twice" bad twice "used twice" --net user,id=a --net user,id=a
check "a tap that does not exist" bad notap "no such network interface" --net tap=moat-none0
check "an interface that is not a tap" bad lo "not a tap device" --net tap=lo
python3 -c '
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(); time.sleep(60)' "$P1" &
busy=$!
sleep 0.5
check "a hostfwd port already in use" bad inuse "cannot listen on 127.0.0.1:$P1: Address already in use" \
	--net "user,hostfwd=tcp::$P1-:22"
kill "$busy"
wait "$busy" 2>/dev/null

# ---- user networking: sandbox, listeners, SIGKILL ---------------------------
net="" # check_child sets it
if vm_up user "TINY: waiting" 30 \
	"$MOAT" run --kernel "$TINY" --cmdline w --net "user,hostfwd=tcp::$P1-:22,hostfwd=udp::$P2-:53"; then
	ok "a VM with user networking is up"
	check_child net moat-net net0 "$T/user.audit" host-net
	ss -Hltnup >"$T/ss"
	check "the TCP forward listens on 127.0.0.1:$P1, held by moat-net" \
		grep -q "127.0.0.1:$P1 .*\"moat-net\",pid=$net" "$T/ss"
	check "the UDP forward listens on 127.0.0.1:$P2" grep -q "127.0.0.1:$P2 .*\"moat-net\"" "$T/ss"
	check "no forward listens beyond loopback" bash -c "! grep -q '0.0.0.0:$P1\|\*:$P1' '$T/ss'"
	# slirp accepts and tries the guest, which has no driver: moat-net lives on
	python3 -c 'import socket,sys; s=socket.create_connection(("127.0.0.1", int(sys.argv[1])), 5); s.sendall(b"hello"); s.close()' "$P1"
	sleep 0.5
	check "a connection to the forward leaves moat-net running" kill -0 "$net"
	kill -KILL "$net"
	wait_for "$T/user.audit" "child-died child=net0" 10
	check "SIGKILL of moat-net is recorded" grep -q "child-died child=net0 kind=net pid=$net was killed by signal KILL" "$T/user.audit"
	check "the VM keeps running" kill -0 "$mon"
	# issue 15: a new moat-net replaces it and sets the forwards up again
	check "a new moat-net is restarted in its place" wait_for "$T/user.audit" "child-reattached child=net0" 10
	net2=$(pgrep -x moat-net | head -1)
	check "the new moat-net ($net2) is another process than $net" [ -n "$net2" -a "$net2" != "$net" ]
	[ -n "$net2" ] && check_sandboxed "$net2" "restarted moat-net" host-net
	ss -Hltnup >"$T/ss2"
	check "the TCP forward listens again, held by the new moat-net" \
		grep -q "127.0.0.1:$P1 .*\"moat-net\",pid=$net2" "$T/ss2"
	check "so does the UDP forward" grep -q "127.0.0.1:$P2 .*\"moat-net\",pid=$net2" "$T/ss2"
else
	not_ok "a VM with user networking is up"
	diag <"$T/user.err"
fi
kill -TERM "$mon"
wait "$mon"
check "SIGTERM ends it with exit 0 (got $?)" [ $? = 0 ]

# ---- tap, in a network namespace of the test's own ---------------------------
if ip netns add "$NS" 2>/dev/null; then
	trap 'ip netns del "$NS" 2>/dev/null; rm -rf "$T_TMP"' EXIT
	ip -n "$NS" tuntap add dev mtap0 mode tap && ip -n "$NS" link set mtap0 up
	if vm_up tap "TINY: waiting" 30 \
		ip netns exec "$NS" "$MOAT" run --kernel "$TINY" --cmdline w --net tap=mtap0; then
		ok "a VM on a tap is up"
		net=$(pgrep -x moat-net | head -1)
		check "moat-net (tap) runs" [ -n "$net" ]
		if [ -n "$net" ]; then
			check_sandboxed "$net" moat-net/tap
			check "moat-net (tap) is not in the tap's namespace either" \
				[ "$(readlink /proc/$net/ns/net)" != "$(ip netns exec "$NS" readlink /proc/self/ns/net)" ]
			check "moat-net (tap) holds the tap the monitor opened" \
				bash -c "ls -l /proc/$net/fd | grep -q /dev/net/tun"
			n=$(sed -n 's/.*child-ready child=net0 kind=net .*syscalls=\([0-9]*\).*/\1/p' "$T/tap.audit")
			check "moat-net (tap)'s policy is the smaller one (${n:-?} syscalls)" [ "${n:-99}" -lt 40 ]
			check "a second moat cannot take the same tap" \
				bash -c "ip netns exec '$NS' timeout 30 '$MOAT' run --kernel '$TINY' --cmdline h --net tap=mtap0 </dev/null >/dev/null 2>'$T/busy.err'; [ \$? = 2 ] && grep -q 'cannot attach' '$T/busy.err'"
		fi
	else
		not_ok "a VM on a tap is up"
		diag <"$T/tap.err"
	fi
	kill -TERM "$mon"
	wait "$mon"
	check "SIGTERM ends it with exit 0 (got $?)" [ $? = 0 ]
	check "its counters are in the audit trail" grep -q "child-stats child=net0 .*tx_dropped_malformed=0 .*tap_rx_short=" "$T/tap.audit"
	# a tap that belongs to another user, for a moat without CAP_NET_ADMIN
	ip -n "$NS" tuntap add dev mtapp mode tap user 12345
	kvm_gid=$(stat -c %g /dev/kvm)
	check "a tap of another user, without CAP_NET_ADMIN: no permission, exit 2" bash -c "
		ip netns exec '$NS' setpriv --reuid=65534 --regid=65534 --groups=$kvm_gid --inh-caps=-all \
			timeout 30 '$MOAT' run --kernel '$TINY' --net tap=mtapp </dev/null >/dev/null 2>'$T/perm.err'
		[ \$? = 2 ] && grep -q 'cannot attach: Operation not permitted (the tap belongs to another user' '$T/perm.err'"
else
	not_ok "ip netns add (needs root)"
fi
check "nothing left running" bash -c '! pgrep -x moat-net && ! pgrep -x moat-vcpu'
finish
