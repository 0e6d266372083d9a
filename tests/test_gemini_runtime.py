"""Live: each recorded scenario re-run on the real Gemini CLI (pinned) against the stub.

The fresh stream must normalize to a log strictly equivalent to the recorded one (ids, timestamps
and temp paths set aside), with no stub problems: a Gemini CLI upgrade that changes what the
contract sees fails here. Needs `harness runtimes install gemini`; runs offline (127.0.0.1 only).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from harness.record.recording import record_scenario
from harness.record.runtimes.gemini import DRIVER
from lanes.gemini_cli import LANE

CASSETTES = Path(__file__).resolve().parents[1] / "cassettes"
RECORDED = sorted(p.parent for p in CASSETTES.glob(f"*/{DRIVER.native_file}"))

pytestmark = pytest.mark.runtime


@pytest.mark.parametrize("scenario_dir", RECORDED, ids=lambda p: p.name)
def test_rerun_matches_the_recording(scenario_dir: Path, tmp_path: Path) -> None:
    copy = tmp_path / scenario_dir.name
    copy.mkdir()
    recorded = json.loads((scenario_dir / f"{DRIVER.name}.meta.json").read_text())
    for name in ("scenario.yaml", DRIVER.native_file):
        shutil.copy2(scenario_dir / name, copy / name)
    result = record_scenario(DRIVER, copy, force=True, drift_lanes={LANE.id: LANE})
    assert result.problems == []
    assert result.drift == {}, result.drift.get(LANE.id)
    assert result.exit_codes == [run["exit_code"] for run in recorded["runs"]]
