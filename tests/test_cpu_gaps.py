"""The CPU module an image gets depends on its bytes, base and instructions alone (engine.cpu_arm64.gaps_for
hands images equal in those one module, made once)."""

from symabi.engine.cpu_arm64 import gaps_for
from symabi.loader import Image, Located

BASE = 0x401000


def image(code: bytes) -> Image:
    instructions = {BASE + i: Located(BASE + i, 1, "f", None) for i in range(len(code))}
    return Image(code=code, base=BASE, symbols={"f": BASE}, sizes={"f": len(code)}, kinds={"f": "STEXT"},
                 stubs={}, instructions=instructions)


def test_an_equal_image_shares_its_cpu_module_and_another_gets_its_own():
    pushf = gaps_for(image(b"\x9c\xc3"))  # PUSHFQ; RET
    assert pushf.pushf == {BASE}
    assert gaps_for(image(b"\x9c\xc3")) is pushf
    nop = gaps_for(image(b"\x90\xc3"))  # NOP; RET: other bytes at the same addresses
    assert nop is not pushf and nop.pushf == set()
