"""Findings grouped the way a reader wants them: what fails together is said once.

A violation found on several paths at the same place is one finding; registers that fail together
(XMM6-XMM15 at the same RET, on the same paths, with the same witness and the same origin) are one
finding; one reason that leaves many obligations UNKNOWN on many paths is one line. The terminal, the
gate and the Markdown report all print these groups.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from symabi.verdicts import Difference, SourceLine, Unknown, Violation, VersionResult
from symabi.writers import origin

_NUMBERED = re.compile(r"^([a-z]+?)(\d+)$")


@dataclass(frozen=True)
class ViolationGroup:
    obligations: tuple[str, ...]
    locations: tuple[str, ...]  # one per obligation
    paths: tuple[int, ...]
    example: Violation  # the first member: its witness, site and path are shown
    members: tuple[Violation, ...]

    @property
    def ids(self) -> str:
        return obligation_ids(self.obligations)

    @property
    def registers(self) -> str:
        return register_names(self.locations)

    @property
    def detail(self) -> str:
        return _fill(_template(self.example.detail, self.example.location), self.locations)

    @property
    def origins(self) -> list[tuple[str, tuple[int, ...], SourceLine | None]]:
        """Where the failing values come from: (sentence, the paths it is true on, the related line), one per
        distinct origin (on different paths a register may come from different calls)."""
        found: dict = {}
        for x in self.members:
            said = origin.sentence(x)
            if said is not None:
                entry = found.setdefault(_template(said, x.location), ({}, {}, next(iter(x.call_sites.values()), None)))
                entry[0][x.path], entry[1][x.location] = None, None
        return [(_fill(t, [loc for loc in self.locations if loc in locs]), tuple(sorted(paths)), line)
                for t, (paths, locs, line) in found.items()]

    @property
    def saved(self) -> str:
        """Where the example's register was saved (and then not restored): often the line to fix."""
        x = self.example
        if x.saved_at is None:
            return ""
        reg = x.location.upper()
        return f"{reg}'s entry value is saved here ({x.saved_at.text}), and not restored from there"

    @property
    def values(self) -> str:
        """`` (entry 0x0, exit 0x1)``, `` (at entry RSP+0x30)`` for a stack write; empty without values."""
        x = self.example
        if x.location == "stack":  # the detail says where
            return ""
        shown = [f"{k} {val}" for k, val in (("entry", x.entry), ("exit", x.exit)) if val is not None]
        return f" ({', '.join(shown)})" if shown else ""



@dataclass(frozen=True)
class UnknownGroup:
    obligations: tuple[str, ...]
    paths: tuple[int, ...]
    reason: str
    site: SourceLine | None


def paths_text(paths) -> str:
    paths = sorted(set(paths))
    return f"path {paths[0]}" if len(paths) == 1 else "paths " + ", ".join(str(p) for p in paths)


def _runs(names: list[str]) -> list[tuple[str, str]]:
    """Consecutive numbered names as (first, last): xmm6, xmm7, ..., xmm15 -> (xmm6, xmm15)."""
    runs: list[list[str]] = []
    for name in names:
        m, last = _NUMBERED.match(name), _NUMBERED.match(runs[-1][-1]) if runs else None
        if m and last and m[1] == last[1] and int(m[2]) == int(last[2]) + 1:
            runs[-1].append(name)
        else:
            runs.append([name])
    return [(run[0], run[-1]) for run in runs]


def register_names(locations) -> str:
    """RBX, RBP, R12–R15, XMM6–XMM15."""
    return ", ".join(a.upper() if a == b else f"{a.upper()}–{b.upper()}" for a, b in _runs(list(locations)))


def obligation_ids(ids) -> str:
    """preserve-xmm6..xmm15; preserve-rbx,rdi; restore-rsp, df-clear-at-return."""
    ids = list(ids)
    if len(ids) > 1 and all(i.startswith("preserve-") for i in ids):
        tails = [i[len("preserve-"):] for i in ids]
        return "preserve-" + ",".join(a if a == b else f"{a}..{b}" for a, b in _runs(tails))
    return ", ".join(ids)


def _template(text: str, location: str) -> str:
    return re.sub(rf"\b{re.escape(location.upper())}\b", "{R}", text)


def _fill(template: str, locations) -> str:
    if len(locations) == 1:
        return template.replace("{R}", locations[0].upper())
    names = register_names(locations)
    text = template.replace("{R}", names, 1).replace("{R}", "each")
    return re.sub(rf"^({re.escape(names)}[^,(]*?) is ", r"\1 are ", text, count=1)


