// Package cb is a C callback in the shape cgo-free FFI libraries use: C calls a trampoline, which
// builds an argument block on its stack and calls crosscall2(fn, a, n, ctxt); crosscall2 (runtime/cgo)
// saves the host's callee-saved registers and runs fn on a goroutine through runtime·cgocallback.
// Written for symabi's tests; the ...Bad* trampolines carry one planted bug each.
package cb

type callbackArgs struct {
	a      uintptr
	result uintptr
}

func callbackWrap(a *callbackArgs) { a.result = a.a + 1 }

func callbackTrampoline()
func callbackBadSaved()
func callbackBadAlign()
func callbackBadFrame()
func callbackBadHome() // windows only
