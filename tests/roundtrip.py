"""In-process client simulators: play a runtime against a provider's responder, no HTTP.

Each simulator grows requests the way its runtime does (prompt, the previous answers' output
echoed back, a result for every tool call in them, carrying the drawn exit code and output in the
runtime's own result format), calls the responder's `respond(StubRequest)` directly, and returns
the Exchanges; `normalize_exchanges` turns them into a cassette and reads it with an API lane.
`codex_exec_lines` renders an abstract scenario as `codex exec --json` stdout instead.
"""

from __future__ import annotations

import json
import re
import shlex
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from harness import scenario as sc
from harness.cassette import render_http_cassette
from harness.lane import LaneInput, LaneSpec, RunContext
from harness.providers.responses import ResponsesResponder
from harness.strategies import ROUNDTRIP_THREAD, AbstractScenario
from harness.stub import Exchange, StubReply, StubRequest
from tests.test_codex_adapter_lane import (
    client_metadata,
    developer,
    environment,
    exec_output,
    patch_output,
    request_body,
    user,
)

MAX_CALLS = 64
"""A simulator making more model calls than this is looping: the responder never finished."""

_CALL_ID = re.compile(r"^call_r(\d+)s(\d+)(?:b(\d+)|search)$")


class SimulationError(AssertionError):
    """The responder answered something the runtime could not continue from."""


def _block(abstract: AbstractScenario, run: int, step: int, block: int) -> sc.Block:
    blocks = abstract.scenario.runs[run].steps[step]
    if not isinstance(blocks, list):
        raise SimulationError(f"call into failure step r{run}s{step}")
    return blocks[block]


# ------------------------------------------------------------------------------ Responses / Codex


def sse_payloads(body: bytes) -> Iterator[dict[str, Any]]:
    """The JSON `data:` payloads of an SSE body."""
    for frame in body.decode("utf-8").split("\n\n"):
        for line in frame.split("\n"):
            if line.startswith("data: "):
                yield json.loads(line[len("data: "):])


def _responses_output(reply: StubReply) -> list[dict[str, Any]]:
    if reply.status != 200:
        raise SimulationError(f"responder answered HTTP {reply.status}")
    for payload in sse_payloads(reply.body):
        if payload.get("type") == "response.completed":
            output: list[dict[str, Any]] = payload["response"]["output"]
            return output
    raise SimulationError("stream without response.completed")


def _mcp_tools(abstract: AbstractScenario, run: int, step: int) -> list[dict[str, Any]]:
    """Codex's `tool_search_output`: one namespace per MCP server of the step, its tools inside."""
    servers: dict[str, set[str]] = {}
    for block in abstract.scenario.runs[run].steps[step]:
        if isinstance(block, sc.McpBlock):
            servers.setdefault(block.mcp.server, set()).add(block.mcp.tool)
    return [{"type": "namespace", "name": f"mcp__{server}__", "description": server,
             "tools": [{"type": "function", "name": f"mcp__{server}__{tool}",
                        "parameters": {"type": "object"}} for tool in sorted(tools)]}
            for server, tools in sorted(servers.items())]


def codex_tool_result(abstract: AbstractScenario, call: dict[str, Any]) -> dict[str, Any]:
    """Codex's `*_output` input item for one call of a response, in Codex's own text formats."""
    call_id = str(call["call_id"])
    match = _CALL_ID.match(call_id)
    if match is None:
        raise SimulationError(f"unexpected call id {call_id}")
    run, step = int(match.group(1)), int(match.group(2))
    if match.group(3) is None:
        return {"type": "tool_search_output", "call_id": call_id, "execution": "client",
                "status": "completed", "tools": _mcp_tools(abstract, run, step)}
    where = (run, step, int(match.group(3)))
    block = _block(abstract, *where)
    if isinstance(block, sc.ShellBlock):
        result = abstract.shell_result(*where)
        return exec_output(call_id, result.exit_code, result.output)
    if isinstance(block, sc.PatchBlock):
        return patch_output(call_id)
    if isinstance(block, sc.PlanBlock):
        return {"type": "function_call_output", "call_id": call_id, "output": "Plan updated"}
    if isinstance(block, sc.McpBlock):
        result = {"content": [{"type": "text", "text": f"{block.mcp.tool} done"}]}
        return {"type": "function_call_output", "call_id": call_id,
                "output": json.dumps(result, ensure_ascii=False)}
    raise SimulationError(f"call {call_id} points at a {type(block).__name__}")


