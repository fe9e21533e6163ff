// realrun_call for the Windows x64 ABI (GNU as). Loads the sentinels of realrun_frame.in into RBX RBP
// RDI RSI R12-R15 and XMM6-XMM15 (all 128 bits), calls realrun_frame.target with DF clear and the
// first four arguments in RCX RDX R8 R9 (and the 32-byte home area), and stores what those registers,
// RSP and RFLAGS hold after the call into realrun_frame.out. Its own callee-saved registers and stack
// pointer it keeps aside, so it returns to C even when the entry point under test loses them.
#define SLOTS 28
#define IN 40
#define OUT (IN + 8 * SLOTS)
#define FLAGS_IN (OUT + 8 * SLOTS)
#define FLAGS_OUT (FLAGS_IN + 8)
#define SP_IN (FLAGS_IN + 16)
#define SP_OUT (FLAGS_IN + 24)
#define RET (FLAGS_IN + 32)
#define SAVED_SP (FLAGS_IN + 40)
#define F(off) realrun_frame + (off)(%rip)

	.text
	.globl	realrun_call
realrun_call:
	pushq	%rbp
	pushq	%rbx
	pushq	%rdi
	pushq	%rsi
	pushq	%r12
	pushq	%r13
	pushq	%r14
	pushq	%r15
	subq	$168, %rsp
	movups	%xmm6, 0(%rsp)
	movups	%xmm7, 16(%rsp)
	movups	%xmm8, 32(%rsp)
	movups	%xmm9, 48(%rsp)
	movups	%xmm10, 64(%rsp)
	movups	%xmm11, 80(%rsp)
	movups	%xmm12, 96(%rsp)
	movups	%xmm13, 112(%rsp)
	movups	%xmm14, 128(%rsp)
	movups	%xmm15, 144(%rsp)
	movq	%rsp, F(SAVED_SP)

	movq	F(IN + 0), %rbx
	movq	F(IN + 8), %rbp
	movq	F(IN + 16), %rdi
	movq	F(IN + 24), %rsi
	movq	F(IN + 32), %r12
	movq	F(IN + 40), %r13
	movq	F(IN + 48), %r14
	movq	F(IN + 56), %r15
	movups	F(IN + 64), %xmm6
	movups	F(IN + 80), %xmm7
	movups	F(IN + 96), %xmm8
	movups	F(IN + 112), %xmm9
	movups	F(IN + 128), %xmm10
	movups	F(IN + 144), %xmm11
	movups	F(IN + 160), %xmm12
	movups	F(IN + 176), %xmm13
	movups	F(IN + 192), %xmm14
	movups	F(IN + 208), %xmm15
	movq	F(8), %rcx
	movq	F(16), %rdx
	movq	F(24), %r8
	movq	F(32), %r9
	subq	$32, %rsp		// the home area; RSP is 16-byte aligned at the call
	cld
	pushfq
	popq	%rax
	movq	%rax, F(FLAGS_IN)
	movq	%rsp, F(SP_IN)
	call	*F(0)

	movq	%rsp, F(SP_OUT)
	movq	%rax, F(RET)
	movq	%rbx, F(OUT + 0)
	movq	%rbp, F(OUT + 8)
	movq	%rdi, F(OUT + 16)
	movq	%rsi, F(OUT + 24)
	movq	%r12, F(OUT + 32)
	movq	%r13, F(OUT + 40)
	movq	%r14, F(OUT + 48)
	movq	%r15, F(OUT + 56)
	movups	%xmm6, F(OUT + 64)
	movups	%xmm7, F(OUT + 80)
	movups	%xmm8, F(OUT + 96)
	movups	%xmm9, F(OUT + 112)
	movups	%xmm10, F(OUT + 128)
	movups	%xmm11, F(OUT + 144)
	movups	%xmm12, F(OUT + 160)
	movups	%xmm13, F(OUT + 176)
	movups	%xmm14, F(OUT + 192)
	movups	%xmm15, F(OUT + 208)
	movq	F(SAVED_SP), %rsp	// RFLAGS is read on the helper's own stack
	pushfq
	popq	%rax
	movq	%rax, F(FLAGS_OUT)
	cld

	movups	0(%rsp), %xmm6
	movups	16(%rsp), %xmm7
	movups	32(%rsp), %xmm8
	movups	48(%rsp), %xmm9
	movups	64(%rsp), %xmm10
	movups	80(%rsp), %xmm11
	movups	96(%rsp), %xmm12
	movups	112(%rsp), %xmm13
	movups	128(%rsp), %xmm14
	movups	144(%rsp), %xmm15
	addq	$168, %rsp
	popq	%r15
	popq	%r14
	popq	%r13
	popq	%r12
	popq	%rsi
	popq	%rdi
	popq	%rbx
	popq	%rbp
	ret
