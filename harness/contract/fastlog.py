"""The JSONL lanes' fast path: native lines decoded by msgspec Structs and normalized events
written as plain dicts in one orjson pass, byte for byte what the pydantic path writes.

Why: normalizing sits on the hot path of every pipeline that reads normalized logs (issue 17),
and per native line, validating and building pydantic models cost more than parsing the line.
The pydantic models stay the contract (the schema's source, `harness validate`'s validator, what
a lane's `normalize` yields); this module only writes the same bytes faster, for the lines a
lane's fast path models (`LaneSpec.normalize_lines`).

A fast path takes a line only when it can prove it reads it as the pydantic path does; anything
else it refuses (`UnfitError`) before touching the lane's state, and the lane's pydantic path reads
that line. So every error text, every lenient recovery and every rare shape still comes from the
one pydantic path. What the proof takes (tests/test_fastlog.py holds each to a test):

- msgspec accepts what orjson plus a strict pydantic model accept, or less. Structs forbid
  unknown fields (msgspec skips them without checking their UTF-8 or their numbers, which orjson
  refuses); integers are bounded to orjson's 64 bits (beyond them orjson reads a float, which a
  strict int refuses). msgspec checks nothing inside a value it keeps raw, and keeps only the
  last of a duplicated key: so a line whose Struct can hold a raw value is decoded twice
  (`Checked`), once with its raw values kept (for the output) and once with them read (which
  checks every occurrence of every key as orjson would), unless `last_text` proves its one raw
  text; a free-form value is read by orjson itself
  (`free`), so it is the very value the pydantic path holds.
- Bytes: an event is a dict holding its fields in model order with the models' defaults
  (`template`), written by orjson as `dump_event` writes a model; a text whose JSON already is
  what orjson would write goes through as it came (`orjson.Fragment`), not decoded and encoded.
"""

from __future__ import annotations

import re
import typing
from collections.abc import Callable, Iterable, Iterator
from typing import Annotated, Any, BinaryIO, Literal, TypeAlias, Union

import msgspec
import orjson
from pydantic import BaseModel

from harness.contract.model import Event, dump_event_line

DUMP_OPTIONS = orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_PASSTHROUGH_DATETIME
"""What `harness.contract.model.dump_event` passes orjson (nothing here needs more)."""
LINE_OPTIONS = DUMP_OPTIONS | orjson.OPT_APPEND_NEWLINE


class UnfitError(Exception):
    """This line is not for the fast path: the lane's pydantic path reads it."""


UNFIT = (UnfitError, msgspec.DecodeError, RecursionError)
"""What a fast path's `feed` catches to hand a line to the pydantic path (msgspec's
`ValidationError` is a `DecodeError`; a line nested past msgspec's depth is a RecursionError)."""

Int64: TypeAlias = Annotated[int, msgspec.Meta(ge=-(2**63), le=2**63 - 1)]
"""An integer orjson surely reads as an int: beyond 64 bits orjson reads a float, which a strict
pydantic int refuses, while msgspec would read an int (msgspec bounds fit in an int64, so the
unsigned top half, which orjson still reads as ints, goes to the pydantic path too)."""

NATIVE_STRUCT: dict[str, Any] = {"forbid_unknown_fields": True, "frozen": True}
"""Options of every native Struct (unknown fields go to the pydantic path, see module doc)."""


# ------------------------------------------------------------------------------- values


def text(raw: msgspec.Raw) -> str | orjson.Fragment:
    """A JSON string of a checked line (`Checked`), ready for the output: its own bytes when
    orjson would write them so (no `\\u` or `\\/` escape: orjson writes every other escape the
    same way, and JSON allows nothing unescaped that orjson escapes), else the decoded string.
    Anything but a string is `UnfitError` (a strict `str` refuses it)."""
    data = bytes(raw)
    if data[:1] != b'"':
        raise UnfitError
    if _REWRITTEN.search(data) is None:
        return orjson.Fragment(data)
    return string(raw)


