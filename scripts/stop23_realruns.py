"""The real runs behind tests/test_known_gaps.py (docs/redteam.md, "Known gaps closed, stop 23").

    python scripts/stop23_realruns.py [--keep DIR]

* linux/arm64 under qemu-user, the pinned Go toolchain: a Go program whose assembly clears R28 (g) and BLs a Go
  function on a goroutine's thread, and the same with R28 kept (the control, which prints "result 42").
* linux/amd64 natively, gcc: a probe that sets EFLAGS.AC (POPFQ) and makes one access at 4 mod 8: MOVUPS (16
  bytes, "may or may not" fault per the SDM), FLDT (80-bit x87, 8 asked), MOVQ (8 bytes); then FLDT and MOVUPS at
  an 8-byte boundary (the control).

Needs qemu-aarch64 and gcc; a run whose tools are missing is skipped, saying so. Prints one line per run. Not part
of the test suite.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from redteam_realruns import work_dir  # noqa: E402  (after the path: run from a checkout)

from symabi.toolchain import find_toolchain  # noqa: E402

GO_MAIN = """package main

import "fmt"

func tramp() uintptr

//go:noinline
func goFn() uintptr { return helper() + 1 }

//go:noinline
func helper() uintptr { return 41 }

func main() { fmt.Println("result", tramp()) }
"""
# 16(RSP) keeps g across the call; goFn's ABI0 result comes back at 8(RSP)
TRAMP = """#include "textflag.h"

TEXT ·tramp(SB),NOSPLIT,$16-8
	MOVD	g, 16(RSP)
	{set}
	BL	·goFn(SB)
	MOVD	16(RSP), g
	MOVD	8(RSP), R0
	MOVD	R0, ret+0(FP)
	RET
"""
AC_PROBES = {"movups at 4 mod 8": "lea 4(%rsp), %rax\n\tmovups (%rax), %xmm0",
             "fldt at 4 mod 8": "lea 4(%rsp), %rax\n\tfldt (%rax)\n\tfstp %st(0)",
             "movq at 4 mod 8": "lea 4(%rsp), %rax\n\tmovq (%rax), %rcx",
             "fldt and movups at 0 mod 8": "lea 8(%rsp), %rax\n\tfldt (%rax)\n\tfstp %st(0)\n\tmovups (%rax), %xmm0"}
AC_STUB = """\t.text
\t.globl main
main:
\tsub $40, %rsp
\tpushfq
\torq $0x40000, (%rsp)
\tpopfq
\t{access}
\tpushfq
\tandq $~0x40000, (%rsp)
\tpopfq
\tadd $40, %rsp
\txor %eax, %eax
\tret
\t.section .note.GNU-stack,"",@progbits
"""


def _outcome(command: list[str], **kw) -> str:
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, **kw)
    said = (done.stdout + done.stderr).strip().splitlines()
    return f"exit {done.returncode}" + (f": {said[-1]}" if said else "")


def r28(root: Path) -> None:
    if shutil.which("qemu-aarch64") is None:
        print("linux/arm64 R28 runs: skipped (needs qemu-aarch64)")
        return
    go = find_toolchain(None).go
    for name, instruction in (("R28 = 0", "MOVD\tZR, g"), ("R28 kept (control)", "MOVD\tg, g")):
        folder = root / name.split()[1]
        folder.mkdir(parents=True)
        (folder / "go.mod").write_text("module rr\n\ngo 1.22\n")
        (folder / "main.go").write_text(GO_MAIN)
        (folder / "t_arm64.s").write_text(TRAMP.format(set=instruction))
        env = {"GOOS": "linux", "GOARCH": "arm64", "CGO_ENABLED": "0", "PATH": "/usr/bin:/bin",
               "HOME": str(root), "GOCACHE": str(root / "gocache")}
        subprocess.run([str(go), "build", "-o", "p", "."], cwd=folder, env=env, check=True)
        print(f"linux/arm64 {name}: {_outcome(['qemu-aarch64', str(folder / 'p')])}")


def alignment_check(root: Path) -> None:
    if shutil.which("gcc") is None:
        print("linux/amd64 #AC runs: skipped (needs gcc)")
        return
    for name, access in AC_PROBES.items():
        source = root / f"ac{len(name)}.S"
        source.write_text(AC_STUB.format(access=access))
        binary = source.with_suffix("")
        subprocess.run(["gcc", "-o", str(binary), str(source)], check=True)
        print(f"linux/amd64 AC set, {name}: {_outcome([str(binary)])}")


def main() -> int:
    with work_dir(__doc__, "symabi-stop23-") as root:
        r28(root)
        alignment_check(root)
    return 0

if __name__ == "__main__":
    sys.exit(main())
