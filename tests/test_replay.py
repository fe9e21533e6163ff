"""Concrete replay on unicorn: the shipped crosscall2 keeps the contract on random inputs, mutants break it
concretely, and a symbolic counterexample is confirmed by running it."""

from __future__ import annotations

import dataclasses
import random
import struct
from pathlib import Path

import pytest

from symabi.casefile import CalleeSpec, EntryConvention, parse_case
from symabi.frontend import AssembleRequest, assemble, request_for
from symabi.loader import CODE_BASE, STUB_BASE, Image, lay_out, lay_out_for
from symabi.replay import (
    ABORTED,
    CONFIRMED,
    ERROR,
    ESCAPED,
    FAULTED,
    LOOP,
    NOT_REPRODUCED,
    RETURNED,
    ConcreteInputs,
    Region,
    check,
    confirm,
    evaluate,
    replay,
    setups_for_case,
)
from symabi.replay.constants import STACK_SHADOW

from conftest import CASES, mutate

TRIALS = 40


def _image(case, version: str, toolchain) -> Image:
    from symabi.ports import PORTS

    return lay_out_for(assemble(toolchain, request_for(case, case.version(version))), PORTS[case.port])  # its port


def _setup(case_dir: Path, version: str, toolchain):
    case = parse_case(case_dir)
    (setup,) = setups_for_case(case, _image(case, version, toolchain))
    return setup


def _random_runs(setup, seed: int = 0, trials: int = TRIALS):
    rng = random.Random(seed)
    return [setup.run(setup.random_inputs(rng)) for _ in range(trials)]


# ---- the engine's conventions, restated in replay ------------------------------------------------


def test_constants_agree_with_the_engine():
    from symabi.contracts.windows_x64 import WINDOWS_X64
    from symabi.engine import memory, registers
    from symabi.models import entry
    from symabi.replay import constants as c

    assert (c.GPRS, c.XMMS, c.ARITH_FLAGS_MASK) == (registers.GPRS, registers.XMMS, registers.ARITH_FLAGS_MASK)
    assert c.STACK_SHADOW == memory.STACK_SHADOW
    assert (c.HOME_AREA, c.STACK_RESERVE, c.CALLER_FRAME, c.LOWEST_STACK, c.HIGHEST_STACK) == (
        entry.HOME_AREA, entry.STACK_RESERVE, entry.CALLER_FRAME, entry.LOWEST_STACK, entry.HIGHEST_STACK)
    # the obligations are not restated: replay judges the contracts' own definitions, by id
    from symabi.contracts import CONTRACTS
    from symabi.obligations.definition import AT_EVERY_ABIINTERNAL_CALL, ControlStateKept
    from symabi.obligations.host_abi import definition

    sysv = CONTRACTS["sysv-amd64"].obligations
    assert all(definition(o.id).claim == o.claim for o in (*WINDOWS_X64.obligations, *sysv))
    # what this oracle leaves unreplayed: which calls are ABIInternal, and the control state
    unjudged = {o.id for o in sysv if o.when == AT_EVERY_ABIINTERNAL_CALL or isinstance(o.claim, ControlStateKept)}
    assert unjudged == {"x15-zero-at-abiinternal-call", "r14-g-at-abiinternal-call", "preserve-x87-control-word",
                        "preserve-mxcsr"}


# ---- the shipped trampoline and its mutants ------------------------------------------------------


@pytest.mark.parametrize("version", ["old", "new"])
def test_shipped_crosscall2_keeps_the_contract_on_random_inputs(toolchain, version):
    setup = _setup(CASES / "crosscall2", version, toolchain)
    runs = _random_runs(setup)
    for run in runs:
        assert run.kind == RETURNED, run.reason
        assert check(run) == []
        assert {f.status for f in evaluate(run)} == {"holds"}
        (call,) = run.calls
        assert (call.callee, call.ordinal, call.df_set) == ("runtime.cgocallback", 1, False)
        assert run.exit_rsp == run.entry_rsp + 8 and run.target == run.caller_return
        assert all(w.region == "stack" and w.offset + w.size <= 0 for w in run.writes)
        assert call.frame >= 0x1000  # the adversarial callee built a frame below its SP
    # The callee really clobbered what the model lets it clobber: volatile state differs from entry.
    assert all(r.exit_regs["xmm0"] != r.entry_regs["xmm0"] for r in runs)
    # Same inputs, same run.
    again = setup.run(runs[0].inputs)
    assert (again.exit_regs, again.trace, again.writes) == (runs[0].exit_regs, runs[0].trace, runs[0].writes)


