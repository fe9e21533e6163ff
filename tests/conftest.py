"""Shared fixtures: the real toolchain, the shipped cases, and mutable copies of them for mutants."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest

from symabi.casefile import parse_case
from symabi.toolchain import find_toolchain

REPO = Path(__file__).resolve().parent.parent
CASES = REPO / "cases"


@pytest.fixture(scope="session", autouse=True)
def _own_cache(tmp_path_factory):
    """The suite's caches (listings, go_asm.h, verdicts) are its own, fresh each session: a verdict an
    earlier run stored under another hash seed, or from other code, never answers a test."""
    import os

    from symabi.cache import CACHE_ENV_VAR

    before = os.environ.get(CACHE_ENV_VAR)
    os.environ[CACHE_ENV_VAR] = str(tmp_path_factory.mktemp("symabi-cache"))
    yield
    if before is None:
        os.environ.pop(CACHE_ENV_VAR, None)
    else:
        os.environ[CACHE_ENV_VAR] = before


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


# --- hand-written trampolines -------------------------------------------------------------------

ASM_HEADER = '#include "textflag.h"\n\n'


def write_asm(folder: Path, body: str, name: str = "t.s") -> Path:
    """Write a tiny assembly file (textflag.h included; ``body`` is dedented) and return its path."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(ASM_HEADER + textwrap.dedent(body).lstrip("\n"))
    return path


def write_case(root: Path, name: str, body: str, callees: str = "", entry: str = "tramp", extra: str = "") -> Path:
    """A one-version case folder ``root/name`` around a hand-written trampoline.

    ``extra`` goes into the ``[case]`` table; ``callees`` is TOML appended after the version. The first
    line of ``body`` is line 3 of ``t.s``.
    """
    folder = root / name
    write_asm(folder, body)
    lines = ["[case]", f'name = "{name}"', f'entry = "{entry}"', textwrap.dedent(extra).strip(),
             "[[versions]]", 'name = "new"', 'source = "t.s"', 'revision = "test"', textwrap.dedent(callees)]
    (folder / "case.toml").write_text("\n".join(lines) + "\n")
    return folder


@pytest.fixture
def assemble_snippet(tmp_path, toolchain):
    """Assemble a snippet with the real Go assembler (windows/amd64, package ``x``) and return its listing."""
    from symabi.frontend import AssembleRequest, assemble

    def run(body: str, package: str | None = "x", name: str = "t.s"):
        source = write_asm(tmp_path / "asm", body, name)
        return assemble(toolchain, AssembleRequest(source, (source.parent,), (), package))

    return run
