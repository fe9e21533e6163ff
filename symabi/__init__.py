"""symabi: a symbolic ABI checker for the assembly trampolines where a host calls into Go.

The package is laid out as the pipeline it runs:

    frontend   the real Go assembler and its -S listing
    loader     symbols laid out in memory, relocations resolved, the angr project
    engine     symbolic execution from a shared symbolic register file
    models     what symbolic execution assumes about Go callees (and the runtime)
    contracts  the obligations a trampoline owes its host caller
    verdicts   PROVED / REFUTED / UNKNOWN as plain data
    writers    terminal, JSON (and later Markdown, HTML, SARIF) renderings
    cli        the thin typer front door
"""

__version__ = "0.1.0"
