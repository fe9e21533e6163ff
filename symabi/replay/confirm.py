"""Confirm a symbolic counterexample by running it concretely, and bind a case's models to replay."""

from __future__ import annotations

import itertools
import re
import random as _random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from symabi.casefile import CalleeSpec, EntryConvention
from symabi.loader import Image
from symabi.replay.contract import VIOLATED, judge_obligation
from symabi.replay.inputs import DEFAULT_SEED, ConcreteInputs
from symabi.replay.machine import (
    DEFAULT_BUDGET,
    ConcreteRun,
    Region,
    ReplayError,
    replay,
)
from symabi.replay.world import RegionPlan, WordPlan, WorldPlan
from symabi.verdicts import CONFIRMED

_SITUATION = re.compile(r"^RSP \d+ mod \d+ at entry$")
NOT_REPRODUCED = "not reproduced"  # followed by ": <why>" (the wording of ``Violation.replay``)


CONFIRM_SEEDS = 3  # a witness must reproduce whatever the oracle draws for the inputs it leaves open


def confirm(
    violation,
    image: Image,
    entry: int,
    callees: Mapping[str, CalleeSpec],
    *,
    regions: Iterable[Region | tuple[int, int, bytes]] = (),
    gs_base: int | None = None,
    convention: EntryConvention | None = None,
    budget: int = DEFAULT_BUDGET,
    seed: str = DEFAULT_SEED,
    world: WorldPlan | None = None,
    crash_sites: Iterable[int] = (),
    seeds: int = CONFIRM_SEEDS,
) -> str:
    """Replay ``violation.inputs`` (a ``symabi.verdicts.Violation``) and say whether it reproduces.

    "confirmed" when the same obligation fails at the same instruction (``violation.site``) with the same
    entry and exit values, on each of ``seeds`` runs that draw what the witness leaves open afresh;
    otherwise "not reproduced: <why>". The world and the entry must be those of the path the violation
    was found on.
    """
    setup = ReplaySetup(image, entry, callees, tuple(regions), gs_base, convention or EntryConvention(), {}, budget,
                        world=world or WorldPlan(), crash_sites=frozenset(crash_sites))
    return setup.confirm(violation, seed=seed, seeds=seeds)


def judge(violation, run: ConcreteRun, obligations: tuple = ()) -> str:
    """Compare a run of a violation's witness with the violation itself (see ``confirm``), the obligation
    judged by its definition among ``obligations`` (the contract's; by default the host ABIs')."""
    finding = judge_obligation(violation.obligation, run, obligations)
    return compare(violation, finding, _ending(run), run.inputs.ignored)


def compare(violation, finding, ending: str, not_replayed: tuple[str, ...] = ()) -> str:
    """A violation against its obligation's finding on a run of the witness (which ``ending``; the witness
    inputs ``not_replayed`` were left to the seed): "confirmed", or why not."""
    if finding is None:
        return ""  # an obligation replay does not model (the control state, calls into ABIInternal): not replayed
    ignored = f" (witness inputs not replayed: {', '.join(not_replayed)})" if not_replayed else ""
    if finding.status != VIOLATED:
        what = f"{violation.obligation} {finding.status} on the concrete run, which {ending}"
        return f"{NOT_REPRODUCED}: {what}{ignored}"
    site = getattr(violation.site, "address", None)
    if site is not None and finding.site != site:
        where = f"{finding.site:#x}" if finding.site is not None else "no instruction"
        return f"{NOT_REPRODUCED}: {violation.obligation} fails at {where}, not at {site:#x}{ignored}"
    for which, witness, concrete in (("entry", violation.entry, finding.entry_text),
                                     ("exit", violation.exit, finding.exit_text)):
        if witness is not None and concrete is not None and witness != concrete:
            return (f"{NOT_REPRODUCED}: {violation.obligation} fails, but its {which} value is {concrete}, "
                    f"not {witness}{ignored}")
    return CONFIRMED


def _ending(run: ConcreteRun) -> str:
    if run.kind == "returned":
        return "returned to the caller"
    return f"{run.kind}: {run.reason}" if run.reason else run.kind


