"""Go -> host on arm64 (issue 13): the AAPCS64 host callee models, Go's arm64 entry, the go-to-host contract's
arm64 obligations, and asmcgocall / asmcgocall_no_g on the pinned tree.

Verdicts come from the prover over the real assembler's bytes; every refutation must be confirmed by the arm64
oracle (symabi.replay.go_to_host_arm64). Mutants copy a shipped case, or the pinned tree's runtime, and edit
exactly one occurrence of a line.
"""

from __future__ import annotations

import pytest
from conftest import mutate
from test_go_to_host import _confirmed, _failing, _registry

from symabi.casefile import parse_case
from symabi.models import CALLEE_MODELS
from symabi.models.host_callee import volatile
from symabi.ports import AAPCS64, DARWIN_ARM64, WINDOWS_ARM64
from symabi.prover import prove_case
from symabi.verdicts import Verdict

HOST_GPRS = tuple(f"x{i}" for i in range(18))


def _prove(case_dir, toolchain):
    return prove_case(parse_case(case_dir), toolchain).versions[-1]


def test_arm64_host_models_clobber_x0_x18_but_a_reserved_x18_and_every_vector_register():
    vectors = tuple(f"v{i}" for i in range(32))  # V8-V15 in their upper halves only (the model keeps D8-D15)
    assert volatile(AAPCS64) == (*HOST_GPRS, "x18", "x30", *vectors)
    assert volatile(DARWIN_ARM64) == volatile(WINDOWS_ARM64) == (*HOST_GPRS, "x30", *vectors)
    assert {"host-aapcs64", "host-darwin-arm64", "host-windows-arm64"} <= set(CALLEE_MODELS)
    doc = " ".join(CALLEE_MODELS["host-darwin-arm64"].assumptions)
    assert "the bits of V8 above its low 64" in doc and "never writes X18" in doc


def test_asmcgocall_no_g_arm64_is_proved(case_copy, toolchain):
    version = _prove(case_copy("asmcgocall_no_g_arm64"), toolchain)
    assert version.verdict is Verdict.PROVED


def test_asmcgocall_no_g_arm64_misaligning_sp_before_the_bl_is_refuted_at_the_bl(case_copy, toolchain):
    case = case_copy("asmcgocall_no_g_arm64")
    source = case / "new" / "asm_arm64.s"
    mutate(source, "\tSUB\t$16, RSP\t// skip", "\tSUB\t$24, RSP\t// skip")
    mutate(source, "\tADD\t$16, RSP\t// skip", "\tADD\t$24, RSP\t// skip")
    version = _prove(case, toolchain)
    assert version.verdict is Verdict.REFUTED and _failing(version) == {"host-stack-aligned-at-call"}
    _confirmed(version)
    (v,) = version.violations
    assert v.site.text == "CALL (R1)" and v.site.location.endswith("asm_arm64.s:16") and v.exit == "0x0000000000000008"


def test_asmcgocall_no_g_arm64_without_stepping_past_its_saved_fp_loses_r29(case_copy, toolchain):
    """Without SUB $16, RSP the C function's frame covers the word at SP-8 where the prologue saved R29."""
    case = case_copy("asmcgocall_no_g_arm64")
    source = case / "new" / "asm_arm64.s"
    mutate(source, "\tSUB\t$16, RSP\t// skip over saved frame pointer below RSP\n", "")
    mutate(source, "\tADD\t$16, RSP\t// skip over saved frame pointer below RSP\n", "")
    version = _prove(case, toolchain)
    assert version.verdict is Verdict.REFUTED and _failing(version) == {"preserve-x29"}
    _confirmed(version)
    for v in version.violations:  # the value is what the C function left right below its SP
        assert v.site.text == "RET (R30)" and all(o.startswith("entry.stack+0x8#1.below-") for o in v.origin)
        assert v.saved_at is not None and v.saved_at.text == "MOVD R29, -8(RSP)"


# --- asmcgocall on the pinned tree (the gate's registry entries) ------------------------------------------

