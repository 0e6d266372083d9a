"""`harness runtimes`: install real runtimes project-locally (the pin, or any published version
side by side), or list them."""

from __future__ import annotations

import argparse
from typing import Any

from harness.record.runtimes.install import install, installed_versions, parse_spec
from harness.record.runtimes.registry import driver_names, get_driver


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser(
        "runtimes", help="install or list the agent runtimes (npm, into .runtimes/)")
    actions = parser.add_subparsers(dest="action", required=True)
    inst = actions.add_parser(
        "install", help="install pinned runtimes, or name@version for another published version "
        "(side by side in .runtimes/<name>@<version>/)")
    inst.add_argument("names", nargs="+",
                      help=f"{', '.join(driver_names())}, all, or name@version")
    inst.set_defaults(handler=run_install)
    lst = actions.add_parser("list", help="show pinned and installed versions as name@version")
    lst.set_defaults(handler=run_list)


def run_install(args: argparse.Namespace) -> int:
    specs = [n for spec in args.names for n in (driver_names() if spec == "all" else [spec])]
    for spec in specs:
        name, version = parse_spec(spec)
        driver = get_driver(name)
        path = install(driver, version)
        print(f"{name}@{version or driver.version} ({driver.npm_package}) in {path}")
    return 0


def run_list(args: argparse.Namespace) -> int:
    for name in driver_names():
        try:
            driver = get_driver(name)
        except ImportError:
            print(f"{name}: driver not available")
            continue
        print(f"{name}@{driver.version} pinned ({driver.npm_package})")
        found = installed_versions(driver)
        if not found:
            print("  not installed")
        for item in found:
            note = "pinned" if item.pinned else (
                "in the pinned folder, not the pin" if item.path.name == name else "side by side")
            print(f"  {item.spec} installed ({note})")
    return 0
