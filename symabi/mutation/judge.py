"""Judging one mutant: symabi's verdict against the concrete ground truth of the adversarial oracle.

For each mutant: assemble it (an ``AssemblerError`` is *rejected*), run random trials with unicorn in
every replay setup of its image (``symabi.replay.confirm.setups_for_case``): the truth is "violates"
when any trial breaks any obligation, else "holds"; then symabi's verdict for the newest version. The
replay of a counterexample is a concrete run too (the oracle pins the witness's inputs and draws the
rest itself): one that confirms is a violating run random trials may never draw (a zero divisor, one
index of 2000), so it makes the truth "violates" as well.

Classes: rejected, refuted, equivalent (PROVED and every trial holds), unknown, unsound (PROVED while
a trial violates: must never happen), error (symabi raised); and, across REFUTED mutants, the ones
with a counterexample whose replay is not "confirmed".
"""

from __future__ import annotations

import random
import tempfile
import time
import traceback
from dataclasses import asdict, dataclass, field
from pathlib import Path

from symabi.casefile import Case, parse_case
from symabi.mutation.mutant import Mutant
from symabi.mutation.operators import apply, generate

CLASSES = ("rejected", "refuted", "equivalent", "unknown", "unsound", "error")


@dataclass
class Outcome:
    mutant: str
    description: str
    klass: str  # one of CLASSES
    verdict: str | None = None  # proved | refuted | unknown
    detail: str = ""
    trials: int = 0
    violating_trials: int = 0
    concrete_kinds: dict[str, int] = field(default_factory=dict)  # run kinds: returned, faulted, escaped, ...
    concrete_violation: str = ""  # the first violated obligation seen concretely, with the setup
    concrete_obligations: list[str] = field(default_factory=list)  # every obligation some trial broke
    symbolic_obligations: list[str] = field(default_factory=list)
    replay_not_confirmed: list[str] = field(default_factory=list)
    replay_confirmed: int = 0  # counterexamples whose concrete replay broke their obligation
    seconds: float = 0.0
    case: str = ""
    operator: str = ""

    @property
    def truth(self) -> str | None:
        """"violates" when a concrete run broke an obligation (a random trial, or the replay of a
        counterexample), "holds" when trials ran and none did."""
        if self.violating_trials or self.replay_confirmed:
            return "violates"
        return "holds" if self.trials else None


@dataclass
class Trials:
    """The concrete ground truth of one mutant."""

    ran: int = 0
    violating: int = 0
    kinds: dict[str, int] = field(default_factory=dict)
    first: str = ""
    obligations: set[str] = field(default_factory=set)

    def count(self, kind: str) -> None:
        self.kinds[kind] = self.kinds.get(kind, 0) + 1


