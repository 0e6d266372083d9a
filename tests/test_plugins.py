"""Native Codex plugins: placed the native way, run in a real Codex session, credited only there.

Offline (fast): the four plugin scenarios pass the gate on both Codex lanes; the codex-native log
shows the plugin's MCP server; the meta files hold what `codex plugin ...` really answered
(install, list, update, broken manifest, remove); the recorded requests show the plugin's tool
and skill offered, and no longer offered after removal; `plugins` is credited to codex-native
only, and the codex-adapter pair is reported as the ledger's capability gap, never as a pass.
Units: plugin steps in the scenario model, the driver's step checks, the stub's offer checks,
the fixture plugin itself.
Live (`runtime` marker): every plugin scenario re-recorded on the pinned Codex binary against the
stub (install, list, update, broken manifest, remove as real commands); the fresh recording must
match the shipped one, and a plugin step that ends otherwise than scripted stops the recording.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from harness.conformance.capabilities import capability_problems, demonstrated
from harness.conformance.equivalence import equivalent
from harness.conformance.gate import CellResult, GateOptions, GateResult, run_gate
from harness.contract.lane import LaneInput, LaneSpec, RunContext, available_lanes, get_lane
from harness.record.providers.responses import check_offers, offered_servers, progress_of
from harness.record.recording import record_scenario
from harness.record.runtimes.base import RunPlan, SetupRecord
from harness.record.runtimes.codex import DRIVER, config_toml
from harness.record.runtimes.codex_plugins import (
    PluginStepError,
    check,
    command,
    installed_versions,
    marketplace_name,
)
from harness.scenario import PluginStep, Scenario, load_scenario

ROOT = Path(__file__).resolve().parents[1]
CASSETTES = ROOT / "cassettes"
PLUGINS = CASSETTES / "_fixtures" / "plugins"
SCENARIOS = ["plugin_native", "plugin_update", "plugin_broken", "plugin_remove"]
CODEX_LANES = ("codex-adapter", "codex-native")
GAP_ID = "plugins-adapter-gap"
SERVER = "demo_plugin"


@pytest.fixture(scope="module")
def gate() -> GateResult:
    """The gate over the plugin scenarios, every lane (in-process lanes, no golden rewrite)."""
    return run_gate(GateOptions(cassettes=CASSETTES, golden=ROOT / "golden",
                                scenarios=SCENARIOS, jobs=1))


def _cell(gate: GateResult, scenario: str, lane: str) -> CellResult:
    return next(c for c in gate.cells if (c.scenario, c.lane) == (scenario, lane))


def _meta(scenario: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((CASSETTES / scenario / "codex.meta.json").read_text())
    return data


def _requests(scenario: str) -> list[dict[str, Any]]:
    cassette = yaml.safe_load((CASSETTES / scenario / "codex.http.yaml").read_text())
    return [json.loads(i["request"]["body"]) for i in cassette["interactions"]]


def _served(scenario: Scenario, body: dict[str, Any]) -> tuple[int, set[str]]:
    """(run index, MCP servers offered) for one recorded conversation request."""
    progress = progress_of(scenario, body["input"])
    assert progress is not None
    return progress.run, offered_servers(body, body["input"], progress.prompt_index)


# ==================================================================================== the gate


@pytest.mark.parametrize("lane", CODEX_LANES)
@pytest.mark.parametrize("scenario", SCENARIOS)
def test_plugin_scenario_passes_schema_order_golden_and_outline(
        gate: GateResult, scenario: str, lane: str) -> None:
    cell = _cell(gate, scenario, lane)
    assert cell.status == "pass", [(c.name, c.detail) for c in cell.failures] or cell.reason


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_other_runtimes_are_gaps_with_a_reason(gate: GateResult, scenario: str) -> None:
    """Plugins are a Codex runtime feature: Claude Code and Gemini CLI do not run these."""
    for lane in ("anthropic", "claude-code", "gemini", "gemini-cli"):
        cell = _cell(gate, scenario, lane)
        assert cell.status == "gap" and "Codex plugins" in cell.reason


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_adapter_pair_is_reported_as_the_capability_gap_not_as_equivalence(
        gate: GateResult, scenario: str) -> None:
    pair = next(p for p in gate.pairs if p.scenario == scenario)
    assert pair.lanes == CODEX_LANES
    assert pair.status == "masked" and GAP_ID in pair.masks
    assert f"{GAP_ID}: " in pair.reason


def test_native_log_shows_the_plugin_tool_call_with_its_server(gate: GateResult) -> None:
    items = [e["item"] for e in _cell(gate, "plugin_native", "codex-native").events
             if e["type"] == "item.completed"]
    call = items[0]
    assert (call["kind"], call["server"], call["tool"], call["status"]) == (
        "mcp_tool_call", SERVER, "echo", "completed")
    assert call["arguments"] == {"text": "plugged in"}
    assert "plugged in" in json.dumps(call["result"])


def test_update_is_proven_by_the_session_not_only_by_the_listing(gate: GateResult) -> None:
    """The `version` tool reads the installed copy's manifest: 2.0.0 really ran after update."""
    results = [json.dumps(e["item"]["result"])
               for e in _cell(gate, "plugin_update", "codex-native").events
               if e["type"] == "item.completed" and e["item"]["kind"] == "mcp_tool_call"]
    assert len(results) == 2
    assert "demo-tools 1.0.0" in results[0] and "demo-tools 2.0.0" in results[1]


