"""Reports: the Markdown and HTML writers, `symabi report`, and the HTML page in a real headless browser.

The writers are checked on real results (the shipped crosscall2 and a mutant that drops the XMM7
restore), on synthetic results for what the shipped cases do not produce (unknowns, a replay
status, equivalence differences, hostile text), and the HTML page is rendered by Chromium.
"""

from __future__ import annotations

import os
import re
import shutil
import struct
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest
from typer.testing import CliRunner

from symabi.casefile import parse_case
from symabi.cli import app
from symabi.prover import prove_case
from symabi.verdicts import (
    Difference,
    Equivalence,
    ListingRow,
    SourceLine,
    Unknown,
    Verdict,
)
from symabi.writers import html, markdown
from symabi.writers.disasm import disassemble, hex_bytes

from conftest import CASES, mutate

pytestmark = pytest.mark.slow

XMM7_RESTORE = "\tMOVUPS\t(10*8)(SP), X7\t\\\n"


def _mutant_dir(root: Path) -> Path:
    target = root / "cases" / "crosscall2"
    shutil.copytree(CASES / "crosscall2", target)
    mutate(target / "new" / "abi_amd64.h", XMM7_RESTORE, "")
    return root / "cases"


@pytest.fixture(scope="module")
def mutant_cases(tmp_path_factory) -> Path:
    return _mutant_dir(tmp_path_factory.mktemp("reports"))


@pytest.fixture(scope="module")
def proved(toolchain):
    return prove_case(parse_case(CASES / "crosscall2"), toolchain)


@pytest.fixture(scope="module")
def refuted(toolchain, mutant_cases):
    return prove_case(parse_case(mutant_cases / "crosscall2"), toolchain)


def _violation(result):
    (v,) = result.judged.violations
    return v


# --- Markdown -------------------------------------------------------------------------------------


def test_markdown_proved_leads_with_the_summary_and_prints_the_assumptions(proved):
    text = markdown.render(proved)
    head = text.split("\n## ", 1)[0]
    assert "`crosscall2`" in head and "PROVED" in head
    assert "| version | verdict |" in head
    assert re.search(r"\| old \| \S+ \*\*PROVED\*\* \|", head)
    assert re.search(r"\| \*\*new\*\* \(judged\) \| \S+ \*\*PROVED\*\* \|", head)
    assert "Counterexamples" not in text
    # the assumptions: contract and obligations, entry convention, callee model, callees, deviations
    assert "**Contract `windows-x64`**" in text
    assert "| `preserve-xmm15` | `xmm15` | callee-saved |" in text
    for section in proved.assumptions:
        assert f"**{markdown.text(section)}**" in text
    assert "runtime.cgocallback: 24 bytes of arguments" in text
    assert "- new: NOFRAME added to the Windows TEXT line" in text
    assert "- old: frame pointer:" in text


def test_markdown_refuted_mutant_shows_the_counterexample(refuted):
    text = markdown.render(refuted)
    v = _violation(refuted)
    assert text.startswith("## symabi: `crosscall2` — ❌ **REFUTED** (new)")
    assert re.search(r"\| \*\*new\*\* \(judged\) \| ❌ \*\*REFUTED\*\* \| 1 \|", text)
    # entry, old exit, new exit side by side; XMM as all 128 bits; the old version keeps the value
    assert len(v.entry) == len(v.exit) == 2 + 32 and v.entry != v.exit
    assert "| obligation | witness | entry | old exit | new exit |" in text
    row = next(line for line in text.splitlines() if line.startswith("| `preserve-xmm7`"))
    cells = [c.strip() for c in row.strip("|").split(" | ")]
    assert cells[1] == "new · path 0"
    assert cells[2] == f"`{v.entry}`"
    assert cells[3] == f"`{v.entry}` (holds on every path)"
    assert cells[4] == f"**`{v.exit}`** ✗"
    # where it fails, the witness, and the path as source lines
    assert "**new · path 0** (returns to the caller) fails `preserve-xmm7` at" in text
    assert f"`{v.site.location}` `RET`" in text
    assert f"`entry.xmm7` = `{v.inputs['entry.xmm7']}`" in text
    assert "asm_amd64.s:41  SUBQ $24, SP" in text
    assert "asm_amd64.s:47  CALL runtime.cgocallback(SB)" in text
    assert "asm_amd64.s:51  RET  ← fails here" in text
    assert "MOVUPS 96(SP), X8" in text and "MOVUPS 80(SP), X7" not in text  # the restore is gone


