"""A client's transcript of `codex app-server` for an abstract scenario (the codex-app-server lane
reads it: codex-app-server.jsonl), and that lane's view of the scenario.

`app_server_transcript(abstract)` writes what a client of Codex CLI 0.169's app-server logs, one
`{"dir": "in"|"out", "msg": {...}}` line per JSON-RPC message (shapes as recorded in
cassettes/*/codex-app-server.jsonl): per run one app-server process (`initialize`, then
`thread/start`, or `thread/resume` of the thread for later runs), `turn/start`, the turn's
notifications, `turn/completed`. Each block is one thread item, started, streamed (agent message,
reasoning summary and command output deltas) and completed, in block order; a plan is
`turn/plan/updated` (the app-server has no plan item). A failed model call is an `error`
notification and a failed turn whose `codexErrorInfo` says what Codex says for it (retries off).
Control-plane chatter the lane reads as nothing (config warnings, rate limits, thread status) is
left out.
"""

from __future__ import annotations

import json
import shlex
from typing import Any

from harness import scenario as sc
from harness.testing.abstract import (
    ROUNDTRIP_THREAD,
    AbstractScenario,
    ItemMaker,
    ShellResult,
    run_failure,
)
from harness.testing.render.codex_native import CODEX_HIGH_DEMAND, codex_failure_message
from harness.testing.render.common import turn_plan_views

PLAN_STATUSES = {"pending": "pending", "in_progress": "inProgress", "completed": "completed"}
"""Plan step status -> the app-server's spelling."""


def _line(direction: str, msg: dict[str, Any]) -> str:
    return json.dumps({"dir": direction, "msg": msg}, ensure_ascii=False)


class _Transcript:
    """The lines of one transcript, with the JSON-RPC ids of the current process."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.next_id = 0

    def request(self, method: str, params: dict[str, Any], result: dict[str, Any]) -> None:
        """A client request and the app-server's answer."""
        rid = self.next_id
        self.next_id += 1
        self.lines += [_line("out", {"method": method, "id": rid, "params": params}),
                       _line("in", {"id": rid, "result": result})]

    def notify(self, method: str, params: dict[str, Any]) -> None:
        self.lines.append(_line("in", {"method": method, "params": params}))

    def item(self, started: dict[str, Any], deltas: list[tuple[str, dict[str, Any]]],
             completed: dict[str, Any]) -> None:
        self.notify("item/started", {"item": started, "threadId": ROUNDTRIP_THREAD})
        for method, params in deltas:
            self.notify(method, {"threadId": ROUNDTRIP_THREAD, **params})
        self.notify("item/completed", {"item": completed, "threadId": ROUNDTRIP_THREAD})


def _thread() -> dict[str, Any]:
    return {"thread": {"id": ROUNDTRIP_THREAD, "sessionId": ROUNDTRIP_THREAD},
            "model": "gpt-5.5", "approvalPolicy": "never",
            "sandbox": {"type": "workspaceWrite", "networkAccess": False},
            "cwd": "/tmp/roundtrip-workspace"}


def _delta(method: str, item_id: str, text: str) -> list[tuple[str, dict[str, Any]]]:
    return [(method, {"itemId": item_id, "delta": text})] if text else []


def _block_item(t: _Transcript, abstract: AbstractScenario, where: tuple[int, int, int],
                block: sc.Block) -> None:
    """One block as its thread item's lines (ids as recorded: msg_/rs_/call_/ws_ + position)."""
    tag = "r{}s{}b{}".format(*where)
    if isinstance(block, sc.TextBlock):
        mid = f"msg_{tag}"
        base: dict[str, Any] = {"type": "agentMessage", "id": mid, "text": "", "phase": None}
        t.item(base, _delta("item/agentMessage/delta", mid, block.text),
               {**base, "text": block.text})
    elif isinstance(block, sc.ReasoningBlock):
        rid = f"rs_{tag}"
        text = "" if block.reasoning.encrypted else block.reasoning.text
        base = {"type": "reasoning", "id": rid, "summary": [], "content": []}
        t.item(base, _delta("item/reasoning/summaryTextDelta", rid, text),
               {**base, "summary": [text] if text else []})
    elif isinstance(block, sc.ShellBlock):
        _command(t, f"call_{tag}", block.shell.command, abstract.shell_result(*where))
    elif isinstance(block, sc.PatchBlock):
        spec = block.patch
        changes = ([{"path": a.path, "kind": {"type": "add"}, "diff": a.content}
                    for a in spec.add]
                   + [{"path": u.path, "kind": {"type": "update", "move_path": None},
                       "diff": f"-{u.old}\n+{u.new}\n"} for u in spec.update]
                   + [{"path": p, "kind": {"type": "delete"}, "diff": ""} for p in spec.delete])
        base = {"type": "fileChange", "id": f"call_{tag}", "changes": changes,
                "status": "inProgress"}
        t.item(base, [], {**base, "status": "completed"})
    elif isinstance(block, sc.McpBlock):
        base = {"type": "mcpToolCall", "id": f"call_{tag}", "server": block.mcp.server,
                "tool": block.mcp.tool, "status": "inProgress",
                "arguments": dict(block.mcp.arguments), "result": None, "error": None}
        answer = {"content": [{"type": "text", "text": f"{block.mcp.tool} done"}],
                  "structuredContent": None}
        t.item(base, [], {**base, "status": "completed", "result": answer})
    elif isinstance(block, sc.PlanBlock):
        t.notify("turn/plan/updated", {"threadId": ROUNDTRIP_THREAD, "explanation": None,
                                       "plan": [{"step": e.text,
                                                 "status": PLAN_STATUSES[e.status]}
                                                for e in block.plan]})
    else:
        query = block.web_search.query
        base = {"type": "webSearch", "id": f"ws_{tag}", "query": "",
                "action": {"type": "other"}, "results": None}
        t.item(base, [], {**base, "query": query,
                          "action": {"type": "search", "query": query, "queries": None}})


