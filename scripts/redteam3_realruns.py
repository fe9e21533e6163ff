"""The real runs behind tests/test_redteam3.py: the host-entry stubs, built with the pinned Go toolchain and gcc
into a cgo program and entered from C (a gcc-assembled probe that sets every callee-saved register to a marker,
calls the stub and records what it got back), on linux/amd64 natively and on linux/arm64 under qemu-user.

    python scripts/redteam3_realruns.py [--keep DIR]

Needs gcc, aarch64-linux-gnu-gcc, qemu-aarch64 and the aarch64 sysroot (/usr/aarch64-linux-gnu); a port whose
tools are missing is skipped, saying so. Prints one line per run: the stub, the registers that came back changed
(none for a run that keeps the contract). Not part of the test suite (it builds two cgo programs).
"""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO / "scripts"))

import test_redteam3 as rt  # noqa: E402  the stubs, exactly as the tests check them
from redteam_realruns import _build, _run, realrun_main, run_linux  # noqa: E402  the first red team's builds and runs


AMD64_RUNS = ("resultSlot", "ctxPtr", "ctxPtr-control", "ctxGo", "acCheck", "acAligned", "cbN")  # ctxPtr-control: a C callee that writes nothing
ARM64_RUNS = ("stxr", "pairWB", "noG")

# The stubs' addresses (ABI0 symbols), for C to call.
ADDRS_AMD64 = """
TEXT ·addrs(SB),NOSPLIT,$0-48
	LEAQ	·resultSlot(SB), AX
	MOVQ	AX, ret+0(FP)
	LEAQ	·ctxPtr(SB), AX
	MOVQ	AX, ret1+8(FP)
	LEAQ	·ctxGo(SB), AX
	MOVQ	AX, ret2+16(FP)
	LEAQ	·acCheck(SB), AX
	MOVQ	AX, ret3+24(FP)
	LEAQ	·acAligned(SB), AX
	MOVQ	AX, ret4+32(FP)
	LEAQ	·cbN(SB), AX
	MOVQ	AX, ret5+40(FP)
	RET
"""
ADDRS_ARM64 = """
TEXT ·addrs(SB),NOSPLIT,$0-24
	MOVD	$·stxr(SB), R0
	MOVD	R0, ret+0(FP)
	MOVD	$·pairWB(SB), R0
	MOVD	R0, ret1+8(FP)
	MOVD	$·noG(SB), R0
	MOVD	R0, ret2+16(FP)
	RET
"""
GO_AMD64 = "//go:build amd64\n\npackage p\n\n" + rt.CROSSCALL2_N_GO + rt.WRONG_AMD64_GO + rt.AC_GO + """
func addrs() (resultSlot, ctxPtr, ctxGo, acCheck, acAligned, cbN uintptr)

func Addrs() (uintptr, uintptr, uintptr, uintptr, uintptr, uintptr) { return addrs() }
"""
GO_WINDOWS = "package p\n\n" + rt.WINDOWS_GO + """
func addrs() uintptr

func Addrs() uintptr { return addrs() }
"""
ADDRS_WINDOWS = """
TEXT ·addrs(SB),NOSPLIT,$0-8
	LEAQ	·x87Init(SB), AX
	MOVQ	AX, ret+0(FP)
	RET
"""
GO_ARM64 = "package p\n\n" + rt.ARM64_GO + rt.NO_G_GO + """
func addrs() (stxr, pairWB, noG uintptr)

func Addrs() (uintptr, uintptr, uintptr) { return addrs() }
"""

# void probe(void *fn, uint64_t a0, uint64_t a1, uint64_t out[8]): fn(a0, a1) with RBX, RBP, R12-R15 set to
# 0x1111..., 0x2222..., ...; out[0..5] = those registers after the call, out[6] = RSP after - RSP before, out[7] =
# RFLAGS after. RSP is 16-byte aligned at the call.
PROBE_AMD64 = r"""	.text
	.globl probe
probe:
	push %rbx
	push %rbp
	push %r12
	push %r13
	push %r14
	push %r15
	push %rcx
	mov %rsp, probe_sp(%rip)
	mov %rdi, %rax
	mov %rsi, %rdi
	mov %rdx, %rsi
	movabs $0x1111111111111111, %rbx
	movabs $0x2222222222222222, %rbp
	movabs $0x3333333333333333, %r12
	movabs $0x4444444444444444, %r13
	movabs $0x5555555555555555, %r14
	movabs $0x6666666666666666, %r15
	call *%rax
	pushfq
	pop %rax
	mov %rsp, %rdx
	mov probe_sp(%rip), %rsp
	sub %rsp, %rdx
	pop %rcx
	mov %rbx, 0(%rcx)
	mov %rbp, 8(%rcx)
	mov %r12, 16(%rcx)
	mov %r13, 24(%rcx)
	mov %r14, 32(%rcx)
	mov %r15, 40(%rcx)
	mov %rdx, 48(%rcx)
	mov %rax, 56(%rcx)
	pop %r15
	pop %r14
	pop %r13
	pop %r12
	pop %rbp
	pop %rbx
	ret
	.bss
probe_sp: .quad 0
	.section .note.GNU-stack,"",@progbits
"""