NEW_H = ("new", "abi_amd64.h")
NEW_S = ("new", "asm_amd64.s")
MUTANTS = {
    "xmm7-restore-removed": (NEW_H, "\tMOVUPS\t(10*8)(SP), X7\t\\\n", "", {"preserve-xmm7"}),
    "r12-saved-over-r13": (NEW_H, "MOVQ\tR12, (4*8)(SP)", "MOVQ\tR12, (5*8)(SP)", {"preserve-r12"}),
    "rbx-save-removed": (NEW_H, "\tMOVQ\tBX, (3*8)(SP)\t\\\n", "", {"preserve-rbx"}),
    "std-instead-of-cld": (NEW_H, "\tCLD\t\t\t\\\n", "\tSTD\t\t\t\\\n", {"df-clear-at-call"}),
    "std-after-popfq": (NEW_H, "\tPOPFQ\n", "\tPOPFQ\t\\\n\tSTD\n", {"df-clear-at-return"}),
    # DI over the host's return address: the store breaks the frame, and RET goes where DI says.
    "return-address-overwritten": (NEW_H, "\tMOVQ\tDI, (0*0)(SP)\t\\\n",
                                   "\tMOVQ\tDI, (0*0)(SP)\t\\\n\tMOVQ\tDI, (29*8)(SP)\t\\\n",
                                   {"stack-writes-in-frame", "return-to-caller"}),
}


@pytest.mark.parametrize("name", sorted(MUTANTS))
def test_mutants_break_the_contract_concretely(case_copy, toolchain, name):
    (folder, file), old, new, expected = MUTANTS[name]
    case = case_copy("crosscall2")
    mutate(case / folder / file, old, new)
    for run in _random_runs(_setup(case, "new", toolchain), trials=10):
        assert {v.obligation for v in check(run)} == expected, (run.kind, run.reason)


def test_violation_values_and_sites(case_copy, toolchain):
    case = case_copy("crosscall2")
    mutate(case / "new" / "abi_amd64.h", "\tMOVUPS\t(10*8)(SP), X7\t\\\n", "")
    setup = _setup(case, "new", toolchain)
    (run,) = _random_runs(setup, trials=1)
    (v,) = check(run)
    assert v.entry == run.inputs.regs["xmm7"]
    assert v.exit == run.inputs.callee_value("runtime.cgocallback", 1, "xmm7", 128)
    assert len(v.exit_text) == 2 + 32
    assert setup.image.instruction_at(v.site).text == "RET"


# ---- one symbolic counterexample, end to end -----------------------------------------------------


@pytest.mark.slow
def test_symbolic_counterexamples_are_confirmed(case_copy, toolchain):
    from symabi.prover import prove_case

    case_dir = case_copy("crosscall2")
    header = case_dir / "new" / "abi_amd64.h"
    mutate(header, "\tMOVQ\tBX, (3*8)(SP)\t\\\n", "")  # the witness names stack memory
    mutate(header, "\tMOVUPS\t(10*8)(SP), X7\t\\\n", "")  # ... a callee's output
    mutate(header, "\tCLD\t\t\t\\\n", "\tSTD\t\t\t\\\n")  # ... nothing but the entry RSP
    case = parse_case(case_dir)
    (version,) = prove_case(case, toolchain, ["new"]).versions
    assert {v.obligation for v in version.violations} == {"preserve-rbx", "preserve-xmm7", "df-clear-at-call"}
    image = _image(case, "new", toolchain)
    entry = image.symbols["crosscall2"]
    for v in version.violations:
        assert confirm(v, image, entry, case.callees) == CONFIRMED, v
    # The memory witness is laid where the engine read it: change its value and the violation goes away.
    (rbx,) = [v for v in version.violations if v.obligation == "preserve-rbx"]
    (mem,) = [n for n in rbx.inputs if n.startswith(("init.", "mem"))]
    forged = dataclasses.replace(rbx, inputs={**rbx.inputs, mem: rbx.inputs["entry.rbx"]})
    verdict = confirm(forged, image, entry, case.callees)
    assert verdict.startswith(f"{NOT_REPRODUCED}: preserve-rbx holds"), verdict


def _shipped_cases():
    """The amd64 cases (arm64's have their own oracle, symabi.replay.arm64: tests/test_arm64.py)."""
    return sorted(p.name for p in CASES.iterdir() if (p / "case.toml").is_file() and
                  not parse_case(p).port.endswith("/arm64"))


