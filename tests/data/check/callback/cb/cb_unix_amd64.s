//go:build !windows

#include "textflag.h"
#include "go_asm.h"

// C calls uintptr cb(uintptr a) with the System V convention: a in DI, no home area.
// crosscall2 keeps the host's callee-saved registers itself.
//symabi:host-entry
TEXT ·callbackTrampoline(SB),NOSPLIT|NOFRAME,$0
	PUSHQ	BP
	MOVQ	SP, BP
	SUBQ	$callbackArgs__size, SP		// the argument block
	ANDQ	$~15, SP			// C code is entered with RSP 16-byte aligned
	MOVQ	DI, callbackArgs_a(SP)
	MOVQ	$0, callbackArgs_result(SP)
	LEAQ	·callbackWrap(SB), DI		// fn
	MOVQ	SP, SI				// a
	MOVQ	$callbackArgs__size, DX		// n
	MOVQ	$0, CX				// ctxt
	CALL	crosscall2(SB)
	MOVQ	callbackArgs_result(SP), AX
	MOVQ	BP, SP
	POPQ	BP
	RET

// Planted bug: R12 (callee-saved) is used as scratch, and never saved.
//symabi:host-entry
TEXT ·callbackBadSaved(SB),NOSPLIT|NOFRAME,$0
	MOVQ	DI, R12
	PUSHQ	BP
	MOVQ	SP, BP
	SUBQ	$callbackArgs__size, SP
	ANDQ	$~15, SP
	MOVQ	R12, callbackArgs_a(SP)
	MOVQ	$0, callbackArgs_result(SP)
	LEAQ	·callbackWrap(SB), DI
	MOVQ	SP, SI
	MOVQ	$callbackArgs__size, DX
	MOVQ	$0, CX
	CALL	crosscall2(SB)
	MOVQ	callbackArgs_result(SP), AX
	MOVQ	BP, SP
	POPQ	BP
	RET

// Planted bug: no ANDQ, and 8 bytes too many: RSP is 8 mod 16 at the CALL.
//symabi:host-entry
TEXT ·callbackBadAlign(SB),NOSPLIT|NOFRAME,$0
	PUSHQ	BP
	MOVQ	SP, BP
	SUBQ	$(callbackArgs__size+8), SP
	MOVQ	DI, callbackArgs_a(SP)
	MOVQ	$0, callbackArgs_result(SP)
	LEAQ	·callbackWrap(SB), DI
	MOVQ	SP, SI
	MOVQ	$callbackArgs__size, DX
	MOVQ	$0, CX
	CALL	crosscall2(SB)
	MOVQ	callbackArgs_result(SP), AX
	MOVQ	BP, SP
	POPQ	BP
	RET

// Planted bug: the assembler's prologue saves BP at 16(SP) (the top of this $16 frame); the code
// stores the argument there, so the epilogue's POPQ BP hands the host a's value in BP.
//symabi:host-entry
TEXT ·callbackBadFrame(SB),NOSPLIT,$16
	MOVQ	DI, 16(SP)
	MOVQ	DI, callbackArgs_a(SP)
	MOVQ	$0, callbackArgs_result(SP)
	LEAQ	·callbackWrap(SB), DI
	MOVQ	SP, SI
	MOVQ	$callbackArgs__size, DX
	MOVQ	$0, CX
	CALL	crosscall2(SB)
	MOVQ	callbackArgs_result(SP), AX
	RET
