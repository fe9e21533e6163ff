// Package fakecgo declares what purego's internal/fakecgo/trampolines_*.s use, for symabi's tests:
// written for symabi (not purego's code), with the names and types of purego's fakecgo.go,
// callbacks.go, go_libinit.go and threadentry_amd64.go (v0.11.3).

//go:build !cgo && (darwin || freebsd || linux || netbsd)

package fakecgo

import "unsafe"

// The Go functions the C-facing trampolines call, each through a func value (callbacks.go) or by name.
var (
	threadentry_call        = threadentry
	x_cgo_init_call         = x_cgo_init
	x_cgo_setenv_call       = x_cgo_setenv
	x_cgo_unsetenv_call     = x_cgo_unsetenv
	x_cgo_thread_start_call = x_cgo_thread_start
)

type G struct{ stacklo, stackhi uintptr }

func threadentry(v unsafe.Pointer) unsafe.Pointer { return nil }
func x_cgo_init(g *G, setg uintptr)                {}
func x_cgo_setenv(arg *[2]*byte)                   {}
func x_cgo_unsetenv(arg *[1]*byte)                 {}
func x_cgo_thread_start(arg *byte)                 {}
func x_cgo_notify_runtime_init_done()              {}
func x_cgo_bindm(g unsafe.Pointer)                 {}

// setg_trampoline calls setg with the G provided
func setg_trampoline(setg uintptr, G uintptr)

// call5 takes fn the C function and 5 arguments and calls the function with those arguments
func call5(fn, a1, a2, a3, a4, a5 uintptr) uintptr