def test_markdown_equivalence_unknowns_and_replay(refuted):
    v = _violation(refuted)
    new = refuted.judged
    unknown = Unknown("return-to-caller", 1, "the path jumps to an address the inputs choose",
                      SourceLine(0x400100, "t.s:9", "JMP AX"))
    changed = replace(new, violations=(replace(v, replay="confirmed"),), unknowns=(unknown,))
    old = replace(refuted.versions[0], verdict=Verdict.UNKNOWN, error="loader: relocation R_WEIRD", paths=(),
                  listing=())
    eq = Equivalence("old", "new", Verdict.REFUTED, (
        Difference("behavioural", "xmm7 at return", "0x0", "0x1", "the old version keeps XMM7"),
        Difference("stack-layout", "call 1 (runtime.cgocallback) argument 1", "0x3fffffffffe0", "0x3fffffffff00",
                   "the frame moved", stack_delta=-0xe0, inputs={"entry.rsp": "0x3ffff0000008"}),
    ))
    text = markdown.render(replace(refuted, versions=(old, changed), equivalence=eq))
    assert "| old ≡ new | ❌ **REFUTED** | 2 differences |" in text
    assert "## old ≡ new: ❌ **REFUTED**" in text
    assert "2 differences: 1 behavioural, 1 stack-layout." in text
    assert "| behavioural | xmm7 at return | `0x0` | `0x1` | the old version keeps XMM7 |" in text
    assert "the frame moved (they differ by the stack-relative constant -0xe0)" in text
    assert "witness: `entry.rsp` = `0x3ffff0000008`" in text
    assert "## Unknowns" in text
    assert ("- **new** `return-to-caller` on path 1 at `t.s:9` `JMP AX`: "
            "the path jumps to an address the inputs choose") in text
    assert "- **old**: the whole version: loader: relocation R\\_WEIRD" in text
    assert "concrete replay: confirmed" in text
    # the old version is no longer checked, so its exit says so rather than inventing a value
    row = next(line for line in text.splitlines() if line.startswith("| `preserve-xmm7`"))
    assert "not checked" in row


def _hostile(result):
    """A result whose every text field tries to break out of Markdown and HTML."""
    evil = "<script>alert(1)</script> | `x` $a$ **b** </td>"
    new = result.judged
    v = _violation(result)
    site = SourceLine(v.site.address, "evil<b>.s:1", "RET <img src=x onerror=alert(1)>")
    bad = replace(v, detail=evil, site=site, path_lines=(site,), inputs={"<k>": "`|`"})
    listing = (ListingRow(v.site.address, "<sym>", "e.s:1", "MOVQ $1, <AX>", b"\xc3"),)
    versions = (replace(new, name="n<e>w", revision=evil, deviations=(evil,), violations=(bad,), listing=listing),)
    return replace(result, case="c<a>se", summary=evil, assumptions={"<sec>": (evil,)}, versions=versions,
                   equivalence=Equivalence("o<", "n>", Verdict.UNKNOWN, (Difference("k", evil, evil, None, evil),),
                                           reason=evil))


