"""Gemini CLI's stream-json for an abstract scenario, and what the gemini-cli lane should log.

`gemini_stream_lines(abstract)` writes the stdout of `gemini -p ... --output-format stream-json`
(Gemini CLI 0.61.0, `-m gemini-2.5-pro`, yolo, `general.maxAttempts: 1`) for one `gemini -p` per
run, later runs `--resume`. The model's answers are the Gemini stub's own streams
(`harness.record.providers.gemini.encode_chunks`: one chunk per part, texts in two halves), so the
renderer sees exactly the chunks the CLI would. Each rule below was read in the 0.61.0 bundle
(`nonInteractiveCli.ts`, `turn.ts`, `geminiChat.ts`, the tools) and checked by running the real
CLI against the stub: tests/test_roundtrip_gemini_cli.py holds the rendering to every recorded
scenario and, live, to the real CLI on `_quirk_scenarios` (the rules no recording shows):

- `init`, the user `message`, then per chunk one assistant `message` delta holding the chunk's
  non-thought text with ANSI sequences stripped (none for an empty text; thoughts never print),
  and one `tool_use` per functionCall (`tool_id` = `<name>__<id>`). After the stream, one
  `tool_result` per call in call order.
- Tool results (`output` is the tool's display text; an object display prints no `output`):
  run_shell_command the output ANSI-stripped and trimmed, `Command exited with code: N` when that
  is blank and N != 0, `""` otherwise (status `success` whatever the exit code); write_file,
  replace and write_todos no output; google_web_search `Search results for "<q>" returned.`; an
  MCP tool the text it returned. Calls whose parameters the CLI refuses before running (blank
  command or query, a todo without description, two todos in progress, a replace with
  `old_string == new_string` or an empty `old_string` on a file that exists) are
  `status: error` with the refusal.
- An HTTP error ends the run with `result` `status: error` and `[API Error: <text>]`: a 429 or 503
  without error details is re-raised by the CLI's quota classifier with only the provider's
  message (a 429 with the CLI's quota advice appended), any other status keeps the JSON body.
- A stream broken off by an error object prints the text before it; at the first call of a run
  that is `Model stream ended without a finish reason.` (an `error` line, then `result`
  `status: error`), after tool results the CLI accepts the answer and the run succeeds.
- An answer without calls whose text is blank (after removing zero-width characters and HTML
  comments) fails with the CLI's fixed message when it had thoughts, or when it answers the
  prompt itself (after tool results an empty answer is accepted).
- The session is saved only once a model call succeeded: when every call of run 0 failed, each
  `--resume` exits 42 before printing anything.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from harness import scenario as sc
from harness.contract.model import (
    AssistantMessage,
    CommandExecution,
    ErrorKind,
    FileChange,
    FileChangeEntry,
    Item,
    McpToolCall,
    Plan,
    PlanEntry,
    WebSearch,
)
from harness.record.providers.gemini import MODEL, Position, encode_chunks, error_body, gemini_steps
from harness.testing.abstract import (
    ROUNDTRIP_THREAD,
    AbstractScenario,
    ItemMaker,
    ShellResult,
    failure_kind,
)
from harness.testing.render.common import compact_json, jsonl_bytes
from harness.testing.render.gemini import (
    GEMINI_CWD,
    GEMINI_PARTIAL_TEXT,
    GeminiAnswer,
    gemini_command_output,
    gemini_origins,
    gemini_refusal,
    gemini_runs,
    read_gemini_answer,
    unusable,
)

TIMESTAMP = "1970-01-01T00:00:00.000Z"

NO_FINISH_REASON = "Model stream ended without a finish reason."
QUOTA_ADVICE = ("\nPlease wait and try again later. To increase your limits, request a quota "
                "increase through AI Studio, or switch to another /auth method")
"""What the CLI appends to a 429 with API-key auth (`RATE_LIMIT_ERROR_MESSAGE_USE_GEMINI`)."""
QUOTA_STATUSES = frozenset({429, 499, 503})
"""Statuses `classifyGoogleError` turns into a quota error holding only the provider's message."""

# ------------------------------------------------------------------------------ tool outcomes


@dataclass(frozen=True)
class ToolOutcome:
    """One `tool_result`: `output` None prints no output key; `error` a refusal or failure."""

    output: str | None
    error: tuple[str, str] | None = None
    """(type, message) of a failed call."""


def refused(message: str, kind: str = "invalid_tool_params") -> ToolOutcome:
    return ToolOutcome(message, (kind, message))


def shell_display(result: ShellResult) -> str:
    """run_shell_command's display: the output (ANSI stripped, trimmed), else the exit code."""
    output = gemini_command_output(result.output)
    if output:
        return output
    return f"Command exited with code: {result.exit_code}" if result.exit_code else ""


