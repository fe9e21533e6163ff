"""Third red team: the host -> Go direction, `//symabi:host-entry` functions of `symabi check`.

Each stub is entered by C (a host ABI call) and calls Go or C. Ground truth: a real run of these very stubs
(scripts/redteam3_realruns.py: the pinned Go toolchain with gcc on linux/amd64, aarch64-linux-gnu-gcc and
qemu-aarch64 on linux/arm64), called from a gcc-assembled probe that sets every callee-saved register to a
marker, calls the stub and reports the registers it got back; or the ABI text. The tests assert the verdict
the ground truth calls for. Results, and the attempts where symabi was right: docs/redteam.md, "Third red team".
"""

from __future__ import annotations

import pytest

from test_redteam import _check, _checked, _module, _refuted

# ---- amd64: wrong PROVED ------------------------------------------------------------------------------

# resultSlot: RBX is saved in the word the Go callee's result `b` occupies. `func funcResults(fn func()) (a, b,
# c uintptr)`: the declaration reader stopped at the first ')' (the one of `func()`), read 8 bytes of arguments
# and no results, so the callee's result words were not its to write: PROVED. Real run: RBX came back 0x2 (the
# value of b), not the probe's marker. Now REFUTED (the brackets are read balanced).
# ctxPtr: C passes a context struct in RSI; the stub saves RBX at 0(SP), stores &0(SP) into ctx->p and calls
# f(ctx). The callee models let a callee write what its pointer arguments reach, up to the end of the region
# each points into (here ctx, 16 bytes), but not through the pointers stored there. Real run with
# `static void write_through(struct ctx *c) { *c->p = 0; }`: RBX came back 0 (a callee writing nothing: kept).
# ctxGo: the same with a Go callee, `func clearThrough(c *ctx) { *c.p = 0 }`, ctx in RDI. Real run: RBX came
# back 0. Both PROVED; now UNKNOWN (models/go_abi0.py `reached`: what the pointers stored there reach too; the
# replays do not follow them, so the refutation does not replay).
# RBX at 16(SP), a word of the Go callee's results; every other callee-saved register above them
SAVED_IN_RESULTS = """//symabi:host-entry
TEXT ·{name}(SB),NOSPLIT|NOFRAME,$0
	SUBQ	$72, SP
	MOVQ	BX, 16(SP)
	MOVQ	BP, 32(SP)
	MOVQ	R12, 40(SP)
	MOVQ	R13, 48(SP)
	MOVQ	R14, 56(SP)
	MOVQ	R15, 64(SP)
	MOVQ	$0, 0(SP)
	CALL	·{callee}(SB)
	MOVQ	16(SP), BX
	MOVQ	32(SP), BP
	MOVQ	40(SP), R12
	MOVQ	48(SP), R13
	MOVQ	56(SP), R14
	MOVQ	64(SP), R15
	ADDQ	$72, SP
	RET

"""
WRONG_AMD64 = SAVED_IN_RESULTS.format(name="resultSlot", callee="funcResults") + """//symabi:host-entry world=w
TEXT ·ctxPtr(SB),NOSPLIT|NOFRAME,$0
	SUBQ	$24, SP
	MOVQ	BX, 0(SP)
	MOVQ	SP, 0(SI)
	MOVQ	DI, AX
	MOVQ	SI, DI
	CALL	AX
	MOVQ	0(SP), BX
	ADDQ	$24, SP
	RET

//symabi:host-entry world=w
TEXT ·ctxGo(SB),NOSPLIT|NOFRAME,$0
	SUBQ	$64, SP
	MOVQ	BX, 8(SP)
	MOVQ	BP, 16(SP)
	MOVQ	R12, 24(SP)
	MOVQ	R13, 32(SP)
	MOVQ	R14, 40(SP)
	MOVQ	R15, 48(SP)
	LEAQ	8(SP), AX
	MOVQ	AX, 0(DI)
	MOVQ	DI, 0(SP)
	CALL	·clearThrough(SB)
	MOVQ	8(SP), BX
	MOVQ	16(SP), BP
	MOVQ	24(SP), R12
	MOVQ	32(SP), R13
	MOVQ	40(SP), R14
	MOVQ	48(SP), R15
	ADDQ	$64, SP
	RET
"""
WRONG_AMD64_GO = """func resultSlot()
func ctxPtr()
func ctxGo()

type ctx struct{ p *uintptr }

//go:nosplit
func clearThrough(c *ctx) { *c.p = 0 }

//go:noinline
//go:nosplit
func funcResults(fn func()) (a, b, c uintptr) { return 1, 2, 3 }
"""
# args = 0: the C functions take register arguments only (since red team 4 a host function's stack arguments are not
# assumed away, and these stubs keep their save slot at 0(SP), the first stack-argument slot at the call)
CTX_TOML = """[callees."entry.rdi"]
host = true
args = 0

[functions."example.com/rt/p.ctxPtr".entry_convention]
registers = { rsi = "ctx" }

[functions."example.com/rt/p.ctxGo".entry_convention]
registers = { rdi = "ctx" }

[worlds.w.regions.ctx]
size = 16
writable = true
doc = "struct ctx { long *p; long spare; }, the caller's"
"""

