"""Errors the harness raises on purpose; anything else escaping is a bug.

    HarnessError                 base: every error the CLI turns into exit code 2
    ├── InputError               a file cannot be read as what it claims to be
    │   └── LaneError            a lane cannot normalize its native input
    │       ├── FrameError       one line/frame is malformed (not JSON, not an object, no type)
    │       └── SequenceError    frames are valid alone but not in this order
    └── ScenarioError            a scenario file breaks its schema

Every error names where it happened (`source`, `line`) so the CLI prints `file:line: reason`.
"""

from __future__ import annotations


class HarnessError(Exception):
    """Base for errors that mean "bad input", reported as `where: reason` with exit code 2."""

    def __init__(self, reason: str, *, source: str = "<input>", line: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.source = source
        self.line = line

    @property
    def where(self) -> str:
        return self.source if self.line is None else f"{self.source}:{self.line}"

    def __str__(self) -> str:
        return f"{self.where}: {self.reason}"


class InputError(HarnessError):
    """A file cannot be read as what it claims to be (missing, not UTF-8, not JSON...)."""


class LaneError(InputError):
    """A lane cannot normalize its native input; carries the lane id and a raw excerpt."""

    def __init__(
        self,
        reason: str,
        *,
        lane: str,
        source: str = "<input>",
        line: int | None = None,
        excerpt: str = "",
    ) -> None:
        super().__init__(reason, source=source, line=line)
        self.lane = lane
        self.excerpt = excerpt[:200]


class FrameError(LaneError):
    """One native line or frame is malformed."""


class SequenceError(LaneError):
    """Native frames are each valid but arrive in an impossible order."""


class ScenarioError(HarnessError):
    """A scenario file breaks the scenario schema; `reason` names the field path."""
