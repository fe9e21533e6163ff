#include "textflag.h"

// func Clobber()
// ABI0: every general-purpose register Go may use but g (R28), the platform register R18 and the link
// register this leaf returns through, the frame pointer R29 included; F0-F31. The 8 KiB below SP are
// filled from the top down. The harness's shims (harness/shims/) add this file to package runtime too.
TEXT ·Clobber(SB),NOSPLIT|NOFRAME,$0-0
	MOVD	RSP, R1
	MOVD	$1024, R2
	MOVD	$0x5ab15ab1d1e7d1e7, R0
dirty:
	MOVD.W	R0, -8(R1)
	SUB	$1, R2, R2
	CBNZ	R2, dirty
	MOVD	$0xc1c2c3c4c5c6c700, R0
	FMOVD	R0, F0
	FMOVD	R0, F1
	FMOVD	R0, F2
	FMOVD	R0, F3
	FMOVD	R0, F4
	FMOVD	R0, F5
	FMOVD	R0, F6
	FMOVD	R0, F7
	MOVD	$0xc1c2c3c4c5c6c708, R0
	FMOVD	R0, F8
	FMOVD	R0, F9
	FMOVD	R0, F10
	FMOVD	R0, F11
	FMOVD	R0, F12
	FMOVD	R0, F13
	FMOVD	R0, F14
	FMOVD	R0, F15
	FMOVD	R0, F16
	FMOVD	R0, F17
	FMOVD	R0, F18
	FMOVD	R0, F19
	FMOVD	R0, F20
	FMOVD	R0, F21
	FMOVD	R0, F22
	FMOVD	R0, F23
	FMOVD	R0, F24
	FMOVD	R0, F25
	FMOVD	R0, F26
	FMOVD	R0, F27
	FMOVD	R0, F28
	FMOVD	R0, F29
	FMOVD	R0, F30
	FMOVD	R0, F31
	MOVD	$0xa1a2a3a4a5a6a700, R0
	ADD	$1, R0, R1
	ADD	$2, R0, R2
	ADD	$3, R0, R3
	ADD	$4, R0, R4
	ADD	$5, R0, R5
	ADD	$6, R0, R6
	ADD	$7, R0, R7
	ADD	$8, R0, R8
	ADD	$9, R0, R9
	ADD	$10, R0, R10
	ADD	$11, R0, R11
	ADD	$12, R0, R12
	ADD	$13, R0, R13
	ADD	$14, R0, R14
	ADD	$15, R0, R15
	ADD	$16, R0, R16
	ADD	$17, R0, R17
	ADD	$19, R0, R19
	ADD	$20, R0, R20
	ADD	$21, R0, R21
	ADD	$22, R0, R22
	ADD	$23, R0, R23
	ADD	$24, R0, R24
	ADD	$25, R0, R25
	ADD	$26, R0, R26
	ADD	$29, R0, R29
	ADD	$27, R0, R27
	RET
