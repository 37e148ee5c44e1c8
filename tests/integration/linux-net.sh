#!/usr/bin/env bash
# moat's virtio-net (--net) under Debian's stock kernel and the test
# initramfs: user networking through libslirp (DHCP, ping of the gateway,
# a file fetched from the host's 127.0.0.1 as 10.0.2.2 with hostloop=on, a
# name resolved through 10.0.2.3 by the test's own dnsmasq on loopback, TCP
# and UDP forwards into the guest, SIGKILL of moat-net and its restart
# with the forwards up again), the host's
# loopback closed by default, restrict=on (nothing out, forwards in), and a
# tap in a network namespace of the test's own (TCP and UDP both ways, and
# a TCP stream that outlives a restart of moat-net).
# Traffic stays on loopback, slirp's 10.0.2.0/24 and that namespace. Needs
# a KVM that runs ring-0 code at speed (real hardware, or inside
# tests/kvmbox/run), root, dnsmasq and python3. Four guest boots.
# Usage: linux-net.sh MOAT BZIMAGE INITRD
# Environment: MOAT_TEST_BOOT_TIMEOUT (seconds per boot, default 300).
MOAT=$1
BZIMAGE=$2
INITRD=$3
# shellcheck source=lib.sh source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh"
T=$T_TMP
[ -e /dev/net/tun ] || modprobe tun 2>/dev/null # the KVM box loads no module by itself
BOOT_TIMEOUT=${MOAT_TEST_BOOT_TIMEOUT:-300}
CMDLINE="console=ttyS0 reboot=k panic=-1 quiet"
NS=moat-ln-$$
HTTP=18080  # the host's HTTP server on 127.0.0.1 (10.0.2.2 to the guest)
NAME=moat-test.example
NAME_ADDR=10.9.8.7
pids=()

for t in dnsmasq python3 ip unshare sha256sum; do
	command -v "$t" >/dev/null || { echo "Bail out! '$t' not found (scripts/deps)"; exit 1; }
done
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	ip netns del "$NS" 2>/dev/null
	rm -rf "$T_TMP"
}
trap cleanup EXIT
trap '' PIPE # a moat that ended early must not take the script with it

mkdir -p "$T/www"
head -c 1M /dev/urandom >"$T/www/blob"
blob_sum=$(sha256sum <"$T/www/blob" | cut -d' ' -f1)
python3 -m http.server "$HTTP" --bind 127.0.0.1 --directory "$T/www" 2>"$T/http.log" >/dev/null &
pids+=($!)
# The only resolver slirp will know: one name, no upstream, loopback only.
dnsmasq --keep-in-foreground --conf-file=/dev/null --port=53 --listen-address=127.0.0.1 \
	--bind-interfaces --no-resolv --no-hosts --address="/$NAME/$NAME_ADDR" --user=root \
	--log-queries --log-facility="$T/dnsmasq.log" --pid-file="$T/dnsmasq.pid" &
pids+=($!)
echo "nameserver 127.0.0.1" >"$T/resolv.conf"
sleep 1

