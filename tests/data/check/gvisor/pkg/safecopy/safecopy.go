// Package safecopy declares what gVisor's pkg/safecopy/sighandler_*.s read, for symabi's tests:
// written for symabi (not gVisor's code), with the names and types of gVisor's safecopy.go.
package safecopy

// The begin and end addresses of the functions the signal handler checks, and the handlers it chains to.
var (
	memcpyBegin, memcpyEnd                                 uintptr
	memclrBegin, memclrEnd                                 uintptr
	swapUint32Begin, swapUint32End                         uintptr
	swapUint64Begin, swapUint64End                         uintptr
	compareAndSwapUint32Begin, compareAndSwapUint32End     uintptr
	loadUint32Begin, loadUint32End                         uintptr
	savedSigSegVHandler, savedSigBusHandler                uintptr
)

func signalHandler()
func addrOfSignalHandler() uintptr
