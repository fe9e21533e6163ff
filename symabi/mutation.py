"""Mutation campaign: systematic mutants of a case's newest version, judged by symabi and by concrete replay.

Each mutant changes one line of the newest version's assembly (the source, or a multi-line macro of a
header it includes, such as ``PUSH_REGS_HOST_TO_ABI0`` in ``abi_amd64.h``):

    delete        delete one instruction line
    disp±8/±16    move the SP displacement of one save or restore
    swap          swap the registers of two adjacent restores of the same width
    drop-cld      delete CLD
    adjsp±8/±16   change one stack adjustment (ADJSP, SUBQ/ADDQ $n, SP) by 8 or 16 bytes

Mutants are written into a temporary copy of the case folder (``cases/`` is never touched). For each
one: assemble (an ``AssemblerError`` counts as *rejected*), symabi's verdict for the newest version, and
the concrete ground truth: random trials with unicorn in every replay setup of the mutant's image
(``symabi.replay.confirm.setups_for_case``); a trial *violates* when ``evaluate(run)`` has a violated
obligation (an escape is one: return-to-caller fails).

Classes: rejected, refuted, equivalent (PROVED and concretely clean), unknown, unsound (PROVED while a
trial violates: must never happen), error (symabi raised); and, across REFUTED mutants, the ones with a
counterexample whose replay is not "confirmed".
"""

from __future__ import annotations

import random
import re
import shutil
import tempfile
import time
import traceback
from dataclasses import asdict, dataclass, field
from itertools import pairwise
from pathlib import Path

from symabi.casefile import Case, parse_case

CALLEE_SAVED = {"BX", "BP", "DI", "SI", "R12", "R13", "R14", "R15", *(f"X{i}" for i in range(6, 16))}
_MOV = re.compile(r"^(?P<op>MOV[A-Z]*)\s+(?P<a>[^,]+?)\s*,\s*(?P<b>[^,]+?)\s*$")
_SPMEM = re.compile(r"^(?P<disp>.*)\(SP\)$")
_REG = re.compile(r"^(?:[A-Z]X|[BS]P|[DS]I|R\d+|X\d+)$")
_STACK_ADJ = re.compile(r"^(?P<op>ADJSP|SUBQ|ADDQ)\s+\$(?P<n>[^,]+?)(?P<tail>\s*,\s*SP)?\s*$")
_LABEL = re.compile(r"^[A-Za-z_][A-Za-z0-9_·]*:")

CLASSES = ("rejected", "refuted", "equivalent", "unknown", "unsound", "error")


@dataclass(frozen=True)
class Mutant:
    case: str
    file: str  # relative to the case folder
    line: int  # 1-based
    operator: str
    new: str | None  # the replacement line; None deletes it
    old: str
    extra: tuple[tuple[int, str], ...] = ()  # further (line, text) replacements in the same file (swap)

    @property
    def ident(self) -> str:
        return f"{self.case}:{self.file}:{self.line}:{self.operator}"

    @property
    def description(self) -> str:
        what = self.old.strip().rstrip("\\").strip()
        if self.new is None:
            return f"{self.file}:{self.line} {self.operator}: delete `{what}`"
        return f"{self.file}:{self.line} {self.operator}: `{what}` → `{self.new.strip().rstrip(chr(92)).strip()}`"


@dataclass
class Outcome:
    mutant: str
    description: str
    klass: str  # one of CLASSES
    verdict: str | None = None  # proved | refuted | unknown
    detail: str = ""
    trials: int = 0
    violating_trials: int = 0
    concrete_kinds: dict[str, int] = field(default_factory=dict)  # run kinds: returned, escaped, error, ...
    concrete_violation: str = ""  # the first violated obligation seen concretely, with the setup
    symbolic_obligations: list[str] = field(default_factory=list)
    replay_not_confirmed: list[str] = field(default_factory=list)
    seconds: float = 0.0


# --- generating mutants -------------------------------------------------------------------------


