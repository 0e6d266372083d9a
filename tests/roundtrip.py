"""In-process client simulators: play a runtime against a provider's responder, no HTTP.

Each simulator grows requests the way its runtime does (prompt, the previous answers' output
echoed back, a result for every tool call in them, carrying the drawn exit code and output in the
runtime's own result format), calls the responder's `respond(StubRequest)` directly, and returns
the Exchanges; `normalize_exchanges` turns them into a cassette and reads it with an API lane.
`codex_exec_lines` renders an abstract scenario as `codex exec --json` stdout instead.

A run that ends in a failure step fails the way its runtime fails (see the recorded
cassettes/turn_failed_http and turn_failed_stream): Codex (retries off) makes the call once and
prints `error` + `turn.failed`; Claude Code (`CLAUDE_CODE_MAX_RETRIES=1`) re-sends an HTTP error
once and a broken stream once without streaming; Gemini CLI (`maxAttempts: 1`) makes it once. The
failed call adds nothing to the history, and a later run resumes as usual.
"""

from __future__ import annotations

import http
import io
import json
import re
import shlex
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from harness import scenario as sc
from harness.contract.lane import LaneInput, LaneSpec, RunContext, normalize_to_dicts
from harness.contract.model import (
    AssistantMessage,
    CommandExecution,
    ErrorKind,
    FileChange,
    FileChangeEntry,
    Reasoning,
    ToolCall,
)
from harness.record.cassette import render_http_cassette
from harness.record.providers.anthropic import DUMMY_API_KEY as DUMMY_ANTHROPIC_KEY
from harness.record.providers.anthropic import AnthropicResponder, WireMessage, expand_step
from harness.record.providers.gemini import MODEL as GEMINI_MODEL
from harness.record.providers.gemini import (
    GeminiResponder,
    Position,
    encode_chunks,
    gemini_steps,
    http_failure_first,
)
from harness.record.providers.responses import ResponsesResponder
from harness.record.stub import Exchange, StubReply, StubRequest
from harness.testing.strategies import (
    ROUNDTRIP_THREAD,
    AbstractScenario,
    ItemMaker,
    ShellResult,
    expected_item,
    failure_kind,
    run_failure,
)
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
    """The JSON `data:` payloads of an SSE body, one per `data:` line, with `\n` or `\r\n`
    line ends (Responses and Anthropic frames, Gemini's `alt=sse` chunks)."""
    for raw in body.decode("utf-8").split("\n"):
        line = raw.rstrip("\r")
        if line.startswith("data: "):
            yield json.loads(line[len("data: "):])


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


# ------------------------------------------------------------------------------ pinned scenarios


def shells_scenario(commands: list[tuple[str, int, str]]) -> AbstractScenario:
    """One run calling each command in its own step, then answering."""
    steps: list[sc.Step] = [[sc.ShellBlock(shell=sc.ShellSpec(command=c))]
                            for c, _, _ in commands]
    steps.append([sc.TextBlock(text="done")])
    scenario = sc.Scenario(name="shells", description="", runs=[
        sc.Run(prompt="⟦run 0⟧ run them", steps=steps)], expect=sc.Expect(
        turns=[sc.ExpectedTurn()]))
    return AbstractScenario(scenario, {(0, n, 0): ShellResult(code, out)
                                       for n, (_, code, out) in enumerate(commands)})


def failures_scenario(specs: list[sc.FailureSpec]) -> AbstractScenario:
    """One run per failure, each failing at its first model call, then a run that answers."""
    runs = [sc.Run(prompt=f"⟦run {n}⟧ hi", steps=[sc.FailStep(fail=f)])
            for n, f in enumerate(specs)]
    runs.append(sc.Run(prompt=f"⟦run {len(specs)}⟧ hi", steps=[[sc.TextBlock(text="ok")]]))
    turns = [sc.ExpectedTurn(outcome="failed") for _ in specs]
    scenario = sc.Scenario(name="failures", description="", runs=runs,
                           expect=sc.Expect(turns=[*turns, sc.ExpectedTurn()]))
    return AbstractScenario(scenario, {})


# ------------------------------------------------------------------------------ lanes


def normalize_exchanges(lane: LaneSpec, exchanges: list[Exchange]) -> list[dict[str, Any]]:
    """Exchanges -> vcrpy cassette text -> the lane (strict mode) -> event dicts."""
    with tempfile.TemporaryDirectory(prefix="roundtrip-") as tmp:
        path = Path(tmp) / lane.native_file
        path.write_text(render_http_cassette(exchanges), encoding="utf-8")
        return normalize_to_dicts(lane, path, RunContext())


def stream_log(lane: LaneSpec, stream: bytes, context: RunContext | None = None
               ) -> list[dict[str, Any]]:
    """A stream-json lane's log (strict mode) of a CLI's stdout, as event dicts."""
    events = lane.normalize(LaneInput(stream=io.BytesIO(stream), name="<roundtrip>"),
                            context or RunContext())
    return [e.model_dump(mode="json") for e in events]


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """A recorded stream-json file's lines, parsed (blank lines skipped)."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


# ------------------------------------------------------------------------------ codex exec


STARTED_FIRST = (sc.ShellBlock, sc.McpBlock, sc.PlanBlock)
"""Blocks whose `codex exec` item starts before it completes (file changes only complete)."""


def compact_json(value: Any) -> str:
    """One JSON line as the CLIs print it: no spaces, non-ASCII kept."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def jsonl_bytes(lines: list[dict[str, Any]]) -> bytes:
    """A CLI's stream-json stdout: each line compact (`compact_json`), newline-terminated."""
    return "".join(compact_json(line) + "\n" for line in lines).encode("utf-8")


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


def status_only_failures(runs: list[sc.Run]) -> list[ErrorKind | None]:
    """Per run, the kind a lane reports when it sees an HTTP failure's status but nothing
    telling of a broken stream: `failure_kind` for an HTTP error, always `provider` for a
    stream error."""
    kinds: list[ErrorKind | None] = []
    for run in runs:
        failure = run_failure(run)
        kinds.append(None if failure is None else "provider"
                     if failure.stream_error is not None else failure_kind(failure))
    return kinds


def codex_native_failures(abstract: AbstractScenario) -> list[ErrorKind | None]:
    """Per run, the kind the codex-native lane can tell from Codex's message: an HTTP failure's
    status is in it; a `response.failed` is always "stream disconnected", so `provider` even
    for a rate-limit code (the codex-adapter lane reads the code and says `rate_limit`)."""
    return status_only_failures(abstract.scenario.runs)


# ------------------------------------------------------------------------------ JS string helpers


JS_WHITESPACE = frozenset("\t\n\v\f\r \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006"
                          "\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000\ufeff")
