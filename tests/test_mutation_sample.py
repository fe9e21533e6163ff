"""Small fixed samples of the mutation campaign (scripts/mutate.py, issues 6 and 9), through the same code path."""

from __future__ import annotations

import importlib.util
import json
import tempfile
from pathlib import Path

import pytest
from conftest import CASES, REPO, load

from symabi.mutation import (
    apply,
    concrete_trials,
    generate,
    record,
    sample,
    sample_issue9,
)

ALL = ("crosscall2", "sigtramp", "callbackasm1", "tstart_stdcall")


def _script():
    spec = importlib.util.spec_from_file_location("symabi_mutate_script", REPO / "scripts" / "mutate.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _check_sound(script, outcomes):
    records = [record(o) for o in outcomes]
    row = script.tally(records)
    details = "\n".join(f"{o.klass}: {o.description} {o.concrete_violation} {o.replay_not_confirmed}" for o in outcomes)
    assert row["unsound"] == 0, details
    assert row["error"] == 0, details
    assert row["replay-not-confirmed"] == 0, details
    return records, details


def test_mutation_sample_is_sound(toolchain):
    script = _script()
    cases = {name: load(CASES / name) for name in ("crosscall2", "sigtramp")}
    mutants = sample(cases)
    assert [m.case for m in mutants].count("crosscall2") >= 3 and any(m.case == "sigtramp" for m in mutants)
    outcomes = script.run_campaign(mutants, cases, timeout=30, trials=120, seed=6, jobs=1)
    records, details = _check_sound(script, outcomes)
    assert script.tally(records)["refuted"] >= 1, details
    for o in outcomes:
        if o.klass == "equivalent":
            assert o.trials > 0 and o.violating_trials == 0, details
    # the sample's expected classes: a lost restore and a moved restore are caught
    by_desc = {o.description: o.klass for o in outcomes}
    assert any("delete `MOVQ\t(3*8)(SP), BX`" in d and k == "refuted" for d, k in by_desc.items()), details
    assert any("disp+8" in d and k == "refuted" for d, k in by_desc.items()), details
    for r in records:
        assert set(r) == {"id", "case", "operator", "verdict", "obligations", "truth", "replay"}
        assert r["verdict"] in ("proved", "refuted", "unknown", "rejected", "error")
        assert r["truth"] in ("violates", "holds") and r["replay"] in ("confirmed", "not-confirmed", None)


def test_issue9_operators_meet_the_truth_the_oracle_finds(toolchain):
    """Each class of issue 9 as a mutant of a shipped case: the adversarial oracle sees the bug (or, for
    the controls popf-cf and branch-flags-if, sees none)."""
    from symabi.frontend import AssembleRequest, assemble
    from symabi.loader import lay_out

    cases = {name: load(CASES / name) for name in ALL}
    wrong = []
    for mutant, expected in sample_issue9(cases):
        with tempfile.TemporaryDirectory() as tmp:
            case = load(apply(mutant, cases[mutant.case].directory, Path(tmp)))
            v = case.newest
            image = lay_out(assemble(toolchain, AssembleRequest(v.source, v.include_dirs, case.defines, case.package)))
            t = concrete_trials(case, image, 40, 6)
        truth = "violates" if t.violating else "holds"
        if truth != expected:
            wrong.append(f"{mutant.description}: {truth} ({t.first or t.kinds})")
    assert wrong == []


def test_issue9_sample_is_sound(toolchain):
    script = _script()
    cases = {name: load(CASES / name) for name in ALL}
    outcomes = script.run_campaign([m for m, _ in sample_issue9(cases)], cases, timeout=30, trials=60, seed=6, jobs=1)
    _check_sound(script, outcomes)


def test_generated_mutants_change_one_active_line():
    case = load(CASES / "crosscall2")
    mutants = generate(case)
    ops = {m.operator.split("@")[0].rstrip("+-0123456789") for m in mutants}
    assert {"delete", "disp", "swap", "drop-cld", "adjsp"} <= ops
    assert {"below-sp", "overlap", "partial-save-movsd", "partial-save-movq", "partial-save-movlps",
            "partial-restore-movsd", "std-call", "popf-tf", "popf-df", "popf-cf", "branch-retaddr",
            "branch-flags-ac", "branch-flags-if", "branch-cpuid", "sp-unwritten"} <= ops
    # only the Windows branch of crosscall2 is active: no mutant touches the #ifndef GOOS_windows frame
    assert not any("0x18(SP), BX" in m.old or "$0x50" in m.old for m in mutants)
    # a pair operator moves the save and its restore together; inside a macro, inserted lines continue it
    (below,) = [m for m in mutants if m.operator == "below-sp" and "BX, (3*8)(SP)" in m.old]
    assert "BX, (-16)(SP)" in below.new and [t for _, t in below.extra] == ["\tMOVQ\t(-16)(SP), BX\t\\\n"]
    (popf,) = [m for m in mutants if m.operator == "popf-tf"]
    assert popf.new == "\tORQ\t$0x100, 0(SP)\t\\\n\tPOPFQ\n"
    ops_of = {name: {m.operator for m in generate(load(CASES / name))} for name in ("sigtramp", "tstart_stdcall",
                                                                                  "callbackasm1")}
    assert "branch-gsfield" in ops_of["sigtramp"]
    assert "branch-world" in ops_of["tstart_stdcall"] and "ptr-slot+16" in ops_of["callbackasm1"]


def test_shards_cover_the_campaign_once():
    script = _script()
    items = list(range(10))
    parts = [script.shard(items, f"{k}/3") for k in (1, 2, 3)]
    assert parts[1] == [1, 4, 7] and sorted(x for p in parts for x in p) == items
    with pytest.raises(SystemExit):
        script.shard(items, "0/3")


def test_records_classes_and_merge(tmp_path):
    script = _script()
    records = [
        {"id": "a", "case": "c", "operator": "below-sp", "verdict": "proved", "obligations": [], "truth": "violates",
         "replay": None},
        {"id": "b", "case": "c", "operator": "popf-cf", "verdict": "proved", "obligations": [], "truth": "holds",
         "replay": None},
        {"id": "d", "case": "c", "operator": "delete", "verdict": "refuted", "obligations": ["preserve-rbx"],
         "truth": "violates", "replay": "confirmed"},
    ]
    assert [script.klass(r) for r in records] == ["unsound", "equivalent", "refuted"]
    meta = {"date": "d", "toolchain": "go", "seed": 1, "trials": 1, "timeout": 1, "jobs": 1, "selection": "s, shard 1/2",
            "wall": 1.0, "names": ["c"], "available": {"c": 3}}
    for i, part in enumerate((records[:1], records[1:])):
        (tmp_path / f"{i}.json").write_text(json.dumps({"meta": meta, "mutants": part, "findings": {}}))
    out = tmp_path / "all.json"
    code = script.main(["--merge", str(tmp_path / "0.json"), str(tmp_path / "1.json"), "--json", str(out),
                        "--write-summary", str(tmp_path / "all.md")])
    assert code == 1  # one unsound mutant
    merged = json.loads(out.read_text())
    assert [r["id"] for r in merged["mutants"]] == ["a", "b", "d"] and merged["meta"]["wall"] == 2.0
    assert "| **total** | 3 | **3** |" in (tmp_path / "all.md").read_text()


def test_a_confirmed_replay_is_concrete_ground_truth():
    # A zero divisor the host passes is one value in 2^32: random trials miss it, the witness's replay
    # does not (the campaign's callbackasm1 mutant without MOVQ $5, CX).
    from symabi.mutation.judge import Outcome

    missed = Outcome("m", "d", "refuted", verdict="refuted", trials=300, violating_trials=0)
    assert missed.truth == "holds"
    assert Outcome("m", "d", "refuted", verdict="refuted", trials=300, replay_confirmed=1).truth == "violates"
