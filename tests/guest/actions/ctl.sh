# shellcheck shell=sh disable=SC2034 # sourced by /init (tests/guest/init)
# guest.action=ctl — a guest for moat ctl's tests (tests/integration/
# linux-ctl.sh): a DHCP lease and an httpd on port 80 (for forwards added
# at run time), a listener for the ACPI power button (moat ctl shutdown:
# it powers off), and once a second, until the host writes "done" on the
# console, a line with what the guest sees:
#   MOAT-GUEST: ctl tick N up=UPTIME vda=MARKER size=SECTORS
# MARKER is the first 16 bytes of /dev/vda (letters, digits and '-'),
# read past the page cache, so a disk swapped under the guest shows its new
# contents and its new size; "none" when nothing could be read. Parameters:
#   guest.token=WORD    in the httpd's index.html
. /actions/net-lib.sh
modules_ctl="virtio_pci virtio_blk virtio_net button evdev"

ctl_power_button() {
	for d in /sys/class/input/event*; do
		[ "$(cat "$d/device/name" 2>/dev/null)" = "Power Button" ] || continue
		head -c 24 "/dev/input/${d##*/}" >/dev/null || return
		say "ctl power-button pressed"
		sync
		poweroff -f
	done
}

ctl_marker() {
	blockdev --flushbufs /dev/vda 2>/dev/null
	m=$(dd if=/dev/vda bs=4096 count=1 iflag=direct 2>/dev/null | head -c 16 | tr -cd 'A-Za-z0-9-')
	echo "${m:-none}"
}

action_ctl() {
	ifc=$(net_iface) || return
	net_dhcp "$ifc" || return
	mkdir -p /www
	echo "moat-ctl-httpd ${GUEST_TOKEN:-none}" >/www/index.html
	httpd -p 80 -h /www || { fail "httpd did not start"; return 1; }
	ctl_power_button &
	say "ctl ready"
	n=0
	while :; do
		say "ctl tick $n up=$(cut -d' ' -f1 /proc/uptime) vda=$(ctl_marker) size=$(cat /sys/block/vda/size)"
		n=$((n + 1))
		if read -r -t 1 line; then
			[ "$line" = done ] && return 0
		fi
	done
}
