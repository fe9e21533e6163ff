// The C side of a symabi real-run harness: the register file handed to the assembly helper, which
// loads `in` into every callee-saved register of the host ABI, calls `target(args...)` and stores
// what the registers hold after the call into `out`. Written once here, shared by every harness.
#ifndef SYMABI_REALRUN_H
#define SYMABI_REALRUN_H

#include <stdint.h>

#if defined(_WIN64)
// RBX RBP RDI RSI R12-R15, then XMM6-XMM15 as (low, high) quadwords; then RFLAGS and RSP.
#define REALRUN_SLOTS 28
#elif defined(__x86_64__)
// RBX RBP R12-R15, then the x87 control word and MXCSR (each in the low bits of a slot); then RSP.
#define REALRUN_SLOTS 8
#elif defined(__aarch64__)
// X19-X29, then the low 64 bits of D8-D15; then SP.
#define REALRUN_SLOTS 19
#else
#error "symabi real run: no helper for this host ABI"
#endif

struct realrun_frame {
	uint64_t target;       // the entry point the helper calls
	uint64_t args[4];      // its first four integer arguments
	uint64_t in[REALRUN_SLOTS];
	uint64_t out[REALRUN_SLOTS];
	uint64_t flags_in;     // windows: RFLAGS at the call (DF clear, as the ABI requires)
	uint64_t flags_out;    // windows: RFLAGS after the call
	uint64_t sp_in;        // the stack pointer at the call instruction
	uint64_t sp_out;       // the stack pointer after the call returned
	uint64_t ret;          // RAX / X0 after the call
	uint64_t saved_sp;     // the helper's own, to recover even when the entry point loses the stack pointer
};

extern struct realrun_frame realrun_frame;
void realrun_call(void);  // the assembly helper (helper_<goos>_<goarch>.S)

// Fill `in` with distinct sentinels from seed, call target(a0..a3) through the helper, print one line
// per lost register, return the number lost.
int realrun_run(const char *entry, uint64_t seed, uint64_t target, uint64_t a0, uint64_t a1, uint64_t a2,
		uint64_t a3);

#endif
