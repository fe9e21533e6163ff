// Package purego declares what purego's sys_amd64.s, sys_arm64.s and sys_unix_arm64.s read, for symabi's
// tests: written for symabi (not purego's code), with the names and types of purego's syscall.go,
// syscall_notstackargs.go and syscall_unix.go (v0.11.3).

//go:build darwin || freebsd || linux || netbsd

package purego

import (
	"structs"
	"unsafe"
)

// syscallArgs is the block syscallX reads its C call from and writes the results to.
type syscallArgs struct {
	_ structs.HostLayout

	fn, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13, a14, a15                uintptr
	a16, a17, a18, a19, a20, a21, a22, a23, a24, a25, a26, a27, a28, a29, a30, a31, a32 uintptr
	f1, f2, f3, f4, f5, f6, f7, f8                                                      uintptr
	arm64_r8                                                                            uintptr
}

// callbackArgs is the frame callbackasm1 builds for callbackWrap.
type callbackArgs struct {
	index  uintptr
	args   unsafe.Pointer
	result [4]uintptr
}

// callbackWrap_call: the closure callbackasm1 calls through crosscall2 and runtime.cgocallback.
var callbackWrap_call = callbackWrap

func callbackWrap(a *callbackArgs) {}
