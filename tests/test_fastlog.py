"""The JSONL lanes' fast path (harness.contract.fastlog, `LaneSpec.normalize_lines`) writes
byte for byte what the pydantic path writes, and fails where it fails, with the same error.

Proved three ways for every lane that has a fast path: over drawn native streams (the lane's
strategy in harness.testing.strategies), over the same streams with one line broken in a way the
fast path must hand back to the pydantic path (bad UTF-8, a number orjson reads as a float, a
field the Structs do not know, a wrong type, a duplicated key, ...), and over every native file
of the catalog and every shape fixture, strict and lenient. The fast path is also shown to take
the lines it models (a fast path that handed everything back would pass the identity tests and
be no faster), to refuse each kind of line it must not take, and `harness normalize` is shown to
use it.
"""

from __future__ import annotations

import dataclasses
import io
import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import msgspec
import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from harness.cli import main
from harness.contract import fastlog
from harness.contract.errors import LaneError
from harness.contract.lane import LaneInput, LaneSpec, RunContext, available_lanes
from harness.contract.model import CommandExecution, ItemUpdated, dump_event_line
from harness.contract.runmeta import recorded_context
from harness.testing.strategies import native_inputs
from tests.lanekit import scaled

ROOT = Path(__file__).resolve().parents[1]
SHAPES = ROOT / "tests" / "data" / "shapes"
FAST_LANES: dict[str, LaneSpec] = {
    lane_id: lane for lane_id, lane in available_lanes().items()
    if lane.normalize_lines is not None and lane.input_kind == "jsonl"}
"""The JSONL lanes' fast paths (the API lanes' writer is tests/test_api_lines.py's)."""


Outcome = tuple[list[bytes], str | None]
"""What a run wrote (one entry per log line) and the error that ended it, if any."""


def _lines(chunks: Iterator[bytes]) -> Outcome:
    written: list[bytes] = []
    try:
        for chunk in chunks:
            written.extend(chunk.splitlines(keepends=True))
    except LaneError as exc:
        return written, f"{type(exc).__name__}: {exc}"
    return written, None


def pydantic_path(lane: LaneSpec, data: bytes, context: RunContext,
                  name: str = "stream.jsonl") -> Outcome:
    source = LaneInput(stream=io.BytesIO(data), name=name)
    return _lines(dump_event_line(event) for event in lane.normalize(source, context))


def fast_path(lane: LaneSpec, data: bytes, context: RunContext,
              name: str = "stream.jsonl") -> Outcome:
    assert lane.normalize_lines is not None
    return _lines(lane.normalize_lines(LaneInput(stream=io.BytesIO(data), name=name), context))


def assert_same(lane: LaneSpec, data: bytes, context: RunContext) -> Outcome:
    """Both paths write the same lines and end with the same error (or none)."""
    slow = pydantic_path(lane, data, context)
    fast = fast_path(lane, data, context)
    assert fast[1] == slow[1]
    assert fast[0] == slow[0]
    return fast


def assert_same_strict_and_lenient(lane: LaneSpec, data: bytes) -> None:
    for lenient in (False, True):
        assert_same(lane, data, RunContext(lenient=lenient))


def test_the_jsonl_lanes_have_a_fast_path() -> None:
    assert "codex-native" in FAST_LANES
    assert all(lane.input_kind == "jsonl" for lane in FAST_LANES.values())


# ------------------------------------------------------------------------------ drawn streams

def _at(key: str, insert: bytes) -> Callable[[bytes], bytes]:
    """Insert `insert` right after the first `"key":` of a line (any spacing)."""
    pattern = re.compile(b'"' + key.encode() + rb'":\s*')
    return lambda line: pattern.sub(lambda m: m.group(0) + insert, line, count=1)


def _into(key: str, insert: bytes) -> Callable[[bytes], bytes]:
    """Insert `insert` at the start of the first `"key":` string value of a line."""
    pattern = re.compile(b'"' + key.encode() + rb'":\s*"')
    return lambda line: pattern.sub(lambda m: m.group(0) + insert, line, count=1)


def _as(key: str, value: bytes) -> Callable[[bytes], bytes]:
    """Replace the first `"key":` string value of a line by `value`."""
    pattern = re.compile(b'"' + key.encode() + rb'":\s*"(?:[^"\\]|\\.)*"')
    return lambda line: pattern.sub(lambda m: b'"' + key.encode() + b'":' + value, line,
                                    count=1)


def _num(key: str, value: bytes) -> Callable[[bytes], bytes]:
    """Replace the first `"key":` number or null of a line by `value`."""
    pattern = re.compile(b'"' + key.encode() + rb'":\s*(?:-?\d+|null)')
    return lambda line: pattern.sub(lambda m: b'"' + key.encode() + b'":' + value, line,
                                    count=1)


def _after(opening: bytes, insert: bytes) -> Callable[[bytes], bytes]:
    """Insert `insert` after the first match of the regex `opening` (an object's `{`)."""
    pattern = re.compile(opening)
    return lambda line: pattern.sub(lambda m: m.group(0) + insert, line, count=1)


def _both(*breaks: Callable[[bytes], bytes]) -> Callable[[bytes], bytes]:
    def broken(line: bytes) -> bytes:
        for one in breaks:
            line = one(line)
        return line
    return broken


