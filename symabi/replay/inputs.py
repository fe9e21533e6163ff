"""Concrete inputs for a replay, and how they map onto the engine's input symbols.

The symbolic engine names every input by where it comes from; each name has one concrete home here:

    entry.<reg>                     ConcreteInputs.regs[<reg>]  (16 GPRs, xmm0-xmm15 as 128-bit ints)
    entry.rflags                    ConcreteInputs.rflags        (only the arithmetic bits 0x8d5 count)
    entry.callback_index            ConcreteInputs.callback_index
    <callee>#<n>.<reg>              callees[(callee, n)].regs[<reg>]   (every GPR but rsp, xmm0-xmm15)
    <callee>#<n>.rflags             callees[(callee, n)].rflags
    <callee>#<n>.frame+0x<o>        callees[(callee, n)].frame[o]      (the word at callee RSP + 8 + o)
    <callee>#<n>.*frame+0x<p>+0x<o> callees[(callee, n)].through[(p, o)]  (written at *(frame+p) + o)
    init.stack-0x<o>                the 8-byte word the caller left at entry RSP - o: stack[-o]
    init.stack+0x<o>(.b)            (".b": one byte); little-endian, like every memory input
    init.<region>+0x<o>(.b)         a word (byte) of a world region or data symbol nobody wrote:
                                    named[(region, o)], placed when the replay knows the region
    init.mem@0x<a>(.b)              a word (byte) at an absolute address: memory[a]
    mem@0x<a>.<bits>, mem_<a>_<k>_<bits>
                                    earlier engine names (shadow address <a>, bits/8 bytes): stack
                                    when <a> is a stack shadow address (STACK_SHADOW + offset), else memory

Whatever the inputs do not name gets a deterministic default derived from ``seed`` and the input's
name (registers, callee outputs) or the region's name (memory bytes), so a replay is reproducible and
two different inputs almost never share a value by accident.
"""

from __future__ import annotations

import hashlib
import random as _random
import re
from dataclasses import dataclass, field

from symabi.replay.constants import (
    ARITH_FLAGS_MASK,
    GPRS,
    HIGHEST_STACK,
    LOWEST_STACK,
    STACK_RESERVE,
    STACK_SHADOW,
    XMMS,
    width,
)

DEFAULT_SEED = "symabi-replay"
DEFAULT_RSP = 0x0000_7FFE_F000_0008  # 8 mod 16, inside the entry convention's stack range

_ENTRY = re.compile(r"^entry\.(?P<what>\w+)$")
_CALLEE = re.compile(r"^(?P<callee>.+)#(?P<n>\d+)\.(?P<what>.+)$")
_FRAME = re.compile(r"^frame\+0x(?P<off>[0-9a-f]+)$")
_THROUGH = re.compile(r"^\*frame\+0x(?P<at>[0-9a-f]+)\+0x(?P<off>[0-9a-f]+)$")
_INIT_ABS = re.compile(r"^init\.mem@0x(?P<addr>[0-9a-f]+)(?P<byte>\.b)?$")
_INIT = re.compile(r"^init\.(?P<region>.+)(?P<sign>[+-])0x(?P<off>[0-9a-f]+)(?P<byte>\.b)?$")
_MEM = (  # names earlier engines gave unwritten memory: a shadow address and a width
    re.compile(r"^mem@0x(?P<addr>[0-9a-f]+)\.(?P<bits>\d+)$"),
    re.compile(r"^mem_(?P<addr>[0-9a-f]+)_\d+_(?P<bits>\d+)$"),  # angr's default filler
)
# Shadow addresses of the stack: entry RSP - STACK_RESERVE up to well above any caller window.
_SHADOW_LOW, _SHADOW_HIGH = STACK_SHADOW - STACK_RESERVE, STACK_SHADOW + 0x1_0000


