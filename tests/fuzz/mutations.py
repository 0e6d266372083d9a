"""Hypothesis strategies that damage real native inputs: JSONL streams and HTTP cassettes.

Each strategy draws a `Mutation` (a readable description plus a pure `bytes -> bytes` function)
rather than the damaged bytes, so a failing example prints as e.g. `cut_sse_event(i=1, k=3)` and
shrinks toward the simplest damage. Positions are drawn as plain integers and reduced modulo the
input's size when applied, so one mutation fits any input.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import yaml
from hypothesis import strategies as st

Apply = Callable[[bytes], bytes]


@dataclass(frozen=True)
class Mutation:
    """One kind of damage; `repr` is what hypothesis prints for a failing example."""

    name: str
    apply: Apply

    def __repr__(self) -> str:
        return self.name


def chain(mutations: list[Mutation]) -> Mutation:
    """Several mutations applied in order."""

    def apply(data: bytes) -> bytes:
        for mutation in mutations:
            data = mutation.apply(data)
        return data

    return Mutation(" + ".join(m.name for m in mutations), apply)


POSITION = st.integers(0, 2**31)
WRONG_VALUES: list[Any] = [None, 0, -1, 2**63, 1.5, "", "x", [], {}, True, [None], {"": None}]
"""Values of the wrong type (or the right type and absurd) swapped into a field."""

# ------------------------------------------------------------------------------- byte level

DEEP = b'{"type": "item.completed", "item": ' + b"[" * 5000 + b"]" * 5000 + b"}\n"
JUNK_LINES: list[bytes] = [
    b"garbage\n",
    b"[]\n",
    b"null\n",
    b'"just a string"\n',
    b"42\n",
    b"{}\n",
    b"{\n",
    b'{"type": null}\n',
    b'{"type": 7}\n',
    b'{"type": ["item.completed"]}\n',
    b'{"type": "brand.new.event", "x": 1}\n',
    b'{"type": "item.completed", "item": {"id": "z9", "type": "brand_new_item", "v": [1]}}\n',
    b'{"type": "item.completed", "item": {"id": "z9", "type": "agent_message"}}\n',
    b'{"type": "item.updated", "item": {"id": "never_started", "type": "reasoning", '
    b'"text": "t"}}\n',
    b'{"type": "item.completed", "item": null}\n',
    b'{"type": "item.started", "item": {"id": null, "type": "command_execution"}}\n',
    b'{"type": "item.completed", "item": {"id": "z8", "type": "command_execution", '
    b'"command": 1, "exit_code": "0"}}\n',
    b'{"type": "turn.completed", "usage": {"input_tokens": -5, "output_tokens": 1e300}}\n',
    b'{"type": "turn.completed", "usage": "lots"}\n',
    b'{"type": "turn.failed", "error": null}\n',
    b'{"type": "turn.started"}\n',
    b'{"type": "thread.started"}\n',
    b'{"type": "thread.started", "thread_id": "other-thread"}\n',
    b'{"type": "error"}\n',
    b'{"type": "result", "subtype": 5}\n',
    b'{"type": "system", "subtype": "init"}\n',
    b'{"type": "assistant", "message": null}\n',
    b'{"type": "user", "message": {"content": [{"type": "tool_result"}]}}\n',
    b'{"type": "message", "role": 3, "content": null, "delta": true}\n',
    b'{"type": "tool_use", "tool_id": null}\n',
    b'{"type": "tool_result", "tool_id": "nope", "status": "weird"}\n',
    b'{"type": "init", "session_id": []}\n',
    b'{"type": "item.completed", "item": {"id": "u", "type": "x\xc3"}}\n',
    b"\xff\xfe\xfa not utf-8\n",
    b'\xef\xbb\xbf{"type": "turn.started"}\n',
    b'{"type": "turn.started", "n": NaN}\n',
    b'{"type": "turn.started", "n": 123456789012345678901234567890}\n',
    b'{"type": "error", "message": "\\ud800 lone surrogate"}\n',
    b'{"type": "error", "message": "nul \\u0000 and \x01 controls"}\n',
    b'{"type": "turn.started", "type": "turn.completed"}\n',
    b"   \t  \n",
    b"\r\n",
    DEEP,
]
"""Lines a hostile or broken producer might print, for every JSONL lane."""


def _cut(at: int) -> Mutation:
    return Mutation(f"cut(at={at})", lambda d: d[: at % (len(d) + 1)])


def _cut_mid_char(k: int) -> Mutation:
    """Cut right after the lead byte of a multi-byte UTF-8 character (plain cut if none)."""

    def apply(data: bytes) -> bytes:
        leads = [i for i, b in enumerate(data) if b >= 0xC0]
        return data[: leads[k % len(leads)] + 1] if leads else data[: k % (len(data) + 1)]

    return Mutation(f"cut_mid_char(k={k})", apply)


def _flip(at: int, mask: int) -> Mutation:
    def apply(data: bytes) -> bytes:
        if not data:
            return data
        i = at % len(data)
        return data[:i] + bytes([data[i] ^ mask]) + data[i + 1:]

    return Mutation(f"flip(at={at}, mask={mask:#x})", apply)


def byte_mutations() -> st.SearchStrategy[Mutation]:
    """Damage that ignores structure: cut at any byte, mid-UTF-8 character, flipped bits."""
    return st.one_of(
        st.builds(_cut, POSITION),
        st.builds(_cut_mid_char, POSITION),
        st.builds(_flip, POSITION, st.integers(1, 255)),
    )


# ------------------------------------------------------------------------------- JSONL lines


def _lines(data: bytes) -> list[bytes]:
    return data.splitlines(keepends=True) or [b""]


def _line_op(name: str, op: Callable[[list[bytes]], None]) -> Mutation:
    def apply(data: bytes) -> bytes:
        lines = _lines(data)
        op(lines)
        return b"".join(lines)

    return Mutation(name, apply)


def insert_line(i: int, junk: bytes) -> Mutation:
    return _line_op(f"insert(i={i}, {junk[:60]!r})",
                    lambda ls: ls.insert(i % (len(ls) + 1), junk))


def duplicate_line(i: int, j: int) -> Mutation:
    """Insert a copy of line j before line i (a replayed native line)."""
    return _line_op(f"duplicate(i={i}, j={j})",
                    lambda ls: ls.insert(i % (len(ls) + 1), ls[j % len(ls)]))


def swap_lines(i: int, j: int) -> Mutation:
    def op(ls: list[bytes]) -> None:
        a, b = i % len(ls), j % len(ls)
        ls[a], ls[b] = ls[b], ls[a]

    return _line_op(f"swap(i={i}, j={j})", op)


def _drop(i: int) -> Mutation:
    def op(ls: list[bytes]) -> None:
        del ls[i % len(ls)]

    return _line_op(f"drop(i={i})", op)


def _cut_at_line(i: int) -> Mutation:
    def apply(data: bytes) -> bytes:
        lines = _lines(data)
        return b"".join(lines[: i % (len(lines) + 1)])

    return Mutation(f"cut_at_line(i={i})", apply)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every key/index path inside a JSON value (the value itself excluded)."""
    found: list[tuple[Any, ...]] = []
    items: list[tuple[Any, Any]] = (
        list(value.items()) if isinstance(value, dict)
        else list(enumerate(value)) if isinstance(value, list) else [])
    for key, child in items:
        found.append((*prefix, key))
        found.extend(_paths(child, (*prefix, key)))
    return found


