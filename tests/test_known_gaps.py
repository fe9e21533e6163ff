"""Known soundness gaps closed at stop 23 (docs/redteam.md): each is a stub that symabi PROVED while reality
fails; the ground truth is the ABI text or a real run, and each refutation must replay ("confirmed")."""

from __future__ import annotations

from test_soundness import prove, refuted as _refuted

from symabi.verdicts import Verdict

__all__ = ["prove"]  # the fixture: a one-version case around a stub, proved


# --- 1. R28 = 0 is no wildcard for "the current g" ------------------------------------------------------------
# tramp clears R28 and BLs an ABIInternal Go function. The x28 obligation read "R28 holds the current g, or
# zero": PROVED on both worlds, the thread with a g included. Ground truth (a real run, qemu-aarch64, the pinned
# toolchain): a Go function entered so, `func goFn() uintptr { return helper() + 1 }`, faults in its stack check
# (it loads 16(R28)) and the runtime dies with "fatal: bad g in signal handler"; with R28 kept it returns 42.
# abi-internal.md fixes R28 to "the current goroutine"; 0 is the current g only on a thread without one (the
# runtime's sigtramp and crosscall2 pass what load_g finds, nil there, and sigtrampgo/cgocallback test for nil).

CLEARS_G = """
    TEXT tramp(SB),NOSPLIT|NOFRAME,$0
    \tSUB\t$32, RSP
    \tSTP\t(R29, R30), 0(RSP)
    \tMOVD\tg, 16(RSP)
    \tMOVD\tZR, g
    \tMOVD\t$runtime·goFn<ABIInternal>(SB), R3
    \tBL\t(R3)
    \tMOVD\t16(RSP), g
    \tLDP\t0(RSP), (R29, R30)
    \tADD\t$32, RSP
    \tRET
    """
TLS_G_WORLD = """
[callees."runtime.goFn"]
clobbers = ["x0"]
clobbers_reason = "test: a leaf that returns its result in R0"
[world]
tls = "tls+0"
[world.regions.tls]
size = 24
[world.regions.g]
size = 64
[[world.fields]]
at = "tls+16"
values = ["0", "g"]
labels = ["g = nil", "g ≠ nil"]
"""
ARM64_GO = 'port = "linux/arm64"\npackage = "runtime"\ncallee_model = "go-abiinternal"\nreturns = 0'


def test_r28_zero_on_a_thread_with_a_g_is_refuted(prove):
    version = prove(CLEARS_G, TLS_G_WORLD, ARM64_GO)
    (found,) = _refuted(version, "x28-g-at-abiinternal-call")
    assert next(p.label for p in version.paths if p.index == found.path).startswith("g ≠ nil")
    assert found.exit == "0x0000000000000000" and found.entry != found.exit
    nil = next(p for p in version.paths if p.label.startswith("g = nil"))
    assert nil.statuses["x28-g-at-abiinternal-call"] == "holds"  # no g: 0 is the current g


LOADS_G = CLEARS_G.replace("\tMOVD\tZR, g\n", "\tMRS\tTPIDR_EL0, R1\n    \tMOVD\t16(R1), g\n")  # load_g's way


def test_r28_from_tls_is_still_proved(prove):
    version = prove(LOADS_G, TLS_G_WORLD, ARM64_GO)
    assert version.verdict is Verdict.PROVED, (version.violations, version.unknowns)


# --- 3. SP 16-byte aligned at a BL into Go from an arm64 host entry --------------------------------------------
# tramp steps SP 8 bytes off and BLs Go. The aapcs64 contracts judged no alignment at calls (only the signal
# handler's did): PROVED. Ground truth, the ABI text: AAPCS64 6.4.5.1 (SP mod 16 = 0 at every public interface
# and whenever SP is used to access memory), abi-internal.md ("RSP ... is always aligned to 16 bytes"), and
# Linux's SCTLR_EL1.SA0, under which the Go callee's first instruction (MOVD.W R30, -N(RSP)) faults. qemu-user
# does not check SP alignment, so no real run shows it here; unicorn's replay judges the SP at the BL.

OFF_BY_8 = LOADS_G.replace("\tBL\t(R3)\n", "\tSUB\t$8, RSP\n    \tBL\t(R3)\n    \tADD\t$8, RSP\n")


