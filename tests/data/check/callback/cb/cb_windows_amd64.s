#include "textflag.h"
#include "go_asm.h"

// C calls uintptr cb(uintptr a) with the Windows x64 convention: a in CX, 32 bytes of home area
// above the return address. crosscall2 keeps the host's callee-saved registers itself.
//symabi:host-entry
TEXT ·callbackTrampoline(SB),NOSPLIT|NOFRAME,$0
	PUSHQ	BP
	MOVQ	SP, BP
	SUBQ	$(32+callbackArgs__size), SP	// crosscall2's home area, then the argument block
	ANDQ	$~15, SP			// C code is entered with RSP 16-byte aligned
	MOVQ	CX, (32+callbackArgs_a)(SP)
	MOVQ	$0, (32+callbackArgs_result)(SP)
	LEAQ	·callbackWrap(SB), CX		// fn
	LEAQ	32(SP), DX			// a
	MOVQ	$callbackArgs__size, R8		// n
	MOVQ	$0, R9				// ctxt
	CALL	crosscall2(SB)
	MOVQ	(32+callbackArgs_result)(SP), AX
	MOVQ	BP, SP
	POPQ	BP
	RET

// Planted bug: SI (callee-saved on Windows) is used as scratch, and never saved.
//symabi:host-entry
TEXT ·callbackBadSaved(SB),NOSPLIT|NOFRAME,$0
	MOVQ	CX, SI
	PUSHQ	BP
	MOVQ	SP, BP
	SUBQ	$(32+callbackArgs__size), SP
	ANDQ	$~15, SP
	MOVQ	SI, (32+callbackArgs_a)(SP)
	MOVQ	$0, (32+callbackArgs_result)(SP)
	LEAQ	·callbackWrap(SB), CX
	LEAQ	32(SP), DX
	MOVQ	$callbackArgs__size, R8
	MOVQ	$0, R9
	CALL	crosscall2(SB)
	MOVQ	(32+callbackArgs_result)(SP), AX
	MOVQ	BP, SP
	POPQ	BP
	RET

// Planted bug: no ANDQ, and 8 bytes too many: RSP is 8 mod 16 at the CALL.
//symabi:host-entry
TEXT ·callbackBadAlign(SB),NOSPLIT|NOFRAME,$0
	PUSHQ	BP
	MOVQ	SP, BP
	SUBQ	$(32+callbackArgs__size+8), SP
	MOVQ	CX, (32+callbackArgs_a)(SP)
	MOVQ	$0, (32+callbackArgs_result)(SP)
	LEAQ	·callbackWrap(SB), CX
	LEAQ	32(SP), DX
	MOVQ	$callbackArgs__size, R8
	MOVQ	$0, R9
	CALL	crosscall2(SB)
	MOVQ	(32+callbackArgs_result)(SP), AX
	MOVQ	BP, SP
	POPQ	BP
	RET

// Planted bug: the assembler's prologue saves BP at 48(SP) (the top of this $48 frame); the code
// stores the argument there, so the epilogue's POPQ BP hands the host a's value in BP.
//symabi:host-entry
TEXT ·callbackBadFrame(SB),NOSPLIT,$48
	MOVQ	CX, 48(SP)
	MOVQ	CX, (32+callbackArgs_a)(SP)
	MOVQ	$0, (32+callbackArgs_result)(SP)
	LEAQ	·callbackWrap(SB), CX
	LEAQ	32(SP), DX
	MOVQ	$callbackArgs__size, R8
	MOVQ	$0, R9
	CALL	crosscall2(SB)
	MOVQ	(32+callbackArgs_result)(SP), AX
	RET

// Planted bug: the argument block is reserved, crosscall2's 32-byte home area is not: crosscall2 may
// write it, over the saved BP and the return address.
//symabi:host-entry
TEXT ·callbackBadHome(SB),NOSPLIT|NOFRAME,$0
	PUSHQ	BP
	MOVQ	SP, BP
	SUBQ	$callbackArgs__size, SP
	ANDQ	$~15, SP
	MOVQ	CX, callbackArgs_a(SP)
	MOVQ	$0, callbackArgs_result(SP)
	LEAQ	·callbackWrap(SB), CX
	MOVQ	SP, DX
	MOVQ	$callbackArgs__size, R8
	MOVQ	$0, R9
	CALL	crosscall2(SB)
	MOVQ	callbackArgs_result(SP), AX
	MOVQ	BP, SP
	POPQ	BP
	RET
