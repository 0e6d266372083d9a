"""What every runtime driver offers the recorder; the recorder itself names no runtime.

Data flows one way: scenario -> responder (wire encoder + stub) -> runtime driver -> cassette.
A driver knows how to install its pinned npm package, how to run one scenario run offline against
a stub URL, and how to make its native output deterministic (temp paths, random ids) so that
re-recording an unchanged scenario gives no diff.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from harness.record.stub import Responder
from harness.scenario import Scenario

REPO_ROOT = Path(__file__).resolve().parents[3]
RUNTIMES_DIR = REPO_ROOT / ".runtimes"


@dataclass(frozen=True)
class RunPlan:
    """Everything one runtime invocation needs; paths are real temp paths on this machine."""

    scenario: Scenario
    run_index: int
    workspace: Path
    home: Path
    stub_url: str
    thread_id: str | None = field(default=None, metadata={"doc": "id to resume, for later runs"})
    api_key: str | None = field(
        default=None,
        metadata={"doc": "live mode: the user's real key; None: the driver's dummy key"},
    )


@dataclass(frozen=True)
class SetupRecord:
    """A command a driver ran before a run's session (e.g. native plugin management), kept in
    the meta file so a reader sees what the runtime's own tooling answered."""

    args: list[str]
    exit_code: int
    output: str


@dataclass(frozen=True)
class RunOutput:
    """One invocation's result, before templating."""

    args: list[str]
    stdout: bytes
    stderr: bytes
    exit_code: int
    thread_id: str | None
    setup: tuple[SetupRecord, ...] = ()


class RuntimeDriver(Protocol):
    name: str  # "codex", "claude", "gemini": cassette files are named after it
    npm_package: str
    version: str  # pinned
    native_lane: str  # lane id of the runtime's own stream, e.g. "codex-native"
    native_file: str  # e.g. "codex-native.jsonl"

    def binary(self) -> Path:
        """Path of the installed executable (under .runtimes/)."""
        ...

    def responder(self, scenario: Scenario) -> Responder:
        """The stub brain that answers this runtime's provider API for the scenario."""
        ...

    def run(self, plan: RunPlan) -> RunOutput:
        """Run one scenario run to completion (bounded by a timeout), stdin from /dev/null."""
        ...

    def template(self, text: str, plan: RunPlan) -> str:
        """Replace volatile values (temp paths, random ids, ports, timings) by stable ones."""
        ...

    def context(self, scenario: Scenario) -> dict[str, str | None]:
        """The run's facts its native stream may not carry, as `RunContext` field names (cwd,
        sandbox, approval_policy, auth_mode, model, runtime_version), as the runtime really ran
        them, temp paths templated (`{workspace}`). Written to the meta file; lanes read it."""
        ...