BREAKS: dict[str, Callable[[bytes], bytes]] = {
    "invalid UTF-8 in a text": _both(_into("text", b"\xff"), _into("aggregated_output", b"\xc3"),
                                     _into("content", b"\xed\xa0\x80"), _into("output", b"\xe6"),
                                     _into("stdout", b"\xf0\x9f"), _into("thinking", b"\x80")),
    "number orjson reads as a float": _both(_num("exit_code", b"18446744073709551616"),
                                            _num("input_tokens", b"99999999999999999999")),
    "unsigned top half": _num("exit_code", b"10000000000000000000"),
    "infinite number in a free-form value": _after(rb'"arguments":\s*\{', b'"inf":1e400,'),
    "infinite number in a field the lane does not read": _after(rb'"usage":\s*\{',
                                                                b'"inf":-1e400,'),
    "bad UTF-8 in a field the lane does not read": _into("uuid", b"\xff"),
    "unknown field": _after(rb"^\{", b'"future":"\xff",'),
    "unknown field in the item": _after(rb'"item":\s*\{', b'"extra":1e999,'),
    "wrong type": _both(_as("text", b"5"), _as("status", b"true")),
    "escaped text": _both(_into("text", b"\\u00e9\\/\\ud83d\\ude00\\n"),
                          _into("aggregated_output", b"\\u0001\\\\u\\t"),
                          _into("content", b"\\/\\u00e9"), _into("output", b"\\\\u\\u0041"),
                          _into("stdout", b"\\u00e9\\n"), _into("thinking", b"\\/")),
    "lone surrogate": _into("text", b"\\ud800"),
    "duplicated type": _at("type", b'"item.x", "type": '),
    "duplicated id": _at("id", b'7, "id": '),
    "not JSON": lambda line: line[: len(line) // 2],
    "blank": lambda line: b" \t\x0b",
    "CRLF": lambda line: line + b"\r",
    "deep free-form value": _after(rb'"arguments":\s*\{',
                                   b'"deep":' + b"[" * 300 + b"]" * 300 + b","),
}
"""Ways to break one native line; each must go to the pydantic path (and fail or not as it
does there). Most apply to the keys of one lane or event only and leave other lines as they
are, which is fine: every line unchanged is checked too."""


def _json_lines(data: bytes) -> list[bytes]:
    return data.split(b"\n")


@pytest.mark.parametrize("lenient", [False, True], ids=["strict", "lenient"])
@pytest.mark.parametrize("lane_id", sorted(FAST_LANES))
def test_drawn_streams_are_written_the_same(lane_id: str, lenient: bool) -> None:
    lane = FAST_LANES[lane_id]

    @settings(max_examples=scaled(60), deadline=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(native_inputs(lane_id))
    def check(data: bytes) -> None:
        written, error = assert_same(lane, data, RunContext(lenient=lenient))
        assert error is None  # the strategies draw valid streams
        assert written

    check()


@pytest.mark.parametrize("how", sorted(BREAKS))
@pytest.mark.parametrize("lenient", [False, True], ids=["strict", "lenient"])
@pytest.mark.parametrize("lane_id", sorted(FAST_LANES))
def test_broken_lines_take_the_pydantic_path(lane_id: str, lenient: bool, how: str) -> None:
    """One kind of break (`BREAKS`) on one to three of the lines it applies to."""
    lane, breaks = FAST_LANES[lane_id], BREAKS[how]

    @settings(max_examples=scaled(40), deadline=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(native_inputs(lane_id), st.data())
    def check(data: bytes, draw: st.DataObject) -> None:
        lines = _json_lines(data)
        hits = [index for index, line in enumerate(lines) if breaks(line) != line]
        if hits:
            for index in draw.draw(st.lists(st.sampled_from(hits), min_size=1, max_size=3,
                                            unique=True)):
                lines[index] = breaks(lines[index])
        assert_same(lane, b"\n".join(lines), RunContext(lenient=lenient))

    check()


# ------------------------------------------------------------------------------ catalog, shapes


def _catalog(lane: LaneSpec) -> list[Path]:
    return sorted((ROOT / "cassettes").glob(f"*/{lane.native_file}"))


def _shapes(lane: LaneSpec) -> list[Path]:
    return sorted((SHAPES / lane.id).glob("*.jsonl"))


FILES = [(lane_id, path) for lane_id, lane in sorted(FAST_LANES.items())
         for path in _catalog(lane) + _shapes(lane)]


@pytest.mark.parametrize(("lane_id", "path"), FILES,
                         ids=[f"{lane}:{path.parent.name}/{path.name}" for lane, path in FILES])
def test_catalog_and_shape_files_are_written_the_same(lane_id: str, path: Path) -> None:
    """Every recording and shape fixture, in strict mode with its recorded context and in
    lenient mode: same bytes, same error (the shape fixtures include refused streams)."""
    lane = FAST_LANES[lane_id]
    data = path.read_bytes()
    context = recorded_context(path)
    assert_same(lane, data, context)
    assert_same(lane, data, context.model_copy(update={"lenient": True}))


def test_the_catalog_is_covered() -> None:
    assert all(_catalog(lane) for lane in FAST_LANES.values())


# ------------------------------------------------------------------------------ what it takes


def _taken(lane: LaneSpec, data: bytes) -> list[bool]:
    """For each line of `data`, whether the lane's fast path wrote it (spied on the driver)."""
    taken: list[bool] = []
    original = fastlog.encoded_lines

    def spy(stream: Any, fast: Callable[[Any], bytes | None], slow: Any, close: Any
            ) -> Iterator[bytes]:
        def watched(raw: Any) -> bytes | None:
            written = fast(raw)
            taken.append(written is not None)
            return written
        return original(stream, watched, slow, close)

    module = __import__(lane.normalize.__module__, fromlist=["encoded_lines"])
    setattr(module, "encoded_lines", spy)  # noqa: B010
    try:
        fast_path(lane, data, RunContext())
    finally:
        setattr(module, "encoded_lines", original)  # noqa: B010
    return taken


CODEX_RUN: list[dict[str, Any]] = [
    {"type": "thread.started", "thread_id": "t1"},
    {"type": "turn.started"},
    {"type": "item.started", "item": {"id": "item_0", "type": "command_execution",
                                      "command": "ls", "aggregated_output": "",
                                      "exit_code": None, "status": "in_progress"}},
    {"type": "item.completed", "item": {"id": "item_0", "type": "command_execution",
                                        "command": "ls", "aggregated_output": "a\nb é\n",
                                        "exit_code": 0, "status": "completed"}},
    {"type": "item.completed", "item": {"id": "item_1", "type": "agent_message",
                                        "text": "fait ✓"}},
    {"type": "turn.completed", "usage": {"input_tokens": 5, "cached_input_tokens": 0,
                                         "output_tokens": 2}},
]


def _jsonl(lines: list[Any]) -> bytes:
    return b"".join((line if isinstance(line, bytes) else
                     json.dumps(line, ensure_ascii=False).encode()) + b"\n" for line in lines)


@pytest.mark.skipif("codex-native" not in FAST_LANES, reason="no fast path")
def test_codex_fast_path_takes_item_and_turn_lines() -> None:
    """A fast path that handed every line back would pass every identity test: it must take
    the item and turn lines of an ordinary run (all but `thread.started`)."""
    taken = _taken(FAST_LANES["codex-native"], _jsonl(CODEX_RUN))
    assert taken == [False, True, True, True, True, True]


CODEX_REFUSED: dict[str, bytes] = {
    "invalid UTF-8": b'{"type": "item.completed", "item": {"id": "i", "type": "agent_message", '
                     b'"text": "caf\xe9"}}',
    "unknown field": b'{"type": "item.completed", "item": {"id": "i", "type": "agent_message", '
                     b'"text": "x", "new_field": 1}}',
    "unknown field at the top": b'{"type": "item.completed", "x": 1, "item": {"id": "i", '
                                b'"type": "agent_message", "text": "x"}}',
    "int beyond 64 bits": b'{"type": "item.completed", "item": {"id": "i", "type": '
                          b'"command_execution", "command": "ls", "exit_code": '
                          b'18446744073709551616, "status": "completed"}}',
    "text not a string": b'{"type": "item.completed", "item": {"id": "i", "type": '
                         b'"agent_message", "text": null}}',
    "output not a string while running": b'{"type": "item.started", "item": {"id": "i", '
                                         b'"type": "command_execution", "command": "ls", '
                                         b'"aggregated_output": 5, "status": "in_progress"}}',
    "text not a string while running": b'{"type": "item.updated", "item": {"id": "i", "type": '
                                       b'"agent_message", "text": ["a"]}}',
    "bool as int": b'{"type": "item.completed", "item": {"id": "i", "type": '
                   b'"command_execution", "command": "ls", "exit_code": true}}',
    "collab_tool_call": b'{"type": "item.completed", "item": {"id": "i", "type": '
                        b'"collab_tool_call", "tool": "spawn"}}',
    "unknown item type": b'{"type": "item.completed", "item": {"id": "i", "type": "future"}}',
    "infinite argument": b'{"type": "item.completed", "item": {"id": "i", "type": '
                         b'"mcp_tool_call", "server": "s", "tool": "t", "arguments": [1e400]}}',
    "deep argument": b'{"type": "item.completed", "item": {"id": "i", "type": "mcp_tool_call", '
                     b'"server": "s", "tool": "t", "arguments": ' + b"[" * 250 + b"]" * 250
                     + b"}}",
    "turn.failed": b'{"type": "turn.failed", "error": {"message": "boom"}}',
}


@pytest.mark.skipif("codex-native" not in FAST_LANES, reason="no fast path")
@pytest.mark.parametrize("line", list(CODEX_REFUSED.values()), ids=list(CODEX_REFUSED))
def test_codex_fast_path_refuses_what_it_cannot_prove(line: bytes) -> None:
    """Each of these lines would be read differently by msgspec (or is not modelled): the
    fast path hands it to the pydantic path, which reads it, refuses it or keeps it whole."""
    lane = FAST_LANES["codex-native"]
    data = _jsonl([*CODEX_RUN[:2], line, CODEX_RUN[-1]])
    assert _taken(lane, data)[2] is False
    assert_same_strict_and_lenient(lane, data)


@pytest.mark.skipif("codex-native" not in FAST_LANES, reason="no fast path")
def test_codex_sequence_problems_go_to_the_pydantic_path() -> None:
    """Items before the session or outside a turn, a second start: sequence errors (strict)
    or recoveries (lenient) that only the pydantic path writes."""
    lane = FAST_LANES["codex-native"]
    item, message = CODEX_RUN[2], CODEX_RUN[4]
    for lines in ([item, *CODEX_RUN], [CODEX_RUN[0], message, *CODEX_RUN[1:]],
                  [*CODEX_RUN[:3], item, *CODEX_RUN[3:]], [*CODEX_RUN[:2], *CODEX_RUN[1:]],
                  [CODEX_RUN[0], CODEX_RUN[-1]], CODEX_RUN[:3]):
        data = _jsonl(lines)
        _, lenient = (assert_same(lane, data, RunContext(lenient=mode))
                      for mode in (False, True))
        assert lenient[1] is None


@pytest.mark.skipif("codex-native" not in FAST_LANES, reason="no fast path")
def test_codex_lenient_keeps_an_unreadable_line_whole() -> None:
    """No silent loss on the fast path either: a line with invalid UTF-8 is refused in strict
    mode naming the line and kept whole (beside a notice) in lenient mode."""
    lane = FAST_LANES["codex-native"]
    data = _jsonl([*CODEX_RUN[:2], CODEX_REFUSED["invalid UTF-8"], CODEX_RUN[-1]])
    _, error = fast_path(lane, data, RunContext())
    assert error is not None and "stream.jsonl:3: invalid UTF-8" in error
    written, error = fast_path(lane, data, RunContext(lenient=True))
    assert error is None
    kept = [json.loads(line) for line in written]
    unknown = [e["item"] for e in kept if e.get("item", {}).get("kind") == "unknown"]
    assert len(unknown) == 1 and "caf\\xe9" in unknown[0]["payload"]


@pytest.mark.skipif("codex-native" not in FAST_LANES, reason="no fast path")
def test_codex_truncated_turn_fails_items_the_fast_path_started() -> None:
    """The fast path hands the builder the models of items it starts, so a cut turn still
    completes them as failed, as the pydantic path does."""
    lane = FAST_LANES["codex-native"]
    patch = {"type": "item.started", "item": {
        "id": "item_9", "type": "file_change", "status": "in_progress",
        "changes": [{"path": "a.py", "kind": "add"}]}}
    todo = {"type": "item.started", "item": {
        "id": "item_8", "type": "todo_list", "items": [{"text": "x", "completed": False}]}}
    written, error = assert_same(lane, _jsonl([*CODEX_RUN[:3], patch, todo]), RunContext())
    assert error is None
    assert _taken(lane, _jsonl([*CODEX_RUN[:3], patch, todo])) == [False, True, True, True, True]
    closing = [json.loads(line) for line in written][-4:]
    assert [event["item"]["status"] for event in closing[:3]] == ["failed"] * 3
    assert closing[1]["item"]["changes"] == [{"path": "a.py", "kind": "add", "move_path": None}]
    assert closing[3]["error"]["kind"] == "stream_truncated"


@pytest.mark.skipif("codex-native" not in FAST_LANES, reason="no fast path")
def test_codex_mcp_values_with_many_brackets_are_walked() -> None:
    """An MCP call's values with `KEPT_DEPTH` brackets or more (many shallow containers,
    brackets in strings) are walked for their depth, not refused for the count; fewer than that
    cannot nest that deep."""
    lane = FAST_LANES["codex-native"]
    for arguments, result in (([[]] * 150, {"a": [{}] * 60}), ({"q": "[[[{{{" * 40}, None),
                              ({"a": [[[1]]]}, "x")):
        line = {"type": "item.completed", "item": {
            "id": "m", "type": "mcp_tool_call", "server": "s", "tool": "t",
            "arguments": arguments, "result": result, "status": "completed"}}
        data = _jsonl([*CODEX_RUN[:2], line, CODEX_RUN[-1]])
        assert _taken(lane, data) == [False, True, True, True]
        assert assert_same(lane, data, RunContext())[1] is None


@pytest.mark.skipif("codex-native" not in FAST_LANES, reason="no fast path")
def test_codex_turn_ends_are_written_the_same() -> None:
    """A turn.completed is written from its template, or (items still open) by the builder,
    which fails those items first; with or without usage, with every usage field."""
    lane = FAST_LANES["codex-native"]
    usage = {"input_tokens": 9, "cached_input_tokens": 1, "cache_write_input_tokens": 2,
             "output_tokens": 3, "reasoning_output_tokens": 2**63 - 1}
    for lines in ([*CODEX_RUN[:3], CODEX_RUN[-1]], [*CODEX_RUN[:-1], {"type": "turn.completed"}],
                  [*CODEX_RUN[:-1], {"type": "turn.completed", "usage": usage}],
                  [*CODEX_RUN, *CODEX_RUN[1:]]):
        data = _jsonl(lines)
        assert _taken(lane, data) == [False] + [True] * (len(lines) - 1)
        for lenient in (False, True):
            assert assert_same(lane, data, RunContext(lenient=lenient))[1] is None
    written, _ = fast_path(lane, _jsonl([*CODEX_RUN[:3], CODEX_RUN[-1]]), RunContext())
    assert b'"status":"failed"' in written[-2] and b'"turn.completed"' in written[-1]


GEMINI_RUN: list[dict[str, Any]] = [
    {"type": "init", "timestamp": "t", "session_id": "s1", "model": "gemini-2.5-pro"},
    {"type": "message", "timestamp": "t", "role": "user", "content": "hi"},
    {"type": "message", "timestamp": "t", "role": "assistant", "content": "Let me ",
     "delta": True},
    {"type": "message", "timestamp": "t", "role": "assistant", "content": "look.", "delta": True},
    {"type": "tool_use", "timestamp": "t", "tool_name": "run_shell_command", "tool_id": "c1",
     "parameters": {"command": "ls"}},
    {"type": "tool_result", "timestamp": "t", "tool_id": "c1", "status": "success",
     "output": "a\nb é"},
    {"type": "tool_use", "timestamp": "t", "tool_name": "mcp_docs_search", "tool_id": "c2",
     "parameters": {"q": "x"}},
    {"type": "tool_result", "timestamp": "t", "tool_id": "c2", "status": "success",
     "output": "found"},
    {"type": "result", "timestamp": "t", "status": "success",
     "stats": {"total_tokens": 3, "input_tokens": 2, "output_tokens": 1}},
]


@pytest.mark.skipif("gemini-cli" not in FAST_LANES, reason="no fast path")
def test_gemini_fast_path_takes_a_whole_ordinary_run() -> None:
    """init, user message, chunks, shell and MCP tool_use / tool_result, result: every line
    (a fast path that handed lines back would pass the identity tests and be no faster)."""
    lane = FAST_LANES["gemini-cli"]
    data = _jsonl(GEMINI_RUN)
    assert _taken(lane, data) == [True] * len(GEMINI_RUN)
    assert_same(lane, data, RunContext())


_NO_OUTPUT = object()
GEMINI_TOOLS: list[tuple[str, Any, Any]] = [
    ("run_shell_command", {"command": "ls", "dir_path": "sub"}, "a\nb é"),
    ("run_shell_command", {"command": ["not", "a", "string"], "directory": ""}, 7),
    ("run_shell_command", {}, _NO_OUTPUT),
    ("run_shell_command", {"command": "x"}, None),
    ("write_file", {"file_path": "a.py", "content": "x = 1\n"}, _NO_OUTPUT),
    ("replace", {"file_path": "a.py", "old_string": "1", "new_string": "2"}, {"any": [1]}),
    ("write_todos", {"todos": [{"description": "d", "status": "blocked"}, 5]}, "ok"),
    ("google_web_search", {"query": "q"}, "a\\/b \\u00e9 \u2028"),
    ("mcp_my_srv_tool", {"deep": {"a": [1, 2.5, None, True]}}, "found"),
    ("mcp_docs_search", {"q": "x"}, None),
    ("read_file", {"absolute_path": "/x"}, "text"),
    ("glob", ["parameters", "not", "an", "object"], _NO_OUTPUT),
    ("glob", None, "\u0001 \\u00e9"),
]
"""(tool name, parameters, output) of a call of every kind, odd parameters and outputs the
pydantic path reads as it can included."""


@pytest.mark.skipif("gemini-cli" not in FAST_LANES, reason="no fast path")
@pytest.mark.parametrize("lenient", [False, True], ids=["strict", "lenient"])
def test_gemini_fast_path_takes_every_tool_kind(lenient: bool) -> None:
    """Each tool kind's start, then its successful result (an output that is no string, or
    none, or not the line's last key, too), then the turn's end: all taken, the same bytes."""
    lane = FAST_LANES["gemini-cli"]
    uses: list[dict[str, Any]] = []
    results: list[dict[str, Any]] = []
    for n, (name, parameters, output) in enumerate(GEMINI_TOOLS):
        uses.append({"type": "tool_use", "timestamp": "t", "tool_name": name,
                     "tool_id": f"t{n}", "parameters": parameters})
        result: dict[str, Any] = {"type": "tool_result", "timestamp": "t", "tool_id": f"t{n}",
                                  "status": "success"}
        if output is not _NO_OUTPUT:
            result = {"output": output, **result} if n % 2 else {**result, "output": output}
        results.append(result)
    data = _jsonl([*GEMINI_RUN[:2], *uses, *results, GEMINI_RUN[-1]])
    assert all(_taken(lane, data))
    assert_same(lane, data, RunContext(lenient=lenient))


GEMINI_REFUSED: dict[str, dict[str, Any] | bytes] = {
    "failed result": {"type": "tool_result", "timestamp": "t", "tool_id": "c1",
                      "status": "error", "output": "no"},
    "result with an error object": {"type": "tool_result", "timestamp": "t", "tool_id": "c1",
                                    "status": "success", "output": "x",
                                    "error": {"type": "tool_not_registered", "message": "m"}},
    "unknown tool": {"type": "tool_result", "timestamp": "t", "tool_id": "zz",
                     "status": "success", "output": "x"},
    "tool_id not a string": {"type": "tool_result", "timestamp": "t", "tool_id": 1,
                             "status": "success", "output": "x"},
    "output with bad UTF-8": b'{"type":"tool_result","timestamp":"t","tool_id":"c1",'
                             b'"status":"success","output":"caf\xe9"}',
    "output with bad UTF-8, not the last key": b'{"type":"tool_result","timestamp":"t",'
                                               b'"output":"caf\xe9","tool_id":"c1",'
                                               b'"status":"success"}',
    "output twice, bad UTF-8 first": b'{"type":"tool_result","timestamp":"t","tool_id":"c1",'
                                     b'"status":"success","output":"\xff","output":"ok"}',
    "output twice, escaped key": b'{"type":"tool_result","timestamp":"t","tool_id":"c1",'
                                 b'"status":"success","outp\\u0075t":"\xff","output":"ok"}',
    "output twice, infinite first": b'{"type":"tool_result","timestamp":"t","tool_id":"c1",'
                                    b'"status":"success","output":1e400,"output":"ok"}',
    "whole message": {"type": "message", "timestamp": "t", "role": "assistant",
                      "content": "all"},
    "chunk with a new field": {"type": "message", "timestamp": "t", "role": "assistant",
                               "content": "x", "delta": True, "thought": True},
    "chunk not a string": {"type": "message", "timestamp": "t", "role": "assistant",
                           "content": ["x"], "delta": True},
    "message of another role": {"type": "message", "timestamp": "t", "role": "model",
                                "content": "x", "delta": True},
    "user message not a string": {"type": "message", "timestamp": "t", "role": "user",
                                  "content": [{"text": "x"}]},
    "tool_id used twice": {"type": "tool_use", "timestamp": "t", "tool_name": "glob",
                           "tool_id": "c1", "parameters": {}},
    "tool_use without a tool_id": {"type": "tool_use", "timestamp": "t", "tool_name": "glob",
                                   "parameters": {}},
    "tool_name not a string": {"type": "tool_use", "timestamp": "t", "tool_name": None,
                               "tool_id": "c9", "parameters": {}},
    "tool_use with a new field": {"type": "tool_use", "timestamp": "t", "tool_name": "glob",
                                  "tool_id": "c9", "parameters": {}, "x": 1},
    "parameters twice, bad UTF-8 first": b'{"type":"tool_use","timestamp":"t","tool_name":'
                                         b'"glob","tool_id":"c9","parameters":{"a":"\xff"},'
                                         b'"parameters":{}}',
    "parameters with an infinite number": b'{"type":"tool_use","timestamp":"t","tool_name":'
                                          b'"mcp_s_t","tool_id":"c9","parameters":'
                                          b'{"a":1e400}}',
    "failed run": {"type": "result", "timestamp": "t", "status": "error",
                   "error": {"type": "FatalTurnLimitedError", "message": "limit"}},
    "result with a new field": {"type": "result", "timestamp": "t", "status": "success",
                                "stats": {}, "x": 1},
    "stats twice, bad UTF-8 first": b'{"type":"result","timestamp":"t","status":"success",'
                                    b'"stats":{"a":"\xff"},"stats":{}}',
    "init with a number as session id": {"type": "init", "timestamp": "t", "session_id": 5,
                                         "model": "m"},
    "init with a new field": {"type": "init", "timestamp": "t", "session_id": "s2",
                              "model": "m", "x": 1},
    "timestamp not a string": {"type": "message", "timestamp": 0, "role": "assistant",
                               "content": "x", "delta": True},
    "error line": {"type": "error", "timestamp": "t", "severity": "warning", "message": "m"},
}


@pytest.mark.skipif("gemini-cli" not in FAST_LANES, reason="no fast path")
def test_gemini_output_the_item_does_not_keep_is_still_checked() -> None:
    """A web search's result output is not in its item, but orjson reads it with the line: bad
    UTF-8 there is refused (strict) as on the pydantic path (found by the broken-line property
    under the ci profile)."""
    lane = FAST_LANES["gemini-cli"]
    search = {"type": "tool_use", "timestamp": "t", "tool_name": "google_web_search",
              "tool_id": "w1", "parameters": {"query": "q"}}
    result = (b'{"type":"tool_result","timestamp":"t","tool_id":"w1","status":"success",'
              b'"output":"\xe6 found"}')
    data = _jsonl([*GEMINI_RUN[:2], search, result, GEMINI_RUN[-1]])
    assert _taken(lane, data)[3] is False
    _, error = assert_same(lane, data, RunContext())
    assert error is not None and "invalid UTF-8" in error


@pytest.mark.skipif("codex-native" not in FAST_LANES, reason="no fast path")
def test_codex_web_search_action_is_checked_when_the_query_is_given() -> None:
    """The action is only read when the query is empty, but orjson reads it with the line."""
    lane = FAST_LANES["codex-native"]
    line = (b'{"type":"item.completed","item":{"id":"ws_1","type":"web_search","query":"q",'
            b'"action":{"type":"search","query":"\xff"}}}')
    data = _jsonl([*CODEX_RUN[:2], line, CODEX_RUN[-1]])
    assert _taken(lane, data)[2] is False
    _, error = assert_same(lane, data, RunContext())
    assert error is not None and "invalid UTF-8" in error


@pytest.mark.skipif("gemini-cli" not in FAST_LANES, reason="no fast path")
@pytest.mark.parametrize("line", list(GEMINI_REFUSED.values()), ids=list(GEMINI_REFUSED))
def test_gemini_fast_path_refuses_what_it_cannot_prove(line: dict[str, Any] | bytes) -> None:
    """Each line, inside a turn with the shell call c1 open, would be read differently by
    msgspec or raise a problem (or is not modelled): the pydantic path reads it."""
    lane = FAST_LANES["gemini-cli"]
    data = _jsonl([*GEMINI_RUN[:5], line, *GEMINI_RUN[5:]])
    assert _taken(lane, data)[5] is False
    assert_same_strict_and_lenient(lane, data)


@pytest.mark.skipif("gemini-cli" not in FAST_LANES, reason="no fast path")
@pytest.mark.parametrize("output", [{"a": [1]}, [1e300], 18446744073709551616, True])
def test_gemini_free_form_tool_results_go_to_the_pydantic_path(output: Any) -> None:
    """An MCP (or other) tool's result is the item's free-form `result`, which the model's
    validator reads: only a text (or none) is the fast path's."""
    lane = FAST_LANES["gemini-cli"]
    result = {"type": "tool_result", "timestamp": "t", "tool_id": "c2", "status": "success",
              "output": output}
    data = _jsonl([*GEMINI_RUN[:7], result, GEMINI_RUN[-1]])
    assert _taken(lane, data)[7] is False
    assert_same(lane, data, RunContext())


@pytest.mark.skipif("gemini-cli" not in FAST_LANES, reason="no fast path")
def test_gemini_sequence_problems_go_to_the_pydantic_path() -> None:
    """Lines before any `init`, outside a turn, a second user message, a result before the
    prompt's echo, a cut stream: sequence errors (strict) or recoveries (lenient) that only the
    pydantic path writes, and the fast path's lines around them the same."""
    lane = FAST_LANES["gemini-cli"]
    init, user, chunk, use, done, result = (GEMINI_RUN[0], GEMINI_RUN[1], GEMINI_RUN[2],
                                            GEMINI_RUN[4], GEMINI_RUN[5], GEMINI_RUN[-1])
    for lines in ([user, *GEMINI_RUN], [chunk, *GEMINI_RUN], [use, *GEMINI_RUN],
                  [result, *GEMINI_RUN], [init, chunk, use, done, result],
                  [init, user, use, user, use, done, result], [init, result, *GEMINI_RUN[1:]],
                  [*GEMINI_RUN[:5], init, *GEMINI_RUN], GEMINI_RUN[:6],
                  [*GEMINI_RUN, done, chunk, use], [*GEMINI_RUN[:4], result, user, chunk],
                  [*GEMINI_RUN[:4], user, chunk, result], [*GEMINI_RUN[:4], init, chunk]):
        data = _jsonl(lines)
        _, lenient = (assert_same(lane, data, RunContext(lenient=mode))
                      for mode in (False, True))
        assert lenient[1] is None


@pytest.mark.skipif("gemini-cli" not in FAST_LANES, reason="no fast path")
def test_gemini_runs_and_turns_written_by_the_fast_path() -> None:
    """`session.started`, `turn.started` and `turn.completed` the fast path writes itself: a
    resumed run (`resumed_from`), the recorded context's facts, a second prompt in one run,
    a run whose answer is still streaming at `result`, and a `result` with a call still open
    (the builder fails it first: the pydantic path's events)."""
    lane = FAST_LANES["gemini-cli"]
    context = RunContext(model="m0", cwd="/w", sandbox="workspace-write",
                         approval_policy="on-request", auth_mode="api_key",
                         runtime_version="0.61.0", resumed_from="s0")
    second = [GEMINI_RUN[1], GEMINI_RUN[2], GEMINI_RUN[-1]]
    lines = [*GEMINI_RUN, *second, {**GEMINI_RUN[0], "model": None}, *GEMINI_RUN[1:5],
             GEMINI_RUN[-1], {**GEMINI_RUN[0], "session_id": "s2"}, *GEMINI_RUN[1:4]]
    data = _jsonl(lines)
    assert all(_taken(lane, data))
    written, error = assert_same(lane, data, context)
    events = [json.loads(line) for line in written]
    runs = [(e["thread_id"], e["model"], e["resumed_from"], e["cwd"]) for e in events
            if e["type"] == "session.started"]
    assert runs == [("s1", "gemini-2.5-pro", "s0", "/w"), ("s1", "m0", "s1", "/w"),
                    ("s2", "gemini-2.5-pro", "s0", "/w")]
    ends = [(e["type"], e["turn"]) for e in events if e["type"].startswith("turn.")]
    assert ends == [("turn.started", 0), ("turn.completed", 0), ("turn.started", 1),
                    ("turn.completed", 1), ("turn.started", 2), ("turn.completed", 2),
                    ("turn.started", 3), ("turn.failed", 3)]
    failed = [e["item"]["kind"] for e in events if e["type"] == "item.completed"
              and e["item"]["status"] == "failed"]
    assert failed == ["command_execution"]  # the cut answer is complete, its turn failed
    assert error is None
    assert_same(lane, data, context.model_copy(update={"lenient": True}))


@pytest.mark.skipif("gemini-cli" not in FAST_LANES, reason="no fast path")
def test_gemini_run_facts_orjson_cannot_write_go_through_the_builder() -> None:
    """A context text orjson cannot write (a lone surrogate, as a command-line argument with
    undecodable bytes gives): the `session.started` is the builder's, so both paths fail the
    same way (pydantic's serializer refuses it too)."""
    lane = FAST_LANES["gemini-cli"]
    context = RunContext(cwd="/w\udcff")
    errors = []
    for path in (pydantic_path, fast_path):
        with pytest.raises(Exception) as caught:  # (whatever pydantic raises)
            path(lane, _jsonl(GEMINI_RUN), context)
        errors.append((type(caught.value), str(caught.value)))
    assert errors[0] == errors[1]


@pytest.mark.skipif("gemini-cli" not in FAST_LANES, reason="no fast path")
def test_gemini_truncated_turn_fails_items_the_fast_path_started() -> None:
    """The fast path hands the builder the items it starts (a shell command, a file change),
    so a turn cut by a new `init` or by the end of input fails them as the pydantic path does
    (the message the `init` closes is complete); a resumed session id is `resumed_from`."""
    lane = FAST_LANES["gemini-cli"]
    write = {"type": "tool_use", "timestamp": "t", "tool_name": "write_file", "tool_id": "w",
             "parameters": {"file_path": "a.py"}}
    lines = [*GEMINI_RUN[:5], write, GEMINI_RUN[2], GEMINI_RUN[0], *GEMINI_RUN[1:5]]
    assert all(_taken(lane, _jsonl(lines)))
    written, error = assert_same(lane, _jsonl(lines), RunContext())
    events = [json.loads(line) for line in written]
    failed = [e["item"]["kind"] for e in events if e["type"] == "item.completed"
              and e["item"]["status"] == "failed"]
    assert failed == ["command_execution", "file_change", "command_execution"]
    assert [e.get("resumed_from") for e in events if e["type"] == "session.started"] == [
        None, "s1"]
    assert error is None


def _claude_lines(scenario: str) -> list[bytes]:
    return (ROOT / "cassettes" / scenario / "claude-code.jsonl").read_bytes().splitlines()


@pytest.mark.skipif("claude-code" not in FAST_LANES, reason="no fast path")
def test_claude_fast_path_takes_a_whole_ordinary_run() -> None:
    """shell_ok: init, Bash tool_use, its result, the answer, result: the fast path takes
    every line."""
    lane = FAST_LANES["claude-code"]
    lines = _claude_lines("shell_ok")
    assert _taken(lane, _jsonl(lines)) == [True, True, True, True, True]


def _with(line: bytes, change: Callable[[dict[str, Any]], None]) -> bytes:
    data = json.loads(line)
    change(data)
    return json.dumps(data, ensure_ascii=False).encode()


def _shell_ok_with(index: int, change: Callable[[dict[str, Any]], None]) -> bytes:
    """Claude Code's shell_ok recording with its line `index` changed."""
    lines = _claude_lines("shell_ok")
    lines[index] = _with(lines[index], change)
    return _jsonl(lines)


CLAUDE_REFUSED: dict[str, Callable[[dict[str, Any]], None]] = {
    "stderr": lambda d: d["tool_use_result"].update(stderr="warn"),
    "an answer code": lambda d: d["tool_use_result"].update(returnCodeInterpretation="false"),
    "is_error": lambda d: d["message"]["content"][0].update(is_error=True),
    "rejected by meta": lambda d: d["tool_result_meta"][0].update(
        permission_decision={"decision": "reject", "source": "user_reject"}),
    "unknown tool": lambda d: d["message"]["content"][0].update(tool_use_id="toolu_other"),
    "content as blocks": lambda d: d["message"]["content"][0].update(
        content=[{"type": "text", "text": "alpha"}]),
    "stdout not a string": lambda d: d["tool_use_result"].update(stdout=None),
}


@pytest.mark.skipif("claude-code" not in FAST_LANES, reason="no fast path")
@pytest.mark.parametrize("stdout", ["a\n\n", "\n", " x \r\n", "caf\u00e9\t\n"])
def test_claude_bash_stdout_is_written_as_it_came(stdout: str) -> None:
    """Trailing newlines, blanks and CRs of a Bash stdout are output: the fast path takes the
    line and writes the same bytes as the pydantic path (the catalog's stdouts end without
    one, so only these cases show a fast path that trims)."""
    lane = FAST_LANES["claude-code"]
    data = _shell_ok_with(2, lambda d: d["tool_use_result"].update(stdout=stdout))
    assert _taken(lane, data)[2] is True
    assert_same_strict_and_lenient(lane, data)


@pytest.mark.skipif("claude-code" not in FAST_LANES, reason="no fast path")
@pytest.mark.parametrize("change", list(CLAUDE_REFUSED.values()), ids=list(CLAUDE_REFUSED))
def test_claude_fast_path_refuses_what_it_cannot_prove(
        change: Callable[[dict[str, Any]], None]) -> None:
    lane = FAST_LANES["claude-code"]
    data = _shell_ok_with(2, change)
    assert _taken(lane, data)[2] is False
    assert_same_strict_and_lenient(lane, data)


@pytest.mark.skipif("claude-code" not in FAST_LANES, reason="no fast path")
def test_claude_fast_path_refuses_api_errors_and_synthetic_lines() -> None:
    lane = FAST_LANES["claude-code"]
    lines = _claude_lines("shell_ok")
    for change in (lambda d: d.update(is_api_error_message=True),
                   lambda d: d["message"].update(model="<synthetic>"),
                   lambda d: d["message"]["content"].append({"type": "text", "text": "2"})):
        changed = [*lines[:3], _with(lines[3], change), *lines[4:]]
        assert _taken(lane, _jsonl(changed))[3] is False
        assert_same(lane, _jsonl(changed), RunContext())


def _claude_tool_use(name: str, tool_input: Any, tool_id: str = "toolu_x") -> dict[str, Any]:
    line = json.loads(_claude_lines("shell_ok")[1])
    line["message"]["content"][0].update(id=tool_id, name=name, input=tool_input)
    return dict(line)


CLAUDE_TOOL_USES: dict[str, dict[str, Any]] = {
    "Bash": _claude_tool_use("Bash", {"command": "ls é", "description": "d"}),
    "Write": _claude_tool_use("Write", {"file_path": "a.py", "content": "x"}),
    "TodoWrite": _claude_tool_use("TodoWrite", {"todos": [
        {"content": "a", "status": "completed"}, {"content": 5}]}),
    "MCP": _claude_tool_use("mcp__docs__search", {"q": [1, {"n": None}], "big": 2**70}),
    "other tool": _claude_tool_use("Read", {"file_path": "a.py"}),
    "no input": _claude_tool_use("Bash", None),
    "input not an object": _claude_tool_use("Grep", "pattern"),
}


@pytest.mark.skipif("claude-code" not in FAST_LANES, reason="no fast path")
@pytest.mark.parametrize("line", list(CLAUDE_TOOL_USES.values()), ids=list(CLAUDE_TOOL_USES))
def test_claude_fast_path_takes_every_tool_use(line: dict[str, Any]) -> None:
    """A tool_use block starts its tool's item whatever the tool (the pydantic path's own
    `tool_item`), its `input` read by orjson (an integer beyond 64 bits is orjson's float), and
    the turn's end fails it when no result came: same bytes."""
    lane = FAST_LANES["claude-code"]
    lines = _claude_lines("shell_ok")
    if line["message"]["content"][0]["input"] is None:
        del line["message"]["content"][0]["input"]
    data = _jsonl([lines[0], json.dumps(line).encode(), lines[3], lines[4]])
    assert _taken(lane, data) == [True, True, True, False]  # the result leaves the item open
    assert_same_strict_and_lenient(lane, data)


def _tool_block(change: Callable[[dict[str, Any]], None]) -> Callable[[dict[str, Any]], None]:
    return lambda d: change(d["message"]["content"][0])


CLAUDE_TOOL_USE_REFUSED: dict[str, Callable[[dict[str, Any]], None]] = {
    "no id": _tool_block(lambda b: b.update(id="")),
    "two blocks": lambda d: d["message"]["content"].append({"type": "text", "text": "x"}),
    "deep input": _tool_block(lambda b: b.update(input=json.loads("[" * 210 + "]" * 210))),
    "unknown block field": _tool_block(lambda b: b.update(caller={"type": "direct"})),
    "name not a string": _tool_block(lambda b: b.update(name=None)),
    "synthetic": lambda d: d["message"].update(model="<synthetic>"),
    "api error": lambda d: d.update(is_api_error_message=True),
}


@pytest.mark.skipif("claude-code" not in FAST_LANES, reason="no fast path")
@pytest.mark.parametrize("change", list(CLAUDE_TOOL_USE_REFUSED.values()),
                         ids=list(CLAUDE_TOOL_USE_REFUSED))
def test_claude_fast_path_refuses_tool_uses_it_cannot_prove(
        change: Callable[[dict[str, Any]], None]) -> None:
    lane = FAST_LANES["claude-code"]
    data = _shell_ok_with(1, change)
    assert _taken(lane, data)[1] is False
    assert_same_strict_and_lenient(lane, data)


@pytest.mark.skipif("claude-code" not in FAST_LANES, reason="no fast path")
def test_claude_replayed_tool_use_goes_to_the_pydantic_path() -> None:
    """A tool_use id still running: strict refuses it, lenient says so, both on the pydantic
    path. Once its result came the id is free again (a new item, on the fast path)."""
    lane = FAST_LANES["claude-code"]
    lines = _claude_lines("shell_ok")
    data = _jsonl([*lines[:2], lines[1], *lines[2:]])
    assert _taken(lane, data) == [True, True, False]  # strict stops there
    _, error = assert_same(lane, data, RunContext())
    assert error is not None and "started twice" in error
    assert assert_same(lane, data, RunContext(lenient=True))[1] is None
    data = _jsonl([*lines[:3], lines[1], *lines[2:]])
    assert _taken(lane, data) == [True] * 7
    assert assert_same(lane, data, RunContext())[1] is None


@pytest.mark.skipif("claude-code" not in FAST_LANES, reason="no fast path")
def test_claude_bad_tool_input_under_a_duplicated_message_is_refused() -> None:
    """The first of two `message` keys holds a tool_use whose input orjson refuses (1e400):
    msgspec alone keeps the second (a text block) and never reads the first, so every
    assistant line is decoded a second time."""
    lane = FAST_LANES["claude-code"]
    lines = _claude_lines("shell_ok")
    text = json.loads(lines[3])
    doubled = lines[1].replace(b'"description"', b'"x":1e400,"description"').rstrip(b"}") \
        + b',"message":' + json.dumps(text["message"]).encode() + b"}"
    assert b"1e400" in doubled
    data = _jsonl([*lines[:3], doubled, lines[4]])
    assert orjson.loads(lines[0]) and _taken(lane, data)[3] is False
    _, error = assert_same(lane, data, RunContext())
    assert error is not None and "stream.jsonl:4" in error


CLAUDE_RUN_ENDS: dict[str, Callable[[dict[str, Any]], None]] = {
    "is_error": lambda d: d.update(is_error=True),
    "error subtype": lambda d: d.update(subtype="error_max_turns"),
    "interrupted": lambda d: d.update(terminal_reason="aborted_tools"),
    "terminal reason a list": lambda d: d.update(terminal_reason=["x"]),
}


@pytest.mark.skipif("claude-code" not in FAST_LANES, reason="no fast path")
@pytest.mark.parametrize("change", list(CLAUDE_RUN_ENDS.values()), ids=list(CLAUDE_RUN_ENDS))
def test_claude_failed_results_go_to_the_pydantic_path(
        change: Callable[[dict[str, Any]], None]) -> None:
    lane = FAST_LANES["claude-code"]
    data = _shell_ok_with(4, change)
    assert _taken(lane, data)[4] is False
    written, _ = assert_same(lane, data, RunContext())
    assert json.loads(written[-1])["type"] == "turn.failed"


CLAUDE_RESULTS_TAKEN: dict[str, Callable[[dict[str, Any]], None]] = {
    "odd stop reason": lambda d: d.update(stop_reason=[1, "x"]),
    "no stop reason": lambda d: d.pop("stop_reason"),
    "odd usage": lambda d: d.update(usage={"input_tokens": "5", "output_tokens": 2**70,
                                           "cache_read_input_tokens": True}),
    "no usage": lambda d: d.pop("usage"),
    "type last, unknown fields": lambda d: d.update(future={"x": [1.5, None]}),
}


@pytest.mark.skipif("claude-code" not in FAST_LANES, reason="no fast path")
@pytest.mark.parametrize("change", list(CLAUDE_RESULTS_TAKEN.values()),
                         ids=list(CLAUDE_RESULTS_TAKEN))
def test_claude_fast_path_takes_successful_results(
        change: Callable[[dict[str, Any]], None]) -> None:
    """A result line is read by orjson (any fields, `type` anywhere) and ends the turn as
    `Translator._outcome` does."""
    lane = FAST_LANES["claude-code"]
    data = _shell_ok_with(4, change)
    assert _taken(lane, data)[4] is True
    assert_same_strict_and_lenient(lane, data)


@pytest.mark.skipif("claude-code" not in FAST_LANES, reason="no fast path")
def test_claude_init_and_result_out_of_place_go_to_the_pydantic_path() -> None:
    """An init inside an open turn (the turn fails first), an init without a model (the run
    waits for it), a result before any init or after the turn ended: the pydantic path's."""
    lane = FAST_LANES["claude-code"]
    lines = _claude_lines("shell_ok")
    no_model = _with(lines[0], lambda d: d.pop("model"))
    for stream, refused in (([*lines[:4], *lines], 4), ([no_model, *lines[1:]], 0),
                            ([lines[4], *lines], 0), ([*lines, lines[4]], 5)):
        data = _jsonl(stream)
        assert _taken(lane, data)[refused] is False
        for lenient in (False, True):
            assert_same(lane, data, RunContext(lenient=lenient))


@pytest.mark.skipif("claude-code" not in FAST_LANES, reason="no fast path")
def test_claude_result_over_an_unanswered_prompt_goes_to_the_pydantic_path() -> None:
    """A prompt still open when the run ends, listed in `permission_denials`: the pydantic
    path denies it and declines its item before the turn ends."""
    lane = FAST_LANES["claude-code"]
    lines = (ROOT / "cassettes" / "user_deny" / "claude-code.jsonl").read_bytes().splitlines()
    tool_id = json.loads(lines[4])["message"]["content"][0]["id"]
    result = _with(lines[9], lambda d: d.update(permission_denials=[{"tool_use_id": tool_id}]))
    data = _jsonl([lines[3], lines[4], lines[5], result])
    assert _taken(lane, data) == [True, True, False, False]
    written, error = assert_same(lane, data, RunContext())
    assert error is None and b'"declined"' in written[-2]


@pytest.mark.skipif("claude-code" not in FAST_LANES, reason="no fast path")
def test_claude_fast_path_takes_a_resumed_run() -> None:
    """Two runs of one session (the second `resumed_from` the first), with a recorded
    context: both inits and results on the fast path, the same bytes."""
    lane = FAST_LANES["claude-code"]
    lines = _claude_lines("shell_ok")
    data = _jsonl([*lines, *lines])
    assert _taken(lane, data) == [True] * 10
    context = RunContext(cwd="/w", model="m", auth_mode="api_key", approval_policy="never",
                         resumed_from="s0", runtime_version="1.0")
    for lenient in (False, True):
        assert_same(lane, data, context.model_copy(update={"lenient": lenient}))
    written, _ = assert_same(lane, data, RunContext())
    sessions = [json.loads(line) for line in written if b"session.started" in line]
    assert [s["resumed_from"] for s in sessions] == [None, sessions[0]["thread_id"]]


def test_cli_normalize_uses_the_fast_path(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """`harness normalize` writes the fast path's lines (and they are the pydantic path's)."""
    native = tmp_path / "codex-native.jsonl"
    native.write_bytes(_jsonl(CODEX_RUN))
    lane = FAST_LANES["codex-native"]
    calls: list[str] = []
    assert lane.normalize_lines is not None
    original = lane.normalize_lines

    def counted(source: LaneInput, context: RunContext) -> Iterator[bytes]:
        calls.append(source.name)
        return original(source, context)

    monkeypatch.setattr("harness.cli.normalize.get_lane",
                        lambda _: dataclasses.replace(lane, normalize_lines=counted))
    assert main(["normalize", "--lane", "codex-native", "--no-meta", str(native)]) == 0
    out = capsys.readouterr().out.encode()
    assert calls == [str(native)]
    assert out == b"".join(pydantic_path(lane, native.read_bytes(), RunContext())[0])


# ------------------------------------------------------------------------------ fastlog pieces


def _raw(value: bytes) -> msgspec.Raw:
    return msgspec.json.decode(b"[" + value + b"]", type=list[msgspec.Raw])[0]


@pytest.mark.parametrize("value", [
    '', 'plain', 'é データ 🙂', 'quote " backslash \\ tab \t newline \n',
    'del \x7f and \u2028', 'slash /'])
def test_text_is_orjsons_own_bytes(value: str) -> None:
    """A text written by `text` is what orjson writes for the string it holds."""
    encoded = orjson.dumps(value)
    out = fastlog.text(_raw(encoded))
    assert isinstance(out, orjson.Fragment)
    assert orjson.dumps([out]) == b"[" + encoded + b"]"


@pytest.mark.parametrize("source", [b'"\\u00e9"', b'"a\\/b"', b'"\\ud83d\\ude00"', b'"\\u0001"',
                                    b'"\\\\u"'])
def test_text_decodes_what_orjson_would_write_otherwise(source: bytes) -> None:
    out = fastlog.text(_raw(source))
    assert out == orjson.loads(source)


@pytest.mark.parametrize("source", [b"5", b"null", b'["x"]', b'"\\ud800"'])
def test_text_refuses_what_is_no_string_or_orjson_refuses(source: bytes) -> None:
    with pytest.raises(fastlog.UnfitError):
        fastlog.text(msgspec.Raw(source))


_LAST: Callable[[bytes], Any] = msgspec.json.Decoder(msgspec.defstruct(
    "Last", [("id", str, ""), ("out", msgspec.Raw, msgspec.Raw(b"null"))],
    **fastlog.NATIVE_STRUCT)).decode


@pytest.mark.parametrize("line", [
    b'{"id": "a", "out": "caf\xc3\xa9 \\n \\" \\\\ \\t\x7f"}\n', b'{"out":"x"}',
    b' { "id" : "" , "out" : "\xe3\x83\x87" } \r\n',
    b'{"out": "' + b"x" * 100 + b'"\t}' + b" " * 40])
def test_last_text_is_the_lines_own_bytes(line: bytes) -> None:
    """A last value whose bytes are what orjson writes for the string it reads goes through
    as it came."""
    out = fastlog.last_text(memoryview(line), _LAST(line).out, "out")
    assert isinstance(out, orjson.Fragment)
    assert orjson.dumps([out]) == orjson.dumps([orjson.loads(line)["out"]])


@pytest.mark.parametrize("line", [b'{"out": "\\u00e9 \\/"}', b'{"out": "\\\\u"}'])
def test_last_text_decodes_what_orjson_would_write_otherwise(line: bytes) -> None:
    assert fastlog.last_text(line, _LAST(line).out, "out") == orjson.loads(line)["out"]


@pytest.mark.parametrize("line", [
    b'{"out": "x", "id": "x"}', b'{"out": "y", "out": "x"}', b'{"out": 1, "out": "x"}',
    b'{"ou\\u0074": "\xff", "out": "x"}', b'{"id": "\\"", "out": "x"}', b'{"out": 5}',
    b'{"out": ["x"]}', b'{"out": null}', b'{"id": "x"}', b'{"id": "out"}',
    b'{"id": "out", "out": "x"}', b'{"out": "x"' + b" " * 70 + b"}"])
def test_last_text_leaves_what_it_cannot_prove_to_the_check(line: bytes) -> None:
    """Not the last value, another occurrence of the key (however spelt: a backslash before
    the value is enough to give up; a value spelt as the key too), not a string: None, and
    the caller checks the line."""
    assert fastlog.last_text(line, _LAST(line).out, "out") is None


@pytest.mark.parametrize("line", [b'{"out": "caf\xe9"}', b'{"out": "\xed\xa0\x80"}',
                                  b'{"out": "\xf0\x9f"}'])
def test_last_text_refuses_what_orjson_refuses(line: bytes) -> None:
    """msgspec skipped the text without checking its UTF-8: orjson refuses the line."""
    with pytest.raises(orjson.JSONDecodeError):
        orjson.loads(line)
    with pytest.raises(fastlog.UnfitError):
        fastlog.last_text(line, _LAST(line).out, "out")


@pytest.mark.parametrize("line", [b'{"out": "a\x01"}', b'{"out": "\\x"}',
                                  b'{"out": "\\ud800"}', b'{"out": "\\ud800\\u0041"}'])
def test_msgspec_checks_the_text_it_skips_but_its_utf8(line: bytes) -> None:
    """What `last_text` leaves to msgspec: control characters, escapes and surrogates of a
    raw text (if a msgspec release stopped checking them, this fails)."""
    with pytest.raises(msgspec.DecodeError):
        _LAST(line)


@pytest.mark.parametrize("line", [
    b'{"a": "\xff"}', b'{"a": "ok", "b": ["\xed\xa0\x80"]}', b'{"a": "\xffx", "a": "ok"}',
    b'{"a": 1e400, "a": "ok"}', b'{"a": "ok", "b": [1], "b": [-1e999]}', b'{"a": "ok", "b": {}}',
    b'{"a": "ok", "b": [' + b"[" * 1100 + b"]" * 1100 + b"]}"])
def test_checked_refuses_what_orjson_refuses_in_raw_values(line: bytes) -> None:
    """msgspec checks nothing inside a raw value and keeps the last of a duplicated key: the
    second, reading decode refuses bad UTF-8, numbers orjson cannot read and shapes the
    Struct does not take, in every occurrence (orjson itself refuses all but the last line
    too, which is a shape the Struct does not take)."""
    fields: list[Any] = [("a", msgspec.Raw), ("b", list[msgspec.Raw], [])]
    struct = msgspec.defstruct("Sample", fields, **fastlog.NATIVE_STRUCT)
    checked = fastlog.Checked(struct)
    with pytest.raises(fastlog.UNFIT):
        checked.check(line)
    good = b'{"a": "\xc3\xa9", "b": [1, "x"]}'
    checked.check(good)
    assert bytes(checked.decode_raw(good).a) == b'"\xc3\xa9"'


@pytest.mark.parametrize("line", [
    b'{"item": {"type": "a", "value": "\xff"}, "item": {"type": "b"}}',
    b'{"items": [{"type": "a", "value": "\xff"}], "items": []}'])
def test_a_duplicated_key_hides_a_raw_value_only_check_reads(line: bytes) -> None:
    """A duplicated key can hide an earlier value that held a raw value (a raw-bearing union
    member, then one without; a list, then an empty one): the kept value holds no raw value,
    so a caller deciding by it would take a line orjson refuses (why `Checked` says to decide
    by the line's Struct); `check` refuses it."""
    with_raw = msgspec.defstruct("WithRaw", [("value", msgspec.Raw)], tag="a", tag_field="type",
                                 **fastlog.NATIVE_STRUCT)
    without = msgspec.defstruct("WithoutRaw", [], tag="b", tag_field="type",
                                **fastlog.NATIVE_STRUCT)
    member: Any = with_raw | without
    listed: Any = list[with_raw]  # type: ignore[valid-type]
    fields: list[Any] = [("item", member, None), ("items", listed, [])]
    checked = fastlog.Checked(msgspec.defstruct("Holder", fields, **fastlog.NATIVE_STRUCT))
    with pytest.raises(orjson.JSONDecodeError):
        orjson.loads(line)
    kept = checked.decode_raw(line)
    assert kept.items == [] and type(kept.item) is not with_raw
    with pytest.raises(fastlog.UNFIT):
        checked.check(line)


@pytest.mark.parametrize("lane_id", sorted(FAST_LANES))
def test_a_duplicated_raw_key_is_read_as_orjson_reads_it(lane_id: str) -> None:
    """The first of two `text`/`output`/`stdout` keys holding bad UTF-8: orjson refuses the
    line, so the fast path must not take it (msgspec alone keeps the last and never looks at
    the first)."""
    lane = FAST_LANES[lane_id]
    lines = {"codex-native": _jsonl(CODEX_RUN), "gemini-cli": _jsonl(GEMINI_RUN),
             "claude-code": _jsonl(_claude_lines("shell_ok"))}[lane_id].splitlines()
    doubled = [re.sub(rb'"(text|output|stdout)":"', lambda m: b'"' + m.group(1) + b'":"\xff",'
                      + b'"' + m.group(1) + b'":"', line.replace(b'": "', b'":"'), count=1)
               for line in lines]
    assert doubled != lines
    _, error = assert_same(lane, b"\n".join(doubled) + b"\n", RunContext())
    assert error is not None and "invalid UTF-8" in error


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from([b"a", b"\n", b"\r", b" ", b"{}", b"\xe6\x97\xa5"]),
                max_size=200), st.integers(1, 9))
def test_numbered_lines_are_the_streams_lines(parts: list[bytes], block: int) -> None:
    data = b"".join(parts)
    original = fastlog.BLOCK
    fastlog.BLOCK = block
    try:
        got = [(number, bytes(line)) for number, line in
               fastlog.numbered_lines(io.BytesIO(data))]
    finally:
        fastlog.BLOCK = original
    assert got == list(enumerate(io.BytesIO(data), start=1))


def test_numbered_lines_do_not_wait_for_a_full_block() -> None:
    """A live pipe streams: a line is handed out as soon as it has arrived (read1)."""
    class Trickle(io.RawIOBase):
        def __init__(self) -> None:
            self.parts = [b'{"a": 1}\n', b'{"b": 2}\n']

        def readable(self) -> bool:
            return True

        def readinto(self, buffer: Any) -> int:
            if not self.parts:
                raise AssertionError("read past the first line before handing it out")
            part = self.parts.pop(0)
            buffer[: len(part)] = part
            return len(part)

    lines = fastlog.numbered_lines(io.BufferedReader(Trickle()))
    assert bytes(next(lines)[1]) == b'{"a": 1}\n'


@pytest.mark.parametrize("model", [CommandExecution, ItemUpdated])
def test_template_is_the_models_field_order(model: type[BaseModel]) -> None:
    fields = fastlog.template(model)
    assert list(fields) == list(model.model_fields)
    with pytest.raises(TypeError):
        fastlog.template(model, no_such_field=1)


def test_struct_of_reads_what_the_strict_model_reads() -> None:
    """The derived Struct refuses what the strict pydantic model refuses: wrong types, bools
    for ints, ints orjson would read as floats; and takes the model's defaults."""
    class Native(BaseModel):
        model_config = {"strict": True, "extra": "ignore"}
        name: str
        count: int | None = None
        flags: list[bool] = []
        payload: Any = None

    decode = msgspec.json.Decoder(fastlog.struct_of(Native)).decode
    ok: Any = decode(b'{"name": "n", "count": 3, "flags": [true], "payload": {"a": [1.5]}}')
    assert (ok.name, ok.count, ok.flags) == ("n", 3, [True])
    assert fastlog.free(ok.payload) == {"a": [1.5]}
    default: Any = decode(b'{"name": "n"}')
    assert (default.count, default.flags, fastlog.free(default.payload)) == (None, [], None)
    for bad in (b'{"name": 1}', b'{"name": "n", "count": true}', b'{"name": "n", "count": 1.0}',
                b'{"name": "n", "count": 18446744073709551616}', b'{"name": "n", "x": 1}',
                b'{"count": 1}'):
        with pytest.raises(msgspec.ValidationError):
            decode(bad)