# start_vm NAME ACTION "GUEST-PARAMS" [ip netns exec NS] -- MOAT-ARGS...: moat in
# the background, its console in $T/NAME.out, its input from the fifo on fd 3;
# $mon is its pid. moat runs in a mount namespace where /etc/resolv.conf names
# the test's dnsmasq.
start_vm() {
	local name=$1 action=$2 params=$3 pre=()
	shift 3
	while [ "$1" != -- ]; do pre+=("$1"); shift; done
	shift
	mkfifo "$T/$name.in"
	"${pre[@]}" unshare -m bash -c 'mount --bind "$0" /etc/resolv.conf && exec "$@"' "$T/resolv.conf" \
		timeout "$BOOT_TIMEOUT" "$MOAT" run --kernel "$BZIMAGE" --initrd "$INITRD" --mem 256M \
		--cmdline "$CMDLINE guest.action=$action $params" --audit "$T/$name.audit" "$@" \
		<"$T/$name.in" >"$T/$name.out" 2>"$T/$name.err" &
	mon=$!
	exec 3<>"$T/$name.in" # read-write: never blocks, whatever moat did
}
# end_vm NAME: tell the guest to finish; check it did and moat exited 0
end_vm() {
	local name=$1 st
	echo done >&3
	exec 3>&-
	wait "$mon"
	st=$?
	check "$name: the guest finished its action and moat exited 0 (got $st)" \
		grep -q "MOAT-GUEST: result net-[a-z]* ok" "$T/$name.out"
	[ $st = 0 ] && grep -q "MOAT-GUEST: result net-[a-z]* ok" "$T/$name.out" ||
		tail -n 30 "$T/$name.out" "$T/$name.err" | diag
}
# udp_ping ADDR PORT TEXT [ip netns exec NS]: send TEXT until "pong:TEXT" comes back
udp_ping() {
	local addr=$1 port=$2 text=$3
	shift 3
	"$@" python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(1)
for _ in range(20):
    s.sendto(sys.argv[3].encode(), (sys.argv[1], int(sys.argv[2])))
    try:
        d, _ = s.recvfrom(2048)
    except socket.timeout:
        continue
    sys.exit(0 if d == b"pong:" + sys.argv[3].encode() else 1)
sys.exit(1)' "$addr" "$port" "$text"
}
# http_sha URL [ip netns exec NS]: the sha256 of the body, or nothing
http_sha() {
	local url=$1
	shift
	"$@" python3 -c '
import hashlib, sys, urllib.request
print(hashlib.sha256(urllib.request.urlopen(sys.argv[1], timeout=60).read()).hexdigest())' "$url" 2>/dev/null
}
# http_get URL [ip netns exec NS]: the body, or nothing
http_get() {
	local url=$1
	shift
	"$@" python3 -c '
import sys, urllib.request
print(urllib.request.urlopen(sys.argv[1], timeout=20).read().decode().strip())' "$url" 2>/dev/null
}

# ---- 1. user networking -------------------------------------------------------
start_vm user net-user "guest.url=http://10.0.2.2:$HTTP/blob guest.name=$NAME guest.token=tok-user" -- \
	--net user,hostloop=on,hostfwd=tcp::18022-:80,hostfwd=udp::18023-:7777
if wait_for "$T/user.out" "MOAT-GUEST: net serving\|MOAT-GUEST: result" "$BOOT_TIMEOUT" &&
	grep -q "MOAT-GUEST: net serving" "$T/user.out"; then
	ok "user: the guest is up and serving"
	lease=$(marker user "net lease")
	check "user: DHCP leases 10.0.2.15/24 ($lease)" bash -c "grep -q 'ip=10.0.2.15 mask=255.255.255.0' <<<'$lease'"
	check "user: router 10.0.2.2" bash -c "grep -q 'router=10.0.2.2' <<<'$lease'"
	check "user: DNS 10.0.2.3" bash -c "grep -q 'dns=10.0.2.3' <<<'$lease'"
	check "user: the gateway answers ping" grep -q "MOAT-GUEST: net ping 10.0.2.2 ok" "$T/user.out"
	check "user: wget from the host's 127.0.0.1 (as 10.0.2.2) gets the file whole" \
		[ "$(marker user "net fetched")" = "$blob_sum" ]
	check "user: the guest resolves $NAME through 10.0.2.3 ($(marker user "net dns $NAME"))" \
		[ "$(marker user "net dns $NAME")" = "$NAME_ADDR" ]
	check "user: the query reached the test's own resolver" grep -q "query\[A\] $NAME from 127.0.0.1" "$T/dnsmasq.log"
	check "user: hostfwd tcp 127.0.0.1:18022 reaches the guest's httpd" \
		[ "$(http_get http://127.0.0.1:18022/)" = "moat-guest-httpd tok-user" ]
	check "user: 2 MiB from the guest through the forward arrive whole" \
		[ "$(http_sha http://127.0.0.1:18022/big)" = "$(marker user "net big")" ]
	check "user: hostfwd udp 127.0.0.1:18023 reaches the guest, and its answer comes back" \
		udp_ping 127.0.0.1 18023 moat-udp-hello
	check "user: the guest got the datagram" wait_for "$T/user.out" "MOAT-GUEST: net udp got moat-udp-hello" 10
	net=$(pgrep -x moat-net | head -1)
	if [ -n "$net" ]; then
		check_sandboxed "$net" "user: moat-net" host-net
		kill -KILL "$net"
		check "user: SIGKILL of moat-net is recorded" \
			wait_for "$T/user.audit" "child-died child=net0 kind=net pid=$net was killed by signal KILL" 10
		check "user: the VM runs on" kill -0 "$mon"
		# issue 15: a new moat-net, a fresh slirp, the forwards set up again
		check "user: a new moat-net takes the card back" \
			wait_for "$T/user.audit" "child-reattached child=net0" 10
		check "user: the TCP forward reaches the guest's httpd again" \
			[ "$(http_get http://127.0.0.1:18022/)" = "moat-guest-httpd tok-user" ]
	else
		not_ok "user: moat-net is running"
	fi
