#!/usr/bin/env bash
# Firmware boot: the images of tests/firmware/build-images (MBR + SYSLINUX,
# MBR + GRUB i386-pc, GPT + ESP + GRUB-EFI) booted by SeaBIOS or OVMF from a
# virtio-blk disk, first under qemu-system-x86_64 -enable-kvm -M pc (the
# oracle: the images and the guest are right), then under moat --firmware:
# the firmware's own text on the serial console, the guest's markers (both
# CPUs, the ACPI tables DSDT/FACP/APIC, EFI only for the GPT image) and exit
# status 0 after the guest's `poweroff -f` (ACPI S5). Also a directly booted
# kernel (--kernel) with 2 CPUs sees the ACPI tables and powers off, and
# firmware that moat-vcpu must refuse (truncated, not firmware) gives exit 2
# and one line. (The refusals that need no KVM are in host-files.sh.)
# Needs a KVM that runs ring-0 code at speed: real hardware, or inside
# tests/kvmbox/run.
#
# Usage: linux-firmware.sh [--part PART[,PART]...] MOAT BZIMAGE INITRD [IMGDIR]
#          run the cases here. IMGDIR: the images, default MOAT's build
#          directory/fw-images, built beforehand on the host (the box's root
#          is read-only, and forks there are slow). PART:
#            bios       QEMU and moat with SeaBIOS (the two MBR images), moat
#                       --kernel, and the firmware moat-vcpu refuses
#            uefi       QEMU and moat with OVMF (the GPT image)
#            uefi-moat  moat with OVMF only
#            uefi-tcg   QEMU with OVMF under TCG: the oracle for the GPT
#                       image where no KVM can run OVMF safely (this host)
#            all        bios and uefi (the default)
#        linux-firmware.sh --alone
#          run alone from the source tree: builds what it needs on the host
#          (scripts/build, tests/firmware/build-images), then runs every
#          case here or, when this host's KVM cannot run them, uefi-tcg here
#          and bios and uefi-moat in a KVM box each (as scripts/test does)
# Environment: MOAT_TEST_BOOT_TIMEOUT (seconds a boot, default 300).
#
# OVMF in the KVM box: the box's QEMU (TCG; 10.0.2 from bookworm-backports,
# decision 0026) sometimes aborts while a nested guest runs OVMF
# ("tcg_handle_interrupt: assertion failed: (bql_locked())": its CR8 write
# helper, helper_write_crN, calls cpu_interrupt without the lock while the
# box's KVM waits for an interrupt window); the box dies with every result
# in it. On 10.0.2: 6 of 20 boxes running only this file's uefi-moat part
# (before, on 7.2: 3 of 3 boots with QEMU/KVM as the nested VMM). So
# scripts/test runs OVMF under moat in a box of its own (retried when the
# box breaks) and checks the image with QEMU under TCG on the host. QEMU/KVM
# runs with -cpu host, as moat gives the guest the host's CPUID.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/../.." && pwd)

SEABIOS=/usr/share/seabios/bios-256k.bin
OVMF_CODE=/usr/share/OVMF/OVMF_CODE_4M.fd
OVMF_VARS=/usr/share/OVMF/OVMF_VARS_4M.fd
SEABIOS_TEXT="SeaBIOS (version"
# OVMF's boot manager, on COM1 through its serial console, as it starts the
# disk's EFI/BOOT/BOOTX64.EFI
OVMF_TEXT="BdsDxe: starting Boot"

if [ "${1:-}" = --alone ]; then
	cd "$top"
	BUILD=${MOAT_BUILD:-build}
	KERNEL=$(scripts/build)
	tests/firmware/build-images "$BUILD/fw-images" --kernel "$KERNEL" \
		--initrd "$BUILD/guest.cpio.gz" >/dev/null
	args=("$BUILD/monitor/moat" "$KERNEL" "$BUILD/guest.cpio.gz" "$BUILD/fw-images")
	self=$here/$(basename "${BASH_SOURCE[0]}")
	if tests/kvmbox/probe -q; then
		exec "$self" "${args[@]}"
	fi
	st=0
	"$self" --part uefi-tcg "${args[@]}" || st=1
	tests/kvmbox/run --timeout 480 -- "$self" --part bios "${args[@]}" || st=1
	tests/kvmbox/run --timeout 300 -- "$self" --part uefi-moat "${args[@]}" || st=1
	exit "$st"
