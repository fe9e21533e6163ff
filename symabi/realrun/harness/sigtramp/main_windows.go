// The sigtramp harness (windows): C code raises a breakpoint; the harness's own vectored handler,
// which Windows runs first, is handed the real EXCEPTION_POINTERS and calls runtime·exceptiontramp
// with them the way the dispatcher calls each handler, with a sentinel in every register the Windows
// x64 ABI makes callee-saved, then resumes the C code past the breakpoint. The Go side is the
// runtime's own sigtrampgo: the breakpoint is in C code, so Go's handler returns
// EXCEPTION_CONTINUE_SEARCH, which the C side checks.
package main

/*
#include <stdint.h>
#include <windows.h>
#include "realrun.h"

static uint64_t realrun_seed, realrun_tramp;
static int realrun_lost = -1;
static LONG realrun_verdict;

static LONG WINAPI first(EXCEPTION_POINTERS *ep) {
	if (ep->ExceptionRecord->ExceptionCode != EXCEPTION_BREAKPOINT || realrun_lost >= 0)
		return EXCEPTION_CONTINUE_SEARCH;
	realrun_lost = realrun_run("sigtramp", realrun_seed, realrun_tramp, (uint64_t)(uintptr_t)ep, 0, 0, 0);
	realrun_verdict = (LONG)realrun_frame.ret;
	ep->ContextRecord->Rip++;  // past the int3
	return EXCEPTION_CONTINUE_EXECUTION;
}

static int run(uint64_t seed, uintptr_t tramp) {
	realrun_seed = seed, realrun_tramp = tramp;
	void *h = AddVectoredExceptionHandler(1, first);
	__asm__ volatile("int3");
	RemoveVectoredExceptionHandler(h);
	return realrun_lost;
}

static long verdict(void) { return realrun_verdict; }
*/
import "C"

import (
	"fmt"
	"os"

	"symabi.realrun/adversary"
	"symabi.realrun/entries"
)

func main() {
	lost := C.run(C.uint64_t(adversary.Seed()), C.uintptr_t(entries.ExceptionTramp()))
	if lost < 0 {
		fmt.Println("symabi-realrun wrong-result the breakpoint never reached the harness's handler")
		os.Exit(1)
	}
	if v := int32(C.verdict()); v != 0 {
		fmt.Printf("symabi-realrun wrong-result expected=0 (EXCEPTION_CONTINUE_SEARCH) got=%d\n", v)
		os.Exit(1)
	}
	os.Exit(int(min(lost, 1)))
}
