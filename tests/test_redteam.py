"""Red-team cases for the Go -> host contract and `symabi check`'s //symabi:host-call stubs.

Each stub carries one bug (or none) demonstrated on a ground truth that does not share symabi's model: a
real run (the pinned Go toolchain with gcc on linux/amd64, aarch64-linux-gnu-gcc and qemu-user on
linux/arm64: scripts/redteam_realruns.py builds these very stubs; results in docs/redteam.md), or the ABI
text itself where the port cannot run here (windows and darwin arm64). The tests assert the verdict the ground truth calls for; the ones symabi
still gets wrong are strict xfails whose reason names the fix.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from symabi.cli import app


def _check(root: Path, ports: tuple[str, ...], monkeypatch) -> dict[tuple[str, str], dict]:
    """(function, port) -> its JSON record, from one `symabi check --json` run over the module."""
    monkeypatch.chdir(root)
    monkeypatch.delenv("SYMABI_DEBUG", raising=False)
    args = ["check", "--json", *(a for p in ports for a in ("--port", p)), "./..."]
    result = CliRunner().invoke(app, args)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output, result.output
    return {(f["symbol"].rpartition(".")[2], f["port"]): f for f in json.loads(result.output)["functions"]}


def _module(root: Path, go: str, files: dict[str, str], toml: str | None = None) -> Path:
    (root / "p").mkdir(parents=True)
    (root / "go.mod").write_text("module example.com/rt\n\ngo 1.21\n")
    (root / "p" / "p.go").write_text("package p\n\n" + go)
    for name, asm in files.items():
        (root / "p" / name).write_text('#include "textflag.h"\n\n' + asm)
    if toml is not None:
        (root / "symabi.toml").write_text(toml)
    return root


def _checked(tmp_path_factory, ports: tuple[str, ...], go: str, files: dict[str, str], toml: str | None = None
             ) -> dict[tuple[str, str], dict]:
    """``_check`` over a fresh ``_module``, for a module-scoped fixture (which cannot take monkeypatch)."""
    root = _module(tmp_path_factory.mktemp("rt") / "m", go, files, toml)
    mp = pytest.MonkeyPatch()
    try:
        return _check(root, ports, mp)
    finally:
        mp.undo()


def _refuted(record: dict, obligation: str) -> bool:
    return record["verdict"] == "refuted" and any(f": {obligation}" in f for f in record["findings"])


# ---- amd64 -------------------------------------------------------------------------------------------

# A stub whose TEXT line claims more argument bytes than its Go declaration (go vet's asmdecl reports it,
# the build does not): the caller lays out only the declared 16 bytes, so 16(FP) is the caller's own
# frame. Real run (linux/amd64, a Go caller with a live [4]uintptr local): the caller's x[0] became 0xdead.
FRAME_MISMATCH = """//symabi:host-call stack=system
TEXT ·wide(SB),NOSPLIT|NOFRAME,$0-24
	MOVQ	$0xdead, AX
	MOVQ	AX, r+16(FP)
	RET

//symabi:host-call stack=system
TEXT ·cplx(SB),NOSPLIT|NOFRAME,$0
	MOVQ	$0xdead, AX
	MOVQ	AX, r+16(FP)
	RET
"""
FRAME_MISMATCH_GO = "func wide(fn, x uintptr)\nfunc cplx(a int32, c complex64, b int32)\n"

# Right verdicts worth keeping: DF set through POPFQ at the call; the saved SP kept in a volatile register
# (R11) across the call; a misaligned call reachable only for one argument value.
RIGHT = """//symabi:host-call stack=system
TEXT ·popfDF(SB),NOSPLIT|NOFRAME,$0-8
	MOVQ	fn+0(FP), AX
	PUSHQ	BP
	MOVQ	SP, BP
	ANDQ	$~15, SP
	SUBQ	$32, SP
	PUSHQ	$0x402
	POPFQ
	CALL	AX
	CLD
	MOVQ	BP, SP
	POPQ	BP
	RET

