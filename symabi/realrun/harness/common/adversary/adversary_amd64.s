#include "textflag.h"

// func Clobber()
// ABI0: every general-purpose register but SP may change (BP, R14 and X15 included: the ABI wrapper
// that called us restores g and zero), and every vector register. The 8 KiB below SP are filled from
// the top down (STD), so a thread stack that grows through a guard page (Windows) is touched in order.
// The harness's shims (harness/shims/) add this file to package runtime too, as runtime·Clobber.
TEXT ·Clobber(SB),NOSPLIT|NOFRAME,$0-0
	LEAQ	-8(SP), DI
	MOVQ	$0x5ab15ab1d1e7d1e7, AX
	MOVQ	$1024, CX
	STD
	REP;	STOSQ
	CLD
	MOVQ	$0xc1c2c3c4c5c6c700, AX
	MOVQ	AX, X0
	MOVLHPS	X0, X0
	MOVQ	$0xc1c2c3c4c5c6c701, AX
	MOVQ	AX, X1
	MOVLHPS	X1, X1
	MOVQ	$0xc1c2c3c4c5c6c702, AX
	MOVQ	AX, X2
	MOVLHPS	X2, X2
	MOVQ	$0xc1c2c3c4c5c6c703, AX
	MOVQ	AX, X3
	MOVLHPS	X3, X3
	MOVQ	$0xc1c2c3c4c5c6c704, AX
	MOVQ	AX, X4
	MOVLHPS	X4, X4
	MOVQ	$0xc1c2c3c4c5c6c705, AX
	MOVQ	AX, X5
	MOVLHPS	X5, X5
	MOVQ	$0xc1c2c3c4c5c6c706, AX
	MOVQ	AX, X6
	MOVLHPS	X6, X6
	MOVQ	$0xc1c2c3c4c5c6c707, AX
	MOVQ	AX, X7
	MOVLHPS	X7, X7
	MOVQ	$0xc1c2c3c4c5c6c708, AX
	MOVQ	AX, X8
	MOVLHPS	X8, X8
	MOVQ	$0xc1c2c3c4c5c6c709, AX
	MOVQ	AX, X9
	MOVLHPS	X9, X9
	MOVQ	$0xc1c2c3c4c5c6c70a, AX
	MOVQ	AX, X10
	MOVLHPS	X10, X10
	MOVQ	$0xc1c2c3c4c5c6c70b, AX
	MOVQ	AX, X11
	MOVLHPS	X11, X11
	MOVQ	$0xc1c2c3c4c5c6c70c, AX
	MOVQ	AX, X12
	MOVLHPS	X12, X12
	MOVQ	$0xc1c2c3c4c5c6c70d, AX
	MOVQ	AX, X13
	MOVLHPS	X13, X13
	MOVQ	$0xc1c2c3c4c5c6c70e, AX
	MOVQ	AX, X14
	MOVLHPS	X14, X14
	MOVQ	$0xc1c2c3c4c5c6c70f, AX
	MOVQ	AX, X15
	MOVLHPS	X15, X15
	MOVQ	$0xa1a2a3a4a5a6a701, BX
	MOVQ	$0xa1a2a3a4a5a6a702, CX
	MOVQ	$0xa1a2a3a4a5a6a703, DX
	MOVQ	$0xa1a2a3a4a5a6a704, SI
	MOVQ	$0xa1a2a3a4a5a6a705, DI
	MOVQ	$0xa1a2a3a4a5a6a706, BP
	MOVQ	$0xa1a2a3a4a5a6a708, R8
	MOVQ	$0xa1a2a3a4a5a6a709, R9
	MOVQ	$0xa1a2a3a4a5a6a70a, R10
	MOVQ	$0xa1a2a3a4a5a6a70b, R11
	MOVQ	$0xa1a2a3a4a5a6a70c, R12
	MOVQ	$0xa1a2a3a4a5a6a70d, R13
	MOVQ	$0xa1a2a3a4a5a6a70e, R14
	MOVQ	$0xa1a2a3a4a5a6a70f, R15
	MOVQ	$0xa1a2a3a4a5a6a700, AX
	RET
