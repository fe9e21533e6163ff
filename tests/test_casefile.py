"""Case files: every field checked, every bad one reported by its path in the file."""

from __future__ import annotations

import textwrap

import pytest

from symabi.casefile import list_cases, load_case, parse_case
from symabi.errors import CaseError

from conftest import CASES

VALID = """\
[case]
name = "demo"
summary = "a demo trampoline"
entry = "tramp"
contract = "windows-x64"
callee_model = "go-abi0"
package = "runtime/cgo"
defines = ["EXTRA"]

[entry_convention]
name = "windows-x64-call"
stack_args = 16

[[versions]]
name = "old"
source = "old/t.s"
revision = "r1"
deviations = ["none really"]

[[versions]]
name = "new"
source = "new/t.s"
revision = "r2"
includes = ["inc"]

[callees."runtime.foo"]
args = 24
results = 8
doc = "func foo(a, b, c uintptr) uintptr"

[callees."runtime.abort"]
noreturn = true
"""


def _folder(tmp_path, text: str = VALID, name: str = "demo"):
    folder = tmp_path / name
    for sub in ("old", "new", "inc"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    (folder / "old" / "t.s").write_text("")
    (folder / "new" / "t.s").write_text("")
    (folder / "case.toml").write_text(text)
    return folder


def test_valid_case(tmp_path):
    folder = _folder(tmp_path)
    case = parse_case(folder)
    assert (case.name, case.summary, case.entries, case.entry) == ("demo", "a demo trampoline", ("tramp",), "tramp")
    assert (case.contract, case.callee_model, case.package, case.defines) == (
        "windows-x64", "go-abi0", "runtime/cgo", ("EXTRA",))
    assert (case.entry_convention.name, case.entry_convention.stack_args) == ("windows-x64-call", 16)
    old, new = case.versions
    assert (old.name, old.source, old.revision, old.deviations) == ("old", folder / "old/t.s", "r1", ("none really",))
    assert old.include_dirs == (folder / "old",)  # default: the source's folder
    assert new.include_dirs == (folder / "inc",) and new.deviations == ()
    assert case.newest is new and case.version("old") is old
    foo, abort = case.callees["runtime.foo"], case.callees["runtime.abort"]
    assert (foo.name, foo.args, foo.results, foo.noreturn) == ("runtime.foo", 24, 8, False)
    assert (abort.args, abort.results, abort.noreturn) == (0, 0, True)


def test_defaults(tmp_path):
    folder = _folder(tmp_path, textwrap.dedent("""\
        [case]
        name = "demo"
        entry = "tramp"
        [[versions]]
        name = "new"
        source = "new/t.s"
        revision = "r"
        """))
    case = parse_case(folder)
    assert (case.contract, case.callee_model, case.package, case.callees) == ("windows-x64", "go-abi0", None, {})
    assert (case.entry_convention.name, case.entry_convention.stack_args) == ("windows-x64-call", 0)


def test_shipped_crosscall2():
    case = parse_case(CASES / "crosscall2")
    assert case.entries == ("crosscall2",) and case.package == "runtime/cgo"
    assert [v.name for v in case.versions] == ["old", "new"]
    assert all(v.source.is_file() for v in case.versions)
    assert case.callees["runtime.cgocallback"].args == 24
    assert "crosscall2" in list_cases(CASES)


def _bad(tmp_path, old: str, new: str) -> str:
    assert VALID.count(old) == 1, old
    with pytest.raises(CaseError) as info:
        parse_case(_folder(tmp_path, VALID.replace(old, new)))
    return str(info.value)


@pytest.mark.parametrize(
    "old, new, field, says",
    [
        ('entry = "tramp"\n', "", "case.entry", "missing field"),
        ('name = "demo"\n', "", "case.name", "missing field"),
        ('entry = "tramp"', "entry = []", "case.entry", "non-empty list"),
        ('entry = "tramp"', "entry = 3", "case.entry", "must be str or list"),
        ("args = 24", 'args = "24"', "callees.runtime.foo.args", "must be int"),
        ("args = 24", "args = true", "callees.runtime.foo.args", "must be int"),
        ("args = 24", "args = -8", "callees.runtime.foo.args", "must not be negative"),
        ("noreturn = true", 'noreturn = "yes"', "callees.runtime.abort.noreturn", "must be bool"),
        ("results = 8", "result = 8", "callees.runtime.foo.result", "unknown field"),
        ('summary = "a demo trampoline"', 'sumary = "typo"', "case.sumary", "unknown field"),
        ("stack_args = 16", "stack_arg = 16", "entry_convention.stack_arg", "unknown field"),
        ("[entry_convention]", "[entry_conventions]", "entry_conventions", "unknown field"),
        ('revision = "r1"', 'revison = "r1"', "versions[0].revison", "unknown field"),
        ('source = "new/t.s"', 'source = "new/missing.s"', "versions[1].source", "does not exist"),
        ('revision = "r2"\n', "", "versions[1].revision", "missing field"),
        ('includes = ["inc"]', 'includes = ["nope"]', "versions[1].includes", "not a folder"),
        ('deviations = ["none really"]', "deviations = [1]", "versions[0].deviations", "list of strings"),
        ('name = "new"', 'name = "old"', "versions", "repeats a version name"),
        ('defines = ["EXTRA"]', 'defines = "EXTRA"', "case.defines", "must be list"),
        ("results = 8", 'results = 8\nreturns_region = "errno"', "callees.runtime.foo.returns_region",
         "host callees only"),
    ],
)
def test_bad_field_is_named(tmp_path, old, new, field, says):
    message = _bad(tmp_path, old, new)
    assert f"`{field}`" in message and says in message
    assert str(tmp_path / "demo" / "case.toml") in message


def test_returns_region_on_a_host_callee(tmp_path):
    """The same field is honoured where the callee is host code (the case's host model)."""
    text = VALID.replace('callee_model = "go-abi0"', 'callee_model = "host"').replace(
        "results = 8", 'results = 8\nreturns_region = "errno"')
    case = parse_case(_folder(tmp_path, text))
    assert case.callees["runtime.foo"].returns_region == "errno"


def test_no_versions(tmp_path):
    text = VALID[: VALID.index("[[versions]]")]
    with pytest.raises(CaseError, match=r"missing field `versions`"):
        parse_case(_folder(tmp_path, text))


def test_bad_toml(tmp_path):
    with pytest.raises(CaseError, match=r"case\.toml: not valid TOML: .*line 3"):
        parse_case(_folder(tmp_path, '[case]\nname = "demo"\nentry = tramp\n'))


def test_missing_case_file(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(CaseError, match=r"case\.toml: cannot read"):
        parse_case(tmp_path / "empty")


def test_unknown_case_lists_the_known_ones(tmp_path):
    _folder(tmp_path, name="alpha")
    _folder(tmp_path, name="beta")
    (tmp_path / "not-a-case").mkdir()  # no case.toml: not listed
    assert list_cases(tmp_path) == ["alpha", "beta"]
    with pytest.raises(CaseError, match=r"unknown case 'gamma' .*known cases: alpha, beta\)"):
        load_case(tmp_path, "gamma")
    assert load_case(tmp_path, "beta").name == "demo"


def test_missing_cases_folder(tmp_path):
    with pytest.raises(CaseError, match="does not exist"):
        load_case(tmp_path / "nowhere", "crosscall2")


def test_unknown_version_lists_the_versions(tmp_path):
    case = parse_case(_folder(tmp_path))
    with pytest.raises(CaseError, match=r"no version 'newer' \(it has: old, new\)"):
        case.version("newer")


@pytest.mark.slow
@pytest.mark.parametrize(
    "old, new, field",
    [
        ('contract = "windows-x64"', 'contract = "sysv"', "case.contract"),
        ('callee_model = "go-abi0"', 'callee_model = "c"', "case.callee_model"),
        ('name = "windows-x64-call"', 'name = "riscv-call"', "entry_convention.name"),
    ],
)
def test_unknown_model_names_the_field(tmp_path, toolchain, old, new, field):
    from symabi.prover import prove_case

    case = parse_case(_folder(tmp_path, VALID.replace(old, new)))
    with pytest.raises(CaseError) as info:
        prove_case(case, toolchain)
    assert f"`{field}`" in str(info.value) and "known:" in str(info.value)