"""What JavaScript's `trim`/`trimEnd` remove (both runtimes are Node programs); Python's
`str.strip` removes more (`\\x1c`-`\\x1f`, `\\x85`), so it would not model them."""


def js_trim_end(text: str) -> str:
    end = len(text)
    while end and text[end - 1] in JS_WHITESPACE:
        end -= 1
    return text[:end]


def js_trim(text: str) -> str:
    start = 0
    while start < len(text) and text[start] in JS_WHITESPACE:
        start += 1
    return js_trim_end(text[start:])


# ------------------------------------------------------------------------------ Anthropic / Claude


CLAUDE_MODEL = "claude-opus-5-5"
CLAUDE_CWD = "/tmp/roundtrip-workspace"
"""Claude Code's working directory in the simulated runs (file tools get absolute paths)."""
CLAUDE_SESSION = "00000000-0000-4000-8000-000000000001"
CLAUDE_SAVED_OUTPUT = (f"/tmp/roundtrip-home/.claude/projects/ws/{CLAUDE_SESSION}"
                       "/tool-results/bash.txt")
"""Where the simulated Claude Code saves a too-large command output (the real one draws a
random file name)."""
CLAUDE_HEADERS = {"content-type": "application/json", "accept": "application/json",
                  "anthropic-version": "2023-06-01", "anthropic-beta": "claude-code-20250219",
                  "x-api-key": DUMMY_ANTHROPIC_KEY}
CLAUDE_TOOLS = ("Agent", "Bash", "Edit", "Read", "Skill", "ToolSearch", "Write")
"""Tools Claude Code 2.1.328 offers up front (deferred ones join once ToolSearch loads them)."""
BASH_EMPTY = "(Bash completed with no output)"
PERSIST_CHARS = 30_000
"""Claude Code's Bash tool keeps at most this many characters of a command's output, and a
successful command's longer output reaches the model as a `<persisted-output>` preview. Seen
live (tests/test_roundtrip_claude_live.py): 8 000 lines of `abcd` (40 000 characters) keep
29 999 after the trim, `seq 1 20000` (~109 kB) is persisted, as is cassettes/large_output
(1.9 MB). No run had a successful output just above or below 30 000, so persisting exactly
above it is the simulator's reading of that cap."""
PREVIEW_CHARS = 2_000
_TOOLU = re.compile(r"^toolu_r(\d+)s(\d+)_(\d+|load|read\d+)$")
TOOL_LOADED = "Tool loaded."
FILE_STATE = "(file state is current in your context — no need to Read it back)"
TODOS_OK = ("Todos have been modified successfully. Ensure that you continue to use the todo "
            "list to track your progress. Please proceed with the current tasks if applicable")


INTERPRETED_EXITS: dict[str, str] = {
    "grep": "No matches found", "rg": "No matches found", "egrep": "No matches found",
    "fgrep": "No matches found", "find": "Some directories were inaccessible",
    "diff": "Files differ", "test": "Condition is false", "[": "Condition is false",
}
"""Commands whose exit code 1 Claude Code reads as an answer, not an error (its Bash tool's
return-code table; exit >= 2 stays an error). `git diff` and `git grep` count too. The command
is the first word of the command line's last simple command (cassettes/multi_command:
`test -f README.md` exits 1 and is printed as success, `returnCodeInterpretation` set)."""

_SEPARATORS = re.compile(r"&&|\|\||[;|&\n]")
_JS_SPACE = re.compile("[" + re.escape("".join(sorted(JS_WHITESPACE))) + "]+")


def _words(text: str) -> list[str]:
    """JavaScript's `text.trim().split(/\\s+/)`."""
    return [w for w in _JS_SPACE.split(text) if w]


def exit_interpretation(command: str, exit_code: int) -> str | None:
    """Claude Code's `returnCodeInterpretation` for a command's exit code, None when the exit
    code keeps its plain meaning (0 success, anything else an error). Claude Code finds the last
    simple command with a bash parser; this splits at `&&`, `||`, `;`, `|`, `&` and newlines,
    which agrees for the commands a scenario scripts (quoted separators aside)."""
    if exit_code != 1:
        return None
    segments = [s for s in _SEPARATORS.split(command) if _words(s)]
    words = _words(segments[-1]) if segments else []
    if not words:
        return None
    name = words[0]
    if name == "git":
        name = _git_subcommand(words) or ""
        if name not in {"diff", "grep"}:
            return None
    return INTERPRETED_EXITS.get(name)


def _git_subcommand(words: list[str]) -> str | None:
    skip = False
    for word in words[1:]:
        if skip:
            skip = False
        elif word.startswith("-"):
            skip = word in {"-C", "-c"}
        else:
            return word
    return None


def _size(chars: int) -> str:
    return f"{chars / 1_048_576:.1f}MB" if chars >= 1_048_576 else f"{chars / 1024:.1f}KB"


ERROR_CHARS = 10_000
"""A failed command's `Exit code N` text longer than this reaches the model middle-truncated:
its first and last 5 000 characters around `... [K characters truncated] ...` (seen live,
tests/test_roundtrip_claude_live.py: 30 012 characters kept 10 000)."""


def bash_captured(output: str) -> str:
    """What Claude Code's Bash tool keeps of a command's output before any formatting: the
    first `PERSIST_CHARS` characters, trailing whitespace trimmed (seen live: 8 000 lines of
    `abcd` keep 29 999 characters, the cut's final newline trimmed)."""
    return js_trim_end(output[:PERSIST_CHARS])


def strip_leading_blank_lines(text: str) -> str:
    """Drop the lines before the first one holding a non-whitespace character (JavaScript's
    whitespace, so `\\r`, tabs, `\\v` and no-break spaces count; `\\x1c` does not): what
    Claude Code does to a successful command's output (seen live: `\\n\\n  x` -> `  x`; the
    first kept line's indentation and any ANSI escapes stay)."""
    start = 0
    while start < len(text) and text[start] in JS_WHITESPACE:
        start += 1
    cut = text.rfind("\n", 0, start)
    return text[cut + 1:] if cut >= 0 else text


def bash_visible(output: str) -> str:
    """A successful command's output as Claude Code hands it to the model: leading blank lines
    dropped (`strip_leading_blank_lines`) and trailing whitespace trimmed, nothing else (ANSI
    escapes, indentation and inner blank lines stay; seen live,
    tests/test_roundtrip_claude_live.py);
    empty output replaced by a notice; large output saved to a file with a ~2 kB preview cut at
    a line end (the file path is made up; the model only sees it)."""
    text = strip_leading_blank_lines(js_trim_end(output))
    if text == "":
        return BASH_EMPTY
    if len(text) <= PERSIST_CHARS:
        return text
    head = text[:PREVIEW_CHARS]
    cut = head.rfind("\n")
    preview = head[:cut] if cut > 0 else head
    return (f"<persisted-output>\nOutput too large ({_size(len(text))}). Full output saved to: "
            f"{CLAUDE_SAVED_OUTPUT}\n\n"
            f"Preview (first 2KB):\n{preview}\n...\n</persisted-output>")


