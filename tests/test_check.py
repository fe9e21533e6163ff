"""symabi check: a module's marked trampolines, checked like go vet checks Go (docs/check.md).

The module under tests/data/check/callback has one correct callback trampoline per host ABI (amd64 and
arm64; C -> trampoline -> crosscall2 -> Go) and three with a planted bug each; the verdicts are the solver's.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from symabi.check import directives
from symabi.cli import app

MODULE = Path(__file__).resolve().parent / "data" / "check" / "callback"
LINE = re.compile(r"^(?P<file>[^\s:]+\.s):(?P<line>\d+):(?P<col>\d+): (?P<name>\w+) \((?P<port>[\w/]+)\): "
                  r"(?P<what>[\w.-]+(?:,[\w.-]+)*): ")


def _run(args, cwd: Path, monkeypatch):
    monkeypatch.chdir(cwd)
    monkeypatch.delenv("SYMABI_DEBUG", raising=False)
    result = CliRunner().invoke(app, ["check", *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    return result


def _findings(output: str) -> dict[tuple[str, str], set[tuple[str, int]]]:
    """(function, port) -> {(what failed, line)} over the first-level finding lines."""
    out: dict = {}
    for line in output.splitlines():
        m = LINE.match(line)
        if m:
            out.setdefault((m["name"], m["port"]), set()).add((m["what"], int(m["line"])))
    return out


def _line_of(path: Path, needle: str, after: str) -> int:
    lines = path.read_text().splitlines()
    start = next(i for i, l in enumerate(lines) if after in l)
    return next(i for i, l in enumerate(lines[start:], start) if needle in l) + 1


SUMMARY = re.compile(r"^# symabi check \S+: (?P<n>\d+) function checks on (?P<ports>.+): (?P<proved>\d+) proved, "
                     r"(?P<refuted>\d+) refuted$", re.M)


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    """One run over every port (``--ports all``) of a copy of the module (the test may not write into the repo)."""
    root = tmp_path_factory.mktemp("check") / "callback"
    shutil.copytree(MODULE, root)
    mp = pytest.MonkeyPatch()
    try:
        result = _run(["./...", "--ports", "all"], root, mp)
    finally:
        mp.undo()
    return root, result


def _expected(root: Path, port: str) -> dict[str, tuple[str, int]]:
    """function -> (the obligation its planted bug breaks, the line it is reported at) on ``port``."""
    goos, goarch = port.split("/")
    if goarch == "arm64":
        path, saved, frame = root / "cb" / "cb_arm64.s", "preserve-x19", "preserve-x29"
    elif goos == "windows":
        path, saved, frame = root / "cb" / "cb_windows_amd64.s", "preserve-rsi", "preserve-rbp"
    else:
        path, saved, frame = root / "cb" / "cb_unix_amd64.s", "preserve-r12", "preserve-rbp"
    out = {"callbackBadSaved": (saved, _line_of(path, "RET", "·callbackBadSaved")),
           "callbackBadAlign": ("sp-aligned-at-call" if goarch == "arm64" else "host-call-aligned",
                                _line_of(path, "BL" if goarch == "arm64" else "CALL", "·callbackBadAlign")),
           "callbackBadFrame": (frame, _line_of(path, "RET", "·callbackBadFrame"))}
    if port == "windows/amd64":
        out["callbackBadHome"] = ("host-call-home-area", _line_of(path, "CALL", "·callbackBadHome"))
    return out


def test_correct_trampolines_are_proved_and_planted_bugs_refuted_naming_register_and_line(planted):
    """Done-when of issue 14: `symabi check ./... --ports all` over a module with one callback trampoline
    per host ABI (amd64 System V and Windows, arm64 AAPCS64 with its darwin and windows variants)."""
    root, result = planted
    assert result.exit_code == 1, result.output
    summary = SUMMARY.search(result.stderr)
    assert summary, result.stderr
    ports = summary["ports"].split(", ")
    assert {"linux/amd64", "windows/amd64", "darwin/amd64", "linux/arm64", "darwin/arm64", "windows/arm64"} <= set(ports)
    found = _findings(result.output)
    assert not any(name == "callbackTrampoline" for name, _ in found), result.output
    expected = {(name, port): finding for port in ports for name, finding in _expected(root, port).items()}
    assert set(found) == set(expected), result.output
    for key, finding in expected.items():
        assert finding in found[key], (key, found[key])
    # the bugs are these and only these: one obligation each (the missing home area also lets crosscall2
    # overwrite the saved BP and the return address, which is said too)
    assert all(len(found[k]) == 1 for k in expected if k[0] != "callbackBadHome"), found
    assert (int(summary["proved"]), int(summary["refuted"])) == (len(ports), len(expected))
    assert "R12 at return is RDI's value at entry" in result.output
    assert "X19 at return is the entry value x0" in result.output
    assert "\twitness: " in result.output and "\treplay: confirmed" in result.output
    assert "\treplay: not" not in result.output


def test_json_and_sarif(tmp_path, monkeypatch):
    root = tmp_path / "callback"
    shutil.copytree(MODULE, root)
    sarif = tmp_path / "out.sarif"
    result = _run(["--json", "--sarif", str(sarif), "./cb"], root, monkeypatch)
    assert result.exit_code == 1
    doc = json.loads(result.output)
    verdicts = {f["symbol"].rsplit(".", 1)[1]: f["verdict"] for f in doc["functions"]}
    assert verdicts == {"callbackTrampoline": "proved", "callbackBadSaved": "refuted", "callbackBadAlign": "refuted",
                        "callbackBadFrame": "refuted", "callbackBadHome": "refuted"}
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
    (tmp_path / "unmarked").mkdir()
    unmarked = _module(tmp_path / "unmarked", "TEXT ·f(SB),NOSPLIT,$0\n\tRET\n")
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
           "//symabi:host-call stack=system\nTEXT ·h(SB),NOSPLIT|NOFRAME,$0\n\tRET\n")
    root = _module(tmp_path, asm, "package p\n\nvar v uintptr\n\nfunc f()\nfunc g()\nfunc h()\n")
    result = _run(["--port", "linux/amd64"], root, monkeypatch)
    assert result.exit_code == 2, result.output
    assert 'f (linux/amd64): UNKNOWN: it reads example.com/t/p.v' in result.output
    assert '[worlds.NAME.data."example.com/t/p.v"] value = ' in result.output
    assert "g (linux/amd64): UNKNOWN: it reads thread-local storage (MOVQ at p/p_amd64.s:10)" in result.output
    assert "h (linux/amd64)" not in result.output  # a host-call function: checked with go-to-host, and proved


def test_symabi_toml_declares_the_world_and_marks_code(tmp_path, monkeypatch):
    asm = ("//symabi:host-entry world=w\nTEXT ·f(SB),NOSPLIT|NOFRAME,$0\n"
           "\tMOVQ ·v(SB), AX\n\tMOVQ (AX), AX\n\tRET\n\nTEXT ·g(SB),NOSPLIT|NOFRAME,$0\n\tMOVQ $0, BX\n\tRET\n")
    toml = ('[functions."example.com/t/p.g"]\nkind = "host-entry"\n\n'
            '[worlds.w.regions.obj]\nsize = 8\n\n[worlds.w.data."example.com/t/p.v"]\nvalue = "obj"\n')
    root = _module(tmp_path, asm, "package p\n\nvar v *uintptr\n\nfunc f()\nfunc g()\n", toml)
    result = _run(["--json"], root, monkeypatch)
    doc = json.loads(result.output)
    verdicts = {f["symbol"]: (f["verdict"], f["marked_at"].endswith("symabi.toml")) for f in doc["functions"]}
    assert verdicts == {"example.com/t/p.f": ("proved", False), "example.com/t/p.g": ("refuted", True)}, result.output


CLOSURE_WORLD = """
[worlds.closure.regions.funcval]
size = 8
doc = "the func value the variable points to; its first word is the code"
[worlds.closure.regions.fn]
size = 1
[[worlds.closure.fields]]
at = "funcval+0"
values = ["fn"]
[worlds.closure.data."example.com/t/p.entry_call"]
value = "funcval"