def concrete_trials(case: Case, image, trials: int, seed: int) -> Trials:
    """Random adversarial runs, split over every replay setup (entry x world configuration)."""
    from symabi.replay.confirm import setups_for_case
    from symabi.replay.contract import check
    from symabi.replay.machine import ReplayError

    setups = setups_for_case(case, image)
    per = max(1, -(-trials // max(1, len(setups))))
    rng = random.Random(seed)
    out = Trials()
    for setup in setups:
        for _ in range(per):
            try:
                run = setup.run(setup.random_inputs(rng))
            except ReplayError as exc:
                out.count("replay-error")
                out.first = out.first or f"replay error in {setup.label}: {exc}"
                continue
            out.ran += 1
            out.count(run.kind)
            violated = check(run, case.contract)  # the case's own contract (System V, go-to-host, ...)
            if violated:
                out.violating += 1
                out.obligations.update(f.obligation for f in violated)
                out.first = out.first or _first(violated[0], setup, run)
    return out


def _first(f, setup, run) -> str:
    where = setup.label or setup.entry_name
    if f.site is None:
        return f"{f.obligation} in [{where}] (run {run.kind})"
    return (f"{f.obligation} in [{where}] (run {run.kind}; entry {f.entry_text}, exit {f.exit_text}, "
            f"site {f.site:#x}; {f.detail})")


def judge_mutant(mutant: Mutant, case_dir: Path, toolchain, *, timeout_s: float, trials: int, seed: int) -> Outcome:
    from symabi.errors import AssemblerError
    from symabi.frontend import AssembleRequest, assemble

    began = time.monotonic()
    out = Outcome(mutant.ident, mutant.description, "error", case=mutant.case, operator=mutant.operator)
    with tempfile.TemporaryDirectory(prefix="symabi-mutant-") as tmp:
        folder = apply(mutant, case_dir, Path(tmp))
        try:
            case = parse_case(folder)
            version = case.newest
            try:
                listing = assemble(toolchain, AssembleRequest(version.source, version.include_dirs, case.defines,
                                                              case.package))
            except AssemblerError as exc:
                out.klass, out.detail = "rejected", str(exc).splitlines()[-1].strip()
                return out
            _ground_truth(out, case, listing, trials, seed)
            _symbolic(out, case, listing, toolchain, timeout_s)
        except Exception as exc:  # noqa: BLE001 - a crash of symabi on a mutant is a finding, not a stop
            out.klass = "error"
            out.detail = f"{type(exc).__name__}: {exc}"[:300] + "\n" + traceback.format_exc(limit=3)[-600:]
        finally:
            out.seconds = round(time.monotonic() - began, 2)
    return out


def _ground_truth(out: Outcome, case: Case, listing, trials: int, seed: int) -> None:
    from symabi.loader import UnsupportedRelocation, lay_out

    try:
        image = lay_out(listing)
    except UnsupportedRelocation as exc:
        out.detail = f"loader: {exc}"
        return
    t = concrete_trials(case, image, trials, seed)
    out.trials, out.violating_trials, out.concrete_kinds, out.concrete_violation = t.ran, t.violating, t.kinds, t.first
    out.concrete_obligations = sorted(t.obligations)


def _symbolic(out: Outcome, case: Case, listing, toolchain, timeout_s: float) -> None:
    from symabi.prover import Options, prove_case

    version = case.newest
    options = Options(timeout_s=timeout_s, solver_timeout_ms=int(min(timeout_s, 30) * 1000))
    vr = prove_case(case, toolchain, [version.name], options, listings={version.name: listing}).versions[-1]
    out.verdict = vr.verdict.value
    out.symbolic_obligations = sorted({v.obligation for v in vr.violations})
    out.replay_not_confirmed = [f"{v.obligation}: {v.replay}" for v in vr.violations if v.replay != "confirmed"]
    out.replay_confirmed = sum(1 for v in vr.violations if v.replay == "confirmed")
    if out.verdict == "unknown":
        reasons = [u.reason for u in vr.unknowns] or [vr.error or ""]
        out.detail = reasons[0][:200]
    if out.verdict == "refuted":
        out.klass = "refuted"
    elif out.verdict == "unknown":
        out.klass = "unknown"
    else:
        out.klass = "unsound" if out.violating_trials else "equivalent"


def as_dict(outcome: Outcome) -> dict:
    return asdict(outcome)


def record(o: Outcome) -> dict:
    """The mutant as docs/mutation-campaign.json lists it."""
    verdict = o.klass if o.klass in ("rejected", "error") else o.verdict
    replay = None
    if o.verdict == "refuted":
        replay = "not-confirmed" if o.replay_not_confirmed else "confirmed"
    return {"id": o.mutant, "case": o.case or o.mutant.split(":", 1)[0], "operator": o.operator, "verdict": verdict,
            "obligations": o.symbolic_obligations, "truth": o.truth, "replay": replay}


# --- the fixed sample (tests and --sample) --------------------------------------------------------

SAMPLE = (  # (case, file suffix, operator, text the original line contains)
    ("crosscall2", "abi_amd64.h", "delete", "MOVQ	(3*8)(SP), BX"),
    ("crosscall2", "abi_amd64.h", "drop-cld", "CLD"),
    ("crosscall2", "abi_amd64.h", "disp+16", "MOVUPS	(12*8)(SP), X8"),
    ("crosscall2", "asm_amd64.s", "delete", "MOVQ	R9, 0x10(SP)"),
    ("sigtramp", "abi_amd64.h", "disp+8", "MOVQ	R13, (5*8)(SP)"),
)
# Issue 9's classes, with the truth the adversarial oracle must find for each.
SAMPLE_ISSUE9 = (
    ("crosscall2", "abi_amd64.h", "below-sp", "MOVQ	BX, (3*8)(SP)", "violates"),
    ("crosscall2", "abi_amd64.h", "partial-save-movsd", "MOVUPS	X6, (8*8)(SP)", "violates"),
    ("crosscall2", "abi_amd64.h", "partial-restore-movlps", "MOVUPS	(10*8)(SP), X7", "violates"),
    ("crosscall2", "abi_amd64.h", "overlap+8", "MOVUPS	X9, (14*8)(SP)", "violates"),
    ("crosscall2", "asm_amd64.s", "std-call", "CALL	runtime·cgocallback(SB)", "violates"),
    ("crosscall2", "abi_amd64.h", "popf-tf", "POPFQ", "violates"),
    ("crosscall2", "abi_amd64.h", "popf-cf", "POPFQ", "holds"),
    ("crosscall2", "asm_amd64.s", "branch-retaddr", "RET", "violates"),
    ("crosscall2", "asm_amd64.s", "branch-flags-ac", "RET", "violates"),
    ("crosscall2", "asm_amd64.s", "branch-flags-if", "RET", "holds"),
    ("crosscall2", "asm_amd64.s", "branch-cpuid", "RET", "violates"),
    ("tstart_stdcall", "sys_windows_amd64.s", "branch-world", "PUSH_REGS_HOST_TO_ABI0()", "violates"),
    ("sigtramp", "sys_windows_amd64.s", "sp-unwritten", "MOVQ	40(SP), SP", "violates"),
    ("callbackasm1", "sys_windows_amd64.s", "ptr-slot+32", "LEAQ	24(SP), AX", "violates"),
)
# falls-through (a noreturn callee that returns) has no target in the shipped cases any more: sigtramp's
# badsignal2, the one that was declared noreturn, is modelled as the function that returns that it is.


def _find(cases: dict[str, Case], case_name: str, suffix: str, op: str, text: str) -> Mutant:
    found = [m for m in generate(cases[case_name]) if m.file.endswith(suffix) and m.operator == op and text in m.old]
    assert len(found) == 1, f"sample mutant {case_name} {suffix} {op} {text!r}: {len(found)} matches"
    return found[0]


def sample(cases: dict[str, Case], names: list[str] | None = None) -> list[Mutant]:
    return [_find(cases, c, suffix, op, text) for c, suffix, op, text in SAMPLE if not names or c in names]


def sample_issue9(cases: dict[str, Case]) -> list[tuple[Mutant, str]]:
    """Mutants of each class of issue 9, with the truth expected of the oracle."""
    return [(_find(cases, c, suffix, op, text), truth) for c, suffix, op, text, truth in SAMPLE_ISSUE9]
