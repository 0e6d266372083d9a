"""The gate judged on tiny deterministic lanes: what passes, what fails, and how it says so."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from harness.conformance.divergences import Excuse, read_ledger
from harness.conformance.equivalence import equivalent
from harness.conformance.gate import GateOptions, parse_shard, run_gate
from harness.conformance.report import index_html, junit_xml, summary_md, write_reports
from harness.contract.errors import InputError
from tests.miniatures import (
    CATALOG_LANES,
    SHELL,
    TEXT,
    first_run,
    log,
    make_catalog,
    passthrough,
)


def test_equivalent_lanes_pass_everything(tmp_path: Path) -> None:
    options = make_catalog(tmp_path, {"shell": {"left": log(SHELL, TEXT),
                                                "right": log(SHELL, TEXT)}})
    first_run(options)
    result = run_gate(options)
    assert result.ok, [c.failures for c in result.cells]
    assert {c.status for c in result.cells} == {"pass"}
    assert [p.status for p in result.pairs] == ["pass"]


def test_a_secret_in_the_catalog_fails_an_otherwise_passing_gate(tmp_path: Path) -> None:
    """The secret scan's findings are part of the verdict: a leaked key in a recording (and so
    in its golden) must not pass because every cell and pair agrees."""
    options = make_catalog(tmp_path, {"shell": {"left": log(SHELL, TEXT),
                                                "right": log(SHELL, TEXT)}})
    first_run(options)
    notes = tmp_path / "cassettes" / "shell" / "notes.md"
    notes.write_text("key sk-" + "proj-" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8S9t0\n")
    result = run_gate(options)
    assert {c.status for c in result.cells} == {"pass"}
    assert [p.status for p in result.pairs] == ["pass"]
    assert result.secret_findings == [f"{notes}:1: openai-project-key"]
    assert not result.ok


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
    assert pair.checks == ["eq.command_execution.exit_code"]
    assert "left=0 right=1" in pair.diff
    right = next(c for c in result.cells if c.lane == "right")
    assert right.status == "fail"
    assert right.failures[0].name == "outline.exit_code"
    assert "expected 0, got 1" in right.failures[0].detail


LEDGER = """\
# Divergences