@dataclass
class CliWorld:
    """The scenario plus what its tools return when the CLI runs them. `overrides` (by
    functionCall id) replace a default outcome, e.g. a recorded MCP server's real answers."""

    abstract: AbstractScenario
    overrides: dict[str, ToolOutcome] = field(default_factory=dict)

    def outcome(self, call: dict[str, Any]) -> ToolOutcome:
        name, args, call_id = str(call["name"]), call.get("args") or {}, str(call["id"])
        if call_id in self.overrides:
            return self.overrides[call_id]
        if (refusal := gemini_refusal(name, args, GEMINI_CWD)) is not None:
            # the CLI shows the display; its error object carries what the model is told
            return ToolOutcome(refusal.display, (refusal.kind, refusal.message))
        if name == "run_shell_command":
            where = gemini_origins(self.abstract).get(call_id)
            result = self.abstract.shell_results.get(where) if where else None
            return ToolOutcome(shell_display(result or ShellResult(0, "")))  # `rm --`: silent
        if name == "google_web_search":
            return ToolOutcome(f'Search results for "{args["query"]}" returned.')
        if name.startswith("mcp_"):
            return ToolOutcome(f"{name} done")
        return ToolOutcome(None)  # write_file, replace: a diff display; write_todos: none


# ------------------------------------------------------------------------------ answers


def read_answer(blocks: list[sc.Block], position: Position) -> GeminiAnswer:
    """The stub's answer for a step, as the CLI reads it (`read_gemini_answer`)."""
    return read_gemini_answer(encode_chunks(blocks, position))


def http_failure_message(failure: sc.FailureSpec) -> str:
    status = failure.http_status or 500
    if status in QUOTA_STATUSES:
        return f"[API Error: {failure.message}]" + (QUOTA_ADVICE if status == 429 else "")
    return f"[API Error: {compact_json(error_body(status, failure.message))}]"


# ------------------------------------------------------------------------------ the runs


@dataclass
class RunShape:
    """What one run shows, as both the renderer and the view need it."""

    lines: list[dict[str, Any]] = field(default_factory=list)
    items: list[ItemMaker] = field(default_factory=list)
    failure: ErrorKind | None = None


def _line(kind: str, **fields: Any) -> dict[str, Any]:
    return {"type": kind, "timestamp": TIMESTAMP, **fields}


def _stats() -> dict[str, Any]:
    usage = {"total_tokens": 15, "input_tokens": 10, "output_tokens": 5, "cached": 0,
             "input": 10}
    return {**usage, "duration_ms": 0, "tool_calls": 0, "models": {MODEL: dict(usage)}}


def run_shape(world: CliWorld, r: int) -> RunShape:
    """One `gemini -p` (or `--resume`) of run r: its stdout lines and the items it shows."""
    run = world.abstract.scenario.runs[r]
    shape = RunShape([_line("init", session_id=ROUNDTRIP_THREAD, model=MODEL),
                      _line("message", role="user", content=run.prompt)])
    after_tools = False
    for s, step in enumerate(gemini_steps(run)):
        if isinstance(step, sc.FailStep):
            _fail(shape, step.fail, after_tools)
            return shape
        answer = read_answer(step, Position(r, s))
        shape.lines += [_line("message", role="assistant", content=d, delta=True)
                        for d in answer.deltas]
        if answer.deltas:
            shape.items.append(_message("".join(answer.deltas), "completed"))
        refusal = unusable(answer, after_tools)
        if refusal is not None:
            _refuse(shape, refusal, bool(answer.deltas))
            return shape
        for call in answer.calls:
            name = str(call["name"])
            shape.lines.append(_line("tool_use", tool_name=name, tool_id=_tool_id(call),
                                     parameters=call.get("args") or {}))
        for call in answer.calls:
            shape.lines.append(_tool_result(call, world.outcome(call)))
        shape.items += [_tool_item(world, call) for call in answer.calls]
        if not answer.calls:
            break
        after_tools = True
    shape.lines.append(_line("result", status="success", stats=_stats()))
    return shape


def _tool_id(call: dict[str, Any]) -> str:
    return f"{call['name']}__{call['id']}"


def _tool_result(call: dict[str, Any], outcome: ToolOutcome) -> dict[str, Any]:
    line = _line("tool_result", tool_id=_tool_id(call),
                 status="error" if outcome.error else "success")
    if outcome.output is not None:
        line["output"] = outcome.output
    if outcome.error is not None:
        line["error"] = {"type": outcome.error[0], "message": outcome.error[1]}
    return line


