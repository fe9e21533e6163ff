// The crosscall2 harness: C calls crosscall2(fn, a, n, ctxt) exactly as cmd/cgo's exported-function
// wrappers do (fn: a Go func(unsafe.Pointer); ctxt: the runtime's context, as
// _cgo_wait_runtime_init_done returns it), with a sentinel in every register the host ABI makes
// callee-saved; fn runs the adversary. It does so twice: from C code that Go called (the callback
// runs on the calling goroutine's M) and from a thread C created (crosscall2 enters a Go that has no
// M there: cgocallback takes an extra M, needm, and gives it back, dropm). The C side prints one
// "symabi-realrun lost" line per loss.
package main

/*
#include <stddef.h>
#include <stdint.h>
#include "realrun.h"
#ifdef _WIN32
#include <windows.h>
#else
#include <pthread.h>
#endif

extern void crosscall2(void (*fn)(void *), void *a, int c, size_t ctxt);
extern size_t _cgo_wait_runtime_init_done(void);
extern void _cgo_release_context(size_t);

struct call { uint64_t seed; uintptr_t fn; const char *entry; int lost; };

static void enter(struct call *c) {
	size_t ctxt = _cgo_wait_runtime_init_done();
	char frame[16] = {0};
	c->lost = realrun_run(c->entry, c->seed, (uint64_t)(uintptr_t)crosscall2, c->fn, (uint64_t)(uintptr_t)frame,
			      0, ctxt);
	_cgo_release_context(ctxt);
}

#ifdef _WIN32
static DWORD WINAPI thread_main(LPVOID c) { enter(c); return 0; }
static int on_c_thread(struct call *c) {
	HANDLE t = CreateThread(NULL, 0, thread_main, c, 0, NULL);
	if (t == NULL) return -1;
	WaitForSingleObject(t, INFINITE);
	CloseHandle(t);
	return 0;
}
#else
static void *thread_main(void *c) { enter(c); return NULL; }
static int on_c_thread(struct call *c) {
	pthread_t t;
	if (pthread_create(&t, NULL, thread_main, c) != 0) return -1;
	return pthread_join(t, NULL);
}
#endif

static int run(uint64_t seed, uintptr_t fn) {
	struct call here = {seed, fn, "crosscall2", -1}, there = {seed ^ 0x5a5a5a5a5a5a5a5aULL, fn, "crosscall2/c-thread", -1};
	enter(&here);
	if (on_c_thread(&there) != 0 || there.lost < 0) return -1;
	return here.lost + there.lost;
}
*/
import "C"

import (
	"fmt"
	"os"
	"reflect"
	"unsafe"

	"symabi.realrun/adversary"
)

func callee(frame unsafe.Pointer) { adversary.Dirty() }

func main() {
	lost := C.run(C.uint64_t(adversary.Seed()), C.uintptr_t(reflect.ValueOf(callee).Pointer()))
	if lost < 0 {
		fmt.Println("symabi-realrun wrong-result the C thread did not run")
		os.Exit(1)
	}
	os.Exit(int(min(lost, 1)))
}
