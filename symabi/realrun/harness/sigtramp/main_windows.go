// The sigtramp harness (windows): C code raises a breakpoint; the harness's own vectored handler,
// which Windows runs first, is handed the real EXCEPTION_POINTERS and calls Go's handlers with them
// the way the dispatcher calls each handler, with a sentinel in every register the Windows x64 ABI
// makes callee-saved: runtime·exceptiontramp (the vectored exception handler) and
// runtime·firstcontinuetramp (the first continue handler), both of which enter sigtramp<>. Then it
// resumes the C code past the breakpoint. The Go side is the runtime's own sigtrampgo: the breakpoint
// is in C code, so each answers EXCEPTION_CONTINUE_SEARCH, which the harness checks.
// runtime·lastcontinuetramp is not called: for an exception Go does not own it ends the program.
package main

/*
#include <stdint.h>
#include <windows.h>
#include "realrun.h"

static uint64_t realrun_seed, realrun_tramps[2];
static int realrun_lost = -1;
static LONG realrun_verdicts[2] = {-2, -2};

static LONG WINAPI first(EXCEPTION_POINTERS *ep) {
	static const char *const names[2] = {"sigtramp/exceptiontramp", "sigtramp/firstcontinuetramp"};
	if (ep->ExceptionRecord->ExceptionCode != EXCEPTION_BREAKPOINT || realrun_lost >= 0)
		return EXCEPTION_CONTINUE_SEARCH;
	realrun_lost = 0;
	for (int i = 0; i < 2; i++) {
		realrun_lost += realrun_run(names[i], realrun_seed + i, realrun_tramps[i], (uint64_t)(uintptr_t)ep, 0, 0, 0);
		realrun_verdicts[i] = (LONG)realrun_frame.ret;
	}
	ep->ContextRecord->Rip++;  // past the int3
	return EXCEPTION_CONTINUE_EXECUTION;
}

static int run(uint64_t seed, uintptr_t exception, uintptr_t first_continue) {
	realrun_seed = seed, realrun_tramps[0] = exception, realrun_tramps[1] = first_continue;
	void *h = AddVectoredExceptionHandler(1, first);
	__asm__ volatile("int3");
	RemoveVectoredExceptionHandler(h);
	return realrun_lost;
}

static long verdict(int i) { return realrun_verdicts[i]; }
*/
import "C"

import (
	"fmt"
	"os"

	"symabi.realrun/adversary"
	"symabi.realrun/entries"
)

func main() {
	lost := C.run(C.uint64_t(adversary.Seed()), C.uintptr_t(entries.ExceptionTramp()),
		C.uintptr_t(entries.FirstContinueTramp()))
	if lost < 0 {
		fmt.Println("symabi-realrun wrong-result the breakpoint never reached the harness's handler")
		os.Exit(1)
	}
	for i, name := range []string{"exceptiontramp", "firstcontinuetramp"} {
		if v := int32(C.verdict(C.int(i))); v != 0 {
			fmt.Printf("symabi-realrun wrong-result %s: expected=0 (EXCEPTION_CONTINUE_SEARCH) got=%d\n", name, v)
			os.Exit(1)
		}
	}
	os.Exit(int(min(lost, 1)))
}