## right-drops-shell
```yaml
id: right-drops-shell
lanes: [right]
versus: [left]
kind: missing_item
excuses:
  - {drop: command_execution}
reason: the right runtime hides sandbox-denied commands
```
"""


def test_known_divergence_is_reported_as_masked_not_pass(tmp_path: Path) -> None:
    options = make_catalog(tmp_path, {"shell": {"left": log(SHELL, TEXT),
                                                "right": log(TEXT)}},
                           ledgers={"shell": LEDGER})
    first_run(options)
    result = run_gate(options)
    [pair] = result.pairs
    assert pair.status == "masked" and pair.masks == ["right-drops-shell"]
    assert "hides sandbox-denied commands" in pair.reason
    assert not result.stale_entries


def test_an_entry_excuses_only_what_it_names(tmp_path: Path) -> None:
    """The entry drops the command; a changed answer text in the same pair still fails."""
    options = make_catalog(tmp_path, {"shell": {
        "left": log(SHELL, TEXT), "right": log({**TEXT, "text": "Something else."})}},
        ledgers={"shell": LEDGER})
    first_run(options)
    result = run_gate(options)
    [pair] = result.pairs
    assert pair.status == "fail" and pair.checks == ["eq.assistant_message.text"]
    assert not result.ok


FIELD_LEDGER = """\
```yaml
id: right-hides-exit-codes
lanes: [right]
versus: [left]
kind: field
excuses:
  - {field: command_execution.exit_code}
reason: the right runtime prints no exit code
```
"""


def test_a_field_excuse_masks_that_field_and_compares_the_rest(tmp_path: Path) -> None:
    hidden = {**SHELL, "exit_code": None}
    ok = make_catalog(tmp_path / "ok", {"shell": {"left": log(SHELL, TEXT),
                                                  "right": log(hidden, TEXT)}},
                      ledgers={"shell": FIELD_LEDGER})
    first_run(ok)
    assert [p.status for p in run_gate(ok).pairs] == ["masked"]
    bad = make_catalog(tmp_path / "bad", {"shell": {
        "left": log(SHELL, TEXT), "right": log({**hidden, "output": "ho\n"}, TEXT)}},
        ledgers={"shell": FIELD_LEDGER})
    first_run(bad)
    [pair] = run_gate(bad).pairs
    assert pair.status == "fail" and pair.checks == ["eq.command_execution.output"]


def test_a_ledger_naming_one_id_twice_is_refused(tmp_path: Path) -> None:
    """Entry ids are how reports and stale-entry messages name an excuse: two entries under one
    id would make either ambiguous, so the ledger is refused, not read."""
    (tmp_path / "DIVERGENCES.md").write_text(FIELD_LEDGER + "\n" + FIELD_LEDGER)
    with pytest.raises(InputError, match="duplicate divergence ids: right-hides-exit-codes"):
        read_ledger(tmp_path)


PINNED_LEDGER = FIELD_LEDGER.replace("  - {field: command_execution.exit_code}\n",
                                    "  - {field: command_execution.exit_code, shows: null}\n")


def test_a_field_excuse_that_says_what_the_lane_shows_holds_it_to_that(tmp_path: Path) -> None:
    """`shows: null`: the right runtime sends no exit code. Its lane showing none is masked;
    its lane showing one (a made-up code the mask would otherwise hide) fails `ledger.shows`."""
    ok = make_catalog(tmp_path / "ok", {"shell": {
        "left": log(SHELL, TEXT), "right": log({**SHELL, "exit_code": None}, TEXT)}},
        ledgers={"shell": PINNED_LEDGER})
    first_run(ok)
    assert [p.status for p in run_gate(ok).pairs] == ["masked"]
    bad = make_catalog(tmp_path / "bad", {"shell": {
        "left": log(SHELL, TEXT), "right": log({**SHELL, "exit_code": 1}, TEXT)}},
        ledgers={"shell": PINNED_LEDGER})
    first_run(bad)
    result = run_gate(bad)
    [pair] = result.pairs
    assert pair.status == "fail" and pair.checks == ["ledger.shows"]
    assert "right-hides-exit-codes says right shows command_execution.exit_code = None, " \
        "it shows 1" in pair.diff
    assert not result.ok


def test_shows_goes_only_with_a_field_excuse() -> None:
    assert Excuse(field="command_execution.output", shows="").pins
    assert not Excuse(field="command_execution.output").pins
    with pytest.raises(ValueError, match="`shows` goes with a `field` excuse"):
        Excuse(drop="command_execution", shows=None)


def test_an_excuse_names_only_compared_fields() -> None:
    """A misspelt field or `where` key would excuse nothing the reader can see: the ledger
    refuses it when read, naming the fields that are compared."""
    with pytest.raises(ValueError, match=r"'command_execution\.exitcode' is not a compared field"):
        Excuse(field="command_execution.exitcode")
    with pytest.raises(ValueError, match=r"where names fields \['exitcode'\]"):
        Excuse(drop="command_execution", where={"exitcode": 0})
    with pytest.raises(ValueError, match="unknown fact kind 'shell'"):
        Excuse(drop="shell")


@pytest.mark.parametrize("action", ["field", "drop", "collapse", "merge"])
def test_an_excuse_narrowed_by_where_and_runs_masks_only_what_they_name(action: str) -> None:
    """An excuse's `where` and `runs` go into the mask it stands for, whatever its action: a
    mask without them would excuse more than the ledger says (another command, another run)."""
    named = {"field": "command_execution.exit_code"} if action == "field" else \
        {action: "command_execution"}
    mask = Excuse.model_validate({**named, "where": {"command": "echo hi"}, "runs": [1]}
                                 ).mask("e")
    assert mask is not None
    assert (mask.where, mask.runs) == ({"command": "echo hi"}, frozenset({1}))
    a = [*log(SHELL), *log(SHELL, resumed="t1")]
    b = [*log({**SHELL, "exit_code": 1}), *log({**SHELL, "exit_code": 1}, resumed="t1")]
    shown = ["run 0 turn 0 item 0"] + (["run 1 turn 0 item 0"] if action in {"collapse", "merge"}
                                       else [])  # (these two keep the values they compare)
    assert [d.where for d in equivalent(a, b, "strict", masks=[mask]).differences] == shown


def test_an_excuse_covered_by_another_entry_is_stale(tmp_path: Path) -> None:
    twice = FIELD_LEDGER + FIELD_LEDGER.replace("right-hides-exit-codes", "same-again")
    options = make_catalog(tmp_path, {"shell": {"left": log(SHELL, TEXT),
                                                "right": log({**SHELL, "exit_code": None},
                                                             TEXT)}},
                           ledgers={"shell": twice})
    first_run(options)
    result = run_gate(options)
    assert [p.status for p in result.pairs] == ["masked"]
    assert len(result.stale_entries) == 1 and "same-again" in result.stale_entries[0]
    assert not result.ok


def test_an_excuse_an_entry_does_not_need_is_stale(tmp_path: Path) -> None:
    wide = FIELD_LEDGER.replace("  - {field: command_execution.exit_code}\n",
                                "  - {field: command_execution.exit_code}\n"
                                "  - {field: command_execution.output}\n")
    options = make_catalog(tmp_path, {"shell": {"left": log(SHELL, TEXT),
                                                "right": log({**SHELL, "exit_code": None},
                                                             TEXT)}},
                           ledgers={"shell": wide})
    first_run(options)
    result = run_gate(options)
    assert len(result.stale_entries) == 1
    assert "excuse 2: field: command_execution.output" in result.stale_entries[0]
    assert not result.ok


def test_an_entry_about_lanes_without_a_log_is_stale(tmp_path: Path) -> None:
    """An entry naming a lane that has no log in the scenario excuses nothing here: stale when
    every lane ran, left alone when the run was narrowed to some lanes (`--lane`)."""
    ghost = LEDGER.replace("lanes: [right]", "lanes: [ghost]")
    options = make_catalog(tmp_path, {"shell": {"left": log(SHELL, TEXT),
                                                "right": log(SHELL, TEXT)}},
                           ledgers={"shell": ghost})
    first_run(options)
    result = run_gate(options)
    assert [p.status for p in result.pairs] == ["pass"]
    assert len(result.stale_entries) == 1
    assert "covers no pair of lanes with a log here" in result.stale_entries[0]
    assert not result.ok
    narrowed = run_gate(GateOptions(**{**options.__dict__, "lanes": ["left", "right"]}))
    assert narrowed.stale_entries == [] and narrowed.ok


def test_a_divergence_that_disappears_fails_the_gate(tmp_path: Path) -> None:
    options = make_catalog(tmp_path, {"shell": {"left": log(SHELL, TEXT),
                                                "right": log(SHELL, TEXT)}},
                           ledgers={"shell": LEDGER})
    first_run(options)
    result = run_gate(options)
    [pair] = result.pairs
    assert pair.status == "pass"
    assert len(result.stale_entries) == 1 and "right-drops-shell" in result.stale_entries[0]
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
    assert "order.turns_pair_up" in [c.name for c in cells["a", "left"].failures]
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
    suites = ET.fromstring(junit_xml(result).split("?>", 1)[1])
    assert suites.get("tests") == str(len(list(suites.iter("testcase"))))
    assert int(suites.get("failures", "0")) == 2  # right's outline.exit_code, the pair's eq
    assert "| shell |" in summary_md(result)
    page = index_html(result)
    assert 'id="matrix"' in page and 'id="capabilities"' in page
    assert "eq.command_execution.exit_code" in page and "right=2" in page
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
    (tmp_path / "golden" / "shell" / "left.jsonl").unlink()  # nothing to judge it by: no pass
    unjudged = run_gate(GateOptions(**{**options.__dict__, "lanes": ["left"],
                                       "impl": f"python3 {script} {{lane}} {{input}}"}))
    assert not unjudged.ok
    assert [(f.name, f.detail) for f in unjudged.cells[0].failures] == [
        ("golden", f"no golden file {tmp_path / 'golden' / 'shell' / 'left.jsonl'}")]


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


def test_only_passing_cells_demonstrate_a_capability(tmp_path: Path) -> None:
    """A cell that fails its checks proves nothing: an MCP call in a log that breaks its
    outline does not make the lane's `mcp` claim true."""
    lanes = {"left": passthrough("left", "left.jsonl", capabilities=frozenset({"mcp"}))}
    call = {"kind": "mcp_tool_call", "server": "demo", "tool": "echo", "arguments": {},
            "result": None, "error": None}
    options = make_catalog(tmp_path, {"shell": {"left": log(SHELL, call, TEXT)}})
    options.lane_specs = lanes
    first_run(options)
    result = run_gate(options)
    assert result.cells[0].status == "fail"
    assert result.capability_problems == [
        "left: declares 'mcp' but no passing cassette demonstrates it"]


