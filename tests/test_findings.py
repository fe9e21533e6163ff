"""Fast checks of how findings are worded and grouped, where the baseline is found, which SARIF level a
finding gets, and that the supported Pythons are declared and checked (no angr run here)."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.specifiers import SpecifierSet

from symabi.gate import baseline as baselines
from symabi.verdicts import (CaseResult, Difference, PathSummary, SourceLine, Unknown, Verdict, VersionResult,
                             Violation)
from symabi.writers import findings, origin, sarif

REPO = Path(__file__).resolve().parent.parent
RET = SourceLine(0x400100, "a.s:51", "RET")
CALL = SourceLine(0x400080, "a.s:47", "CALL runtime.cgocallback(SB)")


def _violation(reg: str, path: int = 0, callee: str = "runtime.cgocallback", **extra) -> Violation:
    fields = dict(obligation=f"preserve-{reg}", location=reg, path=path, entry="0x0", exit="0x1",
                  detail=f"{reg.upper()} is not preserved", site=RET, path_lines=(RET,),
                  origin=(f"{callee}#1.{reg}",), origin_exact=True, call_sites={f"{callee}#1": CALL})
    fields.update(extra)
    return Violation(**fields)


@pytest.mark.parametrize("name, words", [
    ("runtime.mstart#1.rbx", "what the 1st call to runtime.mstart left in RBX"),
    ("runtime.cgocallback#2.frame+0x8", "the word the 2nd call to runtime.cgocallback wrote at its frame+0x8"),
    ("runtime.sigtrampgo#3.below-0x10", "what the 3rd call to runtime.sigtrampgo left 0x10 bytes below its stack pointer"),
    ("cpuid#1.eax", "what the 1st CPUID left in EAX"),
    ("init.stack+0x10", "the caller's stack at entry RSP+0x10, which nothing on the path wrote"),
    ("init.m+0x58", "m+0x58 as the path found it (nothing on the path wrote it)"),
    ("entry.rdi", "RDI's value at entry"),
    ("entry.return_address", "the caller's return address"),
    ("world.g0stack", "the address of region g0stack"),
    ("something.new", "`something.new`"),
])
def test_input_names_in_words(name, words):
    assert origin.describe(name) == words


def test_origin_sentence_names_the_call():
    assert origin.sentence(_violation("rbx")) == (
        "RBX at return is what the 1st call to runtime.cgocallback (CALL at a.s:47) left in RBX")
    mixed = _violation("rbx", origin=("entry.rbx", "init.stack+0x8"), origin_exact=False, call_sites={})
    assert origin.sentence(mixed) == ("RBX at return is computed from RBX's value at entry and the caller's stack at "
                                      "entry RSP+0x8, which nothing on the path wrote")


def test_registers_failing_together_are_one_group():
    regs = [f"xmm{i}" for i in range(6, 16)]
    xs = [_violation(r, p) for r in regs for p in (2, 3)] + [_violation("rbx", 2, exit="0x2")]
    groups = findings.violation_groups(xs)
    assert [(g.ids, g.registers, g.paths) for g in groups] == [
        ("preserve-xmm6..xmm15", "XMM6–XMM15", (2, 3)), ("preserve-rbx", "RBX", (2,))]
    assert groups[0].detail == "XMM6–XMM15 are not preserved"
    assert groups[0].origins == [("XMM6–XMM15 at return are what the 1st call to runtime.cgocallback (CALL at a.s:47) "
                                  "left in each", (2, 3), CALL)]


def test_different_callers_on_different_paths_are_said_per_path():
    xs = [_violation("xmm6", 2, "runtime.a"), _violation("xmm6", 6, "runtime.b")]
    (group,) = findings.violation_groups(xs)
    assert [(paths, said.split(" (CALL")[0]) for said, paths, _ in group.origins] == [
        ((2,), "XMM6 at return is what the 1st call to runtime.a"), ((6,), "XMM6 at return is what the 1st call to runtime.b")]


def _version(violations=(), unknowns=()) -> VersionResult:
    statuses = {f"preserve-{r}": "holds" for r in ("rbx", "xmm6", "xmm7")}
    return VersionResult("new", "test", "a.s", Verdict.REFUTED if violations else Verdict.UNKNOWN,
                         tuple(violations), tuple(unknowns), (PathSummary(0, "returned", "p", "", (), statuses),))


def test_lines_say_error_or_note_and_point_at_the_call():
    lines = findings.lines(_version([_violation("xmm7")]), "new", "note")
    assert lines == ["a.s:51: note: [new] preserve-xmm7: XMM7 is not preserved on path 0 (entry 0x0, exit 0x1)",
                     "a.s:47: note: [new] preserve-xmm7: XMM7 at return is what the 1st call to runtime.cgocallback "
                     "(CALL at a.s:47) left in XMM7"]
    saved = SourceLine(0x400010, "abi.h:40", "MOVUPS X7, 80(SP)")
    lines = findings.lines(_version([_violation("xmm7", saved_at=saved)]), "tree/x", "error")
    assert lines[0].startswith("a.s:51: error: [tree/x] preserve-xmm7:")
    assert lines[2] == ("abi.h:40: note: [tree/x] preserve-xmm7: XMM7's entry value is saved here (MOVUPS X7, "
                        "80(SP)), and not restored from there")


def test_one_reason_on_many_obligations_and_paths_is_one_line():
    unknowns = [Unknown(ob, p, "call to runtime.foo, which the case does not declare", CALL)
                for ob in ("preserve-rbx", "preserve-xmm6", "preserve-xmm7") for p in (0, 1)]
    assert findings.lines(_version(unknowns=unknowns), "new", "error") == [
        "a.s:47: unknown: [new] every obligation not decided on paths 0, 1: call to runtime.foo, which the case does "
        "not declare"]


def test_contract_fixes_of_many_registers_are_one_difference():
    diffs = [Difference("contract-fix", f"XMM{i} at return", "0x1", "0x0",
                        f"XMM{i} at return differs: the new version keeps the contract, the old one does not")
             for i in range(6, 16)] + [Difference("behavioural", "result (EAX)", "0x0", "0x1", "result (EAX) differs")]
    groups = findings.difference_groups(diffs)
    assert [(findings.difference_what(d, regs), findings.difference_text(d, regs)) for d, regs in groups] == [
        ("XMM6–XMM15 at return", "XMM6–XMM15 at return differ: the new version keeps the contract, the old one does not"),
        ("result (EAX)", "result (EAX) differs")]


# --- the baseline is found by default ---------------------------------------------------------------

def test_baseline_search_order(tmp_path, monkeypatch):
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    work = repo / "sub" / "dir"
    work.mkdir(parents=True)
    shipped = tmp_path / "shipped.json"
    shipped.write_text("{}")
    monkeypatch.setattr(baselines, "SHIPPED", shipped)
    assert baselines.find(Path("mine.toml"), work) == (Path("mine.toml"), "--baseline")
    assert baselines.find(None, work) == (shipped, "shipped with symabi")
    (repo / baselines.DEFAULT_NAME).write_text("{}")
    assert baselines.find(None, work) == (repo / baselines.DEFAULT_NAME, "the repository root")
    (work / baselines.DEFAULT_NAME).write_text("{}")
    assert baselines.find(None, work) == (work / baselines.DEFAULT_NAME, "the current folder")
    monkeypatch.setattr(baselines, "SHIPPED", tmp_path / "none.json")
    assert baselines.find(None, tmp_path)[0] is None


def test_the_shipped_baseline_is_found_from_the_repository():
    assert baselines.SHIPPED == REPO / "gate-baseline.json" and baselines.SHIPPED.is_file()
    assert baselines.find(None, REPO / "symabi" / "gate") == (REPO / "gate-baseline.json", "the repository root")


# --- SARIF: what does not fail the run is never an error ---------------------------------------------

def _result(violations=(), unknowns=()) -> CaseResult:
    return CaseResult("c", "", "tramp", "windows-x64", "", (), {}, (_version(violations, unknowns),))


@pytest.mark.parametrize("failing, accepted, level, unknown_level", [
    (True, None, "error", "warning"), (False, "the bug the CL fixed", "note", "note"), (False, None, "note", "note")])
def test_sarif_levels(failing, accepted, level, unknown_level):
    xs = [_violation("xmm7")]
    us = [Unknown("preserve-rbx", 0, "why", CALL)]
    subject = sarif.Subject("case/c/old", _result(xs, us), "new", accepted=accepted, failing=failing)
    from symabi.verdicts import ObligationInfo
    obligations = [ObligationInfo(o, o.split("-")[1], "callee-saved", "") for o in ("preserve-rbx", "preserve-xmm7")]
    log = sarif.to_dict([subject], obligations, {"SRCROOT": Path.cwd()})
    violation, unknown = log["runs"][0]["results"]
    assert (violation["level"], unknown["level"]) == (level, unknown_level)
    assert ("suppressions" in violation) == (accepted is not None)
    assert "XMM7 at return is what the 1st call to runtime.cgocallback" in violation["message"]["text"]
    assert violation["relatedLocations"][0]["message"]["text"] == "the 1st call to runtime.cgocallback"


# --- Python 3.11-3.13 ---------------------------------------------------------------------------------

def test_supported_pythons_are_declared_and_checked_in_ci():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    supported = SpecifierSet(project["requires-python"])
    assert all(v in supported for v in ("3.11", "3.12", "3.13")) and "3.10" not in supported
    ci = (REPO / ".ci" / "run").read_text()
    assert "for version in 3.12 3.13" in ci and "--dry-run" in ci and "--only-binary=:all:" in ci


def test_constraints_are_read_for_another_python(tmp_path):
    script = REPO / ".ci" / "constraints_for.py"
    for version, pin in (("3.11", "pydemumble==0.1.1"), ("3.13", "pydemumble==0.1.2")):
        out = subprocess.run([sys.executable, str(script), version, str(REPO / "constraints.txt")],
                             capture_output=True, text=True, check=True).stdout.splitlines()
        assert pin in out and "angr==9.2.213" in out and not any(";" in line for line in out)
