# shellcheck shell=sh disable=SC2034 # sourced by /init (tests/guest/init)
# guest.action=net-user — moat's user networking (libslirp) from inside:
# DHCP, ping of the gateway, a file fetched from the host, a name resolved
# through slirp's DNS proxy, then servers for the host's forwards until the
# host writes a line on the console. Parameters:
#   guest.url=URL        fetched with wget (the host's 127.0.0.1 is 10.0.2.2)
#   guest.name=NAME      resolved through 10.0.2.3 (none: skipped)
#   guest.isolated=1     restrict=on: serve first, then the fetch must fail
#                        (while one from the guest's own httpd works)
#   guest.token=WORD     in the guest httpd's index.html
# Prints (besides net_dhcp's and net_serve's lines)
#   MOAT-GUEST: net ping 10.0.2.2 ok
#   MOAT-GUEST: net fetched SHA256 | net isolated
#   MOAT-GUEST: net dns NAME ADDRESS
# shellcheck source=net-lib.sh source-path=SCRIPTDIR
. /actions/net-lib.sh
modules_net_user="virtio_pci virtio_net"

action_net_user() {
	ifc=$(net_iface) || return
	net_dhcp "$ifc" || return
	if [ "${GUEST_ISOLATED:-0}" = 1 ]; then
		net_serve || return
		# wget works (on our own server, through our own address) ...
		out=$(net_get http://10.0.2.15/) || { fail "wget of our own httpd: $out"; return 1; }
		# ... but not to the host (slirp drops the SYN: give up after 8 s)
		if net_get "$GUEST_URL" 8 >/dev/null; then
			fail "restrict=on, yet the guest fetched $GUEST_URL"
			return 1
		fi
		say "net isolated"
		net_wait_host
		return
	fi
	ping -c 1 -W 5 10.0.2.2 >/dev/null 2>&1 || { fail "no answer to ping 10.0.2.2"; return 1; }
	say "net ping 10.0.2.2 ok"
	net_fetch "$GUEST_URL" || return
	if [ -n "${GUEST_NAME:-}" ]; then
		a=$(nslookup "$GUEST_NAME" 10.0.2.3 2>&1 | awk '/^Name:/ { n = 1 } n && /^Address/ { print $NF; exit }')
		[ -n "$a" ] || { fail "nslookup $GUEST_NAME through 10.0.2.3 found nothing"; return 1; }
		say "net dns $GUEST_NAME $a"
	fi
	net_serve || return
	net_wait_host
}
