"""Shared fixtures: the real toolchain, the shipped cases, and mutable copies of them for mutants."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from symabi.casefile import parse_case
from symabi.toolchain import find_toolchain

REPO = Path(__file__).resolve().parent.parent
CASES = REPO / "cases"


@pytest.fixture(scope="session")
def toolchain():
    return find_toolchain()


@pytest.fixture
def case_copy(tmp_path):
    """Copy a shipped case into a temporary cases folder, so a test can mutate its sources."""

    def make(name: str) -> Path:
        target = tmp_path / "cases" / name
        shutil.copytree(CASES / name, target)
        return target

    return make


def mutate(path: Path, old: str, new: str) -> None:
    """Replace exactly one occurrence of ``old`` in ``path``: a mutant that silently misses is a bad test."""
    text = path.read_text()
    assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times in {path}"
    path.write_text(text.replace(old, new))


def load(case_dir: Path):
    return parse_case(case_dir)