def _command(t: _Transcript, call_id: str, command: str, result: ShellResult) -> None:
    base: dict[str, Any] = {"type": "commandExecution", "id": call_id,
            "command": "/bin/bash -lc " + shlex.quote(command), "cwd": "/tmp/roundtrip-workspace",
            "status": "inProgress", "aggregatedOutput": None, "exitCode": None}
    t.item(base, _delta("item/commandExecution/outputDelta", call_id, result.output),
           {**base, "status": "completed" if result.exit_code == 0 else "failed",
            "aggregatedOutput": result.output or None, "exitCode": result.exit_code})


def error_info(failure: sc.FailureSpec) -> Any:
    """`codexErrorInfo` of a failed turn (retries off): HTTP 500 `internalServerError`, another
    status `responseTooManyFailedAttempts` with it, a `response.failed` `other` (its message
    says "stream disconnected"), as recorded in cassettes/turn_failed_http and
    turn_failed_stream."""
    if failure.stream_error is not None:
        return "other"
    if codex_failure_message(failure) == CODEX_HIGH_DEMAND:
        return "internalServerError"
    return {"responseTooManyFailedAttempts": {"httpStatusCode": failure.http_status}}


def app_server_transcript(abstract: AbstractScenario) -> bytes:
    """The transcript of the scenario's runs: one app-server process per run, the thread
    started by run 0 and resumed by each later run (see the module docstring)."""
    t = _Transcript()
    for r, run in enumerate(abstract.scenario.runs):
        t.next_id = 0
        t.request("initialize", {"clientInfo": {"name": "roundtrip", "version": "0"}},
                  {"userAgent": "roundtrip/0.169.0", "platformFamily": "unix"})
        t.lines.append(_line("out", {"method": "initialized"}))
        if r == 0:
            t.request("thread/start", {"cwd": "/tmp/roundtrip-workspace",
                                       "approvalPolicy": "never"}, _thread())
        else:
            t.request("thread/resume", {"threadId": ROUNDTRIP_THREAD}, _thread())
        turn: dict[str, Any] = {"id": f"turn_r{r}", "items": [], "status": "inProgress",
                                "error": None}
        t.request("turn/start", {"threadId": ROUNDTRIP_THREAD,
                                 "input": [{"type": "text", "text": run.prompt}]},
                  {"turn": turn})
        t.notify("turn/started", {"threadId": ROUNDTRIP_THREAD, "turn": turn})
        for s, step in enumerate(run.steps):
            for b, block in enumerate(step if isinstance(step, list) else []):
                _block_item(t, abstract, (r, s, b), block)
        t.notify("thread/tokenUsage/updated", {"threadId": ROUNDTRIP_THREAD, "tokenUsage": {
            "total": {"totalTokens": 15 * (r + 1), "inputTokens": 10 * (r + 1),
                      "cachedInputTokens": 0, "outputTokens": 5 * (r + 1),
                      "reasoningOutputTokens": 0}}})
        failure = run_failure(run)
        if failure is None:
            t.notify("turn/completed", {"threadId": ROUNDTRIP_THREAD,
                                        "turn": {**turn, "status": "completed"}})
            continue
        error = {"message": codex_failure_message(failure), "codexErrorInfo": error_info(failure),
                 "additionalDetails": None}
        t.notify("error", {"error": error, "willRetry": False, "threadId": ROUNDTRIP_THREAD})
        t.notify("turn/completed", {"threadId": ROUNDTRIP_THREAD,
                                    "turn": {**turn, "status": "failed", "error": error}})
    return "".join(line + "\n" for line in t.lines).encode("utf-8")


def app_server_view(abstract: AbstractScenario) -> list[list[ItemMaker]]:
    """Per run, the items the codex-app-server lane shows: every block's item in block order
    (commands shell-wrapped, which equivalence unwraps), except plans: the app-server's
    `turn/plan/updated` makes one plan item per turn (`turn_plan_views`). A failed run fails
    with `codex_native_failures`' kinds (a broken stream is `other` + Codex's "stream
    disconnected" message: `provider`)."""
    return turn_plan_views(abstract)
