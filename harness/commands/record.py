"""`harness record`: record scenarios on real runtimes against the stub (offline)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from harness.errors import HarnessError
from harness.recording import RecordResult, record_scenario
from harness.runtimes.registry import driver_names, get_driver
from harness.scenario import scenario_dirs


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser(
        "record", help="record scenario cassettes from a real runtime against the local stub")
    parser.add_argument("--runtime", required=True, help=f"{', '.join(driver_names())} or all")
    parser.add_argument("--scenario", default="all", help="scenario name or all (default)")
    parser.add_argument("--cassettes", type=Path, default=Path("cassettes"),
                        help="catalog folder (default: cassettes)")
    parser.add_argument("--force", action="store_true",
                        help="overwrite existing cassettes (needed when they exist)")
    parser.set_defaults(handler=run)


def _selected(root: Path, name: str) -> list[Path]:
    dirs = scenario_dirs(root)
    if name == "all":
        return dirs
    chosen = [d for d in dirs if d.name == name]
    if not chosen:
        raise HarnessError(f"no scenario {name!r} under {root}", source="--scenario")
    return chosen


def run(args: argparse.Namespace) -> int:
    console = Console(stderr=True)
    runtimes = driver_names() if args.runtime == "all" else [args.runtime]
    results: list[RecordResult] = []
    for runtime in runtimes:
        driver = get_driver(runtime)
        for folder in _selected(args.cassettes, args.scenario):
            with console.status(f"recording {folder.name} on {runtime} {driver.version}"):
                result = record_scenario(driver, folder, force=args.force)
            results.append(result)
            _print_line(console, result)
    _print_summary(console, results)
    return 0 if all(r.ok for r in results) else 1


def _print_line(console: Console, result: RecordResult) -> None:
    if result.skipped:
        console.print(f"[yellow]skip[/] {result.scenario} on {result.runtime}: {result.skipped}")
    elif result.ok:
        console.print(f"[green]ok[/]   {result.scenario} on {result.runtime} "
                      f"(exit {result.exit_codes})")
    else:
        console.print(f"[red]FAIL[/] {result.scenario} on {result.runtime}:")
        for problem in result.problems:
            console.print(f"     {problem}", markup=False)


def _print_summary(console: Console, results: list[RecordResult]) -> None:
    table = Table(title="recording summary")
    for column in ("scenario", "runtime", "result", "exit codes", "stub problems"):
        table.add_column(column)
    for r in results:
        status = "skipped" if r.skipped else ("ok" if r.ok else "problems")
        table.add_row(r.scenario, r.runtime, status, str(r.exit_codes), str(len(r.problems)))
    console.print(table)