@dataclass(frozen=True)
class ReplaySetup:
    """Everything a replay needs besides the inputs: one entry of one image in one world configuration.

    ``world`` is laid out afresh by each run (random region bases unless the inputs name them);
    ``regions`` and ``gs_base`` are fixed extras (tests).
    """

    image: Image
    entry: int
    callees: Mapping[str, CalleeSpec]
    regions: Sequence[Region] = ()
    gs_base: int | None = None
    convention: EntryConvention = field(default_factory=EntryConvention)
    pinned: Mapping[str, int] = field(default_factory=dict)  # registers fixed at entry (besides the world's)
    budget: int = DEFAULT_BUDGET
    entry_name: str = ""  # the entry symbol
    facts: tuple[str, ...] = ()  # the world configuration in words, one phrase per field value
    world: WorldPlan = field(default_factory=WorldPlan)
    crash_sites: frozenset[int] = frozenset()  # instructions whose fault is the intended end
    callee_model: str = ""  # "host-<abi>" when the callees are host code (symabi.replay.callee)
    caller_frame: int | None = None  # where the caller's own frame begins above the entry RSP (None: Windows x64's)
    obligations: tuple = ()  # the contract's definitions (symabi.obligations.contracts); () : the host ABIs'

    @property
    def label(self) -> str:
        return ", ".join(w for w in (self.entry_name, *self.facts) if w)

    def run(self, inputs: ConcreteInputs) -> ConcreteRun:
        return replay(self.image, self.entry, inputs, self.callees, regions=self.regions, gs_base=self.gs_base,
                      convention=self.convention, budget=self.budget, world=self.world, crash_sites=self.crash_sites,
                      callee_model=self.callee_model, caller_frame=self.caller_frame)

    def random_inputs(self, rng: _random.Random) -> ConcreteInputs:
        """Random inputs that satisfy the entry convention (a table index in range); the world, the
        return address and everything a callee does are drawn by the run from the inputs' seed."""
        entries = self.convention.table_entries if self.convention.name.endswith("callbackasm-table") else None
        return ConcreteInputs.random(rng, pinned=dict(self.pinned), callback_entries=entries or None)

    def confirm(self, violation, *, seed: str = DEFAULT_SEED, seeds: int = CONFIRM_SEEDS) -> str:
        """See ``confirm``: the first disagreement over ``seeds`` runs, or "confirmed"."""
        return self.confirm_all([violation], seed=seed, seeds=seeds)[0]

    def confirm_all(self, violations, *, seed: str = DEFAULT_SEED, seeds: int = CONFIRM_SEEDS) -> list[str]:
        """``confirm`` of each of ``violations``, which share one witness (the same inputs), from one set of runs."""
        inputs = violations[0].inputs
        return replay_witnesses(violations, lambda drawn: self.run(ConcreteInputs.from_witness(inputs, seed=drawn)),
                                seed=seed, seeds=seeds, judged_by=lambda v, run: judge(v, run, self.obligations))


def replay_witnesses(violations, run_with, *, seed: str = DEFAULT_SEED, seeds: int = CONFIRM_SEEDS,
                     judged_by=judge) -> list[str]:
    """Judge ``run_with(drawn)`` (a run of the witness the ``violations`` share, what it leaves open drawn
    from the seed ``drawn``) for ``seeds`` seeds with ``judged_by(violation, run)``: for each violation,
    the first disagreement, or "confirmed" (either oracle, amd64 or arm64; an oracle with obligations of
    its own passes its judge). Each seed's run is made once, and judged for every violation that agreed
    with the earlier ones: each gets the status its own runs would give it (a run is the witness's and the
    seed's alone)."""
    statuses: list[str | None] = [None] * len(violations)
    for n in range(max(1, seeds)):
        pending = [i for i, status in enumerate(statuses) if status is None]
        if not pending:
            break
        drawn = seed if n == 0 else f"{seed}#{n}"
        try:
            run = run_with(drawn)
        except Exception as exc:  # noqa: BLE001 — nothing ran: the same for every violation still judged
            for i in pending:
                statuses[i] = _why(exc)
            break
        for i in pending:
            statuses[i] = _disagreement(violations[i], run, judged_by, drawn if n else "")
    return [CONFIRMED if status is None else status for status in statuses]


def _disagreement(violation, run, judged_by, drawn: str) -> str | None:
    """How ``run`` (drawn from the seed ``drawn``, "" for the first) disagrees with ``violation``; None if not."""
    try:
        status = judged_by(violation, run)
    except Exception as exc:  # noqa: BLE001 — a replay that cannot judge confirms nothing
        return _why(exc)
    if status == CONFIRMED:
        return None
    return status + (f" (with the unnamed inputs drawn from seed {drawn!r})" if drawn and status else "")


def _why(exc: Exception) -> str:
    if isinstance(exc, ReplayError):
        return f"{NOT_REPRODUCED}: the witness cannot be laid out: {exc}"
    return failed(exc)


def failed(exc: Exception) -> str:
    """The status of a violation whose replay failed with ``exc``."""
    return f"{NOT_REPRODUCED}: the concrete replay failed ({type(exc).__name__}: {exc})"