//symabi:host-call stack=system
TEXT ·volatileSP(SB),NOSPLIT|NOFRAME,$0-8
	MOVQ	fn+0(FP), AX
	MOVQ	SP, R11
	ANDQ	$~15, SP
	SUBQ	$32, SP
	CALL	AX
	MOVQ	R11, SP
	RET

//symabi:host-call stack=system
TEXT ·oneValue(SB),NOSPLIT|NOFRAME,$0-16
	MOVQ	fn+0(FP), AX
	MOVQ	x+8(FP), DX
	PUSHQ	BP
	MOVQ	SP, BP
	ANDQ	$~15, SP
	SUBQ	$32, SP
	CMPQ	DX, $0x12345678
	JNE	ok
	SUBQ	$8, SP
ok:
	CALL	AX
	MOVQ	BP, SP
	POPQ	BP
	RET
"""
RIGHT_GO = "func popfDF(fn uintptr)\nfunc volatileSP(fn uintptr)\nfunc oneValue(fn, x uintptr)\n"


@pytest.fixture(scope="module")
def amd64(tmp_path_factory):
    return _checked(tmp_path_factory, ("linux/amd64",), FRAME_MISMATCH_GO + RIGHT_GO,
                    {"p_amd64.s": FRAME_MISMATCH + "\n" + RIGHT})


def test_text_size_larger_than_the_go_declaration_is_the_callers_frame(amd64):
    """The caller's frame is what the Go declaration lays out: the smaller size wins."""
    assert _refuted(amd64[("wide", "linux/amd64")], "stack-writes-in-go-frame"), amd64[("wide", "linux/amd64")]


def test_complex64_is_4_aligned_in_the_declared_frame(amd64):
    """func cplx(a int32, c complex64, b int32) is 16 bytes (complex64: size 8, align 4), not 24."""
    assert _refuted(amd64[("cplx", "linux/amd64")], "stack-writes-in-go-frame"), amd64[("cplx", "linux/amd64")]


@pytest.mark.parametrize("name, obligation", [("popfDF", "df-clear-at-call"), ("volatileSP", "no-fault"),
                                              ("oneValue", "host-stack-aligned-at-call")])
def test_right_refutations_replay(amd64, name, obligation):
    record = amd64[(name, "linux/amd64")]
    assert _refuted(record, obligation), record
    lines = record["findings"]  # the report's lines: each witness is followed by its replay's
    assert any(line.startswith("\twitness: ") for line in lines), lines
    assert sum(line == "\treplay: confirmed" for line in lines) == sum(line.startswith("\twitness: ") for line in lines)


# Go's amd64 ABI (abi-internal.md, "Flags"): at calls and returns the CPU is in x87 mode, and the MXCSR
# control bits are fixed (round to nearest, all exceptions masked). Real runs on linux/amd64:
#   mmx:   a gcc -O2 C function computing with long double after the stub's MOVQ AX, M0 returned NaN
#          (wanted 3): PROVED, wrongly;
#   mxcsr: 0.1+0.2 computed by Go after the stub returned was 0.3, not 0.30000000000000004: UNKNOWN (VEX's
#          LDMXCSR ends the block with an emulation warning the engine does not follow), which is sound.
X87_MXCSR = """//symabi:host-call stack=system
TEXT ·mmx(SB),NOSPLIT|NOFRAME,$0-8
	MOVQ	fn+0(FP), AX
	PUSHQ	BP
	MOVQ	SP, BP
	ANDQ	$~15, SP
	SUBQ	$32, SP
	MOVQ	AX, M0
	CALL	AX
	MOVQ	BP, SP
	POPQ	BP
	RET

//symabi:host-call stack=system
TEXT ·mxcsr(SB),NOSPLIT|NOFRAME,$0-0
	SUBQ	$8, SP
	MOVL	$0x7F80, 0(SP)
	LDMXCSR	0(SP)
	ADDQ	$8, SP
	RET
"""


@pytest.fixture(scope="module")
def x87(tmp_path_factory):
    return _checked(tmp_path_factory, ("linux/amd64", "windows/amd64"), "func mmx(fn uintptr)\nfunc mxcsr()\n",
                    {"p_amd64.s": X87_MXCSR})


