"""Old ≡ new: compare two versions of a trampoline in everything a caller or the Go side can observe.

Both versions ran from the same symbolic register file and see the same callee outputs (named by
callee and call ordinal), the same world and the same caller memory. For every pair of paths, one per
version, that the same inputs can drive (same entry, compatible world facts, jointly satisfiable path
constraints), Z3 is asked whether any observable differs:

* the calls into Go, in order, with their argument words — a word that points into the trampoline's
  own frame is compared by what it points to (when the callee declares its size), and a difference by
  a stack-relative constant is a stack-layout difference, reported with the constant;
* the words written outside the trampoline's own frame (runtime structures, TLS, the caller's home
  area) as seen at each call and at the end;
* at return: the result register, and the registers the contract protects — where those differ and
  only the new version keeps the contract, the difference is the contract fix itself.

Behavioural differences refute equivalence, and so do regressions (a protected register the old
version keeps and the new one loses); contract fixes and stack-layout differences are listed
but do not. Any path the analysis could not finish leaves the verdict UNKNOWN.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field


from symabi.contracts import solver
from symabi.engine.explore import RETURNED, UNKNOWN, PathOutcome
from symabi.engine.memory import Access, MemoryGuard
from symabi.engine.registers import RegisterFile
from symabi.verdicts import Difference, Equivalence, Verdict

CONTRACT_FIX, STACK_LAYOUT, BEHAVIOURAL = "contract-fix", "stack-layout", "behavioural"
REGRESSION = "regression"  # the reverse of a contract fix: the old version keeps the contract, the new does not
# Fresh values for reads the model approximates (memory below the stack pointer, memory a host-chosen
# address reaches): one version's and the other's may in reality be the same bytes.
_APPROXIMATED = ("below-rsp#", "host-mem[")
# Registers a contract obligation protects at return, by obligation id.
_PROTECTED = {f"preserve-{r}": r for r in
              ("rbx", "rbp", "rdi", "rsi", "r12", "r13", "r14", "r15", *(f"xmm{i}" for i in range(6, 16)))}
_PROTECTED_ARM64 = {f"preserve-{r}": r for r in (*(f"x{i}" for i in range(19, 30)), *(f"d{i}" for i in range(8, 16)))}


@dataclass
class TracedPath:
    """A path as the equivalence check needs it: where it started, which world facts it read."""

    path: PathOutcome
    entry: str
    world: dict[tuple[str, int], str]  # (region, offset) of a field -> its value as the case writes it
    findings: dict[str, str] = field(default_factory=dict)  # obligation id -> holds/violated/unknown/n/a


@dataclass
class VersionTrace:
    name: str
    paths: list[TracedPath]
    guard: MemoryGuard


def _compatible(a: TracedPath, b: TracedPath) -> bool:
    return a.entry == b.entry and all(b.world.get(addr, value) == value for addr, value in a.world.items())


def _where(access: Access) -> str:
    if access.region == "stack":
        return f"caller frame at entry RSP{access.offset:+#x}"
    return f"{access.region}+{access.offset:#x}"


def _hex(value: int | None, bits: int) -> str | None:
    return None if value is None else f"0x{value:0{bits // 4}x}"


class _PairSolver(solver.PathSolver):
    """``solver.PathSolver`` over a pair's joint constraints, answered by a ``solver.Joint``."""

    def __init__(self, constraints: list, joint: solver.Joint):  # not super().__init__: it would build a solver
        self.constraints, self.solver, self.witnesses = constraints, joint, []