fi
PARTS=all
if [ "${1:-}" = --part ]; then
	PARTS=${2:-}
	shift 2 || true
fi
for p in ${PARTS//,/ }; do
	case "$p" in
	bios|uefi|uefi-moat|uefi-tcg|all) ;;
	*) echo "$0: unknown part '$p' (bios, uefi, uefi-moat, uefi-tcg, all)" >&2; exit 2 ;;
	esac
done
[ -n "$PARTS" ] || { echo "$0: --part needs a value" >&2; exit 2; }
PARTS=",${PARTS//all/bios,uefi},"
part() { # part NAME...: one of these parts was asked for
	local n
	for n in "$@"; do
		case "$PARTS" in *",$n,"*) return 0 ;; esac
	done
	return 1
}
if [ $# -lt 3 ] || [ $# -gt 4 ]; then
	echo "usage: $0 [--part PART[,PART]...] MOAT BZIMAGE INITRD [IMGDIR] | --alone" >&2
	exit 2
fi
MOAT=$1
BZIMAGE=$2
INITRD=$3
IMGDIR=${4:-$(dirname "$MOAT")/../fw-images}
# shellcheck source=lib.sh source-path=SCRIPTDIR
. "$here/lib.sh"
set -euo pipefail
T=$T_TMP
BOOT_TIMEOUT=${MOAT_TEST_BOOT_TIMEOUT:-300}
POWEROFF_WAIT=30 # seconds from the guest's "poweroff" marker to the VMM's exit

for f in "$SEABIOS" "$OVMF_CODE" "$OVMF_VARS"; do
	[ -f "$f" ] || { echo "Bail out! $f is missing (scripts/deps: seabios, ovmf)"; exit 1; }
done
for n in bios-syslinux bios-grub efi-grub; do
	[ -s "$IMGDIR/$n.img" ] ||
		{ echo "Bail out! no $IMGDIR/$n.img: run tests/firmware/build-images on the host first"; exit 1; }
done
command -v qemu-system-x86_64 >/dev/null ||
	{ echo "Bail out! qemu-system-x86_64 not found (scripts/deps: qemu-system-x86)"; exit 1; }

# A sleep without a fork: a read that times out on a FIFO nobody writes.
mkfifo "$T/nap"
exec {NAP}<>"$T/nap"
nap() { read -r -t "$1" -u "$NAP" _ || true; }
now_us() { NOW=${EPOCHREALTIME/./}; }

# boot_vm NAME COMMAND...: run a VM to its end with its serial console on
# stdout ($T/NAME.out, stderr in $T/NAME.err), reading the console as it
# comes (no polling processes: they would steal the box's two CPUs from the
# guest). Sets VM_STATUS (exit status; "timeout" if it was killed),
# VM_IMAGE_MS (start to the guest's "firmware image" marker), VM_EXIT_MS
# (start to exit) and VM_POWEROFF (1 once the guest said "poweroff"). The VM
# is killed BOOT_TIMEOUT seconds after its start, or POWEROFF_WAIT seconds
# after the guest's poweroff marker.
boot_vm() {
	local name=$1 out=$T/$1.out line partial="" pid fd t0 deadline
	shift
	: >"$out"
	VM_STATUS="" VM_IMAGE_MS="" VM_EXIT_MS="" VM_POWEROFF=0
	now_us
	t0=$NOW
	deadline=$((t0 + BOOT_TIMEOUT * 1000000))
	"$@" >"$out" 2>"$T/$name.err" </dev/null &
	pid=$!
	exec {fd}<"$out"
	while :; do
		console_lines
		kill -0 "$pid" 2>/dev/null || break
		now_us
		if [ "$NOW" -gt "$deadline" ]; then
			kill -KILL "$pid" 2>/dev/null || true
			VM_STATUS=timeout
			break
		fi
		nap 0.2
	done
	if [ "$VM_STATUS" = timeout ]; then
		wait "$pid" 2>/dev/null || true
	else
		VM_STATUS=0
		wait "$pid" || VM_STATUS=$?
	fi
	now_us
	VM_EXIT_MS=$(((NOW - t0) / 1000))
	console_lines # what came between the last read and the exit
	exec {fd}<&-
}
# console_lines: boot_vm's reader (its locals fd, partial, t0, deadline):
# the complete lines written since the last call; a line's unfinished end
# waits in $partial for the rest
console_lines() {
	local line
	while :; do
		line=""
		IFS= read -r -u "$fd" line || { partial+=$line; return 0; }
		line=$partial$line
		partial=""
		case "$line" in
		*"MOAT-GUEST: firmware image "*)
			now_us
			[ -n "$VM_IMAGE_MS" ] || VM_IMAGE_MS=$(((NOW - t0) / 1000)) ;;
		*"MOAT-GUEST: poweroff"*)
			now_us
			VM_POWEROFF=1
			deadline=$((NOW + POWEROFF_WAIT * 1000000)) ;;
		esac
	done
}