else
	not_ok "user: the guest is up and serving"
	tail -n 30 "$T/user.out" "$T/user.err" | diag
fi
end_vm user

# isolated NAME WHAT PORT NET_OPTION: a guest that serves on port 80
# (forwarded from the host's PORT) and must fail to fetch from the host's
# 127.0.0.1 as 10.0.2.2; the host's server must see no request from it.
isolated() {
	local name=$1 what=$2 port=$3 before
	before=$(grep -c "GET /blob" "$T/http.log")
	start_vm "$name" net-user "guest.url=http://10.0.2.2:$HTTP/blob guest.isolated=1 guest.token=tok-$name" -- \
		--net "$4,hostfwd=tcp::$port-:80"
	if wait_for "$T/$name.out" "MOAT-GUEST: net isolated\|MOAT-GUEST: result" "$BOOT_TIMEOUT" &&
		grep -q "MOAT-GUEST: net serving" "$T/$name.out"; then
		ok "$what: the guest is up and serving"
		check "$what: DHCP still leases 10.0.2.15" bash -c "grep -q 'ip=10.0.2.15' <<<'$(marker "$name" "net lease")'"
		check "$what: the guest cannot fetch from the host's 127.0.0.1 as 10.0.2.2" \
			grep -q "MOAT-GUEST: net isolated" "$T/$name.out"
		check "$what: and the server saw no request" [ "$(grep -c "GET /blob" "$T/http.log")" = "$before" ]
		check "$what: the forward still reaches the guest" \
			[ "$(http_get "http://127.0.0.1:$port/")" = "moat-guest-httpd tok-$name" ]
	else
		not_ok "$what: the guest is up and serving"
		tail -n 30 "$T/$name.out" "$T/$name.err" | diag
	fi
	end_vm "$name"
}

# ---- 1b. the host's loopback is closed by default ------------------------------
isolated noloop "no hostloop (the default)" 18025 user

# ---- 2. restrict=on -----------------------------------------------------------
isolated restrict "restrict" 18024 user,restrict=on
check "restrict: moat-net's counters are in the audit trail, no malformed frames" \
	grep -q "child-stats child=net0 .*tx_frames=[1-9][0-9]* .*tx_dropped_malformed=0 .*rx_frames=[1-9]" "$T/restrict.audit"

# ---- 3. tap in a network namespace of our own ---------------------------------
if ip netns add "$NS" && ip -n "$NS" link set lo up && ip -n "$NS" tuntap add dev mtap0 mode tap &&
	ip -n "$NS" addr add 192.168.77.1/24 dev mtap0 && ip -n "$NS" link set mtap0 up; then
	in_ns=(ip netns exec "$NS")
	"${in_ns[@]}" python3 -m http.server 18081 --bind 192.168.77.1 --directory "$T/www" \
		2>"$T/http-ns.log" >/dev/null &
	pids+=($!)
	start_vm tap net-tap "guest.ip=192.168.77.2/24 guest.url=http://192.168.77.1:18081/blob guest.token=tok-tap" \
		"${in_ns[@]}" -- --net tap=mtap0,mac=52:54:00:ab:cd:ef
	if wait_for "$T/tap.out" "MOAT-GUEST: net serving\|MOAT-GUEST: result" "$BOOT_TIMEOUT" &&
		grep -q "MOAT-GUEST: net serving" "$T/tap.out"; then
		ok "tap: the guest is up and serving"
		check "tap: the guest has the MAC given" grep -q "MOAT-GUEST: net address .*(52:54:00:ab:cd:ef)" "$T/tap.out"
		check "tap: guest to namespace: wget gets the file whole" [ "$(marker tap "net fetched")" = "$blob_sum" ]
		check "tap: namespace to guest: TCP to its httpd" \
			[ "$(http_get http://192.168.77.2/ "${in_ns[@]}")" = "moat-guest-httpd tok-tap" ]
		check "tap: 2 MiB from the guest arrive whole (offloaded segments)" \
			[ "$(http_sha http://192.168.77.2/big "${in_ns[@]}")" = "$(marker tap "net big")" ]
		check "tap: namespace to guest: UDP, and the answer comes back" \
			udp_ping 192.168.77.2 7777 moat-tap-hello "${in_ns[@]}"
		net=$(pgrep -x moat-net | head -1)
		[ -n "$net" ] && check_sandboxed "$net" "tap: moat-net"
		# issue 15: a TCP stream through the tap survives SIGKILL of
		# moat-net. A small receive window keeps the guest's data in
		# flight; the guest retransmits what the dead process dropped.
		"${in_ns[@]}" python3 -c '
import hashlib, socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8192)
s.settimeout(60)
s.connect((sys.argv[1], 80))
s.sendall(b"GET /big HTTP/1.0\r\n\r\n")
data = b""
while True:
    b = s.recv(8192)
    if not b:
        break
    data += b
    time.sleep(0.01)
