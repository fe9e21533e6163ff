// Package kvm declares what gVisor's pkg/sentry/platform/kvm/bluepill_impl_*.s read and call, for
// symabi's tests: written for symabi (not gVisor's code), with the names and signatures of gVisor's
// bluepill.go and bluepill_unsafe.go.
package kvm

import "unsafe"

var (
	savedHandler       uintptr // the previous SIGILL handler
	savedSigsysHandler uintptr
	dieTrampolineAddr  uintptr
)

func bluepillHandler(context unsafe.Pointer)    {}
func seccompMmapHandler(context unsafe.Pointer) {}
func redpill()                                  {}

func sighandler()
func sigsysHandler()