# show NAME: the end of a VM's console and stderr, escapes made visible
show() {
	{
		echo "$1: status $VM_STATUS, exit after ${VM_EXIT_MS} ms; console:"
		tail -n 25 "$T/$1.out" | cat -v
		# moat's reason comes before moat-vcpu's report (its registers
		# and last exits, about 22 lines): show both
		echo "stderr:"
		tail -n 30 "$T/$1.err" | cat -v
	} | diag
}
secs() { printf '%d.%d' $(($1 / 1000)) $((($1 % 1000) / 100)); }

# check_guest NAME LABEL IMAGE EFI(yes|no) [FIRMWARE-TEXT]: the markers of
# guest action "firmware" in $T/NAME.out and the VM's end
check_guest() {
	local name=$1 label=$2 image=$3 efi=$4 text=${5:-} failed=$T_FAIL
	if [ "$VM_STATUS" = 0 ] && [ "$VM_POWEROFF" = 1 ]; then
		ok "$label: the guest powers off and the VMM exits 0 (image marker at $(secs "${VM_IMAGE_MS:-0}") s, exit at $(secs "$VM_EXIT_MS") s)"
	else
		not_ok "$label: the guest powers off and the VMM exits 0 (status $VM_STATUS, poweroff marker seen: $VM_POWEROFF)"
	fi
	if [ -n "$text" ]; then
		check "$label: the firmware's own text on the serial console ('$text')" \
			grep -qaF -- "$text" "$T/$name.out"
	fi
	check "$label: the guest booted from $image (saw '$(marker "$name" "firmware image")')" \
		[ "$(marker "$name" "firmware image")" = "$image" ]
	check "$label: the guest sees 2 CPUs (saw '$(marker "$name" cpus)')" \
		[ "$(marker "$name" cpus)" = 2 ]
	check "$label: ACPI tables DSDT FACP APIC (saw '$(marker "$name" acpi-tables)')" \
		[ "$(marker "$name" acpi-tables)" = "DSDT FACP APIC" ]
	check "$label: EFI $efi (saw '$(marker "$name" efi)')" \
		[ "$(marker "$name" efi)" = "$efi" ]
	[ "$T_FAIL" = "$failed" ] || show "$name"
}

# oracle_boot NAME: boot_vm with the oracle's command line ($QEMU); a guest
# that reset itself before its poweroff marker (QEMU, with -no-reboot,
# exits 0) is booted once more, said with its console: under nested KVM
# in the box, guests have triple-faulted now and then (issue 17), which
# says nothing of the image the oracle is there to vouch for. moat's own
# runs get no second try.
oracle_boot() {
	boot_vm "$1" "${QEMU[@]}"
	[ "$VM_STATUS" = 0 ] && [ "$VM_POWEROFF" != 1 ] || return 0
	echo "$1: the oracle's guest reset before it powered off; once more" | diag
	show "$1"
	mv "$T/$1.out" "$T/$1-reset.out"
	boot_vm "$1" "${QEMU[@]}"
}

qemu_fw() { # qemu_fw bios|uefi IMG ACCEL...: QEMU=(the oracle's command line)
	local kind=$1 img=$2
	shift 2
	QEMU=(qemu-system-x86_64 "$@" -M "pc,graphics=off" -nodefaults
		-no-user-config -display none -serial stdio -no-reboot -m 512M -smp 2)
	if [ "$kind" = bios ]; then
		QEMU+=(-bios "$SEABIOS")
	else
		cp "$OVMF_VARS" "$T/qemu-vars.fd"
		QEMU+=(-drive "if=pflash,format=raw,unit=0,readonly=on,file=$OVMF_CODE"
			-drive "if=pflash,format=raw,unit=1,file=$T/qemu-vars.fd")
	fi
	QEMU+=(-drive "file=$img,format=raw,if=virtio,readonly=on")
}