@pytest.mark.parametrize("port", ("linux/amd64", "windows/amd64"))
def test_mxcsr_changed_for_go_is_not_proved(x87, port):
    assert x87[("mxcsr", port)]["verdict"] == "unknown", x87[("mxcsr", port)]


@pytest.mark.parametrize("port", ("linux/amd64", "windows/amd64"))
def test_mmx_state_at_a_host_call_is_refuted(x87, port):
    """x87-empty-at-call and -at-return (obligations/go_to_host.py): all eight tags full after MOVQ AX, M0."""
    record = x87[("mmx", port)]
    for obligation in ("x87-empty-at-call", "x87-empty-at-return"):
        assert _refuted(record, obligation), record
    assert all(line == "\treplay: confirmed" for line in record["findings"] if line.startswith("\treplay")), record


def _aligned_call(name: str, before: str, after: str = "") -> str:
    """A stack=system stub calling fn (its first argument) on a 16-byte aligned frame with 32 bytes below the CALL,
    with ``before`` and ``after`` the CALL (tab-indented assembly lines)."""
    return (f"//symabi:host-call stack=system\nTEXT \u00b7{name}(SB),NOSPLIT|NOFRAME,$0-8\n\tMOVQ\tfn+0(FP), AX\n"
            "\tPUSHQ\tBP\n\tMOVQ\tSP, BP\n\tANDQ\t$~15, SP\n\tSUBQ\t$32, SP\n"
            f"{before}\tCALL\tAX\n{after}\tMOVQ\tBP, SP\n\tPOPQ\tBP\n\tRET\n")


# EMMS after the MMX code (the psABI's rule) is right; one value left on the x87 stack at the C call is not (a C
# function may push all eight: the ninth push overflows).
X87_MORE = (_aligned_call("mmxEmms", "\tMOVQ\tAX, M0\n\tMOVQ\tM0, AX\n\tEMMS\n") + "\n"
            + _aligned_call("fldLeft", "\tFLD1\n", "\tFMOVDP\tF0, F0\n"))


def test_x87_stack_at_a_host_call(tmp_path, monkeypatch):
    root = _module(tmp_path, "func mmxEmms(fn uintptr)\nfunc fldLeft(fn uintptr)\n", {"p_amd64.s": X87_MORE})
    found = _check(root, ("linux/amd64",), monkeypatch)
    assert found[("mmxEmms", "linux/amd64")]["verdict"] == "proved", found[("mmxEmms", "linux/amd64")]
    record = found[("fldLeft", "linux/amd64")]
    assert _refuted(record, "x87-empty-at-call") and not _refuted(record, "x87-empty-at-return"), record
    assert "\treplay: confirmed" in record["findings"], record


# The same owed to a System V host on return (psABI 3.2.1); the Microsoft ABI has "no explicit calling convention"
# for the x87 and MMX registers (volatile: the callee may use them), so windows-x64 owes nothing there.
HOST_X87 = """//symabi:host-entry
TEXT ·cbMmx(SB),NOSPLIT|NOFRAME,$0
	MOVQ	BX, M0
	RET

//symabi:host-entry
TEXT ·cbEmms(SB),NOSPLIT|NOFRAME,$0
	MOVQ	BX, M0
	EMMS
	RET
"""


def test_mmx_state_at_return_to_a_system_v_host(tmp_path, monkeypatch):
    root = _module(tmp_path, "func cbMmx()\nfunc cbEmms()\n", {"p_amd64.s": HOST_X87})
    found = _check(root, ("linux/amd64", "windows/amd64"), monkeypatch)
    record = found[("cbMmx", "linux/amd64")]
    assert _refuted(record, "x87-empty-at-return") and "\treplay: confirmed" in record["findings"], record
    for key in (("cbEmms", "linux/amd64"), ("cbMmx", "windows/amd64"), ("cbEmms", "windows/amd64")):
        assert found[key]["verdict"] == "proved", found[key]


