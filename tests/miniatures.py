"""Tiny deterministic lanes for testing the harness itself (no provider, no runtime).

`passthrough(id, file)` reads a file of normalized events and re-emits them as its own lane, so a
test can write the exact log a lane "produced" and check what the gate makes of it.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.conformance.gate import GateOptions, run_gate
from harness.contract.builder import LogBuilder, SessionInfo
from harness.contract.lane import LaneInput, LaneSpec, RunContext
from harness.contract.model import (
    EVENT_ADAPTER,
    AssistantMessage,
    CommandExecution,
    Event,
    ItemKind,
)
from harness.record.runtimes.base import RunOutput, RunPlan
from harness.record.stub import Responder, StubReply, StubRequest, sse_event
from harness.scenario import Scenario

ALL_KINDS: frozenset[ItemKind] = frozenset({
    "assistant_message", "reasoning", "command_execution", "file_change", "mcp_tool_call",
    "tool_call", "web_search", "plan", "error", "unknown",
})


def passthrough(lane_id: str, native_file: str, *, kinds: frozenset[ItemKind] = ALL_KINDS,
                capabilities: frozenset[Any] = frozenset()) -> LaneSpec:
    def normalize(source: LaneInput, context: RunContext) -> Iterator[Event]:
        for line in source.stream:
            if line.strip():
                data = json.loads(line)
                data["lane"] = lane_id
                yield EVENT_ADAPTER.validate_python(data)

    return LaneSpec(id=lane_id, provider="test", input_kind="jsonl", description="test lane",
                    item_kinds=kinds, capabilities=capabilities, normalize=normalize,
                    native_file=native_file)


def log(*items: dict[str, Any], outcome: str = "completed", resumed: str | None = None,
        thread: str = "t1") -> list[dict[str, Any]]:
    """A one-run, one-turn normalized log holding `items` (completed), as event dicts."""
    events: list[dict[str, Any]] = []

    def add(etype: str, turn: int | None, **fields: Any) -> None:
        events.append({"schema_version": 1, "seq": len(events), "type": etype, "lane": "x",
                       "thread_id": thread, "turn": turn, **fields})

    add("session.started", None, provider="test", resumed_from=resumed)
    add("turn.started", 0)
    for index, item in enumerate(items):
        add("item.completed", 0, item={"id": f"item_{index}", "status": "completed", **item})
    if outcome == "completed":
        add("turn.completed", 0, usage=None)
    else:
        add("turn.failed", 0, error={"kind": outcome, "message": "boom", "retryable": True})
    return events


def jsonl(events: list[dict[str, Any]]) -> str:
    return "".join(json.dumps(e) + "\n" for e in events)


# ------------------------------------------------------------------------------ tiny catalogs

SHELL = {"kind": "command_execution", "command": "/bin/bash -lc 'echo hi'", "exit_code": 0,
         "output": "hi\n"}
TEXT = {"kind": "assistant_message", "text": "It printed hi."}
CATALOG_SCENARIO = """\
name: {name}
description: one shell command then an answer
runs:
  - prompt: run echo hi
    steps:
      - - shell: echo hi
      - - text: It printed hi.
expect:
  turns:
    - items:
        - {{kind: command_execution, status: completed, exit_code: 0, command: echo hi}}
        - {{kind: assistant_message}}
