"""Go -> host through a C function pointer held in a data word (issue 13): runtime·callCgoSigaction, callCgoMmap,
callCgoMunmap load the pointer runtime/cgo stored in _cgo_sigaction / _cgo_mmap / _cgo_munmap and call it with
the C ABI. The word is world data with no value (any value: an input, init.<symbol>+0x0) and the callee is the
host function at it, [callees."entry.<symbol>+0x0"].

Verdicts come from the gate over the pinned tree's real bytes (or a copy of its runtime with one line edited);
every refutation must be confirmed by the concrete replay.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import mutate
from test_go_to_host import _confirmed, _registry
from test_go_to_host_arm64 import _gate

from symabi.casefile import case_from_table
from symabi.verdicts import Verdict


def test_a_data_word_without_a_value_is_an_input_printed_as_such(tmp_path):
    from symabi.prover import assumptions

    (tmp_path / "x.s").write_text("")
    table = {"case": {"name": "c", "summary": "s", "entry": "f", "port": "linux/amd64", "contract": "go-to-host",
                      "callee_model": "host"},
             "entry_convention": {"name": "go-abi0-call"},
             "versions": [{"name": "v", "source": "x.s", "revision": "none"}],
             "world": {"data": {"_cgo_mmap": {"doc": "a C function pointer"}, "runtime.tls_g": {"value": "0x10"}}}}
    case = case_from_table(table, tmp_path / "case.toml", tmp_path)
    assert [(d.symbol, d.value) for d in case.world.data] == [("_cgo_mmap", ""), ("runtime.tls_g", "0x10")]
    world = assumptions(case)["runtime world (from the case file)"]
    assert "_cgo_mmap (data the code reads) holds any value (the input init._cgo_mmap+0x0) — a C function pointer" \
        in world and "runtime.tls_g (data the code reads) holds 0x10" in world


@pytest.mark.slow
@pytest.mark.parametrize("port, keys", [
    ("linux/amd64", ("callCgoSigaction", "callCgoMmap", "callCgoMunmap")),
    ("linux/arm64", ("callCgoSigaction_arm64", "callCgoMmap_arm64", "callCgoMunmap_arm64")),
])
def test_the_cgo_function_pointer_calls_are_proved_on_the_pinned_tree(tmp_path, monkeypatch, port, keys):
    from test_go_to_host_arm64 import gate_items

    items = gate_items(tmp_path, monkeypatch, port, _registry(tmp_path / "registry.toml", *keys))
    assert {i.key.rsplit("/", 1)[1]: i.verdict for i in items} == {
        "callCgoSigaction": Verdict.PROVED, "callCgoMmap": Verdict.PROVED, "callCgoMunmap": Verdict.PROVED}
    for item in items:  # every path calls the C function (the data word's callee is reached, not skipped) and returns
        assert item.outcome.paths and all(p.kind == "returned" and p.statuses["host-stack-aligned-at-call"] == "holds"
                                          for p in item.outcome.paths), item.outcome.paths


@pytest.mark.slow
def test_callcgomunmap_without_its_alignment_is_refuted_at_the_call(tmp_path, monkeypatch):
    """Without ANDQ $~15, SP the C function is entered with Go's SP, 8 mod 16 on half the entries.
    (callCgoSigaction's mutants: tests/test_go_to_host_libc.py.)"""
    munmap = "\tMOVQ\t_cgo_munmap(SB), AX\n\tMOVQ\tSP, BX\n"
    item = _gate(tmp_path, monkeypatch, "linux/amd64", key="callCgoMunmap", source="sys_linux_amd64.s",
                 edit=lambda s: mutate(s, munmap + "\tANDQ\t$~15, SP\t// alignment as per amd64 psABI\n", munmap))
    assert item.verdict is Verdict.REFUTED and item.failing == ("host-stack-aligned-at-call",)
    _confirmed(item.outcome)
    for v in item.outcome.violations:
        assert v.site.text == "CALL AX" and v.site.location.endswith("sys_linux_amd64.s:551")  # line 552 less the ANDQ
        assert item.outcome.paths[v.path].label.startswith("RSP 0 mod 16 at entry")  # + PUSHQ BP, SUBQ $16: 8


@pytest.mark.slow
def test_callcgommap_without_saving_its_sp_is_not_proved(tmp_path, monkeypatch):
    """callCgoMmap keeps its SP at 0(SP) of the aligned stack (C does not write its caller's frame above its
    return address); without the store, MOVQ 0(SP), SP reloads a word of its frame nobody wrote, and the store of
    the result through that SP is UNKNOWN (an address the inputs choose), never PROVED."""
    item = _gate(tmp_path, monkeypatch, "linux/amd64", key="callCgoMmap", source="sys_linux_amd64.s",
                 edit=lambda s: mutate(s, "\tMOVL\toff+28(FP), R9\n\tMOVQ\t_cgo_mmap(SB), AX\n\tMOVQ\tSP, BX\n"
                                          "\tANDQ\t$~15, SP\t// alignment as per amd64 psABI\n\tMOVQ\tBX, 0(SP)\n",
                                       "\tMOVL\toff+28(FP), R9\n\tMOVQ\t_cgo_mmap(SB), AX\n\tMOVQ\tSP, BX\n"
                                       "\tANDQ\t$~15, SP\t// alignment as per amd64 psABI\n"))
    assert item.verdict is Verdict.UNKNOWN and item.outcome.unknowns
    assert all("address computed from init.stack-" in u.reason and u.site.text == "MOVQ AX, ret+64(FP)"
               for u in item.outcome.unknowns)  # ret+32(FP) as the assembler prints it, past the frame


@pytest.mark.slow
def test_callcgommap_arm64_without_stepping_past_its_saved_fp_loses_r29(tmp_path, monkeypatch):
    """The C function's frame covers SP-8, where callCgoMmap's prologue saved the caller's R29."""
    call = "\tMOVD\t_cgo_mmap(SB), R9\n"
    item = _gate(tmp_path, monkeypatch, "linux/arm64", key="callCgoMmap_arm64", source="sys_linux_arm64.s",
                 edit=lambda s: mutate(s, call + "\tSUB\t$16, RSP\t\t// reserve 16 bytes for sp-8 where fp may be saved.\n"
                                       "\tBL\tR9\n\tADD\t$16, RSP\n", call + "\tBL\tR9\n"))
    assert item.verdict is Verdict.REFUTED and item.failing == ("preserve-x29",)
    _confirmed(item.outcome)
    assert all(v.site.text == "RET (R30)" for v in item.outcome.violations)


# --- _rt0_amd64_lib before go1.27: C's _cgo_sys_thread_create through a data word that may be nil ------------

_DATA = Path(__file__).parent / "data"
_C_CALL = "\tMOVQ\tSP, BX  // Callee-save in C ABI\n\tANDQ\t$~15, SP\n"


def _go126(tmp_path, monkeypatch, *edits, arch: str = "amd64"):
    """The registry's rt0_<arch>_lib_c_thread entry (releases before go1.27) on a copy of the pinned tree whose
    asm_<arch>.s has go1.26.6's _rt0_<arch>_lib (tests/data), with ``edits`` made to it."""
    from test_go_to_host_arm64 import gate_items

    registry = _registry(tmp_path / "registry.toml", f"rt0_{arch}_lib_c_thread")
    mutate(registry, 'until = "go1.27"\n', "")  # the pinned tree is go1.27.3
    old = (_DATA / f"rt0_{arch}_lib_go1.26.s").read_text().split("without an older toolchain.\n\n", 1)[1]
    for a, b in edits:
        assert old.count(a) == 1, a
        old = old.replace(a, b)

    def splice(source):
        text = source.read_text()
        start = text.index(f"// _rt0_{arch}_lib is common startup code")
        end = text.index("// rt0_lib_go initializes" if arch == "amd64" else "TEXT runtime·rt0_lib_go<ABIInternal>")
        source.write_text(text[:start] + old + "\n" + text[end:])

    port = "linux/amd64" if arch == "amd64" else "linux/arm64"
    (item,) = gate_items(tmp_path, monkeypatch, port, registry, splice, f"asm_{arch}.s")
    return item


@pytest.mark.slow
def test_rt0_amd64_lib_before_go127_is_proved_with_and_without_cgo(tmp_path, monkeypatch):
    """The data word is nil (no runtime/cgo: runtime·newosproc0) or a C function (CALL AX): both paths are explored
    and proved."""
    item = _go126(tmp_path, monkeypatch)
    assert item.verdict is Verdict.PROVED, (item.failing, item.unknown_reason)
    calls = sorted(next(line.text for line in p.lines if line.text in ("CALL AX", "CALL runtime.newosproc0(SB)"))
                   for p in item.outcome.paths)
    assert calls == ["CALL AX", "CALL runtime.newosproc0(SB)"] and all(p.kind == "returned" for p in item.outcome.paths)


@pytest.mark.slow
def test_rt0_amd64_lib_before_go127_without_its_alignment_is_refuted_at_the_c_call(tmp_path, monkeypatch):
    item = _go126(tmp_path, monkeypatch, (_C_CALL, "\tMOVQ\tSP, BX  // Callee-save in C ABI\n"))
    assert item.verdict is Verdict.REFUTED and item.failing == ("host-call-aligned",)
    _confirmed(item.outcome)
    assert {v.site.text for v in item.outcome.violations} == {"CALL AX"}


@pytest.mark.slow
def test_rt0_amd64_lib_before_go127_keeping_sp_in_a_c_volatile_register_is_refuted(tmp_path, monkeypatch):
    """With its SP in R11, which C may change, the initialiser restores SP from what the C function left there."""
    item = _go126(tmp_path, monkeypatch, (_C_CALL, "\tMOVQ\tSP, R11\n\tANDQ\t$~15, SP\n"),
                      ("\tMOVQ\tBX, SP\n\tJMP\trestore\n", "\tMOVQ\tR11, SP\n\tJMP\trestore\n"))
    assert item.verdict is Verdict.REFUTED and item.failing == ("no-fault",), (item.failing, item.unknown_reason)
    _confirmed(item.outcome)
    for v in item.outcome.violations:  # POP_REGS_HOST_TO_ABI0's first load, through the SP C left in R11
        assert v.site.text == "MOVQ (SP), BX" and "entry._cgo_sys_thread_create+0x0#1.r11" in v.detail
        assert any(line.text == "CALL AX" for line in item.outcome.paths[v.path].lines)


# --- racewrite on linux/arm64 (race_arm64.s): racecall<> calls the race runtime (C) ------------------------

@pytest.mark.slow
def test_racewrite_arm64_is_proved_and_keeping_lr_in_a_c_volatile_register_is_refuted(tmp_path, monkeypatch):
    """racecall<> keeps SP and LR in R19 and R20 (callee-saved in C) across BL R9; with LR in R15 (volatile) the
    JMP back goes where the C function left R15 (confirmed). (Not a data-word call: __tsan_write's address is
    MOVD $__tsan_write(SB), R9.)"""
    item = _gate(tmp_path / "pinned", monkeypatch, "linux/arm64", key="racewrite_arm64")
    assert item.verdict is Verdict.PROVED, (item.failing, item.unknown_reason)
    called = [p for p in item.outcome.paths if any(line.text == "CALL R9" for line in p.lines)]
    assert {p.label.split(":")[0] for p in called} == {"on a goroutine", "on g0"}

    keep = "\tMOVD\tR30, R20\t// callee-saved, preserved across the CALL\n"
    back = "\tMOVD\tR19, RSP\n\tJMP\t(R20)\n"
    broken = _gate(tmp_path / "broken", monkeypatch, "linux/arm64", key="racewrite_arm64", source="race_arm64.s",
                   edit=lambda s: (mutate(s, keep, "\tMOVD\tR30, R15\n"),
                                   mutate(s, back, "\tMOVD\tR19, RSP\n\tJMP\t(R15)\n")))
    assert "return-to-caller" in broken.failing
    lost = [v for v in broken.outcome.violations if v.obligation == "return-to-caller"]
    assert lost and all(v.replay == "confirmed" and v.site.text == "JMP (R15)" for v in lost)


@pytest.mark.slow
def test_rt0_arm64_lib_in_go126_has_only_the_frame_pointer_finding_of_go127(tmp_path, monkeypatch):
    """go1.26's arm64 initialiser BLs C's _cgo_sys_thread_create 16 bytes below its SP (or newosproc0 when the word
    is nil): both paths return, and the one finding is go1.27's accepted one (the host's X29 below SP, where a
    signal frame may land). The C function the word holds is no Go callee of the file: were it newosproc0, the
    Go callee would own the words at 8(RSP) and up of the C call's SP, the initialiser's saved LR among them."""
    item = _go126(tmp_path, monkeypatch, arch="arm64")
    assert item.verdict is Verdict.REFUTED and item.failing == ("preserve-x29",), (item.failing, item.unknown_reason)
    _confirmed(item.outcome)
    assert {p.kind for p in item.outcome.paths} == {"returned"}
    assert len([p for p in item.outcome.paths if sum(line.text == "CALL (R4)" for line in p.lines) == 2]) >= 1
