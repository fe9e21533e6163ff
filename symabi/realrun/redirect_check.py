"""The disassembly check of a harness build's redirect (run by harness/redirect_check.sh, the build's
-toolexec, with the assembler invocation cmd/go asked for on the overlaid copy of the redirected file).

It runs that invocation, then the same one on the tree's own file, and fails the build unless the
two objects disassemble the same (every TEXT symbol of the file, instruction by instruction: source
line, offset in its symbol, encoding, branch targets and relocations) but for one relocation per
redirect, which names the shim instead of the callee. $SYMABI_REDIRECT_CHECKS (JSON) gives, per copy,
the original and the (callee, shim) pairs. Both run in the tree's src/runtime (cmd/go's working
directory), so the tree's own headers, a mutant's shared macros included, are in both. What it found
goes to $SYMABI_REDIRECT_REPORT. Standard library only: it runs outside symabi's import path."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

_TEXT = re.compile(r"^TEXT (\S+) ")
_BRANCH = re.compile(r"^([A-Z][A-Z0-9.]*) 0x([0-9a-f]+)$")


def disassemble(objdump: str, obj: str) -> dict[str, list[tuple[str, ...]]]:
    """symbol -> [(file:line, offset in the symbol, encoding, instruction, relocation)]."""
    out = subprocess.run([objdump, obj], check=True, capture_output=True, text=True).stdout
    blocks: dict[str, list[tuple[str, ...]]] = {}
    current, base = None, 0
    for line in out.splitlines():
        if m := _TEXT.match(line):
            current, base = blocks.setdefault(m[1], []), None
        elif current is not None and line.startswith("  "):
            where, addr, encoding, instruction, *reloc = [f.strip() for f in line.strip().split("\t") if f.strip()]
            base = int(addr, 16) if base is None else base
            if b := _BRANCH.match(instruction):  # a branch within the symbol: its offset, not its address
                instruction = f"{b[1]} +{int(b[2], 16) - base:#x}"
            current.append((where, f"+{int(addr, 16) - base:#x}", encoding, instruction, " ".join(reloc)))
    return blocks


def compare(plain: dict, shimmed: dict, pairs: list[tuple[str, str]]) -> tuple[list[str], int]:
    """(differences, instructions compared) between the two objects' symbols: with each shim's name put
    back to its callee's in the relocations, they must be equal, and each shim named exactly once."""
    problems, count = [], 0
    patterns = [(re.compile(rf"(R_\w+:){re.escape(shim)}(?![\w.])"), callee, shim) for callee, shim in pairs]
    redirected = {shim: 0 for _, shim in pairs}
    for symbol in sorted(set(plain) | set(shimmed)):
        a, b = plain.get(symbol, []), shimmed.get(symbol, [])
        if len(a) != len(b):
            problems.append(f"{symbol}: {len(a)} instructions in the tree's file, {len(b)} in the overlaid copy")
            continue
        for x, y in zip(a, b):
            count += 1
            reloc = y[4]
            for pattern, callee, shim in patterns:
                reloc, n = pattern.subn(rf"\g<1>{callee}", reloc)
                redirected[shim] += n
            if x != y[:4] + (reloc,):
                problems.append(f"{symbol}: {' '.join(x)} became {' '.join(y)}")
    problems += [f"{n} relocations name {shim}, not 1" for shim, n in redirected.items() if n != 1]
    return problems, count


def main(argv: list[str]) -> int:
    env = os.environ
    if (code := subprocess.run(argv).returncode) != 0:  # the build's own invocation, on the overlaid copy
        return code
    spec = json.loads(env["SYMABI_REDIRECT_CHECKS"])[argv[-1]]
    out = argv.index("-o") + 1
    plain_obj = argv[out] + ".symabi-plain"
    if subprocess.run([*argv[:out], plain_obj, *argv[out + 1:-1], spec["original"]]).returncode != 0:
        print(f"symabi: the tree's own {spec['original']} does not assemble", file=sys.stderr)
        return 1
    objdump = env["SYMABI_REDIRECT_OBJDUMP"]
    plain, shimmed = disassemble(objdump, plain_obj), disassemble(objdump, argv[out])
    os.unlink(plain_obj)
    pairs = [tuple(p) for p in spec["names"]]
    problems, count = compare(plain, shimmed, pairs)
    name = Path(spec["original"]).name
    if problems:
        print(f"symabi: the overlaid {name} differs from the tree's beyond its redirected calls:",
              *problems[:12], sep="\n  ", file=sys.stderr)
        return 1
    with open(env["SYMABI_REDIRECT_REPORT"], "a") as report:
        redirects = ", ".join(f"{shim} for {callee}" for callee, shim in pairs)
        report.write(f"{name}: {len(plain)} TEXT symbols, {count} instructions the same as the tree's (line, "
                     f"offset, encoding, branches, relocations) but the relocations naming {redirects}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
