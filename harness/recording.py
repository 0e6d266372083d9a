"""Record a scenario on a real runtime: stub up, runtime runs, cassette files written atomically.

Runtime-agnostic: everything runtime-specific comes from the `RuntimeDriver`. The recorder builds a
temp git workspace and HOME, starts the stub with the driver's responder, runs each scenario run
(later runs resume the thread the previous one returned), templates volatile values, and writes
three files per runtime: `<R>.http.yaml`, the native stream, `<R>.meta.json`. All content is
built in memory before the first write, and each write is atomic: a failure leaves old files whole.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from harness.cassette import render_http_cassette
from harness.errors import HarnessError
from harness.fsutil import atomic_write_text
from harness.runtimes.base import RunOutput, RunPlan, RuntimeDriver
from harness.scenario import Scenario, load_scenario
from harness.stub import StubServer


class RecordingError(HarnessError):
    """A recording could not be made (runtime missing, workspace setup failed...)."""


@dataclass
class RecordResult:
    scenario: str
    runtime: str
    files: list[Path] = field(default_factory=list)
    exit_codes: list[int] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    skipped: str | None = None

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class RecordingTexts:
    """The three files' contents, rendered before anything is written."""

    http: str
    native: str
    meta: str


def seed_workspace(scenario: Scenario, workspace: Path) -> None:
    """Create the workspace files and make it a git repository (runtimes trust git roots)."""
    workspace.mkdir(parents=True)
    for rel, content in scenario.settings.workspace.items():
        target = workspace / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content, encoding="utf-8")
    (workspace / scenario.settings.cwd).mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_SYSTEM": os.devnull}
    for args in (["init", "-q", "-b", "main"], ["add", "-A"],
                 ["-c", "user.name=harness", "-c", "user.email=harness@example.invalid",
                  "commit", "-q", "--allow-empty", "-m", "seed"]):
        done = subprocess.run(["git", *args], cwd=workspace, env=env, capture_output=True,
                              check=False)
        if done.returncode != 0:
            raise RecordingError(f"git {args[0]} failed in workspace: {done.stderr!r}")


def run_scenario(driver: RuntimeDriver, scenario: Scenario, root: Path
                 ) -> tuple[list[tuple[RunPlan, RunOutput]], StubServer]:
    """Run every run of the scenario against a fresh stub; returns outputs and the stopped stub."""
    workspace, home = root / "workspace", root / "home"
    seed_workspace(scenario, workspace)
    home.mkdir()
    outputs: list[tuple[RunPlan, RunOutput]] = []
    with StubServer(driver.responder(scenario)) as stub:
        thread_id: str | None = None
        for index in range(len(scenario.runs)):
            plan = RunPlan(scenario, index, workspace, home, stub.base_url, thread_id)
            output = driver.run(plan)
            outputs.append((plan, output))
            thread_id = output.thread_id or thread_id
    return outputs, stub


def render_recording(driver: RuntimeDriver, scenario: Scenario,
                     outputs: list[tuple[RunPlan, RunOutput]], stub: StubServer) -> RecordingTexts:
    first_plan = outputs[0][0]

    def template(text: str) -> str:
        return driver.template(text, first_plan)

    native = "".join(template(out.stdout.decode("utf-8", errors="replace"))
                     for _, out in outputs)
    meta = {
        "scenario": scenario.name,
        "runtime": driver.name,
        "package": driver.npm_package,
        "version": driver.version,
        "native_lane": driver.native_lane,
        "runs": [
            {"args": [template(a) for a in out.args], "exit_code": out.exit_code}
            for _, out in outputs
        ],
        "stub": {
            "requests": len(stub.log.exchanges),
            "problems": [template(p) for p in stub.log.problems],
        },
    }
    return RecordingTexts(
        http=template(render_http_cassette(stub.log.exchanges)),
        native=native,
        meta=json.dumps(meta, indent=2, sort_keys=True, ensure_ascii=False) + "\n",
    )


def record_scenario(driver: RuntimeDriver, scenario_dir: Path, *, force: bool = True
                    ) -> RecordResult:
    """Record one scenario folder with one runtime (see module docstring)."""
    scenario = load_scenario(scenario_dir / "scenario.yaml")
    result = RecordResult(scenario=scenario.name, runtime=driver.name)
    reason = scenario.unsupported_reason(driver.name)
    if reason is not None:
        result.skipped = reason
        return result
    paths = cassette_paths(driver, scenario_dir)
    if not force and any(p.exists() for p in paths):
        raise RecordingError(f"{scenario_dir}: cassette exists (use --force to overwrite)")
    if not driver.binary().exists():
        raise RecordingError(
            f"{driver.name} {driver.version} is not installed "
            f"(run: harness runtimes install {driver.name})"
        )
    with tempfile.TemporaryDirectory(prefix=f"harness-{driver.name}-") as tmp:
        outputs, stub = run_scenario(driver, scenario, Path(tmp).resolve())
        texts = render_recording(driver, scenario, outputs, stub)
    http_path, native_path, meta_path = paths
    atomic_write_text(http_path, texts.http)
    atomic_write_text(native_path, texts.native)
    atomic_write_text(meta_path, texts.meta)
    result.files = list(paths)
    result.exit_codes = [out.exit_code for _, out in outputs]
    result.problems = json.loads(texts.meta)["stub"]["problems"]
    return result


def cassette_paths(driver: RuntimeDriver, scenario_dir: Path) -> tuple[Path, Path, Path]:
    return (scenario_dir / f"{driver.name}.http.yaml", scenario_dir / driver.native_file,
            scenario_dir / f"{driver.name}.meta.json")
