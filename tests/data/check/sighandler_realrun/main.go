// The real run of tests/data/check/sighandler's handlers: `run NAME` installs handler NAME for SIGUSR1 with
// sigaction(SA_SIGINFO|SA_ONSTACK|SA_RESTORER), as gVisor installs its handlers, and sends it.

package main

import (
	"fmt"
	"os"
	"runtime"
	"syscall"
	"unsafe"

	"example.com/sig/h"
)

type sigaction struct {
	handler, flags, restorer, mask uintptr
}

func main() {
	runtime.LockOSThread()
	good, scratch, skewed, restorer := h.Handlers()
	handler := map[string]uintptr{"good": good, "scratch": scratch, "skewed": skewed}[os.Args[1]]
	const saSiginfo, saOnstack, saRestorer = 0x4, 0x08000000, 0x04000000
	sa := sigaction{handler, saSiginfo | saOnstack | saRestorer, restorer, 0}
	if _, _, e := syscall.RawSyscall6(syscall.SYS_RT_SIGACTION, uintptr(syscall.SIGUSR1),
		uintptr(unsafe.Pointer(&sa)), 0, 8, 0, 0); e != 0 {
		panic(e)
	}
	lost := h.Interrupted(uintptr(syscall.Getpid()), uintptr(syscall.Gettid()))
	fmt.Println("returned, lost", lost)
}
