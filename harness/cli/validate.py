"""`harness validate FILE...`: JSON Schema plus ordering rules over normalized logs, streaming.

Every violation is printed as `file:line: rule: detail`. Exit 0 when all files are valid, 1 when
any violates the contract, 2 when a file cannot be read as JSON lines at all.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from harness.cli import FILE_COMPLETION
from harness.contract.errors import FrameError, InputError
from harness.contract.invariants import OrderChecker
from harness.contract.jsonl import iter_lines, parse_object
from harness.contract.schema import validate_event

EXIT_VALID, EXIT_INVALID, EXIT_UNREADABLE = 0, 1, 2


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser(
        "validate", help="check normalized JSONL logs against the schema and ordering rules")
    parser.add_argument("files", nargs="+", type=Path
                        ).complete = FILE_COMPLETION  # type: ignore[attr-defined]
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    worst = EXIT_VALID
    for path in args.files:
        try:
            problems = validate_file(path)
        except InputError as exc:
            print(exc, file=sys.stderr)
            worst = EXIT_UNREADABLE
            continue
        for problem in problems:
            print(problem)
        if problems:
            worst = max(worst, EXIT_INVALID)
    return worst


def validate_file(path: Path) -> list[str]:
    """`file:line: rule: detail` for every violation; raises InputError when unreadable."""
    try:
        stream = path.open("rb")
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", source=str(path)) from None
    problems: list[str] = []
    checker = OrderChecker()
    approval_lines: dict[int, int] = {}  # only approvals can be blamed after the end
    last_line = 1
    saw_session = False
    with stream:
        for number, raw in iter_lines(stream):
            try:
                event = parse_object(raw, number=number, lane="validate", source=str(path))
            except FrameError as exc:
                raise InputError(exc.reason, source=str(path), line=number) from None
            schema_errors = validate_event(event)
            problems += [f"{path}:{number}: schema: {err}" for err in schema_errors]
            last_line = number
            saw_session = saw_session or event.get("type") == "session.started"
            if str(event.get("type", "")).startswith("approval."):
                approval_lines[checker.index] = number
            if not schema_errors:
                problems += [f"{path}:{number}: {v.rule}: {v.detail}"
                             for v in checker.feed(event)]
            else:
                checker.index += 1
    for violation in checker.close():
        line = approval_lines.get(violation.index, last_line)
        problems.append(f"{path}:{line}: {violation.rule}: {violation.detail}")
    if checker.index == 0:
        problems.append(f"{path}:1: log_empty: a normalized log has at least one event")
    elif not saw_session:
        problems.append(f"{path}:1: no_session: a normalized log starts a session "
                        "(session.started); this one never does")
    return problems
