"""scripts/bench.py renders what it measured (no timing is asserted anywhere)."""

from __future__ import annotations

import importlib.util
import json

from conftest import REPO


def _bench():
    spec = importlib.util.spec_from_file_location("bench", REPO / "scripts" / "bench.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _report():
    run = {"argv": ["symabi", "prove", "crosscall2"], "runs": [2.5, 2.4], "first": 2.5, "best": 2.4,
           "exit_code": 0, "stderr": ""}
    floor = {"argv": ["python", "-c", "import angr"], "runs": [2.0, 1.9], "first": 2.0, "best": 1.9,
             "exit_code": 0, "stderr": ""}
    rows = [
        {"case": "crosscall2", "version": "old", "verdict": "proved",
         "timings": {"assemble": 0.01, "load": 0.02, "explore": 0.3, "solve": 0.04}, "error": None},
        {"case": "crosscall2", "version": "new", "verdict": "proved",
         "timings": {"assemble": 0.01, "load": 0.02, "explore": 0.3, "solve": 0.04, "equivalence": 0.05},
         "error": None},
        {"case": "crosscall2", "version": "(all)", "verdict": "proved", "timings": {}, "wall": 0.8, "error": None},
        {"case": "broken", "version": "-", "verdict": "error", "timings": {}, "error": "t.s:4: nope"},
    ]
    return {"python": "3.11", "interpreter": "python", "machine": "test", "angr": "9.2", "toolchain": "go1.27.3",
            "phases": {"toolchain": "go1.27.3", "import_seconds": 1.5, "rows": rows},
            "commands": {"floor": floor, "command": run}}


def test_render_table():
    text = _bench().render(_report())
    header = next(line for line in text.splitlines() if line.strip().startswith("case"))
    assert header.split() == ["case", "version", "verdict", "assemble", "load", "explore", "solve", "equivalence",
                              "total"]
    assert any(line.split()[:3] == ["crosscall2", "new", "proved"] and line.split()[-1] == "0.420"
               for line in text.splitlines())
    assert "t.s:4: nope" in text
    assert 'python -c "import angr"' in text and "symabi prove crosscall2" in text
    assert any(line.split()[:3] == ["above", "the", "floor"] for line in text.splitlines())
    json.dumps(_report())  # the --json form is the same data


def test_command_is_the_installed_script_or_the_module():
    command = _bench().symabi_command()
    assert command[-1].endswith("symabi") or command[-2:] == ["-m", "symabi"]