GAP_LEDGER = """\
```yaml
id: left-runs-no-plugins
lanes: [left]
versus: [right]
kind: capability_gap
excuses:
  - {capability: plugins}
reason: the left runtime does not run plugins in this scenario
```
"""


def test_a_capability_the_ledger_says_a_lane_lacks_is_not_credited(tmp_path: Path) -> None:
    """A scenario that `demonstrates` a capability credits every lane whose cell passes, except
    a lane the ledger records a `capability_gap` for: its pass shows nothing of that."""
    lanes = {"left": passthrough("left", "left.jsonl", capabilities=frozenset({"plugins"}))}
    options = make_catalog(tmp_path, {"shell": {"left": log(SHELL, TEXT)}},
                           ledgers={"shell": GAP_LEDGER})
    scenario = tmp_path / "cassettes" / "shell" / "scenario.yaml"
    scenario.write_text(scenario.read_text() + "demonstrates: [plugins]\n")
    options.lane_specs = lanes
    first_run(options)
    result = run_gate(options)
    assert [c.status for c in result.cells] == ["pass"]
    assert result.capability_problems == [
        "left: declares 'plugins' but no passing cassette demonstrates it"]
    (tmp_path / "cassettes" / "shell" / "DIVERGENCES.md").unlink()
    assert run_gate(options).capability_problems == []