def _code(line: str) -> str:
    """The instruction text of a line: comments, a trailing macro continuation and labels removed."""
    text = re.sub(r"//.*$", "", line)
    text = re.sub(r"/\*.*?\*/", "", text)
    text = text.strip()
    if text.endswith("\\"):
        text = text[:-1].strip()
    return text


def _is_instruction(code: str) -> bool:
    if not code or code.startswith(("#", "TEXT", "DATA", "GLOBL")) or _LABEL.match(code):
        return False
    return bool(re.match(r"^[A-Za-z_]", code))


def _shift(disp: str, delta: int) -> str:
    d = disp.strip()
    return f"({d}{delta:+d})" if d else f"({delta})"


def _replace_code(line: str, old: str, new: str) -> str:
    assert old in line, (old, line)
    return line.replace(old, new, 1)


def _active_lines(lines: list[str], defines: set[str]) -> list[bool]:
    from symabi.frontend.assembler import (
        _active,  # the assembler front end's own #ifdef evaluation
    )

    return _active(lines, defines)


def _source_sites(lines: list[str], active: list[bool]) -> list[int]:
    """Indexes of the active instruction lines inside TEXT bodies."""
    out, inside = [], False
    for i, line in enumerate(lines):
        if not active[i]:
            continue
        code = _code(line)
        if code.startswith("TEXT"):
            inside = True
            continue
        if inside and _is_instruction(code) and not code.startswith("#"):
            out.append(i)
    return out


def _macro_sites(lines: list[str], active: list[bool], used: set[str]) -> list[int]:
    """Indexes of the instruction lines of active multi-line macros whose names the source uses."""
    out, i = [], 0
    while i < len(lines):
        m = re.match(r"^\s*#\s*define\s+([A-Za-z_0-9]+)", lines[i])
        if m and active[i] and lines[i].rstrip().endswith("\\"):
            name, j = m.group(1), i + 1
            while j < len(lines):
                if name in used and _is_instruction(_code(lines[j])):
                    out.append(j)
                if not lines[j].rstrip().endswith("\\"):
                    break
                j += 1
            i = j + 1
        else:
            i += 1
    return out


def _mutants_of(case_name: str, rel: str, lines: list[str], sites: list[int]) -> list[Mutant]:
    out: list[Mutant] = []
    codes = {i: _code(lines[i]) for i in sites}
    stored = {m["disp"].strip() for i in sites if (mv := _MOV.match(codes[i])) and (m := _SPMEM.match(mv["b"]))}
    loaded = {m["disp"].strip() for i in sites if (mv := _MOV.match(codes[i])) and (m := _SPMEM.match(mv["a"]))}
    paired = stored & loaded
    restores: list[tuple[int, str, str]] = []  # (index, op, register)
    for i in sites:
        code, line = codes[i], lines[i]

        def mut(op, new, extra=(), i=i, line=line):
            out.append(Mutant(case_name, rel, i + 1, op, new, line, extra))

        if code == "CLD":
            mut("drop-cld", None)
        else:
            mut("delete", None)
        if mv := _MOV.match(code):
            a, b = mv["a"].strip(), mv["b"].strip()
            for reg, mem, kind in ((a, b, "save"), (b, a, "restore")):
                m = _SPMEM.match(mem)
                if not m or not _REG.match(reg):
                    continue
                if m["disp"].strip() in paired:  # a slot this code both stores and loads: a save/restore pair
                    for delta in (-16, -8, 8, 16):
                        new_mem = f"{_shift(m['disp'], delta)}(SP)"
                        mut(f"disp{delta:+d}", _replace_code(line, mem, new_mem))
                    if kind == "restore":
                        restores.append((i, mv["op"], reg))
        if (sa := _STACK_ADJ.match(code)) and (sa["op"] == "ADJSP" or sa["tail"]):
            n = sa["n"].strip()
            for delta in (-16, -8, 8, 16):
                mut(f"adjsp{delta:+d}", _replace_code(line, f"${n}", f"$({n}{delta:+d})"))
    for (i, op1, r1), (j, op2, r2) in pairwise(restores):
        if op1 != op2 or r1 == r2 or "SP" in (r1, r2):
            continue
        line_i = re.sub(rf"\b{r1}\b(?=\s*(\\)?\s*(//.*)?$)", r2, lines[i], count=1)
        line_j = re.sub(rf"\b{r2}\b(?=\s*(\\)?\s*(//.*)?$)", r1, lines[j], count=1)
        if line_i != lines[i] and line_j != lines[j]:
            out.append(Mutant(case_name, rel, i + 1, f"swap@{j + 1}", line_i, lines[i], ((j + 1, line_j),)))
    return out


