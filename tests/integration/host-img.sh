#!/usr/bin/env bash
# Disk image formats as the monitor sees them, without KVM: `moat img
# info`, format probing and backing chains (monitor/image_chain.h). The
# images come from qemu-img; moat-blk reads them in its sandbox (`moat-blk
# probe`), and the monitor follows a chain only by the rules of
# image_chain.h. Every refusal is one line and exit 2, for `moat img info`
# and for `moat run --disk` alike (before /dev/kvm is opened), and no image
# is changed by being looked at. Needs root (the probe's sandbox) and
# qemu-img. Usage: host-img.sh MOAT TINY_ELF
MOAT=$(realpath "$1")
TINY=$(realpath "$2")
. "$(dirname "$0")/lib.sh"

need_root "the probe runs sandboxed"
if ! command -v qemu-img >/dev/null; then
	echo "1..0 # SKIP no qemu-img (Debian's qemu-utils)"
	exit 77
fi
T=$T_TMP
cd "$T" || exit 1
q() { qemu-img "$@" >/dev/null; }

truncate -s 16M base.raw
q create -f qcow2 -b base.raw -F raw top.qcow2
q create -f qcow2 -b top.qcow2 -F qcow2 top2.qcow2
q create -f qcow2 plain.qcow2 32M
q convert -O vmdk base.raw disk.vmdk
sums=$(sha256sum base.raw top.qcow2 top2.qcow2 plain.qcow2)

# info: the chain, top first, with qemu-img's own figures
out=$("$MOAT" img info top2.qcow2 2>&1)
st=$?
check "img info of a two-deep chain exits 0 (got $st)" [ $st = 0 ]
check "img info names the three images in order" \
	[ "$(grep '^image:' <<<"$out" | tr '\n' ' ')" = "image: top2.qcow2 image: top.qcow2 image: base.raw " ]
check "img info gives each format" \
	[ "$(grep '^file format:' <<<"$out" | tr '\n' ' ')" = "file format: qcow2 file format: qcow2 file format: raw " ]
"$MOAT" img info --json top2.qcow2 >info.json
qemu-img info --output=json --backing-chain top2.qcow2 >qinfo.json
check "img info --json agrees with qemu-img on every image's format and virtual size" \
	python3 - info.json qinfo.json <<'PY'
import json, sys
a = json.load(open(sys.argv[1])); b = json.load(open(sys.argv[2]))
assert len(a) == len(b) == 3, (len(a), len(b))
for x, y in zip(a, b):
    assert x["format"] == y["format"], (x, y)
    assert x["virtual-size"] == y["virtual-size"], (x, y)
    assert x.get("backing-filename") == y.get("backing-filename"), (x, y)
PY
for f in base.raw:raw plain.qcow2:qcow2 disk.vmdk:vmdk; do
	check "the probe finds ${f#*:} in ${f%%:*}" \
		grep -q "^file format: ${f#*:}$" <<<"$("$MOAT" img info "${f%%:*}")"
done
check "--format qcow2 on a raw file is refused (exit 2)" \
	bash -c "'$MOAT' img info --format qcow2 base.raw; [ \$? = 2 ]"

