"""The provider-neutral shell of the HTTP-cassette ("API") lanes: codex-adapter, anthropic, gemini.

Why this module exists: lanes may not import each other, yet the three API lanes wrap their own
SDK translation in the same outer code: spool stdin to a file vcrpy can play, turn a cassette that
cannot be read into a strict error or a lenient notice, classify what an SDK call raised, split a
recorded body into SDK parameters and `extra_body`, map an HTTP status to an error kind, read
provider JSON without letting a hostile nesting depth escape as `RecursionError`, drive a
translator over the replayed interactions. That code lives here once; each lane keeps only its
tables, its SDK calls and its translation. Nothing here names a provider or imports an SDK.
"""

from __future__ import annotations

import inspect
import json
import shutil
import tempfile
from abc import ABC, abstractmethod
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import chain, islice
from pathlib import Path
from typing import Any, Generic, Protocol, TypeVar

import orjson
from pydantic import BaseModel

from harness.contract.builder import LogBuilder, trusted
from harness.contract.errors import FrameError, InputError
from harness.contract.lane import LaneInput, RunContext
from harness.contract.model import (
    Delta,
    Event,
    Item,
    ItemCompleted,
    ItemStarted,
    ItemUpdated,
    Usage,
    dump_event_line,
    model_field_dict,
)
from harness.record.cassette import Interaction
from harness.record.replay import missing_answer, vcr_stream

# ------------------------------------------------------------------------------------- JSON

JSON_ERRORS = (ValueError, UnicodeDecodeError, RecursionError)
"""What reading untrusted JSON may raise: a 3000-deep array is a RecursionError, not a
ValueError, and must count as malformed like any other bad frame."""


def json_or_text(text: str) -> Any:
    """`text` parsed as JSON when it is JSON (of any depth we can read), else `text` itself."""
    try:
        return json.loads(text)
    except JSON_ERRORS:
        return text


def json_or_none(text: str | bytes) -> Any:
    """`text` parsed as JSON, or None when it is not JSON (or too deep to read)."""
    try:
        return json.loads(text)
    except JSON_ERRORS:
        return None


def parse_body(raw: bytes) -> tuple[dict[str, Any] | None, str | None]:
    """A recorded request body as a JSON object, or None and why it is not one."""
    try:
        body = json.loads(raw) if raw else None
    except JSON_ERRORS as exc:
        return None, f"request body is not JSON ({exc})"
    if not isinstance(body, dict):
        return None, "request body is not a JSON object"
    return body, None


# ------------------------------------------------------------------------------------- SDK calls

_NOT_BODY = frozenset({"self", "extra_headers", "extra_query", "extra_body", "timeout"})


def sdk_params(method: Callable[..., Any], *also: str) -> frozenset[str]:
    """The body parameters an SDK method takes by name (transport options and `also` left out)."""
    return frozenset(inspect.signature(method).parameters) - _NOT_BODY - set(also)


def sdk_kwargs(body: Mapping[str, Any], params: frozenset[str], *,
               stream: bool | None) -> dict[str, Any]:
    """SDK keyword arguments for a recorded body: known parameters by name, the rest (runtime
    metadata, future keys) as `extra_body`, so the SDK re-sends the body unchanged. `stream`,
    when given, overrides the body's own."""
    known = {k: v for k, v in body.items() if k in params and k != "stream"}
    extra = {k: v for k, v in body.items() if k not in params}
    kwargs: dict[str, Any] = {**known, "extra_body": extra or None}
    if stream is not None:
        kwargs["stream"] = stream
    return kwargs


E = TypeVar("E", bound=BaseException)

UNPARSABLE = (ValueError, RecursionError)
"""What an SDK raises on SSE data that is not (readable) JSON: json.JSONDecodeError, pydantic's
ValidationError, google-genai's UnknownApiResponseError (all ValueError), or RecursionError."""

UNREPLAYABLE = (KeyError, TypeError, AttributeError)
"""What an SDK or vcrpy raises on a recorded exchange it cannot send or build an answer from."""