# The AVX upper halves are volatile in both host ABIs (Windows keeps XMM6-15's low 128 bits only), and a
# gcc -mavx2 function ends with VZEROUPPER. Real run (linux/amd64): the entry SP kept in Y6's upper half came
# back 0: SIGSEGV. It was PROVED (the host callee model clobbered XMMn and left YMMn's upper half alone); now
# UNKNOWN, since unicorn cannot execute VINSERTI128 to replay the refutation.
YMM = """//symabi:host-call stack=system
TEXT ·ymmKeep(SB),NOSPLIT|NOFRAME,$0-8
	MOVQ	fn+0(FP), AX
	MOVQ	SP, X3
	VINSERTI128	$1, X3, Y6, Y6
	ANDQ	$~15, SP
	SUBQ	$32, SP
	CALL	AX
	VEXTRACTI128	$1, Y6, X3
	MOVQ	X3, SP
	VZEROUPPER
	RET
"""


# The same across a Go callee (models/go_abi0.py; Go's AVX2 memmove ends with VZEROUPPER too), in a host entry.
YMM_GO = """//symabi:host-entry
TEXT ·cbYmm(SB),NOSPLIT|NOFRAME,$0
	MOVQ	SP, X3
	VINSERTI128	$1, X3, Y6, Y6
	SUBQ	$8, SP
	CALL	·goFunc(SB)
	ADDQ	$8, SP
	VEXTRACTI128	$1, Y6, X3
	MOVQ	X3, SP
	VZEROUPPER
	RET
"""


@pytest.mark.parametrize("port", ("linux/amd64", "windows/amd64"))
def test_avx_upper_halves_do_not_survive_a_call(tmp_path, monkeypatch, port):
    root = _module(tmp_path, "func ymmKeep(fn uintptr)\nfunc cbYmm()\nfunc goFunc() {}\n", {"p_amd64.s": YMM + "\n" + YMM_GO})
    found = _check(root, (port,), monkeypatch)
    for name in ("ymmKeep", "cbYmm"):
        record = found[(name, port)]
        assert record["verdict"] != "proved", record
        assert any("ymm6.high" in line for line in record["findings"]), record

# What the CPU reports is not the lifter's to choose. The engine gives fresh values to CPUID and refuses
# what it cannot model (RDTSCP, RDRAND, SYSCALL: UNKNOWN, or REFUTED for POPFQ setting TF); but STMXCSR's
# exception-status bits come back clear (VEX keeps no MXCSR status): after Go computed 0.1+0.2 (inexact: PE
# set, sticky) the real run of `status` took the other branch and crashed returning to 0x1fa0.
CPU_REPORTS = """//symabi:host-call stack=system
TEXT ·tsc(SB),NOSPLIT|NOFRAME,$0-0
	RDTSC
	TESTL	$1, AX
	JZ	even
	SUBQ	$8, SP
even:
	RET

//symabi:host-call stack=system
TEXT ·trap(SB),NOSPLIT|NOFRAME,$0-0
	PUSHQ	$0x102
	POPFQ
	NOP
	PUSHQ	$0x2
	POPFQ
	RET

//symabi:host-call stack=system
TEXT ·sys(SB),NOSPLIT|NOFRAME,$0-0
	MOVQ	SP, CX
	MOVQ	$39, AX
	SYSCALL
	MOVQ	CX, SP
	RET

//symabi:host-call stack=system
TEXT ·status(SB),NOSPLIT|NOFRAME,$0-0
	SUBQ	$8, SP
	STMXCSR	0(SP)
	MOVL	0(SP), AX
	ADDQ	$8, SP
	TESTL	$0x20, AX
	JZ	exact
	SUBQ	$8, SP
exact:
	RET
"""
CPU_REPORTS_GO = "func tsc()\nfunc trap()\nfunc sys()\nfunc status()\n"


@pytest.fixture(scope="module")
def cpu_reports(tmp_path_factory):
    return _checked(tmp_path_factory, ("linux/amd64",), CPU_REPORTS_GO, {"p_amd64.s": CPU_REPORTS})


@pytest.mark.parametrize("name", ["tsc", "trap", "sys"])
def test_cpu_reports_the_engine_cannot_know_are_never_proved(cpu_reports, name):
    assert cpu_reports[(name, "linux/amd64")]["verdict"] != "proved", cpu_reports[(name, "linux/amd64")]