def generate(case: Case) -> list[Mutant]:
    """Every mutant of ``case``'s newest version, in file and line order."""
    version = case.newest
    defines = {"GOOS_windows", "GOARCH_amd64", *case.defines}
    source = version.source
    lines = source.read_text().splitlines(keepends=True)
    active = _active_lines(lines, defines)
    rel = source.relative_to(case.directory).as_posix()
    mutants = _mutants_of(case.name, rel, lines, _source_sites(lines, active))
    used = set(re.findall(r"[A-Za-z_][A-Za-z_0-9]*", "\n".join(_code(l) for l, a in zip(lines, active) if a)))
    for m in re.finditer(r'^\s*#include\s+"([^"]+)"', "".join(lines), re.MULTILINE):
        header = next((d / m.group(1) for d in (source.parent, *version.include_dirs) if (d / m.group(1)).is_file()),
                      None)
        if header is None or case.directory.resolve() not in header.resolve().parents:
            continue
        hlines = header.read_text().splitlines(keepends=True)
        hactive = _active_lines(hlines, defines)
        hrel = header.resolve().relative_to(case.directory.resolve()).as_posix()
        mutants += _mutants_of(case.name, hrel, hlines, _macro_sites(hlines, hactive, used))
    seen, unique = set(), []
    for mt in mutants:
        key = (mt.file, mt.line, mt.new, mt.extra)
        if key not in seen:
            seen.add(key)
            unique.append(mt)
    return unique


def choose(mutants: list[Mutant], limit: int | None, seed: int) -> list[Mutant]:
    """A deterministic subset of at most ``limit``, spread over the operator families (round robin)."""
    if limit is None or limit >= len(mutants):
        return list(mutants)
    families: dict[str, list[Mutant]] = {}
    for m in mutants:
        families.setdefault(re.sub(r"[-+@].*$", "", m.operator), []).append(m)
    rng = random.Random(seed)
    queues = []
    for name in sorted(families):
        group = families[name][:]
        rng.shuffle(group)
        queues.append(group)
    out: list[Mutant] = []
    while len(out) < limit:
        for q in queues:
            if q and len(out) < limit:
                out.append(q.pop(0))
    return out


def apply(mutant: Mutant, case_dir: Path, into: Path) -> Path:
    """Copy ``case_dir`` to ``into/<name>`` with ``mutant`` applied; return the copy."""
    target = into / case_dir.name
    shutil.copytree(case_dir, target)
    path = target / mutant.file
    lines = path.read_text().splitlines(keepends=True)
    assert lines[mutant.line - 1] == mutant.old, f"{mutant.ident}: the line changed under us"
    for number, text in mutant.extra:
        lines[number - 1] = text
    if mutant.new is None:
        old = lines[mutant.line - 1]
        lines[mutant.line - 1] = "\\\n" if old.rstrip().endswith("\\") else "\n"  # keep a macro continued
    else:
        lines[mutant.line - 1] = mutant.new
    path.write_text("".join(lines))
    return target


# --- judging one mutant -------------------------------------------------------------------------