def _error_text(text: str) -> str:
    if len(text) <= ERROR_CHARS:
        return text
    half = ERROR_CHARS // 2
    return (f"{text[:half]}\n\n... [{len(text) - ERROR_CHARS} characters truncated] ...\n\n"
            f"{text[-half:]}")


def bash_result(result: ShellResult, command: str) -> tuple[str, bool]:
    """(content, is_error) of Claude Code's Bash tool_result: the output on success or on an
    exit Claude Code interprets as an answer (`exit_interpretation`), else, as an error,
    `Exit code N` then the captured output (`bash_captured`: leading blank lines kept, nothing
    persisted to a file), the whole text middle-truncated past `ERROR_CHARS` (seen live)."""
    if result.exit_code == 0 or exit_interpretation(command, result.exit_code) is not None:
        return bash_visible(result.output), False
    captured = bash_captured(result.output)
    body = "\n" + captured if captured else ""
    return _error_text(f"Exit code {result.exit_code}{body}"), True


@dataclass(frozen=True)
class ClaudeCall:
    """What one of Claude Code's tool calls stands for in the scenario."""

    where: tuple[int, int, int] | None
    """(run, step, block) of the scenario block; None for ToolSearch and Read preparation."""
    name: str
    arguments: dict[str, Any]


def claude_calls(abstract: AbstractScenario, run: int, step: int, cwd: str
                 ) -> dict[str, ClaudeCall]:
    """tool_use id -> the call, for one step, from the responder's own expansion (so block
    positions follow Claude Code's tools: one Write/Edit/`rm` per changed file)."""
    spec = abstract.scenario.runs[run].steps[step]
    calls: dict[str, ClaudeCall] = {}
    owners: list[int] = []  # block index of each content block of the step's message
    split = False  # after a WebSearch, text and thinking go to a later message
    for b, block in enumerate(spec if isinstance(spec, list) else []):
        owners += [b] * _content_blocks(block, split)
        split = split or isinstance(block, sc.WebSearchBlock)
    for answer in expand_step(spec, run, step, cwd):
        for content in answer.blocks if isinstance(answer, WireMessage) else ():
            if content["type"] != "tool_use":
                continue
            match = _TOOLU.match(content["id"])
            if match is None:
                raise SimulationError(f"unexpected tool_use id {content['id']}")
            tail = match.group(3)
            where = (run, step, owners[int(tail)]) if tail.isdigit() else None
            calls[content["id"]] = ClaudeCall(where, content["name"], content["input"])
    return calls


def _content_blocks(block: sc.Block, split: bool) -> int:
    """How many content blocks of the step's own message one scenario block becomes."""
    if isinstance(block, sc.PatchBlock):
        spec = block.patch
        return len(spec.add) + len(spec.update) + len(spec.delete)
    return 0 if split and isinstance(block, sc.TextBlock | sc.ReasoningBlock) else 1


def claude_tool_result(abstract: AbstractScenario, call_id: str, call: ClaudeCall
                       ) -> dict[str, Any]:
    """The tool_result block Claude Code writes for one call (shapes copied from the recorded
    catalog: cassettes/*/claude.http.yaml)."""
    result: dict[str, Any] = {"tool_use_id": call_id, "type": "tool_result"}
    args = call.arguments
    if call.name == "ToolSearch":
        names = str(args["query"]).removeprefix("select:").split(",")
        return {**result, "content": [{"type": "tool_reference", "tool_name": n}
                                      for n in names]}
    if call.name == "Read":
        lines = _read_content(abstract, call).split("\n")
        return {**result, "content": "\n".join(f"{n}\t{line}" for n, line in
                                               enumerate(lines, 1))}
    if call.name == "Write":
        return {**result, "content": f"File created successfully at: {args['file_path']} "
                                     f"{FILE_STATE}"}
    if call.name == "Edit":
        return {**result, "content": f"The file {args['file_path']} has been updated "
                                     f"successfully. {FILE_STATE}"}
    if call.name == "TodoWrite":
        return {**result, "content": TODOS_OK}
    if call.name == "Bash":
        shell = abstract.shell_results.get(call.where) if call.where else None
        content, is_error = bash_result(shell or ShellResult(0, ""),  # `rm --`: no output
                                        str(args["command"]))
        return {**result, "content": content, "is_error": is_error}
    if call.name.startswith("mcp__"):
        return {**result, "content": [{"type": "text", "text": f"{call.name} done"}]}
    raise SimulationError(f"no tool_result form for {call.name}")


def _read_content(abstract: AbstractScenario, call: ClaudeCall) -> str:
    """The seeded content of a file the step edits (its `old` text)."""
    return old_text(abstract, str(call.arguments["file_path"]))


def old_text(abstract: AbstractScenario, path: str) -> str:
    """The `old` text some update in the scenario gives the file at (absolute) `path`."""
    for run in abstract.scenario.runs:
        for step in run.steps:
            for block in step if isinstance(step, list) else []:
                if isinstance(block, sc.PatchBlock):
                    for upd in block.patch.update:
                        if path.endswith("/" + upd.path):
                            return upd.old
    return ""


def web_search_result(query: str, answer: str) -> str:
    """WebSearch's tool_result: the nested search's links and summary, and Claude Code's
    reminder to cite them."""
    links = json.dumps([{"title": f"Results for {query}",
                         "url": "https://example.invalid/search"}], ensure_ascii=False,
                       separators=(",", ":"))
    return (f'Web search results for query: "{query}"\n\nLinks: {links}\n\n{answer}\n\n\n'
            "REMINDER: You MUST include the sources above in your response to the user using "
            "markdown hyperlinks.")