def test_mxcsr_status_bits_are_not_concretized(cpu_reports):
    """VEX's STMXCSR stores the status bits as 0: a path that executes it is UNKNOWN (engine/cpu.py)."""
    assert cpu_reports[("status", "linux/amd64")]["verdict"] == "unknown", cpu_reports[("status", "linux/amd64")]


# The host callee model assumes a host function writes nothing above its return address but the home
# area, and nothing of the trampoline's frame through its pointer arguments. Both are false for real C:
#   ownFrame:  fn(&slot) with the saved BP in slot; a C `void wp(long *p) { p[0] = 0; }` -> SIGSEGV;
#   stackArgs: the saved BP in the 7th argument's slot, 0(SP) at the call; gcc -O2 compiles
#              `long f7(a, ..., g) { return h7(a, ..., g + 1); }` to `addq $1, 8(%rsp); jmp h7`,
#              rewriting that slot -> SIGSEGV on the `MOVQ 0(SP), SP` after the call.
HOST_WRITES = """//symabi:host-call stack=system
TEXT ·ownFrame(SB),NOSPLIT|NOFRAME,$0-8
	MOVQ	fn+0(FP), AX
	PUSHQ	BP
	MOVQ	SP, BP
	ANDQ	$~15, SP
	SUBQ	$48, SP
	MOVQ	BP, 32(SP)
	LEAQ	32(SP), DI
	MOVQ	DI, CX
	CALL	AX
	MOVQ	32(SP), SP
	POPQ	BP
	RET

//symabi:host-call stack=system
TEXT ·stackArgs(SB),NOSPLIT|NOFRAME,$0-8
	MOVQ	fn+0(FP), AX
	PUSHQ	BP
	MOVQ	SP, BP
	ANDQ	$~15, SP
	SUBQ	$48, SP
	MOVQ	BP, 32(SP)
	MOVQ	BP, 0(SP)
	CALL	AX
	MOVQ	0(SP), SP
	POPQ	BP
	RET
"""


@pytest.mark.parametrize("name", ["ownFrame", "stackArgs"])
def test_what_a_c_callee_writes_above_its_return_address(tmp_path, monkeypatch, name):
    """models/host_unsaid.py: where the case gives no `args` (`writes`), a read after the call of a word the stub
    stored from the first stack-argument slot up (from where an argument register points into its frame up)."""
    root = _module(tmp_path, "func ownFrame(fn uintptr)\nfunc stackArgs(fn uintptr)\n", {"p_amd64.s": HOST_WRITES})
    record = _check(root, ("linux/amd64",), monkeypatch)[(name, "linux/amd64")]
    assert record["verdict"] == "unknown", record
    why = "points into the trampoline's own frame" if name == "ownFrame" else "may take stack arguments"
    assert any(why in line for line in record["findings"]), record


def test_declared_writes_and_no_stack_arguments_decide(tmp_path, monkeypatch):
    """With the C function's writes declared (8 bytes through RDI, the saved BP's slot), ownFrame is REFUTED and
    the refutation replays; with `args = 0` declared, stackArgs keeps its saved BP: PROVED."""
    toml = ('[callees."entry.stack+0x8"]\nargs = 0\nwrites = [{ register = "rdi", size = 8 }]\n'
            'writes_reason = "a C function that stores one word through its first argument"\n')
    root = _module(tmp_path, "func ownFrame(fn uintptr)\nfunc stackArgs(fn uintptr)\n", {"p_amd64.s": HOST_WRITES}, toml)
    found = _check(root, ("linux/amd64",), monkeypatch)
    record = found[("ownFrame", "linux/amd64")]
    assert record["verdict"] == "refuted" and "\treplay: confirmed" in record["findings"], record
    assert found[("stackArgs", "linux/amd64")]["verdict"] == "proved", found[("stackArgs", "linux/amd64")]


