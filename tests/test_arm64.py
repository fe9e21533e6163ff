"""arm64: the port data, the loader's relocations, the CPU gaps and crosscall2 on linux/arm64 (real
assembler, angr's AArch64 lifter, Z3), with broken variants."""

from __future__ import annotations

import capstone
import pytest

from symabi.casefile import parse_case
from symabi.contracts import CONTRACTS
from symabi.engine import cpu_arm64
from symabi.frontend import AssembleRequest, assemble
from symabi.loader import lay_out
from symabi.ports import ARM64, PORTS
from symabi.prover import prove_case
from symabi.verdicts import Verdict

from conftest import CASES, REPO, mutate, write_asm, write_case

ARM64_PORTS = ("linux", "freebsd", "netbsd", "openbsd", "darwin", "ios", "windows")


def test_arm64_ports_are_data():
    for goos in ARM64_PORTS:
        port = PORTS[f"{goos}/arm64"]
        assert port.arch is ARM64 and port.abi is not None and port.contract in CONTRACTS
    assert ARM64.link_register == "x30" and ARM64.return_slot == 0
    assert ARM64.register("d8").within == "v8" and ARM64.width("d8") == 64
    aapcs = PORTS["linux/arm64"].abi
    assert aapcs.callee_saved_registers == (*(f"x{i}" for i in range(19, 30)), *(f"d{i}" for i in range(8, 16)))
    assert aapcs.reserved == () and PORTS["darwin/arm64"].abi.reserved == ("x18",)
    assert PORTS["windows/arm64"].abi.reserved == ("x18",)
    ids = {o.id for o in CONTRACTS["darwin-arm64"].obligations}
    assert {"preserve-x19", "preserve-x29", "preserve-d15", "restore-sp", "return-to-caller", "x18-untouched",
            "x28-g-at-abiinternal-call", "stack-writes-below-entry-sp", "no-fault"} <= ids
    assert "x18-untouched" not in {o.id for o in CONTRACTS["aapcs64"].obligations}


def _listing(tmp_path, toolchain, body, goos="linux"):
    source = write_asm(tmp_path / "asm", body)
    return assemble(toolchain, AssembleRequest(source, (source.parent,), (), "x", goos, "arm64"))


def test_arm64_relocations_are_resolved(tmp_path, toolchain):
    listing = _listing(tmp_path, toolchain, """
        TEXT ·f(SB),NOSPLIT|NOFRAME,$0
        \tMOVD\t·v(SB), R1
        \tMOVD\t$·v(SB), R2
        \tBL\t·g(SB)
        \tRET
        GLOBL ·v(SB), NOPTR, $8
        """)
    image = lay_out(listing, None, ARM64)
    f, v, g = image.symbols["x.f"], image.symbols["x.v"], image.stub_for("x.g")
    md = capstone.Cs(capstone.CS_ARCH_ARM64, capstone.CS_MODE_ARM)
    ins = list(md.disasm(image.code[f - image.base:][:24], f))
    texts = [(i.mnemonic, i.op_str) for i in ins]
    page = v & ~0xFFF
    assert texts[0] == ("adrp", f"x27, #{page:#x}") and texts[1][0] == "ldr" and f"#{v - page:#x}" in texts[1][1]
    assert texts[2] == ("adrp", f"x2, #{page:#x}") and texts[3] == ("add", f"x2, x2, #{v - page:#x}")
    assert texts[4] == ("bl", f"#{g:#x}")


def _prove(case_dir, toolchain, versions=None):
    return prove_case(parse_case(case_dir), toolchain, versions).versions[-1]


def _failing(version) -> set[str]:
    """Obligations refuted, each with its witness confirmed by the arm64 oracle (unicorn)."""
    assert version.verdict is Verdict.REFUTED, version.unknowns
    assert all(v.replay == "confirmed" for v in version.violations)
    return {v.obligation for v in version.violations}