# ---- QEMU -M pc (the oracle), then moat --firmware ---------------------------
# name firmware image efi firmware-text
CASES=""
part bios && CASES+="bios-syslinux bios bios-syslinux no $SEABIOS_TEXT
bios-grub bios bios-grub no $SEABIOS_TEXT
"
part uefi uefi-moat uefi-tcg && CASES+="efi-grub uefi efi-grub yes $OVMF_TEXT
"
fwname() { if [ "$1" = bios ]; then echo SeaBIOS; else echo OVMF; fi; }
times=""

while read -r name fw image efi text; do
	[ -n "$name" ] || continue
	if [ "$fw" = uefi ] && part uefi-tcg; then
		qemu_fw uefi "$IMGDIR/$image.img" -accel tcg
		oracle_boot "qemu-tcg-$name"
		check_guest "qemu-tcg-$name" "qemu -M pc under TCG, OVMF, $image.img" "$image" "$efi" "$text"
		times+="# qemu/TCG $image: image marker $(secs "${VM_IMAGE_MS:-0}") s, exit $(secs "$VM_EXIT_MS") s"$'\n'
	fi
	if [ "$fw" = bios ] || part uefi; then
		qemu_fw "$fw" "$IMGDIR/$image.img" -enable-kvm -cpu host
		oracle_boot "qemu-$name"
		check_guest "qemu-$name" "qemu -M pc, $(fwname "$fw"), $image.img" "$image" "$efi" "$text"
		times+="# qemu/KVM $image: image marker $(secs "${VM_IMAGE_MS:-0}") s, exit $(secs "$VM_EXIT_MS") s"$'\n'
	fi
done <<<"$CASES"

while read -r name fw image efi text; do
	[ -n "$name" ] || continue
	[ "$fw" = bios ] || part uefi uefi-moat || continue
	firmware=$SEABIOS
	[ "$fw" = bios ] || firmware=$OVMF_CODE
	boot_vm "moat-$name" "$MOAT" run --firmware "$firmware" --disk "path=$IMGDIR/$image.img,ro" \
		--cpus 2 --mem 512M --serial stdio
	check_guest "moat-$name" "moat --firmware $(fwname "$fw"), $image.img" "$image" "$efi" "$text"
	times+="# moat $image: image marker $(secs "${VM_IMAGE_MS:-0}") s, exit $(secs "$VM_EXIT_MS") s"$'\n'
done <<<"$CASES"

if ! part bios; then
	printf '%s' "$times"
	finish
	exit
fi

# ---- moat --kernel: the same tables for a directly booted kernel ------------
boot_vm moat-direct "$MOAT" run --kernel "$BZIMAGE" --initrd "$INITRD" --cpus 2 --mem 512M \
	--cmdline "console=ttyS0 reboot=k panic=-1 quiet guest.action=firmware guest.image=direct-kernel"
check_guest moat-direct "moat --kernel, 2 CPUs" direct-kernel no
times+="# moat --kernel: image marker $(secs "${VM_IMAGE_MS:-0}") s, exit $(secs "$VM_EXIT_MS") s"$'\n'

# ---- firmware moat-vcpu refuses (its image check runs where KVM is) ---------
# refused_fw NAME FIRMWARE-ARG: exit 2 within 10 s, one line on stderr that
# names the firmware
truncate -s 1M "$T/disk.img"
refused_fw() {
	local name=$1 st=0
	timeout 10 "$MOAT" run --firmware "$2" --disk "path=$T/disk.img" \
		>"$T/$name.out" 2>"$T/$name.err" </dev/null || st=$?
	if [ "$st" = 2 ] && [ "$(wc -l <"$T/$name.err")" = 1 ] && grep -qi firmware "$T/$name.err"; then
		return 0
	fi
	echo "# $name: exit $st" >&2
	diag <"$T/$name.err"
	return 1
}
head -c 128K "$SEABIOS" >"$T/seabios-half.bin"
check "SeaBIOS cut to its first 128 KiB is refused" refused_fw bios-trunc "$T/seabios-half.bin"
head -c 2M "$OVMF_CODE" >"$T/ovmf-half.fd"
check "OVMF cut to its first 2 MiB is refused" refused_fw ovmf-trunc "$T/ovmf-half.fd,vars=$OVMF_VARS"
head -c 256K /dev/zero >"$T/zeros.bin"
check "256 KiB of zeros (no reset vector, no volume) is refused" refused_fw zeros "$T/zeros.bin"
check "a kernel given as firmware is refused" refused_fw kernel-as-fw "$BZIMAGE"

printf '%s' "$times"
finish
