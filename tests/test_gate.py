"""The gate judged on tiny deterministic lanes: what passes, what fails, and how it says so."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from harness.conformance.gate import GateOptions, parse_shard, run_gate
from harness.conformance.report import index_html, junit_xml, summary_md, write_reports
from tests.miniatures import jsonl, log, passthrough

SHELL = {"kind": "command_execution", "command": "/bin/bash -lc 'echo hi'", "exit_code": 0,
         "output": "hi\n"}
TEXT = {"kind": "assistant_message", "text": "It printed hi."}
SCENARIO = """\
name: {name}
description: one shell command then an answer
runs:
  - prompt: run echo hi
    steps:
      - - shell: echo hi
      - - text: It printed hi.
expect:
  turns:
    - items:
        - {{kind: command_execution, status: completed, exit_code: 0, command: echo hi}}
        - {{kind: assistant_message}}
"""
LANES = {"left": passthrough("left", "left.jsonl"), "right": passthrough("right", "right.jsonl")}


def make_catalog(root: Path, logs: dict[str, dict[str, list[dict[str, Any]]]],
                 ledgers: dict[str, str] | None = None) -> GateOptions:
    for scenario, per_lane in logs.items():
        folder = root / "cassettes" / scenario
        folder.mkdir(parents=True)
        (folder / "scenario.yaml").write_text(SCENARIO.format(name=scenario))
        for lane, events in per_lane.items():
            (folder / f"{lane}.jsonl").write_text(jsonl(events))
        if ledgers and scenario in ledgers:
            (folder / "DIVERGENCES.md").write_text(ledgers[scenario])
    return GateOptions(cassettes=root / "cassettes", golden=root / "golden", lane_specs=LANES)


def first_run(options: GateOptions) -> None:
    """Write the goldens once (as a reviewer would after --update-golden)."""
    run_gate(GateOptions(**{**options.__dict__, "update_golden": True}))


def test_equivalent_lanes_pass_everything(tmp_path: Path) -> None:
    options = make_catalog(tmp_path, {"shell": {"left": log(SHELL, TEXT),
                                                "right": log(SHELL, TEXT)}})
    first_run(options)
    result = run_gate(options)
    assert result.ok, [c.failures for c in result.cells]
    assert {c.status for c in result.cells} == {"pass"}
    assert [p.status for p in result.pairs] == ["pass"]


def test_missing_golden_fails_until_updated_then_only_changes_rewrite(tmp_path: Path) -> None:
    options = make_catalog(tmp_path, {"shell": {"left": log(SHELL, TEXT)}})
    result = run_gate(options)
    assert not result.ok
    assert "--update-golden" in result.cells[0].failures[0].detail
    first_run(options)
    golden = tmp_path / "golden" / "shell" / "left.jsonl"
    stamp = golden.stat().st_mtime_ns
    again = run_gate(GateOptions(**{**options.__dict__, "update_golden": True}))
    assert again.updated_golden == [] and golden.stat().st_mtime_ns == stamp


def test_changed_exit_code_is_caught_with_a_diff_naming_both_lanes(tmp_path: Path) -> None:
    options = make_catalog(tmp_path, {"shell": {
        "left": log(SHELL, TEXT), "right": log({**SHELL, "exit_code": 1}, TEXT)}})
    first_run(options)
    result = run_gate(options)
    assert not result.ok
    [pair] = result.pairs
    assert pair.status == "fail"
    assert "--- left" in pair.diff and "+++ right" in pair.diff
    assert "exit=0" in pair.diff and "exit=1" in pair.diff
    right = next(c for c in result.cells if c.lane == "right")
    assert right.status == "fail"
    assert "exit_code expected 0, got 1" in right.failures[0].detail


LEDGER = """\
# Divergences