# acCheck: sets AC (RFLAGS bit 18) with POPFQ, loads 8 bytes from 1(SP), restores the flags. Linux (and Windows)
# run user code with CR0.AM set, so the load raises #AC; VEX ignores AC: PROVED. Real run: SIGBUS. Now UNKNOWN
# (engine/cpu.py: #AC on a misaligned 2-, 4- or 8-byte access once the code set AC; unicorn does not raise
# it, so the refutation does not replay).
AC_STUB = """//symabi:host-entry
TEXT ·{name}(SB),NOSPLIT|NOFRAME,$0
	PUSHFQ
	POPQ	AX
	MOVQ	AX, CX
	ORQ	$0x40000, AX
	PUSHQ	AX
	POPFQ
	MOVQ	{offset}(SP), AX
	PUSHQ	CX
	POPFQ
	RET
"""
AC = AC_STUB.format(name="acCheck", offset=1) + "\n" + AC_STUB.format(name="acAligned", offset=8)
AC_GO = "func acCheck()\nfunc acAligned()\n"

# cbN: C -> cbN -> crosscall2(fn, a = SP, n = 8, 0) -> cgocallback -> writer(a). The stub keeps the caller's R12
# at a+8, past the n bytes it declares; crosscall2's model writes only the n bytes at a, but the runtime never
# reads n (runtime/cgo/asm_amd64.s: "Skip n in DX"): fn writes what it writes. Real run, with
# `func writer(a unsafe.Pointer) { *(*uintptr)(unsafe.Add(a, 8)) = 0 }`: R12 came back 0. Was PROVED; now not
# (models/check_callees.py: n bounds nothing; fn, here a word of the world, may write a's whole region; a fn of the
# module declared `func fn(a *T)` writes sizeof(T), which keeps the shipped callback module PROVED).
CROSSCALL2_N = """//symabi:host-entry world=cb
TEXT ·cbN(SB),NOSPLIT|NOFRAME,$0
	SUBQ	$24, SP
	MOVQ	R12, 8(SP)
	MOVQ	$7, R12
	MOVQ	·writerPC(SB), DI
	MOVQ	SP, SI
	MOVQ	$8, DX
	XORL	CX, CX
	CALL	crosscall2(SB)
	MOVQ	8(SP), R12
	ADDQ	$24, SP
	RET
"""
CROSSCALL2_N_GO = """import (
	"reflect"
	"unsafe"
)

func cbN()

// writerPC is the code crosscall2's fn runs (through cgocallback: a func(a unsafe.Pointer))
var writerPC = reflect.ValueOf(writer).Pointer()

// writer leaves its result in the second word of the block: past the n = 8 bytes cbN passes
func writer(a unsafe.Pointer) { *(*uintptr)(unsafe.Add(a, 8)) = 0 }
"""
CROSSCALL2_N_TOML = """[worlds.cb.regions.writer]
size = 8
doc = "the code of writer (only its address is passed)"
[worlds.cb.data."example.com/rt/p.writerPC"]
value = "writer"
"""

# ---- amd64: symabi was right --------------------------------------------------------------------------

