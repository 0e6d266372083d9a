"""benchmarks/run.py replaces only its own block of RESULTS.md: the hand-written history and
analysis around it survive every re-run (`nox -s bench` once wiped them)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"


def _run_module() -> ModuleType:
    sys.path.insert(0, str(BENCH))
    try:
        spec = importlib.util.spec_from_file_location("bench_run", BENCH / "run.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules["bench_run"] = module  # (its dataclasses look their module up)
        spec.loader.exec_module(module)
        return module
    finally:
        sys.path.remove(str(BENCH))


def test_a_run_replaces_its_block_and_keeps_the_rest(tmp_path: Path) -> None:
    run = _run_module()
    path = tmp_path / "RESULTS.md"
    path.write_text("# Results\n\nhand-written history\n")
    run.write_report(path, ["first run"])
    first = path.read_text()
    assert first.index("first run") < first.index("hand-written history")
    assert first.endswith("# Results\n\nhand-written history\n")
    path.write_text(first.replace("hand-written history", "more history"))
    run.write_report(path, ["second run"])
    second = path.read_text()
    assert "first run" not in second and "second run" in second
    assert second.count(run.REPORT_BEGIN) == second.count(run.REPORT_END) == 1
    assert second.replace("second run", "first run") == first.replace(
        "hand-written history", "more history")
    assert not list(tmp_path.glob("*.partial"))


def test_the_shipped_results_have_the_markers() -> None:
    """Else the next run puts a second report on top instead of replacing the first."""
    run = _run_module()
    text = (BENCH / "RESULTS.md").read_text()
    assert text.count(run.REPORT_BEGIN) == text.count(run.REPORT_END) == 1