# ==================================================================================== capabilities


def _with_plugins(spec: LaneSpec) -> LaneSpec:
    return dataclasses.replace(spec, capabilities=spec.capabilities | {"plugins"})


def test_plugins_is_declared_by_codex_native_only() -> None:
    declaring = [lane for lane, spec in available_lanes().items()
                 if "plugins" in spec.capabilities]
    assert declaring == ["codex-native"]


def test_plugins_is_demonstrated_on_codex_native_and_never_credited_to_the_adapter(
        gate: GateResult) -> None:
    assert "plugins" in demonstrated("codex-native", gate.cells, gate.scenarios)
    assert "plugins" not in demonstrated("codex-adapter", gate.cells, gate.scenarios)


def test_gate_fails_a_lane_other_than_codex_native_that_declares_plugins(
        gate: GateResult) -> None:
    """The guardrail: the adapter's cells pass, yet it may not advertise plugins."""
    lanes = {lane: get_lane(lane) for lane in CODEX_LANES}
    assert not [p for p in capability_problems(lanes, gate.cells, gate.scenarios)
                if "'plugins'" in p]
    lanes["codex-adapter"] = _with_plugins(lanes["codex-adapter"])
    problems = capability_problems(lanes, gate.cells, gate.scenarios)
    assert "codex-adapter: declares 'plugins' but no passing cassette demonstrates it" in problems


# ==================================================================================== recordings


def test_meta_holds_what_the_plugin_commands_answered() -> None:
    install = _meta("plugin_native")["runs"][0]["setup"]
    assert [s["args"][:3] for s in install] == [
        ["publish", "cassettes/_fixtures/plugins/marketplace-v1", "{home}/marketplace"],
        ["codex", "plugin", "marketplace"], ["codex", "plugin", "add"], ["codex", "plugin", "list"]]
    assert all(s["exit_code"] == 0 for s in install)
    added = json.loads("\n".join(install[2]["output"]))
    assert added["installedPath"] == "{home}/.codex/plugins/cache/harness-local/demo-tools/1.0.0"


def test_update_keeps_the_cached_version_until_the_plugin_is_added_again() -> None:
    steps = _meta("plugin_update")["runs"][1]["setup"]
    listed = [installed_versions("\n".join(s["output"])) for s in steps
              if s["args"][1:3] == ["plugin", "list"]]
    assert listed == [{"demo-tools": "1.0.0"}, {"demo-tools": "2.0.0"}]


def test_broken_manifest_fails_clearly_and_installs_nothing() -> None:
    steps = _meta("plugin_broken")["runs"][0]["setup"]
    broken = next(s for s in steps if "broken-tools@harness-local" in s["args"])
    assert broken["exit_code"] == 1
    assert broken["output"][0].startswith("Error: failed to parse plugin.json:")
    assert installed_versions("\n".join(steps[-1]["output"])) == {"demo-tools": "2.0.0"}


