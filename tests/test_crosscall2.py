"""End-to-end verdicts on crosscall2 and its mutants, through the prover (real assembler, angr, Z3)."""

from __future__ import annotations

import pytest

from symabi.casefile import parse_case
from symabi.prover import prove_case
from symabi.verdicts import Verdict

from conftest import CASES, mutate

pytestmark = pytest.mark.slow


def _prove(case_dir, toolchain, versions=None):
    return prove_case(parse_case(case_dir), toolchain, versions)


def test_new_crosscall2_is_proved(toolchain):
    result = _prove(CASES / "crosscall2", toolchain, ["new"])
    (new,) = result.versions
    assert new.verdict is Verdict.PROVED
    assert not new.violations and not new.unknowns
    assert [p.kind for p in new.paths] == ["returned"]


def test_removed_xmm_restore_is_refuted(case_copy, toolchain):
    case = case_copy("crosscall2")
    mutate(case / "new" / "abi_amd64.h", "\tMOVUPS\t(10*8)(SP), X7\t\\\n", "")
    (new,) = _prove(case, toolchain, ["new"]).versions
    assert new.verdict is Verdict.REFUTED
    assert {v.location for v in new.violations} == {"xmm7"}
    (v,) = new.violations
    assert v.entry != v.exit and len(v.entry) == 2 + 32
    assert v.site is not None and v.site.text == "RET"


def test_moved_save_slot_is_refuted(case_copy, toolchain):
    case = case_copy("crosscall2")
    # R12 saved over R13's slot: R13's save then overwrites it, so R12 comes back as R13.
    mutate(case / "new" / "abi_amd64.h", "MOVQ\tR12, (4*8)(SP)", "MOVQ\tR12, (5*8)(SP)")
    (new,) = _prove(case, toolchain, ["new"]).versions
    assert new.verdict is Verdict.REFUTED
    assert {v.location for v in new.violations} == {"r12"}
