"""`harness runtimes`: install the pinned real runtimes project-locally, or list them."""

from __future__ import annotations

import argparse
from typing import Any

from harness.record.runtimes.install import install, installed_version
from harness.record.runtimes.registry import driver_names, get_driver


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser(
        "runtimes", help="install or list the pinned agent runtimes (npm, into .runtimes/)")
    actions = parser.add_subparsers(dest="action", required=True)
    inst = actions.add_parser("install", help="install pinned runtimes")
    inst.add_argument("names", nargs="+", help=f"{', '.join(driver_names())} or all")
    inst.set_defaults(handler=run_install)
    lst = actions.add_parser("list", help="show pinned and installed versions")
    lst.set_defaults(handler=run_list)


def run_install(args: argparse.Namespace) -> int:
    names = driver_names() if "all" in args.names else args.names
    for name in names:
        driver = get_driver(name)
        path = install(driver)
        print(f"{name}: {driver.npm_package}@{driver.version} in {path}")
    return 0


def run_list(args: argparse.Namespace) -> int:
    for name in driver_names():
        try:
            driver = get_driver(name)
        except ImportError:
            print(f"{name}: driver not available")
            continue
        have = installed_version(driver) or "not installed"
        print(f"{name}: pinned {driver.npm_package}@{driver.version}, installed {have}")
    return 0
