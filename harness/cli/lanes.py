"""`harness lanes`: the capability matrix each lane declares."""

from __future__ import annotations

import argparse
import json
from typing import Any

from rich.console import Console
from rich.table import Table

from harness.conformance.capabilities import matrix
from harness.contract.lane import available_lanes, lane_ids


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser(
        "lanes", help="list lanes with their declared item kinds and capabilities")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    lanes = available_lanes()
    rows = matrix(lanes)
    missing = sorted(set(lane_ids()) - set(lanes))
    if args.json:
        print(json.dumps({"lanes": rows, "unavailable": missing}, indent=2))
        return 0
    table = Table(title="lanes")
    for column in ("lane", "provider", "input", "capabilities", "item kinds"):
        table.add_column(column)
    for row in rows:
        table.add_row(row["lane"], row["provider"], row["input"],
                      ", ".join(row["capabilities"]), ", ".join(row["item_kinds"]))
    console = Console()
    console.print(table)
    for lane in missing:
        console.print(f"{lane}: unavailable (its provider extra is not installed)")
    return 0