_REWRITTEN = re.compile(rb"\\[u/]")
"""The escapes orjson would write otherwise (a regex scans for them faster than `bytes.find`
for two bytes); a `\\u` after an escaped backslash only costs a needless decode."""


def _sole_value(line: bytes | memoryview, data: bytes, key: str) -> bool:
    """Whether `data` (the bytes of a raw value a Struct decoded from `line` for `key`, the
    Struct's only raw field, without `Checked`'s second decode) is the only value of `key` in
    the line: then reading that value as orjson does (`last_text`) checks all that orjson
    checks in the line beyond the Struct's typed fields, without a second decode.

    The proof: `data` ends the line (`"key": <data>}`), and the rest of the line has no
    backslash and holds `"key"` once, so `key` has no other occurrence msgspec skipped
    unchecked (without a backslash a key has one spelling, and `"key"` can only be a whole key
    or string token outside the value). The line's last key being `key`, the value after it is
    the one msgspec kept, so its length places it: only its ends are compared (copying a long
    value to compare it whole cost as much as the rest of the proof)."""
    view = memoryview(line)  # not copied: the line may be as long as the value
    tail = bytes(view[-_TAIL:]).rstrip(_WHITESPACE)  # `}`, spaces and the newline, mostly
    if not tail.endswith(b"}"):
        return False
    kept = len(tail[:-1].rstrip(_WHITESPACE))
    if not kept:  # more spaces than `_TAIL`: not worth it
        return False
    stop = len(view) - min(len(view), _TAIL) + kept
    start = stop - len(data)
    ends = min(len(data), 16)
    if start < 0 or bytes(view[start:start + ends]) != data[:ends] \
            or bytes(view[stop - ends:stop]) != data[len(data) - ends:]:  # (the ends will do)
        return False
    rest = bytes(view[:start]).rstrip(_WHITESPACE)
    name = b'"' + key.encode() + b'"'
    return rest.endswith(b":") and rest[:-1].rstrip(_WHITESPACE).endswith(name) \
        and b"\\" not in rest and rest.count(name) == 1


def last_text(line: bytes | memoryview, raw: msgspec.Raw, key: str
              ) -> str | orjson.Fragment | None:
    """The JSON string `raw`, the only value of `key` in `line` (`_sole_value`), read as orjson
    reads it and ready for the output (as `text`); None when that is not proved cheaply (then
    the caller checks the line as `Checked` does).

    Why: a long text (a tool's output) costs a full decode to check and a full encode to
    write, while its bytes usually are what orjson would write. In the text it skipped msgspec
    checked the escapes, surrogates and control characters but not the UTF-8, which is checked
    here (`UnfitError` when bad: orjson refuses the line)."""
    data = bytes(raw)
    if data[:1] != b'"' or not _sole_value(line, data, key):
        return None
    if not data.isascii():
        try:
            data.decode()
        except UnicodeDecodeError:
            raise UnfitError from None
    if _REWRITTEN.search(data) is None:
        return orjson.Fragment(data)
    return string(raw)


_WHITESPACE = b" \t\r\n"
"""What JSON allows between tokens."""
_TAIL = 64


def string(raw: msgspec.Raw) -> str:
    """A JSON string of the input as a str (orjson reads it: same checks as the pydantic path)."""
    try:
        value = orjson.loads(memoryview(raw))
    except orjson.JSONDecodeError:
        raise UnfitError from None
    if type(value) is not str:
        raise UnfitError
    return value


def free(raw: msgspec.Raw) -> Any:
    """A free-form value (tool arguments, results) exactly as orjson reads it for the pydantic
    path (msgspec would read an int beyond 64 bits, orjson a float)."""
    try:
        return orjson.loads(memoryview(raw))
    except orjson.JSONDecodeError:
        raise UnfitError from None


def template(model: type[BaseModel], **values: Any) -> dict[str, Any]:
    """A model's fields in declaration order (the order `dump_event` writes them) with their
    defaults, then `values`; a required field holds None until the caller sets it. Built from
    the model, so a field added there with a default reaches the fast path's output too."""
    fields = {name: None if field.is_required() else field.get_default(call_default_factory=True)
              for name, field in model.model_fields.items()}
    unknown = values.keys() - fields.keys()
    if unknown:
        raise TypeError(f"{model.__name__} has no field {sorted(unknown)}")
    fields.update(values)
    return fields