def _merge_key(g: ViolationGroup):
    x = g.example
    family = "preserve" if x.obligation.startswith("preserve-") else x.obligation
    origins = tuple(sorted({(_template(origin.sentence(y) or "", y.location), y.path) for y in g.members}))
    return (family, x.site, g.paths, x.entry, x.exit, x.replay, _template(x.detail, x.location), origins)


def violation_groups(violations) -> list[ViolationGroup]:
    by_obligation: dict = {}
    for x in violations:
        by_obligation.setdefault((x.obligation, x.site, x.detail), []).append(x)
    singles = [ViolationGroup((m[0].obligation,), (m[0].location,), tuple(sorted({x.path for x in m})), m[0],
                              tuple(m)) for m in by_obligation.values()]
    merged: dict = {}
    for g in singles:
        merged.setdefault(_merge_key(g), []).append(g)
    return [ViolationGroup(tuple(o for g in gs for o in g.obligations), tuple(loc for g in gs for loc in g.locations),
                           gs[0].paths, gs[0].example, tuple(x for g in gs for x in g.members))
            for gs in merged.values()]


def unknown_groups(unknowns: tuple[Unknown, ...]) -> list[UnknownGroup]:
    grouped: dict = {}
    for u in unknowns:
        obligations, paths = grouped.setdefault((u.site, u.reason), ({}, set()))
        obligations[u.obligation] = None
        paths.add(u.path)
    return [UnknownGroup(tuple(obs), tuple(sorted(paths)), reason, site)
            for (site, reason), (obs, paths) in grouped.items()]


def obligations_text(ids: tuple[str, ...], every: tuple[str, ...]) -> str:
    if set(ids) >= set(every) and len(every) > 1:
        return "every obligation"
    said = obligation_ids(ids)
    return said if len(said) <= 48 else f"{len(ids)} obligations ({obligation_ids(ids[:2])}, …)"


def lines(v: VersionResult, label: str, severity: str) -> list[str]:
    """Greppable ``file:line: severity: [label] ...`` lines for a version's findings, grouped."""
    out = []
    for g in violation_groups(v.violations):
        x = g.example
        where = x.site.location if x.site else v.source
        out.append(f"{where}: {severity}: [{label}] {g.ids}: {g.detail} on {paths_text(g.paths)}{g.values}")
        for said, paths, line in g.origins:
            on = f"on {paths_text(paths)}: " if len(g.origins) > 1 else ""
            out.append(f"{line.location if line else where}: note: [{label}] {g.ids}: {on}{said}")
        if (saved := g.example.saved_at) is not None:
            out.append(f"{saved.location}: note: [{label}] {g.ids}: {g.saved}")
        for bad in (y for y in g.members if y.replay and y.replay != "confirmed"):
            out.append(f"{where}: BUG: [{label}] the counterexample for {bad.obligation} on path {bad.path} did not "
                       f"replay concretely ({bad.replay}); this is a bug in symabi, please report it")
    every = tuple(v.paths[0].statuses) if v.paths else ()
    unknown = "note" if severity == "note" else "unknown"
    for u in unknown_groups(v.unknowns):
        where = u.site.location if u.site else v.source
        out.append(f"{where}: {unknown}: [{label}] {obligations_text(u.obligations, every)} not decided on "
                   f"{paths_text(u.paths)}: {u.reason}")
    if v.error:
        out.append(f"{v.source}: {unknown}: [{label}] {v.error}")
    return out


_REG = re.compile(r"^(RBX|RBP|RDI|RSI|RSP|R\d+|XMM\d+) (.*)$")


def difference_groups(differences) -> list[tuple[Difference, tuple[str, ...]]]:
    """Differences in registers that differ together (same kind and wording; for a behavioural one also the
    same values) as one, with the registers (empty for a difference that is not about a register). A
    contract fix or a regression is the same fact whatever the witness's values (they are examples)."""
    groups: dict = {}
    for d in differences:
        m = _REG.match(d.what)
        values = () if d.kind in ("contract-fix", "regression") else (d.old, d.new)
        key = (d.kind, m[2], *values, _template(d.detail, m[1].lower())) if m else (id(d),)
        groups.setdefault(key, (d, []))[1].append(m[1].lower() if m else None)
    return [(d, tuple(r for r in regs if r)) for d, regs in groups.values()]


def difference_what(d: Difference, registers: tuple[str, ...]) -> str:
    """``XMM6–XMM15 at return`` for a group, else the difference's own ``what``."""
    return _fill(_template(d.what, registers[0]), registers) if len(registers) > 1 else d.what


def difference_text(d: Difference, registers: tuple[str, ...]) -> str:
    if len(registers) <= 1:
        return d.detail
    text = _fill(_template(d.detail, registers[0]), registers)
    return text.replace(" differs", " differ", 1)
