"""Mutants of a case's newest version: one change each, written as text edits of its files.

Each mutant changes one line of the newest version's assembly (the source, or a multi-line macro of a
header it includes, such as ``PUSH_REGS_HOST_TO_ABI0`` in ``abi_amd64.h``), sometimes together with
the line it pairs with, or one declaration of its case file:

    delete              delete one instruction line
    disp±8/±16          move the SP displacement of one save or restore
    swap                swap the registers of two adjacent restores of the same width
    drop-cld            delete CLD
    adjsp±8/±16         change one stack adjustment (ADJSP, SUBQ/ADDQ $n, SP) by 8 or 16 bytes

and the classes of issue 9, where the model used to be narrower than the machine:

    below-sp            move a save slot and its restore below SP (a callee or the OS overwrites it)
    overlap±8           move a save slot and its restore by 8 bytes, onto a neighbour's slot
    partial-save-<op>   save an XMM register with MOVSD, MOVQ or MOVLPS alone (64 of its 128 bits)
    partial-restore-<op> restore it so
    ptr-slot            aim a pointer argument (LEAQ d(SP)) at a save slot
    std-call            STD right before a CALL
    popf-tf/df/cf       set TF, set DF or flip CF in the flags word before POPFQ pops it
    branch-retaddr      before a RET, clobber RBX when bit 0 of the return address is set
    branch-flags-ac     ... when RFLAGS.AC is set (the host's choice)
    branch-flags-if     ... when RFLAGS.IF is clear (never, in user mode: this mutant holds)
    branch-cpuid        ... when CPUID.1:ECX reports AVX
    branch-world        at entry, clobber RBX when bit 3 of a world pointer the host passes is set
    branch-gsfield      before a RET, clobber RBX when bit 3 of a world word read through GS is set
    sp-unwritten        reload SP from the word below SP, which nobody wrote (instead of restoring it)
    falls-through       a callee declared noreturn returns (its case declaration says noreturn = false)

Mutants are written into a temporary copy of the case folder (``cases/`` is never touched).
"""

from __future__ import annotations

import random
import re
import shutil
from itertools import pairwise
from pathlib import Path

from symabi.casefile import Case
from symabi.mutation import environment
from symabi.mutation.mutant import (
    MOV,
    REG,
    SPMEM,
    STACK_ADJ,
    Mutant,
    Text,
    code_of,
    is_instruction,
    replace_code,
    shift,
)


def _active_lines(lines: list[str], defines: set[str]) -> list[bool]:
    from symabi.frontend.assembler import (
        _active,  # the assembler front end's own #ifdef evaluation
    )

    return _active(lines, defines)


def _source_sites(lines: list[str], active: list[bool]) -> list[int]:
    """Indexes of the active instruction lines inside TEXT bodies."""
    out, inside = [], False
    for i, line in enumerate(lines):
        if not active[i]:
            continue
        code = code_of(line)
        if code.startswith("TEXT"):
            inside = True
            continue
        if inside and is_instruction(code) and not code.startswith("#"):
            out.append(i)
    return out


def _macro_sites(lines: list[str], active: list[bool], used: set[str]) -> list[int]:
    """Indexes of the instruction lines of active multi-line macros whose names the source uses."""
    out, i = [], 0
    while i < len(lines):
        m = re.match(r"^\s*#\s*define\s+([A-Za-z_0-9]+)", lines[i])
        if m and active[i] and lines[i].rstrip().endswith("\\"):
            name, j = m.group(1), i + 1
            while j < len(lines):
                if name in used and is_instruction(code_of(lines[j])):
                    out.append(j)
                if not lines[j].rstrip().endswith("\\"):
                    break
                j += 1
            i = j + 1
        else:
            i += 1
    return out


