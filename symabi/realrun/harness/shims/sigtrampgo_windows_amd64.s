// The adversarial shim between sigtramp<> and runtime·sigtrampgo on windows/amd64, added to package
// runtime by the sigtramp harness's build (go build -overlay; see symabi/realrun/build.py). The
// overlaid sys_windows_amd64.s is the tree's own with one line changed: sigtramp<>'s
// CALL runtime·sigtrampgo<ABIInternal>(SB) calls this instead. It keeps sigtrampgo's ABI (ABIInternal:
// ep in AX, kind in BX, R14 = g and X15 = 0 as sigtramp<> set them, a 16-byte spill area above the
// return address) and its result (AX), and after the real sigtrampgo returns does what the go-abiinternal
// callee model lets it: every general-purpose register but SP and AX (BP, R14 included) and XMM0-XMM15
// overwritten, 8 KiB below its SP filled (runtime·Clobber, harness/common/adversary).
#include "textflag.h"

TEXT runtime·symabiSigtrampgo<ABIInternal>(SB),NOSPLIT|NOFRAME,$0-0
	ADJSP	$24	// sigtrampgo's spill area (16 bytes) and a slot for its result
	CALL	runtime·sigtrampgo<ABIInternal>(SB)
	MOVQ	AX, 16(SP)
	CALL	runtime·Clobber(SB)
	MOVQ	16(SP), AX
	ADJSP	$-24
	RET