def call_sdk(index: int, call: Callable[[], None], api_error: type[E], *,
             line: int | None = None) -> tuple[E | None, str | None]:
    """Run one SDK call over a recorded interaction: (the SDK's API error, or a stream problem).

    A request the cassette holds no answer for is an InputError (the cassette is wrong, not the
    stream); the SDK's own API errors are returned for the lane to map; unreadable SSE data and
    unplayable answers are a stream problem, which the lane reports as a malformed frame.
    """
    try:
        call()
    except Exception as exc:  # classified below; anything unclassified propagates
        if missing_answer(exc):
            raise InputError(f"interaction {index}: replay found no recorded answer",
                             line=line) from None
        if isinstance(exc, api_error):
            return exc, None
        if isinstance(exc, UNPARSABLE):
            return None, f"SSE data the SDK cannot parse ({exc})"
        if isinstance(exc, UNREPLAYABLE):
            return None, f"recorded answer cannot be replayed ({type(exc).__name__}: {exc})"
        raise
    return None, None


K = TypeVar("K", bound=Hashable)
C = TypeVar("C")


def client_per_key(factory: Callable[..., C], key: Callable[..., K]) -> Callable[..., C]:
    """One SDK client per `key(*args)` (e.g. base URL), built by `factory(*args)` on first use:
    building a client costs SSL setup, and every client of one base behaves the same."""
    clients: dict[K, C] = {}

    def chooser(*args: Any) -> C:
        k = key(*args)
        if k not in clients:
            clients[k] = factory(*args)
        return clients[k]

    return chooser


def side_error(error: str | None, stream_error: str | None, status: int) -> str | None:
    """Why a side call failed (API error text, stream problem, HTTP status), or None."""
    if error is not None:
        return error
    if stream_error is not None:
        return stream_error
    return f"HTTP {status}" if status >= 400 else None


# ------------------------------------------------------------------------------------- turns

UNANSWERED = "no result recorded: the client never sent this call's result"
"""Why a call of a finished answer is closed `failed` when the client moved on without
answering it (a new prompt, or the end of its recording)."""


def close_unanswered(b: LogBuilder, items: Iterable[Item]) -> list[Event]:
    """Close the calls a finished answer asked for and the client never answered.

    Why: a client other than the lane's own runtime may stop at an answer that asks for tools
    (a tool call used as structured output, `tool_choice` forcing one, a client that only
    inspects the call). Every HTTP exchange finished, so the turn completes with the answer's
    stop reason, and the calls end `failed` with `UNANSWERED` (no result is invented). The
    runtimes always answer their calls, so in their traffic such an ending stays a cut turn."""
    out: list[Event] = []
    for item in items:
        update: dict[str, Any] = {"status": "failed"}
        if "error" in type(item).model_fields:
            update["error"] = UNANSWERED
        out.append(b.item("completed", item.model_copy(update=update)))
    return out


# ------------------------------------------------------------------------------------- streaming

M = TypeVar("M", bound=BaseModel)


def with_text(item: M, text: str) -> M:
    """`item.model_copy(update={"text": text})`: the same instance (fields, fields set), made
    without pydantic's generic copy. A streamed answer makes one per delta (the item carrying
    the text so far), and that copy cost as much as the rest of the delta's translation."""
    if item.__pydantic_extra__ or item.__pydantic_private__ or type(text) is not str:
        return item.model_copy(update={"text": text})
    fields = dict(item.__dict__)
    fields["text"] = text
    return trusted(type(item), fields, item.__pydantic_fields_set__ | {"text"})


def streamed_delta(field_name: str, piece: str) -> Delta:
    """`Delta(field=field_name, text=piece)`, unvalidated when both are strings (all a Delta
    checks): one per streamed delta."""
    if type(field_name) is not str or type(piece) is not str:
        return Delta(field=field_name, text=piece)
    return trusted(Delta, {"field": field_name, "text": piece})


# ------------------------------------------------------------------------------------- usage


@dataclass
class TurnUsage:
    """Token counts summed over the conversation calls of one turn (`scope: turn`); None when
    no call reported usage. Reasoning stays None unless some call reported it."""

    calls: int = 0
    input_tokens: int = 0
    cached_input_tokens: int = 0
    output_tokens: int = 0
    reasoning_tokens: int | None = None

    def add(self, input_tokens: int, cached: int, output: int, reasoning: int | None) -> None:
        self.calls += 1
        self.input_tokens += input_tokens
        self.cached_input_tokens += cached
        self.output_tokens += output
        if reasoning is not None:
            self.reasoning_tokens = (self.reasoning_tokens or 0) + reasoning

    def model(self) -> Usage | None:
        if not self.calls:
            return None
        return Usage(scope="turn", input_tokens=self.input_tokens,
                     cached_input_tokens=self.cached_input_tokens,
                     output_tokens=self.output_tokens, reasoning_tokens=self.reasoning_tokens)


