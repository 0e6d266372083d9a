"""The control plane as normalized data: `session.capabilities` (skills, MCP servers with their
status and tools, the effective settings), read from a `codex app-server` transcript, ordered
by the log's rules, held to the scenario by the gate, and claimed only as `control_plane`.

Each check here fails when its rule is loosened: a server's status mapping, a missing tool,
a server the scenario does not configure, an effective setting that differs from the run's,
a capabilities event out of place or disagreeing with its session.
"""

from __future__ import annotations

import copy
import io
import json
from pathlib import Path
from typing import Any

import pytest

from harness.conformance.capabilities import capability_problems
from harness.conformance.outline import match_capabilities
from harness.conformance.results import CellResult
from harness.contract.invariants import check_events
from harness.contract.lane import LaneInput, RunContext, normalize_to_dicts
from harness.contract.runmeta import recorded_context
from harness.scenario import load_scenario
from lanes.codex_app_server import LANE, mcp_servers_of, skills_of

THREAD = "00000000-0000-4000-8000-000000000002"


def tin(msg: dict[str, Any]) -> dict[str, Any]:
    return {"dir": "in", "msg": msg}


def tout(msg: dict[str, Any]) -> dict[str, Any]:
    return {"dir": "out", "msg": msg}


def thread_answer(rid: int) -> dict[str, Any]:
    return tin({"id": rid, "result": {"thread": {"id": THREAD}, "model": "gpt-5.5",
                                      "approvalPolicy": "untrusted",
                                      "sandbox": {"type": "workspaceWrite"}}})