def _edit_json(value: Any, k: int, replacement: Any, *, delete: bool) -> Any:
    """Replace (or delete) the k-th nested field of a parsed JSON value, in place."""
    paths = _paths(value)
    if not paths:
        return value
    *parents, last = paths[k % len(paths)]
    target = value
    for key in parents:
        target = target[key]
    if delete:
        del target[last]
    else:
        target[last] = replacement
    return value


def _json_line(value: Any) -> bytes:
    """One JSON line, non-ASCII text kept readable; a lone surrogate the line held as an escape
    (`"\\ud800"`, which UTF-8 cannot encode) stays an escape."""
    try:
        return json.dumps(value, ensure_ascii=False).encode() + b"\n"
    except UnicodeEncodeError:
        return json.dumps(value).encode() + b"\n"


def _retype(i: int, k: int, replacement: Any, *, delete: bool = False) -> Mutation:
    """Give one field of one JSON line a wrong-typed value (or remove it)."""

    def op(ls: list[bytes]) -> None:
        n = i % len(ls)
        try:
            parsed = json.loads(ls[n])
        except (ValueError, RecursionError):  # a junk line nested too deep to edit
            return
        ls[n] = _json_line(_edit_json(parsed, k, replacement, delete=delete))

    what = "delete" if delete else f"= {replacement!r}"
    return _line_op(f"retype(line={i}, field={k}, {what})", op)


