"""A client's transcript of an Agent Client Protocol agent for an abstract scenario (the acp lane
reads it: gemini-acp.jsonl), and that lane's view of the scenario.

`acp_transcript(abstract)` writes what a client of an ACP v1 agent logs, one
`{"dir": "in"|"out", "msg": {...}}` line per JSON-RPC 2.0 message, in Gemini CLI's manner where
ACP leaves room (shapes as recorded in cassettes/*/gemini-acp.jsonl: tool call ids
`<tool>__<id>`, thoughts as `**<subject>**\\n<text>` with an empty subject, an opaque thought as the
bare `****\\n`, MCP tools titled `<tool> (<server> MCP Server)`), and with ACP's optional fields
where Gemini CLI sends none (`rawInput`, `rawOutput`, end-of-turn `usage`), so that every block
is visible. Per run one agent process: `initialize`, `session/new` (run 0) or `session/load` of
the session, whose answer follows the replay of the earlier runs, then `session/prompt`, its
`session/update`s and its answer. A failed model call is an error answer to the prompt carrying
the HTTP status (a broken stream none).
"""

from __future__ import annotations

import json
from typing import Any

from harness import scenario as sc
from harness.contract.model import CommandExecution, ErrorKind
from harness.testing.abstract import (
    ROUNDTRIP_THREAD,
    AbstractScenario,
    ItemMaker,
    expected_maker,
    failure_kind,
    run_failure,
)
from harness.testing.render.common import plan_item, streamed_item

ACP_CWD = "/tmp/roundtrip-workspace"
EMPTY_SUBJECT = "****\n"
"""Gemini CLI's thought with an empty `**<subject>**` line; alone, an opaque thought."""


class _Transcript:
    def __init__(self) -> None:
        self.lines: list[str] = []
        self.next_id = 0

    def _add(self, direction: str, msg: dict[str, Any]) -> None:
        self.lines.append(json.dumps({"dir": direction, "msg": {"jsonrpc": "2.0", **msg}},
                                     ensure_ascii=False))

    def request(self, method: str, params: dict[str, Any]) -> int:
        rid = self.next_id
        self.next_id += 1
        self._add("out", {"id": rid, "method": method, "params": params})
        return rid

    def answer(self, rid: int, result: dict[str, Any] | None = None,
               error: dict[str, Any] | None = None) -> None:
        self._add("in", {"id": rid, "error": error} if error is not None else
                  {"id": rid, "result": result or {}})

    def update(self, update: dict[str, Any]) -> None:
        self._add("in", {"method": "session/update",
                         "params": {"sessionId": ROUNDTRIP_THREAD, "update": update}})

    def call(self, call_id: str, kind: str, title: str, raw_input: dict[str, Any],
             done: dict[str, Any]) -> None:
        """A tool call: started `in_progress`, then its completing update."""
        self.update({"sessionUpdate": "tool_call", "toolCallId": call_id, "status": "in_progress",
                     "title": title, "kind": kind, "content": [], "locations": [],
                     "rawInput": raw_input})
        self.update({"sessionUpdate": "tool_call_update", "toolCallId": call_id,
                     "status": "completed", **done})


def _text(content: str) -> list[dict[str, Any]]:
    return [{"type": "content", "content": {"type": "text", "text": content}}]


def _chunk(kind: str, text: str) -> dict[str, Any]:
    return {"sessionUpdate": kind, "content": {"type": "text", "text": text}}


def _block(t: _Transcript, abstract: AbstractScenario, where: tuple[int, int, int],
           block: sc.Block) -> None:
    tag = "r{}s{}b{}".format(*where)
    if isinstance(block, sc.TextBlock):
        t.update(_chunk("agent_message_chunk", block.text))
    elif isinstance(block, sc.ReasoningBlock):
        text = "" if block.reasoning.encrypted else block.reasoning.text
        t.update(_chunk("agent_thought_chunk", EMPTY_SUBJECT + text))
    elif isinstance(block, sc.ShellBlock):
        result = abstract.shell_result(*where)
        t.call(f"run_shell_command__{tag}", "execute", block.shell.command,
               {"command": block.shell.command},
               {"content": _text(result.output),
                "rawOutput": {"output": result.output, "exit_code": result.exit_code}})
    elif isinstance(block, sc.PatchBlock):
        spec = block.patch
        diffs = ([{"type": "diff", "path": f"{ACP_CWD}/{a.path}", "oldText": None,
                   "newText": a.content} for a in spec.add]
                 + [{"type": "diff", "path": f"{ACP_CWD}/{u.path}", "oldText": u.old,
                     "newText": u.new} for u in spec.update]
                 + [{"type": "diff", "path": f"{ACP_CWD}/{p}", "oldText": "", "newText": "",
                     "_meta": {"kind": "delete"}} for p in spec.delete])
        t.call(f"apply_patch__{tag}", "edit", "Applying the patch", {}, {"content": diffs})
    elif isinstance(block, sc.McpBlock):
        mcp = block.mcp
        t.call(f"mcp_{mcp.server}_{mcp.tool}__{tag}", "other",
               f"{mcp.tool} ({mcp.server} MCP Server)", dict(mcp.arguments),
               {"content": _text(f"{mcp.tool} done")})
    elif isinstance(block, sc.PlanBlock):
        t.update({"sessionUpdate": "plan", "entries": [
            {"content": e.text, "status": e.status, "priority": "medium"} for e in block.plan]})
    else:
        query = block.web_search.query
        t.call(f"google_web_search__{tag}", "search", f'Searching the web for "{query}"',
               {"query": query}, {"content": _text(f'Search results for "{query}" returned.')})


