// Package kvm declares what gVisor's pkg/sentry/platform/kvm/bluepill_amd64.s reads and calls, for
// symabi's tests: written for symabi (not gVisor's code), with the names and signatures of gVisor's
// bluepill.go, bluepill_unsafe.go and machine_unsafe.go (snapshot of 2024-07-29).
package kvm

import "unsafe"

var (
	savedHandler       uintptr // the previous SIGILL handler
	savedSigsysHandler uintptr // the previous SIGSYS handler
)

func bluepillHandler(context unsafe.Pointer)    {}
func seccompMmapHandler(context unsafe.Pointer) {}
func redpill()                                  {}

func sighandler()
func sigsysHandler()