# The same save slot when the declaration is plain (`fn uintptr`); partial and aliased saves; bit and string
# instructions whose memory reach VEX has to get right (BTS with a register bit offset of 64 sets bit 0 of the
# next word; REP MOVSB with DF set copies downwards); CMPXCHG16B's compare; SAHF; DF left set by a POPFQ of a
# computed value or on one branch only; a jump computed from the address a CALL pushed.
RIGHT_AMD64 = SAVED_IN_RESULTS.format(name="resultPlain", callee="plainResults") + """//symabi:host-entry
TEXT ·movlSave(SB),NOSPLIT|NOFRAME,$0
	SUBQ	$24, SP
	MOVL	BX, 0(SP)
	MOVQ	DI, AX
	CALL	AX
	MOVL	0(SP), BX
	ADDQ	$24, SP
	RET

//symabi:host-entry
TEXT ·aliasSave(SB),NOSPLIT|NOFRAME,$0
	SUBQ	$24, SP
	LEAQ	8(SP), AX
	MOVQ	BX, 0(AX)
	MOVQ	$0, BX
	MOVQ	DI, AX
	CALL	AX
	MOVQ	8(SP), BX
	ADDQ	$24, SP
	RET

//symabi:host-entry
TEXT ·btsSave(SB),NOSPLIT|NOFRAME,$0
	SUBQ	$24, SP
	MOVQ	BX, 8(SP)
	MOVQ	$64, AX
	BTSQ	AX, 0(SP)
	MOVQ	8(SP), BX
	ADDQ	$24, SP
	RET

//symabi:host-entry
TEXT ·repBack(SB),NOSPLIT|NOFRAME,$0
	SUBQ	$24, SP
	MOVQ	BX, 8(SP)
	MOVQ	$0, 0(SP)
	LEAQ	7(SP), SI
	LEAQ	15(SP), DI
	MOVQ	$8, CX
	STD
	REP;	MOVSB
	CLD
	MOVQ	8(SP), BX
	ADDQ	$24, SP
	RET

//symabi:host-entry
TEXT ·cx16(SB),NOSPLIT|NOFRAME,$0
	SUBQ	$40, SP
	MOVQ	BX, 16(SP)
	MOVQ	DI, 0(SP)
	MOVQ	$0, 8(SP)
	XORL	AX, AX
	XORL	DX, DX
	MOVQ	$5, BX
	XORL	CX, CX
	LEAQ	0(SP), SI
	LOCK
	BYTE $0x48; BYTE $0x0f; BYTE $0xc7; BYTE $0x0e	// CMPXCHG16B (SI)
	JNE	ne
	MOVQ	$0, BP
ne:
	MOVQ	16(SP), BX
	ADDQ	$40, SP
	RET

//symabi:host-entry
TEXT ·sahf(SB),NOSPLIT|NOFRAME,$0
	MOVQ	DI, AX
	BYTE $0x9e	// SAHF: ZF from bit 14 of RDI
	JNE	out
	MOVQ	$0, BX
out:
	RET

//symabi:host-entry
TEXT ·popfDF(SB),NOSPLIT|NOFRAME,$0
	MOVQ	DI, AX
	ANDQ	$0x400, AX
	ORQ	$0x202, AX
	PUSHQ	AX
	POPFQ
	RET

//symabi:host-entry
TEXT ·dfOneSide(SB),NOSPLIT|NOFRAME,$0
	STD
	CMPQ	DI, $7
	JEQ	skip
	CLD
skip:
	RET

//symabi:host-entry
TEXT ·callSelf(SB),NOSPLIT|NOFRAME,$0
	BYTE $0xe8; LONG $0	// CALL +0: pushes the address of the POPQ
	BYTE $0x58	// POPQ AX
	ADDQ	$7, AX	// the MOVQ below (POPQ 1, ADDQ 4, JMP 2 bytes)
	JMP	AX
	MOVQ	$0, BX
	RET
"""
RIGHT_AMD64_GO = """func resultPlain()
func movlSave()
func aliasSave()
func btsSave()
func repBack()
func cx16()
func sahf()
func popfDF()
func dfOneSide()
func callSelf()

func plainResults(fn uintptr) (a, b, c uintptr) { return 1, 2, 3 }
"""
RIGHT_AMD64_TOML = """[callees."entry.rdi"]
host = true
args = 0
"""