"""
"""The scenario of every `make_catalog` scenario folder (`{name}` is the folder's name)."""
CATALOG_LANES = {"left": passthrough("left", "left.jsonl"),
                 "right": passthrough("right", "right.jsonl")}


def make_catalog(root: Path, logs: dict[str, dict[str, list[dict[str, Any]]]],
                 ledgers: dict[str, str] | None = None) -> GateOptions:
    """A catalog under `root` the gate can judge: per scenario, `logs` gives each lane's log
    (lanes `left` and `right`, passthroughs) and `ledgers` an optional DIVERGENCES.md."""
    for scenario, per_lane in logs.items():
        folder = root / "cassettes" / scenario
        folder.mkdir(parents=True)
        (folder / "scenario.yaml").write_text(CATALOG_SCENARIO.format(name=scenario))
        for lane, events in per_lane.items():
            (folder / f"{lane}.jsonl").write_text(jsonl(events))
        if ledgers and scenario in ledgers:
            (folder / "DIVERGENCES.md").write_text(ledgers[scenario])
    return GateOptions(cassettes=root / "cassettes", golden=root / "golden",
                       lane_specs=CATALOG_LANES)


def first_run(options: GateOptions) -> None:
    """Write the goldens once (as a reviewer would after --update-golden)."""
    run_gate(GateOptions(**{**options.__dict__, "update_golden": True}))


# ------------------------------------------------------------------------------ fake runtime

FAKE_RUNTIME = Path(__file__).with_name("fake_runtime.py")
DUMMY_KEY = "dummy-key-for-stub"


class EchoResponder:
    """Streams back two SSE events; the second echoes the request's generation."""

    def respond(self, request: StubRequest) -> StubReply:
        generation = json.loads(request.body or b"{}").get("generation", "?")
        return StubReply(200, {"content-type": "text/event-stream"}, [
            sse_event("message", b'{"text": "hello"}'),
            sse_event("message", json.dumps({"generation": generation}).encode()),
        ])


@dataclass
class FakeDriver:
    """A RuntimeDriver whose runtime is tests/fake_runtime.py (Python, instant, deterministic)."""

    name: str = "fake"
    npm_package: str = "fake-runtime"
    version: str = "0.0.0"
    native_lane: str = "fake-native"
    native_file: str = "fake-native.jsonl"
    generation: str = "1"
    plant: dict[str, Any] = field(default_factory=dict)

    def binary(self) -> Path:
        return Path(sys.executable)

    def responder(self, scenario: Scenario) -> Responder:
        return EchoResponder()

    def run(self, plan: RunPlan) -> RunOutput:
        key = plan.api_key or DUMMY_KEY
        args = [sys.executable, str(FAKE_RUNTIME), plan.stub_url, key, self.generation,
                json.dumps(self.plant)]
        done = subprocess.run(args, capture_output=True, cwd=plan.workspace, check=False,
                              stdin=subprocess.DEVNULL, timeout=60)
        return RunOutput(args, done.stdout, done.stderr, done.returncode, None)

    def context(self, scenario: Scenario) -> dict[str, str | None]:
        return {"cwd": "{workspace}", "sandbox": scenario.settings.sandbox}

    def template(self, text: str, plan: RunPlan) -> str:
        return (text.replace(str(plan.workspace), "{workspace}").replace(plan.stub_url, "{stub}")
                .replace(sys.executable, "{python}"))


def write_scenario(folder: Path, name: str = "demo") -> Path:
    """A minimal valid scenario folder."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "scenario.yaml").write_text(
        f"name: {name}\ndescription: test\nruns:\n  - prompt: say hello\n"
        "    steps:\n      - - text: hello\nexpect:\n  turns:\n    - items:\n"
        "        - kind: assistant_message\n", encoding="utf-8")
    return folder


def fake_native_lane() -> LaneSpec:
    """A lane over fake_runtime.py's output, so drift reports can be tested end to end."""

    def normalize(source: LaneInput, context: RunContext) -> Iterator[Event]:
        builder = LogBuilder("fake-native")
        for line in source.stream:
            data = json.loads(line)
            if data["type"] == "start":
                yield from builder.session_started("t", SessionInfo(provider="test"))
                yield from builder.turn_started()
            elif data["type"] == "data":
                yield builder.item("completed", AssistantMessage(
                    id=builder.fresh_id(), status="completed", text=data["data"]))
            elif data["type"] == "command":
                yield builder.item("completed", CommandExecution(
                    id=builder.fresh_id(), status="completed", command="env", exit_code=0,
                    output=data["output"]))
                yield from builder.turn_completed(None)
        yield from builder.close()

    return LaneSpec(id="fake-native", provider="test", input_kind="jsonl", description="fake",
                    item_kinds=frozenset({"assistant_message", "command_execution"}),
                    capabilities=frozenset(), normalize=normalize,
                    native_file="fake-native.jsonl")