def jsonl_mutation() -> st.SearchStrategy[Mutation]:
    """One damage to a JSONL stream: byte damage, junk lines, reordering, wrong-typed fields."""
    return st.one_of(
        byte_mutations(),
        st.builds(_cut_at_line, POSITION),
        st.builds(insert_line, POSITION, st.sampled_from(JUNK_LINES)),
        st.builds(duplicate_line, POSITION, POSITION),
        st.builds(swap_lines, POSITION, POSITION),
        st.builds(_drop, POSITION),
        st.builds(_retype, POSITION, POSITION, st.sampled_from(WRONG_VALUES)),
        st.builds(lambda i, k: _retype(i, k, None, delete=True), POSITION, POSITION),
    )


def jsonl_mutations() -> st.SearchStrategy[Mutation]:
    """One to three stacked JSONL damages."""
    return st.lists(jsonl_mutation(), min_size=1, max_size=3).map(chain)


# ------------------------------------------------------------------------------- cassettes

JUNK_SSE_EVENTS: list[str] = [
    "event: response.output_text.delta\n",  # an event without data
    "event: content_block_delta\n",
    "data:\n",
    "data: not json\n",
    "data: {}\n",
    "data: []\n",
    "data: null\n",
    "data: [DONE]\n",
    ": a comment line\n",
    "retry: 10\nid: 5\n",
    'event: brand.new\ndata: {"type": "brand.new", "x": 1}\n',
    'data: {"type": "response.output_item.added"}\n',
    'data: {"type": "response.output_item.done", "item": {"type": "message"}}\n',
    'data: {"type": "response.completed", "response": null}\n',
    'data: {"type": "content_block_delta", "index": 99, "delta": {"type": "text_delta"}}\n',
    'data: {"type": "content_block_start", "index": 0, "content_block": null}\n',
    'data: {"type": "message_delta", "delta": {}, "usage": "many"}\n',
    'data: {"candidates": [{"content": {"parts": [{"functionCall": null}]}}]}\n',
    'data: {"candidates": "none", "usageMetadata": {"promptTokenCount": -1}}\n',
    'data: {"error": {"code": 500, "message": "boom", "status": "INTERNAL"}}\n',
    'event: error\ndata: {"type": "error", "error": {"type": "overloaded_error", '
    '"message": "Overloaded"}}\n',
    'data: {"type": "error", "code": "server_error", "message": "boom"}\n',
    "data: " + "[" * 3000 + "]" * 3000 + "\n",
    # well-formed events whose text field has the wrong type (the SDKs do not validate)
    'data: {"type": "response.output_text.delta", "item_id": "msg_x", "output_index": 0, '
    '"content_index": 0, "delta": {}, "sequence_number": 3}\n',
    'data: {"type": "response.reasoning_summary_text.delta", "item_id": 7, '
    '"output_index": 0, "summary_index": 0, "delta": ["x"], "sequence_number": 3}\n',
    'data: {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", '
    '"text": {}}}\n',
    'data: {"type": "content_block_delta", "index": 0, "delta": {"type": "input_json_delta", '
    '"partial_json": 5}}\n',
    'data: {"candidates": [{"content": {"role": "model", "parts": [{"text": ["x"]}]}, '
    '"index": 0}]}\n',
]
"""SSE events a broken server or proxy might send, for every provider's stream."""

ERROR_BODIES: list[str] = [
    '{"error": {"message": "Rate limit reached", "type": "requests", '
    '"code": "rate_limit_exceeded"}}',
    '{"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}',
    '{"error": {"code": 429, "message": "Resource exhausted", "status": "RESOURCE_EXHAUSTED"}}',
    "<html><body><h1>502 Bad Gateway</h1></body></html>",
    "",
    "not json at all",
    '{"error": null}',
]
"""HTTP 4xx/5xx answer bodies: each provider's error shape, a proxy's HTML page, nothing."""

ERROR_STATUSES = [400, 401, 403, 404, 408, 413, 422, 429, 500, 502, 503, 504, 529]

FIELD_PATHS: list[tuple[str, ...]] = [
    ("request",), ("response",), ("request", "method"), ("request", "uri"),
    ("request", "body"), ("request", "headers"), ("response", "status"),
    ("response", "status", "code"), ("response", "status", "message"),
    ("response", "headers"), ("response", "body"), ("response", "body", "string"),
]
"""Fields of a vcrpy interaction that a hand-edited or foreign cassette may lack or mistype."""