def gate_items(tmp_path, monkeypatch, port: str, registry_path, edit=None, source: str = ""):
    """The gate's items for ``port`` under the registry ``registry_path``: on the pinned tree, or, with ``edit``,
    on a copy whose src/runtime/``source`` it edits."""
    from test_gate import copy_goroot

    from symabi.gate.run import run_gate
    from symabi.toolchain import find_toolchain

    monkeypatch.delenv("SYMABI_GO", raising=False)
    (tmp_path / "cases").mkdir(parents=True)
    goroot = None
    if edit is not None:
        goroot = copy_goroot(find_toolchain().goroot, tmp_path / "goroot")
        edit(goroot / "src/runtime" / source)
    return run_gate(goroot=goroot, cases_dir=tmp_path / "cases", ports=(port,), registry_path=registry_path).items


def _gate(tmp_path, monkeypatch, port: str, edit=None, key: str = "asmcgocall_arm64", source: str = "asm_arm64.s"):
    tmp_path.mkdir(parents=True, exist_ok=True)
    (item,) = gate_items(tmp_path, monkeypatch, port, _registry(tmp_path / "registry.toml", key), edit, source)
    return item


@pytest.mark.slow
def test_asmcgocall_arm64_loses_the_frame_pointer_off_a_goroutine(tmp_path, monkeypatch):
    """A finding on go1.27.3: on g0, gsignal or no g (nosave) asmcgocall keeps the caller's SP at 8(RSP) after
    SUB $16 from its own SP, which is the word where its prologue saved the caller's R29 (SP-8): R29 comes back
    as asmcgocall's own SP. On a goroutine (g0's stack) everything holds."""
    item = _gate(tmp_path, monkeypatch, "linux/arm64")
    assert item.verdict is Verdict.REFUTED and item.failing == ("preserve-x29",)
    _confirmed(item.outcome)
    labels = {item.outcome.paths[v.path].label.split(":")[0] for v in item.outcome.violations}
    assert labels == {"g = nil", "on g0", "on gsignal"}
    goroutine = [p for p in item.outcome.paths if p.label.startswith("on a goroutine")]
    assert goroutine and all(st in ("holds", "n/a") for p in goroutine for st in p.statuses.values())


def _keep_g0(source) -> None:
    """Reload the old g into R4 instead of g after the C call (SP is still restored from the old g's stack)."""
    mutate(source, "\tMOVD\t0(RSP), g\n", "\tMOVD\t0(RSP), R4\n")
    mutate(source, "\tMOVD\t(g_stack+stack_hi)(g), R5\n", "\tMOVD\t(g_stack+stack_hi)(R4), R5\n")


@pytest.mark.slow
def test_asmcgocall_arm64_not_restoring_g_after_the_c_call_is_refuted(tmp_path, monkeypatch):
    """The goroutine then returns with R28 = g0 (the C function kept R28: callee-saved), named at the RET."""
    item = _gate(tmp_path, monkeypatch, "linux/arm64", _keep_g0)
    assert item.verdict is Verdict.REFUTED and set(item.failing) == {"x28-g-at-return", "preserve-x29"}, \
        [(u.obligation, u.path, u.reason) for u in item.outcome.unknowns]
    _confirmed(item.outcome)
    lost = [v for v in item.outcome.violations if v.obligation == "x28-g-at-return"]
    assert lost and all(item.outcome.paths[v.path].label.startswith("on a goroutine") for v in lost)
    assert all(v.site.text == "RET (R30)" for v in lost)


@pytest.mark.slow
def test_sigfwd_arm64_loses_the_frame_pointer_and_stepping_past_it_keeps_it(tmp_path, monkeypatch):
    """A finding on go1.27.3: sigfwd BLs the C handler from its own SP, whose frame covers the word at SP-8
    where sigfwd's prologue saved the caller's R29. Stepping past it as asmcgocall_no_g does is PROVED."""
    item = _gate(tmp_path, monkeypatch, "linux/arm64", key="sigfwd_arm64")
    assert item.verdict is Verdict.REFUTED and item.failing == ("preserve-x29",)
    _confirmed(item.outcome)
    assert all(v.site.text == "RET (R30)" for v in item.outcome.violations)
    fixed = _gate(tmp_path / "fixed", monkeypatch, "linux/arm64", key="sigfwd_arm64", source="sys_linux_arm64.s",
                  edit=lambda s: mutate(s, "\tMOVD\tfn+0(FP), R11\n\tBL\t(R11)\n",
                                        "\tMOVD\tfn+0(FP), R11\n\tSUB\t$16, RSP\n\tBL\t(R11)\n\tADD\t$16, RSP\n"))
    assert fixed.verdict is Verdict.PROVED
