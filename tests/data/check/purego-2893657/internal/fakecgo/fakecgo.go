// Package fakecgo declares what threadentry_trampoline (trampolines_amd64.s) uses, for symabi's tests:
// written for symabi (not purego's code), with the names and types of purego's callbacks.go and
// threadentry_amd64.go.

//go:build !cgo && linux

package fakecgo

import "unsafe"

// The Go function the thread start routine calls, through a func value (callbacks.go).
var threadentry_call = threadentry

func threadentry(v unsafe.Pointer) unsafe.Pointer { return nil }
