"""End to end through the command line: exit codes, messages without tracebacks, the JSON shape."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

import symabi
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
    assert "assumed:" in result.stdout and "DF and TF are clear at entry; IF and RFLAGS bit 1 are set" in result.stdout


def test_refuted_mutant_exits_1(cli, mutant_cases):
    result = cli("prove", "crosscall2", "--cases-dir", mutant_cases, code=1)
    assert "version new: REFUTED" in result.stdout
    # greppable file:line: error: lines for editors and CI
    errors = [line for line in result.stdout.splitlines() if ": error: [new] preserve-xmm7:" in line]
    assert len(errors) == 1 and errors[0].split(":")[1] == "51" and "asm_amd64.s" in errors[0]


def test_unknown_verdict_exits_2(cli, tmp_path):
    write_case(tmp_path, "loose", """
        TEXT tramp(SB),NOSPLIT|NOFRAME,$0-0
        	MOVQ	0x30(GS), CX	// where GS points, no world says
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
    message = _one_error_line(cli("prove", "crosscall2", "--version", "newest", code=2))
    assert message == "symabi: error: case crosscall2 has no version 'newest' (it has: old, new)\n"


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


# --- what a user sees (issue 16) ----------------------------------------------------------------------

ZERO128, ONE128 = "0x" + "0" * 32, "0x" + "0" * 31 + "1"


def _lines_after(stdout: str, marker: str) -> list[str]:
    """Lines that contain ``marker``, with the file name before it cut off (it is relative to the cwd)."""
    return [line[line.index(marker):] for line in stdout.splitlines() if marker in line]


def test_passing_prove_prints_no_error_lines_and_groups_registers(cli):
    result = cli("prove", "callbackasm1", code=0)
    out = result.stdout
    assert ": error:" not in out
    assert _lines_after(out, "sys_windows_amd64.s:86: note:") == [
        "sys_windows_amd64.s:86: note: [old] preserve-xmm6..xmm15: XMM6–XMM15 are not preserved on path 0 "
        f"(entry {ZERO128}, exit {ONE128})"]
    notes = _lines_after(out, "sys_windows_amd64.s:68: note: [old] preserve-xmm6..xmm15: ")
    assert len(notes) == 1 and notes[0].endswith("left in each")
    assert "XMM6–XMM15 at return are what the 1st call to runtime.cgocallback (CALL at " in notes[0]
    lines = out.splitlines()
    old = lines.index(next(line for line in lines if line.startswith("version old: REFUTED")))
    assert lines[old].endswith("— not judged (the exit code is about version new)")
    table = [line for line in lines if line.startswith("  preserve-")]
    assert table == ["  preserve-xmm6..xmm15  FAIL",
                     "  preserve-xmm6..xmm15 on path 0: XMM6–XMM15 are not preserved"]
    new = lines.index(next(line for line in lines if line.startswith("version new: PROVED")))
    assert lines[new + 3] == ("  every obligation holds on every path it applies to (29 obligations, 1 path: "
                              "1 return to the caller)")
    assert " ok " not in "\n".join(lines[new:])  # no table of ok for a PROVED version
    # the example's old value is the solver's choice of a changed XMM6 (any nonzero value; 0x1 or 0x2 seen)
    fixes = [line for line in lines if line.startswith("  [contract-fix]")]
    assert len(fixes) == 1 and re.fullmatch(
        r"  \[contract-fix\] XMM6–XMM15 at return differ: the new version keeps the contract, the old one does not "
        rf"\(e\.g\. XMM6: old 0x(?!0{{32}})[0-9a-f]{{32}}, new {ZERO128}\)", fixes[0]), fixes


def test_verbose_shows_every_obligation(cli):
    out = cli("prove", "crosscall2", "-v", code=0).stdout
    assert re.search(r"^  preserve-rbx +ok$", out, re.M) and re.search(r"^  r14-g-at-abiinternal-call +ok$", out, re.M)


def test_counterexample_says_who_clobbered_the_register(cli, mutant_cases):
    out = cli("prove", "crosscall2", "--cases-dir", mutant_cases, code=1).stdout
    assert _lines_after(out, "new/asm_amd64.s:") == [
        f"new/asm_amd64.s:51: error: [new] preserve-xmm7: XMM7 is not preserved on path 0 (entry {ZERO128}, "
        f"exit {ONE128})",
        "new/asm_amd64.s:47: note: [new] preserve-xmm7: XMM7 at return is what the 1st call to runtime.cgocallback "
        f"(CALL at {mutant_cases}/crosscall2/new/asm_amd64.s:47) left in XMM7",
        "new/asm_amd64.s:38: note: [new] preserve-xmm7: XMM7's entry value is saved here (MOVUPS X7, 80(SP)), and "
        "not restored from there",
        "new/asm_amd64.s:51: RET",
        "new/asm_amd64.s:47) left in XMM7",
        "new/asm_amd64.s:38: MOVUPS X7, 80(SP), and not restored from there",
    ]
    # old → new lost the register: a regression, not an anonymous behavioural difference
    # (the witness's values are the solver's choice: any two that differ)
    (regression,) = [line for line in out.splitlines() if line.startswith("  [regression] XMM7 at return differs: "
                                                                        "the old version keeps the contract, the "
                                                                        "new one does not (old 0x")]
    old, new = re.search(r"\(old (0x[0-9a-f]{32}), new (0x[0-9a-f]{32})\)$", regression).groups()
    assert old != new


