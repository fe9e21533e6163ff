// realrun_call for the System V AMD64 ABI (GNU as). Loads the sentinels of realrun_frame.in into RBX
// RBP R12-R15, the x87 control word and MXCSR, calls realrun_frame.target with the first four
// arguments in RDI RSI RDX RCX, and stores what those registers and RSP hold after the call into
// realrun_frame.out. Its own callee-saved state and stack pointer it keeps aside, so it returns to C
// even when the entry point under test loses them.
#define SLOTS 8
#define IN 40
#define OUT (IN + 8 * SLOTS)
#define FLAGS_IN (OUT + 8 * SLOTS)
#define SP_IN (FLAGS_IN + 16)
#define SP_OUT (FLAGS_IN + 24)
#define RET (FLAGS_IN + 32)
#define SAVED_SP (FLAGS_IN + 40)
#define F(off) realrun_frame + (off)(%rip)

	.text
	.globl	realrun_call
	.type	realrun_call, @function
realrun_call:
	pushq	%rbp
	pushq	%rbx
	pushq	%r12
	pushq	%r13
	pushq	%r14
	pushq	%r15
	subq	$24, %rsp
	fnstcw	0(%rsp)
	stmxcsr	8(%rsp)
	movq	%rsp, F(SAVED_SP)

	movq	F(IN + 0), %rbx
	movq	F(IN + 8), %rbp
	movq	F(IN + 16), %r12
	movq	F(IN + 24), %r13
	movq	F(IN + 32), %r14
	movq	F(IN + 40), %r15
	fldcw	F(IN + 48)
	ldmxcsr	F(IN + 56)
	movq	F(8), %rdi
	movq	F(16), %rsi
	movq	F(24), %rdx
	movq	F(32), %rcx
	movq	%rsp, F(SP_IN)		// 16-byte aligned at the call
	call	*F(0)

	movq	%rsp, F(SP_OUT)
	movq	%rax, F(RET)
	movq	%rbx, F(OUT + 0)
	movq	%rbp, F(OUT + 8)
	movq	%r12, F(OUT + 16)
	movq	%r13, F(OUT + 24)
	movq	%r14, F(OUT + 32)
	movq	%r15, F(OUT + 40)
	fnstcw	F(OUT + 48)
	stmxcsr	F(OUT + 56)
	movq	F(SAVED_SP), %rsp

	fldcw	0(%rsp)
	ldmxcsr	8(%rsp)
	addq	$24, %rsp
	popq	%r15
	popq	%r14
	popq	%r13
	popq	%r12
	popq	%rbx
	popq	%rbp
	ret
	.size	realrun_call, . - realrun_call
	.section .note.GNU-stack, "", @progbits