def test_junit_has_one_case_per_check_and_true_counts(tmp_path: Path) -> None:
    """A pass, a failed check, a failed pair, a lane error and a gap: each counted where JUnit
    says (failures, errors, skipped), each check its own case named by its id."""
    options = make_catalog(tmp_path, {
        "shell": {"left": log(SHELL, TEXT), "right": log({**SHELL, "exit_code": 2}, TEXT)},
        "broken": {"left": log(SHELL, TEXT)}})
    first_run(options)
    (tmp_path / "cassettes" / "broken" / "left.jsonl").write_text("{not json\n")
    suites = ET.fromstring(junit_xml(run_gate(options)).split("?>", 1)[1])
    counts = {key: suites.get(key) for key in ("tests", "failures", "errors", "skipped")}
    assert counts == {"tests": "14", "failures": "2", "errors": "1", "skipped": "1"}
    cases = {(c.get("classname"), c.get("name")): [r.tag for r in c
                                                   if r.tag in {"failure", "error", "skipped"}]
             for c in suites.iter("testcase")}
    assert cases == {
        ("shell.left", "schema"): [], ("shell.left", "order"): [],
        ("shell.left", "golden"): [], ("shell.left", "outline"): [],
        ("shell.right", "schema"): [], ("shell.right", "order"): [],
        ("shell.right", "golden"): [], ("shell.right", "outline.exit_code"): ["failure"],
        ("shell.left~right", "eq.command_execution.exit_code"): ["failure"],
        ("broken.left", "normalize"): ["error"], ("broken.right", "recording"): ["skipped"],
        ("gate", "ledger.stale"): [], ("gate", "capabilities"): [], ("gate", "secrets"): [],
    }
    per_suite = {s.get("name"): (s.get("tests"), s.get("failures"), s.get("errors"))
                 for s in suites.iter("testsuite")}
    assert per_suite == {"broken": ("2", "0", "1"), "shell": ("9", "2", "0"),
                         "gate": ("3", "0", "0")}


def test_an_excuse_idle_for_one_of_its_pairs_is_stale(tmp_path: Path) -> None:
    """An entry covering two pairs, needed by only one of them, excuses more than it names."""
    ledger = FIELD_LEDGER.replace("versus: [left]", "versus: [left, third]")
    lanes = {**CATALOG_LANES, "third": passthrough("third", "third.jsonl")}
    options = make_catalog(tmp_path, {"shell": {
        "left": log(SHELL, TEXT), "right": log({**SHELL, "exit_code": None}, TEXT),
        "third": log({**SHELL, "exit_code": None}, TEXT)}}, ledgers={"shell": ledger})
    options.lane_specs = lanes
    first_run(options)
    result = run_gate(options)
    assert len(result.stale_entries) == 1
    assert "excuses nothing for right~third" in result.stale_entries[0]
    assert not result.ok
