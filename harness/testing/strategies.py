"""Hypothesis strategies for every lane's native input, importable by users of the harness.

Each gives bytes a lane reads, valid by construction, to property-test anything that reads them:

| strategy | draws | lane |
|---|---|---|
| `codex_exec_streams()` | `codex exec --json` stdout | codex-native |
| `responses_cassettes()` | Codex CLI's Responses SSE traffic (vcrpy cassette) | codex-adapter |
| `anthropic_cassettes()` | Claude Code's Messages SSE traffic (vcrpy cassette) | anthropic |
| `gemini_cassettes()` | Gemini CLI's `streamGenerateContent` SSE (vcrpy cassette) | gemini |
| `claude_code_streams()` | `claude -p --output-format stream-json` stdout | claude-code |
| `gemini_cli_streams()` | `gemini -p --output-format stream-json` stdout | gemini-cli |
| `codex_app_server_transcripts()` | a client's `codex app-server` transcript | codex-app-server |
| `acp_transcripts()` | a client's ACP transcript (`gemini --acp`) | acp |

`native_inputs(lane_id)` picks one by lane id. The invariant each docstring states: the lane
normalizes every draw in strict mode into a schema-valid log with no `unknown` item (tested in
tests/test_strategies.py). All but `codex_exec_streams` draw an abstract scenario
(`abstract_scenarios()`: provider-neutral runs, any unicode, large outputs, failed model calls,
resumes) and render it with `harness.testing.render`, so Hypothesis shrinks whole runs, steps and
blocks, never producing a broken line; `expected_log()` says what a perfect lane makes of a
scenario. `codex_exec_streams` draws Codex items directly, in any interleaving, and renders them
as Codex CLI 0.169 prints them (`codex-rs/exec/src/exec_events.rs`), quirks included: item ids
restart at `item_0` in a resumed run, `web_search` items carry two `id` keys, commands are
shell-wrapped, usage is cumulative over the thread.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

from harness import scenario as sc
from harness.conformance.equivalence import unwrap_command
from harness.contract.model import PlanStatus
from harness.record.cassette import render_http_cassette
from harness.record.stub import Exchange
from harness.testing import missing_extra
from harness.testing.abstract import (
    AbstractScenario,
    ShellResult,
    expected_failures,
    expected_items,
    expected_log,
    expected_log_of,
    failure_kind,
    run_failure,
)
from harness.testing.render.acp import acp_transcript
from harness.testing.render.claude import claude_exchanges
from harness.testing.render.claude_code import claude_stream_lines
from harness.testing.render.codex import codex_exchanges
from harness.testing.render.codex_app_server import app_server_transcript
from harness.testing.render.gemini import gemini_exchanges
from harness.testing.render.gemini_cli import gemini_stream_lines

try:
    from hypothesis import strategies as st
except ImportError:
    raise missing_extra("hypothesis", "harness.testing.strategies") from None

__all__ = ["NATIVE_INPUTS", "AbstractScenario", "ShellResult", "abstract_scenarios",
           "acp_transcripts", "anthropic_cassettes", "claude_code_streams",
           "codex_app_server_transcripts", "codex_exec_streams", "expected_failures",
           "expected_items", "expected_log", "expected_log_of", "failure_kind",
           "gemini_cassettes", "gemini_cli_streams", "native_inputs", "responses_cassettes",
           "run_failure", "unicode_text"]

Segment = Callable[[str], str]
"""One native line of an item, rendered once the item's `item_N` id is known."""


def unicode_text(max_size: int = 40) -> st.SearchStrategy[str]:
    """Any text that UTF-8 can carry (no lone surrogates), newlines and controls included."""
    return st.text(st.characters(codec="utf-8"), max_size=max_size)


def _large_text() -> st.SearchStrategy[str]:
    """Large outputs (up to ~80 kB), as Codex prints them for chatty commands."""
    return st.builds(lambda unit, n: unit * n, st.sampled_from(["x", "é", "日本\n", "🙂"]),
                     st.integers(2_000, 20_000))


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _event(etype: str, item_id: str, body: dict[str, Any]) -> str:
    """An item event; `item.id` leads the item object, as serde prints it (flattened payload)."""
    return f'{{"type":{_dumps(etype)},"item":{{"id":{_dumps(item_id)},{_dumps(body)[1:]}}}'