class ClaudeSimulator:
    """Claude Code 2.1.328 against `AnthropicResponder`, request shapes as recorded."""

    def __init__(self, abstract: AbstractScenario) -> None:
        self.abstract = abstract
        self.responder = AnthropicResponder(abstract.scenario)
        self.exchanges: list[Exchange] = []
        self.messages: list[dict[str, Any]] = []
        self.loaded: list[str] = []

    def run(self) -> list[Exchange]:
        for run, spec in enumerate(self.abstract.scenario.runs):
            prompt = {"type": "text", "text": spec.prompt}
            if run == 0:
                self.messages = [{"role": "user", "content": [{"type": "text", "text":
                                  "<system-reminder>\nContext Claude Code attached."
                                  "\n</system-reminder>"}, prompt]},
                                 {"role": "system", "content": [{"type": "text", "text":
                                  f"# Environment\n - Primary working directory: "
                                  f"{CLAUDE_CWD}\n - Platform: linux"}]}]
            elif self.messages[-1]["role"] == "user":
                # after a failed call (whose API-error message is never sent): Claude Code's
                # message normalizer merges adjacent user messages into one
                self.messages[-1]["content"].append(prompt)
            else:  # `claude -p --resume <session>`: the history, then the new prompt
                self.messages.append({"role": "user", "content": [prompt]})
            self._turn(run)
        return self.exchanges

    def _turn(self, run: int) -> None:
        while True:
            if len(self.exchanges) >= MAX_CALLS:
                raise SimulationError("too many model calls")
            content = self._conversation_call()
            if content is None:  # the run fails; the failed call leaves no message behind
                return
            self.messages.append({"role": "assistant", "content": content})
            uses = [b for b in content if b["type"] == "tool_use"]
            if not uses:
                return
            self.messages.append({"role": "user", "content": self._results(run, uses)})

    def _results(self, run: int, uses: list[dict[str, Any]]) -> list[dict[str, Any]]:
        match = _TOOLU.match(str(uses[0]["id"]))
        if match is None:
            raise SimulationError(f"unexpected tool_use id {uses[0]['id']}")
        step = int(match.group(2))
        calls = claude_calls(self.abstract, run, step, CLAUDE_CWD)
        results: list[dict[str, Any]] = []
        for use in uses:
            call = calls[use["id"]]
            if call.name == "WebSearch":
                answer = self._nested_search(str(call.arguments["query"]))
                results.append({"tool_use_id": use["id"], "type": "tool_result",
                                "content": web_search_result(str(call.arguments["query"]),
                                                             answer)})
            else:
                results.append(claude_tool_result(self.abstract, use["id"], call))
            if call.name == "ToolSearch":
                self.loaded += [n for n in str(call.arguments["query"])
                                .removeprefix("select:").split(",") if n not in self.loaded]
        if any(u["name"] == "ToolSearch" for u in uses):
            results.append({"type": "text", "text": TOOL_LOADED})
        return results

    def _nested_search(self, query: str) -> str:
        """WebSearch's own model call: only the server-side `web_search` tool offered."""
        body = {"model": CLAUDE_MODEL, "max_tokens": 8192, "stream": True,
                "messages": [{"role": "user", "content": [{"type": "text", "text":
                              f"Perform a web search for the query: {query}"}]}],
                "system": [{"type": "text", "text": "You are an assistant for performing a "
                            "web search tool use"}],
                "tools": [{"type": "web_search_20250305", "name": "web_search", "max_uses": 8}]}
        content = self._call(body)
        return "".join(str(b.get("text", "")) for b in content if b["type"] == "text")

    def _body(self, messages: list[dict[str, Any]], *, stream: bool) -> dict[str, Any]:
        sent = json.loads(json.dumps(messages))
        last = sent[-1]["content"]
        last[-1] = {**last[-1], "cache_control": {"type": "ephemeral"}}
        tools = [{"name": name, "description": f"{name} tool",
                  "input_schema": {"type": "object"}}
                 for name in sorted({*CLAUDE_TOOLS, *self.loaded})]
        return {"model": CLAUDE_MODEL, "messages": sent,
                "system": [{"type": "text", "text": "You are a Claude agent, built on "
                            "Anthropic's Claude Agent SDK."}],
                "tools": tools,
                "metadata": {"user_id": json.dumps({"device_id": "stub", "account_uuid": "",
                                                    "session_id": CLAUDE_SESSION})},
                "max_tokens": 32000, "stream": stream}

    def _conversation_call(self) -> list[dict[str, Any]] | None:
        """One conversation call as Claude Code makes it with `CLAUDE_CODE_MAX_RETRIES=1`
        (cassettes/turn_failed_*): an HTTP error is re-sent once as it was; a stream that
        breaks with an `error` event is re-sent once without streaming. None: the call failed."""
        body = self._body(self.messages, stream=True)
        reply = self._send(body)
        if reply.status != 200:
            reply = self._send(body)
            if reply.status != 200:
                return None
        if not stream_broken(reply.body):
            return anthropic_content(reply.body)
        whole = self._send(self._body(self.messages, stream=False))
        if whole.status != 200:
            return None
        content: list[dict[str, Any]] = json.loads(whole.body)["content"]
        return content

    def _call(self, body: dict[str, Any]) -> list[dict[str, Any]]:
        reply = self._send(body)
        if reply.status != 200:
            raise SimulationError(f"responder answered HTTP {reply.status}")
        return anthropic_content(reply.body)

    def _send(self, body: dict[str, Any]) -> StubReply:
        request = StubRequest("POST", "/v1/messages", "beta=true", dict(CLAUDE_HEADERS),
                              json.dumps(body, ensure_ascii=False).encode())
        reply = self.responder.respond(request)
        self.exchanges.append(Exchange(request, reply))
        return reply


def stream_broken(body: bytes) -> bool:
    """Whether a Messages SSE stream carries an `error` event (the provider broke it off)."""
    return any(payload.get("type") == "error" for payload in sse_payloads(body))


def anthropic_content(body: bytes) -> list[dict[str, Any]]:
    """The final content blocks of a Messages SSE stream, as Claude Code echoes them back."""
    blocks: dict[int, dict[str, Any]] = {}
    partial: dict[int, str] = {}
    for payload in sse_payloads(body):
        kind = payload.get("type")
        if kind == "error":
            raise SimulationError(f"stream error {payload['error']}")
        if kind == "content_block_start":
            blocks[payload["index"]] = dict(payload["content_block"])
        elif kind == "content_block_delta":
            block, delta = blocks[payload["index"]], payload["delta"]
            if delta["type"] == "text_delta":
                block["text"] += delta["text"]
            elif delta["type"] == "thinking_delta":
                block["thinking"] += delta["thinking"]
            elif delta["type"] == "signature_delta":
                block["signature"] += delta["signature"]
            elif delta["type"] == "input_json_delta":
                partial[payload["index"]] = partial.get(payload["index"], "") + \
                    delta["partial_json"]
    for index, text in partial.items():
        blocks[index]["input"] = json.loads(text)
    return [blocks[i] for i in sorted(blocks)]


def claude_exchanges(abstract: AbstractScenario) -> list[Exchange]:
    """Claude Code against the Anthropic responder: run 0 a new session, later runs
    `--resume` it (the history, then the new prompt)."""
    return ClaudeSimulator(abstract).run()


