"""symabi check: a module's marked trampolines, checked like go vet checks Go (docs/check.md).

The module under tests/data/check/callback has one correct callback trampoline per amd64 host ABI
(C -> trampoline -> crosscall2 -> Go) and three with a planted bug each; the verdicts are the solver's.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from symabi.check import directives
from symabi.check.command import main as check_main
from symabi.cli import app

MODULE = Path(__file__).resolve().parent / "data" / "check" / "callback"
LINE = re.compile(r"^(?P<file>[^\s:]+\.s):(?P<line>\d+):(?P<col>\d+): (?P<name>\w+) \((?P<port>[\w/]+)\): "
                  r"(?P<what>[\w-]+(?:, [\w-]+)*): ")


def _run(args, cwd: Path, monkeypatch):
    monkeypatch.chdir(cwd)
    monkeypatch.delenv("SYMABI_DEBUG", raising=False)
    result = CliRunner().invoke(app, ["check", *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    return result


def _findings(output: str) -> dict[tuple[str, str], tuple[str, int]]:
    """(function, port) -> (what failed, line) for each first-level finding line."""
    out = {}
    for line in output.splitlines():
        m = LINE.match(line)
        if m:
            out.setdefault((m["name"], m["port"]), (m["what"], int(m["line"])))
    return out


def _line_of(path: Path, needle: str, after: str) -> int:
    lines = path.read_text().splitlines()
    start = next(i for i, l in enumerate(lines) if after in l)
    return next(i for i, l in enumerate(lines[start:], start) if needle in l) + 1


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    """One run over windows/amd64 and linux/amd64 of a copy of the module (the test may not write into the repo)."""
    root = tmp_path_factory.mktemp("check") / "callback"
    shutil.copytree(MODULE, root)
    mp = pytest.MonkeyPatch()
    try:
        result = _run(["--port", "windows/amd64", "--port", "linux/amd64"], root, mp)
    finally:
        mp.undo()
    return root, result


def test_correct_trampolines_are_proved_and_planted_bugs_refuted_naming_register_and_line(planted):
    root, result = planted
    assert result.exit_code == 1, result.output
    found = _findings(result.output)
    assert not any(name == "callbackTrampoline" for name, _ in found), result.output
    win, unix = root / "cb" / "cb_windows_amd64.s", root / "cb" / "cb_unix_amd64.s"
    expected = {
        ("callbackBadSaved", "windows/amd64"): ("preserve-rsi", _line_of(win, "RET", "·callbackBadSaved")),
        ("callbackBadAlign", "windows/amd64"): ("host-call-aligned", _line_of(win, "CALL", "·callbackBadAlign")),
        ("callbackBadFrame", "windows/amd64"): ("preserve-rbp", _line_of(win, "RET", "·callbackBadFrame")),
        ("callbackBadSaved", "linux/amd64"): ("preserve-r12", _line_of(unix, "RET", "·callbackBadSaved")),
        ("callbackBadAlign", "linux/amd64"): ("host-call-aligned", _line_of(unix, "CALL", "·callbackBadAlign")),
        ("callbackBadFrame", "linux/amd64"): ("preserve-rbp", _line_of(unix, "RET", "·callbackBadFrame")),
    }
    assert found == expected, result.output
    assert "R12 at return is RDI's value at entry" in result.output
    assert "\twitness: " in result.output and "\treplay: confirmed" in result.output
    assert "2 proved, 6 refuted" in result.stderr


def test_json_and_sarif(tmp_path, monkeypatch):
    root = tmp_path / "callback"
    shutil.copytree(MODULE, root)
    sarif = tmp_path / "out.sarif"
    result = _run(["--json", "--sarif", str(sarif), "./cb"], root, monkeypatch)
    assert result.exit_code == 1
    doc = json.loads(result.output)
    verdicts = {f["symbol"].rsplit(".", 1)[1]: f["verdict"] for f in doc["functions"]}
    assert verdicts == {"callbackTrampoline": "proved", "callbackBadSaved": "refuted",
                        "callbackBadAlign": "refuted", "callbackBadFrame": "refuted"}
    log = json.loads(sarif.read_text())
    rules = {r["ruleId"] for r in log["runs"][0]["results"] if r["level"] == "error"}
    assert {"preserve-rsi", "host-call-aligned", "preserve-rbp"} <= rules


def _module(tmp_path: Path, asm: str, go: str = "package p\n\nfunc f()\n", toml: str | None = None) -> Path:
    (tmp_path / "p").mkdir()
    (tmp_path / "go.mod").write_text("module example.com/t\n\ngo 1.21\n")
    (tmp_path / "p" / "p.go").write_text(go)
    (tmp_path / "p" / "p_amd64.s").write_text('#include "textflag.h"\n\n' + asm)
    if toml is not None:
        (tmp_path / "symabi.toml").write_text(toml)
    return tmp_path


def test_bad_input_is_one_line(tmp_path, monkeypatch):
    (tmp_path / "empty").mkdir()
    result = _run([], tmp_path / "empty", monkeypatch)
    assert result.exit_code == 2 and result.output.startswith("symabi: error: no go.mod in ")
    unmarked = _module(tmp_path / "unmarked", "TEXT ·f(SB),NOSPLIT,$0\n\tRET\n") if (tmp_path / "unmarked").mkdir() is None else None
    result = _run([], unmarked, monkeypatch)
    assert result.exit_code == 2 and "symabi: error: no function in ./... of example.com/t is marked" in result.output
    (tmp_path / "badkey").mkdir()
    bad = _module(tmp_path / "badkey", "//symabi:host-entry colour=red\nTEXT ·f(SB),NOSPLIT,$0\n\tRET\n")
    result = _run([], bad, monkeypatch)
    assert result.exit_code == 2
    assert re.match(r"symabi: error: \S+p_amd64\.s:3:1: unknown key 'colour' in //symabi:host-entry", result.output)
    assert len(result.output.strip().splitlines()) == 1


def test_directive_not_above_text_is_an_error(tmp_path):
    path = tmp_path / "x.s"
    path.write_text("//symabi:host-entry\n\nTEXT ·f(SB),NOSPLIT,$0\n\tRET\n")
    with pytest.raises(directives.DirectiveError, match=r"x\.s:1:1: .*not right above a TEXT line"):
        directives.marks(path, "p")
    path.write_text("// f is called by C.\n//symabi:host-entry world=w\n// more words\nTEXT ·f(SB),NOSPLIT,$16-24\n")
    (mark,) = directives.marks(path, "example.com/p")
    assert (mark.text.name, mark.text.args, mark.keys, mark.line) == ("example.com/p.f", 24, {"world": "w"}, 2)


def test_tls_and_outside_data_are_unknown_naming_what_to_declare(tmp_path, monkeypatch):
    asm = ("//symabi:host-entry\nTEXT ·f(SB),NOSPLIT|NOFRAME,$0\n\tMOVQ ·v(SB), AX\n\tRET\n\n"
           "//symabi:host-entry\nTEXT ·g(SB),NOSPLIT|NOFRAME,$0\n\tMOVQ (TLS), AX\n\tRET\n\n"
           "//symabi:host-call\nTEXT ·h(SB),NOSPLIT|NOFRAME,$0\n\tRET\n")
    root = _module(tmp_path, asm, "package p\n\nvar v uintptr\n\nfunc f()\nfunc g()\nfunc h()\n")
    result = _run(["--port", "linux/amd64"], root, monkeypatch)
    assert result.exit_code == 2, result.output
    assert 'f (linux/amd64): UNKNOWN: it reads example.com/t/p.v' in result.output
    assert '[worlds.NAME.data."example.com/t/p.v"] value = ' in result.output
    assert "g (linux/amd64): UNKNOWN: it reads thread-local storage (MOVQ at p/p_amd64.s:10)" in result.output
    assert "h (linux/amd64): UNKNOWN: the go-to-host contract is not available yet" in result.output


def test_symabi_toml_declares_the_world_and_marks_code(tmp_path, monkeypatch):
    asm = ("//symabi:host-entry world=w\nTEXT ·f(SB),NOSPLIT|NOFRAME,$0\n\tMOVQ ·v(SB), AX\n\tMOVQ (AX), AX\n\tRET\n\n"
           "TEXT ·g(SB),NOSPLIT|NOFRAME,$0\n\tMOVQ $0, BX\n\tRET\n")
    toml = ('[functions."example.com/t/p.g"]\nkind = "host-entry"\n\n'
            '[worlds.w.regions.obj]\nsize = 8\n\n[worlds.w.data."example.com/t/p.v"]\nvalue = "obj"\n')
    root = _module(tmp_path, asm, "package p\n\nvar v *uintptr\n\nfunc f()\nfunc g()\n", toml)
    result = _run(["--json"], root, monkeypatch)
    doc = json.loads(result.output)
    verdicts = {f["symbol"]: (f["verdict"], f["marked_at"].endswith("symabi.toml")) for f in doc["functions"]}
    assert verdicts == {"example.com/t/p.f": ("proved", False), "example.com/t/p.g": ("refuted", True)}, result.output
