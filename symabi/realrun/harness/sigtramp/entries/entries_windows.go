//go:build windows

// Package entries hands the harness the address of a runtime entry point the host calls but Go code
// cannot name (the harness links with -ldflags=-checklinkname=0 for this reference from assembly).
package entries

// ExceptionTramp is the address of runtime·exceptiontramp, the vectored exception handler Go installs.
func ExceptionTramp() uintptr
