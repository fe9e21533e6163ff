"""The real runs behind tests/test_redteam.py: each red-team stub, built with the pinned Go toolchain and gcc
into a cgo program, run on linux/amd64 natively and on linux/arm64 under qemu-user, with a probe that shows
the violation (or its absence) without any of symabi's models.

    python scripts/redteam_realruns.py [--keep DIR]

Needs gcc, aarch64-linux-gnu-gcc, qemu-aarch64 and the aarch64 sysroot (/usr/aarch64-linux-gnu); a case whose
tools are missing is skipped, saying so. Prints one line per run: the stub, what the probe saw, and what a
run that keeps the contract would have shown. Not part of the test suite (it builds two cgo programs).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))

import test_redteam as rt  # noqa: E402  the stubs, exactly as the tests check them

from symabi.toolchain import find_toolchain  # noqa: E402

DECLS = """package p

func wide(fn, x uintptr)
func mmx(fn uintptr)
func mxcsr()
func ownFrame(fn uintptr)
func stackArgs(fn uintptr)
func status()
func callC(fn, arg uintptr) uintptr
"""

PROBES_AMD64 = """package p

// Wide: a caller with a live local right above the 16 argument bytes its declaration of wide lays out.
//go:noinline
func Wide() [4]uintptr {
	var x [4]uintptr
	x[0], x[1], x[2], x[3] = 1, 2, 3, 4
	wide(11, 12)
	return x
}

var F1, F2 = 0.1, 0.2
var Sink float64

func Mxcsr() (before, after float64) { before = F1 + F2; mxcsr(); after = F1 + F2; return }
func Mmx(fn uintptr)                  { mmx(fn) }
func OwnFrame(fn uintptr)             { ownFrame(fn) }
func StackArgs(fn uintptr)            { stackArgs(fn) }
func Status()                         { Sink = F1 + F2; status() } // inexact: MXCSR.PE set
func CallC(fn, arg uintptr) uintptr   { return callC(fn, arg) }
"""

MAIN_AMD64 = r"""package main

/*
#cgo CFLAGS: -O2
#include <stdint.h>
#include <string.h>
extern long h7(long a, long b, long c, long d, long e, long f, long g);
long f7(long a, long b, long c, long d, long e, long f, long g) { return h7(a, b, c, d, e, f, g + 1); }
long h7(long a, long b, long c, long d, long e, long f, long g) { return g; }
volatile long double ld_in = 1.5L;
double ld_out;
void fld(void) { ld_out = (double)(ld_in * 2.0L); }
static double get_out(void) { return ld_out; }
void wp(long *p) { p[0] = 0; }
long big(long n) { volatile char buf[16384]; memset((char *)buf, (int)n, sizeof buf); return buf[n & 1023]; }
long small(long n) { return n + 1; }
static uintptr_t addr_f7(void) { return (uintptr_t)f7; }
static uintptr_t addr_fld(void) { return (uintptr_t)fld; }
static uintptr_t addr_wp(void) { return (uintptr_t)wp; }
static uintptr_t addr_big(void) { return (uintptr_t)big; }
static uintptr_t addr_small(void) { return (uintptr_t)small; }
*/
import "C"

import (
	"fmt"
	"os"
	"sync"

	"example.com/rt/p"
)

func goroutines(fn uintptr) {
	var wg sync.WaitGroup
	for i := 0; i < 64; i++ {
		wg.Add(1)
		go func() { defer wg.Done(); p.CallC(fn, 7) }()
	}
	wg.Wait()
}