def test_crosscall2_on_linux_arm64_is_proved(toolchain):
    version = _prove(CASES / "crosscall2_arm64", toolchain, ["new"])
    assert version.verdict is Verdict.PROVED, (version.violations, version.unknowns)
    assert [p.kind for p in version.paths] == ["returned"]
    assert {"preserve-x19", "preserve-d8", "return-to-caller", "restore-sp"} <= set(version.paths[0].statuses)


@pytest.mark.parametrize("old, new, register", [
    ("\tFLDPD\t((offset)+0*8)(RSP), (F8, F9) \\\n", "\tFMOVD\t((offset)+1*8)(RSP), F9 \\\n", "preserve-d8"),
    ("\tLDP\t((offset)+2*8)(RSP), (R21, R22) \\\n", "", "preserve-x21"),
])
def test_crosscall2_arm64_missing_restore_is_refuted(case_copy, toolchain, old, new, register):
    case = case_copy("crosscall2_arm64")
    mutate(case / "new" / "abi_arm64.h", old, new)
    version = _prove(case, toolchain, ["new"])
    failing = _failing(version)
    assert register in failing and len(failing) <= 2  # the pair's other register too, when both are dropped
    found = next(v for v in version.violations if v.obligation == register)
    assert found.entry != found.exit and found.site.text == "RET (R30)"


def test_arm64_oracle_rejects_a_false_witness(toolchain):
    """The oracle judges by running the code: a refutation of the proved crosscall2 does not reproduce."""
    from dataclasses import replace

    from symabi.replay.arm64 import setups_for_case
    from symabi.verdicts import Violation

    case = parse_case(CASES / "crosscall2_arm64")
    version = case.version("new")
    listing = assemble(toolchain, AssembleRequest(version.source, version.include_dirs, (), case.package,
                                                  "linux", "arm64"))
    image = lay_out(listing, 16, ARM64)
    (setup,) = setups_for_case(case, image)
    fake = Violation(obligation="preserve-x19", location="x19", path=0, entry="0x" + "0" * 16,
                     exit="0x" + "0" * 15 + "1", detail="", site=None, path_lines=(), inputs={"entry.x19": "0x0"})
    assert setup.confirm(fake).startswith("not reproduced: preserve-x19 holds")
    escaped = replace(fake, obligation="return-to-caller", location="return_address")
    assert setup.confirm(escaped).startswith("not reproduced")
    # and random inputs (random callee outputs and frames) never break the proved contract
    from symabi.obligations import concrete
    from symabi.replay.arm64 import Inputs

    for trial in range(5):
        run = setup.run(Inputs({}, seed=f"random-{trial}"))
        assert run.kind == "returned", run.reason
        findings = [concrete.evaluate(o, run) for o in CONTRACTS[case.contract].obligations]
        broken = [f.obligation for f in findings if f is not None and f.status == "violated"]
        assert broken == []


def test_crosscall2_arm64_history_the_d8_d15_fix(toolchain):
    """The arm64 port's first crosscall2 saved X19-X30 but no F register: D8-D15 come back as fn left them
    (refuted, each witness replayed); the pinned tree's saves them; the equivalence check calls the
    difference a contract fix."""
    result = prove_case(parse_case(CASES / "crosscall2_arm64"), toolchain)
    old, new = result.versions
    assert _failing(old) == {f"preserve-d{i}" for i in range(8, 16)}
    assert all("entry.x0" in v.origin[0] for v in old.violations)  # what fn (the host's X0) left there
    assert new.verdict is Verdict.PROVED
    fixes = {d.what for d in result.equivalence.differences if d.kind == "contract-fix"}
    assert {f"D{i} at return" for i in range(8, 16)} <= fixes


