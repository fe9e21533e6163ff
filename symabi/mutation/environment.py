"""Operators that reach what the environment does to a trampoline (issue 9): callees that write below
SP and through pointers, the OS overwriting memory below RSP, values the host or the CPU chooses
(the return address, RFLAGS, CPUID, where the world lives), and callees that do return.

Each function takes one ``Text`` (a file of the case) and returns its mutants; see the operator list
in ``symabi.mutation.operators``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from symabi.casefile import CASE_FILE, Case
from symabi.mutation.mutant import (
    CALLEE_SAVED,
    MOV,
    SPMEM,
    STACK_ADJ,
    WIDE_MOVES,
    Mutant,
    Text,
    code_of,
    insert_before,
    replace_code,
    shift,
    with_code,
)

LABEL = "symabi_mutant"
CLOBBER = "XORQ\t$1, BX"  # what each branch operator does on its taken side: lose RBX
PARTIAL_MOVES = ("MOVSD", "MOVQ", "MOVLPS")  # each moves 64 of an XMM register's 128 bits
FLAG_EDITS = (("popf-tf", "ORQ\t$0x100, 0(SP)"), ("popf-df", "ORQ\t$0x400, 0(SP)"), ("popf-cf", "XORQ\t$1, 0(SP)"))
POINTER_SHIFTS = (16, 32)
_GO_REGS = {"rax": "AX", "rbx": "BX", "rcx": "CX", "rdx": "DX", "rsi": "SI", "rdi": "DI", "rbp": "BP"}
_LEA_SP = re.compile(r"^LEAQ\s+(?P<disp>[^,]*)\(SP\)\s*,\s*(?P<reg>\w+)$")
_TEXT = re.compile(r"^TEXT\s+(?P<name>[^(<\s]+)")


def _branch(test: list[str], jump: str = "JEQ") -> list[str]:
    """``test`` sets the flags; the mutant clobbers RBX unless ``jump`` is taken."""
    return [*test, f"{jump}\t{LABEL}", CLOBBER, f"{LABEL}:"]


RET_BRANCHES = (  # inserted right before a RET, where 0(SP) is the host's return address
    ("branch-retaddr", _branch(["MOVQ\t0(SP), R11", "TESTQ\t$1, R11"])),
    ("branch-flags-ac", _branch(["PUSHFQ", "POPQ\tR11", "TESTQ\t$0x40000, R11"])),
    ("branch-flags-if", _branch(["PUSHFQ", "POPQ\tR11", "TESTQ\t$0x200, R11"], "JNE")),
    ("branch-cpuid", _branch(["MOVQ\tAX, R10", "MOVQ\tBX, R11", "MOVL\t$1, AX", "CPUID", "MOVQ\tR11, BX",
                              "MOVQ\tR10, AX", "TESTL\t$0x10000000, CX"])),
)


@dataclass(frozen=True)
class Facts:
    """What the operators need to know about the case besides its text."""

    entry: str  # the first entry symbol, as the linker names it
    pinned: tuple[str, ...]  # Go names of the registers the entry convention binds to world values
    gs_fields: tuple[int, ...]  # offsets of the world's fields in the region GS points at


def facts_of(case: Case) -> Facts:
    pinned = tuple(_GO_REGS.get(r, r.upper()) for r in case.entry_convention.registers)
    gs_fields = ()
    if case.world.gs:
        pattern = re.compile(rf"^\s*{re.escape(case.world.gs)}\s*\+\s*(0x[0-9a-fA-F]+|\d+)\s*$")
        gs_fields = tuple(int(m.group(1), 0) for f in case.world.fields if (m := pattern.match(f.at)))
    return Facts(case.entries[0], pinned, gs_fields)


def mutants(text: Text, facts: Facts) -> list[Mutant]:
    out = _pair_mutants(text)
    for i in text.sites:
        code = code_of(text.lines[i])
        out += _at_instruction(text, i, code)
        if not text.macro and code == "RET":
            out += _before_ret(text, i, facts)
    if not text.macro:
        out += _at_entry(text, facts)
    return out


def case_file_mutants(case: Case) -> list[Mutant]:
    """falls-through: a callee the case declares noreturn returns after all."""
    lines = tuple((case.directory / CASE_FILE).read_text().splitlines(keepends=True))
    text = Text(case.name, CASE_FILE, lines, ())
    return [text.mutant(i, "falls-through", re.sub(r"\btrue\b", "false", line, count=1))
            for i, line in enumerate(lines) if re.match(r"^\s*noreturn\s*=\s*true\b", line)]


# ---- save/restore pairs ----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Pair:
    save: int  # line index of the store
    restore: int  # line index of the load
    op: str
    reg: str
    mem: str  # the slot as written, "(3*8)(SP)"
    disp: str  # its displacement, "(3*8)"


def _pairs(text: Text) -> list[_Pair]:
    saves, restores = {}, {}
    for i in text.sites:
        if (mv := MOV.match(code_of(text.lines[i]))) is None:
            continue
        a, b = mv["a"].strip(), mv["b"].strip()
        if a in CALLEE_SAVED and (m := SPMEM.match(b)):
            saves[(a, m["disp"].strip())] = (i, mv["op"], b)
        elif b in CALLEE_SAVED and (m := SPMEM.match(a)):
            restores[(b, m["disp"].strip())] = i
    return [_Pair(i, restores[key], op, key[0], mem, key[1]) for key, (i, op, mem) in saves.items() if key in restores]


def _pair_mutants(text: Text) -> list[Mutant]:
    out = []
    for p in _pairs(text):
        save, restore = text.lines[p.save], text.lines[p.restore]

        def both(operator: str, mem: str, p=p, save=save, restore=restore) -> Mutant:
            return text.mutant(p.save, operator, replace_code(save, p.mem, mem),
                               ((p.restore + 1, replace_code(restore, p.mem, mem)),))

        width = 16 if p.op in WIDE_MOVES else 8
        out.append(both("below-sp", f"(-{2 * width})(SP)"))
        out += [both(f"overlap{d:+d}", f"{shift(p.disp, d)}(SP)") for d in (-8, 8)]
        if p.op in WIDE_MOVES and p.reg.startswith("X"):
            for move in PARTIAL_MOVES:
                out.append(text.mutant(p.save, f"partial-save-{move.lower()}", replace_code(save, p.op, move)))
                out.append(text.mutant(p.restore, f"partial-restore-{move.lower()}", replace_code(restore, p.op, move)))
    return out


# ---- single instructions ---------------------------------------------------------------------------


def _at_instruction(text: Text, i: int, code: str) -> list[Mutant]:
    line, out = text.lines[i], []
    if code.startswith("CALL"):
        out.append(text.mutant(i, "std-call", insert_before(line, ["STD"], text.macro)))
    if code == "POPFQ":
        out += [text.mutant(i, name, insert_before(line, [edit], text.macro)) for name, edit in FLAG_EDITS]
    if _releases_sp(code):
        out.append(text.mutant(i, "sp-unwritten", with_code(line, "MOVQ\t-8(SP), SP")))
    if not text.macro and (m := _LEA_SP.match(code)):
        for d in POINTER_SHIFTS:
            out.append(text.mutant(i, f"ptr-slot+{d}", with_code(line, f"LEAQ\t{shift(m['disp'], d)}(SP), {m['reg']}")))
    return out


def _releases_sp(code: str) -> bool:
    """SP restored from memory, or a stack adjustment that gives stack back."""
    if (mv := MOV.match(code)) is not None:
        return mv["b"].strip() == "SP" and "(" in mv["a"]
    if (sa := STACK_ADJ.match(code)) is None:
        return False
    n = sa["n"].strip()
    return (sa["op"] == "ADJSP" and n.startswith("-")) or (sa["op"] == "ADDQ" and bool(sa["tail"]))


def _before_ret(text: Text, i: int, facts: Facts) -> list[Mutant]:
    line = text.lines[i]
    out = [text.mutant(i, name, insert_before(line, codes, False)) for name, codes in RET_BRANCHES]
    for offset in facts.gs_fields[:1]:
        codes = _branch([f"MOVQ\t{offset:#x}(GS), R11", "TESTQ\t$8, R11"])
        out.append(text.mutant(i, "branch-gsfield", insert_before(line, codes, False)))
    return out


def _at_entry(text: Text, facts: Facts) -> list[Mutant]:
    """branch-world: the first instruction of the entry symbol, when the host passes a world pointer."""
    first = _first_instruction(text, facts.entry)
    if first is None:
        return []
    return [text.mutant(first, "branch-world", insert_before(text.lines[first], _branch([f"TESTQ\t$8, {reg}"]),
                                                             False))
            for reg in facts.pinned[:1]]


def _first_instruction(text: Text, entry: str) -> int | None:
    want = entry.split(".")[-1]
    inside = False
    for i, line in enumerate(text.lines):
        if (m := _TEXT.match(code_of(line))) is not None:
            inside = m["name"].replace("·", ".").split(".")[-1] == want
        elif inside and i in text.sites:
            return i
    return None