def test_markdown_escapes_markup(refuted):
    text = markdown.render(_hostile(refuted))
    assert "\\<script\\>alert(1)\\</script\\> \\| \\`x\\` \\$a\\$ \\*\\*b\\*\\*" in text
    # outside code (fenced blocks, code spans) no raw HTML but the report's own <details>, <summary>, <br>
    prose = re.sub(r"^```.*?^```", "", text, flags=re.S | re.M)
    prose = re.sub(r"(`+)(?!`).*?(?<!`)\1(?!`)", "", prose)
    assert not re.findall(r"(?<!\\)<(?!/?details>|/?summary>|br>|details><summary>)", prose)
    # a code span around backticks and pipes inside a table cell
    assert markdown.code("a`b|c", in_table=True) == "`` a`b\\|c ``"
    # every pipe that is not a cell border is escaped: each table keeps its header's column count
    tables: list[list[str]] = []
    previous = ""
    for line in text.splitlines():
        if line.startswith("|"):
            if not previous.startswith("|"):
                tables.append([])
            tables[-1].append(line)
        previous = line
    assert tables
    for table in tables:
        counts = {len(re.findall(r"(?<!\\)\|", row)) for row in table}
        assert len(counts) == 1, table


# --- HTML -----------------------------------------------------------------------------------------


def test_html_is_self_contained_and_shows_both_listings(refuted):
    page = html.render(refuted)
    assert page.startswith("<!DOCTYPE html>")
    assert "<style>" in page
    for external in ("<script", "<link", "src=", "http://", "https://", "url(", "@import"):
        assert external not in page, external
    old, new = refuted.versions
    # every instruction of both versions: address, source line, assembler text, bytes, capstone
    for vi, version in enumerate(refuted.versions):
        assert version.listing
        for row in version.listing:
            tr = re.search(rf'<tr id="v{vi}-a{row.address:x}" class="[^"]*">(.*?)</tr>', page)
            assert tr, (version.name, hex(row.address))
            cells = re.findall(r"<td[^>]*>(.*?)</td>", tr.group(1))
            assert cells[0] == f"{row.address:x}"
            assert cells[2] == row.location.rpartition(":")[2]  # one source file: the line number
            assert cells[3] == html.e(row.text)
            assert cells[4] == hex_bytes(row.code)
            assert cells[5] == html.e(disassemble(row.code, row.address))
    assert "MOVUPS X7, 80(SP)" in page and "movups %xmm7, 0x50(%rsp)" in page
    # the failing instruction is marked, and the violating path is the one selected by default
    v = _violation(refuted)
    assert re.search(rf'<tr id="v1-a{v.site.address:x}" class="p0 site">', page)
    assert 'data-why="preserve-xmm7"' in page
    assert '<input type="radio" class="pick" name="v1-path" id="v1-p0" checked>' in page
    assert "#v1-p0:checked ~ .scroll tr.p0 td { background: var(--hl); }" in page


def test_html_counterexample_assumptions_and_equivalence(refuted):
    v = _violation(refuted)
    eq = Equivalence("old", "new", Verdict.REFUTED, (
        Difference("behavioural", "xmm7 at return", v.entry, v.exit, "XMM7 at return differs"),
    ))
    page = html.render(replace(refuted, equivalence=eq))
    table = re.search(r'<table class="grid cxtable">.*?</table>', page, re.S).group(0)
    assert "<th>entry</th><th>old exit</th><th>new exit</th>" in table
    assert f"<code>{v.entry}</code>" in table
    assert "holds on every path" in table
    assert '<td class="violated value"><code>0x' in table and "<mark>1</mark></code> ✗" in table
    assert 'class="badge refuted"' in page and 'class="badge proved"' in page
    assert '<h2 id="equivalence">old ≡ new <span class="badge refuted">REFUTED</span></h2>' in page
    assert '<span class="kind k-behavioural">behavioural</span>' in page
    assert "Contract <code>windows-x64</code>" in page
    for section in refuted.assumptions:
        assert f"<h3>{html.e(section)}</h3>" in page
    assert "NOFRAME added to the Windows TEXT line" in page


