"""`translate_lines`, the line loop of the JSON-RPC transcript lanes (acp, codex-app-server)."""

from __future__ import annotations

import io
from typing import Any

import pytest

from harness.contract.errors import FrameError, LaneError
from harness.contract.jsonl import Frame, kept_text, translate_lines


class Counting:
    """Counts the lines it read; a line with `"bad"` changes that state, then fails."""

    def __init__(self) -> None:
        self.read = 0
        self.problems: list[bytes | None] = []

    def feed(self, frame: Frame) -> list[Any]:
        self.read += 1
        if frame.data.get("bad"):
            raise FrameError("bad line", lane="t", source="s", line=frame.line)
        return [("read", self.read)]

    def problem(self, error: LaneError, line: bytes | None = None) -> list[Any]:
        self.problems.append(line)
        return [("problem", error.line, kept_text(line or b""))]

    def close(self, last_line: int = 0) -> list[Any]:
        return [("closed", last_line, self.read)]


STREAM = b'{"a": 1}\n{"bad": true}\n\n{"a": 2}\n'


def test_lenient_goes_back_to_before_a_line_that_failed_part_way() -> None:
    """The failed line's half-made state (here its count) is gone, the line is kept whole, and
    reading goes on: a loop that kept the state would count 3 lines read."""
    events = list(translate_lines(Counting(), io.BytesIO(STREAM), lane="t", source="s",
                                  lenient=True))
    assert events == [("read", 1), ("problem", 2, '{"bad": true}'), ("read", 2),
                      ("closed", 4, 2)]


def test_strict_raises_the_first_failure() -> None:
    with pytest.raises(FrameError, match="bad line"):
        list(translate_lines(Counting(), io.BytesIO(STREAM), lane="t", source="s",
                             lenient=False))
