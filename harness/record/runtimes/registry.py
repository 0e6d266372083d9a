"""Runtime drivers by name. Modules load lazily so a missing optional runtime costs nothing."""

from __future__ import annotations

import copy
import importlib

from harness.contract.errors import HarnessError
from harness.record.runtimes.base import RuntimeDriver
from harness.record.runtimes.install import install_dir, parse_spec

DRIVER_MODULES: dict[str, str] = {
    "codex": "harness.record.runtimes.codex",
    "claude": "harness.record.runtimes.claude",
    "gemini": "harness.record.runtimes.gemini",
    "codex-app-server": "harness.record.runtimes.codex_app_server",
    "gemini-acp": "harness.record.runtimes.gemini_acp",
}

LIVE_UPSTREAMS: dict[str, str] = {
    "codex": "https://api.openai.com",
    "claude": "https://api.anthropic.com",
    "gemini": "https://generativelanguage.googleapis.com",
    "codex-app-server": "https://api.openai.com",
    "gemini-acp": "https://generativelanguage.googleapis.com",
}
"""Where `harness record --live` forwards each runtime's traffic by default."""

LIVE_KEY_VARIABLES: dict[str, tuple[str, ...]] = {
    "codex": ("CODEX_API_KEY", "OPENAI_API_KEY"),
    "claude": ("ANTHROPIC_API_KEY",),
    "gemini": ("GEMINI_API_KEY", "GOOGLE_API_KEY"),
    "codex-app-server": ("CODEX_API_KEY", "OPENAI_API_KEY"),
    "gemini-acp": ("GEMINI_API_KEY", "GOOGLE_API_KEY"),
}
"""Environment variables a live recording takes the user's key from, first found wins."""


class UnknownRuntimeError(HarnessError):
    """No driver with that name."""


def get_driver(name: str, version: str | None = None) -> RuntimeDriver:
    """The driver for `name`; with a `version` other than its pin, a copy that runs that
    version from its side-by-side install (`.runtimes/<name>@<version>/`)."""
    try:
        module_name = DRIVER_MODULES[name]
    except KeyError:
        known = ", ".join(DRIVER_MODULES)
        raise UnknownRuntimeError(f"unknown runtime {name!r} (known: {known})",
                                  source="--runtime") from None
    driver: RuntimeDriver = importlib.import_module(module_name).DRIVER
    if version is None or version == driver.version:
        return driver
    return at_version(driver, version)


def at_version(driver: RuntimeDriver, version: str) -> RuntimeDriver:
    """A shallow copy of `driver` whose `version` (meta files, run context) and `binary()` are
    those of another installed version: the same npm executable (`node_modules/.bin/<exe>`) in
    that version's npm prefix, `.runtimes/<name>@<version>/`."""
    parse_spec(f"{driver.name}@{version}")  # refuses a malformed version
    clone = copy.copy(driver)
    clone.version = version
    executable = install_dir(driver, version) / "node_modules" / ".bin" / driver.binary().name
    setattr(clone, "binary", lambda: executable)  # noqa: B010 (instance shadows the method)
    return clone


def driver_names() -> list[str]:
    return list(DRIVER_MODULES)