def codex_exchanges(abstract: AbstractScenario) -> list[Exchange]:
    """Codex CLI against the Responses responder: run 0 a new thread, later runs `codex exec
    resume` (fresh developer/environment context after the carried history)."""
    responder = ResponsesResponder(abstract.scenario)
    inputs: list[dict[str, Any]] = [developer("You are Codex.")]
    exchanges: list[Exchange] = []
    for run, spec in enumerate(abstract.scenario.runs):
        inputs += [developer("<permissions instructions>\nApproval policy is currently never."
                             "\n</permissions instructions>"), environment(), user(spec.prompt)]
        meta = client_metadata(ROUNDTRIP_THREAD,
                               history_initialization="new" if run == 0 else "cold_resume")
        while True:
            if len(exchanges) >= MAX_CALLS:
                raise SimulationError("too many model calls")
            body = request_body(list(inputs), thread=ROUNDTRIP_THREAD, metadata=meta)
            request = StubRequest("POST", "/v1/responses", "",
                                  {"content-type": "application/json"},
                                  json.dumps(body, ensure_ascii=False).encode())
            reply = responder.respond(request)
            exchanges.append(Exchange(request, reply))
            output = _responses_output(reply)
            inputs += output
            calls = [i for i in output if i.get("type") in
                     {"function_call", "custom_tool_call", "tool_search_call"}]
            if not calls:
                break
            inputs += [codex_tool_result(abstract, call) for call in calls]
    if responder.log.problems:
        raise SimulationError("; ".join(responder.log.problems))
    return exchanges


# ------------------------------------------------------------------------------ lanes


def normalize_exchanges(lane: LaneSpec, exchanges: list[Exchange]) -> list[dict[str, Any]]:
    """Exchanges -> vcrpy cassette text -> the lane (strict mode) -> event dicts."""
    with tempfile.TemporaryDirectory(prefix="roundtrip-") as tmp:
        path = Path(tmp) / lane.native_file
        path.write_text(render_http_cassette(exchanges), encoding="utf-8")
        return normalize_path(lane, path)


def normalize_path(lane: LaneSpec, path: Path) -> list[dict[str, Any]]:
    with path.open("rb") as handle:
        events = lane.normalize(LaneInput(stream=handle, name=str(path), path=path),
                                RunContext())
        return [event.model_dump(mode="json") for event in events]


# ------------------------------------------------------------------------------ codex exec


