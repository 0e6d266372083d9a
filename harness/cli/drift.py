"""`harness drift`: does another runtime version change what the catalog's scenarios mean?

Records each scenario with `--runtime R --version V` (installed side by side by `harness
runtimes install R@V`) into a scratch folder, normalizes it with the runtime's native lane and
compares it with the catalog's recording by the gate's field-by-field equivalence. Writes
`drift.md` and `drift.json` (with what changed in the native shape and, for Codex, in its
protocol schema); exit 0 no semantic change, 1 changed, 2 error. `--version latest`
asks npm's registry for the newest release and installs it first (`nox -s drift`).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from harness.conformance.drift import ScenarioDrift, run_drift, write_reports
from harness.conformance.schemadiff import schema_difference
from harness.contract.errors import HarnessError
from harness.record.runtimes.base import REPO_ROOT, RuntimeDriver
from harness.record.runtimes.install import install, latest_version, parse_spec
from harness.record.runtimes.registry import driver_names, get_driver
from harness.scenario import scenario_dirs


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser(
        "drift", help="record scenarios with another runtime version and compare with the catalog")
    parser.add_argument("--runtime", required=True, choices=driver_names())
    parser.add_argument("--version", dest="runtime_version", required=True, metavar="VERSION",
                        help="an installed version (harness runtimes install R@VERSION), or "
                             "latest: the registry's newest release, installed if missing")
    parser.add_argument("--scenario", default="all", help="scenario name or all (default)")
    parser.add_argument("--catalog", type=Path, default=REPO_ROOT / "cassettes",
                        help="the recordings to compare with (default: the shipped catalog)")
    parser.add_argument("--scratch", type=Path,
                        help="where the new recordings go (default: a temp folder, removed)")
    parser.add_argument("--report", type=Path, default=Path("report"),
                        help="folder for drift.md and drift.json (default: report)")
    parser.set_defaults(handler=run)


def _scenarios(catalog: Path, name: str) -> list[Path]:
    dirs = scenario_dirs(catalog)
    chosen = dirs if name == "all" else [d for d in dirs if d.name == name]
    if not chosen:
        raise HarnessError(f"no scenario {name!r} under {catalog}", source="--scenario")
    return chosen


def _line(verdict: ScenarioDrift) -> None:
    checks = ", ".join(sorted({d.check for d in verdict.differences}))
    note = checks or (verdict.detail.splitlines() or [""])[0]
    print(f"{verdict.status:8} {verdict.scenario}" + (f": {note}" if note else ""), flush=True)


def _schema_changes(pinned: RuntimeDriver, other: RuntimeDriver) -> tuple[str, ...] | None:
    """The protocol schema's difference, for a runtime that prints one (`protocol_schema`);
    None when it prints none or either version cannot (said on stderr, never fatal)."""
    if not callable(getattr(other, "protocol_schema", None)):
        return None
    try:
        old, new = pinned.protocol_schema(), other.protocol_schema()  # type: ignore[attr-defined]
    except (OSError, subprocess.SubprocessError, ValueError) as exc:
        print(f"protocol schema not compared: {exc}", file=sys.stderr)
        return None
    return tuple(schema_difference(old, new))


def run(args: argparse.Namespace) -> int:
    if args.runtime_version == "latest":
        newest = latest_version(get_driver(args.runtime))
        print(f"latest {args.runtime}: {newest}", flush=True)
        install(get_driver(args.runtime), newest, quiet=True)
        args.runtime_version = newest
    name, version = parse_spec(f"{args.runtime}@{args.runtime_version}")
    assert version is not None
    pinned = get_driver(name).version
    driver = get_driver(name, version)
    if not driver.binary().exists():
        raise HarnessError(f"{name}@{version} is not installed (run: harness runtimes install "
                           f"{name}@{version})", source="--version")
    folders = _scenarios(args.catalog, args.scenario)
    schema = _schema_changes(get_driver(name), driver)
    if args.scratch is not None:
        if args.scratch.resolve() == args.catalog.resolve():
            raise HarnessError("the scratch folder cannot be the catalog", source="--scratch")
        report = run_drift(driver, folders, args.scratch, progress=_line,
                           schema_changes=schema)
    else:
        with tempfile.TemporaryDirectory(prefix=f"harness-drift-{name}-") as tmp:
            report = run_drift(driver, folders, Path(tmp), progress=_line,
                               schema_changes=schema)
    md, js = write_reports(report, pinned, args.report)
    print(f"report: {md}\nreport: {js}")
    return report.exit_code
