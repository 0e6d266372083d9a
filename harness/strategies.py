"""Hypothesis strategies for native runtime streams, importable by users of the harness.

`from harness.strategies import codex_exec_streams` gives valid `codex exec --json` streams (bytes,
one JSON object per line) to property-test anything that reads them. Each strategy draws abstract
blocks first (a message, a command, a search, a turn, a run) and renders native lines from them
afterwards, so Hypothesis shrinks by removing whole blocks, never by producing broken lines.
The shapes follow Codex CLI 0.169 (`codex-rs/exec/src/exec_events.rs`), quirks included: item ids
restart at `item_0` in a resumed run, `web_search` items carry two `id` keys, commands are
shell-wrapped, usage is cumulative over the thread.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

from hypothesis import strategies as st

__all__ = ["codex_exec_streams", "unicode_text"]

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


def _blocks() -> st.SearchStrategy[Block]:
    return st.one_of(_message(), _command(), _file_change(), _mcp_call(), _collab_call(),
                     _web_search(), _todo_list(), _error_item(), _future_item())


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
def _turn(draw: st.DrawFn, max_blocks: int, ending: Ending | None = None) -> Turn:
    blocks = tuple(draw(st.lists(_blocks(), max_size=max_blocks)))
    tokens = [index for index, block in enumerate(blocks) for _ in block.segments]
    order = tuple(draw(st.permutations(tokens)))
    end: Ending = ending if ending is not None else draw(st.sampled_from(["completed", "failed"]))
    if end == "truncated":
        order = order[: draw(st.integers(0, len(order)))]
    return Turn(blocks, order, end, draw(st.sampled_from(FAILURE_MESSAGES)),
                draw(st.tuples(*[st.integers(0, 5000)] * 4)))


@st.composite
def _run(draw: st.DrawFn, max_turns: int, max_blocks: int) -> Run:
    turns = draw(st.lists(_turn(max_blocks), min_size=1, max_size=max_turns))
    if draw(st.booleans()):
        turns[-1] = draw(_turn(max_blocks, "truncated"))
    warning = draw(st.none() | st.just("Model metadata for `stub-model` not found."))
    return Run(warning, tuple(turns))


@st.composite
def codex_exec_streams(draw: st.DrawFn, *, max_runs: int = 3, max_turns: int = 3,
                       max_blocks: int = 6) -> bytes:
    """A valid `codex exec --json` stdout: one run, or a run and its resumes on the same thread
    (each `codex exec resume` prints `thread.started` again with the same id and restarts item
    ids); turns that complete, fail (a top-level `error` then `turn.failed`) or are cut off;
    items of every type interleaved in any order that keeps each item's own lines in order."""
    thread_id = "019a" + draw(st.text("0123456789abcdef", min_size=12, max_size=12))
    renderer = _Renderer(thread_id)
    for run in draw(st.lists(_run(max_turns, max_blocks), min_size=1, max_size=max_runs)):
        renderer.run(run)
    return "".join(line + "\n" for line in renderer.lines).encode("utf-8")