def concrete_trials(case: Case, image, trials: int, seed: int):
    """Random trials over every replay setup; returns (trials run, violating, kinds, first violation)."""
    from symabi.replay.confirm import setups_for_case
    from symabi.replay.contract import VIOLATED, evaluate
    from symabi.replay.machine import ReplayError

    setups = setups_for_case(case, image)
    per = max(1, -(-trials // max(1, len(setups))))
    rng = random.Random(seed)
    ran = bad = 0
    kinds: dict[str, int] = {}
    first = ""
    for setup in setups:
        for _ in range(per):
            inputs = setup.random_inputs(rng)
            try:
                run = setup.run(inputs)
            except ReplayError as exc:
                kinds["replay-error"] = kinds.get("replay-error", 0) + 1
                first = first or f"replay error in {setup.label}: {exc}"
                continue
            ran += 1
            kinds[run.kind] = kinds.get(run.kind, 0) + 1
            violated = [f for f in evaluate(run) if f.status == VIOLATED]
            if violated:
                bad += 1
                if not first:
                    f = violated[0]
                    first = (f"{f.obligation} in [{setup.label or setup.entry_name}]"
                             f" (run {run.kind}; entry {f.entry_text}, exit {f.exit_text}, site "
                             f"{f.site:#x})" if f.site is not None else f"{f.obligation} in [{setup.label}]")
    return ran, bad, kinds, first


def judge_mutant(mutant: Mutant, case_dir: Path, toolchain, *, timeout_s: float, trials: int, seed: int) -> Outcome:
    from symabi.errors import AssemblerError
    from symabi.frontend import AssembleRequest, assemble
    from symabi.loader import UnsupportedRelocation, lay_out
    from symabi.prover import Options, prove_case

    began = time.monotonic()
    out = Outcome(mutant.ident, mutant.description, "error")
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
            options = Options(timeout_s=timeout_s, solver_timeout_ms=int(min(timeout_s, 30) * 1000))
            result = prove_case(case, toolchain, [version.name], options, listings={version.name: listing})
            vr = result.versions[-1]
            out.verdict = vr.verdict.value
            out.symbolic_obligations = sorted({v.obligation for v in vr.violations})
            out.replay_not_confirmed = [f"{v.obligation}: {v.replay}" for v in vr.violations if v.replay != "confirmed"]
            if vr.verdict.value == "unknown":
                reasons = [u.reason for u in vr.unknowns] or [vr.error or ""]
                out.detail = reasons[0][:200]
            try:
                image = lay_out(listing)
            except UnsupportedRelocation as exc:
                image, out.detail = None, f"loader: {exc}"
            if image is not None:
                out.trials, out.violating_trials, out.concrete_kinds, out.concrete_violation = concrete_trials(
                    case, image, trials, seed)
            if vr.verdict.value == "refuted":
                out.klass = "refuted"
            elif vr.verdict.value == "unknown":
                out.klass = "unknown"
            elif out.violating_trials:
                out.klass = "unsound"
            else:
                out.klass = "equivalent"
        except Exception as exc:  # noqa: BLE001 - a crash of symabi on a mutant is a finding, not a stop
            out.klass = "error"
            out.detail = f"{type(exc).__name__}: {exc}"[:300] + "\n" + traceback.format_exc(limit=3)[-600:]
        finally:
            out.seconds = round(time.monotonic() - began, 2)
    return out


def as_dict(outcome: Outcome) -> dict:
    return asdict(outcome)


# --- the fixed sample (tests and --sample) --------------------------------------------------------

SAMPLE = (  # (case, file suffix, operator, text the original line contains)
    ("crosscall2", "abi_amd64.h", "delete", "MOVQ	(3*8)(SP), BX"),
    ("crosscall2", "abi_amd64.h", "drop-cld", "CLD"),
    ("crosscall2", "abi_amd64.h", "disp+16", "MOVUPS	(12*8)(SP), X8"),
    ("crosscall2", "asm_amd64.s", "delete", "MOVQ	R9, 0x10(SP)"),
    ("sigtramp", "abi_amd64.h", "disp+8", "MOVQ	R13, (5*8)(SP)"),
)


def sample(cases: dict[str, Case], names: list[str] | None = None) -> list[Mutant]:
    out = []
    for case_name, suffix, op, text in SAMPLE:
        if names and case_name not in names:
            continue
        found = [m for m in generate(cases[case_name])
                 if m.file.endswith(suffix) and m.operator == op and text in m.old]
        assert len(found) == 1, f"sample mutant {case_name} {suffix} {op} {text!r}: {len(found)} matches"
        out.append(found[0])
    return out
