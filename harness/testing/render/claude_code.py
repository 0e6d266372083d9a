"""Claude Code's stream-json for an abstract scenario, and what the claude-code lane shows of it.

`claude_stream_lines(abstract)` renders the stdout of `claude -p --output-format stream-json
--verbose` (then `--resume`, one invocation per run) as Claude Code 2.1.328 prints it. It is
derived from `ClaudeSimulator` (`harness.testing.render.claude`), whose requests are the ones Claude
Code sends: `StreamSimulator` plays the same conversation against the Anthropic responder and
writes, as it goes, the lines Claude Code prints for it (shapes copied from
cassettes/*/claude-code.jsonl):

- `system/init` per run (same session id on a resume);
- one `assistant` line per content block of each model answer, sharing the answer's
  `message.id` (the ToolSearch/Read preparation answer included; WebSearch's nested search call
  is Claude Code's own side call and prints nothing); a `system/thinking_tokens` progress line
  per streamed thinking delta before a thinking block;
- one `user` line per tool_result, with the structured `tool_use_result` Claude Code keeps
  (Bash `{stdout, stderr, ...}` or the `"Error: ..."` string, ToolSearch matches, Read's file,
  Write/Edit patches, TodoWrite's old/new todos, an MCP tool's content, WebSearch's results);
  the "Tool loaded." text Claude Code adds to the API request after a ToolSearch is not printed;
- `result` at the end of a run: success, or (the model call failed) `system/api_retry` for an
  HTTP error Claude Code re-sent, the synthetic `<synthetic>` assistant line holding the error
  text and a `result` with `is_error`, `terminal_reason: api_error` and the last attempt's
  `api_error_status` (cassettes/turn_failed_http, turn_failed_stream).

`claude_code_view(abstract)` is the lane's view of the scenario (see its docstring for how it
differs from the anthropic lane's `anthropic_view`).
"""

from __future__ import annotations

import json
import math
import re
import shlex
from dataclasses import dataclass, field
from typing import Any, Literal

from harness import scenario as sc
from harness.contract.model import CommandExecution
from harness.record.stub import StubReply
from harness.testing.abstract import AbstractScenario, ItemMaker, ShellResult, expected_item
from harness.testing.render.claude import (
    CLAUDE_CWD,
    CLAUDE_MODEL,
    CLAUDE_SAVED_OUTPUT,
    CLAUDE_SESSION,
    ClaudeCall,
    ClaudeSimulator,
    bash_captured,
    bash_result,
    bash_visible,
    claude_calls,
    exit_interpretation,
    old_text,
    read_item,
    strip_leading_blank_lines,
)
from harness.testing.render.common import file_change_item, jsonl_bytes, sse_payloads

CLAUDE_CODE_VERSION = "2.1.328"
TIMESTAMP = "2026-11-25T00:00:00.000Z"
INIT_TOOLS = ("Task", "Bash", "CronCreate", "CronDelete", "CronList", "Edit", "EnterWorktree",
              "ExitWorktree", "ListAgents", "Monitor", "NotebookEdit", "Read", "ReportFindings",
              "ScheduleWakeup", "SendMessage", "Skill", "TaskStop", "ToolSearch", "WebFetch",
              "WebSearch", "Workflow", "Write")
"""`tools` of system/init in the recorded catalog (deferred tools are not listed)."""
DEFERRED_TOOLS = 11
"""`total_deferred_tools` of a ToolSearch result without MCP servers (recorded: web_search)."""
GATEWAY = "127.0.0.1:8080"
"""The inference gateway Claude Code names in an API error (recorded with the stub's port
templated to 8080)."""
ACCEPT = {"decision": "accept", "source": "config", "reason_type": "rule"}

_TOOLU_STEP = re.compile(r"^toolu_r\d+s(\d+)_")


# ------------------------------------------------------------------------------ Bash results


