/* bench/startup's guest for kvmtool, which has no PVH entry: a flat
 * real-mode binary (kvmtool loads it at 1000:0000 and enters it there)
 * doing what tiny.elf's 'h' does: "TINY: hello" on COM1, then a reset
 * through the i8042, which ends kvmtool's VM as it ends moat's and QEMU's.
 * Built by bench/startup with gcc and objcopy. */
	.code16
	.text
	.globl	_start
_start:
	cli
	movw	$0x3f8, %dx
	.irp	c, 'T', 'I', 'N', 'Y', ':', ' ', 'h', 'e', 'l', 'l', 'o', '\n'
	movb	$\c, %al
	outb	%al, %dx
	.endr
	movb	$0xfe, %al
	outb	%al, $0x64
1:	hlt
	jmp	1b
