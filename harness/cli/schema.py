"""`harness schema`: print, write or check the published JSON Schema and its TypeScript twin."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from harness.contract.schema import generated_files, generated_schema, render_schema, stale_files
from harness.fsutil import atomic_write_text


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser(
        "schema", help="print, write (--write) or check (--check) the normalized-log schema")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--write", action="store_true",
                      help="regenerate schemas/ from harness/contract/model.py")
    mode.add_argument("--check", action="store_true",
                      help="exit 1 when the checked-in schemas/ files are stale")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    if args.write:
        for path, text in generated_files().items():
            atomic_write_text(path, text)
            print(f"wrote {path}")
        return 0
    if args.check:
        stale = stale_files()
        for path in stale:
            print(f"{path}: stale (run: harness schema --write)", file=sys.stderr)
        return 1 if stale else 0
    sys.stdout.write(render_schema(generated_schema()))
    return 0