def anthropic_view(abstract: AbstractScenario) -> list[list[ItemMaker]]:
    """The scenario as the anthropic lane can show it, per run (each difference from
    `expected_items` is how Claude Code really works, see the recorded catalog):
    - a step that edits files first `Read`s each of them (Claude Code's Edit refuses an unread
      file): one completed `Read` tool_call per updated file, before the step's items (the
      ToolSearch loads in the same preparation message are noise);
    - a patch is one Write (add) / Edit (update) per file, one file_change item each (paths
      absolute under the cwd, which the equivalence makes relative again); a delete is a
      Bash `rm -- <path>`, a command_execution;
    - command output is what Bash hands the model (`bash_result`): on success trailing
      whitespace trimmed and leading blank lines dropped, `(Bash completed with no output)`
      for none, a preview for a large one; on failure the leading lines kept and the
      `Exit code N` text cut in the middle past 10 000 characters.
    A failed run's kind is `expected_failures`': the lane reads the last attempt, an HTTP
    error either way (a broken stream's non-streaming re-send gets the status its error type
    stands for: rate limit 429, overloaded 529, else 500)."""
    runs: list[list[ItemMaker]] = []
    for r, run in enumerate(abstract.scenario.runs):
        makers: list[ItemMaker] = []
        for s, step in enumerate(run.steps):
            blocks = step if isinstance(step, list) else []
            makers += [read_item(_abs(u.path)) for b in blocks if isinstance(b, sc.PatchBlock)
                       for u in b.patch.update]
            for b, block in enumerate(blocks):
                makers += _anthropic_items(abstract, (r, s, b), block)
        runs.append(makers)
    return runs


def _abs(rel: str) -> str:
    return f"{CLAUDE_CWD}/{rel}"


def read_item(path: str) -> ItemMaker:
    return lambda item_id: ToolCall(id=item_id, status="completed", name="Read",
                                    arguments={"file_path": path})


def _anthropic_items(abstract: AbstractScenario, where: tuple[int, int, int], block: sc.Block
                     ) -> list[ItemMaker]:
    if isinstance(block, sc.ShellBlock):
        result = abstract.shell_result(*where)
        content, is_error = bash_result(result, block.shell.command)
        output = content.split("\n", 1)[1] if is_error and "\n" in content else \
            ("" if is_error else content)
        # an interpreted exit reaches the model as a plain success: the lane reads exit 0
        # (cassettes/multi_command DIVERGENCES: anthropic-exit-code-semantics-hidden)
        return [lambda item_id: CommandExecution(
            id=item_id, status="failed" if is_error else "completed",
            command=block.shell.command, exit_code=result.exit_code if is_error else 0,
            output=output)]
    if isinstance(block, sc.PatchBlock):
        spec = block.patch
        changes: list[ItemMaker] = [file_change_item(a.path, "add") for a in spec.add]
        changes += [file_change_item(u.path, "update") for u in spec.update]
        changes += [_rm(rel, BASH_EMPTY) for rel in spec.delete]
        return changes
    return [lambda item_id: expected_item(abstract, where, block, item_id)]


def file_change_item(path: str, kind: Literal["add", "update"]) -> ItemMaker:
    return lambda item_id: FileChange(id=item_id, status="completed",
                                      changes=[FileChangeEntry(path=path, kind=kind)])


def _rm(rel: str, output: str) -> ItemMaker:
    return lambda item_id: CommandExecution(id=item_id, status="completed",
                                            command=f"rm -- {shlex.quote(rel)}", exit_code=0,
                                            output=output)


# ------------------------------------------------------------------------------ Gemini CLI rules
# What Gemini CLI 0.61.0 does with tool calls and answers, shared by the API simulator below and
# the stream-json renderer (tests/roundtrip_gemini_cli.py): read in the bundle and checked live.


_ANSI = re.compile("(?:\x1b\\][\\s\\S]*?(?:\x07|\x1b\\\\|\x9c))|[\x1b\x9b][\\[\\]()#;?]*"
                   "(?:[0-9]{1,4}(?:[;:][0-9]{0,4})*)?[0-9A-PR-TZcf-nq-uy=><~]")
"""`ansi-regex` as bundled in Gemini CLI 0.61.0 (JavaScript's `\\d` is ASCII only)."""
_ZERO_WIDTH = re.compile("[\u200b-\u200d\ufeff\u200e\u200f]")
_COMMENT = re.compile(r"<!--[\s\S]*?-->")
TRUE_EMPTY_RESPONSE = ("The model returned an empty response with no text or thoughts. This may "
                       "be a transient API issue; please try again.")
THINKING_ONLY = ("The model returned reasoning thoughts but no final response text. If your "
                 "context window is near capacity, try using /compress.")


def strip_ansi(text: str) -> str:
    return _ANSI.sub("", text)


def gemini_command_output(output: str) -> str:
    """A command's output as Gemini CLI keeps it (`stripAnsi(output).trim()` in
    shellExecutionService): both what it shows and what `Output:` tells the model."""
    return js_trim(strip_ansi(output))


def response_text(text: str) -> str:
    """The text `geminiChat` judges an answer by: zero-width characters and HTML comments out,
    trimmed as JavaScript trims."""
    text = _ZERO_WIDTH.sub("", text)
    previous = None
    while previous != text:
        previous, text = text, _COMMENT.sub("", text)
    return js_trim(text)


@dataclass(frozen=True)
class GeminiAnswer:
    """One conversation call as the CLI reads it."""

    deltas: list[str]
    """The assistant `message` deltas stream-json prints, in order (ANSI stripped)."""
    calls: list[dict[str, Any]]
    thoughts: bool
    text: str
    """All non-thought text of the answer (what `response_text` judges)."""


def read_gemini_answer(chunks: list[dict[str, Any]]) -> GeminiAnswer:
    """The answer of a stream's response chunks (an `error` object carries no candidate)."""
    deltas: list[str] = []
    calls: list[dict[str, Any]] = []
    thoughts = False
    text = ""
    for chunk in chunks:
        parts = chunk["candidates"][0]["content"]["parts"] if "candidates" in chunk else []
        said = "".join(str(p["text"]) for p in parts if p.get("text") and not p.get("thought"))
        thoughts = thoughts or any(p.get("thought") for p in parts)
        text += said
        if said:
            deltas.append(strip_ansi(said))
        calls += [p["functionCall"] for p in parts if "functionCall" in p]
    return GeminiAnswer(deltas, calls, thoughts, text)