func main() {
	switch os.Args[1] {
	case "wide":
		fmt.Println("caller's local after the call:", p.Wide(), "(kept: [1 2 3 4])")
		return
	case "mmx":
		p.Mmx(uintptr(C.addr_fld()))
		fmt.Println("C long double 1.5*2 after the stub's MMX use:", float64(C.get_out()), "(kept: 3)")
		return
	case "mxcsr":
		b, a := p.Mxcsr()
		fmt.Println("Go's 0.1+0.2 before and after the stub:", b, a, "(kept: equal)")
		return
	case "ownFrame":
		p.OwnFrame(uintptr(C.addr_wp()))
	case "ownFrame-control": // a C function that writes nothing through its argument
		p.OwnFrame(uintptr(C.addr_small()))
	case "stackArgs":
		p.StackArgs(uintptr(C.addr_f7()))
	case "stackArgs-control": // a C function with one argument
		p.StackArgs(uintptr(C.addr_small()))
	case "status":
		p.Status()
	case "callC-small":
		goroutines(uintptr(C.addr_small()))
	case "callC-big":
		goroutines(uintptr(C.addr_big()))
	default:
		return
	}
	fmt.Println("returned; a later fault (exit 2) is the stub's too")
}
"""

DECLS_ARM64 = """package p

func keepsFP(fn uintptr)
func asmFrame(fn uintptr)
func framed(fn uintptr)
func dczid()
func fpsr()
func getfp() uintptr

//go:noinline
func keepsFPInner(fn uintptr) { keepsFP(fn) }

//go:noinline
func framedInner(fn uintptr) { framed(fn) }

// KeepsFP reads its own R29 around a call of keepsFPInner, whose epilogue reloads it from the word
// right below keepsFPInner's SP: the word keepsFP's C callee may overwrite.
//go:noinline
func KeepsFP(fn uintptr) (before, after uintptr) { before = getfp(); keepsFPInner(fn); after = getfp(); return }

//go:noinline
func Framed(fn uintptr) (before, after uintptr) { before = getfp(); framedInner(fn); after = getfp(); return }

//go:noinline
func AsmFrame(fn uintptr) (before, after uintptr) { before = getfp(); asmFrame(fn); after = getfp(); return }

func Dczid() { dczid() }

var F1, F2 = 0.1, 0.2
var Sink float64

func Fpsr() { Sink = F1 + F2; fpsr() } // inexact: FPSR.IXC set (sticky)
"""

GETFP = """
TEXT ·getfp(SB),NOSPLIT|NOFRAME,$0-8
	MOVD	R29, ret+0(FP)
	RET
"""

MAIN_ARM64 = r"""package main

/*
#cgo CFLAGS: -O2
#include <stdint.h>
__attribute__((noinline)) void leaf(void) { __asm__ volatile("" ::: "memory"); }
void framed_c(void) { leaf(); leaf(); }  // non-leaf: stp x29, x30, [sp, #-16]!
static uintptr_t addr_framed(void) { return (uintptr_t)framed_c; }
*/
import "C"

import (
	"fmt"
	"os"

	"example.com/rt/p"
)