# ------------------------------------------------------------------------------ abstract blocks


@dataclass(frozen=True)
class Block:
    """One native item: its lines in order, each waiting for the item id."""

    segments: tuple[Segment, ...]


def _segment(etype: str, body: dict[str, Any]) -> Segment:
    def render(item_id: str) -> str:
        return _event(etype, item_id, body)
    return render


def _completed_only(body: dict[str, Any]) -> Block:
    return Block((_segment("item.completed", body),))


def _with_start(start: dict[str, Any], end: dict[str, Any], started: bool) -> Block:
    done = _segment("item.completed", end)
    return Block((_segment("item.started", start), done) if started else (done,))


@st.composite
def _message(draw: st.DrawFn) -> Block:
    text = draw(st.one_of(unicode_text(), _large_text()))
    return _completed_only({"type": draw(st.sampled_from(["agent_message", "reasoning"])),
                            "text": text})


@st.composite
def _command(draw: st.DrawFn) -> Block:
    command = "/bin/bash -lc " + shlex.quote(draw(unicode_text(30)))
    output = draw(st.one_of(unicode_text(), _large_text()))
    status = draw(st.sampled_from(["completed", "failed", "declined"]))
    exit_code = None if status == "declined" else draw(st.integers(-1, 255))
    start = {"type": "command_execution", "command": command, "aggregated_output": "",
             "exit_code": None, "status": "in_progress"}
    end = {**start, "aggregated_output": output, "exit_code": exit_code, "status": status}
    return _with_start(start, end, draw(st.booleans()))


@st.composite
def _file_change(draw: st.DrawFn) -> Block:
    changes = draw(st.lists(st.fixed_dictionaries({
        "path": st.builds(lambda name: f"/tmp/ws/{name}", unicode_text(12).filter(
            lambda s: "/" not in s and s.strip() != "")),
        "kind": st.sampled_from(["add", "delete", "update"]),
    }), min_size=1, max_size=3))
    status = draw(st.sampled_from(["completed", "failed"]))
    return _completed_only({"type": "file_change", "changes": changes, "status": status})


@st.composite
def _mcp_call(draw: st.DrawFn) -> Block:
    base: dict[str, Any] = {
            "type": "mcp_tool_call", "server": draw(st.sampled_from(["demo", "files"])),
            "tool": draw(st.sampled_from(["echo", "read_file"])),
            "arguments": {"text": draw(unicode_text(20))}, "result": None, "error": None,
            "status": "in_progress"}
    if draw(st.booleans()):
        end = {**base, "status": "completed",
               "result": {"content": [{"type": "text", "text": draw(unicode_text())}],
                          "structured_content": None}}
    else:
        end = {**base, "status": "failed", "error": {"message": draw(unicode_text())}}
    return _with_start(base, end, draw(st.booleans()))


@st.composite
def _collab_call(draw: st.DrawFn) -> Block:
    base: dict[str, Any] = {"type": "collab_tool_call",
            "tool": draw(st.sampled_from(["spawn_agent", "send_input", "wait", "close_agent"])),
            "sender_thread_id": "thr_parent", "receiver_thread_ids": ["thr_child"],
            "prompt": draw(st.none() | unicode_text()), "agents_states": {},
            "status": "in_progress"}
    end = {**base, "status": draw(st.sampled_from(["completed", "failed"])),
           "agents_states": {"thr_child": {"status": "completed", "message": None}}}
    return _with_start(base, end, draw(st.booleans()))


@st.composite
def _web_search(draw: st.DrawFn) -> Block:
    """Two `id` keys in one object: Codex's `item_N`, then the provider's search id (unique per
    search: derived from the item number, as no two searches of a run share one)."""
    prefix = "ws_" + draw(st.text("0123456789abcdef", min_size=6, max_size=6))
    query = draw(unicode_text())
    start = {"type": "web_search", "query": "", "action": {"type": "other"}}
    end = {**start, "query": query, "action": {"type": "search", "query": query}}

    def search(etype: str, body: dict[str, Any]) -> Segment:
        def render(item_id: str) -> str:
            ws_id = prefix + item_id.removeprefix("item_")
            return _event(etype, item_id, {"type": "web_search", "id": ws_id, **body})
        return render

    started = draw(st.booleans())
    done = search("item.completed", end)
    return Block((search("item.started", start), done) if started else (done,))


