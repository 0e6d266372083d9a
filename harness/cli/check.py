"""`harness check`: the conformance gate over the catalog (the project's main job).

Human output (the matrix, failures, verdict) goes to stdout; with `--format json` the findings go
to stdout as one JSON document and the human output to stderr (`--quiet` drops it). On a terminal
a progress bar on stderr shows the cells as they finish; in a CI log (no TTY) there is none.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from harness.cli import DIR_COMPLETION
from harness.conformance.gate import GateOptions, parse_shard, run_gate
from harness.conformance.gate import Progress as OnCell
from harness.conformance.report import gate_json, print_matrix, run_metadata, write_reports


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser(
        "check", help="run the conformance gate: every lane x scenario, every lane pair")
    for option, default in (("--cassettes", "cassettes"), ("--golden", "golden")):
        parser.add_argument(option, type=Path, default=Path(default)
                            ).complete = DIR_COMPLETION  # type: ignore[attr-defined]
    parser.add_argument("--report", type=Path, default=Path("report"),
                        help="folder for junit.xml, summary.md, index.html (default: report)"
                        ).complete = DIR_COMPLETION  # type: ignore[attr-defined]
    parser.add_argument("--lane", action="append", dest="lanes", help="only this lane (repeat)")
    parser.add_argument("--scenario", action="append", dest="scenarios",
                        help="only this scenario (repeat)")
    parser.add_argument("--update-golden", action="store_true",
                        help="rewrite golden snapshots that changed, for review")
    parser.add_argument("--impl", help='external implementation: a command with {lane} and '
                        '{input}, printing normalized JSONL (judged against golden/)')
    parser.add_argument("--shard", default="1/1", help="K/N: this job's share of scenarios")
    parser.add_argument("--jobs", type=int, default=0, help="worker processes (0: one per core)")
    parser.add_argument("--format", choices=("text", "json"), default="text",
                        help="json: the findings as JSON on stdout, the human report on stderr")
    parser.add_argument("-q", "--quiet", action="store_true",
                        help="no matrix, no progress; only the verdict (and JSON if asked)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    if args.impl and args.update_golden:
        print("harness: --update-golden cannot be combined with --impl", file=sys.stderr)
        return 2
    options = GateOptions(
        cassettes=args.cassettes, golden=args.golden, lanes=args.lanes,
        scenarios=args.scenarios, update_golden=args.update_golden, impl=args.impl,
        shard=parse_shard(args.shard), jobs=args.jobs,
    )
    human = Console(stderr=args.format == "json", quiet=args.quiet)
    started = time.perf_counter()
    with progress_bar(Console(stderr=True), enabled=not args.quiet) as on_cell:
        result = run_gate(options, progress=on_cell)
    seconds = time.perf_counter() - started
    run_info = run_metadata(args.cassettes, result.scenarios)
    print_matrix(result, human)
    for path in write_reports(result, args.report, run=run_info):
        human.print(f"report: {path}", markup=False)
    if args.format == "json":
        json.dump(gate_json(result, seconds=seconds, run=run_info), sys.stdout,
                  ensure_ascii=False, indent=1)
        sys.stdout.write("\n")
    verdict = Console(stderr=args.format == "json")
    verdict.print("[green]PASS[/]" if result.ok else "[red]FAIL[/]")
    return 0 if result.ok else 1


@contextmanager
def progress_bar(console: Console, *, enabled: bool = True) -> Iterator[OnCell | None]:
    """A transient progress bar while cells run, only when `console` is a terminal (a CI log
    gets no carriage-return noise); yields the gate's progress callback, or None."""
    if not (enabled and console.is_terminal):
        yield None
        return
    columns = (TextColumn("cells"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
               TextColumn("{task.description}"))
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task("loading lanes and scenarios", total=None)

        def on_cell(done: int, total: int, what: str) -> None:
            bar.update(task, completed=done, total=total, description=what or "normalizing")

        yield on_cell