Doc = dict[str, Any]
DocOp = Callable[[Doc, list[Any]], None]


def _doc_mutation(name: str, op: DocOp) -> Mutation:
    """A mutation of the parsed cassette; text that is not a cassette dict passes unchanged."""

    def apply(data: bytes) -> bytes:
        try:
            doc = yaml.safe_load(data)
        except (yaml.YAMLError, RecursionError):
            return data
        if not isinstance(doc, dict) or not isinstance(doc.get("interactions"), list) \
                or not doc["interactions"]:
            return data
        op(doc, doc["interactions"])
        return yaml.safe_dump(doc, allow_unicode=True, sort_keys=False).encode()

    return Mutation(name, apply)


def _pick(interactions: list[Any], i: int) -> dict[str, Any] | None:
    target = interactions[i % len(interactions)]
    return target if isinstance(target, dict) else None


def _body_of(target: dict[str, Any]) -> bytes | None:
    try:
        body = target["response"]["body"]["string"]
    except (KeyError, TypeError):
        return None
    return body.encode() if isinstance(body, str) else body if isinstance(body, bytes) else None


def _set_body(target: dict[str, Any], body: bytes) -> None:
    """Store text as text and anything else as YAML !!binary (vcrpy reads both)."""
    try:
        target["response"]["body"]["string"] = body.decode("utf-8")
    except UnicodeDecodeError:
        target["response"]["body"]["string"] = body


def _body_op(name: str, edit: Callable[[bytes], bytes], i: int) -> Mutation:
    def op(_doc: Doc, interactions: list[Any]) -> None:
        target = _pick(interactions, i)
        body = _body_of(target) if target is not None else None
        if target is not None and body is not None:
            _set_body(target, edit(body))

    return _doc_mutation(name, op)


def _sse_events(body: bytes) -> tuple[list[bytes], bytes]:
    sep = b"\r\n\r\n" if b"\r\n\r\n" in body else b"\n\n"
    return body.split(sep), sep


def _cut_body(i: int, at: int) -> Mutation:
    return _body_op(f"cut_body(i={i}, at={at})", lambda b: b[: at % (len(b) + 1)], i)


def _cut_sse_event(i: int, k: int, part: int) -> Mutation:
    """Keep the first k SSE events of one answer and a piece of the next one."""

    def edit(body: bytes) -> bytes:
        events, sep = _sse_events(body)
        n = k % len(events)
        return sep.join(events[:n]) + sep + events[n][: part % (len(events[n]) + 1)]

    return _body_op(f"cut_sse_event(i={i}, k={k}, part={part})", edit, i)


def _drop_data(i: int, k: int) -> Mutation:
    """Remove the `data:` lines of one SSE event: an event without data."""

    def edit(body: bytes) -> bytes:
        events, sep = _sse_events(body)
        n = k % len(events)
        events[n] = b"\n".join(x for x in events[n].split(b"\n") if not x.startswith(b"data:"))
        return sep.join(events)

    return _body_op(f"drop_data(i={i}, k={k})", edit, i)


def insert_sse(i: int, k: int, junk: str) -> Mutation:
    def edit(body: bytes) -> bytes:
        events, sep = _sse_events(body)
        events.insert(k % (len(events) + 1), junk.rstrip("\n").encode())
        return sep.join(events)

    return _body_op(f"insert_sse(i={i}, k={k}, {junk[:50]!r})", edit, i)


def _status(i: int, code: int, body: str | None) -> Mutation:
    """An HTTP error status, with a provider error body (or the original body when None)."""

    def op(_doc: Doc, interactions: list[Any]) -> None:
        target = _pick(interactions, i)
        if target is None or not isinstance(target.get("response"), dict):
            return
        target["response"]["status"] = {"code": code, "message": "Error"}
        if body is not None:
            target["response"]["headers"] = {"content-type": ["application/json"]}
            target["response"]["body"] = {"string": body}

    return _doc_mutation(f"status(i={i}, {code}, body={body!r:.40})", op)


