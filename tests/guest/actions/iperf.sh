# shellcheck shell=sh disable=SC2034 # sourced by /init (tests/guest/init)
# guest.action=iperf — the network benchmark of bench/net (needs an
# initramfs built with --add-bin /usr/bin/iperf3; bench/net makes one). The
# card gets a DHCP lease (user networking), or guest.ip=A.B.C.D/NN (tap);
# then iperf3 runs against the server guest.server=ADDR (default 10.0.2.2)
# for guest.secs=N seconds (default 5) each way. Prints
#   MOAT-GUEST: iperf send MBITS      guest to host, as the receiver saw it
#   MOAT-GUEST: iperf recv MBITS      host to guest (iperf3 -R)
# shellcheck source=net-lib.sh source-path=SCRIPTDIR
. /actions/net-lib.sh
modules_iperf="virtio_pci virtio_net"

# iperf_mbits ARGS...: the receiver's Mbits/sec of one iperf3 run
iperf_mbits() {
	out=$(iperf3 -c "$server" -t "$secs" -f m "$@" 2>&1) || { fail "iperf3 $*: $(echo "$out" | tail -1)"; return 1; }
	echo "$out" | awk '/receiver/ { for (i = 1; i < NF; i++) if ($(i + 1) == "Mbits/sec") v = $i } END { print v }'
}

action_iperf() {
	secs=${GUEST_SECS:-5} server=${GUEST_SERVER:-10.0.2.2}
	command -v iperf3 >/dev/null || { fail "no iperf3 in this initramfs"; return; }
	ifc=$(net_iface) || return
	if [ -n "${GUEST_IP:-}" ]; then
		ip link set "$ifc" up && ip addr add "$GUEST_IP" dev "$ifc" || { fail "cannot set $GUEST_IP"; return; }
	else
		net_dhcp "$ifc" || return
	fi
	v=$(iperf_mbits) || return
	say "iperf send $v"
	v=$(iperf_mbits -R) || return
	say "iperf recv $v"
}