## right-drops-shell
```yaml
id: right-drops-shell
lanes: [right]
versus: [left]
kind: missing_item
reason: the right runtime hides sandbox-denied commands
```
"""


def test_known_divergence_is_reported_as_known_not_pass(tmp_path: Path) -> None:
    options = make_catalog(tmp_path, {"shell": {"left": log(SHELL, TEXT),
                                                "right": log(TEXT)}},
                           ledgers={"shell": LEDGER})
    first_run(options)
    result = run_gate(options)
    [pair] = result.pairs
    assert pair.status == "known"
    assert "hides sandbox-denied commands" in pair.reason


def test_a_divergence_that_disappears_fails_the_gate(tmp_path: Path) -> None:
    options = make_catalog(tmp_path, {"shell": {"left": log(SHELL, TEXT),
                                                "right": log(SHELL, TEXT)}},
                           ledgers={"shell": LEDGER})
    first_run(options)
    result = run_gate(options)
    [pair] = result.pairs
    assert pair.status == "stale"
    assert "right-drops-shell" in pair.reason
    assert not result.ok


def test_schema_and_ordering_violations_fail_the_cell(tmp_path: Path) -> None:
    broken = log(SHELL, TEXT)
    del broken[-1]  # the turn never closes
    bad_schema = log(SHELL, TEXT)
    bad_schema[2]["item"]["status"] = "maybe"
    options = make_catalog(tmp_path, {"a": {"left": broken}, "b": {"left": bad_schema}})
    # passthrough validates with pydantic, so a schema-invalid log is a lane error here
    result = run_gate(options)
    cells = {(c.scenario, c.lane): c for c in result.cells}
    assert "ordering" in [c.name for c in cells["a", "left"].failures]
    assert cells["b", "left"].status == "error"
    assert "lane crashed" in cells["b", "left"].reason
    assert "'maybe'" in cells["b", "left"].reason


def test_filters_and_shards_split_scenarios_deterministically(tmp_path: Path) -> None:
    logs = {f"s{i}": {"left": log(SHELL, TEXT)} for i in range(5)}
    options = make_catalog(tmp_path, logs)
    shards = [run_gate(GateOptions(**{**options.__dict__, "shard": (k, 2)})) for k in (1, 2)]
    names = [sorted(r.scenarios) for r in shards]
    assert names == [["s0", "s2", "s4"], ["s1", "s3"]]
    only = run_gate(GateOptions(**{**options.__dict__, "scenarios": ["s3"]}))
    assert list(only.scenarios) == ["s3"]
    with pytest.raises(Exception, match="K/N"):
        parse_shard("3")


def test_reports_are_written_and_well_formed(tmp_path: Path) -> None:
    options = make_catalog(tmp_path, {"shell": {
        "left": log(SHELL, TEXT), "right": log({**SHELL, "exit_code": 2}, TEXT)}})
    first_run(options)
    result = run_gate(options)
    paths = write_reports(result, tmp_path / "report")
    suite = ET.fromstring(junit_xml(result).split("?>", 1)[1])
    assert suite.get("tests") == str(len(result.cells) + len(result.pairs))
    assert int(suite.get("failures", "0")) >= 2
    assert "| shell |" in summary_md(result)
    page = index_html(result)
    assert 'id="matrix"' in page and 'id="capabilities"' in page and "exit=2" in page
    assert all(p.exists() for p in paths)


def test_external_implementation_is_judged_against_golden(tmp_path: Path) -> None:
    options = make_catalog(tmp_path, {"shell": {"left": log(SHELL, TEXT)}})
    first_run(options)
    native = tmp_path / "cassettes" / "shell" / "left.jsonl"
    native.write_text((tmp_path / "golden" / "shell" / "left.jsonl").read_text())
    script = tmp_path / "impl.py"
    script.write_text(
        "import json, sys\n"
        "for line in open(sys.argv[2]):\n"
        "    e = json.loads(line); e['lane'] = sys.argv[1]\n"
        "    if e['type'] == 'item.completed': e['item']['id'] = 'x' + e['item']['id']\n"
        "    print(json.dumps(e))\n")
    good = run_gate(GateOptions(**{**options.__dict__, "lanes": ["left"],
                                   "impl": f"python3 {script} {{lane}} {{input}}"}))
    assert good.ok, [c.failures for c in good.cells]
    failing = tmp_path / "fail.py"
    failing.write_text("import sys\nsys.stderr.write('boom\\n'); sys.exit(3)\n")
    bad = run_gate(GateOptions(**{**options.__dict__, "impl": f"python3 {failing} {{input}}"}))
    assert bad.cells[0].status == "error" and "exited 3" in bad.cells[0].reason


def test_capability_claims_need_a_demonstration(tmp_path: Path) -> None:
    lanes = {"left": passthrough("left", "left.jsonl", capabilities=frozenset({"plugins", "mcp"})),
             "right": passthrough("right", "right.jsonl",
                                  kinds=frozenset({"assistant_message"}))}
    options = make_catalog(tmp_path, {"shell": {"left": log(SHELL, TEXT),
                                                "right": log(SHELL, TEXT)}})
    options.lane_specs = lanes
    first_run(options)
    result = run_gate(options)
    problems = "\n".join(result.capability_problems)
    assert "left: declares 'plugins' but no passing cassette demonstrates it" in problems
    assert "left: declares 'mcp'" in problems
    assert "right: emits undeclared item kind 'command_execution'" in problems


def test_junit_cases_name_lane_and_scenario(tmp_path: Path) -> None:
    options = make_catalog(tmp_path, {"shell": {"left": log(SHELL, TEXT)}})
    first_run(options)
    suite = ET.fromstring(junit_xml(run_gate(options)).split("?>", 1)[1])
    names = {(c.get("classname"), c.get("name")) for c in suite.iter("testcase")}
    assert ("cell.shell", "left") in names
    assert json.dumps(sorted(names))
