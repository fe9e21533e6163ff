// The real run of gVisor's KVM SIGILL handler: written for symabi, not gVisor's code (realrun_kvm_amd64.s).

package kvm

func addresses() (handler, plain, aligned, restorer uintptr)
func interrupted(pid, tid uintptr) (lost uintptr)

// Install makes sighandler chain to prevAligned (aligned) or prevPlain, and gives the handler's and the
// restorer's addresses.
func Install(aligned bool) (handler, restorer uintptr) {
	h, plain, strict, r := addresses()
	savedHandler = plain
	if aligned {
		savedHandler = strict
	}
	return h, r
}

// Interrupted sends the thread SIGILL and says whether RBP came back changed.
func Interrupted(pid, tid uintptr) uintptr { return interrupted(pid, tid) }
