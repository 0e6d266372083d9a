"""`codex exec --json` stdout for an abstract scenario (the codex-native lane reads it:
codex-native.jsonl), and the kinds that lane can tell a failed run by.

`codex_exec_lines(codex_exec_view(abstract))` renders one `codex exec` (then `resume`) per run as
Codex 0.169 prints it; a failed model call prints `error` + `turn.failed` with Codex's message
(`codex_failure_message`).
"""

from __future__ import annotations

import http
import shlex
from typing import Any

from harness import scenario as sc
from harness.contract.model import ErrorKind
from harness.testing.abstract import ROUNDTRIP_THREAD, AbstractScenario, run_failure
from harness.testing.render.common import compact_json, status_only_failures

STARTED_FIRST = (sc.ShellBlock, sc.McpBlock, sc.PlanBlock)
"""Blocks whose `codex exec` item starts before it completes (file changes only complete)."""


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
            if isinstance(step, sc.FailStep):
                steps.append(step)
                continue
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
        lines += [compact_json({"type": "thread.started", "thread_id": ROUNDTRIP_THREAD}),
                  compact_json({"type": "turn.started"})]
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
                    lines.append(compact_json({"type": "item.started",
                                               "item": {"id": item_id, **started}}))
                lines.append(compact_json({"type": "item.completed",
                                           "item": {"id": item_id, **body}}))
        failure = run_failure(run)
        if failure is not None:
            message = codex_failure_message(failure)
            lines += [compact_json({"type": "error", "message": message}),
                      compact_json({"type": "turn.failed", "error": {"message": message}})]
            continue
        lines.append(compact_json({"type": "turn.completed", "usage": {
            "input_tokens": 10, "cached_input_tokens": 0, "output_tokens": 5}}))
    return "".join(line + "\n" for line in lines).encode("utf-8")


CODEX_HIGH_DEMAND = ("We\u2019re currently experiencing high demand, which may cause temporary "
                     "errors.")
"""What Codex prints for HTTP 500 (`CodexErr::InternalServerError`; recorded in
cassettes/turn_failed_http, curly apostrophe included)."""


def codex_failure_message(failure: sc.FailureSpec) -> str:
    """The `turn.failed` message Codex 0.169 prints, retries off (codex-rs/core error.rs): HTTP
    500 the high-demand notice, another retryable status `exceeded retry limit, last status:
    <status line>` (hyper's reason phrase, `<unknown status code>` for 529), a `response.failed`
    `stream disconnected before completion: <its message>` whatever its code."""
    if failure.stream_error is not None:
        return f"stream disconnected before completion: {failure.message}"
    status = failure.http_status or 500
    if status == 500:
        return CODEX_HIGH_DEMAND
    try:
        reason = http.HTTPStatus(status).phrase
    except ValueError:
        reason = "<unknown status code>"
    return f"exceeded retry limit, last status: {status} {reason}"



def codex_native_failures(abstract: AbstractScenario) -> list[ErrorKind | None]:
    """Per run, the kind the codex-native lane can tell from Codex's message: an HTTP failure's
    status is in it; a `response.failed` is always "stream disconnected", so `provider` even
    for a rate-limit code (the codex-adapter lane reads the code and says `rate_limit`)."""
    return status_only_failures(abstract.scenario.runs)