def test_declared_stack_arguments_are_the_callees(tmp_path, monkeypatch):
    """With the C function's stack-argument bytes declared (`args`), what the stub keeps there is lost: on
    amd64 the saved BP in the 7th argument's slot, on arm64 the saved R29/R30 at 0(SP), where a 9th integer
    argument goes. Both refutations replay."""
    toml = '[callees."entry.stack+0x8"]\nargs = 8\ndoc = "a C function with one stack argument"\n'
    amd64 = "//symabi:host-call stack=system\nTEXT ·stackArgs" + HOST_WRITES.split("TEXT ·stackArgs")[1]
    arm64 = ("//symabi:host-call stack=system\nTEXT ·framed" + ARM64.split("TEXT ·framed")[1]).replace("·framed", "·stackArgs")
    root = _module(tmp_path, "func stackArgs(fn uintptr)\n", {"p_amd64.s": amd64, "p_arm64.s": arm64}, toml)
    found = _check(root, ("linux/amd64", "linux/arm64"), monkeypatch)
    for port, obligation in (("linux/amd64", "no-fault"), ("linux/arm64", "preserve-x29")):
        record = found[("stackArgs", port)]
        assert _refuted(record, obligation) and "\treplay: confirmed" in record["findings"], record

# docs/check.md's own example stub calls fn(arg) on the current stack. Called from a goroutine (the only
# way Go code calls it), that is the goroutine's stack: Go guarantees a NOSPLIT function StackNosplit
# (800) bytes below its SP, and a C function may use any amount. Real run (linux/amd64, 64 goroutines
# each calling it with a gcc -O2 function using a 16 KiB buffer): SIGSEGV (with a 1-line function: fine).
# The go-abi0-call convention's stack region (entry RSP - 0x10000 ..) and the host callee model, which
# havocs only down to that region's floor, make it PROVED.
CALL_C_DOCS = """//symabi:host-call
TEXT ·callC(SB),NOSPLIT|NOFRAME,$0-24
	MOVQ	fn+0(FP), AX
	MOVQ	arg+8(FP), DI
	MOVQ	DI, CX
	PUSHQ	BP
	MOVQ	SP, BP
	ANDQ	$~15, SP
	SUBQ	$32, SP
	CALL	AX
	MOVQ	BP, SP
	POPQ	BP
	MOVQ	AX, ret+16(FP)
	RET
"""


def test_c_on_a_goroutine_stack_is_not_proved(tmp_path, monkeypatch):
    root = _module(tmp_path, "func callC(fn, arg uintptr) uintptr\n", {"p_amd64.s": CALL_C_DOCS})
    record = _check(root, ("linux/amd64",), monkeypatch)[("callC", "linux/amd64")]
    assert record["verdict"] == "unknown" and "goroutine" in json.dumps(record), record


# The same 64 KiB for the stub's own frame: a goroutine-stack stub storing 32 KiB below SP was PROVED. Go promises a
# NOSPLIT function called from ordinary Go code StackNosplit (800) bytes below its SP (models/entry_go.py).
DEEP = """//symabi:host-call
TEXT ·deep(SB),NOSPLIT|NOFRAME,$0-0
	SUBQ	$32768, SP
	MOVQ	$1, 0(SP)
	ADDQ	$32768, SP
	RET

//symabi:host-call
TEXT ·shallow(SB),NOSPLIT|NOFRAME,$0-0
	SUBQ	$512, SP
	MOVQ	$1, 0(SP)
	ADDQ	$512, SP
	RET

//symabi:host-call stack=system
TEXT ·deepSys(SB),NOSPLIT|NOFRAME,$0-0
	SUBQ	$32768, SP
	MOVQ	$1, 0(SP)
	ADDQ	$32768, SP
	RET
"""


def test_a_goroutine_stack_has_room_for_a_nosplit_function_only(tmp_path, monkeypatch):
    root = _module(tmp_path, "func deep()\nfunc shallow()\nfunc deepSys()\n", {"p_amd64.s": DEEP})
    found = _check(root, ("linux/amd64",), monkeypatch)
    deep = found[("deep", "linux/amd64")]
    assert deep["verdict"] == "unknown" and any("800 bytes below its entry SP" in f for f in deep["findings"]), deep
    assert found[("shallow", "linux/amd64")]["verdict"] == "proved", found[("shallow", "linux/amd64")]
    assert found[("deepSys", "linux/amd64")]["verdict"] == "proved", found[("deepSys", "linux/amd64")]