def test_remove_empties_the_installed_set() -> None:
    steps = _meta("plugin_remove")["runs"][1]["setup"]
    assert [s["exit_code"] for s in steps] == [0, 0]
    assert installed_versions("\n".join(steps[-1]["output"])) == {}


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_recording_had_no_stub_problems(scenario: str) -> None:
    meta = _meta(scenario)
    assert meta["stub"]["problems"] == []
    assert all(run["exit_code"] == 0 for run in meta["runs"])


def test_requests_offer_the_plugins_tool_and_skill() -> None:
    scenario = load_scenario(CASSETTES / "plugin_native" / "scenario.yaml")
    bodies = _requests("plugin_native")
    assert all(SERVER in _served(scenario, body)[1] for body in bodies)
    text = json.dumps(bodies[-1])
    assert "This tool is part of plugin `demo-tools`." in text
    assert "- demo-tools:demo-echo: Echo text back through the demo-tools plugin" in text


def test_removed_plugin_is_no_longer_offered() -> None:
    scenario = load_scenario(CASSETTES / "plugin_remove" / "scenario.yaml")
    seen = [_served(scenario, body) for body in _requests("plugin_remove")]
    assert {run for run, _ in seen} == {0, 1}
    assert all((SERVER in servers) == (run == 0) for run, servers in seen)
    assert "Removed deferred tool namespaces:\\n- mcp__demo_plugin" in json.dumps(
        _requests("plugin_remove")[-1])


def test_broken_plugin_offers_nothing_and_the_good_one_still_runs() -> None:
    scenario = load_scenario(CASSETTES / "plugin_broken" / "scenario.yaml")
    for body in _requests("plugin_broken"):
        _, servers = _served(scenario, body)
        assert SERVER in servers and "broken_plugin" not in servers


# ==================================================================================== units


def _plugin_scenario(offers: dict[str, list[str]]) -> Scenario:
    return Scenario.model_validate({
        "name": "s", "description": "d", "expect": {"turns": [{}]},
        "runs": [{"prompt": "p", "offers": offers, "plugins": [{"action": "list"}],
                  "steps": [[{"text": "a"}]]}]})


@pytest.mark.parametrize(("step", "field"), [
    ({"action": "publish"}, "source"),
    ({"action": "install"}, "plugin"),
    ({"action": "list", "plugin": "x"}, "plugin"),
    ({"action": "remove", "installed": {}}, "plugin"),
    ({"action": "install", "plugin": "x", "installed": {}}, "installed"),
    ({"action": "upgrade"}, "action"),
])
def test_plugin_step_validation_names_the_problem(step: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError, match=field):
        PluginStep.model_validate(step)


def test_plugin_scenarios_enable_codex_plugins_and_others_keep_them_off() -> None:
    """With `plugins = false`, Codex 0.169 says an existing plugin is not in the marketplace."""
    plugin = load_scenario(CASSETTES / "plugin_native" / "scenario.yaml")
    plain = load_scenario(CASSETTES / "hello" / "scenario.yaml")
    assert plugin.uses_plugins and not plain.uses_plugins
    assert "\nplugins = true" in config_toml(plugin, "http://127.0.0.1:1")
    assert "\nplugins = false" in config_toml(plain, "http://127.0.0.1:1")


def test_plugin_commands_use_the_published_marketplace(tmp_path: Path) -> None:
    scenario = _plugin_scenario({})
    plan = RunPlan(scenario, 0, tmp_path / "ws", tmp_path / "home", "http://127.0.0.1:1")
    with pytest.raises(PluginStepError, match="no marketplace published"):
        command(PluginStep(action="install", plugin="demo-tools"), plan)
    shutil.copytree(PLUGINS / "marketplace-v1", tmp_path / "home" / "marketplace")
    assert command(PluginStep(action="remove", plugin="demo-tools"), plan) == [
        "plugin", "remove", "demo-tools@harness-local", "--json"]
    assert command(PluginStep(action="add_marketplace"), plan)[3] == str(
        tmp_path / "home" / "marketplace")


