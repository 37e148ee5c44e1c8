/* A freestanding PVH test guest for moat's own tests: entered in 32-bit
 * protected mode with EBX = hvm_start_info, it picks an action from the
 * first letter of its command line:
 *   h  print "TINY: hello" on COM1, reset through the i8042
 *   e  echo COM1 input back until a '.' arrives, then reset
 *   w  print "TINY: waiting", then halt with interrupts off (runs until
 *      the monitor stops it)
 *   t  triple fault (an exception with an empty IDT)
 *   l  watch the SMC (port 0x304): print "TINY: smc present" or "TINY: smc
 *      absent" each time reading it changes between a value and all ones;
 *      runs until stopped
 *   a  100000 reads of the UART's LSR (handled inside moat-vcpu), then reset
 *   b  100000 reads of the SMC status port (forwarded to moat-smc), then reset
 * Any other letter prints "TINY: unknown" and resets. */
	.code32
	.section .text
	.globl _start
_start:
	cli
	movl	$stack_top, %esp	/* PVH gives no stack */
	movl	0x18(%ebx), %esi	/* hvm_start_info.cmdline_paddr */
	movb	(%esi), %al
	cmpb	$'h', %al
	je	hello
	cmpb	$'e', %al
	je	echo
	cmpb	$'w', %al
	je	wait
	cmpb	$'t', %al
	je	triple
	cmpb	$'l', %al
	je	watch_smc
	cmpb	$'a', %al
	je	bench_local
	cmpb	$'b', %al
	je	bench_remote
	movl	$msg_unknown, %esi
	call	puts
	jmp	reset

hello:
	movl	$msg_hello, %esi
	call	puts
	jmp	reset

echo:
	movl	$msg_echo, %esi
	call	puts
1:	movw	$0x3fd, %dx		/* LSR: wait for data ready */
	inb	%dx, %al
	testb	$1, %al
	jz	1b
	movw	$0x3f8, %dx
	inb	%dx, %al
	outb	%al, %dx
	cmpb	$'.', %al
	jne	1b
	jmp	reset

wait:
	movl	$msg_wait, %esi
	call	puts
2:	hlt
	jmp	2b

triple:
	lidt	idt_empty
	movl	$0, %eax
	movl	%eax, %ds
	ljmp	$0x78, $0		/* selector beyond the GDT: #GP, #DF, shutdown */

watch_smc:
	movb	$0x55, %bl		/* last state: neither present nor absent */
6:	movw	$0x304, %dx
	inb	%dx, %al
	cmpb	$0xff, %al
	sete	%al			/* 1: absent */
	cmpb	%al, %bl
	je	6b
	movb	%al, %bl
	movl	$msg_present, %esi
	testb	%al, %al
	jz	7f
	movl	$msg_absent, %esi
7:	call	puts
	jmp	6b

bench_local:
	movw	$0x3fd, %dx
	jmp	8f
bench_remote:
	movw	$0x304, %dx
8:	movl	$100000, %ecx
9:	inb	%dx, %al
	decl	%ecx
	jnz	9b
	movl	$msg_done, %esi
	call	puts
	jmp	reset

reset:
	movb	$0xfe, %al
	outb	%al, $0x64
3:	hlt
	jmp	3b

/* Print the NUL-terminated string at ESI on COM1. */
puts:
	movw	$0x3f8, %dx
4:	lodsb
	testb	%al, %al
	jz	5f
	outb	%al, %dx
	jmp	4b
5:	ret

	.section .data
msg_hello:	.asciz "TINY: hello\n"
msg_echo:	.asciz "TINY: echo\n"
msg_wait:	.asciz "TINY: waiting\n"
msg_unknown:	.asciz "TINY: unknown\n"
msg_present:	.asciz "TINY: smc present\n"
msg_absent:	.asciz "TINY: smc absent\n"
msg_done:	.asciz "TINY: done\n"
	.balign 16
stack:		.fill 256, 1, 0
stack_top:
	.balign 8
idt_empty:	.word 0
		.long 0

/* The PVH entry note Linux's vmlinux carries too. */
	.section .note.Xen, "a", @note
	.balign 4
	.long	4			/* namesz */
	.long	4			/* descsz */
	.long	18			/* XEN_ELFNOTE_PHYS32_ENTRY */
	.asciz	"Xen"
	.long	_start
	.balign 4
