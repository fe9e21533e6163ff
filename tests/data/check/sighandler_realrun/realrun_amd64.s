#include "textflag.h"

// The real run of tests/data/check/sighandler's handlers on linux/amd64 (realrun.go): a C stub for c_log,
// the handlers' addresses, the restorer (what glibc's __restore_rt does), and the code a signal interrupts,
// which holds a pattern in every register a C caller keeps.

TEXT c_log(SB),NOSPLIT|NOFRAME,$0
	RET

TEXT ·handlers(SB),NOSPLIT,$0-32
	MOVQ	$·good(SB), AX
	MOVQ	AX, good+0(FP)
	MOVQ	$·scratch(SB), AX
	MOVQ	AX, scratch+8(FP)
	MOVQ	$·skewed(SB), AX
	MOVQ	AX, skewed+16(FP)
	MOVQ	$·restorer(SB), AX
	MOVQ	AX, restorer+24(FP)
	RET

TEXT ·restorer(SB),NOSPLIT|NOFRAME,$0
	MOVQ	$15, AX		// rt_sigreturn
	SYSCALL
	INT	$3

// func interrupted(pid, tid uintptr) (lost uintptr): tgkill(pid, tid, SIGUSR1), with RBX, RBP, R12-R15
// holding patterns; the number of them that differ afterwards.
TEXT ·interrupted(SB),NOSPLIT,$16-24
	MOVQ	BP, 0(SP)
	MOVQ	pid+0(FP), DI
	MOVQ	tid+8(FP), SI
	MOVQ	$10, DX
	MOVQ	$0x1111111111111111, BX
	MOVQ	$0x2222222222222222, BP
	MOVQ	$0x3333333333333333, R12
	MOVQ	$0x4444444444444444, R13
	MOVQ	$0x5555555555555555, R14
	MOVQ	$0x6666666666666666, R15
	MOVQ	$234, AX	// tgkill: the signal is delivered on the way back to user space
	SYSCALL
	XORQ	AX, AX
	MOVQ	$0x1111111111111111, CX
	CMPQ	BX, CX
	SETNE	DL
	MOVBQZX	DL, DX
	ADDQ	DX, AX
	MOVQ	$0x2222222222222222, CX
	CMPQ	BP, CX
	SETNE	DL
	MOVBQZX	DL, DX
	ADDQ	DX, AX
	MOVQ	$0x3333333333333333, CX
	CMPQ	R12, CX
	SETNE	DL
	MOVBQZX	DL, DX
	ADDQ	DX, AX
	MOVQ	$0x4444444444444444, CX
	CMPQ	R13, CX
	SETNE	DL
	MOVBQZX	DL, DX
	ADDQ	DX, AX
	MOVQ	$0x5555555555555555, CX
	CMPQ	R14, CX
	SETNE	DL
	MOVBQZX	DL, DX
	ADDQ	DX, AX
	MOVQ	$0x6666666666666666, CX
	CMPQ	R15, CX
	SETNE	DL
	MOVBQZX	DL, DX
	ADDQ	DX, AX
	MOVQ	0(SP), BP
	MOVQ	AX, lost+16(FP)
	RET
