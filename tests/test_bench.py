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


def _run(seconds: float, peak: float = 200.0, plan: float | None = None, headers: float | None = None) -> dict:
    return {"argv": ["symabi"], "runs": [seconds + 0.1, seconds], "first": seconds + 0.1, "best": seconds,
            "peak_mib": peak, "exit_code": 0, "plan": plan, "headers": headers, "cpu": 1.5 * seconds}


def test_render_targets_as_ratios_to_the_floor_with_peak_memory():
    report = _report()
    report["targets"] = {"floor": _run(1.0, 120), "prove_cold": _run(1.1), "prove_warm": _run(0.3, 35),
                         "gate_cold": _run(20.0, 900, plan=0.2), "gate_warm": _run(0.4, 90),
                         "gate_all_cold": _run(70.0, 1100, plan=1.5, headers=43.2), "jobs": 2}
    text = _bench().render(report)
    lines = {line.split("  ")[1].strip(): line for line in text.splitlines() if line.startswith("  ") and "  " in line[2:]}
    prove = next(line for key, line in lines.items() if key.startswith("prove crosscall2 (nothing"))
    assert "1.10x" in prove and "<= 1.15x floor  met" in prove
    gate = next(line for key, line in lines.items() if key.startswith("gate --no-cache"))
    assert "900" in gate and "plan (0.20)" in gate and "NOT met" in gate
    assert "30.00" in gate  # its CPU seconds, beside the wall time
    assert "<= 60 s (go_asm.h: 43.2 s)  NOT met" in next(line for key, line in lines.items() if key.startswith("gate --ports all"))
    assert "<= 0.5x floor  met" in next(line for key, line in lines.items() if key.startswith("gate, unchanged"))
    json.dumps(report)