def unusable(answer: GeminiAnswer, after_tools: bool) -> str | None:
    """The CLI's message for an answer it refuses (`InvalidStreamError`, no retry with
    `maxAttempts: 1`; the run fails and the answer stays out of the history), None if accepted:
    a blank answer without calls fails when it had thoughts, or when it answers the prompt
    itself (`isOriginalFunctionResponse` accepts an empty answer after tool results)."""
    if answer.calls or response_text(answer.text):
        return None
    if answer.thoughts:
        return THINKING_ONLY
    return None if after_tools else TRUE_EMPTY_RESPONSE


@dataclass(frozen=True)
class GeminiRefusal:
    """A call the CLI refuses without running it: `display` is what it shows (stream-json
    `output`), `message` what the model gets back (`functionResponse.response.error`)."""

    kind: str
    display: str
    message: str


def todo_refusal(todos: list[dict[str, Any]]) -> str | None:
    """`write_todos` parameter checks (`validateToolParamValues`)."""
    if any(not js_trim(str(t["description"])) for t in todos):
        return "Each todo must have a non-empty description string"
    if sum(1 for t in todos if t["status"] == "in_progress") > 1:
        return 'Invalid parameters: Only one task can be "in_progress" at a time.'
    return None


def gemini_refusal(name: str, args: dict[str, Any], cwd: str) -> GeminiRefusal | None:
    """The parameter checks of the tools (`build` refuses with the same text everywhere; the
    edit tool fails in `execute` with a display and a raw message). A `replace` edits a file that
    exists holding `old_string` (what a scripted update means)."""
    message: str | None = None
    if name == "run_shell_command" and not js_trim(str(args["command"])):
        message = "Command cannot be empty."
    elif name == "google_web_search" and not js_trim(str(args["query"])):
        message = "The 'query' parameter cannot be empty."
    elif name == "write_todos":
        message = todo_refusal(list(args["todos"]))
    elif name == "replace":
        return _replace_refusal(args, cwd)
    return GeminiRefusal("invalid_tool_params", message, message) if message else None


def _replace_refusal(args: dict[str, Any], cwd: str) -> GeminiRefusal | None:
    path = str(args["file_path"])
    if args["old_string"] == "":
        return GeminiRefusal("attempt_to_create_existing_file", "Error: Failed to edit. "
                             "Attempted to create a file that already exists.",
                             f"File already exists, cannot create: {cwd}/{path}")
    if args["old_string"] == args["new_string"]:
        return GeminiRefusal("edit_no_change", "Error: No changes to apply. The old_string and "
                             "new_string are identical.", "No changes to apply. The old_string "
                             f"and new_string are identical in file: {path}")
    return None


# ------------------------------------------------------------------------------ Gemini CLI


GEMINI_CWD = "/tmp/roundtrip-workspace"
GEMINI_PATH = f"/v1beta/models/{GEMINI_MODEL}:streamGenerateContent"
GEMINI_HEADERS = {"content-type": "application/json", "accept": "*/*",
                  "x-goog-api-key": "dummy-key-for-stub"}
GEMINI_TOOLS = ("read_file", "replace", "write_file", "run_shell_command", "google_web_search",
                "write_todos")
TRUNCATE_CHARS = 40_000
"""Gemini CLI's `truncateToolOutputThreshold`: a longer tool result keeps its first 20 % and last
80 % around an omission line (`formatTruncatedToolOutput`, gemini-cli 0.61). JavaScript counts
UTF-16 units; the simulator counts code points (it never cuts a surrogate pair)."""
SKIP_SIGNATURE = "skip_thought_signature_validator"


def gemini_shell_output(result: ShellResult, pgid: int = 4242) -> str:
    """run_shell_command's functionResponse output: `Output:` (ANSI stripped and trimmed,
    `gemini_command_output`; `(empty)` for none), `Exit Code:` when non-zero (the model never
    sees the display's `Command exited with code: N`: cassettes/multi_command), the process
    group, wrapped as untrusted."""
    parts = [f"Output: {gemini_command_output(result.output) or '(empty)'}"]
    if result.exit_code != 0:
        parts.append(f"Exit Code: {result.exit_code}")
    parts.append(f"Process Group PGID: {pgid}")
    return truncated("<untrusted_context>\n" + "\n".join(parts) + "\n</untrusted_context>")


def truncated(text: str) -> str:
    if len(text) <= TRUNCATE_CHARS:
        return text
    head_chars = TRUNCATE_CHARS // 5
    tail_chars = TRUNCATE_CHARS - head_chars
    omitted = len(text) - TRUNCATE_CHARS
    return (f"Output too large. Showing first {head_chars:,} and last {tail_chars:,} "
            "characters. For full output see: /tmp/roundtrip-home/.gemini/tmp/ws/"
            f"tool-outputs/run_shell_command.txt\n{text[:head_chars]}\n\n"
            f"... [{omitted:,} characters omitted] ...\n\n{text[-tail_chars:]}")


def gemini_visible_output(result: ShellResult) -> str:
    """The command output the gemini lane can read back from `gemini_shell_output`: between
    `Output: ` and the next field, trailing newlines dropped (truncation marks included)."""
    text = gemini_shell_output(result)
    start = text.index("Output: ") + len("Output: ")
    trailer = "\nExit Code: " if result.exit_code != 0 else "\nProcess Group PGID: "
    output = text[start:text.rindex(trailer)].rstrip("\n")
    return "" if output.strip() == "(empty)" else output


