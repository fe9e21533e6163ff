"""Concrete inputs for a replay, and how they map onto the engine's input symbols.

The oracle fixes what a witness names and draws everything else itself: a value nobody chose is a
hash of (``seed``, the input's name), so a run is reproducible, two inputs almost never share a value
by accident, and nothing the symbolic model assumes leaks in. Input names and their concrete homes:

    entry.<reg>                     ConcreteInputs.regs[<reg>]  (16 GPRs, xmm0-xmm15 as 128-bit ints)
    entry.rflags                    arithmetic bits 0x8d5 at entry (IF, bit 1 set; DF, TF clear always)
    entry.ac, entry.id              RFLAGS.AC (bit 18) and RFLAGS.ID (bit 21) at entry, one bit each
    entry.return_address            the address the host's CALL pushed; "returned" means reaching it
    entry.callback_index            ConcreteInputs.callback_index
    world.<region>                  the base address of a world region (the TEB, m, g0, ...)
    <callee>#<n>.<reg>              a register after the n-th call to <callee> (every GPR but rsp, xmm0-15)
    <callee>#<n>.rflags             its arithmetic flags after that call
    <callee>#<n>.ymm<i>.high        the upper 128 bits of YMMi a host callee leaves
    <callee>#<n>.frame+0x<o>        its argument/result word at callee RSP + 8 + o
    <callee>#<n>.*frame+0x<p>+0x<o> the word it writes at *(frame+p) + o
    <callee>#<n>.below-0x<d>        the word it leaves at callee entry RSP - d (its own frame)
    <callee>#<n>.home+0x<o>         a host callee's home-area or stack-argument word at callee entry RSP + 8 + o
    below-rsp#<k>.stack-0x<d>       the k-th read below the then-current RSP: the byte at entry RSP - d
    cpuid#<n>.eax|ebx|ecx|edx       what the n-th CPUID returns
    init.stack-0x<o>                the 8-byte word the caller left at entry RSP - o: stack[-o]
    init.stack+0x<o>(.b)            (".b": one byte); little-endian, like every memory input
    init.<region>+0x<o>(.b)         a word (byte) of a world region or data symbol nobody wrote:
                                    named[(region, o)]
    init.mem@0x<a>(.b)              a word (byte) at an absolute address: memory[a]
    mem@0x<a>.<bits>, mem_<a>_<k>_<bits>
                                    earlier engine names (shadow address <a>, bits/8 bytes): stack
                                    when <a> is a stack shadow address (STACK_SHADOW + offset), else memory
"""

from __future__ import annotations

import hashlib
import random as _random
import re
from collections.abc import Mapping
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

_ENTRY = re.compile(r"^entry\.(?P<what>\w+)$")
_WORLD = re.compile(r"^world\.(?P<region>[A-Za-z_][\w./]*)$")
_CPUID = re.compile(r"^cpuid#(?P<n>\d+)\.(?P<reg>e[abcd]x)$")
_BELOW_RSP = re.compile(r"^below-rsp#(?P<k>\d+)\.stack-0x(?P<d>[0-9a-f]+)$")
_CALLEE = re.compile(r"^(?P<callee>.+)#(?P<n>\d+)\.(?P<what>.+)$")
_YMM_HIGH = re.compile(r"^ymm(1[0-5]|[0-9])\.high$")  # the AVX upper half a host callee leaves in YMMn
_CALLEE_WHAT = (
    re.compile(r"^(?P<kind>frame)\+0x(?P<a>[0-9a-f]+)$"),
    re.compile(r"^(?P<kind>\*frame)\+0x(?P<a>[0-9a-f]+)\+0x(?P<b>[0-9a-f]+)$"),
    re.compile(r"^(?P<kind>below)-0x(?P<a>[0-9a-f]+)$"),
    re.compile(r"^(?P<kind>home)\+0x(?P<a>[0-9a-f]+)$"),  # a host callee's home area (Windows x64)
)
_INIT_ABS = re.compile(r"^init\.mem@0x(?P<addr>[0-9a-f]+)(?P<byte>\.b)?$")
_INIT = re.compile(r"^init\.(?P<region>.+)(?P<sign>[+-])0x(?P<off>[0-9a-f]+)(?P<byte>\.b)?$")
_MEM = (  # names earlier engines gave unwritten memory: a shadow address and a width
    re.compile(r"^mem@0x(?P<addr>[0-9a-f]+)\.(?P<bits>\d+)$"),
    re.compile(r"^mem_(?P<addr>[0-9a-f]+)_\d+_(?P<bits>\d+)$"),  # angr's default filler
)
# Shadow addresses of the stack: entry RSP - STACK_RESERVE up to well above any caller window.
_SHADOW_LOW, _SHADOW_HIGH = STACK_SHADOW - STACK_RESERVE, STACK_SHADOW + 0x1_0000
_ENTRY_BITS = {"rflags": 64, "ac": 1, "id": 1, "return_address": 64}