# ------------------------------------------------------------------------------------- driving


class Exchange(Protocol):
    """What the shell needs of a lane's replayed interaction."""

    @property
    def index(self) -> int: ...

    @property
    def interaction(self) -> Interaction: ...


R = TypeVar("R", bound=Exchange)


class ExchangeTranslator(ABC, Generic[R]):
    """Replayed interactions -> normalized events, one exchange at a time; a lane says what each
    exchange means (`exchange`) and how the input ends (`finish`)."""

    def __init__(self, lane: str, context: RunContext, source: str) -> None:
        self.lane = lane
        self.context = context
        self.source = source
        self.b = LogBuilder(lane)

    def run(self, replayed: Iterable[R]) -> Iterator[Event]:
        """Every exchange with the one after it (runtimes re-send a failed call: a lane must see
        the retry to keep the turn going), then the end of input. The exchanges are read as
        they come (one ahead), so a large cassette streams; input found unreadable part way
        (an InputError from `replayed`) ends the log there: strict raises it, lenient keeps a
        notice and closes the log."""
        rep: R | None = None
        try:
            exchanges = iter(self.prepare(replayed))
            rep = next(exchanges, None)
            while rep is not None:
                following = next(exchanges, None)
                yield from self.exchange(rep, following)
                rep = following
        except _InputEndsError as stop:
            if not self.context.lenient:
                raise InputError(stop.error.reason, source=self.source,
                                 line=stop.error.line) from None
            if rep is not None:  # read whole; what followed it could not be read
                yield from self.exchange(rep, None)
            yield self.b.notice(f"{self.source}: {stop.error.reason}")
        yield from self.finish()

    def prepare(self, replayed: Iterable[R]) -> Iterable[R]:
        """The exchanges as `run` reads them; a lane that must see the whole input before its
        first event (a decision over all the traffic) reads them all here."""
        return replayed

    @abstractmethod
    def exchange(self, rep: R, following: R | None) -> Iterable[Event]:
        """The events one model call (request and answer) adds to the log (a lane may make
        them as they are read: a long streamed answer is many events)."""

    @abstractmethod
    def finish(self) -> list[Event]:
        """The events that close the log when the input ends."""

    def frame_problem(self, rep: R, reason: str) -> list[Event]:
        """A malformed exchange: strict raises a FrameError naming the interaction; lenient
        keeps a notice and the recorded answer whole (an `unknown` item: what the lane could
        not read is not lost) and goes on."""
        message = f"interaction {rep.index}: {reason}"
        if not self.context.lenient:
            body = rep.interaction.request.body
            excerpt = body[:200].decode("utf-8", "replace") if isinstance(body, bytes) else ""
            raise FrameError(message, lane=self.lane, source=self.source,
                             line=rep.interaction.line,
                             excerpt=excerpt)
        req, resp = rep.interaction.request, rep.interaction.response
        answer = {"method": req.method, "path": req.path, "status": resp.status,
                  "body": json_or_text(resp.body.decode("utf-8", "replace"))}
        return [self.b.notice(message), self.b.unknown("unread_answer", answer)]


T = TypeVar("T")


def replay_each(interactions: Sequence[Interaction],
                one: Callable[[int, Interaction], T]) -> list[T]:
    """`one(index, interaction)` for every interaction, in recorded order."""
    return [one(n, i) for n, i in enumerate(interactions)]


def replay_file(path: Path, one: Callable[[int, Interaction], T]) -> Iterator[T]:
    """Replay every interaction of the cassette at `path` under vcrpy (network impossible), one
    at a time as the cassette is read, so memory holds one interaction, not the file."""
    with vcr_stream(path) as interactions:
        for index, interaction in enumerate(interactions):
            yield one(index, interaction)


class _InputEndsError(Exception):
    """The replayed input became unreadable part way (carries the InputError)."""

    def __init__(self, error: InputError) -> None:
        super().__init__(error.reason)
        self.error = error


def _reading(replayed: Iterator[T]) -> Iterator[T]:
    """`replayed`, its InputErrors told apart from those a lane raises while translating."""
    try:
        yield from replayed
    except InputError as exc:
        raise _InputEndsError(exc) from None