class _Pair:
    """One old path against one new path, under their joint constraints. ``base``: a solver holding the
    old path's constraints (shared by its pairs); ``seen``: the differences already found in other pairs,
    by (kind, what)."""

    def __init__(self, old: TracedPath, new: TracedPath, regs: RegisterFile, base, seen=frozenset()):
        self.old, self.new, self.regs, self.seen = old, new, regs, seen
        mine = {id(c) for c in old.path.state.solver.constraints}  # the same AST object: the same constraint
        own = tuple(c for c in new.path.state.solver.constraints if id(c) not in mine)
        self.constraints = [*old.path.state.solver.constraints, *new.path.state.solver.constraints]
        self.solver = _PairSolver(self.constraints, solver.Joint(base, own))

    def using(self, path_solver) -> _Pair:
        """This pair, its questions asked of ``path_solver`` (``solver.all_hold``'s dry run, or the real one)."""
        twin = copy.copy(self)
        twin.solver = path_solver
        return twin

    def feasible(self) -> bool:
        return self.solver.satisfiable()

    def differ(self, what: str, a, b, kind: str = BEHAVIOURAL) -> Difference | None:
        if a.size() != b.size():
            a, b = a.zero_extend(max(0, b.size() - a.size())), b.zero_extend(max(0, a.size() - b.size()))
        if self._known(what, a, b, kind):
            return None
        answer = solver.ask(self.solver, a != b, {"old": a, "new": b})
        if answer.status == solver.HOLDS:
            return None
        if answer.status == solver.UNKNOWN:
            raise _Undecided(f"{what}: {answer.reason}")
        delta = self._stack_delta(a, b)
        if delta is not None and kind == BEHAVIOURAL:
            kind = STACK_LAYOUT
        approximated = sorted(_approximated(a, b))
        if approximated and kind == BEHAVIOURAL:
            raise _Undecided(f"{what}: the difference rests on fresh values the model gives reads it approximates "
                             f"({', '.join(approximated[:3])}), which may hold the same in both versions")
        detail = self._describe(what, kind, delta)
        return Difference(kind, what, _hex(answer.values["old"], a.size()), _hex(answer.values["new"], b.size()),
                          detail, delta, {k: hex(v) for k, v in sorted(answer.inputs.items())})

    def _known(self, what: str, a, b, kind: str) -> bool:
        """Whether every answer the question could get is already decided: the only difference it can
        report (of ``kind``, or of the stack-layout kind when both sides are stack-relative; or no
        report at all, when a difference would rest on approximated reads) is one another pair already
        reported, which the result lists once. Its answer would add nothing, so it is not asked."""
        if (kind, what) not in self.seen:
            return False
        if kind != BEHAVIOURAL:
            return True
        return not self._stack_relative(a, b) and not _approximated(a, b)

    def _stack_relative(self, a, b) -> bool:
        rsp = self.regs.stack_pointer
        return bool(a.variables & rsp.variables and b.variables & rsp.variables)

    def _stack_delta(self, a, b) -> int | None:
        if not self._stack_relative(a, b):
            return None
        values = self.solver.eval(a - b, 2)
        if len(values) != 1:
            return None
        v = values[0]
        return v - (1 << a.size()) if v >> (a.size() - 1) else v

    @staticmethod
    def _describe(what: str, kind: str, delta: int | None) -> str:
        if delta is not None:
            direction = "lower" if delta > 0 else "higher"
            return f"{what} is {abs(delta)} bytes {direction} in the new version (stack layout)"
        if kind == CONTRACT_FIX:
            return f"{what} differs: the new version keeps the contract, the old one does not"
        if kind == REGRESSION:
            return f"{what} differs: the old version keeps the contract, the new one does not"
        return f"{what} differs"


class _Undecided(Exception):
    pass


def _approximated(a, b) -> set[str]:
    """The variables only one side has that stand for reads the model approximates."""
    return {v for v in a.variables ^ b.variables if v.startswith(_APPROXIMATED)}


def _compare_calls(pair: _Pair, old: PathOutcome, new: PathOutcome, out: list[Difference]) -> None:
    old_names = [c.callee for c in old.calls]
    new_names = [c.callee for c in new.calls]
    if old_names != new_names:
        out.append(Difference(BEHAVIOURAL, "calls into Go", " → ".join(old_names) or "none",
                              " → ".join(new_names) or "none", "the versions call different Go functions"))
        return
    for index, (a, b) in enumerate(zip(old.calls, new.calls), 1):
        call = f"call {index} ({a.callee})"
        for word, (x, y) in enumerate(zip(a.frame, b.frame)):
            if (d := pair.differ(f"{call} argument word {word} (frame+{8 * word:#x})", x, y)) is not None:
                out.append(d)
                if d.kind == STACK_LAYOUT and 8 * word in a.pointees:
                    for k, (p, q) in enumerate(zip(a.pointees[8 * word], b.pointees[8 * word])):
                        if (d2 := pair.differ(f"{call} *(argument word {word})+{8 * k:#x}", p, q)) is not None:
                            out.append(d2)
        _compare_memory(pair, f"before {call}", dict(_keyed(a.memory)), dict(_keyed(b.memory)), out)


def _keyed(snapshot):
    for access, value in snapshot:
        yield (access.region, access.offset, access.size), (access, value)


def _compare_memory(pair: _Pair, when: str, old: dict, new: dict, out: list[Difference]) -> None:
    for key in sorted(set(old) | set(new)):
        if key in old and key in new:
            (access, a), (_, b) = old[key], new[key]
            if (d := pair.differ(f"{_where(access)} {when}", a, b)) is not None:
                out.append(d)
        else:
            access, value = (old.get(key) or new.get(key))
            side = "old" if key in old else "new"
            out.append(Difference(BEHAVIOURAL, f"{_where(access)} {when}", None, None,
                                  f"only the {side} version writes {_where(access)} {when}"))