def test_html_escapes_everything(refuted):
    page = html.render(_hostile(refuted))
    assert "<script>" not in page and "<img" not in page and "<sym>" not in page and "<AX>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "RET &lt;img src=x onerror=alert(1)&gt;" in page
    assert 'title="fails here: &lt;script&gt;' not in page  # obligation ids only, and escaped
    assert "&lt;sec&gt;" in page and "n&lt;e&gt;w" in page


def test_html_disassembles_an_arm64_go_to_host_case_as_arm64(toolchain):
    # the disassembly column follows the port's architecture, not the contract's name (go-to-host is one
    # name on both architectures)
    result = prove_case(parse_case(CASES / "asmcgocall_no_g_arm64"), toolchain)
    assert result.contract == "go-to-host" and result.arch == "arm64"
    page = html.render(result)
    row = result.judged.listing[0]
    assert html.e(disassemble(row.code, row.address, "arm64")) in page
    assert disassemble(row.code, row.address, "arm64") != disassemble(row.code, row.address)


def test_disasm_reads_the_bytes_independently():
    assert disassemble(bytes.fromhex("440f11bc2480000000"), 0x400000) == "movups %xmm15, 0x80(%rsp)"
    assert disassemble(bytes.fromhex("9cfc")) == "pushfq; cld"
    assert disassemble(b"\x0f") == "(bad: 0f)"
    assert disassemble(b"") == ""
    assert hex_bytes(b"\x48\x83\xec\x18") == "48 83 ec 18"


# --- the command ----------------------------------------------------------------------------------


def test_report_command_markdown_to_stdout_exits_by_the_judged_verdict(mutant_cases):
    result = CliRunner().invoke(app, ["report", "crosscall2", "--format", "md", "--cases-dir", str(mutant_cases)])
    assert result.exit_code == 1, result.stderr
    assert result.stdout.startswith("## symabi: `crosscall2` — ❌ **REFUTED** (new)")
    assert "`preserve-xmm7`" in result.stdout
    assert result.stderr == ""


def test_report_command_html_to_a_file(tmp_path):
    out = tmp_path / "crosscall2.html"
    result = CliRunner().invoke(app, ["report", "crosscall2", "--format", "html", "--version", "new", "-o", str(out)])
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    page = out.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and 'class="badge proved"' in page


@pytest.mark.parametrize("args", [
    ["report", "no-such-case", "--format", "md"],
    ["report", "crosscall2", "--format", "html", "-o", "/no/such/folder/report.html"],
])
def test_report_command_bad_input_is_one_error_line(args):
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("symabi: error: "), result.stderr


# --- a real browser -------------------------------------------------------------------------------

CHROMIUM = shutil.which("chromium")
needs_chromium = pytest.mark.skipif(CHROMIUM is None and not os.environ.get("CI"),
                                    reason="chromium is not installed (CI installs it and runs these)")


def _chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    assert CHROMIUM, "chromium is required in CI (see .ci/run)"
    profile = tmp_path / "chromium-profile"
    profile.mkdir(exist_ok=True)
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           "--disable-dev-shm-usage", f"--user-data-dir={profile}", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=180, check=False)


@pytest.fixture(scope="module")
def refuted_page(refuted, tmp_path_factory) -> Path:
    page = tmp_path_factory.mktemp("page") / "report.html"
    page.write_text(html.render(refuted), encoding="utf-8")
    return page


