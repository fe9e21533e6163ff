#include "textflag.h"

// The real run of gVisor's KVM SIGILL handler (tests/test_signal_handler.py copies this file and
// realrun_kvm.go into the package, main.go into cmd/run): written for symabi, not gVisor's code.

// The previous handlers sighandler chains to (savedHandler). Each returns to the address on top of the
// stack, as a handler the kernel entered does; prevAligned needs RSP 8 mod 16 at entry, as a C function may
// (its MOVAPS faults otherwise).
TEXT ·prevPlain(SB),NOSPLIT|NOFRAME,$0
	RET

TEXT ·prevAligned(SB),NOSPLIT|NOFRAME,$0
	SUBQ	$24, SP
	MOVAPS	X0, 0(SP)
	ADDQ	$24, SP
	RET

TEXT ·restorer(SB),NOSPLIT|NOFRAME,$0
	MOVQ	$15, AX		// rt_sigreturn
	SYSCALL
	INT	$3

TEXT ·addresses(SB),NOSPLIT,$0-32
	MOVQ	$·sighandler(SB), AX
	MOVQ	AX, handler+0(FP)
	MOVQ	$·prevPlain(SB), AX
	MOVQ	AX, plain+8(FP)
	MOVQ	$·prevAligned(SB), AX
	MOVQ	AX, aligned+16(FP)
	MOVQ	$·restorer(SB), AX
	MOVQ	AX, restorer+24(FP)
	RET

// func interrupted(pid, tid uintptr) (lost uintptr): tgkill(pid, tid, SIGILL) with RBP holding a
// pattern (si_code is SI_TKILL, not the kernel's: sighandler takes its fallback path); 1 if RBP changed.
TEXT ·interrupted(SB),NOSPLIT,$16-24
	MOVQ	BP, 0(SP)
	MOVQ	pid+0(FP), DI
	MOVQ	tid+8(FP), SI
	MOVQ	$4, DX
	MOVQ	$0x2222222222222222, BP
	MOVQ	$234, AX
	SYSCALL
	XORQ	AX, AX
	MOVQ	$0x2222222222222222, CX
	CMPQ	BP, CX
	SETNE	AL
	MOVQ	0(SP), BP
	MOVQ	AX, lost+16(FP)
	RET