@pytest.mark.slow
@pytest.mark.parametrize("name", _shipped_cases())
def test_prover_and_replay_agree_on_shipped_cases(toolchain, name):
    """Every counterexample replays in the entry and world its path ran in; a PROVED version shows no
    violation on random inputs in any entry and world."""
    from symabi.prover import prove_case
    from symabi.replay import confirm_result

    case = parse_case(CASES / name)
    result = prove_case(case, toolchain)
    for version, proved in zip(case.versions, result.versions):
        setups = setups_for_case(case, _image(case, version.name, toolchain))
        assert confirm_result(proved, setups) == [CONFIRMED] * len(proved.violations)
        if proved.verdict.value == "proved":
            for setup in setups:
                for run in _random_runs(setup, trials=5):
                    assert run.kind in (RETURNED, ABORTED) and check(run, contract=case.contract) == [], (
                        setup.label, run.reason)


# ---- witness names -------------------------------------------------------------------------------


def test_witness_names_map_onto_inputs():
    inputs = ConcreteInputs.from_witness({
        "entry.rbx": "0x5", "entry.rsp": "0x3ffeffff0008", "entry.rflags": "0xffff", "entry.xmm6": 1 << 100,
        "entry.callback_index": "0x2",
        "runtime.cgocallback#2.r12": "0x7", "runtime.cgocallback#2.rflags": "0x1",
        "runtime.cgocallback#1.frame+0x10": "0x9", "runtime.cgocallback#1.*frame+0x8+0x20": "0xa",
        f"mem@{STACK_SHADOW - 0x30:#x}.64": "0x0102", "mem_7fefffffff88_3_128": "0x1",
        "mem@0x20000028.64": "0x20001000", "reg_gs": "0x1",
        "init.stack-0xd0": "0x11", "init.stack+0x10.b": "0x12", "init.m+0x58": "0x13", "init.m+0x60.b": "0x14",
        "init.runtime/cgo.x_cgo_init+0x8": "0x15", "init.mem@0x30000000": "0x16",
    })
    assert inputs.regs["rbx"] == 5 and inputs.rsp == 0x3FFEFFFF0008 and inputs.regs["xmm6"] == 1 << 100
    assert inputs.rflags == 0xFFFF & 0x8D5 and inputs.callback_index == 2
    assert inputs.callee_value("runtime.cgocallback", 2, "r12", 64) == 7
    assert inputs.callee_value("runtime.cgocallback", 2, "rflags", 64) == 1
    assert inputs.callee_value("runtime.cgocallback", 1, "frame+0x10", 64) == 9
    assert inputs.callee_value("runtime.cgocallback", 1, "*frame+0x8+0x20", 64) == 0xA
    assert inputs.stack[-0x30] == (0x0102).to_bytes(8, "little")
    assert inputs.stack[-0x78] == (1).to_bytes(16, "little")
    assert inputs.memory[0x20000028] == (0x20001000).to_bytes(8, "little")
    assert inputs.stack[-0xD0] == (0x11).to_bytes(8, "little") and inputs.stack[0x10] == b"\x12"
    assert inputs.named == {("m", 0x58): (0x13).to_bytes(8, "little"), ("m", 0x60): b"\x14",
                            ("runtime/cgo.x_cgo_init", 8): (0x15).to_bytes(8, "little")}
    assert inputs.memory[0x30000000] == (0x16).to_bytes(8, "little")
    assert inputs.ignored == ("reg_gs",)
    # Unnamed inputs: a deterministic default, different per name.
    again = ConcreteInputs.from_witness({})
    assert again.regs == ConcreteInputs.from_witness({}).regs
    assert again.regs["rax"] != again.regs["rbx"]
    assert again.callee_value("f", 1, "rax", 64) == inputs.callee_value("f", 1, "rax", 64)
    assert again.callee_value("f", 1, "rax", 64) != again.callee_value("f", 2, "rax", 64)


