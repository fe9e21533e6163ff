// The real run of tests/data/check/sighandler's handlers on linux/amd64 (tests/test_signal_handler.py copies
// this file into the module's package h, realrun_amd64.s beside it, and main.go into cmd/run).

package h

func handlers() (good, scratch, skewed, restorer uintptr)
func interrupted(pid, tid uintptr) (lost uintptr)

// Handlers gives the handlers' and the restorer's addresses.
func Handlers() (good, scratch, skewed, restorer uintptr) { return handlers() }

// Interrupted sends the thread SIGUSR1 from code that holds a pattern in RBX, RBP and R12-R15, and says how
// many of them the handler's return left changed.
func Interrupted(pid, tid uintptr) uintptr { return interrupted(pid, tid) }