class GeminiSimulator:
    """Gemini CLI 0.61 (`gemini -p`, then `--resume`) against `GeminiResponder`. A `--resume`
    exits 42 before any request when run 0 saved no session (`gemini_runs`); a resumed run
    whose first call gets an HTTP error is not saved either, so later runs lack its prompt
    (`http_failure_first`; seen live, tests/test_roundtrip_gemini_cli.py)."""

    def __init__(self, abstract: AbstractScenario) -> None:
        self.abstract = abstract
        self.responder = GeminiResponder(abstract.scenario)
        self.exchanges: list[Exchange] = []
        self.contents: list[dict[str, Any]] = []
        self.origin = gemini_origins(abstract)

    def run(self) -> list[Exchange]:
        runs = self.abstract.scenario.runs
        for run, spec in enumerate(runs[:gemini_runs(self.abstract)]):
            parts: list[dict[str, Any]] = [{"text": spec.prompt}]
            if run == 0:
                parts.insert(0, {"text": "<session_context>\nThis is the Gemini CLI.\n- "
                                 f"**Workspace Directories:**\n  - {GEMINI_CWD}\n"
                                 "</session_context>"})
            self.contents.append({"role": "user", "parts": parts})
            self._turn()
            if run > 0 and http_failure_first(spec):
                self.contents.pop()  # not saved to the session: later runs lack this prompt
        if self.responder.log.problems:
            raise SimulationError("; ".join(self.responder.log.problems))
        return self.exchanges

    def _turn(self) -> None:
        after_tools = False
        while True:
            if len(self.exchanges) >= MAX_CALLS:
                raise SimulationError("too many model calls")
            chunks = self._stream(self._body(), after_tools)
            if chunks is None or unusable(read_gemini_answer(chunks), after_tools):
                return  # maxAttempts 1: the run fails (`run` drops a resumed run's prompt
                # after an HTTP error at its first call, as the real CLI does)
            parts = [p for c in chunks for p in c["candidates"][0]["content"]["parts"]]
            self.contents.append({"role": "model", "parts": gemini_echo(parts)})
            calls = [p["functionCall"] for p in parts if "functionCall" in p]
            if not calls:
                return
            after_tools = True
            self.contents.append({"role": "user",
                                  "parts": [self._response(call) for call in calls]})

    def _body(self) -> dict[str, Any]:
        return {"contents": json.loads(json.dumps(self.contents)),
                "systemInstruction": {"role": "user", "parts": [
                    {"text": "You are a non-interactive CLI agent."}]},
                "tools": [{"functionDeclarations": [
                    {"name": name, "description": f"{name} tool",
                     "parametersJsonSchema": {"type": "object"}} for name in GEMINI_TOOLS]}],
                "generationConfig": {"temperature": 1, "topP": 0.95, "topK": 64,
                                     "thinkingConfig": {"includeThoughts": True}}}

    def _response(self, call: dict[str, Any]) -> dict[str, Any]:
        name, args = str(call["name"]), call.get("args") or {}
        refusal = gemini_refusal(name, args, GEMINI_CWD)
        response = {"error": refusal.message} if refusal else \
            {"output": self._output(name, args, str(call["id"]))}
        return {"functionResponse": {"id": call["id"], "name": name, "response": response}}

    def _output(self, name: str, args: dict[str, Any], call_id: str) -> str:
        if name == "run_shell_command":
            where = self.origin.get(call_id)
            result = self.abstract.shell_results.get(where) if where else None
            return gemini_shell_output(result or ShellResult(0, ""))  # `rm --`: no output
        if name == "write_file":
            return (f"Successfully created and wrote to new file: {GEMINI_CWD}/"
                    f"{args['file_path']}. Here is the updated code:\n{args['content']}")
        if name == "replace":
            return (f"Successfully modified file: {GEMINI_CWD}/{args['file_path']} "
                    f"(1 replacements). Here is the updated code:\n{args['new_string']}")
        if name == "write_todos":
            lines = [f"{n}. [{t['status']}] {t['description']}"
                     for n, t in enumerate(args["todos"], 1)]
            return "Successfully updated the todo list. The current list is now:\n" + \
                "\n".join(lines)
        if name == "google_web_search":
            return self._web_search(str(args["query"]))
        if name.startswith("mcp_"):
            return f"<untrusted_context>\n{name} done\n</untrusted_context>"
        raise SimulationError(f"no functionResponse form for {name}")

    def _web_search(self, query: str) -> str:
        """google_web_search runs a grounded side call on a flash model, then quotes it."""
        body = {"contents": [{"role": "user", "parts": [{"text": query}]}],
                "tools": [{"googleSearch": {}}],
                "generationConfig": {"temperature": 0, "topP": 1}}
        parts = self._call("/v1beta/models/gemini-2.5-flash:generateContent", "", body)
        answer = "".join(str(p.get("text", "")) for p in parts)
        return f'Web search results for "{query}":\n\n{answer}'

    def _stream(self, body: dict[str, Any], after_tools: bool) -> list[dict[str, Any]] | None:
        """The conversation call's response chunks, made once (`general.maxAttempts: 1`); None
        when it failed: an HTTP error, or a stream broken off by an `error` object, except
        right after tool results, where the CLI takes a stream without a finish reason as the
        answer (`isOriginalFunctionResponse`): the chunks before the error."""
        request = StubRequest("POST", GEMINI_PATH, "alt=sse", dict(GEMINI_HEADERS),
                              json.dumps(body, ensure_ascii=False).encode())
        reply = self.responder.respond(request)
        self.exchanges.append(Exchange(request, reply))
        if reply.status != 200:
            return None
        chunks = list(sse_payloads(reply.body))
        if any("error" in chunk for chunk in chunks) and not after_tools:
            return None
        return [chunk for chunk in chunks if "error" not in chunk]

    def _call(self, path: str, query: str, body: dict[str, Any]) -> list[dict[str, Any]]:
        request = StubRequest("POST", path, query, dict(GEMINI_HEADERS),
                              json.dumps(body, ensure_ascii=False).encode())
        reply = self.responder.respond(request)
        self.exchanges.append(Exchange(request, reply))
        if reply.status != 200:
            raise SimulationError(f"responder answered HTTP {reply.status}")
        chunks = list(sse_payloads(reply.body)) if query else [json.loads(reply.body)]
        parts: list[dict[str, Any]] = []
        for chunk in chunks:
            if "error" in chunk:
                raise SimulationError(f"stream error {chunk['error']}")
            parts += chunk["candidates"][0]["content"]["parts"]
        return parts


