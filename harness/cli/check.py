"""`harness check`: the conformance gate over the catalog (the project's main job)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from rich.console import Console

from harness.conformance.gate import GateOptions, parse_shard, run_gate
from harness.conformance.report import print_matrix, write_reports


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser(
        "check", help="run the conformance gate: every lane x scenario, every lane pair")
    parser.add_argument("--cassettes", type=Path, default=Path("cassettes"))
    parser.add_argument("--golden", type=Path, default=Path("golden"))
    parser.add_argument("--report", type=Path, default=Path("report"),
                        help="folder for junit.xml, summary.md, index.html (default: report)")
    parser.add_argument("--lane", action="append", dest="lanes", help="only this lane (repeat)")
    parser.add_argument("--scenario", action="append", dest="scenarios",
                        help="only this scenario (repeat)")
    parser.add_argument("--update-golden", action="store_true",
                        help="rewrite golden snapshots that changed, for review")
    parser.add_argument("--impl", help='external implementation: a command with {lane} and '
                        '{input}, printing normalized JSONL (judged against golden/)')
    parser.add_argument("--shard", default="1/1", help="K/N: this job's share of scenarios")
    parser.add_argument("--jobs", type=int, default=0, help="worker processes (0: one per core)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    if args.impl and args.update_golden:
        print("harness: --update-golden cannot be combined with --impl")
        return 2
    options = GateOptions(
        cassettes=args.cassettes, golden=args.golden, lanes=args.lanes,
        scenarios=args.scenarios, update_golden=args.update_golden, impl=args.impl,
        shard=parse_shard(args.shard), jobs=args.jobs,
    )
    result = run_gate(options)
    console = Console()
    print_matrix(result, console)
    for path in write_reports(result, args.report):
        console.print(f"report: {path}", markup=False)
    console.print("[green]PASS[/]" if result.ok else "[red]FAIL[/]")
    return 0 if result.ok else 1