def _model_dict(value: object) -> dict[str, Any]:
    """orjson `default` for a model held inside a dict (a file change's entries): its fields,
    as `dump_event` writes them."""
    if isinstance(value, BaseModel):
        return value.__dict__
    raise TypeError


def event_lines(events: Iterable[Event]) -> bytes:
    """Events the lane's own steps made (pydantic models), as the pydantic path writes them:
    for a fast path that hands a line's rarer outcomes to the translator."""
    return b"".join([dump_event_line(event) for event in events])


def dumps_line(event: dict[str, Any]) -> bytes:
    """One event given as a dict (fields in model order), as `dump_event_line` writes it."""
    return orjson.dumps(event, default=_model_dict, option=LINE_OPTIONS)


# ------------------------------------------------------------------------------- structs


def struct_of(model: type[BaseModel], *, tag: str | None = None, raw: frozenset[str] = frozenset(),
              extra: tuple[tuple[str, Any], ...] = (), name: str | None = None
              ) -> type[msgspec.Struct]:
    """The msgspec Struct reading what a strict native pydantic model reads (same fields, types
    and defaults: the runtime's shapes are written once, as pydantic models), tagged on `type`
    when `tag` is given. Fields named in `raw` stay raw JSON (for `text` or `free`); `Any`
    fields always do (for `free`); `extra` adds fields the model leaves to the lane (an `id`)."""
    fields: list[tuple[str, Any] | tuple[str, Any, Any]] = list(extra)
    for field_name, field in model.model_fields.items():
        annotation = msgspec.Raw if field_name in raw else _convert(field.annotation)
        if field.is_required():
            fields.append((field_name, annotation))
            continue
        default = field.get_default(call_default_factory=True)
        if annotation is msgspec.Raw:
            default = msgspec.Raw(orjson.dumps(default))
        fields.append((field_name, annotation, default))
    options: dict[str, Any] = dict(NATIVE_STRUCT)
    if tag is not None:
        options.update(tag=tag, tag_field="type")
    return msgspec.defstruct(name or f"{model.__name__}Struct", fields, **options)


def _convert(annotation: Any) -> Any:
    """A pydantic field annotation as msgspec reads it (see `struct_of`)."""
    if annotation is Any:
        return msgspec.Raw
    if annotation is int:
        return Int64
    if annotation in (str, bool):
        return annotation
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return struct_of(annotation)
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is Literal:
        return annotation
    if origin is list:
        return list[_convert(args[0])]  # type: ignore[misc]
    if origin is dict and args[0] is str:
        return dict[str, _convert(args[1])]  # type: ignore[misc]
    if origin in (Union, typing.get_origin(int | None)):
        return Union[tuple(_convert(arg) for arg in args)]  # noqa: UP007
    if annotation is type(None):
        return annotation
    raise TypeError(f"no msgspec reading of {annotation!r}")


def _read(annotation: Any) -> Any:
    """`annotation` with every raw value read instead (`msgspec.Raw` -> Any), Structs cloned."""
    if annotation is msgspec.Raw:
        return Any
    if isinstance(annotation, type) and issubclass(annotation, msgspec.Struct):
        return _reading(annotation)
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is list:
        return list[_read(args[0])]  # type: ignore[misc]
    if origin is dict:
        return dict[args[0], _read(args[1])]  # type: ignore[misc,valid-type]
    if origin in (Union, typing.get_origin(int | None)):
        return Union[tuple(_read(arg) for arg in args)]  # noqa: UP007
    return annotation


_READING: dict[type[msgspec.Struct], type[msgspec.Struct]] = {}


