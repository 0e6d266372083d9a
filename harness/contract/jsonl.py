"""Streaming JSONL reading with precise, typed errors: the one place bytes become dicts."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO

import orjson

from harness.contract.errors import FrameError


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
