"""Install a runtime's pinned npm package into `.runtimes/<name>/` (project-local, reproducible)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

from harness.contract.errors import HarnessError
from harness.record.runtimes.base import RUNTIMES_DIR, RuntimeDriver


class InstallError(HarnessError):
    """npm could not install the pinned runtime."""


def install_dir(driver: RuntimeDriver) -> Path:
    return RUNTIMES_DIR / driver.name


def installed_version(driver: RuntimeDriver) -> str | None:
    """The version npm installed, read from the package's own package.json."""
    manifest = install_dir(driver) / "node_modules" / driver.npm_package / "package.json"
    try:
        version = json.loads(manifest.read_text())["version"]
    except (OSError, ValueError, KeyError):
        return None
    return str(version)


def install(driver: RuntimeDriver, *, quiet: bool = False) -> Path:
    """Install `driver.npm_package@driver.version` unless that exact version is already there."""
    if installed_version(driver) == driver.version:
        return install_dir(driver)
    npm = shutil.which("npm")
    if npm is None:
        raise InstallError("npm is not on PATH (Node.js is needed to run the real runtimes)")
    target = install_dir(driver)
    target.mkdir(parents=True, exist_ok=True)
    spec = f"{driver.npm_package}@{driver.version}"
    cmd = [npm, "install", "--prefix", str(target), "--no-audit", "--no-fund",
           "--save-exact", spec]
    result = subprocess.run(cmd, capture_output=quiet, text=True, check=False)
    if result.returncode != 0:
        detail = (result.stderr or "").strip().splitlines()[-1:] if quiet else []
        raise InstallError(f"npm install {spec} failed (exit {result.returncode}) {detail}")
    if installed_version(driver) != driver.version:
        raise InstallError(f"{spec} installed but reports {installed_version(driver)}")
    return target