def default_value(seed: str, name: str, bits: int) -> int:
    """A value for an input nobody chose: a hash of (seed, name), so it is fixed and distinct per input."""
    digest = hashlib.blake2b(f"{seed}\0{name}".encode(), digest_size=bits // 8).digest()
    return int.from_bytes(digest, "little")


def default_bytes(seed: str, name: str, size: int) -> bytes:
    """Initial bytes of a whole region nobody chose (a seeded pattern, the same on every run)."""
    return _random.Random(f"{seed}\0{name}").randbytes(size)


@dataclass
class CalleeOutputs:
    """What the n-th call to one callee returns (the concrete counterpart of the go-abi0 model's fresh symbols).

    Anything left out gets the default for its name, ``<callee>#<n>.<what>``.
    """

    regs: dict[str, int] = field(default_factory=dict)  # GPRs but rsp, xmm0-xmm15
    rflags: int | None = None  # arithmetic bits only are used
    frame: dict[int, int] = field(default_factory=dict)  # offset from the first argument word -> word
    through: dict[tuple[int, int], int] = field(default_factory=dict)  # (pointer_at, offset) -> word


@dataclass
class ConcreteInputs:
    """Every input of one concrete run."""

    regs: dict[str, int]  # all 16 GPRs (rsp = the host's entry RSP, pointing at its return address) and xmm0-15
    rflags: int = 0  # arithmetic flag bits at entry (masked with 0x8d5); DF is always clear at entry
    callees: dict[tuple[str, int], CalleeOutputs] = field(default_factory=dict)  # (callee, ordinal) -> outputs
    stack: dict[int, bytes] = field(default_factory=dict)  # offset from entry RSP -> initial bytes there
    memory: dict[int, bytes] = field(default_factory=dict)  # absolute address -> initial bytes
    named: dict[tuple[str, int], bytes] = field(default_factory=dict)  # (region, offset) -> initial bytes
    callback_index: int | None = None  # callbackasm-table convention: which table entry the host called
    seed: str = DEFAULT_SEED  # defaults for everything not given
    ignored: tuple[str, ...] = ()  # witness names that have no concrete counterpart here

    def __post_init__(self) -> None:
        for reg in GPRS + XMMS:
            if reg not in self.regs:
                self.regs[reg] = DEFAULT_RSP if reg == "rsp" else default_value(self.seed, f"entry.{reg}", width(reg))
        self.rflags &= ARITH_FLAGS_MASK

    @property
    def rsp(self) -> int:
        return self.regs["rsp"]

    def callee_value(self, callee: str, ordinal: int, what: str, bits: int) -> int:
        """The value the model's symbol ``<callee>#<ordinal>.<what>`` takes in this run."""
        out = self.callees.get((callee, ordinal))
        value = None
        if out is not None:
            if what == "rflags":
                value = out.rflags
            elif (m := _FRAME.match(what)) is not None:
                value = out.frame.get(int(m["off"], 16))
            elif (m := _THROUGH.match(what)) is not None:
                value = out.through.get((int(m["at"], 16), int(m["off"], 16)))
            else:
                value = out.regs.get(what)
        if value is None:
            value = default_value(self.seed, f"{callee}#{ordinal}.{what}", bits)
        return value & ((1 << bits) - 1)

    # ---- construction -------------------------------------------------------------------------

    @classmethod
    def from_witness(cls, inputs: dict[str, int | str], *, seed: str = DEFAULT_SEED) -> ConcreteInputs:
        """Turn a Violation's ``inputs`` (symbol name -> value, ints or hex strings) into concrete inputs.

        Names the witness leaves out get the deterministic default of ``seed``; names with no concrete
        counterpart are kept in ``ignored`` (``confirm`` reports them if the replay does not reproduce).
        """
        regs: dict[str, int] = {}
        rflags, index = 0, None
        callees: dict[tuple[str, int], CalleeOutputs] = {}
        stack: dict[int, bytes] = {}
        memory: dict[int, bytes] = {}
        named: dict[tuple[str, int], bytes] = {}
        ignored = []
        for name, raw in sorted(inputs.items()):
            value = int(raw, 0) if isinstance(raw, str) else int(raw)
            if (m := _ENTRY.match(name)) is not None:
                what = m["what"]
                if what in GPRS or what in XMMS:
                    regs[what] = value & ((1 << width(what)) - 1)
                elif what == "rflags":
                    rflags = value
                elif what == "callback_index":
                    index = value
                else:
                    ignored.append(name)
                continue
            if (m := _CALLEE.match(name)) is not None:
                out = callees.setdefault((m["callee"], int(m["n"])), CalleeOutputs())
                what = m["what"]
                if what == "rflags":
                    out.rflags = value
                elif (f := _FRAME.match(what)) is not None:
                    out.frame[int(f["off"], 16)] = value
                elif (t := _THROUGH.match(what)) is not None:
                    out.through[(int(t["at"], 16), int(t["off"], 16))] = value
                elif what in GPRS and what != "rsp" or what in XMMS:
                    out.regs[what] = value
                else:
                    ignored.append(name)
                continue
            if (m := _INIT_ABS.match(name) or _INIT.match(name)) is not None:
                size = 1 if m["byte"] else 8
                data = (value & ((1 << 8 * size) - 1)).to_bytes(size, "little")
                if "addr" in m.groupdict():
                    memory[int(m["addr"], 16)] = data
                else:
                    offset = int(m["off"], 16) * (-1 if m["sign"] == "-" else 1)
                    if m["region"] == "stack":
                        stack[offset] = data
                    else:
                        named[(m["region"], offset)] = data
                continue
            mem = next((m for p in _MEM if (m := p.match(name)) is not None), None)
            if mem is not None:
                address, bits = int(mem["addr"], 16), int(mem["bits"])
                data = (value & ((1 << bits) - 1)).to_bytes(bits // 8, "little")
                if _SHADOW_LOW <= address < _SHADOW_HIGH:
                    stack[address - STACK_SHADOW] = data
                else:
                    memory[address] = data
                continue
            ignored.append(name)
        return cls(regs=regs, rflags=rflags, callees=callees, stack=stack, memory=memory, named=named,
                   callback_index=index, seed=seed, ignored=tuple(ignored))

    @classmethod
    def random(cls, rng: _random.Random, *, pinned: dict[str, int] | None = None,
               callback_entries: int | None = None) -> ConcreteInputs:
        """Uniformly random registers and flags, an entry RSP the convention allows (8 mod 16), and a
        seed drawn from ``rng`` for everything else (callee outputs, stack and world bytes).

        ``pinned`` fixes registers the case binds (``entry_convention.registers``);
        ``callback_entries`` draws a callbackasm table index below it.
        """
        regs = {r: rng.getrandbits(width(r)) for r in GPRS + XMMS}
        low, high = LOWEST_STACK + STACK_RESERVE, HIGHEST_STACK
        regs["rsp"] = rng.randrange(low // 16, high // 16) * 16 + 8
        regs.update(pinned or {})
        rflags = rng.getrandbits(64)
        index = rng.randrange(callback_entries) if callback_entries else None
        seed = f"random-{rng.getrandbits(64):016x}"
        return cls(regs=regs, rflags=rflags, callback_index=index, seed=seed)