# ---- arm64 -------------------------------------------------------------------------------------------

# keepsFP calls C with SP = entry SP (LR and FP kept in callee-saved X20/X21): the C callee's prologue
# (stp x29, x30, [sp, #-16]!) overwrites entry SP-8, the Go caller's saved frame pointer, which the
# caller's epilogue reloads (MOVD -8(RSP), R29: cmd/internal/obj/arm64). Real run (qemu-aarch64, a gcc
# -O2 non-leaf callee): the grandparent's R29 came back as a code address. It was PROVED: the host callee
# model havocked that word and no obligation looked at it after the call. platformReg writes X18, the
# platform register of darwin and windows arm64 (the TEB on windows: every Win32 call reads it).
# asmFrame lets the assembler build its frame ($16): its prologue saves R29 at SP-8, below SP, where the
# C callee's frame goes (REFUTED preserve-x29; real run: the caller's R29 came back changed).
# framed is the correct shape (proved, and the real run agrees).
ARM64 = """//symabi:host-call stack=system
TEXT ·keepsFP(SB),NOSPLIT|NOFRAME,$0-8
	MOVD	fn+0(FP), R9
	MOVD	R30, R20
	MOVD	R29, R21
	BL	(R9)
	MOVD	R20, R30
	MOVD	R21, R29
	RET

//symabi:host-call stack=system
TEXT ·platformReg(SB),NOSPLIT|NOFRAME,$0-8
	MOVD	fn+0(FP), R9
	STP.W	(R29, R30), -32(RSP)
	MOVD	RSP, R29
	MOVD	$0, R18_PLATFORM
	BL	(R9)
	LDP.P	32(RSP), (R29, R30)
	RET

//symabi:host-call stack=system
TEXT ·asmFrame(SB),NOSPLIT,$16-8
	MOVD	fn+0(FP), R9
	BL	(R9)
	RET

//symabi:host-call stack=system
TEXT ·framed(SB),NOSPLIT|NOFRAME,$0-8
	MOVD	fn+0(FP), R9
	STP.W	(R29, R30), -32(RSP)
	MOVD	RSP, R29
	BL	(R9)
	LDP.P	32(RSP), (R29, R30)
	RET
"""
ARM64_GO = "func keepsFP(fn uintptr)\nfunc platformReg(fn uintptr)\nfunc asmFrame(fn uintptr)\nfunc framed(fn uintptr)\n"
ARM64_PORTS = ("linux/arm64", "darwin/arm64", "windows/arm64")


@pytest.fixture(scope="module")
def arm64(tmp_path_factory):
    return _checked(tmp_path_factory, ARM64_PORTS, ARM64_GO, {"p_arm64.s": ARM64})


def test_arm64_correct_stub_is_proved(arm64):
    assert {arm64[("framed", p)]["verdict"] for p in ARM64_PORTS} == {"proved"}, arm64


@pytest.mark.parametrize("port", ARM64_PORTS)
def test_host_callee_below_entry_sp_clobbers_the_callers_saved_fp(arm64, port):
    """models/host_callee.py records the host callee's frame over entry SP-8 as a store of that word at the BL."""
    record = arm64[("keepsFP", port)]
    assert _refuted(record, "stack-writes-in-go-frame"), record
    assert any("entry SP -0x8 (the caller's saved frame pointer" in line for line in record["findings"]), record
    assert "\treplay: confirmed" in record["findings"], record


@pytest.mark.parametrize("port", ARM64_PORTS)
def test_assembler_frame_below_sp_loses_x29(arm64, port):
    record = arm64[("asmFrame", port)]
    assert _refuted(record, "preserve-x29") and "\treplay: confirmed" in record["findings"], record


def test_x18_is_free_on_linux(arm64):
    assert arm64[("platformReg", "linux/arm64")]["verdict"] == "proved"


@pytest.mark.parametrize("port", ("darwin/arm64", "windows/arm64"))
def test_x18_is_the_platforms_on_darwin_and_windows(arm64, port):
    """go-to-host's x18-untouched (obligations/go_to_host.py): X18 at every BL into host code and at return."""
    assert _refuted(arm64[("platformReg", port)], "x18-untouched"), arm64[("platformReg", port)]


