"""The fuzz entry points (tests/fuzz, `python -m tests.fuzz`) on a short budget, as CI runs them.

The long runs are manual (see tests/fuzz/__main__.py for the commands); here every lane's target
runs a fixed number of examples (deterministic under the derandomized ci profile) so a
regression in the targets themselves, or an easy-to-find contract violation, fails CI.
Whole file: well under 30 s.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

import tests.fuzz.__main__ as fuzz_main
from harness.contract.lane import LaneSpec, available_lanes
from tests.fuzz.__main__ import shipped
from tests.fuzz.contract import check_contract, marked

ROOT = Path(__file__).resolve().parents[1]
LANES = [lane for lane in available_lanes().values() if shipped(lane)]
EXAMPLES_PER_LANE = 10
"""One call of the target, not a time loop: a derandomized loop would replay one batch."""


@pytest.mark.parametrize("lane", marked(LANES))
def test_each_lane_survives_a_short_fuzz_run(
        lane: LaneSpec, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The lane's fuzz target runs a fixed number of examples without a contract violation."""
    checked: list[Path] = []

    def counting(spec: LaneSpec, path: Path) -> None:
        checked.append(path)
        check_contract(spec, path)

    monkeypatch.setattr(fuzz_main, "check_contract", counting)
    fuzz_main.target(lane, tmp_path, examples=EXAMPLES_PER_LANE)()
    assert len(checked) >= 2


def test_the_fuzz_command_runs_with_the_best_engine_installed() -> None:
    """`python -m tests.fuzz` works as documented: coverage-guided with atheris when it is
    installed (a few hundred libFuzzer runs), the hypothesis engine otherwise."""
    has_atheris = importlib.util.find_spec("atheris") is not None
    extra = ["--", "-runs=40"] if has_atheris else []
    done = subprocess.run(
        [sys.executable, "-m", "tests.fuzz", "--lane", "codex-native", "--seconds", "3", *extra],
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True,
        timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    if has_atheris:
        assert "Done 40 runs" in done.stderr
    else:
        assert "no violation" in done.stdout
