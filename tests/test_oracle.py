"""The concrete oracle draws what the model must not fix (issue 9): each behaviour on a hand-written
trampoline assembled with the real Go assembler, run on unicorn only (no prover)."""

from __future__ import annotations

import dataclasses
import random

import pytest
from conftest import write_case

from symabi.casefile import parse_case
from symabi.frontend import AssembleRequest, assemble
from symabi.loader import lay_out
from symabi.replay import (
    ABORTED,
    FAULTED,
    RETURNED,
    ConcreteInputs,
    RegionPlan,
    WorldPlan,
    check,
    setups_for_case,
)

FOO = """
[callees."runtime.foo"]
args = 0
"""


@pytest.fixture
def setup_of(tmp_path, toolchain):
    """The single replay setup of a one-version case around ``body`` (entry ``tramp``)."""
    count = [0]

    def make(body: str, callees: str = FOO, extra: str = "", entry: str = "tramp"):
        count[0] += 1
        folder = write_case(tmp_path / f"cases{count[0]}", "t", body, callees, entry=entry, extra=extra)
        case = parse_case(folder)
        v = case.newest
        image = lay_out(assemble(toolchain, AssembleRequest(v.source, v.include_dirs, case.defines, case.package)))
        (setup,) = setups_for_case(case, image)
        return setup

    return make


def _runs(setup, trials: int = 30, seed: int = 1):
    rng = random.Random(seed)
    return [setup.run(setup.random_inputs(rng)) for _ in range(trials)]


def _witness(setup, **names):
    """A run whose inputs fix ``names`` (dots and hashes spelled with __ and _H_ for keyword arguments)."""
    return setup.run(ConcreteInputs.from_witness({k.replace("__", ".").replace("_H_", "#"): v
                                                  for k, v in names.items()}))


def _violated(run) -> set[str]:
    return {v.obligation for v in check(run)}


def _rbx_lost(run) -> bool:
    """Whether RBX is lost (a Go callee clobbers every other callee-saved register too)."""
    return "preserve-rbx" in _violated(run)


# ---- the Go callee is adversarial ----------------------------------------------------------------

SAVE_BELOW_SP_ACROSS_CALL = """
TEXT tramp(SB),NOSPLIT|NOFRAME,$0-0
	SUBQ	$16, SP
	MOVQ	BX, 0(SP)
	ADDQ	$16, SP		// the save slot is now below SP
	CALL	runtime·foo(SB)
	SUBQ	$16, SP
	MOVQ	0(SP), BX	// read at SP, not below it: only the callee can have changed it
	ADDQ	$16, SP
	RET
"""


def test_a_value_kept_below_sp_across_a_call_is_lost(setup_of):
    setup = setup_of(SAVE_BELOW_SP_ACROSS_CALL)
    for run in _runs(setup, 10):
        assert run.kind == RETURNED and _rbx_lost(run)
        assert run.calls[0].frame >= 0x1000
    # the callee's frame word at its entry RSP - 8 is the slot: a witness that names it keeps RBX
    run = _witness(setup, entry__rbx="0x1234", **{"runtime.foo#1.below-0x8": "0x1234"})
    assert run.kind == RETURNED and not _rbx_lost(run)


def test_callee_clobbers_registers_flags_and_xmm_all_128_bits(setup_of):
    setup = setup_of("""
TEXT tramp(SB),NOSPLIT|NOFRAME,$0-0
	CALL	runtime·foo(SB)
	RET
""")
    (run,) = _runs(setup, 1)
    assert _violated(run) == {*(f"preserve-{r}" for r in ("rbx", "rbp", "rdi", "rsi", "r12", "r13", "r14", "r15")),
                              *(f"preserve-xmm{i}" for i in range(6, 16))}
    assert all(run.exit_regs[f"xmm{i}"] >> 64 != run.entry_regs[f"xmm{i}"] >> 64 for i in range(16))
    assert not run.df_at_exit


POINTER_TO_SAVE_SLOT = """
TEXT tramp(SB),NOSPLIT|NOFRAME,$0-0
	SUBQ	$32, SP
	MOVQ	BX, 16(SP)	// save
	LEAQ	16(SP), AX
	MOVQ	AX, 0(SP)	// the callee's argument points at the save slot
	CALL	runtime·foo(SB)
	MOVQ	16(SP), BX
	ADDQ	$32, SP
	RET
"""


