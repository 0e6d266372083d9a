"""Does a normalized log match a scenario's expected outline? (kinds, order, statuses, fields)

The outline lists, per run, the turn's outcome and its completed items in order. Fields an outline
item leaves unset are not checked, except the answer text: where the scenario scripts what the
model says (`scripted_texts`), each completed assistant message must say the next scripted text.
Every problem starts with its stable check id (`outline.runs`, `outline.outcome`,
`outline.error_kind`, `outline.items`, `outline.kind`, `outline.status`, `outline.exit_code`,
`outline.command`, `outline.output`, `outline.error`, `outline.paths`, `outline.change_kinds`,
`outline.server`, `outline.tool`, `outline.text`, `outline.approvals`: each resolved
approval's decision and decider, in order, where the outline lists them;
`outline.capabilities`: a lane's `session.capabilities` held to the scenario's settings, see
`match_capabilities`). Outputs and refusal
texts are read as the equivalence check reads them (the lane's `Lens`: its output rules, then
the canonical form), so a scenario can state what a runtime really printed where no other lane
witnesses it. Noise kinds (non-fatal notices, unknown items) are only compared when the outline
itself names that kind, so a runtime's chatter does not break outlines; the same holds for a
lane's plumbing tool calls (`LaneSpec.noise_tools`, e.g. tool search).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from typing import Any

from harness.conformance.equivalence import (
    NOISE_KINDS,
    Lens,
    in_workspace,
    relative_path,
    unwrap_command,
)
from harness.scenario import ExpectedItem, ExpectedTurn, McpBlock, Scenario, TextBlock


@dataclass
class ObservedRun:
    outcome: str = "no_turn"
    error_kind: str | None = None
    items: list[Mapping[str, Any]] = field(default_factory=list)
    cwd: str | None = None
    approvals: list[tuple[str, str]] = field(default_factory=list)


def observe(events: Iterable[Mapping[str, Any]]) -> list[ObservedRun]:
    """Group a log into runs (one turn each in this catalog) with their completed items."""
    runs: list[ObservedRun] = []
    for event in events:
        etype = event["type"]
        if etype == "session.started":
            runs.append(ObservedRun(cwd=event.get("cwd")))
            continue
        if not runs:
            continue
        run = runs[-1]
        if etype == "turn.started":
            run.outcome = "in_progress"
        elif etype == "turn.completed":
            run.outcome = "completed"
        elif etype == "turn.failed":
            run.outcome, run.error_kind = "failed", event["error"]["kind"]
        elif etype == "item.completed" and event.get("turn") is not None:
            run.items.append(event["item"])
        elif etype == "approval.resolved":
            run.approvals.append((event["decision"], event["decided_by"]))
    return runs


def _item_mismatches(where: str, want: ExpectedItem, got: Mapping[str, Any],
                     cwd: str | None, lens: Lens) -> list[str]:
    problems: list[str] = []

    def read(text: object) -> str | None:
        return None if text is None else in_workspace(lens.output(str(text)), cwd)

    def check(name: str, expected: object, actual: object) -> None:
        if expected is not None and expected != actual:
            problems.append(f"outline.{name}: {where}: expected {expected!r}, got {actual!r}")

    check("kind", want.kind, got["kind"])
    if problems:
        return problems
    check("status", want.status, got["status"])
    if got["kind"] == "command_execution":
        check("exit_code", want.exit_code, got.get("exit_code"))
        check("command", want.command, unwrap_command(got["command"]))
        output = read(got.get("output"))
        check("output", read(want.output) if want.output is not None else None, output)
        head = read(want.output_head) if want.output_head is not None else None
        if head is not None and not (output or "").startswith(head):
            problems.append(f"outline.output: {where}: expected output starting {head!r}, "
                            f"got {(output or '')[:len(head) + 40]!r}")
    if got["kind"] in {"command_execution", "file_change"}:
        check("error", read(want.error) if want.error is not None else None,
              read(got.get("error")))
    if got["kind"] == "file_change":
        paths = sorted(relative_path(c["path"], cwd) for c in got["changes"])
        check("paths", sorted(want.paths) if want.paths is not None else None, paths)
        kinds = sorted(c["kind"] for c in got["changes"])
        check("change_kinds",
              sorted(want.change_kinds) if want.change_kinds is not None else None, kinds)
    if got["kind"] == "mcp_tool_call":
        check("server", want.server, got.get("server"))
        check("tool", want.tool, got.get("tool"))
    if got["kind"] == "tool_call":
        check("tool", want.tool, got.get("name"))
    if want.text is not None and "text" in got:
        check("text", " ".join(want.text.split()), " ".join(str(got["text"]).split()))
    return problems


def _is_noise(item: Mapping[str, Any], named: AbstractSet[str],
              noise_tools: frozenset[str]) -> bool:
    """Notices, unknown items and a lane's plumbing tool calls (e.g. tool search) are compared
    only when the outline itself names that kind (`named`, the run's expected item kinds): a
    runtime's chatter does not break outlines."""
    if item["kind"] in NOISE_KINDS:
        return item["kind"] not in named
    return item["kind"] == "tool_call" and item.get("name") in noise_tools \
        and "tool_call" not in named


def scripted_texts(scenario: Scenario) -> list[list[str]]:
    """Per run, the answer texts the scenario scripts the model to say, in order."""
    return [[block.text for step in run.steps if isinstance(step, list)
             for block in step if isinstance(block, TextBlock)] for run in scenario.runs]


def match_outline(events: Iterable[Mapping[str, Any]], expected: list[ExpectedTurn],
                  noise_tools: frozenset[str] = frozenset(),
                  texts: list[list[str]] | None = None, *, lens: Lens | None = None) -> list[str]:
    """Every way the log differs from the outline (empty list: it matches); `noise_tools` are
    the lane's plumbing tool names (LaneSpec.noise_tools); `lens`, when given, is the whole way
    the lane is read (plumbing tools and output rules, `gate.lens_of`) and replaces them;
    `texts` the scripted answer texts per run (`scripted_texts`), held to the completed
    assistant messages where the outline gives no text of its own."""
    lens = lens or Lens(noise_tools=noise_tools)
    noise_tools = lens.noise_tools
    runs = observe(events)
    problems: list[str] = []
    if len(runs) != len(expected):
        problems.append(f"outline.runs: expected {len(expected)}, got {len(runs)}")
    for index, (want, got) in enumerate(zip(expected, runs, strict=False)):
        where = f"run {index}"
        if want.outcome != got.outcome:
            problems.append(f"outline.outcome: {where}: expected {want.outcome}, "
                            f"got {got.outcome}")
        if want.error_kind is not None and want.error_kind != got.error_kind:
            problems.append(f"outline.error_kind: {where}: expected {want.error_kind}, "
                            f"got {got.error_kind}")
        if want.approvals is not None:
            wanted_approvals = [(a.decision, a.decided_by) for a in want.approvals]
            if wanted_approvals != got.approvals:
                problems.append(f"outline.approvals: {where}: expected {wanted_approvals}, "
                                f"got {got.approvals}")
        named = {expected.kind for expected in want.items}
        items = [i for i in got.items if not _is_noise(i, named, noise_tools)]
        if len(items) != len(want.items):
            kinds = [i["kind"] for i in items]
            problems.append(f"outline.items: {where}: expected {len(want.items)} items "
                            f"{[i.kind for i in want.items]}, got {len(items)} {kinds}")
        scripted = iter(texts[index] if texts is not None and index < len(texts) else [])
        for position, (w, g) in enumerate(zip(want.items, items, strict=False)):
            wanted = w
            if w.kind == "assistant_message" and g["kind"] == w.kind \
                    and g["status"] == "completed":
                script = next(scripted, None)
                if w.text is None:
                    wanted = w.model_copy(update={"text": script})
            problems += _item_mismatches(f"{where} item {position}", wanted, g, got.cwd, lens)
    return problems


def mcp_calls(scenario: Scenario) -> dict[str, set[str]]:
    """Server -> the tools the scenario's steps call on it."""
    calls: dict[str, set[str]] = {}
    for run in scenario.runs:
        for step in run.steps:
            for block in step if isinstance(step, list) else []:
                if isinstance(block, McpBlock):
                    calls.setdefault(block.mcp.server, set()).add(block.mcp.tool)
    return calls


def match_capabilities(events: Iterable[Mapping[str, Any]], scenario: Scenario,
                       declared: bool = False) -> list[str]:
    """Each `session.capabilities` against the scenario: the effective sandbox, approval
    policy and cwd it was run with; exactly its MCP servers, each `ready` and listing every
    tool the scenario calls on it; the skills the scenario expects, enabled. A lane that
    `declared` the control plane owes one per session (a lane that stops reporting it must not
    pass by saying nothing); lanes that report none are not judged here."""
    events = list(events)
    problems = _missing_capabilities(events) if declared else []
    return problems + _capability_problems(events, scenario)


def _missing_capabilities(events: list[Mapping[str, Any]]) -> list[str]:
    starts = [i for i, e in enumerate(events) if e["type"] == "session.started"]
    return [f"outline.capabilities: session {index}: no session.capabilities from a lane "
            "that declares control_plane"
            for index, position in enumerate(starts)
            if position + 1 >= len(events) or events[position + 1]["type"] !=
            "session.capabilities"]


def _capability_problems(events: list[Mapping[str, Any]], scenario: Scenario) -> list[str]:
    settings = scenario.settings
    cwd = "{workspace}" if settings.cwd in {".", ""} else \
        f"{{workspace}}/{settings.cwd.strip('/')}"
    wanted = {"sandbox": settings.sandbox, "approval_policy": settings.approval_policy,
              "cwd": cwd}
    calls = mcp_calls(scenario)
    problems: list[str] = []
    for index, event in enumerate(e for e in events if e["type"] == "session.capabilities"):
        where = f"session {index}"
        problems += [f"outline.capabilities: {where}: {name} {event.get(name)!r}, expected "
                     f"{value!r}" for name, value in wanted.items() if event.get(name) != value]
        problems += _mcp_problems(where, event.get("mcp_servers"), settings.mcp_servers, calls)
        problems += _skill_problems(where, event.get("skills"), scenario.expect.skills)
    return problems


def _mcp_problems(where: str, servers: Any, configured: Mapping[str, Any],
                  calls: Mapping[str, set[str]]) -> list[str]:
    if servers is None:
        return [f"outline.capabilities: {where}: no MCP server state"] if configured else []
    names = sorted(s["name"] for s in servers)
    if names != sorted(configured):
        return [f"outline.capabilities: {where}: MCP servers {names}, expected "
                f"{sorted(configured)}"]
    problems: list[str] = []
    for server in servers:
        if server["status"] != "ready":
            problems.append(f"outline.capabilities: {where}: MCP server {server['name']!r} is "
                            f"{server['status']}, expected ready")
        missing = sorted(calls.get(server["name"], set()) - set(server["tools"]))
        if missing:
            problems.append(f"outline.capabilities: {where}: MCP server {server['name']!r} "
                            f"lists no {missing}")
    return problems


def _skill_problems(where: str, skills: Any, expected: list[str] | None) -> list[str]:
    if expected is None:
        return []
    if skills is None:
        return [f"outline.capabilities: {where}: no skills listed, expected {expected}"]
    enabled = {s["name"] for s in skills if s.get("enabled") is not False}
    missing = [name for name in expected if name not in enabled]
    return [f"outline.capabilities: {where}: skills {missing} not listed as enabled"] \
        if missing else []
