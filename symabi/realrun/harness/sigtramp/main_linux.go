// The sigtramp harness (linux): a C library's signal handler forwards to Go's, as in golang.org/issue/31827.
// The harness installs its own SIGUSR1 handler over the one Go installed and raises SIGUSR1 from C
// code; the kernel delivers it to the harness's handler, which calls the handler it replaced (Go's,
// runtime·cgoSigtramp, which enters runtime·sigtramp) the way the kernel would, with a sentinel in
// every register the host ABI makes callee-saved. The Go side is the runtime's own sigtrampgo: Go
// was asked for SIGUSR1 (signal.Notify), so it must queue the signal, which the harness checks.
package main

/*
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include "realrun.h"

static struct sigaction realrun_go;  // Go's handler, which the harness's forwards to
static uint64_t realrun_seed;
static int realrun_lost = -1;

static void forward(int sig, siginfo_t *info, void *uc) {
	realrun_lost = realrun_run("sigtramp", realrun_seed, (uint64_t)(uintptr_t)realrun_go.sa_sigaction, sig,
				   (uint64_t)(uintptr_t)info, (uint64_t)(uintptr_t)uc, 0);
}

static int run(uint64_t seed) {
	struct sigaction mine;
	memset(&mine, 0, sizeof mine);
	mine.sa_sigaction = forward;
	mine.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESTART;  // Go's own flags: on the M's signal stack
	realrun_seed = seed;
	if (sigaction(SIGUSR1, &mine, &realrun_go) != 0 || !(realrun_go.sa_flags & SA_SIGINFO))
		return -2;
	raise(SIGUSR1);  // delivered to this thread before raise returns: while C code runs
	sigaction(SIGUSR1, &realrun_go, NULL);
	return realrun_lost;
}
*/
import "C"

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"symabi.realrun/adversary"
)

func main() {
	queued := make(chan os.Signal, 1)
	signal.Notify(queued, syscall.SIGUSR1)
	lost := C.run(C.uint64_t(adversary.Seed()))
	if lost < 0 {
		fmt.Printf("symabi-realrun wrong-result the signal never reached the harness's handler (%d)\n", lost)
		os.Exit(1)
	}
	select {
	case <-queued:
	case <-time.After(10 * time.Second):
		fmt.Println("symabi-realrun wrong-result Go's handler did not queue SIGUSR1")
		os.Exit(1)
	}
	os.Exit(int(min(lost, 1)))
}
