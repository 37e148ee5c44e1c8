/* The help texts. Kept apart from parsing so they read as a page. */
#include <stdio.h>

#include "options.h"
#include "usage.h"
#include "guest_layout.h"

void mon_usage(FILE *f)
{
	fputs("Usage: moat COMMAND [OPTIONS]\n"
	      "\n"
	      "moat runs virtual machines whose images nobody trusts, on Linux KVM. A\n"
	      "privileged monitor opens the host resources and hands each to a sandboxed\n"
	      "process: the vCPUs run in moat-vcpu, confined by namespaces, an empty root,\n"
	      "no capabilities, an unprivileged uid and a seccomp filter.\n"
	      "\n"
	      "Commands:\n"
	      "  run        boot a guest kernel (see moat run --help)\n"
	      "  help       show this text\n"
	      "  version    show the version\n",
	      f);
}

void mon_usage_run(FILE *f)
{
	fprintf(f,
		"Usage: moat run --kernel PATH [OPTIONS]\n"
		"\n"
		"Boot a Linux kernel directly, with its console on a serial port.\n"
		"\n"
		"Options:\n"
		"  --kernel PATH       the guest kernel: a bzImage (e.g. /boot/vmlinuz-*), or an\n"
		"                      uncompressed vmlinux with a PVH entry note, which boots\n"
		"                      faster because no decompressor runs (the format is\n"
		"                      detected; scripts/extract-vmlinux makes one)\n"
		"  --initrd PATH       an initramfs; gzip and plain cpio archives are checked\n"
		"                      for truncation before boot\n"
		"  --cmdline STRING    the kernel command line (default: \"%s\")\n"
		"  --mem SIZE          guest RAM, e.g. 512M, 4G; a bare number is MiB\n"
		"                      (default 512M, at least %llu MiB, at most the host's RAM).\n"
		"                      RAM above 3 GiB is placed above 4 GiB, past the PCI hole\n"
		"  --cpus N            vCPUs, 1 to %d (default 1)\n"
		"  --serial MODE       where the guest's COM1 goes (default stdio):\n"
		"                        stdio      this terminal; input typed here reaches the\n"
		"                                   guest. On a terminal, Ctrl-A x quits and\n"
		"                                   Ctrl-A Ctrl-A sends Ctrl-A\n"
		"                        file:PATH  appended to PATH (created mode 0600)\n"
		"                        none       discarded\n"
		"  --smc osk-file=PATH an Apple SMC (ports 0x300-0x31F, as Mac OS X guests need)\n"
		"  --smc osk=STRING    in its own sandboxed process, moat-smc, which alone holds\n"
		"                      the 64-byte OSK. osk-file= names a file holding it (a\n"
		"                      trailing newline is allowed); osk= is wiped from moat's\n"
		"                      command line at once but was briefly visible to other\n"
		"                      users. With --smc the DMI identity defaults to an Apple\n"
		"                      machine, which Linux's applesmc driver requires\n"
		"  --smbios type=N,FIELD=VALUE,...\n"
		"                      set DMI strings, as QEMU's -smbios (repeatable):\n"
		"                        type=0: vendor, version, date\n"
		"                        type=1: manufacturer, product, version, serial, uuid,\n"
		"                                sku, family\n"
		"                        type=2: manufacturer, product, version, serial, asset\n"
		"                        type=3: manufacturer, version, serial, asset, sku\n"
		"                      \",,\" stands for a comma inside a value\n"
		"  --audit PATH        append the audit trail to PATH (mode 0600): each child's\n"
		"                      start, sandbox (uid, capabilities, seccomp, syscalls\n"
		"                      allowed), death (signal, and the system call of a\n"
		"                      seccomp kill) and the end of the VM\n"
		"  -v, --verbose       log what moat does, including each child's sandbox\n"
		"  -h, --help          show this text\n"
		"\n"
		"Exit status:\n"
		"  0  the guest rebooted or powered off, or moat was stopped by SIGTERM,\n"
		"     SIGINT or Ctrl-A x\n"
		"  1  the guest crashed (triple fault, KVM internal error: the vCPU registers\n"
		"     are printed) or moat itself failed\n"
		"  2  bad input: an option, a missing or unreadable file, a kernel that is\n"
		"     not bootable, a damaged initrd, no usable /dev/kvm\n"
		"\n"
		"Example:\n"
		"  moat run --kernel /boot/vmlinuz-$(uname -r) --initrd guest.cpio.gz \\\n"
		"           --cmdline \"console=ttyS0 reboot=k\" --mem 512M --cpus 2\n",
		MON_DEFAULT_CMDLINE, MOAT_MEM_MIN >> 20, MON_MAX_CPUS);
}
