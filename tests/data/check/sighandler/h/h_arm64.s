#include "textflag.h"

// The kernel enters each as handler(sig, info, uc): R0, R1, R2; the restorer's address in R30.

//symabi:host-entry contract=signal-handler
TEXT ·good(SB),NOSPLIT|NOFRAME,$0
	MOVD.W	R30, -16(RSP)
	MOVD	R2, 8(RSP)
	BL	·handle(SB)
	MOVD.P	16(RSP), R30
	RET

// The same handler judged by the host ABI: a C handler chaining to it would lose X19-X29, D8-D15.
//symabi:host-entry
TEXT ·goodAsC(SB),NOSPLIT|NOFRAME,$0
	MOVD.W	R30, -16(RSP)
	MOVD	R2, 8(RSP)
	BL	·handle(SB)
	MOVD.P	16(RSP), R30
	RET

// BUG: releases 8 of the 16 bytes it reserved: the restorer runs with SP 8 below the frame.
//symabi:host-entry contract=signal-handler
TEXT ·skewed(SB),NOSPLIT|NOFRAME,$0
	MOVD.W	R30, -16(RSP)
	MOVD	R2, 8(RSP)
	BL	·handle(SB)
	MOVD.P	8(RSP), R30
	RET

// BUG: calls Go with SP 8 off its 16-byte alignment (the Go callee's first store through SP faults).
//symabi:host-entry contract=signal-handler
TEXT ·unaligned(SB),NOSPLIT|NOFRAME,$0
	MOVD.W	R30, -16(RSP)
	SUB	$8, RSP
	BL	·handle(SB)
	ADD	$8, RSP
	MOVD.P	16(RSP), R30
	RET

// A C function called with SP as the kernel left it, 16-byte aligned.
//symabi:host-entry contract=signal-handler
TEXT ·aligned(SB),NOSPLIT|NOFRAME,$0
	MOVD.W	R30, -16(RSP)
	BL	c_log(SB)
	MOVD.P	16(RSP), R30
	RET