def test_undeclared_callee_is_one_unknown_line(cli, tmp_path):
    write_case(tmp_path, "undeclared", "TEXT tramp(SB),NOSPLIT|NOFRAME,$0-0\n\tCALL\truntime·foo(SB)\n\tRET\n")
    out = cli("prove", "undeclared", "--cases-dir", tmp_path, code=2).stdout
    assert _lines_after(out, "unknown:") == [
        "unknown: [new] every obligation not decided on path 0: call to runtime.foo, which the case does not declare"]
    assert "  every obligation  ?" in out.splitlines()


def test_gs_read_without_a_world_says_what_to_declare(cli, tmp_path):
    write_case(tmp_path, "teb", "TEXT tramp(SB),NOSPLIT|NOFRAME,$0-0\n\tMOVQ\t0x28(GS), AX\n\tRET\n")
    out = cli("prove", "teb", "--cases-dir", tmp_path, code=2).stdout
    assert _lines_after(out, "t.s:4: ") == [
        "t.s:4: unknown: [new] every obligation not decided on path 0: uncovered memory access: read of 8 bytes at "
        "0x28(GS): this reads GS-relative memory (the TEB on Windows), and no world says where GS points; declare "
        '`[world] gs = "REGION"` (see cases/README.md)']
    assert "reg_" not in out and "<BV" not in out


def test_caller_frame_write_prints_no_none(cli, tmp_path):
    write_case(tmp_path, "frame", "TEXT tramp(SB),NOSPLIT|NOFRAME,$0-0\n\tMOVQ\tAX, 0x30(SP)\n\tRET\n")
    out = cli("prove", "frame", "--cases-dir", tmp_path, code=1).stdout
    assert _lines_after(out, "t.s:4: error:") == [
        "t.s:4: error: [new] stack-writes-in-frame: writes 8 bytes at entry RSP +0x30 (the caller's frame) on path 0"]
    assert "None" not in out


def test_any_version_name_the_case_has(cli, tmp_path):
    folder = write_case(tmp_path, "named", "TEXT tramp(SB),NOSPLIT|NOFRAME,$0-0\n\tRET\n")
    toml = folder / "case.toml"
    toml.write_text(toml.read_text().replace('name = "new"', 'name = "go1.22"'))
    assert "version go1.22: PROVED" in cli("prove", "named", "--version", "go1.22", "--cases-dir", tmp_path,
                                          code=0).stdout
    message = _one_error_line(cli("prove", "named", "--version", "new", "--cases-dir", tmp_path, code=2))
    assert message == "symabi: error: case named has no version 'new' (it has: go1.22)\n"


def test_tool_version(cli):
    assert cli("--version", code=0).stdout == f"symabi {symabi.__version__}\n"
    lines = cli("--version", "-v", code=0).stdout.splitlines()
    assert lines[0] == f"symabi {symabi.__version__}"
    names = [line.split(":")[0] for line in lines[1:]]
    assert names == ["go", "angr", "claripy", "pyvex", "z3-solver", "unicorn", "capstone", "python"]
    assert lines[1].startswith("go: go1.") and lines[2] == "angr: 9.2.213"


@pytest.mark.parametrize("args, message", [
    (["prove"], "prove: missing argument 'NAME' (see symabi prove --help)"),
    (["prove", "crosscall2", "--bogus"], "prove: no such option: --bogus (did you mean --verbose?) (see symabi prove --help)"),
    (["prove", "crosscall2", "--version"], "prove: option '--version' requires an argument (see symabi prove --help)"),
    (["bogus"], "no such command 'bogus' (see symabi --help)"),
    (["report", "crosscall2", "--format", "pdf"], "unknown report format 'pdf' (use md or html)"),
    (["prove", "crosscall2", "--timeout", "soon"], "--timeout needs a positive number of seconds, not 'soon'"),
])
def test_usage_errors_are_one_line(cli, args, message):
    assert _one_error_line(cli(*args, code=2)) == f"symabi: error: {message}\n"


def test_help_has_no_type_noise(cli):
    for command in ([], ["prove"], ["report"], ["gate"], ["list"]):
        out = cli(*command, "--help", code=0).stdout
        assert not re.search(r"<(bool|str|path|float)>|\{name\}|╭|│", out), out
    assert "Usage: symabi prove [OPTIONS] NAME" in cli("prove", "--help", code=0).stdout


@pytest.mark.parametrize("command", ["list", "gate"])
def test_empty_cases_folder_says_so(cli, tmp_path, command):
    message = _one_error_line(cli(command, "--cases-dir", tmp_path, code=2))
    assert message == f"symabi: error: no cases in {tmp_path} (a case is a folder with a case.toml; see cases/README.md)\n"
