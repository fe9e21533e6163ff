"""The real runs behind tests/test_redteam4.py: the go-to-host stubs, built with the pinned Go toolchain and gcc
into a cgo program, called from Go with a gcc -O2 C callee, on linux/amd64 natively and on linux/arm64 under
qemu-user (the build and run are scripts/redteam_realruns.py's ``run_linux``).

    python scripts/redteam4_realruns.py [--keep DIR]

Prints one line per run: the stub, what the probe saw, and what a run that keeps the contract shows. Not part
of the test suite (it builds two cgo programs).
"""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO / "scripts"))

import test_redteam4 as rt  # noqa: E402  the stubs, exactly as the tests check them
from redteam_realruns import realrun_main, run_linux  # noqa: E402  the first red team's build, runs, command line

AMD64_RUNS = ("symPtr-8", "symPtr-0", "namedArgs", "namedSmall")  # symPtr-0 and namedSmall: the controls
ARM64_RUNS = ("fpcrRZ", "framed10", "framed10-control", "symPtrArm-8", "symPtrArm-0", "ptrArg9")

GO_AMD64 = "package p\n\n" + rt.WRONG_AMD64_GO + """func namedSmall()

func SymPtr(fn, x uintptr) { symPtr(fn, x) }
func NamedArgs()           { namedArgs() }
func NamedSmall()          { namedSmall() }
"""
# namedSmall: namedArgs calling a one-argument C function (g1), which takes no stack argument
ASM_AMD64 = rt.WRONG_AMD64 + "\n" + rt.NAMED_ARGS.format(name="namedSmall", callee="g1")

GO_ARM64 = "package p\n\n" + rt.ARM64_GO + """func ptrArg9(fn uintptr)

var F1, F2 = 0.1, 0.2

// add is a call of its own: the compiler would otherwise move FpcrRZ's first FADDD after the call
//go:noinline
func add() float64 { return F1 + F2 }

func FpcrRZ() (before, after float64) { before = add(); fpcrRZ(); after = add(); return }
func Framed10(fn uintptr)              { framed10(fn) }
func SymPtrArm(fn, x uintptr)          { symPtrArm(fn, x) }
func PtrArg9(fn uintptr)               { ptrArg9(fn) }
"""

MAIN_AMD64 = r"""package main

/*
#cgo CFLAGS: -O2
#include <stdint.h>
__attribute__((noinline, noclone)) long h7(long a, long b, long c, long d, long e, long f, long g) { return g; }
long f7(long a, long b, long c, long d, long e, long f, long g) { return h7(a, b, c, d, e, f, g + 1); }
long g1(long a) { return a + 1; }
void wp(long *p) { p[0] = 0; }
static uintptr_t addr_wp(void) { return (uintptr_t)wp; }
*/
import "C"

import (
	"fmt"
	"os"

	"example.com/rt/p"
)

func main() {
	switch os.Args[1] {
	case "symPtr-8": // wp writes the word 16(SP), the saved SP
		p.SymPtr(uintptr(C.addr_wp()), 8)
	case "symPtr-0": // wp writes 8(SP), a word the stub does not read back
		p.SymPtr(uintptr(C.addr_wp()), 0)
	case "namedArgs":
		p.NamedArgs()
	case "namedSmall":
		p.NamedSmall()
	}
	fmt.Println("returned")
}
"""

MAIN_ARM64 = r"""package main

/*
#cgo CFLAGS: -O2
#include <stdint.h>
__attribute__((noinline, noclone)) long h10(long a, long b, long c, long d, long e, long f, long g, long h, long i,
                                            long j) { return i + j; }
long f10(long a, long b, long c, long d, long e, long f, long g, long h, long i, long j) {
	return h10(a, b, c, d, e, f, g, h, i + 1, j + 2);
}
long g1(long a) { return a + 1; }
void wp(long *p) { p[0] = 0; }
__attribute__((noinline)) void f9(long a, long b, long c, long d, long e, long f, long g, long h, long *p, long q) {
	*p = 0;
}
static uintptr_t addr_wp(void) { return (uintptr_t)wp; }
static uintptr_t addr_f9(void) { return (uintptr_t)f9; }
static uintptr_t addr_f10(void) { return (uintptr_t)f10; }
static uintptr_t addr_g1(void) { return (uintptr_t)g1; }
*/
import "C"

import (
	"fmt"
	"os"

	"example.com/rt/p"
)

func main() {
	switch os.Args[1] {
	case "fpcrRZ":
		b, a := p.FpcrRZ()
		fmt.Printf("Go's 0.1+0.2 before %.17g, after %.17g (kept: equal)\n", b, a)
		return
	case "framed10": // f10's 9th and 10th arguments are the stub's saved R29 and R30
		p.Framed10(uintptr(C.addr_f10()))
	case "framed10-control": // a C function with register arguments only
		p.Framed10(uintptr(C.addr_g1()))
	case "symPtrArm-8": // wp writes 8(SP), the saved R30
		p.SymPtrArm(uintptr(C.addr_wp()), 8)
	case "ptrArg9": // f9's 9th argument points at the stub's saved R30
		p.PtrArg9(uintptr(C.addr_f9()))
	case "symPtrArm-0": // wp writes 0(SP), the saved R29, which the Go caller of SymPtrArm may not read
		p.SymPtrArm(uintptr(C.addr_wp()), 0)
	}
	fmt.Println("returned")
}
"""


def _write(root: Path) -> None:
    (root / "p").mkdir(parents=True)
    (root / "go.mod").write_text("module example.com/rt\n\ngo 1.21\n")
    (root / "p" / "p_amd64.go").write_text(GO_AMD64)
    (root / "p" / "p_arm64.go").write_text(GO_ARM64)
    (root / "p" / "p_amd64.s").write_text('#include "textflag.h"\n\n' + ASM_AMD64)
    (root / "p" / "p_arm64.s").write_text('#include "textflag.h"\n\n' + rt.ARM64 + "\n" + rt.PTR_ARG9)
    for name, text in (("run", MAIN_AMD64), ("runarm", MAIN_ARM64)):
        (root / "cmd" / name).mkdir(parents=True)
        (root / "cmd" / name / "main.go").write_text(text)


def main() -> int:
    return realrun_main(__doc__, "symabi-redteam4-", _write,
                        lambda root, go: run_linux(root, go, AMD64_RUNS, ARM64_RUNS))


if __name__ == "__main__":
    raise SystemExit(main())
