"""Confirm a symbolic counterexample by running it concretely, and bind a case's models to replay."""

from __future__ import annotations

import random as _random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace

from symabi.casefile import CalleeSpec, EntryConvention
from symabi.loader import Image
from symabi.replay.constants import NOT_REPLAYED
from symabi.replay.contract import VIOLATED, evaluate
from symabi.replay.inputs import DEFAULT_SEED, ConcreteInputs
from symabi.replay.machine import DEFAULT_BUDGET, ConcreteRun, Region, ReplayError, replay

CONFIRMED = "confirmed"
NOT_REPRODUCED = "not reproduced"  # followed by ": <why>" (the wording of ``Violation.replay``)


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
    fs_base: int | None = None,
) -> str:
    """Replay ``violation.inputs`` (a ``symabi.verdicts.Violation``) and say whether it reproduces.

    "confirmed" when the same obligation fails at the same instruction (``violation.site``) with the same
    entry and exit values; otherwise "not reproduced: <why>". The world (``regions``, ``gs_base``) and the
    entry must be those of the path the violation was found on.
    """
    inputs = ConcreteInputs.from_witness(violation.inputs, seed=seed)
    try:
        run = replay(image, entry, inputs, callees, regions=regions, gs_base=gs_base, convention=convention,
                     budget=budget, fs_base=fs_base)
    except ReplayError as exc:
        return f"{NOT_REPRODUCED}: the witness cannot be laid out: {exc}"
    return judge(violation, run)


def judge(violation, run: ConcreteRun) -> str:
    """Compare a run of a violation's witness with the violation itself (see ``confirm``)."""
    if violation.obligation in NOT_REPLAYED:
        return ""  # not replayed (see constants.NOT_REPLAYED)
    ignored = f" (witness inputs not replayed: {', '.join(run.inputs.ignored)})" if run.inputs.ignored else ""
    # the contract whose obligation this is: sysv-amd64's stack obligation has its own id; the rest are shared
    contract = "sysv-amd64" if violation.obligation == "stack-writes-below-entry-rsp" else "windows-x64"
    finding = next((f for f in evaluate(run, contract=contract) if f.obligation == violation.obligation), None)
    if finding is None:
        return ""  # an obligation replay does not model (the control state): not replayed
    if finding.status != VIOLATED:
        what = f"{violation.obligation} {finding.status} on the concrete run, which {_ending(run)}"
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
    """Everything a replay needs besides the inputs: one entry of one image in one world."""

    image: Image
    entry: int
    callees: Mapping[str, CalleeSpec]
    regions: Sequence[Region] = ()
    gs_base: int | None = None
    convention: EntryConvention = field(default_factory=EntryConvention)
    pinned: Mapping[str, int] = field(default_factory=dict)  # registers the case binds at entry
    budget: int = DEFAULT_BUDGET
    entry_name: str = ""  # the entry symbol
    facts: tuple[str, ...] = ()  # the world configuration in words, one phrase per field value
    fs_base: int | None = None  # where FS points (the thread pointer of an ELF port's world)

    @property
    def label(self) -> str:
        return ", ".join(w for w in (self.entry_name, *self.facts) if w)

    def run(self, inputs: ConcreteInputs) -> ConcreteRun:
        return replay(self.image, self.entry, inputs, self.callees, regions=self.regions, gs_base=self.gs_base,
                      convention=self.convention, budget=self.budget, fs_base=self.fs_base)

    def random_inputs(self, rng: _random.Random) -> ConcreteInputs:
        """Random inputs that satisfy the entry convention (bound registers, a table index in range)."""
        entries = self.convention.table_entries if self.convention.name == "callbackasm-table" else None
        return ConcreteInputs.random(rng, pinned=dict(self.pinned), callback_entries=entries or None)

    def confirm(self, violation, *, seed: str = DEFAULT_SEED) -> str:
        # A finding judged without the solver (a stack write) has no witness: the registers the case binds
        # at entry still hold their world values, as in the prover.
        bound = {f"entry.{reg}": hex(value) for reg, value in self.pinned.items()}
        violation = replace(violation, inputs={**bound, **violation.inputs})
        return confirm(violation, self.image, self.entry, self.callees, regions=self.regions, gs_base=self.gs_base,
                       convention=self.convention, budget=self.budget, seed=seed, fs_base=self.fs_base)


def setups_for_case(case, image: Image, *, budget: int = DEFAULT_BUDGET) -> list[ReplaySetup]:
    """One setup per (entry symbol, world configuration) of ``case`` (a ``symabi.casefile.Case``), in the
    prover's order; ``image`` is the laid-out version to run."""
    from symabi.models.world import WorldModel  # the world model evaluates values; imported only when used

    from symabi.ports import PORTS

    tls = PORTS[case.port].tls
    world = WorldModel(case.world, str(case.directory / "case.toml"), tls.segment if tls else "gs")
    segments = world.segment_bases()
    pinned = {reg: world.value(text, f"entry_convention.registers.{reg}")
              for reg, text in case.entry_convention.registers.items()}
    setups = []
    for name in case.entries:
        for config in world.configurations():
            regions = tuple(
                Region(r.name, r.start, r.size, r.writable, init={
                    c.address: (c.value & ((1 << 8 * c.field.size) - 1)).to_bytes(c.field.size, "little")
                    for c in config.choices if r.contains(c.address, c.field.size)
                }, free_below=r.free_below)
                for r in world.regions()
            ) + _world_data(case, image, world)
            facts = tuple(c.label for c in config.choices if c.label)
            setups.append(ReplaySetup(image, image.symbols[name], case.callees, regions, segments.get("gs"),
                                      case.entry_convention, pinned, budget, name, facts, segments.get("fs")))
    return setups


def _world_data(case, image: Image, world) -> tuple[Region, ...]:
    """Data symbols the world declares (runtime.tls_g), at their stub address, as the prover lays them out."""
    out = []
    for d in case.world.data:
        address = image.symbols.get(d.symbol, image.stub_for(d.symbol))
        if address is not None and d.symbol not in image.symbols:
            value = world.value(d.value, f"world.data.{d.symbol}.value") & ((1 << 8 * d.size) - 1)
            out.append(Region(d.symbol, address, d.size, False, init={address: value.to_bytes(d.size, "little")}))
    return tuple(out)


def select(setups: Sequence[ReplaySetup], path_label: str) -> ReplaySetup | None:
    """The setup a prover path ran in, from the path's label ("<entry>, <fact>, ...: <ending>").

    The prover names only the entry (when a case has several) and the world facts the path read; any
    configuration with those facts runs the same path, so the first setup that has them all is chosen.
    """
    head = path_label.split(": ", 1)[0] if ": " in path_label else ""
    words = [w for w in head.split(", ") if w]
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
