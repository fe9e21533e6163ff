"""A small fixed sample of the mutation campaign (scripts/mutate.py, issue 6), through the same code path."""

from __future__ import annotations

import importlib.util

from conftest import CASES, REPO, load

from symabi.mutation import sample


def _script():
    spec = importlib.util.spec_from_file_location("symabi_mutate_script", REPO / "scripts" / "mutate.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_mutation_sample_is_sound(toolchain):
    script = _script()
    cases = {name: load(CASES / name) for name in ("crosscall2", "sigtramp")}
    mutants = sample(cases)
    assert [m.case for m in mutants].count("crosscall2") >= 3 and any(m.case == "sigtramp" for m in mutants)
    outcomes = script.run_campaign(mutants, cases, timeout=30, trials=120, seed=6, jobs=1)
    row = script.tally(outcomes)
    details = "\n".join(f"{o.klass}: {o.description} {o.concrete_violation} {o.replay_not_confirmed}" for o in outcomes)
    assert row["unsound"] == 0, details
    assert row["error"] == 0, details
    assert row["replay-not-confirmed"] == 0, details
    assert row["refuted"] >= 1, details
    for o in outcomes:
        if o.klass == "refuted":
            assert o.replay_not_confirmed == [], details
        if o.klass == "equivalent":
            assert o.trials > 0 and o.violating_trials == 0, details
    # the sample's expected classes: a lost restore and a moved restore are caught; an unused argument is not
    by_desc = {o.description: o.klass for o in outcomes}
    assert any("delete `MOVQ\t(3*8)(SP), BX`" in d and k == "refuted" for d, k in by_desc.items()), details
    assert any("disp+8" in d and k == "refuted" for d, k in by_desc.items()), details


def test_generated_mutants_change_one_active_line():
    case = load(CASES / "crosscall2")
    from symabi.mutation import generate

    mutants = generate(case)
    ops = {m.operator.split("@")[0].rstrip("+-0123456789") for m in mutants}
    assert {"delete", "disp", "swap", "drop-cld", "adjsp"} <= ops
    # only the Windows branch of crosscall2 is active: no mutant touches the #ifndef GOOS_windows frame
    assert not any("0x18(SP), BX" in m.old or "$0x50" in m.old for m in mutants)