def test_step_check_stops_on_any_unscripted_outcome() -> None:
    listing = json.dumps({"installed": [{"name": "demo-tools", "version": "1.0.0"}]})
    ok = SetupRecord(["codex"], 0, listing)
    check(PluginStep(action="list", installed={"demo-tools": "1.0.0"}), ok, listing)
    with pytest.raises(PluginStepError, match="scenario expects"):
        check(PluginStep(action="list", installed={}), ok, listing)
    with pytest.raises(PluginStepError, match="exit 1: Error: boom"):
        check(PluginStep(action="install", plugin="x"), SetupRecord([], 1, "Error: boom"), "")
    with pytest.raises(PluginStepError, match="expected a failure"):
        check(PluginStep(action="install", plugin="x", fails="parse"), ok, "")
    check(PluginStep(action="install", plugin="x", fails="parse"),
          SetupRecord([], 1, "failed to parse plugin.json"), "")


def test_stub_reports_a_missing_or_a_forbidden_server() -> None:
    """The stub's offer check, on a request shaped like Codex's (deferred namespaces list)."""
    tools = "<tools>\nDeferred tool namespaces:\n- mcp__demo_plugin\n</tools>"
    body = {"input": [{"type": "message", "role": "developer",
                       "content": [{"type": "input_text", "text": tools}]},
                      {"type": "message", "role": "user", "content": "p"}]}

    def problems(offers: dict[str, list[str]]) -> list[str]:
        scenario = _plugin_scenario(offers)
        progress = progress_of(scenario, body["input"])
        assert progress is not None
        return list(check_offers(scenario, progress, body, body["input"]))

    assert problems({"present": [SERVER], "absent": ["other"]}) == []
    assert problems({"present": ["other"]}) == [
        "run 0 step 0: MCP server 'other' is not offered (offered: ['demo_plugin'])"]
    assert problems({"absent": [SERVER]}) == [
        "run 0 step 0: MCP server 'demo_plugin' is offered but must not be"]


def test_removed_namespaces_are_subtracted_in_order() -> None:
    first = "<tools>\nDeferred tool namespaces:\n- mcp__a\n- mcp__b\n</tools>"
    later = "<tools>\nRemoved deferred tool namespaces:\n- mcp__a\n</tools>"
    inputs = [{"type": "message", "role": "developer", "content": [{"text": t}]}
              for t in (first, later)]
    assert offered_servers({}, inputs, len(inputs) - 1) == {"b"}
    assert offered_servers({}, inputs[:1], 0) == {"a", "b"}


# ==================================================================================== fixture


def test_fixture_marketplaces_are_codex_native_layout() -> None:
    for version, root in (("1.0.0", PLUGINS / "marketplace-v1"),
                          ("2.0.0", PLUGINS / "marketplace-v2")):
        assert marketplace_name(root) == "harness-local"
        plugin = root / "plugins" / "demo-tools"
        manifest = json.loads((plugin / ".codex-plugin" / "plugin.json").read_text())
        assert (manifest["name"], manifest["version"]) == ("demo-tools", version)
        assert (manifest["mcpServers"], manifest["skills"]) == ("./.mcp.json", "./skills/")
        server = json.loads((plugin / ".mcp.json").read_text())["mcpServers"][SERVER]
        assert server["cwd"] == "." and server["args"] == ["server.py"]
        assert (plugin / "skills" / "demo-echo" / "SKILL.md").is_file()


def test_both_versions_ship_the_same_server_code() -> None:
    """Only the manifest version differs, so the update scenario proves which copy ran."""
    v1, v2 = (PLUGINS / v / "plugins" / "demo-tools" / "server.py"
              for v in ("marketplace-v1", "marketplace-v2"))
    assert v1.read_bytes() == v2.read_bytes()


def test_broken_plugin_manifest_is_not_json() -> None:
    broken = PLUGINS / "marketplace-v2" / "plugins" / "broken-tools" / ".codex-plugin"
    with pytest.raises(ValueError):
        json.loads((broken / "plugin.json").read_text())


