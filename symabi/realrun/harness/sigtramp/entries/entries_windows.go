//go:build windows

// Package entries hands the harness the addresses of runtime entry points the host calls but Go code
// cannot name (the harness links with -ldflags=-checklinkname=0 for these references from assembly).
package entries

// ExceptionTramp is the address of runtime·exceptiontramp, the vectored exception handler Go installs.
func ExceptionTramp() uintptr

// FirstContinueTramp is the address of runtime·firstcontinuetramp, Go's first vectored continue handler.
func FirstContinueTramp() uintptr
