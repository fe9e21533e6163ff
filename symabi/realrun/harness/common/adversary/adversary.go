// Package adversary is the Go side of a symabi real run: a callee that does to the machine everything
// Go code may do to it, so an entry point that leaves any host callee-saved register to Go loses it.
package adversary

// Clobber (assembly, ABI0) overwrites every register Go may clobber, all 128 bits of every vector
// register included, and fills 8 KiB below its stack pointer with a pattern. The caller must have
// grown its goroutine stack past that first (Dirty does).
func Clobber()

var sink [64 << 10]byte

// Dirty makes sure the goroutine stack has room below the caller's SP, then runs Clobber.
func Dirty() {
	grow(0)
	Clobber()
}

//go:noinline
func grow(i int) byte {
	var b [32 << 10]byte
	for j := range b {
		b[j] = byte(j + i)
	}
	copy(sink[:], b[:])
	return b[i]
}