def test_callee_writes_through_its_pointer_arguments(setup_of):
    # by default: everything from the pointer up to the top of the stack window (the return address too)
    setup = setup_of(POINTER_TO_SAVE_SLOT, '[callees."runtime.foo"]\nargs = 8\n')
    for run in _runs(setup, 5):
        assert "return-to-caller" in _violated(run)
        (through,) = [w for w in run.writes if w.kind == "through"]
        assert through.offset == -0x10 and through.region == "stack"
    # declared writes narrow it to exactly those words: one past the slot keeps RBX ...
    setup = setup_of(POINTER_TO_SAVE_SLOT, '[callees."runtime.foo"]\nargs = 8\nwrites = [{ pointer_at = 0, offset = 8 }]\nwrites_reason = "test"\n')
    assert not any(_rbx_lost(run) or "return-to-caller" in _violated(run) for run in _runs(setup, 5))
    # ... the slot itself loses it, unless the witness names the value written there
    setup = setup_of(POINTER_TO_SAVE_SLOT, '[callees."runtime.foo"]\nargs = 8\nwrites = [{ pointer_at = 0, offset = 0 }]\nwrites_reason = "test"\n')
    assert all(_rbx_lost(run) for run in _runs(setup, 5))
    run = _witness(setup, entry__rbx="0x77", **{"runtime.foo#1.*frame+0x0+0x0": "0x77"})
    assert not _rbx_lost(run)


def test_noreturn_callee_is_a_deliberate_end(setup_of):
    setup = setup_of("""
TEXT tramp(SB),NOSPLIT|NOFRAME,$0-0
	CALL	runtime·foo(SB)
	RET
""", '[callees."runtime.foo"]\nnoreturn = true\n')
    (run,) = _runs(setup, 1)
    assert run.kind == ABORTED and _violated(run) == set()


# ---- values reality varies -----------------------------------------------------------------------

BRANCH_ON_RETURN_ADDRESS = """
TEXT tramp(SB),NOSPLIT|NOFRAME,$0-0
	MOVQ	0(SP), AX
	TESTQ	$1, AX
	JNE	odd
	RET
odd:
	MOVQ	$0, BX
	RET
"""


def test_a_branch_on_the_return_address_sees_both_ways(setup_of):
    setup = setup_of(BRANCH_ON_RETURN_ADDRESS)
    runs = _runs(setup, 40)
    assert {run.caller_return & 1 for run in runs} == {0, 1}
    assert all(run.target == run.caller_return for run in runs)
    assert {frozenset(_violated(run)) for run in runs} == {frozenset(), frozenset({"preserve-rbx"})}
    assert _violated(_witness(setup, entry__return_address="0x7ff612340001", entry__rbx="0x5")) == {"preserve-rbx"}
    assert _violated(_witness(setup, entry__return_address="0x7ff612340000", entry__rbx="0x5")) == set()


def test_entry_flags_are_those_of_user_mode(setup_of):
    setup = setup_of("""
TEXT tramp(SB),NOSPLIT|NOFRAME,$0-0
	PUSHFQ
	POPQ	AX
	RET
""")
    runs = _runs(setup, 40)
    images = [run.exit_regs["rax"] for run in runs]
    assert all(i & 0x202 == 0x202 for i in images)  # IF and bit 1 set
    assert all(i & 0x500 == 0 for i in images)  # DF and TF clear
    assert {i >> 18 & 1 for i in images} == {0, 1} and {i >> 21 & 1 for i in images} == {0, 1}  # AC, ID drawn
    run = _witness(setup, entry__rflags="0x8d5", entry__ac="1", entry__id="0")
    assert run.exit_regs["rax"] == 0x202 | 0x8D5 | 1 << 18


WORLD = """
[world]
gs = "teb"
[world.regions.teb]
size = 0x100
[world.regions.m]
size = 0x400
writable = true
[[world.fields]]
at = "teb+0x28"
values = ["m+0x58"]
"""


