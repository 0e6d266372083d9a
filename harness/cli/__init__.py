"""The `harness` command: subcommands live in `harness.cli.*`, each with `register()`.

Start-up is part of every `harness normalize` a user pipes through, so only the chosen
subcommand's module is imported: the others appear in `harness --help` from `COMMANDS` (name and
help line) without loading the gate, the SDKs or the recorder. A test keeps `COMMANDS` equal to
the modules and their own help lines.

Every `HarnessError` becomes one `where: reason` line on stderr and exit code 2; no traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence

from harness.contract.errors import HarnessError

Handler = Callable[[argparse.Namespace], int]

COMMANDS: dict[str, str] = {
    "check": "run the conformance gate: every lane x scenario, every lane pair",
    "completion": "print a shell completion script (bash or zsh)",
    "drift": "record scenarios with another runtime version and compare with the catalog",
    "lanes": "list lanes with their declared item kinds and capabilities",
    "normalize": "normalize one lane's native input to JSONL on stdout",
    "record": "record scenario cassettes from a real runtime against the local stub",
    "runtimes": "install or list the agent runtimes (npm, into .runtimes/)",
    "scan": "scan files for secrets (default: cassettes/ and golden/)",
    "schema": "print, write (--write) or check (--check) the normalized-log schema",
    "validate": "check normalized JSONL logs against the schema and ordering rules",
}
"""Subcommand (= module in `harness.cli`) -> its help line, as its `register()` says it."""


FILE_COMPLETION = {"bash": "_shtab_compgen_files", "zsh": "_files", "tcsh": "f"}
"""shtab's file completion (`shtab.FILE`), set as `action.complete` without importing shtab."""
DIR_COMPLETION = {"bash": "_shtab_compgen_dirs", "zsh": "_files -/", "tcsh": "d"}


def version() -> str:
    """The installed distribution's version (the one `pip` sees)."""
    from importlib.metadata import PackageNotFoundError  # noqa: PLC0415 -- start-up
    from importlib.metadata import version as dist_version  # noqa: PLC0415

    try:
        return dist_version("agent-conformance-harness")
    except PackageNotFoundError:
        return "0+unknown"


class _VersionAction(argparse.Action):
    """`--version`, resolved only when asked (reading metadata costs start-up time)."""

    def __init__(self, option_strings: Sequence[str], dest: str = argparse.SUPPRESS,
                 default: str = argparse.SUPPRESS, help: str | None = None) -> None:
        super().__init__(option_strings, dest=dest, default=default, nargs=0, help=help)

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: object, option_string: str | None = None) -> None:
        print(f"harness {version()}")
        parser.exit()


def build_parser(command: str | None = None, *, every: bool = False
                 ) -> argparse.ArgumentParser:
    """The CLI parser; only `command` (when it is one) gets its full arguments, the rest are
    names with help so `harness --help` lists them all. `every`: all commands in full (what
    shell completion needs)."""
    parser = argparse.ArgumentParser(
        prog="harness",
        description="Conformance and record/replay harness for multi-provider agent runtimes.",
    )
    parser.add_argument("--version", action=_VersionAction, help="print the version and exit")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, help_line in COMMANDS.items():
        if every or name == command:
            importlib.import_module(f"harness.cli.{name}").register(sub)
        else:
            sub.add_parser(name, help=help_line)
    return parser


def chosen_command(argv: Sequence[str]) -> str | None:
    """The subcommand named on the command line: the first argument that is not an option (the
    top-level parser has no option taking a value)."""
    return next((arg for arg in argv if not arg.startswith("-")), None)


def main(argv: Sequence[str] | None = None) -> int:
    arguments = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(chosen_command(arguments))
    args = parser.parse_args(arguments)
    handler: Handler = args.handler
    try:
        return handler(args)
    except HarnessError as exc:
        one_line = " ".join(str(exc).split())  # the contract: one `file:line: reason` line
        print(f"harness: {one_line}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        return 0
    except KeyboardInterrupt:
        print("harness: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
