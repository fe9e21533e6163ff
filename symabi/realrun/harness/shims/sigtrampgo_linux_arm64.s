// The adversarial shim between runtime·sigtramp and runtime·sigtrampgo on linux/arm64, added to
// package runtime by the sigtramp harness's build (go build -overlay; see symabi/realrun/build.py). The
// overlaid sys_linux_arm64.s is the tree's own with one line changed: sigtramp's
// MOVD $runtime·sigtrampgo<ABIInternal>(SB), R3 (then BL (R3)) takes this instead. It keeps
// sigtrampgo's ABI (ABIInternal: sig, info, ctx in R0-R2, R28 = g; 24 bytes of spill area at 8(RSP))
// and does what the go-abiinternal-arm64 callee model and the AAPCS64 world (no red zone) allow:
//
//  1. First, with no frame (SP is sigtramp's), it raises a second signal on its own thread when the
//     harness armed one (runtime·symabiNestedSignal: the harness's C handler, a no-op, installed on the same
//     signal stack): the kernel builds that signal's frame right below SP, over the word where
//     sigtramp's prologue keeps the host's X29. runtime·symabiNestedOverwritten says whether it changed.
//  2. Then (symabiSigtrampgoFramed, a frame of the assembler's own) it calls the real sigtrampgo and
//     overwrites X0-X17, X19-X27, X29 and F0-F31 and the 8 KiB below its SP (runtime·Clobber,
//     harness/common/adversary). X18 and X28 (g) it keeps, as the model says Go code does.
#include "textflag.h"

#define SYS_getpid 172
#define SYS_gettid 178
#define SYS_tgkill 131

// The signal to raise, 0 for none, and 1 when the nested signal changed the word at SP-8: the harness's
// C code reaches both through the addresses its assembly takes (harness/sigtramp/entries).
GLOBL runtime·symabiNestedSignal(SB), NOPTR, $4
GLOBL runtime·symabiNestedOverwritten(SB), NOPTR, $4

TEXT runtime·symabiSigtrampgo<ABIInternal>(SB),NOSPLIT|NOFRAME,$0-0
	MOVWU	runtime·symabiNestedSignal(SB), R9
	CBZW	R9, framed
	MOVD	R0, R10	// sig, info, ctx: R3-R15 are free (sigtrampgo takes three arguments)
	MOVD	R1, R11
	MOVD	R2, R12
	MOVD	-8(RSP), R13	// the word below SP, before
	MOVD	$SYS_getpid, R8
	SVC
	MOVD	R0, R14
	MOVD	$SYS_gettid, R8
	SVC
	MOVD	R0, R1
	MOVD	R14, R0
	MOVD	R9, R2
	MOVD	$SYS_tgkill, R8
	SVC	// delivered on the way back from the kernel: its frame is below this SP
	MOVD	-8(RSP), R14	// and after
	CMP	R13, R14
	CSET	NE, R14
	MOVW	R14, runtime·symabiNestedOverwritten(SB)
	MOVD	R10, R0
	MOVD	R11, R1
	MOVD	R12, R2
framed:
	B	runtime·symabiSigtrampgoFramed<ABIInternal>(SB)

TEXT runtime·symabiSigtrampgoFramed<ABIInternal>(SB),NOSPLIT,$32-0
	BL	runtime·sigtrampgo<ABIInternal>(SB)
	BL	runtime·Clobber(SB)
	RET
