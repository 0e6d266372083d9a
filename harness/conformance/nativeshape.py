"""The native shape of a JSONL recording, and what changed in it between two recordings.

Drift is judged on meaning (the normalized log), but a reviewer moving a pin also wants to know
what a release changed on the wire that the lanes do not (yet) read: a new event type, a new
item type, a field that appeared or vanished. The shape of a recording is the set of paths its
JSON lines use, each with its value's JSON type, and each object labelled by its *tags*: the
keys whose string value names the object's variant (`type`, `method`, ...; the runtime driver
declares them). Values themselves are left out, so ids, texts and timings never show as a change.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import orjson

MAX_DEPTH = 12
"""Paths deeper than this are cut (a tool's deeply nested arguments say nothing about the wire)."""


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def _label(obj: dict[str, object], tags: Sequence[str]) -> str:
    named = [f"{tag}={obj[tag]}" for tag in tags if isinstance(obj.get(tag), str)]
    return "{" + ",".join(named) + "}" if named else ""


def value_paths(value: object, tags: Sequence[str], prefix: str = "",
                depth: int = 0) -> Iterable[str]:
    """Every `path:type` of one JSON value; objects carry their tag label in the path."""
    if depth > MAX_DEPTH:
        return
    if isinstance(value, dict):
        here = prefix + _label(value, tags)
        for key, child in value.items():
            path = f"{here}.{key}" if here else str(key)
            yield f"{path}:{_json_type(child)}"
            yield from value_paths(child, tags, path, depth + 1)
    elif isinstance(value, list):
        for child in value:
            yield from value_paths(child, tags, prefix + "[]", depth + 1)


def file_shape(path: Path, tags: Sequence[str]) -> frozenset[str]:
    """The shape of a JSONL file; lines that are not JSON count as one `(text line)` path."""
    found: set[str] = set()
    with path.open("rb") as handle:
        for raw in handle:
            line = raw.strip()
            if not line:
                continue
            try:
                value = orjson.loads(line)
            except orjson.JSONDecodeError:
                found.add("(text line)")
                continue
            found.add(f"(line):{_json_type(value)}")
            found.update(value_paths(value, tags))
    return frozenset(found)


@dataclass(frozen=True)
class ShapeDifference:
    """Paths only the new recording uses (`added`) and only the old one used (`vanished`)."""

    added: tuple[str, ...] = ()
    vanished: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.added or self.vanished)

    def lines(self) -> list[str]:
        return [f"+ {p}" for p in self.added] + [f"- {p}" for p in self.vanished]


def shape_difference(old: frozenset[str], new: frozenset[str]) -> ShapeDifference:
    return ShapeDifference(tuple(sorted(new - old)), tuple(sorted(old - new)))
