// The crosscall2 harness: C calls crosscall2(fn, a, n, ctxt) exactly as cmd/cgo's exported-function
// wrappers do (fn: a Go func(unsafe.Pointer); ctxt: the runtime's context, as
// _cgo_wait_runtime_init_done returns it), with a sentinel in every register the host ABI makes
// callee-saved; fn runs the adversary. The C side prints one "symabi-realrun lost" line per loss.
package main

/*
#include <stddef.h>
#include <stdint.h>
#include "realrun.h"

extern void crosscall2(void (*fn)(void *), void *a, int c, size_t ctxt);
extern size_t _cgo_wait_runtime_init_done(void);
extern void _cgo_release_context(size_t);

static int run(uint64_t seed, uintptr_t fn) {
	size_t ctxt = _cgo_wait_runtime_init_done();
	char frame[16] = {0};
	int lost = realrun_run("crosscall2", seed, (uint64_t)(uintptr_t)crosscall2, fn,
			       (uint64_t)(uintptr_t)frame, 0, ctxt);
	_cgo_release_context(ctxt);
	return lost;
}
*/
import "C"

import (
	"os"
	"reflect"
	"unsafe"

	"symabi.realrun/adversary"
)

func callee(frame unsafe.Pointer) { adversary.Dirty() }

func main() {
	lost := C.run(C.uint64_t(adversary.Seed()), C.uintptr_t(reflect.ValueOf(callee).Pointer()))
	os.Exit(int(min(lost, 1)))
}