def _mutants_of(case_name: str, rel: str, lines: list[str], sites: list[int]) -> list[Mutant]:
    out: list[Mutant] = []
    codes = {i: code_of(lines[i]) for i in sites}
    stored = {m["disp"].strip() for i in sites if (mv := MOV.match(codes[i])) and (m := SPMEM.match(mv["b"]))}
    loaded = {m["disp"].strip() for i in sites if (mv := MOV.match(codes[i])) and (m := SPMEM.match(mv["a"]))}
    paired = stored & loaded
    restores: list[tuple[int, str, str]] = []  # (index, op, register)
    for i in sites:
        code, line = codes[i], lines[i]

        def mut(op, new, extra=(), i=i, line=line):
            out.append(Mutant(case_name, rel, i + 1, op, new, line, extra))

        if code == "CLD":
            mut("drop-cld", None)
        else:
            mut("delete", None)
        if mv := MOV.match(code):
            a, b = mv["a"].strip(), mv["b"].strip()
            for reg, mem, kind in ((a, b, "save"), (b, a, "restore")):
                m = SPMEM.match(mem)
                if not m or not REG.match(reg):
                    continue
                if m["disp"].strip() in paired:  # a slot this code both stores and loads: a save/restore pair
                    for delta in (-16, -8, 8, 16):
                        new_mem = f"{shift(m['disp'], delta)}(SP)"
                        mut(f"disp{delta:+d}", replace_code(line, mem, new_mem))
                    if kind == "restore":
                        restores.append((i, mv["op"], reg))
        if (sa := STACK_ADJ.match(code)) and (sa["op"] == "ADJSP" or sa["tail"]):
            n = sa["n"].strip()
            for delta in (-16, -8, 8, 16):
                mut(f"adjsp{delta:+d}", replace_code(line, f"${n}", f"$({n}{delta:+d})"))
    for (i, op1, r1), (j, op2, r2) in pairwise(restores):
        if op1 != op2 or r1 == r2 or "SP" in (r1, r2):
            continue
        line_i = re.sub(rf"\b{r1}\b(?=\s*(\\)?\s*(//.*)?$)", r2, lines[i], count=1)
        line_j = re.sub(rf"\b{r2}\b(?=\s*(\\)?\s*(//.*)?$)", r1, lines[j], count=1)
        if line_i != lines[i] and line_j != lines[j]:
            out.append(Mutant(case_name, rel, i + 1, f"swap@{j + 1}", line_i, lines[i], ((j + 1, line_j),)))
    return out


def generate(case: Case) -> list[Mutant]:
    """Every mutant of ``case``'s newest version, in file and line order."""
    version = case.newest
    defines = {"GOOS_windows", "GOARCH_amd64", *case.defines}
    source = version.source
    lines = source.read_text().splitlines(keepends=True)
    active = _active_lines(lines, defines)
    rel = source.relative_to(case.directory).as_posix()
    facts = environment.facts_of(case)
    sites = _source_sites(lines, active)
    mutants = _mutants_of(case.name, rel, lines, sites)
    mutants += environment.mutants(Text(case.name, rel, tuple(lines), tuple(sites)), facts)
    used = set(re.findall(r"[A-Za-z_][A-Za-z_0-9]*", "\n".join(code_of(l) for l, a in zip(lines, active) if a)))
    for m in re.finditer(r'^\s*#include\s+"([^"]+)"', "".join(lines), re.MULTILINE):
        header = next((d / m.group(1) for d in (source.parent, *version.include_dirs) if (d / m.group(1)).is_file()),
                      None)
        if header is None or case.directory.resolve() not in header.resolve().parents:
            continue
        hlines = header.read_text().splitlines(keepends=True)
        hactive = _active_lines(hlines, defines)
        hrel = header.resolve().relative_to(case.directory.resolve()).as_posix()
        hsites = _macro_sites(hlines, hactive, used)
        mutants += _mutants_of(case.name, hrel, hlines, hsites)
        mutants += environment.mutants(Text(case.name, hrel, tuple(hlines), tuple(hsites), macro=True), facts)
    mutants += environment.case_file_mutants(case)
    seen, unique = set(), []
    for mt in mutants:
        key = (mt.file, mt.line, mt.new, mt.extra)
        if key not in seen:
            seen.add(key)
            unique.append(mt)
    return unique


def choose(mutants: list[Mutant], limit: int | None, seed: int) -> list[Mutant]:
    """A deterministic subset of at most ``limit``, spread over the operator families (round robin)."""
    if limit is None or limit >= len(mutants):
        return list(mutants)
    families: dict[str, list[Mutant]] = {}
    for m in mutants:
        families.setdefault(m.family, []).append(m)
    rng = random.Random(seed)
    queues = []
    for name in sorted(families):
        group = families[name][:]
        rng.shuffle(group)
        queues.append(group)
    out: list[Mutant] = []
    while len(out) < limit:
        for q in queues:
            if q and len(out) < limit:
                out.append(q.pop(0))
    return out


def apply(mutant: Mutant, case_dir: Path, into: Path) -> Path:
    """Copy ``case_dir`` to ``into/<name>`` with ``mutant`` applied; return the copy."""
    target = into / case_dir.name
    shutil.copytree(case_dir, target)
    path = target / mutant.file
    lines = path.read_text().splitlines(keepends=True)
    assert lines[mutant.line - 1] == mutant.old, f"{mutant.ident}: the line changed under us"
    for number, text in mutant.extra:
        lines[number - 1] = text
    if mutant.new is None:
        old = lines[mutant.line - 1]
        lines[mutant.line - 1] = "\\\n" if old.rstrip().endswith("\\") else "\n"  # keep a macro continued
    else:
        lines[mutant.line - 1] = mutant.new
    path.write_text("".join(lines))
    return target


