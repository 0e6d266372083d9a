"""`harness normalize --lane L [FILE|-]`: one lane's native input to normalized JSONL on stdout.

Streaming end to end: each event is written as soon as the lane yields it, so memory stays
bounded by the lane's state, not the input's size. A lane error ends the output at the last whole
line and becomes one `file:line: reason` on stderr with exit code 2 (harness.cli).

A file beside its recording's `<runtime>.meta.json` is read with that run's context (cwd, sandbox,
model, ...), so `harness normalize` on a catalog file prints exactly its golden.
"""

from __future__ import annotations

import argparse
import io
import sys
from pathlib import Path
from typing import Any, cast, get_args

from harness.cli import FILE_COMPLETION
from harness.contract.errors import InputError
from harness.contract.lane import (
    HEAD_BYTES,
    LaneInput,
    RunContext,
    get_lane,
    lane_ids,
    refuse_foreign_input,
)
from harness.contract.model import ApprovalPolicy, AuthMode, Sandbox, dump_event_line
from harness.contract.runmeta import context_from_meta, recorded_context

FLUSH_EVERY = 256
"""Events per flush: live consumers see progress without a syscall per event."""


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser(
        "normalize", help="normalize one lane's native input to JSONL on stdout")
    parser.add_argument("--lane", required=True, help=f"one of: {', '.join(lane_ids())}")
    parser.add_argument("input", nargs="?", default="-", help="native file, or - for stdin"
                        ).complete = FILE_COMPLETION  # type: ignore[attr-defined]
    parser.add_argument("--cwd", help="working directory of the run (not in the stream)")
    parser.add_argument("--sandbox", choices=get_args(Sandbox), default="unknown")
    parser.add_argument("--approval-policy", choices=get_args(ApprovalPolicy), default="unknown")
    parser.add_argument("--auth-mode", choices=get_args(AuthMode), default="unknown")
    parser.add_argument("--model", help="model name, when the stream does not say")
    parser.add_argument("--runtime-version", help="runtime version, when the stream does not say")
    parser.add_argument("--resumed-from", help="thread id this run resumes")
    parser.add_argument("--context", metavar="FILE",
                        help="run context as JSON (what `harness check --impl` passes as "
                             "{context}); the flags above override its fields")
    parser.add_argument("--meta", metavar="FILE", type=Path,
                        help="the recording's <runtime>.meta.json, whose context is used "
                             "(default: the meta file beside FILE that names it)")
    parser.add_argument("--no-meta", action="store_true",
                        help="ignore any meta file beside FILE (context from flags only)")
    parser.add_argument("--lenient", action="store_true",
                        help="turn malformed input into error items instead of failing")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    lane = get_lane(args.lane)
    context = _context(args)
    out = sys.stdout.buffer
    stream, name, path = _open(args.input)
    with stream:
        if not context.lenient:
            refuse_foreign_input(lane, stream.peek(HEAD_BYTES)[:HEAD_BYTES], name)
        source = LaneInput(stream=stream, name=name, path=path)
        lines = (lane.normalize_lines(source, context) if lane.normalize_lines is not None
                 else map(dump_event_line, lane.normalize(source, context)))
        for count, line in enumerate(lines, start=1):
            out.write(line)
            if count % FLUSH_EVERY == 0:
                out.flush()
    out.flush()
    return 0


def _context(args: argparse.Namespace) -> RunContext:
    """The run context: the recording's meta file (`--meta`, or the one beside the input that
    names it), then the `--context` file's fields, then every flag given explicitly."""
    base = _meta_context(args).model_dump(exclude_defaults=True)
    if args.context:
        try:
            base.update(RunContext.model_validate_json(Path(args.context).read_bytes())
                        .model_dump(exclude_defaults=True))
        except (OSError, ValueError) as exc:
            reason = " ".join(str(exc).split())[:200]
            raise InputError(f"bad run context: {reason}", source=args.context) from None
    flags = {"cwd": args.cwd, "model": args.model, "runtime_version": args.runtime_version,
             "resumed_from": args.resumed_from}
    flags.update({name: value for name, value in (
        ("sandbox", args.sandbox), ("approval_policy", args.approval_policy),
        ("auth_mode", args.auth_mode)) if value != "unknown"})
    base.update({name: value for name, value in flags.items() if value is not None})
    base["lenient"] = args.lenient or bool(base.get("lenient"))
    return RunContext(**base)


def _meta_context(args: argparse.Namespace) -> RunContext:
    """What the recording's meta file says about the run, so a catalog file normalizes to its
    golden; nothing for stdin, `--no-meta`, or a file no meta names."""
    if args.meta is not None:
        if args.no_meta:
            raise InputError("--meta and --no-meta exclude each other", source="--meta")
        return context_from_meta(args.meta)
    if args.no_meta or args.input == "-" or not Path(args.input).is_file():
        return RunContext()
    return recorded_context(Path(args.input))


def _open(arg: str) -> tuple[io.BufferedReader, str, Path | None]:
    """The input as a buffered stream, so its head can be looked at without consuming it."""
    if arg == "-":
        stdin = sys.stdin.buffer
        reader = stdin if isinstance(stdin, io.BufferedReader) else io.BufferedReader(
            cast(Any, stdin))
        return reader, "<stdin>", None
    path = Path(arg)
    try:
        return path.open("rb"), str(path), path
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", source=str(path)) from None