def test_mrs_tpidrro_el0_is_modelled(tmp_path, toolchain, monkeypatch):
    """VEX lifts MRS TPIDRRO_EL0 as a no-op: R19 would look preserved. The CPU module gives it the thread
    pointer, which the host did not leave in R19."""
    case = write_case(tmp_path, "tpidrro", """
        TEXT tramp(SB),NOSPLIT|NOFRAME,$0
        \tMRS\tTPIDRRO_EL0, R19
        \tRET
        """, extra='port = "darwin/arm64"\npackage = "runtime"')
    version = _prove(case, toolchain)
    assert "preserve-x19" in _failing(version)
    monkeypatch.setattr(cpu_arm64, "MRS_TPIDRRO", 0)  # the gap unmodelled: VEX's no-op, which is UNKNOWN
    monkeypatch.setattr(cpu_arm64, "_GAPS", {})  # (the module made under the real constant is not reused)
    assert _prove(case, toolchain).verdict is Verdict.UNKNOWN  # (cpu_arm64: an MRS VEX lifts as nothing)


def test_sp_alignment_fault_is_modelled(tmp_path, toolchain):
    case = write_case(tmp_path, "spalign", """
        TEXT tramp(SB),NOSPLIT|NOFRAME,$0
        \tSUB\t$8, RSP
        \tMOVD\tR0, (RSP)
        \tADD\t$8, RSP
        \tRET
        """, extra='port = "linux/arm64"')
    version = _prove(case, toolchain)
    assert "no-fault" in _failing(version)
    assert [p.kind for p in version.paths] in (["faulted"], ["faulted", "returned"], ["returned", "faulted"])


def test_x18_is_the_platforms_on_darwin(tmp_path, toolchain):
    body = """
        TEXT tramp(SB),NOSPLIT|NOFRAME,$0
        \tMOVD\tR0, R18_PLATFORM
        \tRET
        """
    darwin = _prove(write_case(tmp_path / "d", "x18", body, extra='port = "darwin/arm64"'), toolchain)
    assert "x18-untouched" in _failing(darwin)
    linux = _prove(write_case(tmp_path / "l", "x18", body, extra='port = "linux/arm64"'), toolchain)
    assert linux.verdict is Verdict.PROVED


# --- the gate on arm64 ports ---------------------------------------------------------------------

R21_RESTORE = "\tLDP\t((offset)+2*8)(RSP), (R21, R22) \\\n"
D12_RESTORE = "\tFLDPD\t((offset)+4*8)(RSP), (F12, F13) \\\n"


def test_registry_covers_every_arm64_port():
    from symabi.gate import registry

    entries = registry.load()
    for goos in ("linux", "darwin", "windows", "freebsd", "netbsd", "openbsd"):
        names = {e.name for e in entries if f"{goos}/arm64" in e.ports}
        assert {"crosscall2", "rt0_arm64_lib"} <= names, goos
    unstated = {(e.name, p) for e in entries for p in e.ports if e.unstated and p.endswith("/arm64")}
    assert ("sigtramp", "netbsd/arm64") in unstated and ("sigtramp", "windows/arm64") in unstated


@pytest.mark.slow
def test_gate_on_arm64_ports_and_a_broken_tree(tmp_path, monkeypatch):
    """The pinned tree passes against the shipped baseline; with one restore gone from RESTORE_R19_TO_R28 and
    one from RESTORE_F8_TO_F15, the gate exits 1 naming the registers wherever the macros are used."""
    from symabi.gate import baseline, build
    from symabi.gate.run import ABSENT, run_gate
    from symabi.toolchain import find_toolchain

    from test_gate import copy_goroot

    monkeypatch.delenv("SYMABI_GO", raising=False)
    monkeypatch.setenv(build.CACHE_ENV_VAR, str(tmp_path / "cache"))
    (tmp_path / "cases").mkdir()
    ports = ("linux/arm64", "windows/arm64")
    accepted = baseline.read(REPO / "gate-baseline.json")  # the arm64 findings, accepted with their reasons
    good = run_gate(cases_dir=tmp_path / "cases", ports=ports[:1], baseline=accepted)
    assert good.exit_code == 0, [(i.key, i.status) for i in good.items]
    (crosscall2,) = [i for i in good.items if i.name == "crosscall2"]
    assert crosscall2.verdict is Verdict.PROVED
    goroot = copy_goroot(find_toolchain().goroot, tmp_path / "goroot")
    header = goroot / "src/runtime/cgo/abi_arm64.h"
    mutate(header, R21_RESTORE, "")
    mutate(header, D12_RESTORE, "")
    bad = run_gate(goroot=goroot, cases_dir=tmp_path / "cases", ports=ports, baseline=accepted)
    from symabi.gate import registry

    go_to_host = {e.name for e in registry.load() if e.table["case"].get("contract") == "go-to-host"}
    assert bad.exit_code == 1
    for item in bad.items:
        if item.status == ABSENT or item.verdict is Verdict.UNKNOWN or item.name in go_to_host:
            continue  # Go -> host entries (asmcgocall) use neither macro
        assert item.verdict is Verdict.REFUTED and {"preserve-x21", "preserve-x22"} <= set(item.failing), item.key
        assert all(v.replay == "confirmed" for v in item.outcome.violations), item.key
    for item in (i for i in bad.items if i.name == "crosscall2"):
        assert {"preserve-d12", "preserve-d13"} <= set(item.failing), item.key


