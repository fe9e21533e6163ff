// The callbackasm1 harness: C calls a syscall.NewCallback pointer (runtime·callbackasm + 5*i, whose
// CALL enters runtime·callbackasm1) with four arguments and a sentinel in every register the Windows
// x64 ABI makes callee-saved; the Go callback runs the adversary and returns a value the C side checks.
package main

/*
#include <stdint.h>
#include "realrun.h"

static int run(uint64_t seed, uintptr_t callback) {
	return realrun_run("callbackasm1", seed, callback, 0x1111, 0x2222, 0x3333, 0x4444);
}

static uint64_t result(void) { return realrun_frame.ret; }
*/
import "C"

import (
	"fmt"
	"os"
	"syscall"

	"symabi.realrun/adversary"
)

func combine(a, b, c, d uintptr) uintptr { return a ^ b<<4 ^ c<<8 ^ d<<12 }

func main() {
	callback := syscall.NewCallback(func(a, b, c, d uintptr) uintptr {
		adversary.Dirty()
		return combine(a, b, c, d)
	})
	lost := C.run(C.uint64_t(adversary.Seed()), C.uintptr_t(callback))
	if want, got := combine(0x1111, 0x2222, 0x3333, 0x4444), uintptr(C.result()); got != want {
		fmt.Printf("symabi-realrun wrong-result expected=%#x got=%#x\n", want, got)
		os.Exit(1)
	}
	os.Exit(int(min(lost, 1)))
}
