# shellcheck shell=sh disable=SC2034 # sourced by the net-* actions
# Helpers of the net-* actions: the virtio-net interface, a DHCP lease,
# the servers a forward reaches, and the console line that ends a test.

# net_iface: wait up to 10 s for the first virtio-net interface; prints it.
# Brings lo up too: connections to the guest's own address go through it.
net_iface() {
	ip link set lo up
	i=0
	while [ $i -lt 100 ]; do
		for d in /sys/class/net/*; do
			[ -e "$d/device/driver" ] || continue
			case "$(readlink "$d/device/driver")" in
			*virtio_net) echo "${d##*/}"; return 0 ;;
			esac
		done
		sleep 0.1
		i=$((i + 1))
	done
	fail "no virtio-net interface in 10 s"
}

# net_dhcp IFACE: lease an address with busybox udhcpc; prints
#   MOAT-GUEST: net lease ip=A mask=M router=R dns=D
net_dhcp() {
	cat >/tmp/udhcpc.sh <<'SCRIPT'
#!/bin/sh
case "$1" in
deconfig) ip addr flush dev "$interface"; ip link set "$interface" up ;;
bound|renew)
	ip addr add "$ip/${mask:-24}" dev "$interface"
	for r in $router; do ip route add default via "$r" dev "$interface"; break; done
	: >/etc/resolv.conf
	for d in $dns; do echo "nameserver $d" >>/etc/resolv.conf; done
	echo "ip=$ip mask=$subnet router=$router dns=$dns" >/tmp/lease ;;
esac
exit 0
SCRIPT
	chmod +x /tmp/udhcpc.sh
	ip link set "$1" up
	out=$(udhcpc -i "$1" -s /tmp/udhcpc.sh -q -n -t 5 -T 2 2>&1) || { fail "udhcpc: $(echo "$out" | tail -1)"; return 1; }
	[ -s /tmp/lease ] || { fail "udhcpc left no lease"; return 1; }
	say "net lease $(cat /tmp/lease)"
}

# net_get URL [SECONDS]: wget it into /tmp/fetched, within SECONDS (default
# 30). (Not wget -T: it crashes Debian's busybox 1.35.)
net_get() {
	rm -f /tmp/fetched
	timeout "${2:-30}" wget -q -O /tmp/fetched "$1" 2>&1
}

# net_fetch URL: wget it; prints MOAT-GUEST: net fetched SHA256
net_fetch() {
	out=$(net_get "$1") || { fail "wget $1: $out"; return 1; }
	say "net fetched $(sha256sum </tmp/fetched | cut -d' ' -f1)"
}

# net_serve: httpd on port 80 serving /www (index.html says the token, big
# is 2 MiB of random data: MOAT-GUEST: net big SHA256),
# and udp-echo on UDP 7777 in the background, which prints
#   MOAT-GUEST: net udp got TEXT
# when a datagram comes. Then MOAT-GUEST: net serving.
net_serve() {
	mkdir -p /www
	echo "moat-guest-httpd ${GUEST_TOKEN:-none}" >/www/index.html
	# 2 MiB of random data for the host to fetch: big segments from the
	# guest (TSO through a tap), checked end to end by the host
	dd if=/dev/urandom of=/www/big bs=64k count=32 2>/dev/null
	say "net big $(sha256sum </www/big | cut -d' ' -f1)"
	httpd -p 80 -h /www || { fail "httpd did not start"; return 1; }
	(got=$(udp-echo 7777 300) && say "net udp got $got") &
	say "net serving"
}

# net_wait_host: the host ends the test with a line on the console
net_wait_host() {
	read -r -t 600 line || { fail "no word from the host on the console"; return 1; }
	say "net host said $line"
}
