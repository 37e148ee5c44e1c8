/* A freestanding PVH test guest for moat's own tests: entered in 32-bit
 * protected mode with EBX = hvm_start_info, it picks an action from the
 * first letter of its command line:
 *   h  print "TINY: hello" on COM1, reset through the i8042
 *   e  echo COM1 input back until a '.' arrives, then reset
 *   w  print "TINY: waiting", then halt with interrupts off (runs until
 *      the monitor stops it)
 *   t  write 0x7a to the POST port (0x80), then triple fault (an
 *      exception with an empty IDT): the port write is the last exit
 *      moat-vcpu's report of the fault must show
 *   l  watch the SMC (port 0x304): print "TINY: smc present" or "TINY: smc
 *      absent" each time reading it changes between a value and all ones;
 *      runs until stopped
 *   a  100000 reads of the UART's LSR (handled inside moat-vcpu), then reset
 *   b  100000 reads of the SMC status port (forwarded to moat-smc), then reset
 *   d  the display (moat run --vnc, the only PCI device, so at slot 2):
 *      draw four quadrants (red, green / blue, white) into the video
 *      memory at the 1024x768x32 mode a direct boot finds, print "TINY:
 *      drawn", then obey COM1: 'm' sets 800x600x32 through the DISPI
 *      registers and draws again ("TINY: mode 800x600"), 'x' writes 20000
 *      pseudo-random words all over the registers ("TINY: hostile done"),
 *      '.' resets
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
	cmpb	$'d', %al
	je	display
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
	movb	$0x7a, %al
	outb	%al, $0x80
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

/* The display: video memory at MOAT_VRAM_GPA, bochs-display's registers
 * at slot 2's window (BAR2), DISPI at BAR2 + 0x500, 16 bits a register. */
	.set	VRAM, 0xe0000000
	.set	BAR2, 0xc0200000
	.set	DISPI, BAR2 + 0x500
display:
	movl	$1024, %ebx
	movl	$768, %ebp
	call	draw
	movl	$msg_drawn, %esi
	call	puts
10:	call	getc
	cmpb	$'m', %al
	je	11f
	cmpb	$'x', %al
	je	12f
	cmpb	$'.', %al
	je	reset
	jmp	10b
11:	movl	$DISPI, %edi
	movw	$0, 8(%edi)		/* ENABLE (index 4): off */
	movw	$800, 2(%edi)		/* XRES */
	movw	$600, 4(%edi)		/* YRES */
	movw	$32, 6(%edi)		/* BPP */
	movw	$800, 12(%edi)		/* VIRT_WIDTH (6) */
	movw	$0, 16(%edi)		/* X_OFFSET (8) */
	movw	$0, 18(%edi)		/* Y_OFFSET (9) */
	movw	$0x41, 8(%edi)		/* ENABLED | LFB_ENABLED */
	movl	$800, %ebx
	movl	$600, %ebp
	call	draw
	movl	$msg_mode, %esi
	call	puts
	jmp	10b
12:	movl	$0x12345678, %eax
	movl	$20000, %ecx
13:	imull	$1103515245, %eax, %eax
	addl	$12345, %eax
	movl	%eax, %edx
	shrl	$16, %edx
	andl	$0xffe, %edx		/* an even offset in BAR2 */
	movw	%ax, BAR2(%edx)
	decl	%ecx
	jnz	13b
	movl	$msg_hostile, %esi
	call	puts
	jmp	10b

/* Quadrants of an EBX x EBP picture at VRAM, lines 4 * EBX bytes apart. */
draw:
	movl	$VRAM, %edi
	movl	%ebp, %esi
	shrl	$1, %esi		/* the bottom half starts here */
	xorl	%edx, %edx		/* line */
14:	movl	%ebx, %ecx
	shrl	$1, %ecx
	movl	$0x00ff0000, %eax	/* red */
	cmpl	%esi, %edx
	jb	15f
	movl	$0x000000ff, %eax	/* blue */
15:	rep stosl
	movl	%ebx, %ecx
	shrl	$1, %ecx
	movl	$0x0000ff00, %eax	/* green */
	cmpl	%esi, %edx
	jb	16f
	movl	$0x00ffffff, %eax	/* white */
16:	rep stosl
	incl	%edx
	cmpl	%ebp, %edx
	jb	14b
	ret

/* One byte from COM1 into AL, waiting for it. */
getc:
	movw	$0x3fd, %dx
17:	inb	%dx, %al
	testb	$1, %al
	jz	17b
	movw	$0x3f8, %dx
	inb	%dx, %al
	ret

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
msg_drawn:	.asciz "TINY: drawn\n"
msg_mode:	.asciz "TINY: mode 800x600\n"
msg_hostile:	.asciz "TINY: hostile done\n"
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
