"""`harness scan`: look for secrets in cassettes and golden files (exit 1 on any finding)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from harness.contract.errors import InputError
from harness.record.secrets import scan_paths


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser(
        "scan", help="scan files for secrets (default: cassettes/ and golden/)")
    parser.add_argument("paths", nargs="*", type=Path,
                        default=[Path("cassettes"), Path("golden")])
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    missing = [path for path in args.paths if not path.exists()]
    if missing:  # a scan that read nothing must not pass as clean
        raise InputError("no such file or directory", source=str(missing[0]))
    findings = scan_paths(args.paths)
    for finding in findings:
        print(finding)
    if findings:
        print(f"harness scan: {len(findings)} possible secret(s)", file=sys.stderr)
    return 1 if findings else 0
