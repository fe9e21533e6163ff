"""The verdict cache: a hit needs no angr and prints as the proof did; a changed byte, world or flag misses;
the gate's --jobs N gives the same result as --jobs 1."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from symabi.cli import app

from conftest import REPO, mutate, write_case

TRAMP = """
TEXT tramp(SB),NOSPLIT|NOFRAME,$0
	MOVQ	flag(SB), AX
	MOVQ	$1, BX
	RET
"""
WORLD = """
[world.data."flag"]
value = "0"
doc = "a word the trampoline returns"
"""


@pytest.fixture
def tiny(tmp_path, monkeypatch):
    """A one-version case (it clobbers RBX, so it is REFUTED and replayed) and a private cache folder."""
    monkeypatch.setenv("SYMABI_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("SYMABI_NO_CACHE", raising=False)
    monkeypatch.chdir(tmp_path)
    folder = write_case(tmp_path / "cases", "tiny", TRAMP)
    (folder / "case.toml").write_text((folder / "case.toml").read_text().replace("[[versions]]", WORLD + "\n[[versions]]"))
    return folder


def _prove(*args: str) -> tuple[int, dict]:
    result = CliRunner().invoke(app, ["prove", "tiny", "--cases-dir", "cases", "--json", *args])
    return result.exit_code, json.loads(result.stdout)


def _same(a: dict, b: dict) -> bool:
    """Equal apart from where the verdict came from."""
    return {**a, "cached": None} == {**b, "cached": None}


def test_a_hit_prints_as_the_proof_did_and_a_change_misses(tiny, monkeypatch):
    code, fresh = _prove()
    assert code == 1 and fresh["versions"]["new"]["verdict"] == "refuted" and fresh["cached"] is False
    assert fresh["versions"]["new"]["violations"][0]["replay"] == "confirmed"
    code, again = _prove()
    assert code == 1 and again["cached"] is True and _same(fresh, again)

    assert _prove("--no-cache")[1]["cached"] is False
    monkeypatch.setenv("SYMABI_NO_CACHE", "1")
    assert _prove()[1]["cached"] is False
    monkeypatch.delenv("SYMABI_NO_CACHE")

    mutate(tiny / "t.s", "MOVQ\t$1, BX", "MOVQ\t$2, BX")  # one byte of the code
    code, changed = _prove()
    assert changed["cached"] is False and code == 1
    mutate(tiny / "case.toml", 'value = "0"', 'value = "1"')  # the world
    assert _prove()[1]["cached"] is False
    assert _prove()[1]["cached"] is True


def test_terminal_output_of_a_hit_is_the_proof_plus_one_line(tiny):
    runner = CliRunner()
    fresh = runner.invoke(app, ["prove", "tiny", "--cases-dir", "cases"]).stdout.splitlines()
    hit = runner.invoke(app, ["prove", "tiny", "--cases-dir", "cases"]).stdout.splitlines()
    extra = [line for line in hit if line not in fresh]
    assert len(hit) == len(fresh) + 1 and len(extra) == 1 and "verdict cache" in extra[0]
    assert [line for line in hit if line not in extra] == fresh


def test_a_hit_does_not_import_angr(tiny):
    env = dict(os.environ, PYTHONPATH=str(REPO))
    cli = "import sys; from symabi.cli import app; sys.argv = ['symabi', 'prove', 'tiny', '--cases-dir', 'cases']"
    check = ("import atexit, sys; atexit.register(lambda: print('IMPORTED', sorted(m for m in ('angr', 'claripy', "
             "'unicorn', 'capstone', 'z3', 'jsonschema', 'symabi.prover', 'symabi.gate') if m in sys.modules)))")
    first = subprocess.run([sys.executable, "-c", f"{check}; {cli}; app()"], capture_output=True, text=True, env=env)
    assert "IMPORTED ['angr'" in first.stdout and "verdict cache" not in first.stdout
    hit = subprocess.run([sys.executable, "-c", f"{check}; {cli}; app()"], capture_output=True, text=True, env=env)
    assert hit.returncode == first.returncode == 1
    assert "verdict cache" in hit.stdout and "IMPORTED []" in hit.stdout, hit.stdout[-400:]


@pytest.mark.slow
def test_gate_jobs_2_gives_what_jobs_1_gives(tiny, tmp_path):
    """One entry point on one port and one case (REFUTED), proved (no cache) in one process, then in two."""
    from symabi.gate import registry
    from symabi.gate.render import to_dict
    from symabi.gate.run import run_gate

    text = registry.REGISTRY.read_text()
    (tmp_path / "registry.toml").write_text(text[text.index("[entries.crosscall2]"):text.index("[entries.sigtramp]")])
    runs = [to_dict(run_gate(cases_dir=tmp_path / "cases", registry_path=tmp_path / "registry.toml", workers=n,
                             use_cache=False)) for n in (1, 2)]
    for run in runs:  # timings differ, and a witness's values are the solver's choice in each process
        del run["timings"]
        for item in run["items"]:
            if item["result"]:
                del item["result"]["timings"]
                item["result"]["violations"] = [(v["obligation"], v["path_index"], v["replay"])
                                                for v in item["result"]["violations"]]
    assert [i["key"] for i in runs[0]["items"]] == ["tree/windows/amd64/crosscall2", "case/tiny/new"]
    assert [i["result"]["verdict"] for i in runs[0]["items"]] == ["proved", "refuted"]
    assert runs[0] == runs[1]
