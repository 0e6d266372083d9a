"""Gemini CLI's `streamGenerateContent` traffic, simulated (the gemini lane reads it:
gemini.http.yaml), and the rules Gemini CLI applies to tool calls and answers.

`gemini_exchanges(abstract)` plays Gemini CLI 0.61 against the Gemini responder, `gemini -p` then
`--resume` per run. With `general.maxAttempts: 1` a failed model call is made once and adds nothing
to the history. The rules (read in the CLI's bundle and checked live) are shared with the
stream-json renderer, `harness.testing.render.gemini_cli`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from harness import scenario as sc
from harness.contract.model import (
    AssistantMessage,
    CommandExecution,
    ErrorKind,
    FileChange,
    Item,
)
from harness.record.providers.gemini import MODEL as GEMINI_MODEL
from harness.record.providers.gemini import (
    GeminiResponder,
    Position,
    encode_chunks,
    gemini_steps,
    http_failure_first,
)
from harness.record.stub import Exchange, StubRequest
from harness.testing.abstract import (
    AbstractScenario,
    ItemMaker,
    ShellResult,
    expected_item,
    run_failure,
)
from harness.testing.render.common import (
    MAX_CALLS,
    SimulationError,
    content_blocks,
    file_change_item,
    js_trim,
    rm_item,
    sse_payloads,
    status_only_failures,
    streamed_item,
)

# ------------------------------------------------------------------------------ Gemini CLI rules
# What Gemini CLI 0.61.0 does with tool calls and answers, shared by the API simulator below and
# the stream-json renderer (`gemini_cli` beside this module): read in the bundle and checked
# live.


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
                for change in range(max(1, content_blocks(block, False))):
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
            makers.append(streamed_item(*stream))
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


def _gemini_items(abstract: AbstractScenario, where: tuple[int, int, int], block: sc.Block
                  ) -> list[ItemMaker]:
    if isinstance(block, sc.ShellBlock):
        command = block.shell.command
        if refusal := gemini_refusal("run_shell_command", {"command": command}, GEMINI_CWD):
            message = refusal.message
            return [lambda item_id: CommandExecution(id=item_id, status="failed",
                                                     command=command, exit_code=None,
                                                     output="", error=message)]
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
        changes += [rm_item(rel, "") for rel in spec.delete]
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
    """The item of a call, failed when the CLI refused it (a file change says why)."""
    if refusal is None:
        return maker

    def failed(item_id: str) -> Item:
        item = maker(item_id)
        update: dict[str, Any] = {"status": "failed"}
        if isinstance(item, FileChange):
            # as equivalence reads it: the session's workspace written as the template
            update["error"] = refusal.message.replace(GEMINI_CWD, "{workspace}")
        return item.model_copy(update=update)
    return failed