def _reading(struct: type[msgspec.Struct]) -> type[msgspec.Struct]:
    """A clone of `struct` (same fields, defaults, tag, options) whose raw values are read."""
    if struct not in _READING:
        config = struct.__struct_config__
        fields: list[tuple[str, Any] | tuple[str, Any, Any]] = []
        for info in msgspec.structs.fields(struct):
            annotation = _read(info.type)
            if info.default is not msgspec.NODEFAULT:
                fields.append((info.name, annotation, info.default))
            elif info.default_factory is not msgspec.NODEFAULT:
                fields.append((info.name, annotation, msgspec.field(
                    default_factory=info.default_factory)))
            else:
                fields.append((info.name, annotation))
        _READING[struct] = msgspec.defstruct(
            f"Read{struct.__name__}", fields, tag=config.tag, tag_field=config.tag_field,
            forbid_unknown_fields=config.forbid_unknown_fields, frozen=config.frozen)
    return _READING[struct]


class Checked:
    """A fast path's two decoders of one annotation. msgspec keeps only the last of a
    duplicated key and checks nothing inside a value it keeps raw (`msgspec.Raw`) but its
    escapes: `decode_raw` reads a line with its raw values kept, `check` reads it again with
    every raw value read (Structs cloned with Raw -> Any), which refuses what orjson refuses in
    every occurrence of every key (see module doc). Lanes keep texts as `str` (checked and read
    in the one decode) and only free-form values raw. Both raise msgspec's errors (`UNFIT`).

    A caller checks every line whose Struct can hold a raw value anywhere, unless it proves the
    raw value otherwise (`last_text`): it decides by the line's Struct, never by the value
    msgspec kept, since a duplicated key may hide an earlier value that held a raw value (the
    first of two `item` keys a member with a raw field, the last one without; a list, then an
    empty one)."""

    def __init__(self, annotation: Any) -> None:
        self.decode_raw = msgspec.json.Decoder(annotation).decode
        self.check = msgspec.json.Decoder(_read(annotation)).decode


# ------------------------------------------------------------------------------- driver


BLOCK = 1 << 20
"""Bytes read at a time by `numbered_lines`."""


def numbered_lines(stream: BinaryIO) -> Iterator[tuple[int, bytes | memoryview]]:
    """(1-based number, line with its newline) for every line of `stream`, as iterating the
    stream gives them, but read a block at a time and handed out as views into the block, not
    copied one by one (a line longer than a block is joined once, as bytes)."""
    number = 0
    pending: list[bytes] = []
    read = getattr(stream, "read1", stream.read)  # what has arrived: a live pipe still streams
    while block := read(BLOCK):
        end = block.find(b"\n")
        if end < 0:
            pending.append(block)
            continue
        start = 0
        if pending:
            pending.append(block[:end + 1])
            number += 1
            yield number, b"".join(pending)
            pending = []
            start, end = end + 1, block.find(b"\n", end + 1)
        view = memoryview(block)
        while end >= 0:
            number += 1
            yield number, view[start:end + 1]
            start, end = end + 1, block.find(b"\n", end + 1)
        if start < len(block):
            pending.append(block[start:])
    if pending:
        yield number + 1, b"".join(pending)


def encoded_lines(stream: BinaryIO, fast: Callable[[bytes | memoryview], bytes | None],
                  slow: Callable[[int, bytes], Iterable[Event]],
                  close: Callable[[int], Iterable[Event]]) -> Iterator[bytes]:
    """A lane's log as JSONL lines: each native line through `fast` (the bytes of its events, or
    None when it is not for the fast path), else through `slow` (the pydantic path, given the
    line number and the line as `harness.contract.jsonl.iter_lines` yields it: blank lines
    skipped, `\\r\\n` stripped); `close` gets the number of the last line read, as after
    `iter_lines`. Every event `slow` and `close` yield is written by `dump_event_line`."""
    last = 0
    for number, raw in numbered_lines(stream):
        written = fast(raw)  # a line it takes is JSON, hence not blank
        if written is not None:
            last = number
            yield written
            continue
        line = bytes(raw).rstrip(b"\r\n")
        del raw
        if line.strip():
            last = number
            for event in slow(number, line):
                yield dump_event_line(event)
    for event in close(last):
        yield dump_event_line(event)
