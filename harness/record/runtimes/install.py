"""Install runtimes' npm packages project-locally, reproducibly.

The pinned version lives in `.runtimes/<name>/` (what the catalog is recorded with); any other
published version goes side by side into `.runtimes/<name>@<version>/`, so recording or checking
drift with an older or newer release never disturbs the pinned install.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from harness.contract.errors import HarnessError
from harness.record.runtimes import base
from harness.record.runtimes.base import RuntimeDriver


class InstallError(HarnessError):
    """npm could not install the requested runtime version."""


VERSION = re.compile(r"\d+\.\d+\.\d+(?:-[0-9A-Za-z.]+)?")
"""A published npm version (semver, optional pre-release); also keeps folder names safe."""


def runtimes_root() -> Path:
    """`.runtimes/` (read at call time so tests can point it at a temp folder)."""
    return base.RUNTIMES_DIR


def parse_spec(spec: str) -> tuple[str, str | None]:
    """`codex` -> ("codex", None); `codex@0.171.0` -> ("codex", "0.171.0"); a malformed version
    is refused (it becomes a folder name)."""
    name, sep, version = spec.partition("@")
    if not sep:
        return name, None
    if not VERSION.fullmatch(version):
        raise InstallError(f"not a published version: {version!r} (e.g. {name}@0.1.0)",
                           source=spec)
    return name, version


def install_dir(driver: RuntimeDriver, version: str | None = None) -> Path:
    """`.runtimes/<name>/` for the pinned version, `.runtimes/<name>@<version>/` otherwise;
    `<name>` is the driver's `install_name` when it shares another driver's package install
    (e.g. the codex app-server driver runs the codex install)."""
    name = getattr(driver, "install_name", driver.name)
    if version is None or version == driver.version:
        return runtimes_root() / name
    return runtimes_root() / f"{name}@{version}"


def manifest_version(folder: Path, package: str) -> str | None:
    """The version npm installed in `folder`, read from the package's own package.json."""
    manifest = folder / "node_modules" / package / "package.json"
    try:
        version = json.loads(manifest.read_text())["version"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return str(version)


def installed_version(driver: RuntimeDriver, version: str | None = None) -> str | None:
    """The version installed where `version` (default: the pin) belongs."""
    return manifest_version(install_dir(driver, version), driver.npm_package)


def install(driver: RuntimeDriver, version: str | None = None, *, quiet: bool = False) -> Path:
    """Install `driver.npm_package@version` (default: the pin) unless that exact version is
    already in its folder; the installed package.json must report the version asked for."""
    wanted = version or driver.version
    target = install_dir(driver, wanted)
    if manifest_version(target, driver.npm_package) == wanted:
        return target
    npm = shutil.which("npm")
    if npm is None:
        raise InstallError("npm is not on PATH (Node.js is needed to run the real runtimes)")
    target.mkdir(parents=True, exist_ok=True)
    spec = f"{driver.npm_package}@{wanted}"
    cmd = [npm, "install", "--prefix", str(target), "--no-audit", "--no-fund",
           "--save-exact", spec]
    result = subprocess.run(cmd, capture_output=quiet, text=True, check=False)
    if result.returncode != 0:
        detail = (result.stderr or "").strip().splitlines()[-1:] if quiet else []
        raise InstallError(f"npm install {spec} failed (exit {result.returncode}) {detail}")
    got = manifest_version(target, driver.npm_package)
    if got != wanted:
        raise InstallError(f"{spec} installed but reports {got}")
    return target


def latest_version(driver: RuntimeDriver) -> str:
    """The newest release npm's registry offers for the driver's package (`npm view`)."""
    npm = shutil.which("npm")
    if npm is None:
        raise InstallError("npm is not on PATH (Node.js is needed to run the real runtimes)")
    result = subprocess.run([npm, "view", driver.npm_package, "version"], capture_output=True,
                            text=True, check=False)
    version = result.stdout.strip()
    if result.returncode != 0 or not VERSION.fullmatch(version):
        detail = (result.stderr or result.stdout).strip().splitlines()[-1:]
        raise InstallError(f"npm view {driver.npm_package} version failed {detail}")
    return version


@dataclass(frozen=True)
class Installed:
    """One installed runtime version found under `.runtimes/`."""

    name: str
    version: str
    pinned: bool
    path: Path

    @property
    def spec(self) -> str:
        return f"{self.name}@{self.version}"


def installed_versions(driver: RuntimeDriver) -> list[Installed]:
    """Every version of this runtime installed under `.runtimes/`: the pinned folder first, then
    side-by-side versions in version order. A folder whose package.json is missing or disagrees
    with its name is left out (a broken install is not a version)."""
    found: list[Installed] = []
    folder_name = install_dir(driver).name
    pinned = manifest_version(runtimes_root() / folder_name, driver.npm_package)
    if pinned is not None:
        found.append(Installed(driver.name, pinned, pinned == driver.version,
                               runtimes_root() / folder_name))
    others: list[Installed] = []
    for folder in runtimes_root().glob(f"{folder_name}@*"):
        version = folder.name.partition("@")[2]
        if manifest_version(folder, driver.npm_package) == version:
            others.append(Installed(driver.name, version, False, folder))
    return found + sorted(others, key=lambda i: version_key(i.version))


def version_key(version: str) -> tuple[int, ...]:
    """Numeric order of the release part (0.9.0 < 0.10.0)."""
    core = version.partition("-")[0]
    return tuple(int(part) for part in core.split(".") if part.isdigit())