def test_a_write_to_fpcr_is_unknown(tmp_path, toolchain):
    case = write_case(tmp_path, "fpcr", """
        TEXT tramp(SB),NOSPLIT|NOFRAME,$0
        \tMSR\tR0, FPCR
        \tRET
        """, extra='port = "linux/arm64"')
    version = _prove(case, toolchain)
    assert version.verdict is Verdict.UNKNOWN
    assert {u.obligation for u in version.unknowns} == {"preserve-fpcr"}


def test_html_report_reads_arm64_bytes_as_arm64(toolchain):
    from symabi.writers import html

    result = prove_case(parse_case(CASES / "crosscall2_arm64"), toolchain, ["new"])
    page = html.render(result)
    assert '<td class="cs">sub sp, sp, #0xc0' in page and '<td class="cs">ret' in page


def test_a_witness_fixes_bytes_below_sp_one_by_one():
    # The engine names each byte below SP (below-rsp#<k>.stack-0x<d>: the byte at entry SP - d), as on amd64.
    from symabi.replay.arm64 import Inputs

    inputs = Inputs.from_witness({"below-rsp#1.stack-0x10": "0x42", "below-rsp#1.stack-0xf": "0x1",
                                  **{f"below-rsp#1.stack-{d:#x}": "0x0" for d in range(0x9, 0xf)}}, "s")
    assert inputs.below(1, 0x10) == 0x0142
    open_ = Inputs.from_witness({"below-rsp#2.stack-0x8": "0x7"}, "s").below(2, 0x8)
    assert open_ & 0xFF == 0x7  # the rest is drawn


def test_the_oracle_lays_a_region_on_the_rest_of_a_code_page(tmp_path, toolchain):
    """The model keeps a region off the code byte by byte, so a witness may put one just after the code, on
    the same page: the arm64 oracle maps it there (as the x86 one does), and refuses one on the code's bytes."""
    from symabi.replay.arm64 import Inputs, Machine, World
    from symabi.replay.machine import ReplayError
    from symabi.replay.world import RegionPlan

    listing = _listing(tmp_path, toolchain, """
        TEXT ·f(SB),NOSPLIT|NOFRAME,$0
        \tMOVD\t(R1), R0
        \tRET
        """)
    image = lay_out(listing, None, ARM64)
    world = World(regions=(RegionPlan("info", 16),), registers=(("x1", "info"),))
    after = (image.end + 7) & ~7
    assert after & ~0xFFF == (image.end - 1) & ~0xFFF  # the same page
    inputs = Inputs({}, seed="s", named={("info", 0): (0x1234).to_bytes(8, "little")}, bases={"info": after})
    run = Machine(image, image.symbols["x.f"], {}, 0, inputs, world=world).go()
    assert run.kind == "returned" and run.exit["x0"] == 0x1234, run
    with pytest.raises(ReplayError, match="overlaps the code"):
        Machine(image, image.symbols["x.f"], {}, 0, Inputs({}, seed="s", bases={"info": image.base}), world=world)
