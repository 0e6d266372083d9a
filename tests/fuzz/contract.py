"""The bad-input contract of every lane (issue 7), as one function that raises on a violation.

Strict mode ends in a valid normalized log or a `HarnessError` naming the file, where in it, and
why; lenient mode never raises, ends in a valid log, and keeps everything it could read (the
events strict mode emitted before its error are a prefix of the lenient log). No other exception
type escapes, and no run takes longer than a time limit (a hang is a violation too).
"""

from __future__ import annotations

import re
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

import orjson
import pytest

from harness.contract.errors import HarnessError
from harness.contract.invariants import check_events
from harness.contract.lane import LaneInput, LaneSpec, RunContext
from harness.contract.model import dump_event
from harness.contract.schema import validate_event

TIME_LIMIT = 30.0
"""Seconds one normalization may take on a small (test-sized) input before it counts as a hang."""

POSITION = re.compile(r"\binteraction \d+|\boffset \d+|\bline \d+|\bevent \d+|\bframe \d+")
"""How a reason names a place when the error has no line number (cassettes: interaction N)."""

WHOLE_INPUT = re.compile(r"empty|no `?thread\.started|holds no|no interactions|not a vcrpy"
                         r"|not UTF-8|cassette|no (?:run|session)", re.IGNORECASE)
"""Reasons about the input as a whole, where no single place is to blame."""


class HangError(BaseException):
    """A lane ran past the time limit (BaseException: a lane's `except Exception` cannot eat it)."""


class ContractViolationError(AssertionError):
    """The lane broke the bad-input contract; the message says how."""


@dataclass(frozen=True)
class Outcome:
    """One normalization: the events emitted (as JSON dicts) and the typed error that ended it."""

    events: list[dict[str, Any]]
    error: HarnessError | None


@contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Raise `HangError` in the main thread when the block runs longer than `seconds`."""

    def on_alarm(_signum: int, _frame: FrameType | None) -> None:
        raise HangError(f"no result within {seconds:g}s")

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def run_lane(lane: LaneSpec, path: Path, *, lenient: bool,
             seconds: float = TIME_LIMIT) -> Outcome:
    """Normalize `path` as the CLI does (dumped through `dump_event`); only a HarnessError is
    caught, so any other exception propagates and fails the caller."""
    events: list[dict[str, Any]] = []
    error: HarnessError | None = None
    with time_limit(seconds), path.open("rb") as stream:
        source = LaneInput(stream=stream, name=str(path), path=path)
        try:
            for event in lane.normalize(source, RunContext(lenient=lenient)):
                events.append(orjson.loads(dump_event(event)))
        except HarnessError as exc:
            error = exc
    return Outcome(events, error)


def problems(events: list[dict[str, Any]]) -> list[str]:
    """Schema and ordering-rule problems of a whole log ([] when valid)."""
    found = [f"event {i}: {err}" for i, e in enumerate(events) for err in validate_event(e)]
    return found + [str(v) for v in check_events(events)]


def check_error(error: HarnessError, path: Path) -> None:
    """A strict-mode error names the file, a place in it (or says the whole input is wrong),
    and a reason, all on the one line the CLI prints."""
    text = str(error)
    if str(path) not in text:
        raise ContractViolationError(f"error does not name the file: {text}")
    if not error.reason.strip():
        raise ContractViolationError(f"error without a reason: {text}")
    if error.line is None and not POSITION.search(text) and not WHOLE_INPUT.search(text):
        raise ContractViolationError(f"error names no line/offset/interaction: {text}")


def check_contract(lane: LaneSpec, path: Path, *, seconds: float = TIME_LIMIT) -> Outcome:
    """Run `lane` strict and lenient on `path`; raise ContractViolationError (or HangError, or
    the stray exception itself) when the contract is broken. Returns the strict outcome."""
    strict = run_lane(lane, path, lenient=False, seconds=seconds)
    if strict.error is not None:
        check_error(strict.error, path)
        partial = [f"event {i}: {err}" for i, e in enumerate(strict.events)
                   for err in validate_event(e)]
        if partial:
            raise ContractViolationError(f"strict output before the error is bad: {partial[:5]}")
    elif found := problems(strict.events):
        raise ContractViolationError(f"strict log is invalid: {found[:5]}")
    lenient = run_lane(lane, path, lenient=True, seconds=seconds)
    if lenient.error is not None:
        raise ContractViolationError(f"lenient mode raised: {lenient.error}")
    if found := problems(lenient.events):
        raise ContractViolationError(f"lenient log is invalid: {found[:5]}")
    if lenient.events[: len(strict.events)] != strict.events:
        raise ContractViolationError("lenient mode lost or changed events strict mode emitted")
    return strict


# ------------------------------------------------------------------------------ known violators


KNOWN_VIOLATIONS: dict[str, str] = {}
"""Contract violations found in lanes the hostile-input tests' owner may not edit, reported to
their owners; each lane's mutation property (tests/test_hostile_input.py) and short fuzz run
(tests/test_fuzz.py) is an expected failure until its entry is removed. A fixed violation leaves
the list for a deterministic regression test (`test_regressions_found_by_the_mutation_fuzz` in
tests/test_hostile_input.py): a random mutation does not hit it every run."""


def marked(lanes: list[LaneSpec]) -> list[Any]:
    """Lanes as parameters, known violators marked xfail with the reported case."""
    return [pytest.param(lane, id=lane.id, marks=pytest.mark.xfail(
                reason=KNOWN_VIOLATIONS[lane.id], strict=False))
            if lane.id in KNOWN_VIOLATIONS else pytest.param(lane, id=lane.id)
            for lane in lanes]
