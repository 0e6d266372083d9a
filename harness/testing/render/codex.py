"""Codex CLI's Responses traffic, simulated (the codex-adapter lane reads it: codex.http.yaml).

`codex_exchanges(abstract)` plays Codex CLI 0.169 against the Responses responder, `codex exec`
then `codex exec resume` per run: the request grows the way Codex grows it (the builders of
`codex_requests`), each call's tool output in Codex's own text formats. A failed model call is
made once (retries off) and adds nothing to the history.
"""

from __future__ import annotations

import json
import re
from typing import Any

from harness import scenario as sc
from harness.record.providers.responses import ResponsesResponder
from harness.record.stub import Exchange, StubReply, StubRequest
from harness.testing.abstract import ROUNDTRIP_THREAD, AbstractScenario
from harness.testing.render.codex_requests import (
    client_metadata,
    developer,
    environment,
    exec_output,
    patch_output,
    request_body,
    user,
)
from harness.testing.render.common import MAX_CALLS, SimulationError, sse_payloads

_CALL_ID = re.compile(r"^call_r(\d+)s(\d+)(?:b(\d+)|search)$")


def _block(abstract: AbstractScenario, run: int, step: int, block: int) -> sc.Block:
    blocks = abstract.scenario.runs[run].steps[step]
    if not isinstance(blocks, list):
        raise SimulationError(f"call into failure step r{run}s{step}")
    return blocks[block]


def _responses_output(reply: StubReply) -> list[dict[str, Any]] | None:
    """The output items of a completed response; None for a failed call (an HTTP error status
    or `response.failed`), which Codex, its retries off, does not repeat."""
    if reply.status != 200:
        return None
    for payload in sse_payloads(reply.body):
        if payload.get("type") == "response.completed":
            output: list[dict[str, Any]] = payload["response"]["output"]
            return output
        if payload.get("type") == "response.failed":
            return None
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
        answer = {"content": [{"type": "text", "text": f"{block.mcp.tool} done"}]}
        return {"type": "function_call_output", "call_id": call_id,
                "output": json.dumps(answer, ensure_ascii=False)}
    raise SimulationError(f"call {call_id} points at a {type(block).__name__}")


def codex_exchanges(abstract: AbstractScenario) -> list[Exchange]:
    """Codex CLI against the Responses responder: run 0 a new thread, later runs `codex exec
    resume`. As recorded (cassettes/resume_twice, Codex 0.169): the developer/environment context
    is sent once, at the thread's start; a resumed request is the stored history plus the new
    prompt; each run is one exec turn (`turn_trigger: exec`, its own `turn_id`) and every resume
    says `history_initialization: cold_resume`."""
    responder = ResponsesResponder(abstract.scenario)
    inputs: list[dict[str, Any]] = [
        developer("You are Codex."),
        developer("<permissions instructions>\nApproval policy is currently never."
                  "\n</permissions instructions>"), environment()]
    exchanges: list[Exchange] = []
    for run, spec in enumerate(abstract.scenario.runs):
        inputs.append(user(spec.prompt))
        meta = client_metadata(ROUNDTRIP_THREAD,
                               history_initialization="new" if run == 0 else "cold_resume",
                               turn_trigger="exec", turn_id=f"turn_r{run}")
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
            if output is None:  # turn.failed; the history keeps what came before the call
                break
            inputs += output
            calls = [i for i in output if i.get("type") in
                     {"function_call", "custom_tool_call", "tool_search_call"}]
            if not calls:
                break
            inputs += [codex_tool_result(abstract, call) for call in calls]
    if responder.log.problems:
        raise SimulationError("; ".join(responder.log.problems))
    return exchanges