@st.composite
def _todo_list(draw: st.DrawFn) -> Block:
    steps = draw(st.lists(unicode_text(20), min_size=1, max_size=4))
    states = draw(st.lists(st.lists(st.booleans(), min_size=len(steps), max_size=len(steps)),
                           min_size=1, max_size=3))
    bodies = [{"type": "todo_list", "items": [{"text": t, "completed": c}
                                              for t, c in zip(steps, done, strict=True)]}
              for done in states]
    return Block((_segment("item.started", bodies[0]),
                  *(_segment("item.updated", body) for body in bodies[1:]),
                  _segment("item.completed", bodies[-1])))


@st.composite
def _error_item(draw: st.DrawFn) -> Block:
    return _completed_only({"type": "error", "message": draw(unicode_text())})


@st.composite
def _future_item(draw: st.DrawFn) -> Block:
    """An item type this Codex does not print yet: lanes must keep it, not drop it."""
    return _completed_only({"type": "hologram", "beam": draw(st.integers(0, 9)),
                            "note": draw(unicode_text(10))})


def _blocks(future_items: bool) -> st.SearchStrategy[Block]:
    known = st.one_of(_message(), _command(), _file_change(), _mcp_call(), _collab_call(),
                      _web_search(), _todo_list(), _error_item())
    return known | _future_item() if future_items else known


# ------------------------------------------------------------------------------ turns and runs

Ending = Literal["completed", "failed", "truncated"]

FAILURE_MESSAGES = (
    "We're currently experiencing high demand, which may cause temporary errors.",
    "exceeded retry limit, last status: 429 Too Many Requests",
    "stream disconnected before completion: stream closed before response.completed",
    "stream disconnected before completion: The server had an error processing your request.",
)
"""`turn.failed` messages Codex prints for HTTP 500, 429, a cut stream and `response.failed`."""


@dataclass(frozen=True)
class Turn:
    blocks: tuple[Block, ...]
    order: tuple[int, ...]
    """Which block's next line comes next: any interleaving that keeps each block's own order."""
    ending: Ending
    failure: str
    tokens: tuple[int, int, int, int]


@dataclass(frozen=True)
class Run:
    warning: str | None
    """An `error` item before `turn.started` (Codex's warning about unknown model metadata)."""
    turns: tuple[Turn, ...]


@dataclass
class _Renderer:
    thread_id: str
    lines: list[str] = field(default_factory=list)
    totals: list[int] = field(default_factory=lambda: [0, 0, 0, 0])

    def run(self, run: Run) -> None:
        self.lines.append(_dumps({"type": "thread.started", "thread_id": self.thread_id}))
        ids = iter(f"item_{n}" for n in range(10**9))
        if run.warning is not None:
            self.lines.append(_event("item.completed", next(ids), {"type": "error",
                                                                   "message": run.warning}))
        for turn in run.turns:
            self.turn(turn, ids)
            if turn.ending == "truncated":
                return

    def turn(self, turn: Turn, ids: Iterator[str]) -> None:
        self.lines.append(_dumps({"type": "turn.started"}))
        assigned: dict[int, str] = {}
        progress = [0] * len(turn.blocks)
        for index in turn.order:
            block = turn.blocks[index]
            if index not in assigned:
                assigned[index] = next(ids)
            self.lines.append(block.segments[progress[index]](assigned[index]))
            progress[index] += 1
        if turn.ending == "completed":
            self.totals = [a + b for a, b in zip(self.totals, turn.tokens, strict=True)]
            names = ("input_tokens", "cached_input_tokens", "output_tokens",
                     "reasoning_output_tokens")
            usage = dict(zip(names, self.totals, strict=True))
            self.lines.append(_dumps({"type": "turn.completed", "usage": usage}))
        elif turn.ending == "failed":
            self.lines.append(_dumps({"type": "error", "message": turn.failure}))
            self.lines.append(_dumps({"type": "turn.failed", "error": {"message": turn.failure}}))