def bash_stdout(output: str) -> str:
    """`tool_use_result.stdout` of a successful Bash call: the first `PERSIST_CHARS`
    characters of the output, trailing whitespace trimmed, leading blank lines dropped
    (`bash_captured`, `strip_leading_blank_lines`): cassettes/shell_ok keeps `alpha\\nbeta` for
    a file ending in a newline, cassettes/large_output 30000 characters; seen live
    (tests/test_roundtrip_claude_live.py), five leading newlines before 106 kB keep 29 995
    characters (the cap comes first) and `\\n\\n  x` keeps `  x`, as the model's text
    (`bash_visible`)."""
    return strip_leading_blank_lines(bash_captured(output))


def bash_line(command: str, result: ShellResult) -> tuple[str, bool, Any]:
    """(content, is_error, tool_use_result) of a Bash call: an error is `Exit code N` then the
    output (`bash_result`), kept as `"Error: <content>"`; success (or an exit Claude Code
    interprets, `exit_interpretation`) is the output and a `{stdout, stderr, ...}` object."""
    interpretation = exit_interpretation(command, result.exit_code)
    if result.exit_code != 0 and interpretation is None:
        content, _ = bash_result(result, command)
        return content, True, f"Error: {content}"
    content = bash_visible(result.output)
    stdout: dict[str, Any] = {"stdout": bash_stdout(result.output), "stderr": "",
                              "interrupted": False, "isImage": False}
    if interpretation is not None:
        stdout["returnCodeInterpretation"] = interpretation
    stdout["noOutputExpected"] = False
    if content.startswith("<persisted-output>"):
        stdout["persistedOutputPath"] = CLAUDE_SAVED_OUTPUT
        stdout["persistedOutputSize"] = len(result.output.encode("utf-8"))
    return content, False, stdout


# ------------------------------------------------------------------------------ API failures


def api_error_text(status: int, message: str) -> str:
    """The error text Claude Code prints for a failed model call (its last attempt's status):
    recorded for 500 (cassettes/turn_failed_http, turn_failed_stream), and Claude Code's one
    wording for any status >= 500; a 429 is printed as `API Error: 429 <message>` (not recorded:
    the lane classifies by `api_error_status`, never by this text)."""
    stripped = message.rstrip(".!?\u2026")
    if status >= 500:
        return (f"API Error: {status} {stripped}. This is a server-side issue, usually "
                f"temporary \u2014 try again in a moment. If it persists, check your inference "
                f"gateway ({GATEWAY}).")
    return f"API Error: {status} {message}"


def _error_name(status: int) -> str:
    """The `error` field of the synthetic line and of `system/api_retry`."""
    return "rate_limit" if status == 429 else "server_error" if status >= 500 else \
        "invalid_request"


def _api_error(body: bytes) -> tuple[str, str]:
    """(error.type, error.message) of an Anthropic error body."""
    try:
        error = json.loads(body)["error"]
        return str(error["type"]), str(error["message"])
    except (ValueError, KeyError, TypeError):
        return "api_error", body.decode("utf-8", "replace")


# ------------------------------------------------------------------------------ the stream


@dataclass(frozen=True)
class McpResult:
    """What an MCP tool answered (the server's, not the script's: recordings supply it)."""

    text: str
    is_error: bool = False


@dataclass
class _RunState:
    calls: int = 0
    last_text: str = ""
    failure: tuple[int, str, str] | None = None
    """(status, error type, message) of the failed model call that ended the run."""


@dataclass
class _Printed:
    lines: list[dict[str, Any]] = field(default_factory=list)
    uuids: int = 1