# The same for AAPCS64: X19-X28 set to 0x1919, 0x2020, ..., D8 to 0x1919; out[0..9] = X19-X28 after, out[10] =
# D8 after, out[11] = SP after - SP before.
PROBE_ARM64 = r"""	.text
	.globl probe
probe:
	stp x29, x30, [sp, #-112]!
	mov x29, sp
	stp x19, x20, [sp, #16]
	stp x21, x22, [sp, #32]
	stp x23, x24, [sp, #48]
	stp x25, x26, [sp, #64]
	stp x27, x28, [sp, #80]
	str d8, [sp, #96]
	str x3, [sp, #104]
	mov x9, x0
	mov x0, x1
	mov x1, x2
	movz x19, #0x1919
	movz x20, #0x2020
	movz x21, #0x2121
	movz x22, #0x2222
	movz x23, #0x2323
	movz x24, #0x2424
	movz x25, #0x2525
	movz x26, #0x2626
	movz x27, #0x2727
	movz x28, #0x2828
	fmov d8, x19
	mov x10, sp
	adrp x11, probe_sp
	str x10, [x11, :lo12:probe_sp]
	blr x9
	mov x12, sp
	adrp x11, probe_sp
	ldr x10, [x11, :lo12:probe_sp]
	mov sp, x10
	sub x12, x12, x10
	ldr x3, [sp, #104]
	stp x19, x20, [x3, #0]
	stp x21, x22, [x3, #16]
	stp x23, x24, [x3, #32]
	stp x25, x26, [x3, #48]
	stp x27, x28, [x3, #64]
	str d8, [x3, #80]
	str x12, [x3, #88]
	ldp x19, x20, [sp, #16]
	ldp x21, x22, [sp, #32]
	ldp x23, x24, [sp, #48]
	ldp x25, x26, [sp, #64]
	ldp x27, x28, [sp, #80]
	ldr d8, [sp, #96]
	ldp x29, x30, [sp], #112
	ret
	.bss
	.balign 8
probe_sp: .quad 0
	.section .note.GNU-stack,"",@progbits
"""

MAIN_AMD64 = r"""package main

/*
#cgo CFLAGS: -O2
#include <stdint.h>
extern void probe(void *fn, uint64_t a0, uint64_t a1, uint64_t out[8]);
struct ctx { long *p; long spare; };
static void write_through(struct ctx *c) { *c->p = 0; }
static void write_nothing(struct ctx *c) { (void)c; }
static struct ctx the_ctx;
static void run(uintptr_t fn, int which, uint64_t out[8]) {
	void *f = which == 1 ? (void *)write_through : (void *)write_nothing;
	if (which == 2)  // ctxGo: &ctx in RDI
		probe((void *)fn, (uint64_t)&the_ctx, 0, out);
	else  // ctxPtr(f, &ctx)
		probe((void *)fn, (uint64_t)f, (uint64_t)&the_ctx, out);
}
*/
import "C"

import (
	"fmt"
	"os"

	"example.com/rt/p"
)

func main() {
	resultSlot, ctxPtr, ctxGo, acCheck, acAligned, cbN := p.Addrs()
	var out [8]C.uint64_t
	switch os.Args[1] {
	case "resultSlot":
		C.run(C.uintptr_t(resultSlot), 0, &out[0])
	case "ctxPtr":
		C.run(C.uintptr_t(ctxPtr), 1, &out[0])
	case "ctxPtr-control":
		C.run(C.uintptr_t(ctxPtr), 0, &out[0])
	case "ctxGo":
		C.run(C.uintptr_t(ctxGo), 2, &out[0])
	case "acCheck": // SIGBUS (#AC) here: the run dies with exit 2
		C.run(C.uintptr_t(acCheck), 0, &out[0])
	case "acAligned":
		C.run(C.uintptr_t(acAligned), 0, &out[0])
	case "cbN": // C -> cbN -> crosscall2 -> cgocallback -> writer
		C.run(C.uintptr_t(cbN), 0, &out[0])
	}
	changed := ""
	for i, n := range []string{"RBX", "RBP", "R12", "R13", "R14", "R15"} {
		if want := uint64(0x1111111111111111) * uint64(i+1); uint64(out[i]) != want {
			changed += fmt.Sprintf(" %s=%#x (was %#x)", n, uint64(out[i]), want)
		}
	}
	if changed == "" {
		changed = " none"
	}
	fmt.Printf("changed:%s; RSP delta %d; DF %d\n", changed, int64(out[6]), (uint64(out[7])>>10)&1)
}
"""

