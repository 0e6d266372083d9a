"""Native Codex plugin management before a run's session: the driver's plugin steps.

A scenario run may list plugin steps (`Run.plugins`); the Codex driver performs them with Codex's
own CLI in the run's hermetic `CODEX_HOME`, the way a user places a plugin:

    publish          copy a marketplace folder from the repo to `{home}/marketplace` (replacing
                     the previous publication: a marketplace owner shipping a new version)
    add_marketplace  `codex plugin marketplace add {home}/marketplace --json`
    install          `codex plugin add <plugin>@<marketplace> --json` (also how a new version is
                     taken: Codex 0.169 keeps the cached copy until the plugin is added again)
    remove           `codex plugin remove <plugin>@<marketplace> --json`
    list             `codex plugin list --json`, compared with the step's `installed` versions

The marketplace name comes from the published `.agents/plugins/marketplace.json`. Every step's
command, exit code and output go into the meta file (`SetupRecord`); a step that does not end as
the scenario says (exit 0, or a failure whose output holds `fails`) stops the recording with a
`PluginStepError`, so a cassette never shows a session whose plugin placement went otherwise.
Needs `[features] plugins = true` (with it off, `codex plugin add` claims the plugin is not in
the marketplace).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

from harness.contract.errors import HarnessError
from harness.record.runtimes.base import REPO_ROOT, RunPlan, SetupRecord
from harness.scenario import PluginStep

PLUGIN_TIMEOUT_SECONDS = 60
MARKETPLACE_FILE = Path(".agents") / "plugins" / "marketplace.json"
"""Where a Codex marketplace root declares its name and plugins."""

NOISE_PREFIXES = ("WARNING: proceeding, even though we could not create PATH aliases",)
"""stderr lines every command prints when CODEX_HOME is under /tmp (ours always is): not part of
what a plugin command answered, so they stay out of the meta file."""


class PluginStepError(HarnessError):
    """A plugin step did not end the way the scenario says."""


def published_marketplace(plan: RunPlan) -> Path:
    """Where the run's marketplace is published (inside the run's temp HOME)."""
    return plan.home / "marketplace"


def marketplace_name(root: Path) -> str:
    """The name a marketplace root declares (plugins are installed as `name@<this>`)."""
    path = root / MARKETPLACE_FILE
    try:
        name = json.loads(path.read_text(encoding="utf-8")).get("name")
    except (OSError, ValueError, AttributeError):
        name = None
    if not isinstance(name, str) or not name:
        raise PluginStepError("no marketplace published (or it declares no name)",
                              source=str(path))
    return name


def command(step: PluginStep, plan: RunPlan) -> list[str]:
    """The `codex plugin ...` arguments (after the binary) for a non-publish step."""
    if step.action == "add_marketplace":
        return ["plugin", "marketplace", "add", str(published_marketplace(plan)), "--json"]
    if step.action == "list":
        return ["plugin", "list", "--json"]
    selector = f"{step.plugin}@{marketplace_name(published_marketplace(plan))}"
    return ["plugin", "add" if step.action == "install" else "remove", selector, "--json"]


def publish(step: PluginStep, plan: RunPlan) -> SetupRecord:
    """Replace the published marketplace with the step's source folder."""
    source = REPO_ROOT / str(step.source)
    if not (source / MARKETPLACE_FILE).is_file():
        raise PluginStepError("publish: not a marketplace folder (no "
                              f"{MARKETPLACE_FILE})", source=str(source))
    target = published_marketplace(plan)
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(source, target)
    return SetupRecord(["publish", str(step.source), str(target)], 0, "")


def installed_versions(output: str) -> dict[str, str] | None:
    """Plugin name -> version from `codex plugin list --json` (None: not that JSON)."""
    try:
        listing: Any = json.loads(output)
    except ValueError:
        return None
    rows = listing.get("installed") if isinstance(listing, dict) else None
    if not isinstance(rows, list):
        return None
    return {str(r.get("name")): str(r.get("version")) for r in rows if isinstance(r, dict)}


def check(step: PluginStep, record: SetupRecord, stdout: str) -> None:
    """Raise unless the step ended as the scenario says."""
    where = f"plugin step {step.action}{' ' + step.plugin if step.plugin else ''}"
    last = record.output.strip().splitlines()[-1:] or ["(no output)"]
    if step.fails is not None:
        if record.exit_code == 0 or step.fails not in record.output:
            raise PluginStepError(f"{where}: expected a failure mentioning {step.fails!r}, got "
                                  f"exit {record.exit_code}: {last[0]}")
        return
    if record.exit_code != 0:
        raise PluginStepError(f"{where}: exit {record.exit_code}: {last[0]}")
    if step.installed is not None:
        seen = installed_versions(stdout)
        if seen != step.installed:
            raise PluginStepError(f"{where}: installed {seen}, scenario expects {step.installed}")


def run_plugin_steps(binary: Path, plan: RunPlan, env: dict[str, str]
                     ) -> tuple[SetupRecord, ...]:
    """Perform the run's plugin steps in order (see the module docstring)."""
    records: list[SetupRecord] = []
    for step in plan.scenario.runs[plan.run_index].plugins:
        if step.action == "publish":
            records.append(publish(step, plan))
            continue
        args = command(step, plan)
        done = subprocess.run([str(binary), *args], stdin=subprocess.DEVNULL,
                              capture_output=True, text=True, env=env, cwd=plan.workspace,
                              timeout=PLUGIN_TIMEOUT_SECONDS, check=False)
        stderr = [line for line in done.stderr.splitlines()
                  if not line.startswith(NOISE_PREFIXES)]
        output = "\n".join([*done.stdout.splitlines(), *stderr])
        record = SetupRecord(["codex", *args], done.returncode, output)
        check(step, record, done.stdout)
        records.append(record)
    return tuple(records)