def _fail(shape: RunShape, failure: sc.FailureSpec, after_tools: bool) -> None:
    if failure.http_status is not None:
        message = http_failure_message(failure)
        shape.lines.append(_line("result", status="error",
                                 error={"type": "unknown", "message": message}, stats=_stats()))
        shape.failure = _http_kind(failure)
        return
    shape.lines.append(_line("message", role="assistant", content=GEMINI_PARTIAL_TEXT,
                             delta=True))
    if after_tools:  # `isOriginalFunctionResponse`: no finish reason is accepted
        shape.items.append(_message(GEMINI_PARTIAL_TEXT, "completed"))
        shape.lines.append(_line("result", status="success", stats=_stats()))
        return
    shape.items.append(_message(GEMINI_PARTIAL_TEXT, "failed"))
    shape.lines += [_line("error", severity="error", message=NO_FINISH_REASON),
                    _line("result", status="error", stats=_stats())]
    shape.failure = "stream_truncated"


def _refuse(shape: RunShape, message: str, text_open: bool) -> None:
    if text_open:
        last = shape.items.pop()
        shape.items.append(lambda item_id: last(item_id).model_copy(update={"status": "failed"}))
    shape.lines += [_line("error", severity="error", message=message),
                    _line("result", status="error", stats=_stats())]
    shape.failure = "provider"


def run_shapes(world: CliWorld) -> Iterator[RunShape]:
    """The runs Gemini CLI prints: none after run 0 when run 0 saved no session (`gemini_runs`)."""
    for r in range(gemini_runs(world.abstract)):
        yield run_shape(world, r)


def gemini_stream_lines(abstract: AbstractScenario | CliWorld) -> bytes:
    """`gemini -p ... --output-format stream-json` stdout for the scenario (module docstring)."""
    world = abstract if isinstance(abstract, CliWorld) else CliWorld(abstract)
    lines = [line for shape in run_shapes(world) for line in shape.lines]
    return jsonl_bytes(lines)


# ------------------------------------------------------------------------------ the view


def gemini_cli_view(abstract: AbstractScenario | CliWorld
                    ) -> tuple[list[list[ItemMaker]], list[ErrorKind | None]]:
    """Per printed run, the items and failure kind the gemini-cli lane should log. Differences
    from the gemini lane's view (`gemini_view`/`gemini_failures` in `render.gemini`), each
    seen in a recording or a run of the real CLI:
    - no reasoning items (thoughts never print), and the texts of one answer are one
      assistant_message even across thoughts (cassettes/reasoning); ANSI sequences stripped;
    - commands carry no exit code (null) and complete whatever it was; their output is the
      CLI's display (`shell_display`, cassettes/multi_command `Command exited with code: 1`);
    - a tool call the CLI refuses is a failed item (`CliWorld.outcome`);
    - a broken stream is `stream_truncated` (cassettes/turn_failed_stream), and no failure at
      all after tool results; an unusable answer fails `provider`;
    - a 429/503 is classified by its words (the CLI prints no status for them);
    - runs after a run 0 that saved no session are missing (`run_shapes`)."""
    world = abstract if isinstance(abstract, CliWorld) else CliWorld(abstract)
    shapes = list(run_shapes(world))
    return [s.items for s in shapes], [s.failure for s in shapes]


def _http_kind(failure: sc.FailureSpec) -> ErrorKind:
    """A quota status is classified by the printed words (the CLI prints no status for it);
    any other keeps its JSON body, so the lane reads the status as the API lanes do."""
    status = failure.http_status or 500
    if status == 429:
        return "rate_limit"  # the quota advice says so
    if status in QUOTA_STATUSES:
        return "rate_limit" if re.search(r"quota|RESOURCE_EXHAUSTED|rate limit",
                                         failure.message, re.I) else "provider"
    return failure_kind(failure)


def _message(text: str, status: str) -> ItemMaker:
    def make(item_id: str) -> Item:
        return AssistantMessage(id=item_id, status="failed" if status == "failed"
                                else "completed", text=text)
    return make


def _tool_item(world: CliWorld, call: dict[str, Any]) -> ItemMaker:
    """The item the lane makes of one call: the tool's kind, failed when refused."""
    name, args = str(call["name"]), call.get("args") or {}
    outcome = world.outcome(call)
    status = "failed" if outcome.error else "completed"
    error = outcome.error[1] if outcome.error else None  # a refused call: why, no output

    def make(item_id: str) -> Item:
        if name == "run_shell_command":
            return CommandExecution(id=item_id, status=status, command=str(args["command"]),
                                    exit_code=None, output="" if error else outcome.output or "",
                                    error=error)
        if name in {"write_file", "replace"}:
            return FileChange(id=item_id, status=status, changes=[FileChangeEntry(
                path=str(args["file_path"]), kind="add" if name == "write_file" else "update")],
                error=error)
        if name == "write_todos":
            return Plan(id=item_id, status=status, entries=[
                PlanEntry(text=str(t["description"]), status=t["status"])
                for t in args["todos"]])
        if name == "google_web_search":
            return WebSearch(id=item_id, status=status, query=str(args["query"]))
        server, _, tool = name.removeprefix("mcp_").partition("_")
        return McpToolCall(id=item_id, status=status, server=server, tool=tool,
                           arguments=dict(args))
    return make
