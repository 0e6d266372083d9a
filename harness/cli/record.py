"""`harness record`: record scenarios on real runtimes against the stub (offline)."""

from __future__ import annotations

import argparse
import os
import shutil
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
from harness.record.runtimes.base import REPO_ROOT
from harness.record.runtimes.install import parse_spec
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
    parser.add_argument("--version", dest="runtime_version", metavar="VERSION",
                        help="record with this installed version (harness runtimes install "
                        "R@VERSION) instead of the pin; only into a scratch --cassettes folder")
    parser.add_argument("--catalog", type=Path, default=REPO_ROOT / "cassettes",
                        help="where scenarios are read from when --cassettes is a scratch "
                        "folder without them (default: the shipped catalog)")
    parser.add_argument("--force", action="store_true",
                        help="overwrite existing cassettes (needed when they exist)")
    parser.add_argument("--live", action="store_true",
                        help="record against the real provider through a local recording proxy "
                        "(uses your key from the environment; scripted turns do not apply)")
    parser.add_argument("--upstream", help="live mode: forward here instead of the provider's "
                        "default API host")
    parser.set_defaults(handler=run)


def _is_catalog(folder: Path) -> bool:
    return folder.resolve() == (REPO_ROOT / "cassettes").resolve()


def scratch_scenarios(scratch: Path, catalog: Path, name: str) -> list[Path]:
    """The scenario folders to record into `scratch`: each selected catalog scenario gets a
    folder there with a copy of its scenario.yaml (recordings never touch the catalog)."""
    if scratch.resolve() == catalog.resolve() or _is_catalog(scratch):
        raise HarnessError("a version other than the pin records into a scratch folder, never "
                           "over the catalog (give --cassettes <scratch>)", source="--cassettes")
    chosen: list[Path] = []
    for source in _selected(catalog, name):
        target = scratch / source.name
        target.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source / "scenario.yaml", target / "scenario.yaml")
        chosen.append(target)
    return chosen


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


def _folders(args: argparse.Namespace, runtimes: list[str], version: str | None) -> list[Path]:
    """The scenario folders to record into: the catalog's for the pin; for another version,
    scratch copies (after checking the version is one runtime's, installed, stub only)."""
    if version is None:
        return _selected(args.cassettes, args.scenario)
    if len(runtimes) != 1:
        raise HarnessError("--version needs one --runtime", source="--version")
    if args.live:
        raise HarnessError("--version records against the stub only", source="--version")
    name, _ = parse_spec(f"{runtimes[0]}@{version}")
    if version == get_driver(name).version:
        return _selected(args.cassettes, args.scenario)
    if args.cassettes.resolve() == args.catalog.resolve() or _is_catalog(args.cassettes):
        raise HarnessError("a version other than the pin records into a scratch folder, never "
                           "over the catalog (give --cassettes <scratch>)", source="--cassettes")
    if not get_driver(name, version).binary().exists():
        raise HarnessError(f"{name}@{version} is not installed (run: harness runtimes install "
                           f"{name}@{version})", source="--version")
    return scratch_scenarios(args.cassettes, args.catalog, args.scenario)


def run(args: argparse.Namespace) -> int:
    console = Console(stderr=True)
    runtimes = driver_names() if args.runtime == "all" else [args.runtime]
    if args.upstream and not args.live:
        raise HarnessError("--upstream only applies with --live", source="--upstream")
    version = args.runtime_version
    jobs = [(runtime, folder) for runtime in runtimes
            for folder in _folders(args, runtimes, version)]
    results: list[RecordResult] = []
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                  MofNCompleteColumn(), TimeElapsedColumn(), console=console) as progress:
        task = progress.add_task("recording", total=len(jobs))
        for runtime, folder in jobs:
            driver = get_driver(runtime, version)
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