def test_sp_off_16_at_a_bl_into_go_is_refuted(prove):
    version = prove(OFF_BY_8, TLS_G_WORLD, ARM64_GO)
    found = _refuted(version, "sp-aligned-at-call")
    assert {f.exit for f in found} == {"0x0000000000000008"} and all(f.site.text.startswith("CALL") for f in found)




def test_every_arm64_host_abi_owes_the_alignment_once():
    from symabi.contracts import CONTRACTS

    for name in ("aapcs64", "darwin-arm64", "windows-arm64"):
        ids = [o.id for o in CONTRACTS[name].obligations]
        assert ids.count("sp-aligned-at-call") == 1 and "host-call-aligned" not in ids, (name, ids)


# --- 2. #AC for every width, and AC at entry a printed assumption ------------------------------------------------
# The code sets AC (POPFQ) and loads 16 bytes with MOVUPS at 4 mod 8. #AC was judged for 2-, 4- and 8-byte
# accesses only: PROVED. The SDM (Vol. 3A, Interrupt 17): MOVUPS/MOVDQU/LDDQU raise no #GP, and "alignment-check
# exceptions (#AC) may or may not be generated depending on processor implementation when data addresses are not
# aligned on an 8-byte boundary"; a real run here (gcc, this machine's CPU) did not fault on MOVUPS but did on
# an 8-byte MOVQ and on FLDT (80-bit, 8 asked) at 4 mod 8 (SIGBUS). Now UNKNOWN with that reason; 8-aligned, PROVED.

SETS_AC = """
    TEXT tramp(SB),NOSPLIT|NOFRAME,$0
    \tSUBQ\t$40, SP
    \tPUSHFQ
    \tORQ\t$0x40000, (SP)
    \tPOPFQ
    \tMOVUPS\t4(SP), X0
    \tPUSHFQ
    \tANDQ\t$~0x40000, (SP)
    \tPOPFQ
    \tADDQ\t$40, SP
    \tRET
    """


def test_a_wide_unaligned_sse_load_under_ac_is_unknown(prove):
    version = prove(SETS_AC, "", 'port = "linux/amd64"\nreturns = 0')
    assert version.verdict is Verdict.UNKNOWN, (version.violations, version.unknowns)
    assert any("depends on the processor" in u.reason for u in version.unknowns), version.unknowns
    aligned = prove(SETS_AC.replace("4(SP), X0", "8(SP), X0"), "", 'port = "linux/amd64"\nreturns = 0')
    assert aligned.verdict is Verdict.PROVED, (aligned.violations, aligned.unknowns)


def test_ac_clear_at_entry_is_a_printed_assumption_of_every_amd64_entry_convention():
    from symabi.engine.cpu import AC_AT_ENTRY
    from symabi.models.entry import ENTRY_CONVENTIONS

    amd64 = [m for m in ENTRY_CONVENTIONS.values() if "arm64" not in m.name and "aapcs64" not in m.name]
    assert len(amd64) >= 4 and all(AC_AT_ENTRY in m.assumptions for m in amd64), [m.name for m in amd64]


# --- 4. crosscall2's fn is bounded by its Go declaration, not by n ----------------------------------------------
# The stub (cbN) and its real run are tests/test_redteam3.py's test_crosscall2s_n_does_not_bound_what_fn_writes.

def test_what_fn_writes_comes_from_its_declaration(tmp_path):
    from conftest import REPO
    from symabi.check.callees import pointee_writes

    cb = REPO / "tests/data/check/callback/cb/cb.go"
    (tmp_path / "w.go").write_text("package w\n\nimport \"unsafe\"\n\ntype pair struct {\n\ta int32\n\tb uintptr\n}\n\n"
                                   "func typed(p *pair) {}\nfunc raw(p unsafe.Pointer) {}\nfunc word(p *uint32) {}\n"
                                   "type tagged struct {\n\ta uintptr `json:\"a\"`\n}\n\nfunc withTag(p *tagged) {}\n")
    assert pointee_writes({"example.com/callback/cb": [cb]}) == [{"fn": "example.com/callback/cb.callbackWrap",
                                                                  "size": 16}]
    assert pointee_writes({"w": [tmp_path / "w.go"]}) == [{"fn": "w.typed", "size": 16}, {"fn": "w.word", "size": 4}]
