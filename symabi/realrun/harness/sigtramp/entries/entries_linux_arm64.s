#include "textflag.h"

TEXT ·NestedSignal(SB),NOSPLIT,$0-8
	MOVD	$runtime·symabiNestedSignal(SB), R0
	MOVD	R0, ret+0(FP)
	RET

TEXT ·NestedOverwritten(SB),NOSPLIT,$0-8
	MOVD	$runtime·symabiNestedOverwritten(SB), R0
	MOVD	R0, ret+0(FP)
	RET