def _gzip(i: int, how: str) -> Mutation:
    """Mark one answer gzip- or deflate-encoded and make its body corrupt (or really gzip)."""

    def op(_doc: Doc, interactions: list[Any]) -> None:
        target = _pick(interactions, i)
        body = _body_of(target) if target is not None else None
        if target is None or body is None:
            return
        packed = gzip.compress(body)
        encoded = {"garbage": b"\x1f\x8b\x08\x00garbage", "truncated": packed[: len(packed) // 2],
                   "valid": packed, "deflate_garbage": b"\x78\x9cnot deflate",
                   "plain_but_marked": body}[how]
        encoding = "deflate" if how == "deflate_garbage" else "gzip"
        headers = target["response"].get("headers")
        target["response"]["headers"] = {**(headers if isinstance(headers, dict) else {}),
                                         "content-encoding": [encoding]}
        target["response"]["body"]["string"] = encoded

    return _doc_mutation(f"gzip(i={i}, {how})", op)


def set_field(i: int, path: tuple[str, ...], replacement: Any, *, delete: bool) -> Mutation:
    """Set (or delete) one field of interaction i, e.g. a request body that is a number."""
    def op(_doc: Doc, interactions: list[Any]) -> None:
        target: Any = _pick(interactions, i)
        for key in path[:-1]:
            if not isinstance(target, dict) or key not in target:
                return
            target = target[key]
        if not isinstance(target, dict):
            return
        if delete:
            target.pop(path[-1], None)
        else:
            target[path[-1]] = replacement

    what = "delete" if delete else f"= {replacement!r}"
    return _doc_mutation(f"field(i={i}, {'.'.join(path)} {what})", op)


def request_json(i: int, k: int, replacement: Any) -> Mutation:
    """Give one field of a recorded request body a wrong-typed value."""

    def op(_doc: Doc, interactions: list[Any]) -> None:
        target = _pick(interactions, i)
        if target is None or not isinstance(target.get("request"), dict):
            return
        try:
            body = json.loads(target["request"].get("body") or "")
        except (ValueError, TypeError, RecursionError):
            return
        target["request"]["body"] = json.dumps(_edit_json(body, k, replacement, delete=False))

    return _doc_mutation(f"request_json(i={i}, field={k}, = {replacement!r})", op)


def _interactions_op(name: str, i: int, j: int) -> Mutation:
    def op(doc: Doc, interactions: list[Any]) -> None:
        a, b = i % len(interactions), j % len(interactions)
        if name == "drop":
            del interactions[a]
        elif name == "duplicate":
            interactions.insert(a, interactions[b])
        elif name == "swap":
            interactions[a], interactions[b] = interactions[b], interactions[a]
        elif name == "not_a_list":
            doc["interactions"] = {"0": interactions[a]}

    return _doc_mutation(f"interactions_{name}(i={i}, j={j})", op)


def cassette_mutation() -> st.SearchStrategy[Mutation]:
    """One damage to a vcrpy cassette: byte damage of the file, damaged SSE bodies, HTTP error
    answers, corrupt gzip bodies, missing or mistyped fields, dropped/reordered interactions."""
    return st.one_of(
        byte_mutations(),
        st.builds(_cut_body, POSITION, POSITION),
        st.builds(_cut_sse_event, POSITION, POSITION, POSITION),
        st.builds(_drop_data, POSITION, POSITION),
        st.builds(insert_sse, POSITION, POSITION, st.sampled_from(JUNK_SSE_EVENTS)),
        st.builds(_status, POSITION, st.sampled_from(ERROR_STATUSES),
                  st.one_of(st.none(), st.sampled_from(ERROR_BODIES))),
        st.builds(_gzip, POSITION, st.sampled_from(
            ["garbage", "truncated", "valid", "deflate_garbage", "plain_but_marked"])),
        st.builds(lambda i, p: set_field(i, p, None, delete=True), POSITION,
                  st.sampled_from(FIELD_PATHS)),
        st.builds(lambda i, p, v: set_field(i, p, v, delete=False), POSITION,
                  st.sampled_from(FIELD_PATHS), st.sampled_from(WRONG_VALUES)),
        st.builds(request_json, POSITION, POSITION, st.sampled_from(WRONG_VALUES)),
        st.builds(_interactions_op, st.sampled_from(["drop", "duplicate", "swap", "not_a_list"]),
                  POSITION, POSITION),
    )


def cassette_mutations() -> st.SearchStrategy[Mutation]:
    """One to three stacked cassette damages."""
    return st.lists(cassette_mutation(), min_size=1, max_size=3).map(chain)