def test_witness_names_of_the_oracle():
    """Names for what the oracle draws itself unless a witness fixes it (issue 9)."""
    inputs = ConcreteInputs.from_witness({
        "entry.return_address": "0x7ff600001235", "entry.ac": "0x1", "entry.id": "0x0", "world.m": "0x5550000",
        "world.g0stack": "0x6660000", "cpuid#2.ecx": "0x10000000", "below-rsp#3.stack-0x10": "0x42", "below-rsp#3.stack-0xf": "0x1",
        "runtime.cgocallback#1.below-0x8": "0x99", "runtime.cgocallback#1.frame+0x008": "0x7",
    })
    assert inputs.ignored == ()
    assert inputs.entry == {"return_address": 0x7FF600001235, "ac": 1, "id": 0}
    assert inputs.entry_bit("ac") == 1 and inputs.entry_bit("id") == 0
    assert inputs.world == {"m": 0x5550000, "g0stack": 0x6660000}
    assert inputs.cpuid(2, "ecx") == 0x10000000
    # the engine names each byte below RSP: the word at entry RSP - 0x10 takes the bytes a witness fixes
    assert inputs.below_rsp(3, 0x10, 0xFFFF_FFFF_FFFF_FFFF) == 0xFFFF_FFFF_FFFF_0142
    assert inputs.callee_fixed("runtime.cgocallback", 1, "below-0x8") == 0x99
    assert inputs.callee_value("runtime.cgocallback", 1, "frame+0x8", 64) == 7  # one spelling per name
    # what no witness names is drawn from the seed: fixed for one seed, different for another
    a, b = ConcreteInputs.from_witness({}, seed="a"), ConcreteInputs.from_witness({}, seed="b")
    assert a.cpuid(1, "eax") == ConcreteInputs.from_witness({}, seed="a").cpuid(1, "eax") != b.cpuid(1, "eax")
    assert a.rflags != b.rflags or a.regs != b.regs
    assert a.rsp % 16 == 8


# ---- the machine on small programs ---------------------------------------------------------------