def setups_for_case(case, image: Image, *, budget: int = DEFAULT_BUDGET) -> list[ReplaySetup]:
    """One setup per (entry symbol, world configuration) of ``case`` (a ``symabi.casefile.Case``), in the
    prover's order; ``image`` is the laid-out version to run. Reads only the case's data: no address the
    symbolic model chose enters the replay."""
    from symabi.obligations.contracts import for_contract
    from symabi.ports import PORTS  # pure data

    if image.arch.name == "arm64" and case.contract == "go-to-host":  # Go calling host code on arm64
        from symabi.replay.go_to_host_arm64 import setups_for_case as go_to_host_setups

        return go_to_host_setups(case, image)
    if image.arch.name == "arm64":  # its own oracle (unicorn in AArch64 mode)
        from symabi.replay.arm64 import setups_for_case as arm64_setups

        return arm64_setups(case, image)
    from symabi.models import ENTRY_CONVENTIONS  # the entry convention's data: where the caller's frame begins

    sites = crash_sites(case, image)
    frame = ENTRY_CONVENTIONS[case.entry_convention.name].caller_frame(case.entry_convention.stack_args)
    tls = PORTS[case.port].tls
    abi = PORTS[case.port].abi
    model = f"host-{abi.name}" if case.callee_model == "host" and abi else case.callee_model
    setups = []
    for name in case.entries:
        for words, facts, running_on in _configurations(case.world):
            plan = WorldPlan(_region_plans(case.world), words + _data_words(case, image),
                             _data_regions(case, image), case.world.gs, dict(case.entry_convention.registers),
                             running_on, case.world.tls, tls.segment if tls else "gs")
            # an ABIInternal Go caller enters with X15 = 0 (symabi.models.entry_go)
            pinned = {"xmm15": 0} if case.entry_convention.name == "go-abiinternal-call" else {}
            setups.append(ReplaySetup(image, image.symbols[name], case.callees, (), None, case.entry_convention,
                                      pinned, budget, name, facts, plan, sites, model, frame,
                                      for_contract(case.contract, abi)))
    return setups


def _region_plans(world) -> tuple[RegionPlan, ...]:
    return tuple(RegionPlan(r.name, r.size, r.writable, getattr(r, "align", 8) or 8, r.free_below)
                 for r in world.regions)


def _configurations(world) -> list[tuple[tuple[WordPlan, ...], tuple[str, ...], str]]:
    """Every combination of field values, as the world model enumerates them (same order, same labels),
    with the stack region the combination is entered on ("" for the thread's own)."""
    def choices(f):
        running = getattr(f, "running_on", ()) or ("",) * len(f.values)
        return [(WordPlan(f.at, value, f.size), label, on)
                for value, label, on in zip(f.values, f.labels or ("",) * len(f.values), running)]
    out = []
    for combo in itertools.product(*(choices(f) for f in world.fields)):
        words = tuple(w for w, _, on in combo)
        out.append((words, tuple(label for _, label, _ in combo if label), next((on for *_, on in combo if on), "")))
    return out


def _external_data(case, image: Image):
    """World data symbols the file does not define (runtime.tls_g): they live at their stub address."""
    for d in case.world.data:
        address = image.stub_for(d.symbol)
        if d.symbol not in image.symbols and address is not None:
            yield d, address


def _data_regions(case, image: Image) -> tuple[tuple[str, int, int], ...]:
    return tuple((d.symbol, address, d.size) for d, address in _external_data(case, image))


def _data_words(case, image: Image) -> tuple[WordPlan, ...]:
    return tuple(WordPlan(str(address), d.value, d.size) for d, address in _external_data(case, image) if d.value)


def crash_sites(case, image: Image) -> frozenset[int]:
    """Instructions the case declares as the intended crash (``intended_crashes``: "file.s:line" or an
    address), where a fault is a deliberate end rather than a no-fault violation."""
    out = set()
    for spec in getattr(case, "intended_crashes", ()) or ():
        if isinstance(spec, int):
            out.add(spec)
            continue
        out.update(a for a, i in image.instructions.items() if i.location == spec or i.location.endswith(f"/{spec}"))
    return frozenset(out)


def select(setups: Sequence[ReplaySetup], path_label: str) -> ReplaySetup | None:
    """The setup a prover path ran in, from the path's label ("<entry>, <fact>, ...: <ending>").

    The prover names only the entry (when a case has several) and the world facts the path read; any
    configuration with those facts runs the same path, so the first setup that has them all is chosen.
    """
    head = path_label.split(": ", 1)[0] if ": " in path_label else ""
    # an entry situation (symabi.models.entry_go: "RSP 8 mod 16 at entry") is in the witness, not the world
    words = [w for w in head.split(", ") if w and not _SITUATION.match(w)]
    return next((s for s in setups if all(w in (s.entry_name, *s.facts) for w in words)), None)


def confirm_result(result, setups: Sequence[ReplaySetup]) -> list[str]:
    """Replay every violation of a ``symabi.verdicts.VersionResult``, each in the setup its path ran in;
    one "confirmed" / "not reproduced: ..." per violation, in order."""
    labels = {p.index: p.label for p in result.paths}
    out = []
    for v in result.violations:
        label = labels.get(v.path, "")
        setup = select(setups, label)
        out.append(setup.confirm(v) if setup is not None
                   else f"{NOT_REPRODUCED}: no entry and world configuration matches the path {label!r}")
    return out