def test_world_regions_land_at_random_disjoint_addresses(setup_of):
    setup = setup_of("""
TEXT tramp(SB),NOSPLIT|NOFRAME,$0-0
	MOVQ	0x28(GS), AX
	RET
""", FOO + WORLD)
    runs = _runs(setup, 20)
    assert len({run.world["m"] for run in runs}) == 20 and len({run.world["teb"] for run in runs}) == 20
    for run in runs:
        assert run.kind == RETURNED and run.exit_regs["rax"] == run.world["m"] + 0x58  # the field follows m
        assert run.world["m"] % 8 == 0 and run.world["m"] >= 0x10000
        teb, m = run.world["teb"], run.world["m"]
        assert teb + 0x100 <= m or m + 0x400 <= teb
    run = _witness(setup, world__m="0x5550000", world__teb="0x6660000")
    assert run.world == {"teb": 0x6660000, "m": 0x5550000} and run.exit_regs["rax"] == 0x5550058
    # a region's alignment is honoured (the case's `align`, here set on the plan)
    plan = dataclasses.replace(setup.world, regions=tuple(dataclasses.replace(r, align=0x10000)
                                                          for r in setup.world.regions))
    aligned = dataclasses.replace(setup, world=plan)
    assert all(run.world["m"] % 0x10000 == 0 for run in _runs(aligned, 10))


def test_cpuid_answers_come_from_the_inputs(setup_of):
    setup = setup_of("""
TEXT tramp(SB),NOSPLIT|NOFRAME,$0-0
	MOVL	$1, AX
	CPUID
	TESTL	$0x10000000, CX	// AVX
	JNE	avx
	RET
avx:
	MOVQ	$0, R12
	RET
""")
    runs = _runs(setup, 30)
    assert {"preserve-rbx"} <= set.intersection(*map(_violated, runs))  # CPUID writes EBX
    assert {"preserve-r12" in _violated(run) for run in runs} == {False, True}
    assert "preserve-r12" in _violated(_witness(setup, cpuid_H_1__ecx="0x10000000", entry__r12="0x9"))
    assert "preserve-r12" not in _violated(_witness(setup, cpuid_H_1__ecx="0x0", entry__r12="0x9"))
    run = _witness(setup, cpuid_H_1__ebx="0x1234", entry__rbx="0x1234", cpuid_H_1__ecx="0x0")
    assert _violated(run) == set()


def test_memory_below_rsp_is_volatile(setup_of):
    setup = setup_of("""
TEXT tramp(SB),NOSPLIT|NOFRAME,$0-0
	MOVQ	BX, -16(SP)
	MOVQ	-16(SP), BX	// below RSP: Windows may have overwritten it
	RET
""")
    assert all(_violated(run) == {"preserve-rbx"} for run in _runs(setup, 5))
    # the engine names each byte below RSP (below-rsp#1.stack-0x10 is the word's lowest): all eight fixed
    below = {f"below-rsp_H_1__stack-{d:#x}": "0x42" if d == 0x10 else "0x0" for d in range(0x9, 0x11)}
    assert _violated(_witness(setup, entry__rbx="0x42", **below)) == set()


# ---- faults --------------------------------------------------------------------------------------

def test_a_misaligned_movaps_faults(setup_of):
    setup = setup_of("""
TEXT tramp(SB),NOSPLIT|NOFRAME,$0-0
	SUBQ	$40, SP		// entry RSP is 8 mod 16: SP is 16-byte aligned here
	MOVAPS	X0, 0(SP)
	MOVUPS	X0, 8(SP)
	MOVAPS	X0, 8(SP)
	ADDQ	$40, SP
	RET
""")
    for run in _runs(setup, 5):
        assert run.kind == FAULTED and run.reason.startswith("#GP: MOVAPS") and _violated(run) == {"no-fault"}
        assert setup.image.instruction_at(run.site).location.endswith("t.s:7")
    # the same fault at an instruction the case declares as its intended crash is a deliberate end
    crash = dataclasses.replace(setup, crash_sites=frozenset({run.site}))
    (run,) = _runs(crash, 1)
    assert run.kind == ABORTED and _violated(run) == set()


def test_division_by_zero_and_the_trap_flag_fault(setup_of):
    setup = setup_of("""
TEXT tramp(SB),NOSPLIT|NOFRAME,$0-0
	XORL	CX, CX
	DIVL	CX
	RET

TEXT trap(SB),NOSPLIT|NOFRAME,$0-0
	PUSHQ	$0x302
	POPFQ
	RET
""")
    (run,) = _runs(setup, 1)
    assert run.kind == FAULTED and run.reason.startswith("#DE") and _violated(run) == {"no-fault"}
    assert setup.image.instruction_at(run.site).text.startswith("DIVL")
    trap = dataclasses.replace(setup, entry=setup.image.symbols["trap"])
    (run,) = _runs(trap, 1)
    assert run.kind == FAULTED and run.reason.startswith("#DB") and _violated(run) == {"no-fault"}
    assert setup.image.instruction_at(run.site).text == "POPFQ"


