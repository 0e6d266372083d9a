"""The HTML report reads well in a real browser: headless Chromium renders it, failures first,
failing cells linking to their details, golden diffs as changed fields, the ledger collapsed."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

from harness.conformance.gate import run_gate
from harness.conformance.report import run_metadata, write_reports
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
    golden = tmp_path / "golden" / "shell" / "left.jsonl"
    golden.write_text(golden.read_text().replace('"output":"hi\\n"', '"output":"ho\\n"'))
    run = run_metadata(options.cassettes, ["shell"])
    _, _, page = write_reports(run_gate(options), tmp_path / "report", run=run)
    profile = tmp_path / "profile"
    common = [_chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}"]
    dom = subprocess.run([*common, "--dump-dom", page.as_uri()], capture_output=True,
                         text=True, timeout=120, check=True).stdout
    assert '<table id="matrix">' in dom
    assert "Conformance gate: FAIL" in dom
    assert "eq.command_execution.exit_code" in dom and "right=7" in dom
    # failures come before the matrix, and every failing cell links to its section
    assert dom.index('id="failures"') < dom.index('id="matrix"')
    matrix = dom[dom.index('id="matrix"'):]
    links = re.findall(r'<td class="(?:fail|error)"[^>]*><a href="#([^"]+)">', matrix)
    assert len(links) == 3  # left (golden), right (outline), the pair column
    assert all(f'id="{anchor}"' in dom[:dom.index('id="matrix"')] for anchor in links)
    # the golden diff is the one changed field, not two whole lines
    changes = dom[dom.index('class="changes"'):]
    changes = changes[:changes.index("</table>")]
    assert "item.output" in changes and '"ho\\n"' in changes and '"hi\\n"' in changes
    assert "schema_version" not in changes and "thread_id" not in changes
    # run metadata, and the ledger collapsed
    assert run["date"] in dom and str(run["harness"]) in dom
    assert re.search(r'<details id="ledger-details">', dom)  # not `open`
    shot = tmp_path / "report.png"
    subprocess.run([*common, f"--screenshot={shot}", "--window-size=1200,900", page.as_uri()],
                   capture_output=True, timeout=120, check=True)
    assert shot.stat().st_size > 10_000, "a blank page would be tiny"
