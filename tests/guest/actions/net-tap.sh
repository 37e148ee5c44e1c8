# shellcheck shell=sh disable=SC2034 # sourced by /init (tests/guest/init)
# guest.action=net-tap — a tap network: a static address, a file fetched
# from the host's side of the tap, then servers for the host until it
# writes a line on the console. Parameters:
#   guest.ip=A.B.C.D/NN  the guest's address
#   guest.url=URL        fetched with wget
#   guest.token=WORD     in the guest httpd's index.html
# shellcheck source=net-lib.sh source-path=SCRIPTDIR
. /actions/net-lib.sh
modules_net_tap="virtio_pci virtio_net"

action_net_tap() {
	ifc=$(net_iface) || return
	ip link set "$ifc" up && ip addr add "$GUEST_IP" dev "$ifc" || { fail "cannot set $GUEST_IP on $ifc"; return 1; }
	say "net address $GUEST_IP on $ifc ($(cat "/sys/class/net/$ifc/address"))"
	net_fetch "$GUEST_URL" || return
	net_serve || return
	net_wait_host
}