# Windows: XMM6 kept with MOVSD (its low 64 bits: the ABI keeps all 128); RSI saved in the 32-byte home area
# crosscall2 may write (0(SP) at the call). x87Init: FNINIT resets the x87 control word to 0x37f (64-bit
# precision); the Windows x64 ABI makes it non-volatile, and Windows runs with 0x27f (53-bit). windows-x64 had
# no control-state obligation: PROVED. Real run (wine, a mingw caller reading FNSTCW around the call): 0x27f
# before, 0x37f after. Now UNKNOWN (preserve-x87-control-word, as on System V).
WINDOWS = """//symabi:host-entry
TEXT ·x87Init(SB),NOSPLIT|NOFRAME,$0
	BYTE $0xdb; BYTE $0xe3	// FNINIT
	RET

//symabi:host-entry
TEXT ·xmmLow(SB),NOSPLIT|NOFRAME,$0
	SUBQ	$24, SP
	MOVSD	X6, 0(SP)
	XORPS	X6, X6
	MOVSD	0(SP), X6
	ADDQ	$24, SP
	RET

//symabi:host-entry
TEXT ·homeSave(SB),NOSPLIT|NOFRAME,$0
	SUBQ	$40, SP
	MOVQ	SI, 0(SP)
	MOVQ	$0, CX
	CALL	crosscall2(SB)
	MOVQ	0(SP), SI
	ADDQ	$40, SP
	RET
"""
WINDOWS_GO = "func x87Init()\nfunc xmmLow()\nfunc homeSave()\n"

# ---- arm64 --------------------------------------------------------------------------------------------

# stxr: a store-exclusive with no load-exclusive before it: the exclusive monitor is open, so the store fails
# (status 1) on every CPU (and any STXR may fail spuriously). angr performs every store-conditional and
# reports success: symabi PROVED it. Real run (qemu-aarch64): X19 came back 0, the failure side. Now UNKNOWN.
# Right: D8 saved with FMOVS (its low 32 bits), a loop bounded only by X0 (UNKNOWN: path bound), and an
# STP.W / LDP.P pair (PROVED; the real run under qemu kept every register).
ARM64 = """//symabi:host-entry
TEXT ·stxr(SB),NOSPLIT|NOFRAME,$0
	SUB	$16, RSP
	MOVD	RSP, R1
	MOVD	$5, R2
	STXR	R2, (R1), R3
	ADD	$16, RSP
	CBZ	R3, done
	MOVD	$0, R19
done:
	RET

//symabi:host-entry
TEXT ·dLow(SB),NOSPLIT|NOFRAME,$0
	SUB	$16, RSP
	FMOVS	F8, (RSP)
	FMOVD	$1.5, F8
	FMOVS	(RSP), F8
	ADD	$16, RSP
	RET

//symabi:host-entry
TEXT ·loop(SB),NOSPLIT|NOFRAME,$0
	MOVD	$0, R1
again:
	CMP	R0, R1
	BEQ	out
	ADD	$1, R1
	CMP	$1000, R1
	BNE	again
	MOVD	$0, R19
out:
	RET

//symabi:host-entry
TEXT ·pairWB(SB),NOSPLIT|NOFRAME,$0
	STP.W	(R19, R20), -32(RSP)
	MOVD	$1, R19
	MOVD	$2, R20
	LDP.P	32(RSP), (R19, R20)
	RET
"""
ARM64_GO = "func stxr()\nfunc dLow()\nfunc loop()\nfunc pairWB()\n"

# noG: saves every callee-saved register, then BLs a Go function with R28 as the host left it. Go code reads g
# from R28 in ABI0 as in ABIInternal (the stack check loads 16(R28)), but the x28 obligation was judged at
# ABIInternal calls only: PROVED. Real run (qemu, the probe's X28 = 0x2828): SIGSEGV at 0x2838. Now UNKNOWN
# (models/go_abiinternal.py entry_facts: symabi check's Go callees on arm64 get the obligation; the thread's g
# is not known without a world).
NO_G = """//symabi:host-entry
TEXT ·noG(SB),NOSPLIT|NOFRAME,$0
	SUB	$176, RSP
	STP	(R29, R30), 0(RSP)
	STP	(R19, R20), 16(RSP)
	STP	(R21, R22), 32(RSP)
	STP	(R23, R24), 48(RSP)
	STP	(R25, R26), 64(RSP)
	STP	(R27, g), 80(RSP)
	FMOVD	F8, 96(RSP)
	FMOVD	F9, 104(RSP)
	FMOVD	F10, 112(RSP)
	FMOVD	F11, 120(RSP)
	FMOVD	F12, 128(RSP)
	FMOVD	F13, 136(RSP)
	FMOVD	F14, 144(RSP)
	FMOVD	F15, 152(RSP)
	SUB	$16, RSP
	BL	·goFn(SB)
	ADD	$16, RSP
	LDP	0(RSP), (R29, R30)
	LDP	16(RSP), (R19, R20)
	LDP	32(RSP), (R21, R22)
	LDP	48(RSP), (R23, R24)
	LDP	64(RSP), (R25, R26)
	LDP	80(RSP), (R27, g)
	FMOVD	96(RSP), F8
	FMOVD	104(RSP), F9
	FMOVD	112(RSP), F10
	FMOVD	120(RSP), F11
	FMOVD	128(RSP), F12
	FMOVD	136(RSP), F13
	FMOVD	144(RSP), F14
	FMOVD	152(RSP), F15
	ADD	$176, RSP
	RET
"""
NO_G_GO = """func noG()

//go:noinline
func goFn() uintptr { return helper() + 1 }

//go:noinline
func helper() uintptr { return 41 }
"""