print(hashlib.sha256(data.split(b"\r\n\r\n", 1)[1]).hexdigest())' 192.168.77.2 \
			>"$T/slow.sha" 2>"$T/slow.err" &
		slow=$!
		sleep 1
		[ -n "$net" ] && kill -KILL "$net"
		check "tap: a new moat-net takes the card back" \
			wait_for "$T/tap.audit" "child-reattached child=net0" 10
		wait "$slow"
		check "tap: a TCP stream read across the kill arrives whole ($(tail -n 1 "$T/slow.err"))" \
			[ "$(cat "$T/slow.sha")" = "$(marker tap "net big")" ]
		net2=$(pgrep -x moat-net | head -1)
		[ -n "$net2" ] && check_sandboxed "$net2" "tap: the restarted moat-net"
	else
		not_ok "tap: the guest is up and serving"
		tail -n 30 "$T/tap.out" "$T/tap.err" | diag
	fi
	end_vm tap
	# Without TSO no frame is over 1514 bytes, and the ACKs of the 1 MiB
	# download pull the mean lower still; with it the 2 MiB go in big
	# segments.
	read -r frames bytes < <(sed -n 's/.*child-stats child=net0 .*tx_frames=\([0-9]*\) tx_bytes=\([0-9]*\) .*/\1 \2/p' "$T/tap.audit")
	check "tap: the guest's segments were offloaded (mean TX frame $(( ${bytes:-0} / ${frames:-1} )) bytes > 1514)" \
		[ "$(( ${bytes:-0} / ${frames:-1} ))" -gt 1514 ]
else
	not_ok "tap: a network namespace with a tap"
fi
check "nothing left running" bash -c '! pgrep -x moat-net && ! pgrep -x moat-vcpu'
finish
