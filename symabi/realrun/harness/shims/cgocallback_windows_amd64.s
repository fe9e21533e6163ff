// The adversarial shim between runtime·callbackasm1 and runtime·cgocallback on windows/amd64, added to
// package runtime by the callbackasm1 harness's build (go build -overlay; see symabi/realrun/build.py).
// The overlaid sys_windows_amd64.s is the tree's own with one line changed: callbackasm1's
// CALL ·cgocallback(SB) calls this instead. It keeps cgocallback's ABI (ABI0: fn, frame, ctxt in the
// three words above the return address, copied to the same place above its own call) and after the real
// cgocallback returns does what the go-abi0 callee model lets it: every general-purpose register but SP
// (BP included: the real cgocallback's assembler-made frame gives BP back, ABI0 does not promise it) and
// XMM0-XMM15 overwritten, 8 KiB below its SP filled (runtime·Clobber, harness/common/adversary).
#include "textflag.h"

TEXT runtime·symabiCgocallback(SB),NOSPLIT|NOFRAME,$0-0
	ADJSP	$32	// cgocallback's three argument words, keeping callbackasm1's alignment
	MOVQ	40(SP), AX	// fn
	MOVQ	AX, 0(SP)
	MOVQ	48(SP), AX	// frame
	MOVQ	AX, 8(SP)
	MOVQ	56(SP), AX	// ctxt
	MOVQ	AX, 16(SP)
	CALL	runtime·cgocallback(SB)
	CALL	runtime·Clobber(SB)
	ADJSP	$-32
	RET
