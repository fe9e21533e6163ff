#include "textflag.h"

// The kernel enters each as handler(sig, info, uc): DI, SI, DX; the restorer's address on top of the stack.

//symabi:host-entry contract=signal-handler
TEXT ·good(SB),NOSPLIT|NOFRAME,$0
	PUSHQ	DX
	CALL	·handle(SB)
	POPQ	DX
	RET

// The same handler judged by the host ABI: a C handler chaining to it would lose RBX, RBP, R12-R15.
//symabi:host-entry convention=sysv-signal-handler
TEXT ·goodAsC(SB),NOSPLIT|NOFRAME,$0
	PUSHQ	DX
	CALL	·handle(SB)
	POPQ	DX
	RET

// BUG: leaves the restorer a stack one word too high, so rt_sigreturn reads the wrong frame.
//symabi:host-entry contract=signal-handler
TEXT ·skewed(SB),NOSPLIT|NOFRAME,$0
	PUSHQ	DX
	CALL	·handle(SB)
	POPQ	DX
	POPQ	CX
	ADDQ	$8, SP
	JMP	CX

// BUG: calls a C function with RSP as the kernel left it, 8 mod 16.
//symabi:host-entry contract=signal-handler
TEXT ·unaligned(SB),NOSPLIT|NOFRAME,$0
	CALL	c_log(SB)
	RET

// Fixed: 8 bytes more below the restorer's address.
//symabi:host-entry contract=signal-handler
TEXT ·aligned(SB),NOSPLIT|NOFRAME,$0
	SUBQ	$8, SP
	CALL	c_log(SB)
	ADDQ	$8, SP
	RET

// Go code on amd64 needs RSP 8-byte aligned only: a call into Go at the kernel's RSP is fine.
//symabi:host-entry contract=signal-handler
TEXT ·callsGo(SB),NOSPLIT|NOFRAME,$0
	CALL	·tick(SB)
	RET

// Uses the registers a C caller keeps as scratch: the kernel's rt_sigreturn restores them.
//symabi:host-entry contract=signal-handler
TEXT ·scratch(SB),NOSPLIT|NOFRAME,$0
	MOVQ	SI, BX
	MOVQ	DX, BP
	XORQ	R12, R12
	XORQ	R13, R13
	XORQ	R14, R14
	XORQ	R15, R15
	RET
