"""The real Go assembler's complaints reach the user as AssemblerError with file:line."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from symabi.errors import AssemblerError, SymabiError
from symabi.frontend import AssembleRequest, assemble
from symabi.toolchain import GoToolchain

from conftest import write_asm


def _error(assemble_snippet, body: str) -> str:
    with pytest.raises(AssemblerError) as info:
        assemble_snippet(body)
    message = str(info.value)
    assert "Traceback" not in message
    assert not re.search(r"^\s*asm: assembly (of \S+ )?failed", message, re.M), "the summary line is noise"
    return message


def test_unknown_instruction(assemble_snippet):
    message = _error(assemble_snippet, """
        TEXT ·f(SB),NOSPLIT,$0-0
        	FOO	AX
        	RET
        """)
    assert re.search(r"t\.s:4: unrecognized instruction \"FOO\"", message)


def test_bad_register(assemble_snippet):
    message = _error(assemble_snippet, """
        TEXT ·f(SB),NOSPLIT,$0-0
        	MOVQ	R99, AX
        	RET
        """)
    assert re.search(r"t\.s:4: .*R99", message)


def test_missing_include(assemble_snippet):
    message = _error(assemble_snippet, """
        #include "nothere.h"
        TEXT ·f(SB),NOSPLIT,$0-0
        	RET
        """)
    # The directive is on line 3; the Go assembler reports the line after it (its lexer is past the newline).
    assert re.search(r"t\.s:4: #include: .*nothere\.h", message)


def test_unbalanced_push_pop_points_at_the_text_line(assemble_snippet):
    # The assembler names only the symbol ("asm: x.g: unbalanced PUSH/POP"); symabi finds its TEXT line.
    message = _error(assemble_snippet, """
        TEXT ·f(SB),NOSPLIT,$0-0
        	RET

        TEXT ·g(SB),NOSPLIT,$0-0
        	PUSHQ	AX
        	RET
        """)
    assert re.search(r"t\.s:6: x\.g: unbalanced PUSH/POP", message)


def test_unbalanced_push_pop_in_the_branch_the_defines_keep(assemble_snippet):
    # crosscall2 has one TEXT line per #ifdef branch: the diagnostic names the one assembled for Windows.
    message = _error(assemble_snippet, """
        #ifndef GOOS_windows
        TEXT ·f(SB),NOSPLIT,$0-0
        	RET
        #else
        TEXT ·f(SB),NOSPLIT|NOFRAME,$0-0
        	PUSHFQ
        	RET
        #endif
        """)
    assert re.search(r"t\.s:7: x\.f: unbalanced PUSH/POP", message)


def test_diagnostics_name_the_file_so_it_can_be_opened(tmp_path, assemble_snippet):
    message = _error(assemble_snippet, """
        TEXT ·f(SB),NOSPLIT,$0-0
        	FOO	AX
        """)
    where = re.search(r"(\S+):4: unrecognized", message).group(1)
    assert Path(where).resolve() == (tmp_path / "asm" / "t.s").resolve()


def test_missing_source_file(tmp_path, toolchain):
    with pytest.raises(AssemblerError, match="no such assembly file"):
        assemble(toolchain, AssembleRequest(tmp_path / "absent.s"))


def test_assembler_that_cannot_run(tmp_path, toolchain):
    broken = GoToolchain(go=toolchain.go, goroot=toolchain.goroot, version="go0", asm=tmp_path / "no-asm")
    source = write_asm(tmp_path, "TEXT ·f(SB),0,$0-0\n\tRET\n")
    with pytest.raises(AssemblerError, match="cannot run the Go assembler"):
        assemble(broken, AssembleRequest(source))


def test_assembler_errors_are_symabi_errors():
    # the CLI turns every SymabiError into one message and exit code 2
    assert issubclass(AssemblerError, SymabiError)


def test_runtime_package_gets_std(toolchain):
    cmd = AssembleRequest(Path("a.s"), package="runtime/cgo").command(toolchain, Path("o.o"))
    assert cmd[cmd.index("-p") + 1] == "runtime/cgo" and "-std" in cmd
    assert "GOOS_windows" in cmd and "GOARCH_amd64" in cmd and cmd[-1] == "a.s"
    assert "-std" not in AssembleRequest(Path("a.s"), package="x").command(toolchain, Path("o.o"))


# --- the toolchain ------------------------------------------------------------------------------------


def test_pinned_toolchain(toolchain):
    assert toolchain.version.startswith("go1.")
    assert toolchain.asm.is_file() and (toolchain.include_dir / "textflag.h").is_file()


def test_toolchain_follows_the_environment(monkeypatch, toolchain):
    from symabi.errors import ToolchainError
    from symabi.toolchain import find_toolchain

    monkeypatch.delenv("SYMABI_GO", raising=False)
    assert find_toolchain() == toolchain
    monkeypatch.setenv("SYMABI_GO", "/nonexistent/go")  # read on every call, not cached
    with pytest.raises(ToolchainError, match="SYMABI_GO names /nonexistent/go"):
        find_toolchain()
    monkeypatch.setenv("SYMABI_GO", str(toolchain.go))
    assert find_toolchain().go == toolchain.go


def test_text_line_lookup_follows_nested_conditionals(tmp_path):
    from symabi.frontend.assembler import _locate_text

    source = tmp_path / "n.s"
    source.write_text("\n".join([
        "#define HAVE_X",            # 1
        "#ifdef GOOS_linux",         # 2
        "TEXT ·f(SB),0,$0-0",        # 3  not for windows
        "#else",                     # 4
        "#ifndef HAVE_X",            # 5
        "TEXT ·f(SB),0,$0-0",        # 6  HAVE_X is defined above
        "#else",                     # 7
        "TEXT ·gf(SB),0,$0-0",       # 8  another symbol whose name ends in f
        "TEXT ·f(SB),0,$0-0",        # 9  the one the assembler keeps
        "#endif",                    # 10
        "#endif",                    # 11
    ]) + "\n")
    assert _locate_text(source, "x.f", {"GOOS_windows", "GOARCH_amd64"}) == "n.s:9"
    assert _locate_text(source, "x.gf", {"GOOS_windows"}) == "n.s:8"
    assert _locate_text(source, "x.h", {"GOOS_windows"}) == "n.s"  # not found: the file alone


def test_listing_cache_is_keyed_by_content(tmp_path, toolchain, monkeypatch):
    from symabi.frontend import assembler

    monkeypatch.setenv("SYMABI_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("SYMABI_NO_CACHE", raising=False)
    source = tmp_path / "src" / "t.s"
    source.parent.mkdir()
    (source.parent / "defs.h").write_text("#define N 8\n")
    source.write_text('#include "textflag.h"\n#include "defs.h"\nTEXT ·f(SB),NOSPLIT|NOFRAME,$0-0\n\tADDQ\t$N, AX\n\tRET\n')
    request = AssembleRequest(source, (source.parent,))
    first = assemble(toolchain, request)

    def no_assembler(*args, **kwargs):
        raise AssertionError("the assembler ran although the input did not change")

    monkeypatch.setattr(assembler, "_run_assembler", no_assembler)
    assert assemble(toolchain, request) == first  # warm: read back from the cache
    (source.parent / "defs.h").write_text("#define N 16\n")  # a header changed: the key changes
    with pytest.raises(AssertionError, match="the assembler ran"):
        assemble(toolchain, request)