@pytest.mark.parametrize("version", ["marketplace-v1", "marketplace-v2"])
def test_plugin_server_answers_mcp_over_stdio(version: str) -> None:
    server = PLUGINS / version / "plugins" / "demo-tools" / "server.py"
    calls = [{"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
             {"jsonrpc": "2.0", "id": 2, "method": "tools/call",
              "params": {"name": "version", "arguments": {}}},
             {"jsonrpc": "2.0", "id": 3, "method": "tools/call",
              "params": {"name": "echo", "arguments": {"text": "hi"}}}]
    done = subprocess.run([sys.executable, str(server)], capture_output=True, text=True,
                          input="".join(json.dumps(c) + "\n" for c in calls), timeout=30,
                          check=True)
    replies = [json.loads(line) for line in done.stdout.splitlines()]
    assert [t["name"] for t in replies[0]["result"]["tools"]] == ["echo", "version"]
    expected = "demo-tools " + ("1.0.0" if version.endswith("v1") else "2.0.0")
    assert replies[1]["result"]["content"][0]["text"] == expected
    assert replies[2]["result"] == {"content": [{"type": "text", "text": "hi"}],
                                    "isError": False}


# ==================================================================================== live


def _normalized(lane: str, path: Path) -> list[dict[str, Any]]:
    with path.open("rb") as stream:
        return [e.model_dump(mode="json") for e in
                get_lane(lane).normalize(LaneInput(stream, str(path), path), RunContext())]


def _setups(meta: dict[str, Any]) -> list[Any]:
    return [run.get("setup") for run in meta["runs"]]


@pytest.fixture(scope="module")
def rerecorded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Every plugin scenario recorded afresh on the real binary, into a scratch catalog."""
    if not DRIVER.binary().exists():
        pytest.fail(f"codex {DRIVER.version} not installed: run `harness runtimes install codex`")
    scratch = tmp_path_factory.mktemp("plugins-live")

    def record(name: str) -> list[str]:
        (scratch / name).mkdir()
        shutil.copy(CASSETTES / name / "scenario.yaml", scratch / name / "scenario.yaml")
        return record_scenario(DRIVER, scratch / name, force=True, drift_lanes={}).problems

    with ThreadPoolExecutor(max_workers=len(SCENARIOS)) as pool:
        problems = dict(zip(SCENARIOS, pool.map(record, SCENARIOS), strict=True))
    assert not any(problems.values()), problems
    yield scratch


@pytest.mark.runtime
@pytest.mark.parametrize("scenario", SCENARIOS)
def test_live_lifecycle_rerun_matches_the_recording(rerecorded: Path, scenario: str) -> None:
    fresh = json.loads((rerecorded / scenario / "codex.meta.json").read_text())
    assert _setups(fresh) == _setups(_meta(scenario))
    for lane in CODEX_LANES:
        name = get_lane(lane).native_file
        verdict = equivalent(_normalized(lane, CASSETTES / scenario / name),
                             _normalized(lane, rerecorded / scenario / name),
                             "strict", labels=("recorded", "re-run"))
        assert verdict.equivalent, f"{lane}:\n{verdict.diff}"


@pytest.mark.runtime
def test_live_unscripted_plugin_outcome_stops_the_recording(tmp_path: Path) -> None:
    """A scenario claiming the broken plugin installs: the real failure stops the recording
    with the runtime's own message, and no cassette is written."""
    data = yaml.safe_load((CASSETTES / "plugin_broken" / "scenario.yaml").read_text())
    for step in data["runs"][0]["plugins"]:
        step.pop("fails", None)
    (tmp_path / "plugin_broken").mkdir()
    (tmp_path / "plugin_broken" / "scenario.yaml").write_text(yaml.safe_dump(data))
    with pytest.raises(PluginStepError, match=r"install broken-tools: exit 1: .*plugin\.json"):
        record_scenario(DRIVER, tmp_path / "plugin_broken", force=True, drift_lanes={})
    assert sorted(p.name for p in (tmp_path / "plugin_broken").iterdir()) == ["scenario.yaml"]
