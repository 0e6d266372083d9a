"""`harness check --impl`: a normalizer in another language is judged like a lane.

tests/impl/codex_native_min.mjs is a small independent codex-native normalizer in JavaScript. On
the shipped recordings it must pass schema, ordering rules, golden (by strict equivalence, since
it mints its own ids) and outline; with its `--bug exit-code` switch it must fail, and the diff
must point at the exit code.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from harness.cli import main
from harness.conformance.gate import GateOptions, run_gate

REPO = Path(__file__).resolve().parents[1]
IMPL = REPO / "tests" / "impl" / "codex_native_min.mjs"
SCENARIOS = ["hello", "shell_ok", "shell_fail", "multi_command", "resume", "unicode"]
NODE = shutil.which("node") or "node-is-missing"


def options(command: str) -> GateOptions:
    return GateOptions(cassettes=REPO / "cassettes", golden=REPO / "golden",
                       lanes=["codex-native"], scenarios=SCENARIOS, impl=command, jobs=1)


def test_a_correct_external_implementation_passes() -> None:
    result = run_gate(options(f"{NODE} {IMPL} {{lane}} {{input}}"))
    failures = {(c.scenario, c.lane): [(k.name, k.detail) for k in c.failures] or c.reason
                for c in result.cells if c.status != "pass"}
    assert failures == {}
    assert result.ok


def test_a_broken_external_implementation_is_caught_with_a_pointed_diff() -> None:
    result = run_gate(options(f"{NODE} {IMPL} --bug exit-code {{lane}} {{input}}"))
    cells = {c.scenario: c for c in result.cells}
    assert not result.ok
    assert cells["hello"].status == "pass"  # no command, nothing to get wrong
    golden = next(k for k in cells["shell_fail"].failures if k.name == "golden")
    assert golden.detail.startswith("eq.command_execution.exit_code: run 0 turn 0 item 0:")
    assert "implementation=0" in golden.detail
    outline = next(k for k in cells["shell_fail"].failures if k.name == "outline.exit_code")
    assert "expected" in outline.detail


def test_impl_from_the_command_line(tmp_path: Path) -> None:
    code = main(["check", "--lane", "codex-native", "--scenario", "shell_ok",
                 "--impl", f"{NODE} {IMPL} {{lane}} {{input}}", "--report", str(tmp_path)])
    assert code == 0
    assert (tmp_path / "junit.xml").exists()