def _replay(t: _Transcript, abstract: AbstractScenario, runs: int) -> None:
    """`session/load` replays the loaded session before answering: the earlier prompts and
    answers (the lane reads them as history, no items)."""
    for run in abstract.scenario.runs[:runs]:
        t.update({"sessionUpdate": "user_message_chunk",
                  "content": {"type": "text", "text": run.prompt}})
        for step in run.steps:
            for block in step if isinstance(step, list) else []:
                if isinstance(block, sc.TextBlock):
                    t.update(_chunk("agent_message_chunk", block.text))


def acp_transcript(abstract: AbstractScenario) -> bytes:
    """The transcript of the scenario's runs (see the module docstring)."""
    t = _Transcript()
    for r, run in enumerate(abstract.scenario.runs):
        t.next_id = 0
        rid = t.request("initialize", {"protocolVersion": 1, "clientCapabilities": {
            "fs": {"readTextFile": False, "writeTextFile": False}, "terminal": False}})
        t.answer(rid, {"protocolVersion": 1, "authMethods": [],
                       "agentInfo": {"name": "gemini-cli", "version": "0.61.0"},
                       "agentCapabilities": {"loadSession": True}})
        models = {"models": {"currentModelId": "gemini-2.5-pro"}}
        if r == 0:
            rid = t.request("session/new", {"cwd": ACP_CWD, "mcpServers": []})
            t.answer(rid, {"sessionId": ROUNDTRIP_THREAD, **models})
        else:
            rid = t.request("session/load", {"sessionId": ROUNDTRIP_THREAD, "cwd": ACP_CWD,
                                             "mcpServers": []})
            _replay(t, abstract, r)
            t.answer(rid, models)
        rid = t.request("session/prompt", {"sessionId": ROUNDTRIP_THREAD,
                                           "prompt": [{"type": "text", "text": run.prompt}]})
        for s, step in enumerate(run.steps):
            for b, block in enumerate(step if isinstance(step, list) else []):
                _block(t, abstract, (r, s, b), block)
        failure = run_failure(run)
        if failure is None:
            t.answer(rid, {"stopReason": "end_turn",
                           "usage": {"inputTokens": 10, "outputTokens": 5, "totalTokens": 15}})
        else:
            data: dict[str, Any] = {"details": failure.message}
            if failure.http_status is not None:
                data["status"] = failure.http_status
            t.answer(rid, error={"code": -32603, "message": "Internal error", "data": data})
    return "".join(line + "\n" for line in t.lines).encode("utf-8")


def acp_view(abstract: AbstractScenario) -> list[list[ItemMaker]]:
    """Per run, the items the acp lane shows: one item per block in block order, except that
    consecutive chunks of one kind are one item (adjacent texts are one message, adjacent
    readable thoughts one reasoning; an opaque thought is always its own), commands complete
    whatever their exit code (the tool ran: ACP's `completed`, the exit code in `rawOutput`),
    and plans are one plan item per turn, completed at its end with the last plan's steps."""
    runs: list[list[ItemMaker]] = []
    for r, run in enumerate(abstract.scenario.runs):
        makers: list[ItemMaker] = []
        open_text: tuple[str, str] | None = None  # (kind, text so far) of the open chunk run
        plan: sc.PlanBlock | None = None
        for s, step in enumerate(run.steps):
            for b, block in enumerate(step if isinstance(step, list) else []):
                chunk = _chunk_of(block)
                if chunk is not None and open_text is not None and open_text[0] == chunk[0]:
                    open_text = (chunk[0], open_text[1] + chunk[1])
                    continue
                if open_text is not None:
                    makers.append(streamed_item(*open_text))
                    open_text = None
                if chunk is not None:
                    open_text = chunk
                elif isinstance(block, sc.PlanBlock):
                    plan = block
                else:
                    makers.append(_command(abstract, (r, s, b), block))
        if open_text is not None:
            makers.append(streamed_item(*open_text))
        if plan is not None:
            makers.append(plan_item(plan))
        runs.append(makers)
    return runs


def _chunk_of(block: sc.Block) -> tuple[str, str] | None:
    """(kind, text) of a block sent as chunks that join the open item; None otherwise."""
    if isinstance(block, sc.TextBlock):
        return ("assistant_message", block.text)
    if isinstance(block, sc.ReasoningBlock) and not block.reasoning.encrypted:
        return ("reasoning", block.reasoning.text)
    return None


def acp_failures(abstract: AbstractScenario) -> list[ErrorKind | None]:
    """Per run, the kind its turn fails with: an HTTP failure's through its status; a broken
    stream's answer carries none, so `unknown`."""
    kinds: list[ErrorKind | None] = []
    for run in abstract.scenario.runs:
        failure = run_failure(run)
        kinds.append(None if failure is None else "unknown" if failure.http_status is None
                     else failure_kind(failure))
    return kinds


def _command(abstract: AbstractScenario, where: tuple[int, int, int], block: sc.Block
             ) -> ItemMaker:
    """A command completes whatever its exit code; any other block as `expected_item`."""
    if not isinstance(block, sc.ShellBlock):
        return expected_maker(abstract, where, block)
    command, result = block.shell.command, abstract.shell_result(*where)
    return lambda item_id: CommandExecution(id=item_id, status="completed", command=command,
                                            exit_code=result.exit_code, output=result.output)