def test_an_unmapped_stack_pointer_faults_at_its_use(setup_of):
    setup = setup_of("""
TEXT tramp(SB),NOSPLIT|NOFRAME,$0-0
	MOVQ	-8(SP), SP	// garbage below the entry RSP
	MOVQ	AX, 0(SP)
	RET
""")
    for run in _runs(setup, 5):
        # the store through the garbage SP faults, and was a write to memory the code does not own
        assert run.kind == FAULTED and "#PF" in run.reason and _violated(run) == {"no-fault", "writes-owned-memory"}


def test_world_plan_without_a_case():
    """The plan is plain data: a replay can be driven by hand."""
    plan = WorldPlan((RegionPlan("m", 0x40, True, 0x40),), registers={"rcx": "m+0x8"})
    from symabi.loader import CODE_BASE, Image
    from symabi.replay import replay

    code = bytes.fromhex("c3").ljust(16, b"\x90")
    image = Image(code=code, base=CODE_BASE, symbols={"f": CODE_BASE}, sizes={"f": 16}, kinds={"f": "STEXT"},
                  stubs={}, instructions={})
    run = replay(image, CODE_BASE, ConcreteInputs({}, seed="x"), {}, world=plan)
    assert run.kind == RETURNED and run.entry_regs["rcx"] == run.world["m"] + 8 and run.world["m"] % 0x40 == 0


def test_a_witness_confirms_only_if_what_it_leaves_open_does_not_matter(setup_of):
    from symabi.replay import CONFIRMED
    from symabi.verdicts import SourceLine, Violation

    setup = setup_of("""
TEXT tramp(SB),NOSPLIT|NOFRAME,$0-0
	PUSHFQ
	POPQ	BX
	RET
""")
    ret = next(a for a, i in setup.image.instructions.items() if i.text == "RET")

    def violation(**inputs):
        return Violation("preserve-rbx", "rbx", 0, "0x0000000000000000", "0x0000000000000202", "", SourceLine(ret, "", ""),
                         (), inputs={"entry.rbx": "0x0", "entry.rflags": "0x0", **inputs})

    # RFLAGS.AC and ID are the host's: a witness that does not fix them is not reproduced on every draw
    assert setup.confirm(violation(**{"entry.ac": "0x0"}), seeds=8).startswith("not reproduced")
    assert setup.confirm(violation(**{"entry.ac": "0x0", "entry.id": "0x0"}), seeds=8) == CONFIRMED
    # the model's IF-clear image is not reality
    wrong = dataclasses.replace(violation(**{"entry.ac": "0x0", "entry.id": "0x0"}), exit="0x0000000000000002")
    assert "0x0000000000000202" in setup.confirm(wrong)
    # violations sharing a witness share its runs, each judged as its own runs would judge it
    shared = [violation(**{"entry.ac": "0x0", "entry.id": "0x0"}), wrong]
    assert setup.confirm_all(shared, seeds=8) == [setup.confirm(v, seeds=8) for v in shared]


def test_violations_sharing_a_witness_get_the_statuses_of_their_own_runs():
    from symabi.replay import CONFIRMED
    from symabi.replay.confirm import replay_witnesses
    from symabi.replay.machine import ReplayError

    runs = []

    def run_with(drawn):
        runs.append(drawn)
        if drawn.endswith("#2"):
            raise ReplayError("overlapping regions")
        return drawn

    def judged_by(violation, run):  # a violation names the seeds whose runs disagree with it
        if run in violation.get("raises", ()):
            raise RuntimeError("boom")
        return "not reproduced: differs" if run in violation["differs"] else CONFIRMED

    violations = [{"differs": ()}, {"differs": ("s#1",)}, {"differs": ("s",)}, {"differs": (), "raises": ("s#1",)}]
    alone = []
    for v in violations:
        alone += replay_witnesses([v], run_with, seed="s", seeds=3, judged_by=judged_by)
    runs.clear()
    assert replay_witnesses(violations, run_with, seed="s", seeds=3, judged_by=judged_by) == alone == [
        "not reproduced: the witness cannot be laid out: overlapping regions",
        "not reproduced: differs (with the unnamed inputs drawn from seed 's#1')", "not reproduced: differs",
        "not reproduced: the concrete replay failed (RuntimeError: boom)"]
    assert runs == ["s", "s#1", "s#2"]  # each seed's run once
