"""The HTML report reads well in a real browser: headless Chromium renders it, matrix included."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from harness.conformance.gate import run_gate
from harness.conformance.report import write_reports
from tests.miniatures import SHELL, TEXT, first_run, log, make_catalog

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync"]


def _chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    assert path, "Chromium is needed for this test (.ci/run installs Debian's chromium)"
    return path


def test_report_page_renders_with_matrix_and_diff(tmp_path: Path) -> None:
    options = make_catalog(tmp_path, {"shell": {
        "left": log(SHELL, TEXT), "right": log({**SHELL, "exit_code": 7}, TEXT)}})
    first_run(options)
    _, _, page = write_reports(run_gate(options), tmp_path / "report")
    profile = tmp_path / "profile"
    common = [_chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}"]
    dom = subprocess.run([*common, "--dump-dom", page.as_uri()], capture_output=True,
                         text=True, timeout=120, check=True).stdout
    assert '<table id="matrix">' in dom
    assert "Conformance gate: FAIL" in dom
    assert "eq.command_execution.exit_code" in dom and "right=7" in dom
    shot = tmp_path / "report.png"
    subprocess.run([*common, f"--screenshot={shot}", "--window-size=1200,900", page.as_uri()],
                   capture_output=True, timeout=120, check=True)
    assert shot.stat().st_size > 10_000, "a blank page would be tiny"