STARTED_FIRST = (sc.ShellBlock, sc.McpBlock, sc.PlanBlock)
"""Blocks whose `codex exec` item starts before it completes (file changes only complete)."""


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _item_body(abstract: AbstractScenario, where: tuple[int, int, int], block: sc.Block
               ) -> dict[str, Any]:
    """The completed `codex exec` item for one block (Codex's field names and statuses)."""
    if isinstance(block, sc.TextBlock):
        return {"type": "agent_message", "text": block.text}
    if isinstance(block, sc.ReasoningBlock):
        return {"type": "reasoning", "text": block.reasoning.text}
    if isinstance(block, sc.ShellBlock):
        result = abstract.shell_result(*where)
        return {"type": "command_execution",
                "command": "/bin/bash -lc " + shlex.quote(block.shell.command),
                "aggregated_output": result.output, "exit_code": result.exit_code,
                "status": "completed" if result.exit_code == 0 else "failed"}
    if isinstance(block, sc.PatchBlock):
        spec = block.patch
        changes = ([{"path": a.path, "kind": "add"} for a in spec.add]
                   + [{"path": u.path, "kind": "update"} for u in spec.update]
                   + [{"path": p, "kind": "delete"} for p in spec.delete])
        return {"type": "file_change", "changes": changes, "status": "completed"}
    if isinstance(block, sc.McpBlock):
        return {"type": "mcp_tool_call", "server": block.mcp.server, "tool": block.mcp.tool,
                "arguments": dict(block.mcp.arguments), "error": None, "status": "completed",
                "result": {"content": [{"type": "text", "text": f"{block.mcp.tool} done"}],
                           "structured_content": None}}
    if isinstance(block, sc.PlanBlock):
        return {"type": "todo_list", "items": [{"text": e.text, "completed": e.status ==
                                                "completed"} for e in block.plan]}
    query = block.web_search.query
    return {"type": "web_search", "id": f"ws_{where[0]}{where[1]}{where[2]}", "query": query,
            "action": {"type": "search", "query": query}}


def codex_exec_view(abstract: AbstractScenario) -> AbstractScenario:
    """The scenario as `codex exec --json` can show it: no encrypted reasoning (Codex prints
    only reasoning summaries) and plan steps either completed or pending (a todo item has a
    `completed` flag only)."""
    def visible(block: sc.Block) -> bool:
        return not (isinstance(block, sc.ReasoningBlock) and block.reasoning.encrypted)

    def flatten(block: sc.Block) -> sc.Block:
        if not isinstance(block, sc.PlanBlock):
            return block
        return sc.PlanBlock(plan=[sc.PlanEntrySpec(text=e.text, status="completed" if e.status
                                                   == "completed" else "pending")
                                  for e in block.plan])

    runs = []
    results = {}
    for r, run in enumerate(abstract.scenario.runs):
        steps: list[sc.Step] = []
        for s, step in enumerate(run.steps):
            kept: list[sc.Block] = []
            for b, block in enumerate(step if isinstance(step, list) else []):
                if visible(block):
                    if isinstance(block, sc.ShellBlock):
                        results[(r, s, len(kept))] = abstract.shell_result(r, s, b)
                    kept.append(flatten(block))
            steps.append(kept)
        runs.append(run.model_copy(update={"steps": steps}))
    return AbstractScenario(abstract.scenario.model_copy(update={"runs": runs}), results)


def codex_exec_lines(abstract: AbstractScenario) -> bytes:
    """`codex exec --json` stdout for the scenario: one `codex exec` (then `resume`) per run,
    tool items started when called and completed with their result, ids restarting per run.
    Takes the scenario as Codex can show it (see `codex_exec_view`)."""
    lines: list[str] = []
    for r, run in enumerate(abstract.scenario.runs):
        lines += [_dumps({"type": "thread.started", "thread_id": ROUNDTRIP_THREAD}),
                  _dumps({"type": "turn.started"})]
        number = 0
        for s, step in enumerate(run.steps):
            for b, block in enumerate(step if isinstance(step, list) else []):
                body = _item_body(abstract, (r, s, b), block)
                item_id = f"item_{number}"
                number += 1
                if isinstance(block, STARTED_FIRST):
                    started = {**body, "status": "in_progress"}
                    if isinstance(block, sc.ShellBlock):
                        started.update(aggregated_output="", exit_code=None)
                    lines.append(_dumps({"type": "item.started",
                                         "item": {"id": item_id, **started}}))
                lines.append(_dumps({"type": "item.completed", "item": {"id": item_id, **body}}))
        lines.append(_dumps({"type": "turn.completed", "usage": {
            "input_tokens": 10, "cached_input_tokens": 0, "output_tokens": 5}}))
    return "".join(line + "\n" for line in lines).encode("utf-8")