def _compare_ends(pair: _Pair, traces: tuple[VersionTrace, VersionTrace], returns: int,
                  out: list[Difference]) -> None:
    old, new = pair.old.path, pair.new.path
    if old.kind != new.kind:
        out.append(Difference(BEHAVIOURAL, "how the path ends", old.kind, new.kind,
                              f"old: {old.reason or old.kind}; new: {new.reason or new.kind}"))
        return
    old_writes = dict(_keyed(traces[0].guard.observable_writes(old.state)))
    new_writes = dict(_keyed(traces[1].guard.observable_writes(new.state)))
    _compare_memory(pair, "at the end", old_writes, new_writes, out)
    if old.kind != RETURNED:
        return
    arch = pair.regs.arch
    if returns:
        result = arch.result
        a, b = old.state.registers.load(result)[returns - 1:0], new.state.registers.load(result)[returns - 1:0]
        name = result.upper() if returns == 64 else {"rax": "EAX", "x0": "W0"}[result]
        if (d := pair.differ(f"result ({name})", a, b)) is not None:
            out.append(d)
    for ob, reg in (_PROTECTED_ARM64 if arch.name == "arm64" else _PROTECTED).items():
        statuses = (pair.old.findings.get(ob), pair.new.findings.get(ob))
        kind = {("violated", "holds"): CONTRACT_FIX, ("holds", "violated"): REGRESSION}.get(statuses, BEHAVIOURAL)
        d = pair.differ(f"{reg.upper()} at return", old.state.registers.load(reg), new.state.registers.load(reg), kind)
        if d is not None:
            out.append(d)


def _pair_differences(pair: _Pair, traces: tuple[VersionTrace, VersionTrace],
                      returns: int) -> tuple[list[Difference], str | None]:
    """What one pair's paths differ in (none when no input drives both), and why the comparison stopped
    when a question got no answer (with the differences found before it).

    The comparison runs dry first (``solver.dry_run``: every question finds no difference). When it then
    found no difference of its own and one check shows that no question it asked can find one under the
    pair's joint constraints (which an infeasible pair fails as well), there is nothing to report either
    way. Otherwise a pair no input drives has nothing to report, and a feasible one keeps the dry run's
    answer when that check showed the questions find nothing, else is compared question by question."""
    runs: list[list[Difference]] = []  # each run's differences: the last run's are the answer

    def compare(path_solver):
        runs.append([])
        asked = pair.using(path_solver)
        _compare_calls(asked, pair.old.path, pair.new.path, runs[-1])
        _compare_ends(asked, traces, returns, runs[-1])

    _, asked = solver.dry_run(pair.solver, compare)
    quiet = solver.none_violated(pair.solver, asked)
    if quiet and not runs[-1]:
        return [], None
    if not pair.feasible():
        return [], None
    if not quiet:
        try:
            compare(pair.solver)
        except _Undecided as exc:
            return runs[-1], str(exc)
    return runs[-1], None


def compare_versions(case, regs: RegisterFile, old: VersionTrace | None, new: VersionTrace | None,
                     timeout_ms: int, names: tuple[str, str]) -> Equivalence:
    if old is None or new is None:
        return Equivalence(*names, Verdict.UNKNOWN, reason="a version could not be explored")
    undecided = [f"{t.name} path {p.path.index}: {p.path.reason}" for t in (old, new) for p in t.paths
                 if p.path.kind == UNKNOWN]
    differences: list[Difference] = []
    seen: set[tuple[str, str]] = set()
    entries = solver.EntrySolvers(timeout_ms)  # old paths from one start share its solver
    for a in old.paths:
        base = None  # the old path's solver, made when a pair needs it
        for b in new.paths:
            if a.path.kind == UNKNOWN or b.path.kind == UNKNOWN or not _compatible(a, b):
                continue
            if base is None:
                base = entries.for_path(a.path.state).solver
            pair = _Pair(a, b, regs, base, seen)
            found, why = _pair_differences(pair, (old, new), case.returns)
            undecided += [why] if why else []
            for d in found:
                if (d.kind, d.what) not in seen:
                    seen.add((d.kind, d.what))
                    differences.append(d)
    if any(d.kind in (BEHAVIOURAL, REGRESSION) for d in differences):
        verdict = Verdict.REFUTED
    elif undecided:
        verdict = Verdict.UNKNOWN
    else:
        verdict = Verdict.PROVED
    return Equivalence(names[0], names[1], verdict, tuple(differences), "; ".join(undecided))
