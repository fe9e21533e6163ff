// realrun_call for AAPCS64 (GNU as). Loads the sentinels of realrun_frame.in into X19-X29 and the low
// 64 bits of V8-V15 (D8-D15), calls realrun_frame.target with the first four arguments in X0-X3, and
// stores what those registers and SP hold after the call into realrun_frame.out. Its own callee-saved
// registers and SP it keeps aside, so it returns to C even when the entry point under test loses them.
#define SLOTS 19
#define IN 40
#define OUT (IN + 8 * SLOTS)
#define FLAGS_IN (OUT + 8 * SLOTS)
#define SP_IN (FLAGS_IN + 16)
#define SP_OUT (FLAGS_IN + 24)
#define RET (FLAGS_IN + 32)
#define SAVED_SP (FLAGS_IN + 40)

	.text
	.globl	realrun_call
	.type	realrun_call, %function
realrun_call:
	stp	x29, x30, [sp, #-176]!
	mov	x29, sp
	stp	x19, x20, [sp, #16]
	stp	x21, x22, [sp, #32]
	stp	x23, x24, [sp, #48]
	stp	x25, x26, [sp, #64]
	stp	x27, x28, [sp, #80]
	stp	d8, d9, [sp, #96]
	stp	d10, d11, [sp, #112]
	stp	d12, d13, [sp, #128]
	stp	d14, d15, [sp, #144]
	adrp	x9, realrun_frame
	add	x9, x9, :lo12:realrun_frame
	mov	x10, sp
	str	x10, [x9, #SAVED_SP]

	ldr	x16, [x9]
	ldp	x0, x1, [x9, #8]
	ldp	x2, x3, [x9, #24]
	ldp	x19, x20, [x9, #(IN + 0)]
	ldp	x21, x22, [x9, #(IN + 16)]
	ldp	x23, x24, [x9, #(IN + 32)]
	ldp	x25, x26, [x9, #(IN + 48)]
	ldp	x27, x28, [x9, #(IN + 64)]
	ldr	x29, [x9, #(IN + 80)]
	ldp	d8, d9, [x9, #(IN + 88)]
	ldp	d10, d11, [x9, #(IN + 104)]
	ldp	d12, d13, [x9, #(IN + 120)]
	ldp	d14, d15, [x9, #(IN + 136)]
	mov	x10, sp
	str	x10, [x9, #SP_IN]
	blr	x16

	adrp	x16, realrun_frame	// X16/X17 are the intra-procedure scratch registers: free here
	add	x16, x16, :lo12:realrun_frame
	mov	x17, sp
	str	x17, [x16, #SP_OUT]
	str	x0, [x16, #RET]
	stp	x19, x20, [x16, #(OUT + 0)]
	stp	x21, x22, [x16, #(OUT + 16)]
	stp	x23, x24, [x16, #(OUT + 32)]
	stp	x25, x26, [x16, #(OUT + 48)]
	stp	x27, x28, [x16, #(OUT + 64)]
	str	x29, [x16, #(OUT + 80)]
	stp	d8, d9, [x16, #(OUT + 88)]
	stp	d10, d11, [x16, #(OUT + 104)]
	stp	d12, d13, [x16, #(OUT + 120)]
	stp	d14, d15, [x16, #(OUT + 136)]
	ldr	x17, [x16, #SAVED_SP]
	mov	sp, x17

	ldp	x19, x20, [sp, #16]
	ldp	x21, x22, [sp, #32]
	ldp	x23, x24, [sp, #48]
	ldp	x25, x26, [sp, #64]
	ldp	x27, x28, [sp, #80]
	ldp	d8, d9, [sp, #96]
	ldp	d10, d11, [sp, #112]
	ldp	d12, d13, [sp, #128]
	ldp	d14, d15, [sp, #144]
	ldp	x29, x30, [sp], #176
	ret
	.size	realrun_call, . - realrun_call
	.section .note.GNU-stack, "", @progbits