def gemini_echo(parts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The model content Gemini CLI keeps in its history: consecutive text chunks joined, thought
    parts left out, the first functionCall carrying the CLI's placeholder signature."""
    echo: list[dict[str, Any]] = []
    for part in parts:
        if part.get("thought"):
            continue
        if "text" in part and echo and "text" in echo[-1]:
            echo[-1] = {"text": echo[-1]["text"] + part["text"]}
        elif "functionCall" in part and not any("functionCall" in p for p in echo):
            echo.append({**part, "thoughtSignature": SKIP_SIGNATURE})
        else:
            echo.append(dict(part))
    return echo or [{"text": ""}]


def gemini_origins(abstract: AbstractScenario) -> dict[str, tuple[int, int, int]]:
    """functionCall id (`r<run>s<gemini step>b<block>c<change>`) -> the scenario block it came
    from, (run, step, block): `gemini_steps` cuts a step after a web search."""
    origins: dict[str, tuple[int, int, int]] = {}
    for r, run in enumerate(abstract.scenario.runs):
        gstep = 0
        for s, step in enumerate(run.steps):
            gblock = 0
            blocks = step if isinstance(step, list) else []
            for b, block in enumerate(blocks):
                for change in range(max(1, _content_blocks(block, False))):
                    origins[f"r{r}s{gstep}b{gblock}c{change}"] = (r, s, b)
                gblock += 1
                if isinstance(block, sc.WebSearchBlock) and b + 1 < len(blocks):
                    gstep, gblock = gstep + 1, 0
            gstep += 1
    return origins


def gemini_exchanges(abstract: AbstractScenario) -> list[Exchange]:
    """Gemini CLI against the Gemini responder: run 0 a new session, later runs `--resume` it."""
    return GeminiSimulator(abstract).run()


def gemini_view(abstract: AbstractScenario) -> list[list[ItemMaker]]:
    """The scenario as the gemini lane can show it, per run (each difference is how the Gemini
    API or Gemini CLI really works):
    - parts carry no ids, so consecutive text blocks of one answer are one assistant_message
      (their texts joined), consecutive readable reasoning one reasoning item; an empty text
      adds nothing; an opaque (signature-only) thought is an item of its own;
    - a patch is one write_file (add) / replace (update) per file, a delete a
      `run_shell_command` `rm -- <path>`;
    - command output is what run_shell_command reports (`gemini_visible_output`); the exit code
      is shown (`Exit Code:`), unlike in the gemini-cli lane;
    - a call the CLI refuses (`gemini_refusal`) is a failed item, a refused command with no
      exit code and the refusal as output;
    - a broken stream shows the text that arrived before its error object as a failed
      assistant_message (DIVERGENCES: gemini-partial-text-before-stream-error), also where the
      CLI accepts it (after tool results: the wire still shows a broken stream);
    - the runs after a run 0 that saved no session are missing (`gemini_runs`)."""
    runs: list[list[ItemMaker]] = []
    for r, run in enumerate(abstract.scenario.runs[:gemini_runs(abstract)]):
        makers: list[ItemMaker] = []
        for s, step in enumerate(run.steps):
            for answer in _answers(step if isinstance(step, list) else []):
                makers += _gemini_answer(abstract, r, s, answer)
        failure = run_failure(run)
        if failure is not None and failure.stream_error is not None:
            makers.append(_partial_message)
        runs.append(makers)
    return runs


GEMINI_PARTIAL_TEXT = "Let me "
"""The text chunk the Gemini responder streams before a stream error's `error` object."""


def _partial_message(item_id: str) -> AssistantMessage:
    return AssistantMessage(id=item_id, status="failed", text=GEMINI_PARTIAL_TEXT)


def gemini_failures(abstract: AbstractScenario) -> list[ErrorKind | None]:
    """Per run, the kind the gemini lane reports: an HTTP error by its status
    (`failure_kind`), a broken stream by its error object's code, which is always 500 (the
    Gemini API has no per-cause stream codes), so `provider` whatever the scripted code."""
    return status_only_failures(abstract.scenario.runs[:gemini_runs(abstract)])


def gemini_runs(abstract: AbstractScenario) -> int:
    """How many runs reach the API: all, unless run 0's first model call failed (an error, or
    an answer the CLI refuses), which saves no session, so every `--resume` exits 42 at once.
    (Every later call of a run follows a successful one.)"""
    runs = abstract.scenario.runs
    first = gemini_steps(runs[0])[0]
    if isinstance(first, sc.FailStep) or unusable(
            read_gemini_answer(encode_chunks(first, Position(0, 0))), False):
        return 1
    return len(runs)


def _answers(blocks: list[sc.Block]) -> list[list[tuple[int, sc.Block]]]:
    """A step's blocks (with their index) per model answer: cut after a web search."""
    answers: list[list[tuple[int, sc.Block]]] = [[]]
    for b, block in enumerate(blocks):
        answers[-1].append((b, block))
        if isinstance(block, sc.WebSearchBlock) and b + 1 < len(blocks):
            answers.append([])
    return answers


def _gemini_answer(abstract: AbstractScenario, r: int, s: int,
                   answer: list[tuple[int, sc.Block]]) -> list[ItemMaker]:
    makers: list[ItemMaker] = []
    stream: tuple[str, str] | None = None  # (kind, text) of the open text or thought run

    def close() -> None:
        nonlocal stream
        if stream is not None:
            makers.append(_streamed(*stream))
            stream = None

    for b, block in answer:
        if isinstance(block, sc.TextBlock) or (isinstance(block, sc.ReasoningBlock)
                                               and not block.reasoning.encrypted):
            kind = "assistant_message" if isinstance(block, sc.TextBlock) else "reasoning"
            text = block.text if isinstance(block, sc.TextBlock) else block.reasoning.text
            if not text:
                continue
            if stream is not None and stream[0] == kind:
                stream = (kind, stream[1] + text)
            else:
                close()
                stream = (kind, text)
            continue
        close()
        makers += _gemini_items(abstract, (r, s, b), block)
    close()
    return makers


def _streamed(kind: str, text: str) -> ItemMaker:
    if kind == "assistant_message":
        return lambda item_id: AssistantMessage(id=item_id, status="completed", text=text)
    return lambda item_id: Reasoning(id=item_id, status="completed", text=text)


def _gemini_items(abstract: AbstractScenario, where: tuple[int, int, int], block: sc.Block
                  ) -> list[ItemMaker]:
    if isinstance(block, sc.ShellBlock):
        command = block.shell.command
        if refusal := gemini_refusal("run_shell_command", {"command": command}, GEMINI_CWD):
            message = refusal.message
            return [lambda item_id: CommandExecution(id=item_id, status="failed",
                                                     command=command, exit_code=None,
                                                     output=message)]
        result = abstract.shell_result(*where)
        output = gemini_visible_output(result)
        return [lambda item_id: CommandExecution(
            id=item_id, status="completed" if result.exit_code == 0 else "failed",
            command=command, exit_code=result.exit_code, output=output)]
    if isinstance(block, sc.PatchBlock):
        spec = block.patch
        changes: list[ItemMaker] = [file_change_item(a.path, "add") for a in spec.add]
        changes += [_failed(file_change_item(u.path, "update"), gemini_refusal("replace", {
            "file_path": u.path, "old_string": u.old, "new_string": u.new}, GEMINI_CWD))
            for u in spec.update]
        changes += [_rm(rel, "") for rel in spec.delete]
        return changes
    refusal = None
    if isinstance(block, sc.PlanBlock):
        refusal = gemini_refusal("write_todos", {"todos": [
            {"description": e.text, "status": e.status} for e in block.plan]}, GEMINI_CWD)
    elif isinstance(block, sc.WebSearchBlock):
        refusal = gemini_refusal("google_web_search", {"query": block.web_search.query},
                                 GEMINI_CWD)
    return [_failed(lambda item_id: expected_item(abstract, where, block, item_id), refusal)]


def _failed(maker: ItemMaker, refusal: GeminiRefusal | None) -> ItemMaker:
    """The item of a call, failed when the CLI refused it."""
    if refusal is None:
        return maker
    return lambda item_id: maker(item_id).model_copy(update={"status": "failed"})
