# Shared helpers of the bench/ scripts (bash). Benchmarks print figures and
# ratios; they never fail on a timing.

now_ns() { date +%s%N; }

# vmm_rss_kb PID... : resident memory of these processes in kB, less the
# resident pages of the guest-RAM mapping (moat's memfd, or QEMU's anonymous
# mapping of exactly GUEST_MEM_KB), so what remains is the VMM's own cost.
vmm_rss_kb() {
	local total=0 pid kb
	for pid in "$@"; do
		kb=$(awk -v guest_kb="${GUEST_MEM_KB:-0}" '
			/^[0-9a-f]+-[0-9a-f]+ / { guest = ($0 ~ /moat-guest-ram/); next }
			/^Size:/ { size = $2; if (guest_kb && size >= guest_kb && size <= guest_kb + 8192) guest = 1; next }
			/^Rss:/ { if (guest) g += $2; else own += $2 }
			END { print own + 0 }' "/proc/$pid/smaps" 2>/dev/null) || kb=0
		total=$((total + ${kb:-0}))
	done
	echo "$total"
}

# The process and all its descendants.
proc_tree() {
	local p
	echo "$1"
	for p in $(pgrep -P "$1"); do proc_tree "$p"; done
}

# ratio A B: A/B with two decimals.
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
median() { sort -n | awk '{ v[n++] = $1 } END { if (!n) print 0; else if (n % 2) print v[(n - 1) / 2]; else printf "%.0f", (v[n / 2 - 1] + v[n / 2]) / 2 }'; }
mean() { awk '{ s += $1; n++ } END { if (n) printf "%.0f", s / n; else print 0 }'; }

# moat_local BUILD: the moat to time. Inside the KVM box the build
# directory is the box's out share (9p, cache=mmap), where each exec of a
# moat binary costs about 12 ms more than one from the host root QEMU runs
# from (9p, cache=loose) or from tmpfs (issue 14's note): there, moat and
# its children are copied into the box's /run (tmpfs), as an installed
# moat would sit on a local disk, and that copy is timed. Elsewhere, BUILD's
# own. moat finds its children beside itself either way.
moat_local() {
	local build=$1 dir f
	if [ "${MOAT_KVMBOX:-0}" != 1 ]; then
		echo "$build/monitor/moat"
		return
	fi
	dir=$(mktemp -d /run/moat-bench.XXXXXX)
	chmod 0755 "$dir" # the children's own uids exec from it
	for f in "$build"/monitor/moat "$build"/vcpu/moat-vcpu "$build"/devproc/*/moat-*; do
		[ -f "$f" ] && [ -x "$f" ] && cp "$f" "$dir/"
	done
	echo "$dir/moat"
}