@contextmanager
def spooled(source: LaneInput, prefix: str) -> Iterator[Path]:
    """The input as a file: vcrpy plays cassettes from paths, so a stream (stdin) is copied to a
    temporary file that lives as long as the block."""
    if source.path is not None:
        yield source.path
        return
    with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        copy = Path(tmp) / "cassette.yaml"
        with copy.open("wb") as handle:
            shutil.copyfileobj(source.stream, handle)
        yield copy


def normalize_cassette(source: LaneInput, context: RunContext, *, lane: str,
                       replay: Callable[[Path], Iterable[T]],
                       translate: Callable[[Iterable[T], str], Iterator[Event]]
                       ) -> Iterator[Event]:
    """An API lane's `normalize`: replay the cassette (`replay(path)`, read as it goes), then
    translate.

    Strict: a cassette that cannot be read or replayed is an InputError naming the file.
    Lenient: it becomes one `error` notice, so a lenient reader never stops on bad input. The
    first two exchanges (the translator's look-ahead) are replayed before any event, so a
    cassette unreadable from the start gives the error alone; one that becomes unreadable part
    way ends the log there (`ExchangeTranslator.run`).
    """
    with spooled(source, prefix=f"{lane}-lane-") as path:
        stream = iter(replay(path))
        try:
            try:
                head = list(islice(stream, 2))
            except InputError as exc:
                if not context.lenient:
                    raise InputError(exc.reason, source=source.name, line=exc.line) from None
                yield LogBuilder(lane).notice(f"{source.name}: {exc.reason}")
                return
            yield from translate(chain(head, _reading(stream)), source.name)
        finally:
            close = getattr(stream, "close", None)
            if close is not None:
                close()  # leaves vcrpy's patches now, not when the generator is collected


# ------------------------------------------------------------------------------------- writing

_LINE_OPTIONS = (orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_PASSTHROUGH_DATETIME
                 | orjson.OPT_APPEND_NEWLINE)
"""What `dump_event_line` passes orjson."""

_ITEM_EVENTS = (ItemStarted, ItemUpdated, ItemCompleted)


class _Written:
    """The text of an item as last written: the string, and its JSON without the quotes."""

    __slots__ = ("json", "text")

    def __init__(self, text: str, json_body: bytearray) -> None:
        self.text = text
        self.json = json_body


_SPLICE = orjson.Fragment(b'"\x00"')
"""Where the text goes in an item event's line: orjson writes no raw NUL byte of its own."""


def write_lines(events: Iterable[Event]) -> Iterator[bytes]:
    """`dump_event_line` of each event, with an item's growing text escaped once.

    Why: a streamed answer's every `item.updated` carries the whole text so far (the log is
    34-82 times its cassette), and orjson re-encodes that text for each one (~1 GB/s once it
    holds a non-ASCII character). JSON escaping is per character, so the JSON of `old + new`
    is the JSON of `old` followed by the escaped `new`: the text's JSON is kept per open item,
    grown by what was added, and spliced into the line orjson writes of the rest of the event.
    Anything orjson would not write itself (a lone surrogate, an int beyond 64 bits) goes
    through `dump_event_line`, as does every other event."""
    written: dict[str, _Written] = {}
    for event in events:
        line = _item_line(event, written) if isinstance(event, _ITEM_EVENTS) else None
        yield dump_event_line(event) if line is None else line


def _item_line(event: ItemStarted | ItemUpdated | ItemCompleted,
               written: dict[str, _Written]) -> bytes | None:
    """The line of an item event whose item has a text, its text's JSON grown from what was
    written of the same item before; None to leave the event to `dump_event_line`."""
    item = event.item
    text = item.__dict__.get("text")
    if type(text) is not str:
        return None
    last = written.pop(item.id, None)
    try:
        if last is not None and text.startswith(last.text):
            body = last.json
            body += orjson.dumps(text[len(last.text):])[1:-1]
        else:
            body = bytearray(orjson.dumps(text)[1:-1])
        fields = dict(item.__dict__)
        fields["text"] = _SPLICE
        head, *tail = orjson.dumps({**event.__dict__, "item": fields}, default=model_field_dict,
                                   option=_LINE_OPTIONS).split(b"\x00")
    except orjson.JSONEncodeError:
        return None
    if len(tail) != 1:
        return None
    if not isinstance(event, ItemCompleted):
        written[item.id] = _Written(text, body)
    return b"".join((head, body, tail[0]))