@st.composite
def _turn(draw: st.DrawFn, max_blocks: int, future_items: bool, ending: Ending | None = None
          ) -> Turn:
    blocks = tuple(draw(st.lists(_blocks(future_items), max_size=max_blocks)))
    tokens = [index for index, block in enumerate(blocks) for _ in block.segments]
    order = tuple(draw(st.permutations(tokens)))
    end: Ending = ending if ending is not None else draw(st.sampled_from(["completed", "failed"]))
    if end == "truncated":
        order = order[: draw(st.integers(0, len(order)))]
    return Turn(blocks, order, end, draw(st.sampled_from(FAILURE_MESSAGES)),
                draw(st.tuples(*[st.integers(0, 5000)] * 4)))


@st.composite
def _run(draw: st.DrawFn, max_turns: int, max_blocks: int, future_items: bool) -> Run:
    turns = draw(st.lists(_turn(max_blocks, future_items), min_size=1, max_size=max_turns))
    if draw(st.booleans()):
        turns[-1] = draw(_turn(max_blocks, future_items, "truncated"))
    warning = draw(st.none() | st.just("Model metadata for `stub-model` not found."))
    return Run(warning, tuple(turns))


@st.composite
def codex_exec_streams(draw: st.DrawFn, *, max_runs: int = 3, max_turns: int = 3,
                       max_blocks: int = 6, future_items: bool = True) -> bytes:
    """A valid `codex exec --json` stdout (bytes, one JSON object a line), for the codex-native
    lane: one run, or a run and its resumes on the same thread (each `codex exec resume` prints
    `thread.started` again with the same id and restarts item ids); turns that complete, fail (a
    top-level `error` then `turn.failed`) or are cut off; items of every type interleaved in any
    order that keeps each item's own lines in order; with `future_items`, also items of a type
    this Codex does not print yet.

    Invariant: `lanes.codex_native` normalizes every draw in strict mode into a schema-valid log;
    its only `unknown` items are the future items (none with `future_items=False`)."""
    thread_id = "019a" + draw(st.text("0123456789abcdef", min_size=12, max_size=12))
    renderer = _Renderer(thread_id)
    for run in draw(st.lists(_run(max_turns, max_blocks, future_items), min_size=1,
                             max_size=max_runs)):
        renderer.run(run)
    return "".join(line + "\n" for line in renderer.lines).encode("utf-8")


# ------------------------------------------------------------------------------ abstract scenarios