func main() {
	switch os.Args[1] {
	case "keepsFP", "framed", "asmFrame":
		probe := map[string]func(uintptr) (uintptr, uintptr){"keepsFP": p.KeepsFP, "framed": p.Framed,
			"asmFrame": p.AsmFrame}[os.Args[1]]
		b, a := probe(uintptr(C.addr_framed()))
		fmt.Printf("R29 the probe sees before %#x, after %#x (kept: equal)\n", b, a)
	case "fpsr":
		p.Fpsr()
		fmt.Println("returned; a later fault (exit 2) is the stub's too")
	case "dczid":
		p.Dczid()
		fmt.Println("returned; a later fault (exit 2) is the stub's too")
	}
}
"""

AMD64_RUNS = ("wide", "mmx", "mxcsr", "ownFrame", "ownFrame-control", "stackArgs", "stackArgs-control", "status",
              "callC-small", "callC-big")
ARM64_RUNS = ("keepsFP", "asmFrame", "framed", "dczid", "fpsr")


def _write(root: Path) -> None:
    (root / "p").mkdir(parents=True)
    (root / "go.mod").write_text("module example.com/rt\n\ngo 1.21\n")
    (root / "p" / "p.go").write_text("//go:build amd64\n\n" + DECLS)  # the amd64 stubs' declarations
    (root / "p" / "probes_amd64.go").write_text(PROBES_AMD64)
    (root / "p" / "probes_arm64.go").write_text(DECLS_ARM64)
    amd64 = [rt.FRAME_MISMATCH.split("//symabi:host-call stack=system\nTEXT ·cplx")[0], rt.X87_MXCSR, rt.HOST_WRITES,
             rt.CPU_REPORTS[rt.CPU_REPORTS.index("//symabi:host-call stack=system\nTEXT ·status"):], rt.CALL_C_DOCS]
    (root / "p" / "p_amd64.s").write_text('#include "textflag.h"\n\n' + "\n".join(amd64))
    arm64 = [rt.ARM64.replace(rt.ARM64[rt.ARM64.index("//symabi:host-call stack=system\nTEXT ·platformReg"):
                                      rt.ARM64.index("//symabi:host-call stack=system\nTEXT ·asmFrame")], ""),
             rt.DCZID.split("//symabi:host-call stack=system\nTEXT ·midr")[0], GETFP]
    (root / "p" / "p_arm64.s").write_text('#include "textflag.h"\n\n' + "\n".join(arm64))
    for name, text in (("run", MAIN_AMD64), ("runarm", MAIN_ARM64)):
        (root / "cmd" / name).mkdir(parents=True)
        (root / "cmd" / name / "main.go").write_text(text)


def _build(root: Path, go: Path, goarch: str, cc: str, out: Path, pkg: str, goos: str = "linux") -> str:
    env = {**os.environ, "GOOS": goos, "GOARCH": goarch, "CGO_ENABLED": "1", "CC": cc, "GOFLAGS": "-mod=mod",
           "PATH": f"{go.parent}:{os.environ.get('PATH', '')}"}
    done = subprocess.run([str(go), "build", "-o", str(out), pkg], cwd=root, env=env, capture_output=True, text=True)
    return done.stderr.strip() if done.returncode else ""


def _run(argv: list[str], env: dict[str, str] | None = None, timeout: int = 60) -> str:
    done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env=env)
    text = (done.stdout + done.stderr).strip().splitlines()
    return f"exit {done.returncode}: " + (" | ".join(text[:2]) if text else "(no output)")


def run_linux(root: Path, go: Path, amd64_runs, arm64_runs) -> None:
    """Build ./cmd/run (linux/amd64, natively) and ./cmd/runarm (linux/arm64, under qemu-user) in ``root`` and run
    each case, one line each; a port whose tools are missing is skipped, saying so."""
    if shutil.which("gcc"):
        error = _build(root, go, "amd64", "gcc", root / "run_amd64", "./cmd/run")
        for case in amd64_runs:
            print(f"linux/amd64 {case}: {error or _run([str(root / 'run_amd64'), case])}")
    else:
        print("linux/amd64: skipped (no gcc)")
    cross, qemu = shutil.which("aarch64-linux-gnu-gcc"), shutil.which("qemu-aarch64")
    if cross and qemu and Path("/usr/aarch64-linux-gnu").is_dir():
        error = _build(root, go, "arm64", cross, root / "run_arm64", "./cmd/runarm")
        for case in arm64_runs:
            print(f"linux/arm64 {case}: "
                  f"{error or _run([qemu, '-L', '/usr/aarch64-linux-gnu', str(root / 'run_arm64'), case])}")
    else:
        print("linux/arm64: skipped (needs aarch64-linux-gnu-gcc, qemu-aarch64 and /usr/aarch64-linux-gnu)")


@contextlib.contextmanager
def work_dir(doc: str, prefix: str):
    """The folder a real-run script builds in: ``--keep DIR`` (kept), or a temporary one removed at the end."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--keep", metavar="DIR", help="build in DIR and keep it")
    args = parser.parse_args()
    root = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix=prefix))
    try:
        yield root
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)


def realrun_main(doc: str, prefix: str, write, runs) -> int:
    """The command line every red team's real-run script shares (``work_dir``): ``write(root)`` the module, then
    ``runs(root, go)`` its builds and runs."""
    with work_dir(doc, prefix) as root:
        write(root)
        runs(root, find_toolchain(None).go)
    return 0


def main() -> int:
    return realrun_main(__doc__, "symabi-redteam-", _write, lambda root, go: run_linux(root, go, AMD64_RUNS, ARM64_RUNS))


if __name__ == "__main__":
    sys.exit(main())