def _raw(code: bytes, stubs=(), symbols=None) -> Image:
    code = code.ljust((len(code) + 15) // 16 * 16, b"\x90")
    symbols = symbols or {"f": (CODE_BASE, len(code), "STEXT")}
    return Image(code=code, base=CODE_BASE, symbols={n: a for n, (a, _, _) in symbols.items()},
                 sizes={n: s for n, (_, s, _) in symbols.items()}, kinds={n: k for n, (_, _, k) in symbols.items()},
                 stubs={STUB_BASE + 0x10000 * i: n for i, n in enumerate(stubs)}, instructions={})


def _run(code: bytes, stubs=(), callees=None, **kw):
    return replay(_raw(code, stubs), CODE_BASE, ConcreteInputs({}), callees or {}, **kw)


def _call_stub() -> bytes:
    return b"\xe8" + struct.pack("<i", STUB_BASE - (CODE_BASE + 5))


def test_how_runs_end():
    run = _run(bytes.fromhex("488d0540000000ffe0"))  # LEAQ 0x40(IP), AX; JMP AX (into page padding)
    assert (run.kind, run.target, run.site) == (ESCAPED, CODE_BASE + 0x47, CODE_BASE + 7)
    assert {v.obligation for v in check(run)} == {"return-to-caller"}
    run = _run(b"\xeb\xfe", budget=500)  # JMP to itself
    assert (run.kind, run.steps) == (LOOP, 500)
    assert check(run) == [] and {f.status for f in evaluate(run)} >= {"unknown"}
    run = _run(b"\x0f\x0b")  # UD2
    assert run.kind == FAULTED and "#UD" in run.reason and {v.obligation for v in check(run)} == {"no-fault"}
    run = _run(b"\x0f\x05\xc3")  # SYSCALL
    assert run.kind == ERROR and "system call" in run.reason
    run = _run(b"\xcc\xc3")  # INT3
    assert (run.kind, run.site) == (ABORTED, CODE_BASE)


def test_memory_outside_every_region_faults():
    # the null page, past the mapped part of the caller's stack, and the read-only code: page faults
    for code, why in ((bytes.fromhex("488b042534120000c3"), "(the null page)"),
                      (bytes.fromhex("488b842400000200c3"), "nothing is mapped there"),
                      (bytes.fromhex("880500000000c3"), "region code is read-only")):
        run = _run(code)
        assert run.kind == FAULTED and "#PF" in run.reason and why in run.reason, run.reason
        stored = {"writes-owned-memory"} if "write" in run.reason else set()  # a faulting store is still a store
        assert run.site == CODE_BASE and {v.obligation for v in check(run)} == {"no-fault"} | stored
    run = _run(bytes.fromhex("488b442420c3"))  # the last word of the home area is readable
    assert run.kind == RETURNED
    run = _run(bytes.fromhex("488b442428c3"), convention=EntryConvention(stack_args=8))  # a stack argument
    assert run.kind == RETURNED
    run = _run(bytes.fromhex("488b442428c3"))  # the caller's frame above the home area: unknown but readable
    assert run.kind == RETURNED
    # beyond the modelled window nothing is mapped: reality promises no more stack there, and the host's
    # code may lie there (the model says UNKNOWN for such an access)
    run = _run(bytes.fromhex("488b842400200000c3"))
    assert run.kind == FAULTED and "#PF" in run.reason


def test_callees():
    code = _call_stub() + b"\xc3"
    run = _run(code, ["x.f"])
    assert run.kind == ERROR and "does not declare" in run.reason
    run = _run(code, ["x.f"], {"x.f": CalleeSpec("x.f", noreturn=True)})
    assert run.kind == ABORTED and run.calls[0].site == CODE_BASE and check(run) == []
    # SUBQ $0x28, SP; STD; CALL; ADDQ $0x28, SP; RET — DF at the call; frame words written by the callee.
    code = bytes.fromhex("4883ec28fd") + b"\xe8" + struct.pack("<i", STUB_BASE - (CODE_BASE + 10)) + bytes.fromhex(
        "4883c428c3")
    run = _run(code, ["x.f"], {"x.f": CalleeSpec("x.f", args=16, results=8)})
    assert run.kind == RETURNED
    (call,) = run.calls
    assert call.df_set and call.rsp == run.entry_rsp - 0x30 and len(call.args) == 2
    assert call.registers["rsp"] == call.rsp and call.registers["rbx"] == run.entry_regs["rbx"]
    own, *words = [(w.offset, w.size, w.kind) for w in run.writes if w.by == "x.f"]
    assert own == (-0x30 - call.frame, call.frame, "frame") and 0x1000 <= call.frame <= 0x4000
    assert words == [(-0x28, 8, "frame"), (-0x20, 8, "frame"), (-0x18, 8, "frame")]
    assert {v.obligation for v in check(run)} >= {"df-clear-at-call"}
    assert not run.df_at_exit  # the callee returns with DF clear
    assert run.exit_regs["rbx"] == run.inputs.callee_value("x.f", 1, "rbx", 64)


def test_callbackasm_table_entry():
    table = CODE_BASE + 0x100
    image = _raw(bytes.fromhex("58c3"), symbols={"f": (CODE_BASE, 16, "STEXT"), "tbl": (table, 16, "STEXT")})
    image = dataclasses.replace(image, code=image.code.ljust(0x110, b"\x90"))
    conv = EntryConvention(name="callbackasm-table", table="tbl", stride=5, table_entries=10)
    run = replay(image, CODE_BASE, ConcreteInputs({}, callback_index=3), {}, convention=conv)
    assert run.kind == RETURNED and run.exit_regs["rax"] == table + 5 * 4
    assert check(run) == []


PROBE = """#include "textflag.h"

TEXT ·probe(SB),NOSPLIT|NOFRAME,$0-0
	MOVQ	0x28(GS), DX
	MOVQ	0x8(DX), AX
	MOVQ	AX, 0x10(DX)
	RET

TEXT ·trap(SB),NOSPLIT|NOFRAME,$0-0
	INT	$3
	RET
"""


def test_gs_base_and_world_regions(tmp_path, toolchain):
    (tmp_path / "probe.s").write_text(PROBE)
    image = lay_out(assemble(toolchain, AssembleRequest(tmp_path / "probe.s", (), (), "probe")))
    teb, m = 0x2000_0000, 0x2100_0000
    regions = [
        Region("teb", teb, 0x100, writable=False, init={teb + 0x28: m.to_bytes(8, "little")}),
        Region("m", m, 0x40, writable=True, data=bytes(8) + (0x1234).to_bytes(8, "little")),
    ]
    probe = image.symbols["probe.probe"]
    run = replay(image, probe, ConcreteInputs({}), {}, regions=regions, gs_base=teb)
    assert run.kind == RETURNED and check(run) == []
    assert (run.exit_regs["rdx"], run.exit_regs["rax"]) == (m, 0x1234)
    assert [(w.region, w.offset, w.size) for w in run.writes] == [("m", 0x10, 8)]
    # Plain (start, size, bytes) regions work too; a witness can name world memory.
    inputs = ConcreteInputs.from_witness({"mem@0x21000008.64": "0x99"})
    plain = [(teb, 0x100, bytes(0x28) + m.to_bytes(8, "little")), (m, 0x40, b"")]
    run = replay(image, probe, inputs, {}, regions=plain, gs_base=teb)
    assert run.exit_regs["rax"] == 0x99
    # No GS base: 0x28(GS) is address 0x28, which no region holds.
    run = replay(image, probe, ConcreteInputs({}), {}, regions=regions)
    assert run.kind == FAULTED and "0x28" in run.reason and "null page" in run.reason
    # A write into a read-only region faults.
    run = replay(image, probe, ConcreteInputs({}), {}, regions=[regions[0], dataclasses.replace(regions[1],
                                                                                                writable=False)],
                 gs_base=teb)
    assert run.kind == FAULTED and "read-only" in run.reason
    run = replay(image, image.symbols["probe.trap"], ConcreteInputs({}), {})
    assert run.kind == ABORTED and "INT $3" in run.reason
