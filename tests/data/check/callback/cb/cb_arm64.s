#include "textflag.h"
#include "go_asm.h"

// C calls uintptr cb(uintptr a) with BL (AAPCS64: a in R0, the return address in R30; linux, darwin
// and windows alike). The trampoline saves FP and LR, builds the argument block above them and calls
// crosscall2(fn, a, n, ctxt), which keeps the host's callee-saved registers itself.
//symabi:host-entry
TEXT ·callbackTrampoline(SB),NOSPLIT|NOFRAME,$0
	STP.W	(R29, R30), -32(RSP)		// FP and LR, then 16 bytes of argument block: SP stays 16-aligned
	MOVD	RSP, R29
	ADD	$16, RSP, R1			// a
	MOVD	R0, callbackArgs_a(R1)
	MOVD	ZR, callbackArgs_result(R1)
	MOVD	$·callbackWrap(SB), R0		// fn
	MOVD	$callbackArgs__size, R2		// n
	MOVD	ZR, R3				// ctxt
	BL	crosscall2(SB)
	ADD	$16, RSP, R1
	MOVD	callbackArgs_result(R1), R0
	LDP.P	32(RSP), (R29, R30)
	RET

// Planted bug: R19 (callee-saved) is used as scratch, and never saved.
//symabi:host-entry
TEXT ·callbackBadSaved(SB),NOSPLIT|NOFRAME,$0
	MOVD	R0, R19
	STP.W	(R29, R30), -32(RSP)
	MOVD	RSP, R29
	ADD	$16, RSP, R1
	MOVD	R19, callbackArgs_a(R1)
	MOVD	ZR, callbackArgs_result(R1)
	MOVD	$·callbackWrap(SB), R0
	MOVD	$callbackArgs__size, R2
	MOVD	ZR, R3
	BL	crosscall2(SB)
	ADD	$16, RSP, R1
	MOVD	callbackArgs_result(R1), R0
	LDP.P	32(RSP), (R29, R30)
	RET

// Planted bug: 8 bytes pushed for "alignment" after the frame is built: SP is 8 mod 16 at the BL.
//symabi:host-entry
TEXT ·callbackBadAlign(SB),NOSPLIT|NOFRAME,$0
	STP.W	(R29, R30), -32(RSP)
	MOVD	RSP, R29
	ADD	$16, RSP, R1
	MOVD	R0, callbackArgs_a(R1)
	MOVD	ZR, callbackArgs_result(R1)
	MOVD	$·callbackWrap(SB), R0
	MOVD	$callbackArgs__size, R2
	MOVD	ZR, R3
	SUB	$8, RSP
	BL	crosscall2(SB)
	ADD	$8, RSP
	ADD	$16, RSP, R1
	MOVD	callbackArgs_result(R1), R0
	LDP.P	32(RSP), (R29, R30)
	RET

// Planted bug: the argument is stored into the slot STP.W saved the caller's FP in, so the LDP.P
// before the RET hands the host a's value in R29.
//symabi:host-entry
TEXT ·callbackBadFrame(SB),NOSPLIT|NOFRAME,$0
	STP.W	(R29, R30), -32(RSP)
	MOVD	RSP, R29
	MOVD	R0, (RSP)
	ADD	$16, RSP, R1
	MOVD	R0, callbackArgs_a(R1)
	MOVD	ZR, callbackArgs_result(R1)
	MOVD	$·callbackWrap(SB), R0
	MOVD	$callbackArgs__size, R2
	MOVD	ZR, R3
	BL	crosscall2(SB)
	ADD	$16, RSP, R1
	MOVD	callbackArgs_result(R1), R0
	LDP.P	32(RSP), (R29, R30)
	RET
