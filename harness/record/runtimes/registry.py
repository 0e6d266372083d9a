"""Runtime drivers by name. Modules load lazily so a missing optional runtime costs nothing."""

from __future__ import annotations

import importlib

from harness.contract.errors import HarnessError
from harness.record.runtimes.base import RuntimeDriver

DRIVER_MODULES: dict[str, str] = {
    "codex": "harness.record.runtimes.codex",
    "claude": "harness.record.runtimes.claude",
    "gemini": "harness.record.runtimes.gemini",
}

LIVE_UPSTREAMS: dict[str, str] = {
    "codex": "https://api.openai.com",
    "claude": "https://api.anthropic.com",
    "gemini": "https://generativelanguage.googleapis.com",
}
"""Where `harness record --live` forwards each runtime's traffic by default."""

LIVE_KEY_VARIABLES: dict[str, tuple[str, ...]] = {
    "codex": ("CODEX_API_KEY", "OPENAI_API_KEY"),
    "claude": ("ANTHROPIC_API_KEY",),
    "gemini": ("GEMINI_API_KEY", "GOOGLE_API_KEY"),
}
"""Environment variables a live recording takes the user's key from, first found wins."""


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
