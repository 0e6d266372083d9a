"""Claude Code's Anthropic Messages traffic, simulated (the anthropic lane reads it:
claude.http.yaml), and what Claude Code's tools hand the model.

`claude_exchanges(abstract)` plays Claude Code 2.1.328 against the Anthropic responder, `claude -p`
then `--resume` per run, request shapes as recorded. With `CLAUDE_CODE_MAX_RETRIES=1` an HTTP error
is re-sent once and a broken stream once without streaming; the failed call adds nothing to the
history. The Bash rules (`bash_result` and its parts) are Claude Code's, seen live
(tests/test_roundtrip_claude_live.py); `harness.testing.render.claude_code` renders the same
conversation as `claude -p --output-format stream-json` prints it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from harness import scenario as sc
from harness.contract.model import CommandExecution, ToolCall
from harness.record.providers.anthropic import DUMMY_API_KEY as DUMMY_ANTHROPIC_KEY
from harness.record.providers.anthropic import AnthropicResponder, WireMessage, expand_step
from harness.record.stub import Exchange, StubReply, StubRequest
from harness.testing.abstract import AbstractScenario, ItemMaker, ShellResult, expected_item
from harness.testing.render.common import (
    JS_WHITESPACE,
    MAX_CALLS,
    SimulationError,
    content_blocks,
    file_change_item,
    js_trim_end,
    rm_item,
    sse_payloads,
)

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
        owners += [b] * content_blocks(block, split)
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
    """A `Read` of `path`; the workspace is written `{workspace}`, as the equivalence reads the
    lane's absolute path under the session cwd (the view's session has no cwd)."""
    shown = path.replace(CLAUDE_CWD, "{workspace}", 1)
    return lambda item_id: ToolCall(id=item_id, status="completed", name="Read",
                                    arguments={"file_path": shown})


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
        changes += [rm_item(rel, BASH_EMPTY) for rel in spec.delete]
        return changes
    return [lambda item_id: expected_item(abstract, where, block, item_id)]