class StreamSimulator(ClaudeSimulator):
    """`ClaudeSimulator` printing Claude Code's stream-json for each run as it plays it."""

    def __init__(self, abstract: AbstractScenario,
                 mcp_results: dict[tuple[int, int, int], McpResult] | None = None,
                 cwd: str = CLAUDE_CWD) -> None:
        super().__init__(abstract)
        self.mcp_results = mcp_results or {}
        self.cwd = cwd
        self.printed = _Printed()
        self.state = _RunState()
        self.todos: list[dict[str, Any]] = []
        self.searches: list[str] = []

    # ------------------------------------------------------------ lines

    def _emit(self, line: dict[str, Any]) -> None:
        self.printed.uuids += 1
        line.setdefault("uuid", f"00000000-0000-4000-8000-{self.printed.uuids:012d}")
        self.printed.lines.append(line)

    def _envelope(self, kind: str, message: dict[str, Any], **extra: Any) -> dict[str, Any]:
        return {"type": kind, "message": message, "parent_tool_use_id": None,
                "session_id": CLAUDE_SESSION, "timestamp": TIMESTAMP, **extra}

    def _init(self) -> None:
        servers = sorted({b.mcp.server for r in self.abstract.scenario.runs for s in r.steps
                          for b in (s if isinstance(s, list) else [])
                          if isinstance(b, sc.McpBlock)})
        self._emit({"type": "system", "subtype": "init", "cwd": self.cwd,
                    "session_id": CLAUDE_SESSION, "tools": list(INIT_TOOLS),
                    "mcp_servers": [{"name": s, "status": "connected", "source": "dynamic"}
                                    for s in servers],
                    "model": CLAUDE_MODEL, "permissionMode": "acceptEdits",
                    "apiKeySource": "ANTHROPIC_API_KEY",
                    "claude_code_version": CLAUDE_CODE_VERSION, "output_style": "default"})

    def _result(self) -> None:
        state = self.state
        usage = {"input_tokens": 1200 * max(state.calls, 1), "cache_creation_input_tokens": 0,
                 "cache_read_input_tokens": 0, "output_tokens": 0 if state.failure else 40,
                 "output_tokens_details": {"thinking_tokens": 0}}
        line: dict[str, Any] = {
            "type": "result", "subtype": "success", "is_error": False, "duration_ms": 0,
            "duration_api_ms": 0, "num_turns": state.calls, "result": state.last_text,
            "stop_reason": "end_turn", "session_id": CLAUDE_SESSION, "total_cost_usd": 0,
            "usage": usage, "permission_denials": [], "terminal_reason": "completed",
            "api_error_status": None}
        if state.failure is not None:
            status, _, message = state.failure
            line.update(is_error=True, stop_reason="stop_sequence", terminal_reason="api_error",
                        api_error_status=status, result=api_error_text(status, message),
                        num_turns=state.calls + 1)
        self._emit(line)

    def _failed(self, attempts: list[StubReply], streamed_first: bool) -> None:
        """The lines of a model call that failed: Claude Code re-sent an HTTP error once
        (`system/api_retry`), a broken stream without streaming (no retry line); the synthetic
        assistant line carries the last attempt's error."""
        first, last = attempts[0], attempts[-1]
        if not streamed_first:
            self._emit({"type": "system", "subtype": "api_retry", "attempt": 1,
                        "max_retries": 1, "retry_delay_ms": 0, "error_status": first.status,
                        "error": _error_name(first.status), "session_id": CLAUDE_SESSION})
        status = last.status if last.status != 200 else 500
        etype, message = _api_error(last.body) if last.status != 200 else \
            ("api_error", "stream error")
        self.state.failure = (status, etype, message)
        text = api_error_text(status, message)
        self.printed.uuids += 1
        synthetic = {"id": f"00000000-0000-4000-8000-{self.printed.uuids:012d}",
                     "container": None, "model": "<synthetic>", "role": "assistant",
                     "stop_reason": "stop_sequence", "stop_sequence": "", "type": "message",
                     "usage": {"input_tokens": 0, "output_tokens": 0},
                     "content": [{"type": "text", "text": text}], "context_management": None}
        self._emit(self._envelope("assistant", synthetic, error=_error_name(status),
                                  request_id=f"req_{self._failed_message_id()}",
                                  is_api_error_message=True, api_error_status=status,
                                  api_error_type=etype))

    def _failed_message_id(self) -> str:
        request = self.exchanges[-1].reply.headers.get("request-id", "req_msg")
        return request.removeprefix("req_")

    def _answer(self, reply: StubReply, content: list[dict[str, Any]]) -> None:
        """One assistant line per content block of a model answer."""
        streamed = reply.headers.get("content-type", "").startswith("text/event-stream")
        payloads = list(sse_payloads(reply.body)) if streamed else []
        mid = next((str(p["message"]["id"]) for p in payloads
                    if p.get("type") == "message_start"), "") if streamed else \
            str(json.loads(reply.body).get("id", ""))
        thinking: dict[int, list[str]] = {p["index"]: [] for p in payloads
                                          if p.get("type") == "content_block_start"}
        for p in payloads:
            if p.get("type") == "content_block_delta" and \
                    p["delta"].get("type") == "thinking_delta":
                thinking[p["index"]].append(str(p["delta"]["thinking"]))
        estimate = 0
        for index, block in enumerate(content):
            extra: dict[str, Any] = {}
            if block["type"] == "thinking":
                for piece in thinking.get(index, []):
                    delta = math.ceil(len(piece) / 4)
                    estimate += delta
                    self._emit({"type": "system", "subtype": "thinking_tokens",
                                "estimated_tokens": estimate,
                                "estimated_tokens_delta": delta, "session_id": CLAUDE_SESSION})
                extra = {"thinking_duration_ms": 0, "thinking_display": "updates"}
            elif block["type"] == "tool_use" and str(block["name"]).startswith("mcp__"):
                server, _, tool = str(block["name"])[len("mcp__"):].partition("__")
                extra = {"tool_use_meta": [{"id": block["id"], "display_name": tool.title(),
                                            "server_display_name": server, "tool_name": tool}]}
            elif block["type"] == "text":
                self.state.last_text = str(block["text"])
            message = {"id": mid, "type": "message", "role": "assistant", "model": CLAUDE_MODEL,
                       "content": [block], "stop_reason": None, "stop_sequence": None,
                       "usage": {"input_tokens": 1200, "cache_creation_input_tokens": 0,
                                 "cache_read_input_tokens": 0, "output_tokens": 1},
                       "context_management": None}
            self._emit(self._envelope("assistant", message, **extra))

    # ------------------------------------------------------------ simulator hooks

    def _turn(self, run: int) -> None:
        self.state = _RunState()
        self._init()
        super()._turn(run)
        self._result()

    def _conversation_call(self) -> list[dict[str, Any]] | None:
        start = len(self.exchanges)
        content = super()._conversation_call()
        attempts = [e.reply for e in self.exchanges[start:]]
        if content is None:
            self._failed(attempts, streamed_first=attempts[0].status == 200)
            return None
        self.state.calls += 1
        self._answer(attempts[-1], content)
        return content

    def _nested_search(self, query: str) -> str:
        answer = super()._nested_search(query)
        self.searches.append(answer)
        return answer

    def _results(self, run: int, uses: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The tool results as the simulator sends them (MCP answers from `mcp_results`
        patched in), each printed as one `user` line."""
        self.searches = []
        results = super()._results(run, uses)
        match = _TOOLU_STEP.match(str(uses[0]["id"]))
        if match is None:
            raise AssertionError(f"unexpected tool_use id {uses[0]['id']}")
        step = int(match.group(1))
        calls = claude_calls(self.abstract, run, step, CLAUDE_CWD)
        searches = iter(self.searches)
        for block in results:
            if block.get("type") != "tool_result":
                continue  # "Tool loaded." goes to the API only
            call = calls[str(block["tool_use_id"])]
            answer = next(searches) if call.name == "WebSearch" else ""
            self._tool_line(block, call, answer)
        return results

    def _tool_line(self, block: dict[str, Any], call: ClaudeCall, answer: str) -> None:
        kept = self._kept(block, call, answer)
        self._emit(self._envelope("user", {"role": "user", "content": [block]},
                                  tool_use_result=kept,
                                  tool_result_meta=[{"id": block["tool_use_id"],
                                                     "permission_decision": ACCEPT}]))

    def _kept(self, block: dict[str, Any], call: ClaudeCall, answer: str) -> Any:
        """`tool_use_result`: what Claude Code keeps of the call; patches `block` with the MCP
        answer `mcp_results` holds (the simulator's own is a placeholder)."""
        args = call.arguments
        if call.name == "Bash":
            shell = self.abstract.shell_results.get(call.where) if call.where else None
            return bash_line(str(args["command"]), shell or ShellResult(0, ""))[2]
        if call.name.startswith("mcp__"):
            mcp = self.mcp_results.get(call.where) if call.where else None
            if mcp is None:
                return block["content"]
            if mcp.is_error:
                block.update(content=mcp.text, is_error=True)
                return f"Error: {mcp.text}"
            block["content"] = [{"type": "text", "text": mcp.text}]
            return block["content"]
        return _kept_of(call, answer, self)


def _kept_of(call: ClaudeCall, answer: str, sim: StreamSimulator) -> Any:
    args = call.arguments
    if call.name == "ToolSearch":
        names = str(args["query"]).removeprefix("select:").split(",")
        return {"matches": names, "query": args["query"],
                "total_deferred_tools": _deferred(sim.abstract)}
    if call.name == "Read":
        text = _seeded(sim.abstract, str(args["file_path"]))
        lines = text.count("\n") + 1
        return {"type": "text", "file": {"filePath": args["file_path"], "content": text,
                                         "numLines": lines, "startLine": 1,
                                         "totalLines": lines}}
    if call.name == "Write":
        return {"type": "create", "filePath": args["file_path"], "content": args["content"],
                "structuredPatch": [], "originalFile": None, "userModified": False}
    if call.name == "Edit":
        return {"filePath": args["file_path"], "oldString": args["old_string"],
                "newString": args["new_string"], "originalFile": args["old_string"],
                "structuredPatch": [], "userModified": False, "replaceAll": False}
    if call.name == "TodoWrite":
        old, sim.todos = sim.todos, list(args["todos"])
        return {"oldTodos": old, "newTodos": sim.todos}
    if call.name == "WebSearch":
        links = [{"title": f"Results for {args['query']}",
                  "url": "https://example.invalid/search"}]
        return {"query": args["query"], "results": [
            {"tool_use_id": "srvtoolu_search_0", "content": links}, answer],
            "durationSeconds": 0.1, "searchCount": 1}
    raise AssertionError(f"no tool_use_result form for {call.name}")


def _deferred(abstract: AbstractScenario) -> int:
    """`total_deferred_tools`: Claude Code's own deferred tools, TodoWrite where offered (an
    older model: scenarios with a plan) and every tool of the connected MCP servers (recorded:
    11 in web_search, 12 in plan, 13 in mcp_call with two MCP tools)."""
    blocks = [b for run in abstract.scenario.runs for step in run.steps
              for b in (step if isinstance(step, list) else [])]
    mcp = {(b.mcp.server, b.mcp.tool) for b in blocks if isinstance(b, sc.McpBlock)}
    todo = any(isinstance(b, sc.PlanBlock) for b in blocks)
    return DEFERRED_TOOLS + int(todo) + len(mcp)


def _seeded(abstract: AbstractScenario, path: str) -> str:
    """The content of a file a step edits before the edit: seeded, else its `old` text."""
    for rel, content in abstract.scenario.settings.workspace.items():
        if path.endswith("/" + rel):
            return content
    return old_text(abstract, path)


def claude_stream(abstract: AbstractScenario,
                  mcp_results: dict[tuple[int, int, int], McpResult] | None = None,
                  cwd: str = CLAUDE_CWD) -> list[dict[str, Any]]:
    """The stream-json lines (as objects) Claude Code prints for the scenario's runs."""
    simulator = StreamSimulator(abstract, mcp_results, cwd)
    simulator.run()
    return simulator.printed.lines


def claude_stream_lines(abstract: AbstractScenario,
                        mcp_results: dict[tuple[int, int, int], McpResult] | None = None,
                        cwd: str = CLAUDE_CWD) -> bytes:
    """Claude Code 2.1.328's stdout for the scenario: one JSON object per line (see module
    docstring); `mcp_results` answers MCP calls (default `<tool> done`), `cwd` is system/init's."""
    return jsonl_bytes(claude_stream(abstract, mcp_results, cwd))


# ------------------------------------------------------------------------------ the lane's view


def claude_code_view(abstract: AbstractScenario) -> list[list[ItemMaker]]:
    """The scenario as the claude-code lane can show it, per run. Like `anthropic_view` (the
    same Claude Code, seen on the wire: Read before an edit, one Write/Edit per file, a delete
    as `rm -- <path>`), except where the stream says something else:
    - a successful command's output is `tool_use_result.stdout` (`bash_stdout`: trailing
      whitespace trimmed, leading blank lines dropped, no `(Bash completed with no output)`
      placeholder, the first 30 000 characters of output Claude Code saved to a file, not the
      preview the model saw);
    - an exit Claude Code interprets (`exit_interpretation`: `grep`/`test`/... exiting 1) is
      printed as success without an exit code: completed, exit_code null
      (cassettes/multi_command, lane quirk `returnCodeInterpretation`);
    - ToolSearch loads are noise in both lanes; WebSearch's nested call is not in the stream
      (the anthropic lane does not show it either: one web_search item per call).
    A failed run fails with `expected_failures`' kind: the lane reads `api_error_status`, the
    last attempt's status (a broken stream's non-streaming re-send gets 429 for a rate limit,
    529 for overloaded, else 500), and the shared `HTTP_STATUS_KINDS` agree with `failure_kind`."""
    runs: list[list[ItemMaker]] = []
    for r, run in enumerate(abstract.scenario.runs):
        makers: list[ItemMaker] = []
        for s, step in enumerate(run.steps):
            blocks = step if isinstance(step, list) else []
            makers += [read_item(f"{CLAUDE_CWD}/{u.path}") for b in blocks
                       if isinstance(b, sc.PatchBlock) for u in b.patch.update]
            for b, block in enumerate(blocks):
                makers += _items(abstract, (r, s, b), block)
        runs.append(makers)
    return runs


def _items(abstract: AbstractScenario, where: tuple[int, int, int], block: sc.Block
           ) -> list[ItemMaker]:
    if isinstance(block, sc.ShellBlock):
        return [_command(block.shell.command, abstract.shell_result(*where))]
    if isinstance(block, sc.PatchBlock):
        spec = block.patch
        changes = [file_change_item(a.path, "add") for a in spec.add]
        changes += [file_change_item(u.path, "update") for u in spec.update]
        changes += [_command(f"rm -- {shlex.quote(rel)}", ShellResult(0, ""))
                    for rel in spec.delete]
        return changes
    return [lambda item_id: expected_item(abstract, where, block, item_id)]


def _command(command: str, result: ShellResult) -> ItemMaker:
    content, is_error, kept = bash_line(command, result)
    if is_error:
        code: int | None = result.exit_code
        output = content.split("\n", 1)[1] if "\n" in content else ""
    else:
        code = None if "returnCodeInterpretation" in kept else 0
        output = kept["stdout"]
    status: Literal["completed", "failed"] = "failed" if is_error else "completed"
    return lambda item_id: CommandExecution(id=item_id, status=status, command=command,
                                            exit_code=code, output=output)