@needs_chromium
def test_browser_shows_what_a_reviewer_must_see(refuted, refuted_page, tmp_path):
    run = _chromium(tmp_path, "--dump-dom", refuted_page.as_uri())
    assert run.returncode == 0, run.stderr[-2000:]
    dom = run.stdout
    v = _violation(refuted)
    text = re.sub(r"<[^>]+>", "", dom)
    for needed in ("crosscall2", "REFUTED", "PROVED", "judged version: new", "preserve-xmm7", v.entry,
                   "holds on every path", "old exit", "new exit", "Listings", "Go assembler", "capstone",
                   "MOVUPS X7, 80(SP)", "movups %xmm7, 0x50(%rsp)", "0f 11 7c 24 50", "path 0 · returned ✗",
                   "Assumptions", "callee model go-abi0", "runtime.cgocallback"):
        assert needed in text, needed
    assert v.exit[:-1] in text  # the differing digit is wrapped in <mark>
    assert 'id="v1-p0" checked=""' in dom


@needs_chromium
def test_browser_screenshot(refuted_page, tmp_path):
    shot = tmp_path / "report.png"
    run = _chromium(tmp_path, f"--screenshot={shot}", "--window-size=1400,2000", refuted_page.as_uri())
    assert run.returncode == 0, run.stderr[-2000:]
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    assert (width, height) == (1400, 2000)
    assert len(data) > 50_000  # a blank page of that size compresses to a few kilobytes


# --- a long report: sigtramp, ten registers fixed on six paths (issue 16) -------------------------------

@pytest.fixture(scope="module")
def sigtramp(toolchain):
    return prove_case(parse_case(CASES / "sigtramp"), toolchain)


def test_registers_that_differ_together_are_one_row(sigtramp):
    text = markdown.render(sigtramp)
    rows = [line for line in text.splitlines() if line.startswith("| contract-fix |")]
    assert len(rows) == 1 and rows[0].startswith("| contract-fix | XMM6–XMM15 at return |")
    page = html.render(sigtramp)
    assert page.count('class="kind k-contract-fix"') == 1
    # six failing paths, one failure: one card, a chip per path (the g = nil paths' no-fault: its own card)
    assert page.count('<div class="cx">') == 3  # old: no-fault, XMM; new: no-fault
    for path in (3, 4, 8, 9, 13, 14):
        assert f'<label for="v0-p{path}" class="chip bad"' in page


PROBE = """<script>addEventListener('load', () => {
  const r = {listings: document.getElementById('listings').getBoundingClientRect().top + scrollY};
  const asm = [...document.querySelectorAll('table.listing td.asm')].map(t => t.getBoundingClientRect().height);
  r.asm_lines = Math.max(...asm) / Math.min(...asm);
  r.clicked = [...document.querySelectorAll('.cx label.chip')].map(chip => {
    chip.click(); return document.getElementById(chip.htmlFor).checked ? chip.htmlFor : 'not ' + chip.htmlFor; });
  const out = document.createElement('pre'); out.id = 'probe'; out.textContent = JSON.stringify(r);
  document.body.appendChild(out); });</script>"""


@needs_chromium
def test_browser_listings_come_early_and_cards_select_their_path(sigtramp, tmp_path):
    import json

    page = tmp_path / "sigtramp.html"
    page.write_text(html.render(sigtramp).replace("</body>", PROBE + "</body>"), encoding="utf-8")
    run = _chromium(tmp_path, "--window-size=1400,2000", "--dump-dom", page.as_uri())
    assert run.returncode == 0, run.stderr[-2000:]
    probe = json.loads(re.search(r'<pre id="probe">(.*?)</pre>', run.stdout, re.S).group(1))
    # was 2,250 px below ten contract-fix rows; now three counterexample cards (old: no-fault and the XMM
    # registers, new: no-fault) come first, each about 1,200 px; a card's height varies with the witness the
    # solver picks (how many inputs it names, how long their values are), hence the margin
    assert probe["listings"] < 3 * 1300
    assert probe["asm_lines"] < 1.2  # every Go assembler cell is one line: nothing breaks mid-word
    # chips select their path in the version's listing: old (v0) first, then new (v1)
    assert probe["clicked"] == [f"v0-p{p}" for p in (1, 6, 11, 3, 4, 8, 9, 13, 14)] + [f"v1-p{p}" for p in (1, 6, 11)]
