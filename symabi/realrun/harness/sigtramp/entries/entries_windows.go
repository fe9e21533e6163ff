//go:build windows

package entries

// ExceptionTramp is the address of runtime·exceptiontramp, the vectored exception handler Go installs.
func ExceptionTramp() uintptr

// FirstContinueTramp is the address of runtime·firstcontinuetramp, Go's first vectored continue handler.
func FirstContinueTramp() uintptr
