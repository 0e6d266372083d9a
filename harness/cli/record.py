"""`harness record`: record scenarios on real runtimes against the stub (offline)."""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from harness.contract.errors import HarnessError
from harness.record.recording import LiveSettings, RecordResult, record_scenario
from harness.record.runtimes.registry import (
    LIVE_KEY_VARIABLES,
    LIVE_UPSTREAMS,
    driver_names,
    get_driver,
)
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
    parser.add_argument("--live", action="store_true",
                        help="record against the real provider through a local recording proxy "
                        "(uses your key from the environment; scripted turns do not apply)")
    parser.add_argument("--upstream", help="live mode: forward here instead of the provider's "
                        "default API host")
    parser.set_defaults(handler=run)


def _selected(root: Path, name: str) -> list[Path]:
    dirs = scenario_dirs(root)
    if name == "all":
        return dirs
    chosen = [d for d in dirs if d.name == name]
    if not chosen:
        raise HarnessError(f"no scenario {name!r} under {root}", source="--scenario")
    return chosen


def live_settings(runtime: str, upstream: str | None,
                  env: Mapping[str, str] | None = None) -> LiveSettings:
    """The upstream and the user's key for a live recording, or a clear error."""
    env = os.environ if env is None else env
    names = LIVE_KEY_VARIABLES[runtime]
    key = next((env[n] for n in names if env.get(n)), None)
    if key is None:
        raise HarnessError(f"live recording needs your key in {' or '.join(names)}",
                           source="--live")
    return LiveSettings(upstream or LIVE_UPSTREAMS[runtime], key)


def run(args: argparse.Namespace) -> int:
    console = Console(stderr=True)
    runtimes = driver_names() if args.runtime == "all" else [args.runtime]
    if args.upstream and not args.live:
        raise HarnessError("--upstream only applies with --live", source="--upstream")
    jobs = [(runtime, folder) for runtime in runtimes
            for folder in _selected(args.cassettes, args.scenario)]
    results: list[RecordResult] = []
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                  MofNCompleteColumn(), TimeElapsedColumn(), console=console) as progress:
        task = progress.add_task("recording", total=len(jobs))
        for runtime, folder in jobs:
            driver = get_driver(runtime)
            live = live_settings(runtime, args.upstream) if args.live else None
            progress.update(task, description=f"{folder.name} on {runtime} {driver.version}")
            result = record_scenario(driver, folder, force=args.force, live=live)
            results.append(result)
            _print_line(progress.console, result)
            progress.advance(task)
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
    for lane, diff in result.drift.items():
        console.print(f"     drift in {lane} (normalized, previous -> new):")
        console.print("       " + diff.replace("\n", "\n       "), markup=False)


def _print_summary(console: Console, results: list[RecordResult]) -> None:
    table = Table(title="recording summary")
    for column in ("scenario", "runtime", "result", "exit codes", "stub problems", "drift"):
        table.add_column(column)
    for r in results:
        status = "skipped" if r.skipped else ("ok" if r.ok else "problems")
        table.add_row(r.scenario, r.runtime, status, str(r.exit_codes), str(len(r.problems)),
                      ", ".join(r.drift) or "-")
    console.print(table)
