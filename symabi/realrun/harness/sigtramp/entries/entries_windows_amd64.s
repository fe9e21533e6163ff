#include "textflag.h"

TEXT ·ExceptionTramp(SB),NOSPLIT,$0-8
	MOVQ	$runtime·exceptiontramp(SB), AX
	MOVQ	AX, ret+0(FP)
	RET

TEXT ·FirstContinueTramp(SB),NOSPLIT,$0-8
	MOVQ	$runtime·firstcontinuetramp(SB), AX
	MOVQ	AX, ret+0(FP)
	RET