def _sometimes_huge(small: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """Mostly `small`; about one draw in twenty a large text of 10 kB to ~1 MB."""
    huge = st.builds(lambda unit, n: unit * n, st.sampled_from(["x", "é", "日本\n", "🙂 "]),
                     st.integers(10_000, 250_000))
    return st.integers(0, 19).flatmap(lambda pick: huge if pick == 0 else small)


_NAME = st.from_regex(r"[a-z][a-z0-9]{0,7}", fullmatch=True)
_PATH = st.lists(st.from_regex(r"[a-z0-9é日_-]{1,8}", fullmatch=True), min_size=1,
                 max_size=3).map("/".join)


def _command_text() -> st.SearchStrategy[str]:
    """A command that no shell wrapper hides (the equivalence unwraps `bash -lc`, so a drawn
    `sh -c x` would compare as `x` on one side only)."""
    return unicode_text(30).filter(lambda c: c.strip() != "" and unwrap_command(c) == c.strip())


def _text_blocks() -> st.SearchStrategy[sc.TextBlock | sc.ReasoningBlock]:
    """Messages and reasoning; readable reasoning has some text (a summary with none is what
    providers send for opaque reasoning, so lanes rightly read it as encrypted)."""
    text = st.builds(sc.TextBlock, text=unicode_text(60))
    reasoning = st.builds(lambda t, e: sc.ReasoningBlock(reasoning=sc.ReasoningSpec(
        text=t, encrypted=e)), unicode_text(60).filter(lambda t: t.strip() != ""), st.booleans())
    return st.one_of(text, reasoning)


@st.composite
def _patch(draw: st.DrawFn) -> sc.PatchBlock:
    paths = draw(st.lists(_PATH, min_size=1, max_size=4, unique=True))
    kinds = draw(st.lists(st.sampled_from(["add", "update", "delete"]), min_size=len(paths),
                          max_size=len(paths)))
    content = unicode_text(40)
    spec = sc.PatchSpec(
        add=[sc.FileAdd(path=p, content=draw(content)) for p, k in zip(paths, kinds, strict=True)
             if k == "add"],
        update=[sc.FileUpdate(path=p, old=draw(content), new=draw(content))
                for p, k in zip(paths, kinds, strict=True) if k == "update"],
        delete=[p for p, k in zip(paths, kinds, strict=True) if k == "delete"])
    return sc.PatchBlock(patch=spec)


def _tool_blocks() -> st.SearchStrategy[sc.Block]:
    shell = st.builds(lambda c: sc.ShellBlock(shell=sc.ShellSpec(command=c)), _command_text())
    mcp = st.builds(lambda s, t, a: sc.McpBlock(mcp=sc.McpSpec(server=s, tool=t, arguments=a)),
                    _NAME, _NAME, st.dictionaries(_NAME, unicode_text(20) | st.integers(),
                                                  max_size=3))
    plan = st.builds(lambda entries: sc.PlanBlock(plan=entries), st.lists(st.builds(
        sc.PlanEntrySpec, text=unicode_text(20),
        status=st.sampled_from(get_args(PlanStatus))), min_size=1, max_size=4))
    return st.one_of(shell, _patch(), mcp, plan)


@st.composite
def _tool_step(draw: st.DrawFn) -> list[sc.Block]:
    """Reasoning and text first, an optional web search, then the calls the runtime executes:
    the order a model streams them, so every lane completes the items in block order."""
    said: list[sc.Block] = list(draw(st.lists(_text_blocks(), max_size=2)))
    if draw(st.booleans()):
        said.append(sc.WebSearchBlock(web_search=sc.WebSearchSpec(query=draw(unicode_text(30)))))
    return said + list(draw(st.lists(_tool_blocks(), min_size=1, max_size=3)))


FAILURE_STATUSES = (429, 500, 503, 529)
"""HTTP statuses a failed model call answers: rate limited, server error, unavailable and
Anthropic's overloaded (all of them retryable, so every runtime's retry policy shows)."""

STREAM_ERRORS = ("server_error", "rate_limit_exceeded", "overloaded")
"""`stream_error` codes of a stream that starts and then reports failure."""

SCRIPTED_FAILURES = (
    "The server had an error while processing your request.",
    "Rate limit reached for requests. Please try again in 1s.",
    "Überlastet: bitte später erneut versuchen 🙂",
)
"""Error messages of failure steps: fixed texts, because Codex's lane classifies `turn.failed`
by message and a drawn text could spell another error's words."""


def _failure() -> st.SearchStrategy[sc.FailStep]:
    """A failed model call: an HTTP error status, or a stream that starts and then fails."""
    http = st.builds(lambda status, message: sc.FailStep(fail=sc.FailureSpec(
        http_status=status, message=message)), st.sampled_from(FAILURE_STATUSES),
        st.sampled_from(SCRIPTED_FAILURES))
    stream = st.builds(lambda code, message: sc.FailStep(fail=sc.FailureSpec(
        stream_error=code, message=message)), st.sampled_from(STREAM_ERRORS),
        st.sampled_from(SCRIPTED_FAILURES))
    return st.one_of(http, stream)


@st.composite
def _scenario_run(draw: st.DrawFn, index: int, max_steps: int) -> sc.Run:
    """Tool steps, then a final answer, or (one run in four) a failed model call instead."""
    steps: list[sc.Step] = list(draw(st.lists(_tool_step(), max_size=max_steps)))
    if draw(st.integers(0, 3)) == 0:
        steps.append(draw(_failure()))
    else:
        steps.append(list(draw(st.lists(_text_blocks(), min_size=1, max_size=3))))
    prompt = f"⟦run {index}⟧ " + draw(unicode_text(30))
    return sc.Run(prompt=prompt, steps=steps)


@st.composite
def abstract_scenarios(draw: st.DrawFn, *, max_runs: int = 3,
                       max_steps: int = 3) -> AbstractScenario:
    """One to `max_runs` runs of one turn each (later runs resume the thread, a failed one too);
    each run's steps are model answers whose tool calls are all answered, ending in an answer
    without calls or in a failed model call (`_failure`). Texts are any unicode; command outputs
    are occasionally large (up to ~1 MB)."""
    count = draw(st.integers(1, max_runs))
    runs = [draw(_scenario_run(n, max_steps)) for n in range(count)]
    results: dict[tuple[int, int, int], ShellResult] = {}
    for r, run in enumerate(runs):
        for s, step in enumerate(run.steps):
            for b, block in enumerate(step if isinstance(step, list) else []):
                if isinstance(block, sc.ShellBlock):
                    code = draw(st.sampled_from([0, 0, 1, 2, 127]) | st.integers(0, 255))
                    results[(r, s, b)] = ShellResult(code, draw(_sometimes_huge(unicode_text())))
    scenario = sc.Scenario(name="roundtrip", description="drawn by abstract_scenarios()",
                           runs=runs,
                           expect=sc.Expect(turns=[_expected_turn(run) for run in runs]))
    return AbstractScenario(scenario, results)


def _expected_turn(run: sc.Run) -> sc.ExpectedTurn:
    failure = run_failure(run)
    if failure is None:
        return sc.ExpectedTurn()
    return sc.ExpectedTurn(outcome="failed", error_kind=failure_kind(failure))




# ------------------------------------------------------------------------------ every lane's input
# Each draws an abstract scenario and renders it with `harness.testing.render`: Hypothesis shrinks
# the scenario (whole runs, steps and blocks), so a failing input shrinks to a small valid one.


def _rendered(render: Callable[[AbstractScenario], bytes], max_runs: int, max_steps: int
              ) -> st.SearchStrategy[bytes]:
    return abstract_scenarios(max_runs=max_runs, max_steps=max_steps).map(render)


def _cassette(exchanges: Callable[[AbstractScenario], list[Exchange]]
              ) -> Callable[[AbstractScenario], bytes]:
    return lambda abstract: render_http_cassette(exchanges(abstract)).encode("utf-8")


def claude_code_streams(*, max_runs: int = 3, max_steps: int = 3) -> st.SearchStrategy[bytes]:
    """`claude -p --output-format stream-json --verbose` stdout of Claude Code 2.1.328 (bytes,
    one JSON object a line; `claude-code.jsonl`) for a drawn scenario: a `claude -p` and a
    `--resume` per further run, each `system/init`, one `assistant` line per content block
    (text, thinking, Bash, Write, Edit, Read, TodoWrite, WebSearch and MCP calls), one `user`
    line per tool result, `result` last; a failed model call as Claude Code prints it
    (`system/api_retry`, the synthetic API-error message, an error `result`).

    Invariant: `lanes.claude_code` normalizes every draw in strict mode into a schema-valid log
    with no `unknown` item (for the drawn scenario `s`, the items of
    `render.claude_code.claude_code_view(s)`)."""
    return _rendered(claude_stream_lines, max_runs, max_steps)


def gemini_cli_streams(*, max_runs: int = 3, max_steps: int = 3) -> st.SearchStrategy[bytes]:
    """`gemini -p --output-format stream-json` stdout of Gemini CLI 0.61 (bytes, one JSON object
    a line; `gemini-cli.jsonl`) for a drawn scenario: `init`, the user `message`, assistant
    `message` deltas, `tool_use` / `tool_result` pairs (shell, file, todo, web search and MCP
    tools, refused calls included), `result` last, per run; failed model calls and unusable
    answers as the CLI prints them (`error` lines, an error `result`).

    Invariant: `lanes.gemini_cli` normalizes every draw in strict mode into a schema-valid log
    with no `unknown` item (for the drawn scenario `s`, `render.gemini_cli.gemini_cli_view(s)`)."""
    return _rendered(gemini_stream_lines, max_runs, max_steps)


def anthropic_cassettes(*, max_runs: int = 3, max_steps: int = 3) -> st.SearchStrategy[bytes]:
    """A vcrpy cassette (YAML bytes; `claude.http.yaml`) of Claude Code 2.1.328's Anthropic
    Messages traffic for a drawn scenario: every request as Claude Code grows it, every answer
    an SSE stream (`message_start` ... `message_stop`: text, thinking, tool_use and server web
    search blocks), failed calls as HTTP errors (429/500/503/529, re-sent once) or streams that
    break with an `error` event.

    Invariant: `lanes.anthropic` normalizes every draw (written to a file, or as the input
    stream) in strict mode into a schema-valid log with no `unknown` item (for the drawn
    scenario `s`, `render.claude.anthropic_view(s)`)."""
    return _rendered(_cassette(claude_exchanges), max_runs, max_steps)


def responses_cassettes(*, max_runs: int = 3, max_steps: int = 3) -> st.SearchStrategy[bytes]:
    """A vcrpy cassette (YAML bytes; `codex.http.yaml`) of Codex CLI 0.169's OpenAI Responses
    traffic for a drawn scenario: `codex exec` then `codex exec resume` per run, every answer an
    SSE stream (`response.created` ... `response.completed`: messages, reasoning, function,
    custom tool, tool search and web search calls), failed calls as HTTP errors or
    `response.failed`.

    Invariant: `lanes.codex_adapter` normalizes every draw in strict mode into a schema-valid
    log with no `unknown` item (for the drawn scenario `s`, `expected_log(s)`)."""
    return _rendered(_cassette(codex_exchanges), max_runs, max_steps)


def gemini_cassettes(*, max_runs: int = 3, max_steps: int = 3) -> st.SearchStrategy[bytes]:
    """A vcrpy cassette (YAML bytes; `gemini.http.yaml`) of Gemini CLI 0.61's
    `streamGenerateContent?alt=sse` traffic for a drawn scenario: every answer an SSE stream of
    `GenerateContentResponse` chunks (text, thoughts, functionCall parts), grounded web search
    side calls, failed calls as HTTP errors or streams cut by an error object.

    Invariant: `lanes.gemini` normalizes every draw in strict mode into a schema-valid log with
    no `unknown` item (for the drawn scenario `s`, `render.gemini.gemini_view(s)`)."""
    return _rendered(_cassette(gemini_exchanges), max_runs, max_steps)


def codex_app_server_transcripts(*, max_runs: int = 3, max_steps: int = 3
                                 ) -> st.SearchStrategy[bytes]:
    """A client's transcript of `codex app-server` (Codex CLI 0.169; bytes, one
    `{"dir": "in"|"out", "msg": {...}}` JSON-RPC line each; `codex-app-server.jsonl`) for a
    drawn scenario: per run one app-server process (`initialize`, `thread/start` or
    `thread/resume`, `turn/start`), every block a thread item (started, streamed by deltas,
    completed), plans as `turn/plan/updated`, usage updates, `turn/completed`; a failed model
    call as an `error` notification and a failed turn with Codex's `codexErrorInfo`.

    Invariant: `lanes.codex_app_server` normalizes every draw in strict mode into a
    schema-valid log with no `unknown` item (for the drawn scenario `s`,
    `render.codex_app_server.app_server_view(s)`)."""
    return _rendered(app_server_transcript, max_runs, max_steps)


def acp_transcripts(*, max_runs: int = 3, max_steps: int = 3) -> st.SearchStrategy[bytes]:
    """A client's transcript of an Agent Client Protocol v1 agent speaking as Gemini CLI's
    `--acp` does (bytes, one `{"dir": "in"|"out", "msg": {...}}` JSON-RPC 2.0 line each;
    `gemini-acp.jsonl`) for a drawn scenario: per run `initialize`, `session/new` or a
    `session/load` that replays the earlier runs, `session/prompt`, its `session/update`s
    (message and thought chunks, tool calls and their updates with `rawInput`/`rawOutput`,
    plans) and its answer; a failed model call as an error answer.

    Invariant: `lanes.acp` normalizes every draw in strict mode into a schema-valid log with no
    `unknown` item (for the drawn scenario `s`, `render.acp.acp_view(s)`)."""
    return _rendered(acp_transcript, max_runs, max_steps)


NATIVE_INPUTS: dict[str, Callable[[], st.SearchStrategy[bytes]]] = {
    "codex-native": lambda: codex_exec_streams(future_items=False),
    "codex-adapter": responses_cassettes,
    "anthropic": anthropic_cassettes,
    "gemini": gemini_cassettes,
    "claude-code": claude_code_streams,
    "gemini-cli": gemini_cli_streams,
    "codex-app-server": codex_app_server_transcripts,
    "acp": acp_transcripts,
}
"""Lane id -> the strategy of its native input, each with its defaults."""


def native_inputs(lane: str) -> st.SearchStrategy[bytes]:
    """Native input for the lane `lane` (a lane id, e.g. `claude-code`), drawn by that lane's
    strategy above. Invariant: the lane normalizes every draw in strict mode into a
    schema-valid log with no `unknown` item."""
    try:
        return NATIVE_INPUTS[lane]()
    except KeyError:
        raise ValueError(f"no strategy for lane {lane!r}; strategies exist for "
                         f"{', '.join(sorted(NATIVE_INPUTS))}") from None
