// The real run of gVisor's KVM SIGILL handler: `run plain|aligned` installs kvm.sighandler for SIGILL with
// sigaction(SA_SIGINFO|SA_ONSTACK|SA_RESTORER), as gVisor does, and sends SIGILL from code outside the guest
// (its fallback path chains to the previous handler). Written for symabi, not gVisor's code.

package main

import (
	"fmt"
	"os"
	"runtime"
	"syscall"
	"unsafe"

	"gvisor.dev/gvisor/pkg/sentry/platform/kvm"
)

type sigaction struct{ handler, flags, restorer, mask uintptr }

func main() {
	runtime.LockOSThread()
	handler, restorer := kvm.Install(os.Args[1] == "aligned")
	sa := sigaction{handler, 0x4 | 0x08000000 | 0x04000000, restorer, 0}
	if _, _, e := syscall.RawSyscall6(syscall.SYS_RT_SIGACTION, uintptr(syscall.SIGILL), uintptr(unsafe.Pointer(&sa)), 0, 8, 0, 0); e != 0 {
		panic(e)
	}
	fmt.Println("returned, lost", kvm.Interrupted(uintptr(syscall.Getpid()), uintptr(syscall.Gettid())))
}
