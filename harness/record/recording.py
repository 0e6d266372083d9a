"""Record a scenario on a real runtime: stub up, runtime runs, cassette files written atomically.

Runtime-agnostic: everything runtime-specific comes from the `RuntimeDriver`. The recorder builds a
temp git workspace and HOME, starts the stub with the driver's responder, runs each scenario run
(later runs resume the thread the previous one returned), templates volatile values, and writes
three files per runtime: `<R>.http.yaml`, the native stream, `<R>.meta.json`. Everything is
templated and scrubbed in memory first, then the three files are committed as one unit
(`fsutil.commit_files`), so an interrupted recording never leaves a half-written or mixed set.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from harness.conformance.equivalence import equivalent
from harness.contract.errors import HarnessError
from harness.contract.lane import LaneSpec, RunContext, available_lanes, normalize_to_dicts
from harness.fsutil import commit_files, recover
from harness.record.cassette import render_http_cassette
from harness.record.proxy import ProxyResponder
from harness.record.runtimes.base import RunOutput, RunPlan, RuntimeDriver
from harness.record.secrets import Scrubber
from harness.record.stub import Responder, StubServer
from harness.scenario import Scenario, load_scenario


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
    drift: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class RecordingTexts:
    """The three files' contents, rendered before anything is written."""

    http: str
    native: str
    meta: str


SEED_COMMIT_DATES = {"GIT_AUTHOR_DATE": "2026-01-01T00:00:00Z",
                     "GIT_COMMITTER_DATE": "2026-01-01T00:00:00Z"}
"""Fixed dates make the seed commit's hash the same on every recording (runtimes show it to the
model, so a varying hash would be a diff in every re-recorded cassette)."""


def seed_workspace(scenario: Scenario, workspace: Path) -> None:
    """Create the workspace files and make it a git repository (runtimes trust git roots)."""
    workspace.mkdir(parents=True)
    for rel, content in scenario.settings.workspace.items():
        target = workspace / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content, encoding="utf-8")
    (workspace / scenario.settings.cwd).mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_SYSTEM": os.devnull,
           **SEED_COMMIT_DATES}
    for args in (["init", "-q", "-b", "main"], ["add", "-A"],
                 ["-c", "user.name=harness", "-c", "user.email=harness@example.invalid",
                  "commit", "-q", "--allow-empty", "-m", "seed"]):
        done = subprocess.run(["git", *args], cwd=workspace, env=env, capture_output=True,
                              check=False)
        if done.returncode != 0:
            raise RecordingError(f"git {args[0]} failed in workspace: {done.stderr!r}")


def run_scenario(driver: RuntimeDriver, scenario: Scenario, root: Path, responder: Responder,
                 api_key: str | None = None
                 ) -> tuple[list[tuple[RunPlan, RunOutput]], StubServer]:
    """Run every run of the scenario against a fresh stub; returns outputs and the stopped stub."""
    workspace, home = root / "workspace", root / "home"
    seed_workspace(scenario, workspace)
    home.mkdir()
    outputs: list[tuple[RunPlan, RunOutput]] = []
    with StubServer(responder) as stub:
        thread_id: str | None = None
        for index in range(len(scenario.runs)):
            plan = RunPlan(scenario, index, workspace, home, stub.base_url, thread_id, api_key)
            output = driver.run(plan)
            outputs.append((plan, output))
            thread_id = output.thread_id or thread_id
    return outputs, stub


def render_recording(driver: RuntimeDriver, scenario: Scenario,
                     outputs: list[tuple[RunPlan, RunOutput]], stub: StubServer,
                     *, scrub: Scrubber, live: LiveSettings | None = None) -> RecordingTexts:
    """The three files' texts: templated (temp paths, ids), then scrubbed (secrets, identity)."""
    first_plan = outputs[0][0]

    def clean(text: str) -> str:
        return scrub(driver.template(text, first_plan))

    native = "".join(clean(out.stdout.decode("utf-8", errors="replace")) for _, out in outputs)
    meta = {
        "scenario": scenario.name,
        "runtime": driver.name,
        "package": driver.npm_package,
        "version": driver.version,
        "native_lane": driver.native_lane,
        "files": [f"{driver.name}.http.yaml", driver.native_file],
        "context": driver.context(scenario),
        "live": live is not None,
        "runs": [_run_entry(out, clean) for _, out in outputs],
        "stub": {
            "requests": len(stub.log.exchanges),
            "problems": [clean(p) for p in stub.log.problems],
        },
    }
    if live is not None:
        meta["upstream"] = urlsplit(live.upstream).netloc
    return RecordingTexts(
        http=clean(render_http_cassette(stub.log.exchanges)),
        native=native,
        meta=json.dumps(meta, indent=2, sort_keys=True, ensure_ascii=False) + "\n",
    )


