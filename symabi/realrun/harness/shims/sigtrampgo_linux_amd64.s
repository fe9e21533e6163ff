// The adversarial shim between runtime·sigtramp and runtime·sigtrampgo on linux/amd64, added to
// package runtime by the sigtramp harness's build (go build -overlay; see symabi/realrun/build.py). The
// overlaid sys_linux_amd64.s is the tree's own with one line changed: sigtramp's
// CALL ·sigtrampgo<ABIInternal>(SB) calls this instead. It keeps sigtrampgo's ABI (ABIInternal: sig in
// AX, info in BX, ctx in CX, R14 = g and X15 = 0 as sigtramp set them, a 24-byte spill area above the
// return address; no result), and after the real sigtrampgo returns does what the go-abiinternal callee
// model lets it: every general-purpose register but SP (BP, R14 included) and XMM0-XMM15 overwritten,
// 8 KiB below its SP filled (runtime·Clobber, harness/common/adversary). The signal stack Go gives every
// M is 32 KiB, of which the kernel's frame and the handlers above use a few.
#include "textflag.h"

TEXT runtime·symabiSigtrampgo<ABIInternal>(SB),NOSPLIT|NOFRAME,$0-0
	ADJSP	$32	// sigtrampgo's spill area (24 bytes), keeping sigtramp's alignment
	CALL	runtime·sigtrampgo<ABIInternal>(SB)
	CALL	runtime·Clobber(SB)
	ADJSP	$-32
	RET