# belowSP: X19 kept at [SP, #-16] while X19 is used (no call). Windows on arm64 keeps those 16 bytes from exceptions
# and interrupts, but reserves them "for use by analysis and dynamic patching scenarios" (code inserted at any
# instruction that "stores two registers at [sp, #-16]"): not the function's. windows-arm64 had a 16-byte red
# zone: PROVED. Ground truth: Microsoft's "Overview of ARM64 ABI conventions", "Red zone". Now REFUTED (no red
# zone for the function on windows-arm64, ports/abi.py); darwin's 128-byte red zone is the leaf function's (PROVED); Linux has none.
BELOW_SP = """//symabi:host-entry
TEXT ·belowSP(SB),NOSPLIT|NOFRAME,$0
	MOVD	R19, -16(RSP)
	MOVD	$1, R19
	MOVD	-16(RSP), R19
	RET
"""


def _run(tmp_path_factory, go: str, files: dict[str, str], ports: tuple[str, ...], toml: str | None = None):
    return _checked(tmp_path_factory, ports, go, files, toml)


@pytest.fixture(scope="module")
def wrong_amd64(tmp_path_factory):
    return _run(tmp_path_factory, WRONG_AMD64_GO, {"p_amd64.s": WRONG_AMD64}, ("linux/amd64",), CTX_TOML)


@pytest.fixture(scope="module")
def right_amd64(tmp_path_factory):
    return _run(tmp_path_factory, RIGHT_AMD64_GO, {"p_amd64.s": RIGHT_AMD64}, ("linux/amd64",), RIGHT_AMD64_TOML)


@pytest.fixture(scope="module")
def arm64(tmp_path_factory):
    return _run(tmp_path_factory, ARM64_GO + NO_G_GO, {"p_arm64.s": ARM64 + "\n" + NO_G}, ("linux/arm64",))


def test_a_func_typed_parameter_does_not_hide_the_go_callees_results(wrong_amd64):
    """check/callees.py reads the declaration's brackets balanced: 8 bytes of arguments, 24 of results."""
    record = wrong_amd64[("resultSlot", "linux/amd64")]
    assert _refuted(record, "preserve-rbx"), record
    assert any("8 bytes of arguments and 24 of results" in line for line in record["callees"]), record


@pytest.mark.parametrize("declaration, frame", [
    ("func f(fn func()) (a, b, c uintptr) { return 1, 2, 3 }", (8, 24)),
    ("func f(fn func(), x, y uintptr)", (24, 0)),
    ("func f(m map[string]func()) func() (int, error) {", (8, 8)),
    ("func f(\n\ta uintptr,\n\tb func(int) (int, error),\n) (r uintptr)", (16, 8)),
    ("func f() interface{} { return nil }", (0, 16)),
    ("func f() uintptr // the result", (0, 8)),
    ("func f(a uintptr /* x */)", None),  # a comment inside: not guessed
])
def test_go_declarations_are_read_bracket_balanced(tmp_path, declaration, frame):
    from symabi.check.callees import go_frame

    (tmp_path / "a.go").write_text(f"package p\n\n{declaration}\n")
    assert go_frame([tmp_path / "a.go"], "f") == frame


@pytest.mark.parametrize("name", ["ctxPtr", "ctxGo"])
def test_a_callee_writes_through_the_pointers_its_arguments_reach(wrong_amd64, name):
    """A C callee (ctxPtr) or a Go one (ctxGo) handed &ctx writes *ctx->p: the save slot it points to."""
    record = wrong_amd64[(name, "linux/amd64")]
    assert record["verdict"] != "proved", record
    assert any("preserve-rbx" in f and ".reached.stack" in f for f in record["findings"]), record