# windows/amd64 under Wine: the x87 control word (FNSTCW) before and after a call of x87Init, from a caller that
# set it to Windows' documented default, 0x27f.
MAIN_WINDOWS = r"""package main

/*
#include <stdint.h>
static unsigned short cw(void) { unsigned short w; __asm__ volatile("fnstcw %0" : "=m"(w)); return w; }
static void setcw(unsigned short w) { __asm__ volatile("fldcw %0" : : "m"(w)); }
// The caller runs with 0x27f, the control word Windows documents (53-bit precision; mingw's start-up code leaves
// 0x37f): the callee must hand back the one it was given.
static void run(uintptr_t fn, unsigned short out[2]) {
	setcw(0x27f);
	out[0] = cw();
	((void (*)(void))fn)();
	out[1] = cw();
	setcw(0x37f);
}
*/
import "C"

import (
	"fmt"

	"example.com/rt/p"
)

func main() {
	var out [2]C.ushort
	C.run(C.uintptr_t(p.Addrs()), &out[0])
	fmt.Printf("x87 control word before %#x, after %#x (kept: equal)\n", uint16(out[0]), uint16(out[1]))
}
"""

MAIN_ARM64 = r"""package main

/*
#include <stdint.h>
extern void probe(void *fn, uint64_t a0, uint64_t a1, uint64_t out[12]);
static void run(uintptr_t fn, uint64_t out[12]) { probe((void *)fn, 0, 0, out); }
*/
import "C"

import (
	"fmt"
	"os"

	"example.com/rt/p"
)

func main() {
	stxr, pairWB, noG := p.Addrs()
	var out [12]C.uint64_t
	fn := map[string]uintptr{"stxr": stxr, "pairWB": pairWB, "noG": noG}[os.Args[1]] // noG: the probe's X28 = 0x2828
	C.run(C.uintptr_t(fn), &out[0])
	changed := ""
	marks := []uint64{0x1919, 0x2020, 0x2121, 0x2222, 0x2323, 0x2424, 0x2525, 0x2626, 0x2727, 0x2828}
	for i, want := range marks {
		if uint64(out[i]) != want {
			changed += fmt.Sprintf(" X%d=%#x (was %#x)", 19+i, uint64(out[i]), want)
		}
	}
	if uint64(out[10]) != 0x1919 {
		changed += fmt.Sprintf(" D8=%#x (was 0x1919)", uint64(out[10]))
	}
	if changed == "" {
		changed = " none"
	}
	fmt.Printf("changed:%s; SP delta %d\n", changed, int64(out[11]))
}
"""


def _write(root: Path) -> None:
    (root / "p").mkdir(parents=True)
    (root / "go.mod").write_text("module example.com/rt\n\ngo 1.21\n")
    (root / "p" / "p_amd64.go").write_text("//go:build !windows\n\n" + GO_AMD64.replace("//go:build amd64\n\n", ""))
    (root / "p" / "p_windows_amd64.go").write_text(GO_WINDOWS)
    (root / "p" / "p_windows_amd64.s").write_text('#include "textflag.h"\n\n' + rt.WINDOWS + ADDRS_WINDOWS)
    (root / "p" / "p_arm64.go").write_text(GO_ARM64)
    (root / "p" / "p_linux_amd64.s").write_text('#include "textflag.h"\n\n' + rt.WRONG_AMD64 + "\n" + rt.AC + "\n" + rt.CROSSCALL2_N + ADDRS_AMD64)
    (root / "p" / "p_arm64.s").write_text('#include "textflag.h"\n\n' + rt.ARM64 + "\n" + rt.NO_G + ADDRS_ARM64)
    for name, main, probe, arch in (("run", MAIN_AMD64, PROBE_AMD64, "amd64"), ("runarm", MAIN_ARM64, PROBE_ARM64,
                                                                                 "arm64"), ("runwin", MAIN_WINDOWS, "", "")):
        (root / "cmd" / name).mkdir(parents=True)
        (root / "cmd" / name / "main.go").write_text(main)
        if probe:
            (root / "cmd" / name / f"probe_{arch}.S").write_text(probe)


def _windows(root: Path, go: Path) -> str:
    """x87Init under Wine, in the prefix symabi's own real runs use (symabi.realrun.wine)."""
    from symabi.errors import SymabiError
    from symabi.realrun import catalog, wine
    from symabi.realrun.hosttools import missing

    runner = catalog.load().runners["windows/amd64"]
    if missing([runner])[0]:
        return f"skipped (needs {', '.join(missing([runner])[0])})"
    error = _build(root, go, "amd64", runner.cc, root / "run.exe", "./cmd/runwin", goos="windows")
    if error:
        return error
    try:
        env = wine.environment(runner)
    except SymabiError as exc:
        return f"skipped ({exc})"
    return _run([*runner.exec, str(root / "run.exe")], env=env, timeout=300)


def _runs(root: Path, go: Path) -> None:
    run_linux(root, go, AMD64_RUNS, ARM64_RUNS)
    print(f"windows/amd64 x87Init: {_windows(root, go)}")


def main() -> int:
    return realrun_main(__doc__, "symabi-redteam3-", _write, _runs)


if __name__ == "__main__":
    sys.exit(main())