def run(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The lane's strict log of a transcript, held to the ordering rules."""
    data = "".join(json.dumps(line) + "\n" for line in lines).encode()
    events = [e.model_dump(mode="json")
              for e in LANE.normalize(LaneInput(io.BytesIO(data), "t.jsonl"), RunContext())]
    assert not check_events(events), check_events(events)
    return events

REPO = Path(__file__).resolve().parents[1]

SKILLS = {"data": [{"cwd": "/w", "errors": [], "skills": [
    {"name": "imagegen", "description": "Make images.", "path": "/s/imagegen/SKILL.md",
     "scope": "system", "enabled": True},
    {"name": "mine", "description": "Mine.", "path": "/u/mine/SKILL.md", "scope": "user",
     "enabled": False}]}]}


def server(name: str, **fields: Any) -> dict[str, Any]:
    return {"name": name, "runtimeStatus": None, "authStatus": "unsupported",
            "tools": {"echo": {"name": "echo"}, "fail": {"name": "fail"}}, "toolsError": None,
            **fields}


def control_transcript(servers: list[dict[str, Any]] | None = None,
                       skills: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    lines = [tout({"method": "initialize", "id": 0, "params": {}}),
             tin({"id": 0, "result": {"userAgent": "x"}}), tout({"method": "initialized"})]
    answers = {"skills/list": skills, "mcpServerStatus/list":
               None if servers is None else {"data": servers, "nextCursor": None}}
    for rid, (method, result) in enumerate(answers.items(), start=1):
        if result is not None:
            lines += [tout({"method": method, "id": rid, "params": {}}),
                      tin({"id": rid, "result": result})]
    return [*lines, tout({"method": "thread/start", "id": 9, "params": {}}), thread_answer(9)]


def capabilities(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for e in events if e["type"] == "session.capabilities"]


def test_control_plane_answers_become_the_sessions_capabilities() -> None:
    events = run(control_transcript([server("demo")], SKILLS))
    assert [e["type"] for e in events] == ["session.started", "session.capabilities"]
    (caps,) = capabilities(events)
    assert caps["capabilities_version"] == 1 and caps["thread_id"] == THREAD
    assert caps["skills"] == [
        {"name": "imagegen", "scope": "system", "enabled": True, "description": "Make images."},
        {"name": "mine", "scope": "user", "enabled": False, "description": "Mine."}]
    assert caps["mcp_servers"] == [{"name": "demo", "status": "ready", "tools": ["echo", "fail"],
                                    "error": None, "auth_status": "unsupported"}]
    session = events[0]
    for name in ("model", "auth_mode", "cwd", "sandbox", "approval_policy"):
        assert caps[name] == session[name]
    assert caps["sandbox"] == "workspace-write" and caps["approval_policy"] == "untrusted"


def test_no_control_plane_answer_no_capabilities_and_unseen_lists_are_null() -> None:
    assert not capabilities(run(control_transcript()))
    (caps,) = capabilities(run(control_transcript(skills=SKILLS)))
    assert caps["mcp_servers"] is None and [s["name"] for s in caps["skills"]] == [
        "imagegen", "mine"]


@pytest.mark.parametrize(("fields", "status", "error"), [
    ({"runtimeStatus": "connected"}, "ready", None),
    ({"runtimeStatus": "starting"}, "starting", None),
    ({"runtimeStatus": "notStarted"}, "starting", None),
    ({"runtimeStatus": "failed"}, "failed", None),
    ({"runtimeStatus": "authenticationRequired"}, "failed", None),
    ({"runtimeStatus": "disabled"}, "disabled", None),
    ({"toolsError": "spawn ENOENT", "tools": {}}, "failed", "spawn ENOENT"),
    ({"tools": None}, "unknown", None),
])
def test_mcp_server_status(fields: dict[str, Any], status: str, error: str | None) -> None:
    (info,) = mcp_servers_of({"data": [server("demo", **fields)]})
    assert (info.status, info.error) == (status, error)


def test_unreadable_control_answers_keep_what_is_readable() -> None:
    assert skills_of({"data": [{"skills": [{"description": "no name"}, "x"]}]}) == []
    assert mcp_servers_of({"data": [{"runtimeStatus": "connected"}, 3]}) == []
    assert mcp_servers_of(None) == [] and skills_of("x") == []


# ------------------------------------------------------------------------------ log rules


def _pair() -> list[dict[str, Any]]:
    return run(control_transcript([server("demo")], SKILLS))


def test_capabilities_must_follow_their_session_and_agree_with_it() -> None:
    events = _pair()
    assert not check_events(events)
    moved = copy.deepcopy([events[1], events[0]])
    for seq, event in enumerate(moved):
        event["seq"] = seq
    assert any(v.rule == "capabilities" for v in check_events(moved))
    for name, value in (("sandbox", "read-only"), ("cwd", "/elsewhere"), ("model", "m2"),
                        ("approval_policy", "never"), ("auth_mode", "chatgpt"),
                        ("thread_id", "other")):
        changed = copy.deepcopy(events)
        changed[1][name] = value
        assert [v.rule for v in check_events(changed)] == ["capabilities"], name


# ------------------------------------------------------------------------------ the gate


@pytest.fixture(scope="module")
def mcp_call() -> tuple[Any, list[dict[str, Any]]]:
    folder = REPO / "cassettes" / "mcp_call"
    native = folder / "codex-app-server.jsonl"
    events = normalize_to_dicts(LANE, native, recorded_context(native))
    return load_scenario(folder / "scenario.yaml"), events


def _edit(events: list[dict[str, Any]], change: Any) -> list[dict[str, Any]]:
    edited = copy.deepcopy(events)
    change(next(e for e in edited if e["type"] == "session.capabilities"))
    return edited


def test_the_recorded_capabilities_match_the_scenario(mcp_call: Any) -> None:
    scenario, events = mcp_call
    assert capabilities(events) and match_capabilities(events, scenario) == []
    assert scenario.expect.skills


@pytest.mark.parametrize(("change", "says"), [
    (lambda c: c["mcp_servers"][0].update(status="failed"), "is failed, expected ready"),
    (lambda c: c["mcp_servers"][0].update(tools=["fail"]), "lists no ['echo']"),
    (lambda c: c["mcp_servers"].append({**c["mcp_servers"][0], "name": "x"}),
     "MCP servers ['demo', 'x']"),
    (lambda c: c["mcp_servers"].clear(), "MCP servers []"),
    (lambda c: c.update(mcp_servers=None), "no MCP server state"),
    (lambda c: c.update(sandbox="full-access"), "sandbox 'full-access'"),
    (lambda c: c.update(approval_policy="on-request"), "approval_policy 'on-request'"),
    (lambda c: c.update(cwd="{workspace}/sub"), "cwd '{workspace}/sub'"),
    (lambda c: c.update(skills=[s for s in c["skills"] if s["name"] != "imagegen"]),
     "skills ['imagegen'] not listed"),
    (lambda c: c["skills"][1].update(enabled=False) if c["skills"][1]["name"] == "imagegen"
     else [s.update(enabled=False) for s in c["skills"] if s["name"] == "imagegen"],
     "skills ['imagegen'] not listed"),
    (lambda c: c.update(skills=None), "no skills listed"),
])
def test_every_capability_check_fails_when_the_fact_changes(mcp_call: Any, change: Any,
                                                            says: str) -> None:
    scenario, events = mcp_call
    problems = match_capabilities(_edit(events, change), scenario)
    assert problems and all(p.startswith("outline.capabilities: session 0: ") for p in problems)
    assert any(says in p for p in problems), problems


def test_control_plane_is_claimed_only_by_lanes_that_declare_and_show_it(mcp_call: Any) -> None:
    scenario, events = mcp_call
    assert "control_plane" in LANE.capabilities
    shown = CellResult("mcp_call", LANE.id, "pass", events=events)
    assert not [p for p in capability_problems({LANE.id: LANE}, [shown], {"mcp_call": scenario})
                if "control_plane" in p]
    hidden = CellResult("mcp_call", LANE.id, "pass",
                        events=[e for e in events if e["type"] != "session.capabilities"])
    assert any("declares 'control_plane' but no passing cassette" in p for p in
               capability_problems({LANE.id: LANE}, [hidden], {"mcp_call": scenario}))
    undeclared = LANE.__class__(**{**LANE.__dict__, "capabilities": LANE.capabilities - {
        "control_plane"}})
    assert any("emits session.capabilities but does not declare" in p for p in
               capability_problems({LANE.id: undeclared}, [shown], {"mcp_call": scenario}))


def test_a_lane_that_declares_the_control_plane_owes_it_for_every_session(mcp_call: Any) -> None:
    """Without this, a codex-app-server that stopped reporting capabilities in one scenario
    would pass there (nothing to compare) as long as another scenario demonstrates them."""
    scenario, events = mcp_call
    assert match_capabilities(events, scenario, declared=True) == []
    dropped = [e for e in events if e["type"] != "session.capabilities"]
    assert match_capabilities(dropped, scenario) == []  # a lane that never reports the plane
    assert match_capabilities(dropped, scenario, declared=True) == [
        "outline.capabilities: session 0: no session.capabilities from a lane that declares "
        "control_plane"]
