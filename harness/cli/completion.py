"""`harness completion bash|zsh`: a shell completion script for every subcommand (shtab).

    harness completion bash > ~/.local/share/bash-completion/completions/harness
    harness completion zsh > "${fpath[1]}/_harness"
"""

from __future__ import annotations

import argparse
from typing import Any

from harness.contract.errors import HarnessError

SHELLS = ("bash", "zsh", "tcsh")


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser(
        "completion", help="print a shell completion script (bash or zsh)")
    parser.add_argument("shell", choices=SHELLS)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    try:
        import shtab  # noqa: PLC0415 -- only this command needs it
    except ImportError:
        raise HarnessError("needs shtab: python3 -m pip install shtab",
                           source="harness completion") from None
    from harness.cli import build_parser  # noqa: PLC0415 -- the package imports this module

    print(shtab.complete(build_parser(every=True), shell=args.shell), end="")
    return 0