[callees."world.fn"]
args = 0
doc = "the Go function the func value holds: Go code, which may clobber every register"
"""
THREAD_START = """//symabi:host-entry world=closure
TEXT ·{name}(SB),NOSPLIT|NOFRAME,$0
{save}	MOVQ	DI, AX
	MOVQ	·entry_call(SB), R11
	MOVQ	(R11), R11
	CALL	R11
{restore}	RET
"""
SAVE = "".join(f"\tPUSHQ\t{r}\n" for r in ("BX", "BP", "R12", "R13", "R14", "R15"))
RESTORE = "".join(f"\tPOPQ\t{r}\n" for r in ("R15", "R14", "R13", "R12", "BP", "BX"))


def test_a_callee_reached_through_a_go_variable_is_declared_by_the_world(tmp_path, monkeypatch):
    """A C thread-start routine calls Go through a func value kept in a package variable (the shape of
    cgo-free runtimes' threadentry trampolines): without the saves it is refuted, with them proved."""
    asm = THREAD_START.format(name="before", save="", restore="") + "\n" + \
        THREAD_START.format(name="after", save="\tSUBQ\t$8, SP\n" + SAVE, restore=RESTORE + "\tADDQ\t$8, SP\n")
    root = _module(tmp_path, asm, "package p\n\nvar entry_call uintptr\n\nfunc before()\nfunc after()\n", CLOSURE_WORLD)
    result = _run(["--port", "linux/amd64", "--json"], root, monkeypatch)
    doc = json.loads(result.output)
    verdicts = {f["symbol"].rsplit(".", 1)[1]: f["verdict"] for f in doc["functions"]}
    assert verdicts == {"before": "refuted", "after": "proved"}, result.output
    before = next(f for f in doc["functions"] if f["symbol"].endswith("before"))
    assert any("preserve-rbx" in line and "world.fn" in text for line in before["findings"][:1]
               for text in before["findings"]), before["findings"]


def test_callback_table_on_system_v_and_symabi_toml_errors(tmp_path, monkeypatch):
    """The host CALLs an entry of a table of CALLs (purego's callbackasm shape); the trampoline pops the
    entry's return address and returns to the host straight away."""
    asm = ("//symabi:host-entry convention=sysv-callbackasm-table\nTEXT ·cbasm1(SB),NOSPLIT|NOFRAME,$0\n"
           "\tMOVQ\t0(SP), AX\n\tADDQ\t$8, SP\n\tMOVQ\t$·cbtable(SB), DX\n\tSUBQ\tDX, AX\n\tRET\n")
    toml = ('[functions."example.com/t/p.cbasm1".entry_convention]\ntable = "example.com/t/p.cbtable"\n'
            'stride = 5\ntable_entries = 100\n')
    root = _module(tmp_path, asm, "package p\n\nfunc cbasm1()\n", toml)
    result = _run(["--port", "linux/amd64"], root, monkeypatch)
    assert result.exit_code == 0, result.output
    (root / "symabi.toml").write_text(toml + '\n[functions."example.com/t/p.nothere"]\n')
    result = _run(["--port", "linux/amd64"], root, monkeypatch)
    assert result.exit_code == 2
    assert re.match(r'symabi: error: \S+symabi\.toml: \[functions\."example\.com/t/p\.nothere"\] names no TEXT symbol',
                    result.output), result.output


def test_a_world_region_may_not_take_the_provers_own_names(tmp_path, monkeypatch):
    asm = "//symabi:host-entry world=w\nTEXT ·f(SB),NOSPLIT|NOFRAME,$0\n\tRET\n"
    root = _module(tmp_path, asm, toml="[worlds.w.regions.code]\nsize = 8\n")
    result = _run(["--port", "linux/amd64"], root, monkeypatch)
    assert result.exit_code == 2
    assert "field `world.regions.code`: 'code' is reserved" in result.output


CALL_C = """//symabi:host-call stack=system
TEXT ·{name}(SB),NOSPLIT|NOFRAME,$0-24
	MOVQ	fn+0(FP), AX
	MOVQ	arg+8(FP), DI
	MOVQ	DI, CX
	PUSHQ	BP
	MOVQ	SP, BP
{align}	CALL	AX
	MOVQ	BP, SP
	POPQ	BP
	MOVQ	AX, ret+16(FP)
	RET
"""
CALL_C_ARM64 = """#include "textflag.h"

//symabi:host-call stack=system
TEXT ·callC(SB),NOSPLIT|NOFRAME,$0-24
	MOVD	fn+0(FP), R9
	MOVD	arg+8(FP), R0
	BL	(R9)
	MOVD	R0, ret+16(FP)
	RET
"""


def test_host_call_stubs_are_checked_with_the_go_to_host_contract(tmp_path, monkeypatch):
    """A Go -> C call stub (Go calls it with ABI0, it calls the C function its first argument points to):
    aligned and with a home area it is proved on System V and Windows; without the ANDQ the call is
    misaligned; without the SUBQ the Windows home area overlaps the Go caller's frame; one that also calls
    Go is not modelled; arm64 has no go-to-host contract yet. All UNKNOWNs say why."""
    asm = "\n".join([CALL_C.format(name="callC", align="\tANDQ\t$~15, SP\n\tSUBQ\t$32, SP\n"),
                     CALL_C.format(name="callUnaligned", align="\tSUBQ\t$40, SP\n"),
                     CALL_C.format(name="callNoHome", align="\tANDQ\t$~15, SP\n"),
                     "//symabi:host-call\nTEXT ·callGo(SB),NOSPLIT|NOFRAME,$0-0\n\tCALL\t·goFunc(SB)\n\tRET\n"])
    go = ("package p\n\nfunc callC(fn, arg uintptr) uintptr\nfunc callUnaligned(fn, arg uintptr) uintptr\n"
          "func callNoHome(fn, arg uintptr) uintptr\nfunc callGo()\nfunc goFunc() {}\n")
    root = _module(tmp_path, asm, go)
    (root / "p" / "p_arm64.s").write_text(CALL_C_ARM64)
    result = _run(["--port", "linux/amd64", "--port", "windows/amd64", "--port", "linux/arm64"], root, monkeypatch)
    found = _findings(result.output)
    path = root / "p" / "p_amd64.s"
    assert not any(name == "callC" and port.endswith("amd64") for name, port in found), result.output
    for port in ("linux/amd64", "windows/amd64"):
        assert ("host-stack-aligned-at-call", _line_of(path, "CALL", "·callUnaligned")) in found[("callUnaligned", port)]
    assert ("home-area-at-call", _line_of(path, "CALL", "·callNoHome")) in found[("callNoHome", "windows/amd64")]
    assert ("callNoHome", "linux/amd64") not in found, result.output
    assert ("callGo (linux/amd64): UNKNOWN: it calls example.com/t/p.goFunc, Go code: the go-to-host contract "
            "models every callee as host code") in result.output
    # the arm64 stub BLs without saving X30, which the host may clobber: its RET goes where the host left X30
    # (the replay takes the witness's X30 for the callee the argument word names, even where fn = arg);
    # and it BLs with SP = entry SP, so the C callee's frame covers the Go caller's saved FP at entry SP-8
    assert re.search(r"callC \(linux/arm64\): (return-to-caller|stack-writes-in-go-frame)", result.output), \
        result.output
    assert result.exit_code == 1


THIRD_PARTY = Path(__file__).resolve().parent / "data" / "check"


def _obligations(found, name: str, port: str) -> set[str]:
    return {ob for what, _ in found.get((name, port), ()) for ob in _expand(what)}


def _expand(what: str) -> list[str]:
    """"preserve-r12,r14..r15" -> ["preserve-r12", "preserve-r14", "preserve-r15"]: the report joins the
    registers of one finding, and writes a run of them as a range."""
    family, _, first = what.rpartition("-")
    out = []
    for part in [first, *what.split(",")[1:]] if "," in what else [first]:
        part = part.split(",")[0]
        lo, _, hi = part.partition("..")
        if hi:
            stem = lo.rstrip("0123456789")
            out += [f"{family}-{stem}{n}" for n in range(int(lo[len(stem):]), int(hi[len(stem):]) + 1)]
        else:
            out.append(f"{family}-{part}")
    return out


def host_abi_marks(root: Path) -> Path:
    """A copy's symabi.toml without ``contract = "signal-handler"``: the handlers judged by the port's host-entry
    contract, as a C handler chaining to them with a plain call needs (tests/test_signal_handler.py judges them
    as the kernel enters them)."""
    toml = root / "symabi.toml"
    toml.write_text("".join(line for line in toml.read_text().splitlines(True)
                            if not line.startswith('contract = "signal-handler"')))
    return root


def test_real_third_party_trampolines(tmp_path, monkeypatch):
    """gVisor's signal handlers (safecopy, the KVM platform's bluepill) and x/sys's darwin libc trampolines,
    unchanged, as Debian 12 ships them (tests/data/check/*/README.md), marked by their symabi.toml, gVisor's
    here with the port's host-entry contract."""
    gvisor = tmp_path / "gvisor"
    shutil.copytree(THIRD_PARTY / "gvisor", gvisor)
    host_abi_marks(gvisor)
    result = _run(["./...", "--port", "linux/amd64", "--port", "linux/arm64"], gvisor, monkeypatch)
    assert result.exit_code == 1, result.output
    found = _findings(result.output)
    assert ("signalHandler", "linux/amd64") not in found, result.output  # proved
    assert _obligations(found, "signalHandler", "linux/arm64") == {"preserve-x27"}, found
    amd64 = _obligations(found, "sighandler", "linux/amd64")
    assert {"preserve-rbx", "preserve-r12", "preserve-r15", "return-to-caller"} <= amd64, result.output
    assert "preserve-rbp" not in amd64, found  # the prologue's PUSHQ BP / POPQ BP keeps it
    arm64 = _obligations(found, "sighandler", "linux/arm64")
    assert {"preserve-x19", "preserve-x27", "preserve-x29", "preserve-d8"} <= arm64, found
    assert "3 refuted" in result.stderr and "1 proved" in result.stderr, result.stderr
    assert "\treplay: not" not in result.output
    # the bug gVisor's next snapshot fixed: built by a Go of 1.21 or later, `NOSPLIT,$0` gets a frame-pointer
    # prologue, and the fallback path jumps to the previous handler with BP pushed (gvisor-20240729/README.md)
    jump = _line_of(gvisor / "pkg/sentry/platform/kvm/bluepill_impl_amd64.s", "JMP AX", "·sighandler")
    assert {("return-to-caller", jump), ("host-call-aligned", jump)} <= found[("sighandler", "linux/amd64")], found

    fixed = tmp_path / "gvisor-20240729"
    shutil.copytree(THIRD_PARTY / "gvisor-20240729", fixed)
    host_abi_marks(fixed)
    result = _run(["--port", "linux/amd64"], fixed, monkeypatch)
    assert result.exit_code == 1, result.output
    found = _findings(result.output)
    after = _obligations(found, "sighandler", "linux/amd64")
    assert after and all(ob.startswith("preserve-") for ob in after), result.output  # only the Go callee's path
    assert {"preserve-rbx", "preserve-r12", "preserve-r15"} <= after, after
    ret = _line_of(fixed / "pkg/sentry/platform/kvm/bluepill_amd64.s", "RET", "·sighandler")
    assert {line for _, line in found[("sighandler", "linux/amd64")]} == {ret}, found
    assert "\treplay: not" not in result.output

    xsys = tmp_path / "xsys"
    shutil.copytree(THIRD_PARTY / "xsys", xsys)
    result = _run(["--port", "darwin/amd64", "--port", "darwin/arm64"], xsys, monkeypatch)
    assert result.exit_code == 0, result.output
    assert "4 function checks on darwin/amd64, darwin/arm64: 4 proved" in result.stderr, result.stderr


def test_purego_trampolines(tmp_path, monkeypatch):
    """purego v0.11.3's C-facing trampolines, unchanged, as Debian ships them (tests/data/check/purego).
    fakecgo: the thread start routine saves the callee-saved registers (purego's fix of 2025) and is proved
    on amd64; on arm64 its assembler-made frame keeps the C caller's FP below SP; the Go -> C stub call5 is
    proved on amd64 and, framed on arm64, loses the Go caller's FP to the C callee; a tail jump into Go
    keeps none. The root package: the callback trampoline is proved on arm64 and, on amd64, calls
    crosscall2 8 bytes off alignment (its callbackArgs grew to 48 bytes) after spilling R9 into the host's
    return-address slot; syscallX uses R12 (amd64) and its frame keeps FP below SP (arm64)."""
    root = tmp_path / "purego"
    shutil.copytree(THIRD_PARTY / "purego", root)
    result = _run(["--port", "linux/amd64", "--port", "linux/arm64"], root, monkeypatch)
    assert result.exit_code == 1, result.output
    found = _findings(result.output)
    for name, port in (("threadentry_trampoline", "linux/amd64"), ("call5", "linux/amd64"),
                       ("callbackasm1", "linux/arm64")):
        assert (name, port) not in found, result.output  # proved
    fakecgo = root / "internal" / "fakecgo" / "trampolines_arm64.s"
    sys_amd64, sys_arm64 = root / "sys_amd64.s", root / "sys_arm64.s"
    assert found[("threadentry_trampoline", "linux/arm64")] == {
        ("preserve-x29", _line_of(fakecgo, "RET", "threadentry_trampoline(SB)"))}, found
    assert found[("call5", "linux/arm64")] == {("preserve-x29", _line_of(fakecgo, "RET", "·call5(SB)"))}, found
    assert found[("callbackasm1", "linux/amd64")] == {
        ("stack-writes-below-entry-rsp", _line_of(sys_amd64, "MOVQ  R9, (14*8)(SP)", "callbackasm1(SB)")),
        ("host-call-aligned", _line_of(sys_amd64, "CALL crosscall2(SB)", "callbackasm1(SB)"))}, found
    assert found[("syscallX", "linux/amd64")] == {("preserve-r12", _line_of(sys_amd64, "RET", "syscallX(SB)"))}
    assert found[("syscallX", "linux/arm64")] == {("preserve-x29", _line_of(sys_arm64, "RET", "syscallX(SB)"))}
    amd64 = _obligations(found, "x_cgo_notify_runtime_init_done_trampoline", "linux/amd64")
    assert {f"preserve-{r}" for r in ("rbx", "rbp", "r12", "r13", "r14", "r15")} == amd64, found
    assert {"preserve-x19", "preserve-x29", "preserve-d8"} <= _obligations(
        found, "x_cgo_notify_runtime_init_done_trampoline", "linux/arm64"), found
    assert "10 function checks on linux/amd64, linux/arm64: 3 proved, 7 refuted" in result.stderr, result.stderr
    assert "\treplay: not" not in result.output


def test_purego_fix_flips_refuted_to_proved(tmp_path, monkeypatch):
    """purego's own fix of a callee-saved bug (its pull request #347): before it, the thread start routine
    called Go with nothing saved and returned to glibc with what Go left in RBX, R12-R15 (REFUTED, the
    witness replayed); v0.11.3, after it, is proved (test_purego_trampolines)."""
    root = tmp_path / "purego-2893657"
    shutil.copytree(THIRD_PARTY / "purego-2893657", root)
    result = _run(["--port", "linux/amd64"], root, monkeypatch)
    assert result.exit_code == 1, result.output
    source = root / "internal" / "fakecgo" / "trampolines_amd64.s"
    ret = _line_of(source, "RET", "threadentry_trampoline(SB)")
    found = _findings(result.output)
    assert {line for _, line in found[("threadentry_trampoline", "linux/amd64")]} == {ret}, result.output
    assert _obligations(found, "threadentry_trampoline", "linux/amd64") == {
        f"preserve-{r}" for r in ("rbx", "r12", "r13", "r14", "r15")}, result.output
    assert "replay: confirmed" in result.output, result.output


def test_arm64_replay_tells_the_callee_from_the_caller_whatever_addresses_the_witness_shares(tmp_path, monkeypatch):
    """The arm64 go-to-host oracle hands control to the callee an argument word names even where the
    witness gives the function pointer the value of the other argument (two names for one address: the
    one the witness names wins) or of the caller's return address (a BL there is a call, not a return)."""
    from dataclasses import replace

    from symabi.check import run
    from symabi.loader import lay_out_for
    from symabi.ports import PORTS
    from symabi.replay.confirm import setups_for_case
    from symabi.verdicts import CONFIRMED

    root = _module(tmp_path, "", "package p\n\nfunc callC(fn, arg uintptr) uintptr\n")
    (root / "p" / "p_amd64.s").unlink()
    (root / "p" / "p_arm64.s").write_text(CALL_C_ARM64)
    seen = []
    prove = run.prove_case
    monkeypatch.setattr(run, "prove_case", lambda case, *a, **k: seen.append((case, k["listings"])) or
                        prove(case, *a, **k))
    checked = run.check(root, ports=("linux/arm64",)).checked
    (case, listings), = seen
    (version,) = checked[0].result.versions
    violation = next(v for v in version.violations if v.obligation == "return-to-caller")
    assert violation.replay == CONFIRMED
    (setup,) = setups_for_case(case, lay_out_for(listings[run.VERSION], PORTS["linux/arm64"]))
    ret = violation.inputs["entry.x30"]
    for fn in (violation.inputs.get("init.stack+0x10", "0x10000"), ret):
        shared = {**violation.inputs, "init.stack+0x8": fn, "init.stack+0x10": fn}
        assert setup.confirm(replace(violation, inputs=shared)) == CONFIRMED, fn


# A pointer the code selected with CMOV, If(SI == 0, &8(SP), &0(SP)), handed to a C function: the function may
# write through it onto the saved RBX. The host callee model writes through both alternatives, and the verdict
# is not PROVED (the unicorn replay's callee writes nothing, so the refutation stays UNKNOWN). Before, such a
# pointer was one the model could not place: UNKNOWN too, and a CSEL'd tail call (gVisor's arm64 safecopy
# handler) could not be proved even where nothing was written that matters.
CMOV_POINTER = """//symabi:host-entry
TEXT ·cmovPtr(SB),NOSPLIT|NOFRAME,$0
	SUBQ	$24, SP
	MOVQ	BX, 0(SP)
	LEAQ	0(SP), AX
	LEAQ	8(SP), CX
	TESTQ	SI, SI
	CMOVQEQ	CX, AX
	MOVQ	DI, DX
	MOVQ	AX, DI
	CALL	DX
	MOVQ	0(SP), BX
	ADDQ	$24, SP
	RET
"""


def test_a_callee_writes_through_either_pointer_a_cmov_selected(tmp_path, monkeypatch):
    from test_redteam import _check, _module

    root = _module(tmp_path / "m", "func cmovPtr()\n", {"p_amd64.s": CMOV_POINTER},
                   '[callees."entry.rdi"]\nhost = true\nargs = 0\n')  # no stack arguments: the pointer is what is judged
    record = _check(root, ("linux/amd64",), monkeypatch)[("cmovPtr", "linux/amd64")]
    assert record["verdict"] != "proved", record
    assert any(": preserve-rbx: " in f for f in record["findings"]), record
