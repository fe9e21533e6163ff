"""End to end through the command line: exit codes, messages without tracebacks, the JSON shape."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from symabi.cli import app

from conftest import CASES, mutate, write_case

pytestmark = pytest.mark.slow

XMM7_RESTORE = "\tMOVUPS\t(10*8)(SP), X7\t\\\n"


@pytest.fixture
def cli(monkeypatch):
    monkeypatch.delenv("SYMABI_GO", raising=False)
    monkeypatch.delenv("SYMABI_CASES", raising=False)
    monkeypatch.delenv("SYMABI_DEBUG", raising=False)
    runner = CliRunner()

    def run(*args: str, code: int):
        result = runner.invoke(app, [str(a) for a in args])
        # a SystemExit is how typer reports the exit code; anything else escaped the CLI's guard
        assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
        assert "Traceback" not in result.output and "Traceback" not in result.stderr
        assert result.exit_code == code, result.output
        return result

    return run


@pytest.fixture
def mutant_cases(case_copy):
    case = case_copy("crosscall2")
    mutate(case / "new" / "abi_amd64.h", XMM7_RESTORE, "")
    return case.parent


def _one_error_line(result) -> str:
    """Bad input: nothing on stdout, and the message starts with ``symabi: error:``."""
    assert result.stdout == ""
    assert result.stderr.startswith("symabi: error: ")
    return result.stderr


def test_shipped_crosscall2_exits_0(cli):
    result = cli("prove", "crosscall2", code=0)
    assert "version old: PROVED" in result.stdout and "version new: PROVED" in result.stdout
    assert result.stdout.rstrip().endswith("verdict (new): PROVED")
    assert "assumed:" in result.stdout and "DF, AC and ID are clear at entry" in result.stdout


def test_refuted_mutant_exits_1(cli, mutant_cases):
    result = cli("prove", "crosscall2", "--cases-dir", mutant_cases, code=1)
    assert "version new: REFUTED" in result.stdout
    # greppable file:line: error: lines for editors and CI
    errors = [line for line in result.stdout.splitlines() if ": error: [new] preserve-xmm7:" in line]
    assert len(errors) == 1 and errors[0].split(":")[1] == "51" and "asm_amd64.s" in errors[0]


def test_unknown_verdict_exits_2(cli, tmp_path):
    write_case(tmp_path, "loose", """
        TEXT tramp(SB),NOSPLIT|NOFRAME,$0-0
        	MOVQ	AX, (CX)
        	RET
        """)
    result = cli("prove", "loose", "--cases-dir", tmp_path, code=2)
    assert "verdict (new): UNKNOWN" in result.stdout and "uncovered memory access" in result.stdout


def test_unknown_case_exits_2_and_lists_the_known_ones(cli, tmp_path):
    write_case(tmp_path, "alpha", "TEXT tramp(SB),0,$0-0\n\tRET\n")
    write_case(tmp_path, "beta", "TEXT tramp(SB),0,$0-0\n\tRET\n")
    message = _one_error_line(cli("prove", "gamma", "--cases-dir", tmp_path, code=2))
    assert "unknown case 'gamma'" in message and "known cases: alpha, beta" in message
    message = _one_error_line(cli("prove", "crosscall3", code=2))
    assert "known cases:" in message and "crosscall2" in message


def test_assembler_error_exits_2_with_file_and_line(cli, tmp_path):
    write_case(tmp_path, "typo", """
        TEXT tramp(SB),NOSPLIT,$0-0
        	FOO	AX
        	RET
        """)
    message = _one_error_line(cli("prove", "typo", "--cases-dir", tmp_path, code=2))
    assert 't.s:4: unrecognized instruction "FOO"' in message


def test_unbalanced_mutant_exits_2_at_the_windows_text_line(cli, case_copy):
    case = case_copy("crosscall2")
    mutate(case / "new" / "abi_amd64.h", "\\\n\tPOPFQ\n", "\n")
    message = _one_error_line(cli("prove", "crosscall2", "--cases-dir", case.parent, code=2))
    assert "asm_amd64.s:37: crosscall2: unbalanced PUSH/POP" in message


def test_bad_case_file_exits_2_naming_the_field(cli, tmp_path):
    folder = write_case(tmp_path, "bad", "TEXT tramp(SB),0,$0-0\n\tRET\n",
                        callees='[callees."runtime.foo"]\nargs = "eight"\n')
    message = _one_error_line(cli("prove", "bad", "--cases-dir", tmp_path, code=2))
    assert str(folder / "case.toml") in message and "`callees.runtime.foo.args` must be int" in message


def test_missing_toolchain_exits_2(cli):
    message = _one_error_line(cli("prove", "crosscall2", "--go", "/nonexistent", code=2))
    assert "/nonexistent" in message and "not a Go toolchain" in message


def test_broken_toolchain_exits_2(cli, tmp_path):
    fake = tmp_path / "go"
    fake.write_text("#!/bin/sh\necho 'go: something is wrong' >&2\nexit 1\n")
    fake.chmod(0o755)
    message = _one_error_line(cli("prove", "crosscall2", "--go", fake, code=2))
    assert f"the Go toolchain at {fake} is broken" in message and "something is wrong" in message


def test_toolchain_from_the_environment(cli, monkeypatch):
    monkeypatch.setenv("SYMABI_GO", "/nonexistent/go")
    message = _one_error_line(cli("prove", "crosscall2", code=2))
    assert "SYMABI_GO names /nonexistent/go" in message


def test_usage_error_exits_2(cli):
    result = cli("prove", "crosscall2", "--version", "newest", code=2)
    assert "Traceback" not in result.output


def test_json_carries_verdicts_and_versions(cli):
    data = json.loads(cli("prove", "crosscall2", "--json", code=0).stdout)
    assert data["schema"] == 1 and data["case"] == "crosscall2" and data["entry"] == "crosscall2"
    assert data["toolchain"].startswith("go1.")
    assert data["judged"] == "new" and data["exit_code"] == 0
    assert list(data["versions"]) == ["old", "new"]
    for name in ("old", "new"):
        version = data["versions"][name]
        assert version["verdict"] == "proved" and version["violations"] == [] and version["unknowns"] == []
        assert set(version["timings"]) >= {"assemble", "load", "explore", "solve"}
        assert [p["kind"] for p in version["paths"]] == ["returned"]
        assert set(version["paths"][0]["obligations"].values()) == {"holds"}
    assert {o["id"] for o in data["contract"]["obligations"]} >= {"preserve-xmm15", "df-clear-at-call"}
    assert any(title.startswith("callee model go-abi0") for title in data["assumptions"])


def test_json_violation_shape(cli, mutant_cases):
    data = json.loads(cli("prove", "crosscall2", "--json", "--cases-dir", mutant_cases, code=1).stdout)
    assert data["judged"] == "new" and data["exit_code"] == 1
    assert data["versions"]["old"]["verdict"] == "proved"
    new = data["versions"]["new"]
    assert new["verdict"] == "refuted"
    (v,) = new["violations"]
    assert (v["obligation"], v["location"]) == ("preserve-xmm7", "xmm7")
    assert len(v["entry"]) == len(v["exit"]) == 34 and v["entry"] != v["exit"]
    assert v["site"]["text"] == "RET" and v["site"]["location"].endswith("new/asm_amd64.s:51")
    assert v["path_index"] == 0 and v["path"][-1].endswith("RET")
    assert any("CALL runtime.cgocallback(SB)" in line for line in v["path"])
    assert "entry.xmm7" in v["inputs"] and "runtime.cgocallback#1.xmm7" in v["inputs"]


@pytest.mark.parametrize("which", ["old", "new"])
def test_version_option(cli, mutant_cases, which):
    # the mutant breaks only the new version: --version old checks (and judges) the old one alone
    result = cli("prove", "crosscall2", "--json", "--version", which, "--cases-dir", mutant_cases,
                 code={"old": 0, "new": 1}[which])
    data = json.loads(result.stdout)
    assert list(data["versions"]) == [which] and data["judged"] == which


def test_list(cli):
    result = cli("list", code=0)
    assert any(line.split("\t")[0] == "crosscall2" and "[old, new]" in line for line in result.stdout.splitlines())


def test_real_command_json():
    """One real process, as a user runs it: the installed script, JSON on stdout, exit code 0."""
    script = Path(sys.executable).with_name("symabi")
    command = [str(script)] if script.is_file() else [sys.executable, "-m", "symabi"]
    env = {k: v for k, v in os.environ.items() if k not in ("SYMABI_GO", "SYMABI_CASES", "SYMABI_DEBUG")}
    proc = subprocess.run([*command, "prove", "crosscall2", "--json"], capture_output=True, text=True,
                          timeout=300, env=env, cwd=CASES.parent)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    data = json.loads(proc.stdout)
    assert {name: v["verdict"] for name, v in data["versions"].items()} == {"old": "proved", "new": "proved"}
    assert data["versions"]["new"]["source"] == "cases/crosscall2/new/asm_amd64.s"  # relative to the cwd
