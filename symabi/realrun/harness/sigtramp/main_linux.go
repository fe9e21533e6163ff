// The sigtramp harness (linux): a C library's signal handler forwards to Go's, as in golang.org/issue/31827.
// The harness installs its own SIGUSR1 handler over the one Go installed and raises SIGUSR1 from C
// code; the kernel delivers it to the harness's handler, which calls the handler it replaced (Go's,
// runtime·cgoSigtramp, which enters runtime·sigtramp) the way the kernel would, with a sentinel in
// every register the host ABI makes callee-saved. The Go side is the runtime's own sigtrampgo behind
// the build's adversarial shim (harness/shims/): Go was asked for SIGUSR1 (signal.Notify), so it must
// queue the signal, which the harness checks. On arm64 the shim first raises SIGUSR2 on its thread with
// sigtramp's SP (runtime·symabiNestedSignal, armed only while the forwarded call runs); the harness's no-op
// SIGUSR2 handler runs on the same signal stack, so the kernel builds its frame right below that SP. The
// harness reports that the signal came and whether it changed the word below SP.
package main

/*
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include "realrun.h"

static struct sigaction realrun_go;  // Go's handler, which the harness's forwards to
static uint64_t realrun_seed;
static int realrun_lost = -1;
static volatile int realrun_nested = -1;  // SIGUSR2 deliveries while armed; -1: no nested signal on this port

#if defined(__aarch64__)
static volatile uint32_t *symabi_nested_signal, *symabi_nested_overwritten;  // the shim's words (entries)
static void nested(int sig, siginfo_t *info, void *uc) { realrun_nested++; }
static int arm(int on) {
	if (on) {
		struct sigaction noop;
		memset(&noop, 0, sizeof noop);
		noop.sa_sigaction = nested;
		noop.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESTART;
		if (sigaction(SIGUSR2, &noop, NULL) != 0) return -1;
		realrun_nested = 0;
	}
	*symabi_nested_signal = on ? SIGUSR2 : 0;
	return 0;
}
static int overwritten(void) { return *symabi_nested_overwritten; }
static void shim_words(uintptr_t sig, uintptr_t changed) {
	symabi_nested_signal = (uint32_t *)sig, symabi_nested_overwritten = (uint32_t *)changed;
}
#else
static int arm(int on) { return 0; }
static int overwritten(void) { return 0; }
static void shim_words(uintptr_t sig, uintptr_t changed) {}
#endif

static void forward(int sig, siginfo_t *info, void *uc) {
	arm(1);
	realrun_lost = realrun_run("sigtramp", realrun_seed, (uint64_t)(uintptr_t)realrun_go.sa_sigaction, sig,
				   (uint64_t)(uintptr_t)info, (uint64_t)(uintptr_t)uc, 0);
	arm(0);
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

static int nested_count(void) { return realrun_nested; }
*/
import "C"

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"symabi.realrun/adversary"
	"symabi.realrun/entries"
)

func main() {
	queued := make(chan os.Signal, 1)
	signal.Notify(queued, syscall.SIGUSR1)
	C.shim_words(C.uintptr_t(entries.NestedSignal()), C.uintptr_t(entries.NestedOverwritten()))
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
	switch n := int(C.nested_count()); {
	case n == 0:
		fmt.Println("symabi-realrun wrong-result the shim's nested SIGUSR2 never reached the harness's handler")
		os.Exit(1)
	case n > 0:
		fmt.Printf("symabi-realrun note nested SIGUSR2 delivered below sigtramp's SP %d time(s); the word at SP-8 "+
			"changed: %v\n", n, C.overwritten() != 0)
	}
	os.Exit(int(min(lost, 1)))
}
