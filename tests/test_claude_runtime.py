"""Live: each recorded scenario re-run on the real Claude Code binary against the stub.

The fresh stream, templated like the recording, must normalize to exactly the recorded log (ids,
paths and timings are templated, so strict equality holds); the stub must report no problems.
Runs in CI after `harness runtimes install claude`; about a second per scenario.
"""

from __future__ import annotations

import io
import tempfile
from pathlib import Path
from typing import Any

import pytest

from harness.contract.lane import LaneInput, RunContext
from harness.record.recording import render_recording, run_scenario
from harness.record.runtimes.claude import DRIVER
from harness.record.secrets import Scrubber
from harness.scenario import load_scenario
from lanes.claude_code import normalize

CASSETTES = Path(__file__).resolve().parents[1] / "cassettes"
RECORDED = sorted(p.parent for p in CASSETTES.glob(f"*/{DRIVER.native_file}"))


def _log(data: bytes, name: str) -> list[dict[str, Any]]:
    source = LaneInput(stream=io.BytesIO(data), name=name)
    return [e.model_dump(mode="json") for e in normalize(source, RunContext())]


def test_catalog_is_recorded() -> None:
    """Every scenario Claude Code supports has a recording (the live tests below cover it)."""
    supported = {d.name for d in CASSETTES.glob("*/") if (d / "scenario.yaml").exists()
                 and load_scenario(d / "scenario.yaml").unsupported_reason("claude") is None}
    assert supported == {d.name for d in RECORDED}


@pytest.mark.runtime
@pytest.mark.parametrize("scenario_dir", RECORDED, ids=lambda p: p.name)
def test_rerun_matches_recording(scenario_dir: Path) -> None:
    assert DRIVER.binary().exists(), "run: harness runtimes install claude"
    scenario = load_scenario(scenario_dir / "scenario.yaml")
    with tempfile.TemporaryDirectory(prefix="harness-claude-live-") as tmp:
        outputs, stub = run_scenario(DRIVER, scenario, Path(tmp).resolve(),
                                     DRIVER.responder(scenario))
        texts = render_recording(DRIVER, scenario, outputs, stub,
                                 scrub=Scrubber.from_environment())
    assert stub.log.problems == []
    recorded = (scenario_dir / DRIVER.native_file).read_bytes()
    assert _log(texts.native.encode(), "fresh") == _log(recorded, "recorded")
