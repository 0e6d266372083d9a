"""Streaming JSONL reading with precise, typed errors: the one place bytes become dicts."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, BinaryIO, Protocol, TypeVar

import orjson

from harness.contract.errors import FrameError, LaneError

if TYPE_CHECKING:
    from harness.contract.model import Event


@dataclass(frozen=True, slots=True)
class Frame:
    """One native JSON object with where it came from."""

    line: int
    data: dict[str, Any]
    raw: bytes


def iter_lines(stream: BinaryIO) -> Iterator[tuple[int, bytes]]:
    """Yield (1-based line number, line without newline), skipping blank lines; constant memory."""
    for number, raw in enumerate(stream, start=1):
        line = raw.rstrip(b"\r\n")
        del raw  # a giant line is held once, not twice, while the caller works on it
        if line.strip():
            yield number, line


def parse_object(line: bytes, *, number: int, lane: str, source: str) -> dict[str, Any]:
    """Parse one line as a JSON object or raise a `FrameError` naming the line and the reason."""
    try:
        data = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        reason = "invalid UTF-8" if _is_bad_utf8(line) else f"not JSON ({exc.args[0]})"
        raise FrameError(
            reason, lane=lane, source=source, line=number, excerpt=_excerpt(line)
        ) from None
    if not isinstance(data, dict):
        raise FrameError(
            f"not a JSON object (got {type(data).__name__})",
            lane=lane, source=source, line=number, excerpt=_excerpt(line),
        )
    return data


def _is_bad_utf8(line: bytes) -> bool:
    try:
        line.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


def _excerpt(line: bytes) -> str:
    return line[:200].decode("utf-8", errors="replace")


class LineTranslator(Protocol):
    """A lane's translator as `translate_lines` drives it."""

    def feed(self, frame: Frame) -> list[Event]: ...

    def problem(self, error: LaneError, line: bytes | None = None) -> list[Event]: ...

    def close(self, last_line: int = 0) -> list[Event]: ...


T = TypeVar("T", bound=LineTranslator)


def translate_lines(translator: T, stream: BinaryIO, *, lane: str, source: str,
                    lenient: bool) -> Iterator[Event]:
    """Feed every line to `translator`, then close it. Strict mode raises the first LaneError.
    Lenient mode goes back to the translator as it was before a line that failed part way (so
    no sequence number is spent and no item left half-open) and emits its `problem` for the
    line, which keeps the line whole. The copy costs one deepcopy of the translator's state
    per line, in lenient mode only."""
    number = 0
    for number, line in iter_lines(stream):
        before = copy.deepcopy(translator) if lenient else None
        try:
            data = parse_object(line, number=number, lane=lane, source=source)
            events = translator.feed(Frame(number, data, line))
        except LaneError as exc:
            if before is None:
                raise
            translator = before
            events = translator.problem(exc, line)
        yield from events
    yield from translator.close(number)


def kept_text(line: bytes) -> str:
    """A line as lenient mode keeps it in an `unknown` item: its exact text (not re-parsed: it
    may be what the parser refused, nested too deep or holding escapes no writer accepts), a
    byte that is not UTF-8 written as `\\xNN` so that it is kept too, not replaced."""
    return line.decode("utf-8", errors="backslashreplace").rstrip("\r\n")