# refused IMAGE PATTERN: img info and moat run both exit 2 with one line
refused() {
	local img=$1 pat=$2 out st
	out=$("$MOAT" img info "$img" 2>&1)
	st=$?
	check "img info $img: exit 2 (got $st)" [ $st = 2 ]
	check "img info $img: one line matching '$pat' ($out)" \
		bash -c '[ "$(wc -l <<<"$1")" = 1 ] && grep -q -- "$2" <<<"$1"' _ "$out" "$pat"
	out=$(timeout 20 "$MOAT" run --kernel "$TINY" --mem 64M --serial none --disk "path=$img" 2>&1)
	st=$?
	check "run --disk $img: exit 2 (got $st)" [ $st = 2 ]
	check "run --disk $img: the same reason" grep -q -- "$pat" <<<"$out"
}
# a loop: a over b over a
q create -f qcow2 -b base.raw -F raw la.qcow2
q create -f qcow2 -b la.qcow2 -F qcow2 lb.qcow2
q rebase -u -b lb.qcow2 -F qcow2 la.qcow2
refused lb.qcow2 "a loop"
# outside the image's directory, even through a symlink
mkdir sub
q create -f qcow2 -b ../base.raw -F raw sub/up.qcow2
refused sub/up.qcow2 "outside"
q create -f qcow2 -b /etc/passwd -F raw -u passwd.qcow2 16M
refused passwd.qcow2 "outside"
ln -s /etc/passwd shadowlink
q create -f qcow2 -b shadowlink -F raw -u link.qcow2 16M
refused link.qcow2 "outside"
# not a regular file
mkfifo fifo
q create -f qcow2 -b fifo -F raw -u fifo.qcow2 16M
refused fifo.qcow2 "a FIFO"
ln -s /dev/zero zero
q create -f qcow2 -b zero -F raw -u dev.qcow2 16M
refused dev.qcow2 "a character device"
q create -f qcow2 -b missing.raw -F raw -u missing.qcow2 16M
refused missing.qcow2 "missing.raw"
# a base whose format is not recorded must probe as raw (qemu-img will
# not make such an image any more: its backing format extension is renamed
# to one nobody knows, which readers skip)
q create -f qcow2 -b plain.qcow2 -F qcow2 unrec.qcow2
python3 - unrec.qcow2 <<'PY'
import struct, sys
f = open(sys.argv[1], "r+b"); h = f.read(4096)
off = struct.unpack(">I", h[100:104])[0]  # v3 header_length: the extensions follow
while True:
    magic, ln = struct.unpack(">II", h[off:off + 8])
    if magic == 0:
        sys.exit("no backing format extension")
    if magic == 0xE2792ACA:
        f.seek(off); f.write(struct.pack(">I", 0x6D6F6174)); break
    off += 8 + (ln + 7) // 8 * 8
PY
refused unrec.qcow2 "not recorded"
# deeper than 16
prev=base.raw
pf=raw
for i in $(seq 1 17); do
	q create -f qcow2 -b "$prev" -F $pf "d$i.qcow2"
	prev=d$i.qcow2
	pf=qcow2
done
check "a chain 16 deep is followed" "$MOAT" img info d16.qcow2
refused d17.qcow2 "deeper than 16"
# a hostile header: one line from moat-blk, exit 2
cp plain.qcow2 hostile.qcow2
printf '\377\377\377\377' | dd of=hostile.qcow2 bs=1 seek=20 conv=notrunc 2>/dev/null # cluster_bits
refused hostile.qcow2 "qcow2:"
# vmdk descriptor files: their extent files are opened by the monitor
q convert -O vmdk -o subformat=monolithicFlat base.raw flat.vmdk
q convert -O vmdk -o subformat=twoGbMaxExtentSparse base.raw sparse.vmdk
out=$("$MOAT" img info flat.vmdk 2>&1)
check "img info of a monolithicFlat vmdk names its extent file ($out)" \
	grep -q "^extent file 1: flat-flat.vmdk " <<<"$out"
out=$("$MOAT" img info --json sparse.vmdk 2>&1)
check "img info --json of a twoGbMaxExtentSparse vmdk: its size and extent" python3 -c '
import json, sys
a = json.loads(sys.argv[1])[0]
assert a["format"] == "vmdk" and a["virtual-size"] == 16 << 20, a
assert [e["filename"] for e in a["extents"]] == ["sparse-s001.vmdk"], a' "$out"
sed 's|"flat-flat.vmdk"|"/etc/passwd"|' flat.vmdk >evil.vmdk
refused evil.vmdk "extent file /etc/passwd .* is outside"
sed 's|"flat-flat.vmdk"|"fifo"|' flat.vmdk >evilfifo.vmdk
refused evilfifo.vmdk "extent file fifo is a FIFO"
q create -f qcow2 -b flat.vmdk -F vmdk overdesc.qcow2
refused overdesc.qcow2 "is a vmdk descriptor file"
check "run --disk flat.vmdk without ro is refused (vmdk is read-only)" bash -c '
	out=$(timeout 20 "$1" run --kernel "$2" --mem 64M --serial none --disk path=flat.vmdk 2>&1)
	[ $? = 2 ] && grep -q "add ro" <<<"$out"' _ "$MOAT" "$TINY"

# what was looked at is unchanged
check "no image was changed by being looked at" \
	bash -c '[ "$(sha256sum base.raw top.qcow2 top2.qcow2 plain.qcow2)" = "$1" ]' _ "$sums"
finish