def _run_entry(out: RunOutput, clean: Callable[[str], str]) -> dict[str, object]:
    """One run in the meta file: its arguments, exit code and any setup commands before it."""
    entry: dict[str, object] = {"args": [clean(a) for a in out.args], "exit_code": out.exit_code}
    if out.setup:
        entry["setup"] = [{"args": [clean(a) for a in s.args], "exit_code": s.exit_code,
                           "output": clean(s.output).splitlines()} for s in out.setup]
    return entry


@dataclass(frozen=True)
class LiveSettings:
    """A live recording: forward to `upstream` with the user's own key."""

    upstream: str
    api_key: str


def record_scenario(driver: RuntimeDriver, scenario_dir: Path, *, force: bool = True,
                    live: LiveSettings | None = None,
                    drift_lanes: Mapping[str, LaneSpec] | None = None) -> RecordResult:
    """Record one scenario folder with one runtime (see module docstring)."""
    recover(scenario_dir)
    scenario = load_scenario(scenario_dir / "scenario.yaml")
    result = RecordResult(scenario=scenario.name, runtime=driver.name)
    reason = scenario.unsupported_reason(driver.name)
    if reason is not None and live is None:
        result.skipped = reason
        return result
    paths = cassette_paths(driver, scenario_dir)
    if not force and any(p.exists() for p in paths):
        raise RecordingError("cassette exists (use --force to overwrite)", source=str(scenario_dir))
    if not driver.binary().exists():
        raise RecordingError(
            f"{driver.name} {driver.version} is not installed "
            f"(run: harness runtimes install {driver.name})"
        )
    responder: Responder = ProxyResponder(live.upstream) if live else driver.responder(scenario)
    scrub = Scrubber.from_environment(extra=[live.api_key] if live else [])
    with tempfile.TemporaryDirectory(prefix=f"harness-{driver.name}-") as tmp:
        root = Path(tmp).resolve()
        outputs, stub = run_scenario(driver, scenario, root, responder,
                                     live.api_key if live else None)
        texts = render_recording(driver, scenario, outputs, stub, scrub=scrub, live=live)
        files = {p.name: t.encode("utf-8")
                 for p, t in zip(paths, (texts.http, texts.native, texts.meta), strict=True)}
        result.drift = drift(scenario_dir, files, root / "new", drift_lanes)
    commit_files(scenario_dir, files, name=driver.name)
    result.files = list(paths)
    result.exit_codes = [out.exit_code for _, out in outputs]
    result.problems = json.loads(texts.meta)["stub"]["problems"]
    return result


def drift(scenario_dir: Path, new_files: dict[str, bytes], scratch: Path,
          lanes: Mapping[str, LaneSpec] | None = None) -> dict[str, str]:
    """Per lane reading one of the files: the normalized difference from the previous cassette.

    Review is about meaning, not bytes: re-recording that changes only ids or timings reports
    nothing; a changed exit code or a missing item shows as an equivalence diff.
    """
    scratch.mkdir(parents=True, exist_ok=True)
    report: dict[str, str] = {}
    for lane in (available_lanes() if lanes is None else lanes).values():
        if lane.native_file not in new_files or not (scenario_dir / lane.native_file).exists():
            continue
        fresh = scratch / lane.native_file
        fresh.write_bytes(new_files[lane.native_file])
        try:
            old = normalize_to_dicts(lane, scenario_dir / lane.native_file, RunContext())
            new = normalize_to_dicts(lane, fresh, RunContext())
        except HarnessError as exc:
            report[lane.id] = f"cannot compare: {exc}"
            continue
        verdict = equivalent(old, new, "strict", labels=("previous", "new"))
        if not verdict.equivalent:
            report[lane.id] = verdict.diff
    return report


def cassette_paths(driver: RuntimeDriver, scenario_dir: Path) -> tuple[Path, Path, Path]:
    return (scenario_dir / f"{driver.name}.http.yaml", scenario_dir / driver.native_file,
            scenario_dir / f"{driver.name}.meta.json")
