"""Runtime drivers by name. Modules load lazily so a missing optional runtime costs nothing."""

from __future__ import annotations

import importlib

from harness.errors import HarnessError
from harness.runtimes.base import RuntimeDriver

DRIVER_MODULES: dict[str, str] = {
    "codex": "harness.runtimes.codex",
    "claude": "harness.runtimes.claude",
    "gemini": "harness.runtimes.gemini",
}


class UnknownRuntimeError(HarnessError):
    """No driver with that name."""


def get_driver(name: str) -> RuntimeDriver:
    try:
        module_name = DRIVER_MODULES[name]
    except KeyError:
        known = ", ".join(DRIVER_MODULES)
        raise UnknownRuntimeError(f"unknown runtime {name!r} (known: {known})",
                                  source="--runtime") from None
    driver: RuntimeDriver = importlib.import_module(module_name).DRIVER
    return driver


def driver_names() -> list[str]:
    return list(DRIVER_MODULES)