def test_crosscall2s_n_does_not_bound_what_fn_writes(tmp_path, monkeypatch):
    root = _module(tmp_path / "m", CROSSCALL2_N_GO, {"p_amd64.s": CROSSCALL2_N}, CROSSCALL2_N_TOML)
    record = _check(root, ("linux/amd64",), monkeypatch)[("cbN", "linux/amd64")]
    assert record["verdict"] != "proved", record


@pytest.mark.parametrize("port", ["linux/amd64", "windows/amd64"])
def test_alignment_checking_the_code_turns_on_is_modelled(tmp_path, monkeypatch, port):
    found = _check(_module(tmp_path / "m", AC_GO, {"p_amd64.s": AC}), (port,), monkeypatch)
    record = found[("acCheck", port)]
    assert record["verdict"] == "unknown" and any(": no-fault: " in f for f in record["findings"]), record
    assert found[("acAligned", port)]["verdict"] == "proved", found[("acAligned", port)]  # aligned: no #AC


@pytest.mark.parametrize("name, obligation", [
    ("resultPlain", "preserve-rbx"), ("movlSave", "preserve-rbx"), ("aliasSave", None), ("btsSave", "preserve-rbx"),
    ("repBack", "preserve-rbx"), ("cx16", "preserve-rbp"), ("sahf", "preserve-rbx"), ("popfDF", "df-clear-at-return"),
    ("dfOneSide", "df-clear-at-return"), ("callSelf", "preserve-rbx")])
def test_amd64_right_verdicts(right_amd64, name, obligation):
    record = right_amd64[(name, "linux/amd64")]
    if obligation is None:  # saved through an alias, restored through SP: correct
        assert record["verdict"] == "proved", record
    else:
        assert _refuted(record, obligation), record
        assert any(line == "\treplay: confirmed" for line in record["findings"]), record


def test_windows_x87_control_word_partial_xmm_save_and_the_callees_home_area(tmp_path, monkeypatch):
    found = _check(_module(tmp_path / "m", WINDOWS_GO, {"p_amd64.s": WINDOWS}), ("windows/amd64",), monkeypatch)
    assert _refuted(found[("xmmLow", "windows/amd64")], "preserve-xmm6"), found[("xmmLow", "windows/amd64")]
    assert _refuted(found[("homeSave", "windows/amd64")], "preserve-rsi"), found[("homeSave", "windows/amd64")]
    x87 = found[("x87Init", "windows/amd64")]
    assert x87["verdict"] == "unknown" and any("preserve-x87-control-word" in f for f in x87["findings"]), x87


def test_a_store_exclusive_that_fails_is_not_proved(arm64):
    """angr performs every store-conditional and reports success: engine/cpu_arm64.py makes the path UNKNOWN."""
    record = arm64[("stxr", "linux/arm64")]
    assert record["verdict"] == "unknown", record
    assert any("store-exclusive" in f for f in record["findings"]), record


def test_a_go_callee_on_arm64_needs_g_in_r28(arm64):
    record = arm64[("noG", "linux/arm64")]
    assert record["verdict"] == "unknown", record
    assert any("x28-g-at-abiinternal-call" in f and "goFn" in f for f in record["findings"]), record


@pytest.fixture(scope="module")
def below_sp(tmp_path_factory):
    return _run(tmp_path_factory, "func belowSP()\n", {"p_arm64.s": BELOW_SP},
                ("windows/arm64", "darwin/arm64", "linux/arm64"))


def test_the_red_zones_of_darwin_and_linux_arm64(below_sp):
    assert below_sp[("belowSP", "darwin/arm64")]["verdict"] == "proved", below_sp[("belowSP", "darwin/arm64")]
    assert _refuted(below_sp[("belowSP", "linux/arm64")], "preserve-x19"), below_sp[("belowSP", "linux/arm64")]


def test_the_16_bytes_below_sp_on_windows_arm64_are_not_the_functions(below_sp):
    assert _refuted(below_sp[("belowSP", "windows/arm64")], "preserve-x19"), below_sp[("belowSP", "windows/arm64")]


def test_arm64_right_verdicts(arm64):
    assert _refuted(arm64[("dLow", "linux/arm64")], "preserve-d8"), arm64[("dLow", "linux/arm64")]
    loop = arm64[("loop", "linux/arm64")]
    assert loop["verdict"] == "unknown" and any("path bound" in f for f in loop["findings"]), loop
    assert arm64[("pairWB", "linux/arm64")]["verdict"] == "proved", arm64[("pairWB", "linux/arm64")]