def default_value(seed: str, name: str, bits: int) -> int:
    """A value for an input nobody chose: a hash of (seed, name), so it is fixed and distinct per input."""
    digest = hashlib.blake2b(f"{seed}\0{name}".encode(), digest_size=max(1, (bits + 7) // 8)).digest()
    return int.from_bytes(digest, "little") & ((1 << bits) - 1)


def default_bytes(seed: str, name: str, size: int) -> bytes:
    """Bytes of a whole area nobody chose (a seeded pattern, the same on every run with this seed)."""
    return _random.Random(f"{seed}\0{name}").randbytes(size)


def rng_for(seed: str, name: str) -> _random.Random:
    """The oracle's own random source for one decision (a layout, a frame size), fixed by the seed."""
    return _random.Random(f"{seed}\0{name}")


def callee_name(callee: str, ordinal: int, what: str) -> str:
    return f"{callee}#{ordinal}.{what}"


def _normalize_callee_what(what: str) -> str | None:
    """``frame+0x010`` -> ``frame+0x10`` (one spelling per input); None for an unknown output."""
    if what == "rflags" or what in XMMS or (what in GPRS and what != "rsp") or _YMM_HIGH.match(what):
        return what
    for pattern in _CALLEE_WHAT:
        if (m := pattern.match(what)) is not None:
            a = int(m["a"], 16)
            if m["kind"] == "frame":
                return f"frame+{a:#x}"
            if m["kind"] in ("below", "home"):
                return f"{m['kind']}{'-' if m['kind'] == 'below' else '+'}{a:#x}"
            return f"*frame+{a:#x}+{int(m['b'], 16):#x}"
    return None



def below_rsp_word(drawn: int, ordinal: int, depth: int, fixed: Mapping[str, int]) -> int:
    """The word at entry SP - ``depth`` that the ``ordinal``-th read below the stack pointer sees: ``drawn``,
    with each byte a witness fixes in ``fixed`` (the engine names each byte: ``below-rsp#<k>.stack-0x<d>``
    is the byte at entry SP - d) put in its place. Both oracles (amd64, arm64) read it this way."""
    word = drawn
    for i in range(8):  # byte i of the word lies at entry SP - (depth - i)
        byte = fixed.get(f"below-rsp#{ordinal}.stack-{depth - i:#x}")
        if byte is not None:
            word = word & ~(0xFF << 8 * i) | (byte & 0xFF) << 8 * i
    return word

@dataclass(frozen=True)
class ConcreteInputs:
    """Every input a witness (or a random trial) fixes; the rest is drawn from ``seed`` when asked."""

    regs: dict[str, int]  # all 16 GPRs (rsp = the host's entry RSP, pointing at its return address) and xmm0-15
    rflags: int | None = None  # arithmetic flag bits at entry (masked with 0x8d5); None: drawn
    callees: Mapping[str, int] = field(default_factory=dict)  # "<callee>#<n>.<what>" -> value
    stack: dict[int, bytes] = field(default_factory=dict)  # offset from entry RSP -> initial bytes there
    memory: dict[int, bytes] = field(default_factory=dict)  # absolute address -> initial bytes
    named: dict[tuple[str, int], bytes] = field(default_factory=dict)  # (region, offset) -> initial bytes
    callback_index: int | None = None  # callbackasm-table convention: which table entry the host called
    seed: str = DEFAULT_SEED  # everything not given is drawn from it
    ignored: tuple[str, ...] = ()  # witness names that have no concrete counterpart here
    world: Mapping[str, int] = field(default_factory=dict)  # region -> base address
    entry: Mapping[str, int] = field(default_factory=dict)  # "ac", "id", "return_address" when given
    events: Mapping[str, int] = field(default_factory=dict)  # "cpuid#<n>.<reg>", "below-rsp#<k>.stack-0x<d>"

    def __post_init__(self) -> None:
        if "rsp" not in self.regs:  # a stack the entry convention allows: 8 mod 16, within its range
            low, high = (LOWEST_STACK + STACK_RESERVE) // 16, HIGHEST_STACK // 16
            self.regs["rsp"] = (low + self.drawn("entry.rsp", 64) % (high - low)) * 16 + 8
        for reg in GPRS + XMMS:
            if reg not in self.regs:
                self.regs[reg] = self.drawn(f"entry.{reg}", width(reg))
        flags = self.rflags if self.rflags is not None else self.drawn("entry.rflags", 64)
        object.__setattr__(self, "rflags", flags & ARITH_FLAGS_MASK)

    @property
    def rsp(self) -> int:
        return self.regs["rsp"]

    def drawn(self, name: str, bits: int) -> int:
        """The oracle's own value for an input nobody fixed."""
        return default_value(self.seed, name, bits)

    def entry_bit(self, what: str) -> int:
        """``entry.ac`` / ``entry.id``: given, or drawn."""
        value = self.entry.get(what)
        return (value if value is not None else self.drawn(f"entry.{what}", 1)) & 1

    def callee_value(self, callee: str, ordinal: int, what: str, bits: int) -> int:
        """The value the model's symbol ``<callee>#<ordinal>.<what>`` takes in this run."""
        name = callee_name(callee, ordinal, _normalize_callee_what(what) or what)
        value = self.callees.get(name)
        return (value if value is not None else self.drawn(name, bits)) & ((1 << bits) - 1)

    def callee_fixed(self, callee: str, ordinal: int, what: str) -> int | None:
        """A callee output the witness fixes (None: the oracle draws it)."""
        return self.callees.get(callee_name(callee, ordinal, what))

    def cpuid(self, ordinal: int, reg: str) -> int:
        name = f"cpuid#{ordinal}.{reg}"
        value = self.events.get(name)
        return (value if value is not None else self.drawn(name, 32)) & 0xFFFF_FFFF

    def below_rsp(self, ordinal: int, depth: int, drawn: int) -> int:
        """The word at entry RSP - ``depth`` the ``ordinal``-th read below RSP sees: the bytes a witness
        fixes (the engine names each byte, ``below-rsp#<k>.stack-0x<d>`` for the byte at entry RSP - d), the
        others those of ``drawn``."""
        return below_rsp_word(drawn, ordinal, depth, self.events)

    # ---- construction -------------------------------------------------------------------------

    @classmethod
    def from_witness(cls, inputs: dict[str, int | str], *, seed: str = DEFAULT_SEED) -> ConcreteInputs:
        """Turn a Violation's ``inputs`` (symbol name -> value, ints or hex strings) into concrete inputs.

        Names the witness leaves out are drawn from ``seed``; names with no concrete counterpart are
        kept in ``ignored`` (``confirm`` reports them if the replay does not reproduce).
        """
        parts = _Parts()
        for name, raw in sorted(inputs.items()):
            if not parts.take(name, int(raw, 0) if isinstance(raw, str) else int(raw)):
                parts.ignored.append(name)
        return parts.build(seed)

    @classmethod
    def random(cls, rng: _random.Random, *, pinned: dict[str, int] | None = None,
               callback_entries: int | None = None) -> ConcreteInputs:
        """Uniformly random registers and flags, an entry RSP the convention allows (8 mod 16), and a
        seed drawn from ``rng`` for everything else (the world's layout, the return address, callee
        outputs and frames, stack and world bytes, CPUID, volatile stack).

        ``pinned`` fixes registers (tests); ``callback_entries`` draws a callbackasm table index below it.
        """
        regs = {r: rng.getrandbits(width(r)) for r in GPRS + XMMS}
        low, high = LOWEST_STACK + STACK_RESERVE, HIGHEST_STACK
        regs["rsp"] = rng.randrange(low // 16, high // 16) * 16 + 8
        regs.update(pinned or {})
        rflags = rng.getrandbits(64)
        index = rng.randrange(callback_entries) if callback_entries else None
        seed = f"random-{rng.getrandbits(64):016x}"
        return cls(regs=regs, rflags=rflags, callback_index=index, seed=seed)


@dataclass
class _Parts:
    """The witness's names, sorted into the homes ``ConcreteInputs`` keeps them in."""

    regs: dict[str, int] = field(default_factory=dict)
    entry: dict[str, int] = field(default_factory=dict)
    callees: dict[str, int] = field(default_factory=dict)
    stack: dict[int, bytes] = field(default_factory=dict)
    memory: dict[int, bytes] = field(default_factory=dict)
    named: dict[tuple[str, int], bytes] = field(default_factory=dict)
    world: dict[str, int] = field(default_factory=dict)
    events: dict[str, int] = field(default_factory=dict)
    ignored: list[str] = field(default_factory=list)

    def take(self, name: str, value: int) -> bool:
        return any(handler(name, value) for handler in (self._entry, self._world, self._event, self._callee,
                                                         self._init, self._mem))

    def build(self, seed: str) -> ConcreteInputs:
        rflags = self.entry.pop("rflags", None)
        index = self.entry.pop("callback_index", None)
        return ConcreteInputs(regs=self.regs, rflags=rflags, callees=self.callees, stack=self.stack,
                              memory=self.memory, named=self.named, callback_index=index, seed=seed,
                              ignored=tuple(self.ignored), world=self.world, entry=self.entry, events=self.events)

    def _entry(self, name: str, value: int) -> bool:
        if (m := _ENTRY.match(name)) is None:
            return False
        what = m["what"]
        if what in GPRS or what in XMMS:
            self.regs[what] = value & ((1 << width(what)) - 1)
        elif what in _ENTRY_BITS or what == "callback_index":
            self.entry[what] = value & ((1 << _ENTRY_BITS.get(what, 64)) - 1)
        else:
            return False
        return True

    def _world(self, name: str, value: int) -> bool:
        if (m := _WORLD.match(name)) is None:
            return False
        self.world[m["region"]] = value & (2**64 - 1)
        return True

    def _event(self, name: str, value: int) -> bool:
        if (m := _CPUID.match(name)) is not None:
            self.events[f"cpuid#{int(m['n'])}.{m['reg']}"] = value & 0xFFFF_FFFF
        elif (m := _BELOW_RSP.match(name)) is not None:
            self.events[f"below-rsp#{int(m['k'])}.stack-{int(m['d'], 16):#x}"] = value & 0xFF  # one byte each
        else:
            return False
        return True

    def _callee(self, name: str, value: int) -> bool:
        if (m := _CALLEE.match(name)) is None or (what := _normalize_callee_what(m["what"])) is None:
            return False
        self.callees[callee_name(m["callee"], int(m["n"]), what)] = value
        return True

    def _init(self, name: str, value: int) -> bool:
        if (m := _INIT_ABS.match(name) or _INIT.match(name)) is None:
            return False
        size = 1 if m["byte"] else 8
        data = (value & ((1 << 8 * size) - 1)).to_bytes(size, "little")
        if "addr" in m.groupdict():
            self.memory[int(m["addr"], 16)] = data
            return True
        offset = int(m["off"], 16) * (-1 if m["sign"] == "-" else 1)
        if m["region"] == "stack":
            self.stack[offset] = data
        else:
            self.named[(m["region"], offset)] = data
        return True

    def _mem(self, name: str, value: int) -> bool:
        mem = next((m for p in _MEM if (m := p.match(name)) is not None), None)
        if mem is None:
            return False
        address, bits = int(mem["addr"], 16), int(mem["bits"])
        data = (value & ((1 << bits) - 1)).to_bytes(bits // 8, "little")
        if _SHADOW_LOW <= address < _SHADOW_HIGH:
            self.stack[address - STACK_SHADOW] = data
        else:
            self.memory[address] = data
        return True