# VEX hardwires DCZID_EL0 to 0x10 (DC ZVA prohibited); qemu-aarch64 reports 0x7 and real cores 0x4 (64-byte
# blocks, bit 2 set). runtime·memclrNoHeapPointers reads it; here bit 2 decides SP: the real run (qemu)
# crashed after the stub returned. Likewise FPSR.IXC, which VEX never sets: after Go's inexact 0.1+0.2 the
# real run of `fpsr` took the other branch and crashed. MRS of a register VEX cannot lift (MIDR_EL1) and CNTVCT_EL0 are UNKNOWN.
DCZID = """//symabi:host-call stack=system
TEXT ·dczid(SB),NOSPLIT|NOFRAME,$0-0
	WORD	$0xd53b00e0	// MRS DCZID_EL0, R0
	TBZ	$2, R0, small
	SUB	$16, RSP
small:
	RET

//symabi:host-call stack=system
TEXT ·fpsr(SB),NOSPLIT|NOFRAME,$0-0
	WORD	$0xd53b4420	// MRS FPSR, R0
	TBZ	$4, R0, exact
	SUB	$16, RSP
exact:
	RET

//symabi:host-call stack=system
TEXT ·midr(SB),NOSPLIT|NOFRAME,$0-0
	MOVD	R30, R0
	WORD	$0xd5380000	// MRS MIDR_EL1, R0
	MOVD	R0, R30
	RET

//symabi:host-call stack=system
TEXT ·counter(SB),NOSPLIT|NOFRAME,$0-0
	WORD	$0xd53be040	// MRS CNTVCT_EL0, R0
	TBZ	$0, R0, even
	SUB	$16, RSP
even:
	RET
"""


@pytest.fixture(scope="module")
def arm64_sysregs(tmp_path_factory):
    return _checked(tmp_path_factory, ("linux/arm64",), "func dczid()\nfunc fpsr()\nfunc midr()\nfunc counter()\n",
                    {"p_arm64.s": DCZID})


@pytest.mark.parametrize("name", ["midr", "counter"])
def test_system_registers_the_lifter_cannot_read_are_unknown(arm64_sysregs, name):
    assert arm64_sysregs[(name, "linux/arm64")]["verdict"] == "unknown", arm64_sysregs[(name, "linux/arm64")]


@pytest.mark.parametrize("name", ["dczid", "fpsr"])
def test_system_registers_are_what_the_cpu_reports(arm64_sysregs, name):
    """VEX reads DCZID_EL0 and CTR_EL0 as constants and FPSR without its cumulative bits: UNKNOWN (cpu_arm64)."""
    assert arm64_sysregs[(name, "linux/arm64")]["verdict"] == "unknown", arm64_sysregs[(name, "linux/arm64")]


def test_the_declared_frame_is_the_packages_function_only(tmp_path):
    """A file-local f<> or a bare symbol is not the Go function f of the package, whatever its frame."""
    from symabi.check.directives import TextDecl
    from symabi.check.host_call import frame

    go = tmp_path / "p.go"
    go.write_text("package p\n\nfunc f(a, b, c uintptr)\nfunc g(a int32, c complex64, b int32)\n")

    def decl(written: str, args: int | None) -> TextDecl:
        name = written.replace("\u00b7", "example.com/p.").removesuffix("<>")
        return TextDecl(tmp_path / "p_amd64.s", 1, 1, written, name, "NOSPLIT", args)

    assert frame(decl("\u00b7f", None), [go]) == (24, 0)
    assert frame(decl("\u00b7f", 40), [go]) == (24, 0)  # the caller lays out 24 bytes, whatever TEXT says
    assert frame(decl("\u00b7f", 16), [go]) == (24, 0)  # likewise: the declaration is what the caller lays out
    assert frame(decl("\u00b7g", None), [go]) == (16, 0)
    assert frame(decl("\u00b7f<>", None), [go]) is None
    assert frame(decl("f", None), [go]) is None
    assert frame(decl("f", 8), [go]) == (8, 0)
