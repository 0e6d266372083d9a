"""What the round-trip kits share: the simulators' loop guard and error, SSE payloads, the pinned
scenarios, reading a simulated cassette or a rendered stream back through a lane, compact JSON
lines as the CLIs print them, JavaScript's trimming (all three runtimes are Node programs) and the
item makers the API lanes' views have in common."""

from __future__ import annotations

import io
import json
import shlex
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

from harness import scenario as sc
from harness.contract.lane import LaneInput, LaneSpec, RunContext, normalize_to_dicts
from harness.contract.model import (
    AssistantMessage,
    CommandExecution,
    ErrorKind,
    FileChange,
    FileChangeEntry,
    Plan,
    PlanEntry,
    Reasoning,
)
from harness.record.cassette import render_http_cassette
from harness.record.stub import Exchange
from harness.testing.abstract import (
    AbstractScenario,
    ItemMaker,
    ShellResult,
    expected_maker,
    failure_kind,
    run_failure,
)

MAX_CALLS = 64
"""A simulator making more model calls than this is looping: the responder never finished."""


class SimulationError(AssertionError):
    """The responder answered something the runtime could not continue from."""


# ------------------------------------------------------------------------------ SSE


def sse_payloads(body: bytes) -> Iterator[dict[str, Any]]:
    """The JSON `data:` payloads of an SSE body, one per `data:` line, with `\n` or `\r\n`
    line ends (Responses and Anthropic frames, Gemini's `alt=sse` chunks)."""
    for raw in body.decode("utf-8").split("\n"):
        line = raw.rstrip("\r")
        if line.startswith("data: "):
            yield json.loads(line[len("data: "):])


# ------------------------------------------------------------------------------ pinned scenarios


def shells_scenario(commands: list[tuple[str, int, str]]) -> AbstractScenario:
    """One run calling each command in its own step, then answering."""
    steps: list[sc.Step] = [[sc.ShellBlock(shell=sc.ShellSpec(command=c))]
                            for c, _, _ in commands]
    steps.append([sc.TextBlock(text="done")])
    scenario = sc.Scenario(name="shells", description="", runs=[
        sc.Run(prompt="⟦run 0⟧ run them", steps=steps)], expect=sc.Expect(
        turns=[sc.ExpectedTurn()]))
    return AbstractScenario(scenario, {(0, n, 0): ShellResult(code, out)
                                       for n, (_, code, out) in enumerate(commands)})


def failures_scenario(specs: list[sc.FailureSpec]) -> AbstractScenario:
    """One run per failure, each failing at its first model call, then a run that answers."""
    runs = [sc.Run(prompt=f"⟦run {n}⟧ hi", steps=[sc.FailStep(fail=f)])
            for n, f in enumerate(specs)]
    runs.append(sc.Run(prompt=f"⟦run {len(specs)}⟧ hi", steps=[[sc.TextBlock(text="ok")]]))
    turns = [sc.ExpectedTurn(outcome="failed") for _ in specs]
    scenario = sc.Scenario(name="failures", description="", runs=runs,
                           expect=sc.Expect(turns=[*turns, sc.ExpectedTurn()]))
    return AbstractScenario(scenario, {})


# ------------------------------------------------------------------------------ lanes


def normalize_exchanges(lane: LaneSpec, exchanges: list[Exchange]) -> list[dict[str, Any]]:
    """Exchanges -> vcrpy cassette text -> the lane (strict mode) -> event dicts."""
    with tempfile.TemporaryDirectory(prefix="roundtrip-") as tmp:
        path = Path(tmp) / lane.native_file
        path.write_text(render_http_cassette(exchanges), encoding="utf-8")
        return normalize_to_dicts(lane, path, RunContext())


def stream_log(lane: LaneSpec, stream: bytes, context: RunContext | None = None
               ) -> list[dict[str, Any]]:
    """A stream-json lane's log (strict mode) of a CLI's stdout, as event dicts."""
    events = lane.normalize(LaneInput(stream=io.BytesIO(stream), name="<roundtrip>"),
                            context or RunContext())
    return [e.model_dump(mode="json") for e in events]


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """A recorded stream-json file's lines, parsed (blank lines skipped)."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


# ------------------------------------------------------------------------------ CLI output


def compact_json(value: Any) -> str:
    """One JSON line as the CLIs print it: no spaces, non-ASCII kept."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def jsonl_bytes(lines: list[dict[str, Any]]) -> bytes:
    """A CLI's stream-json stdout: each line compact (`compact_json`), newline-terminated."""
    return "".join(compact_json(line) + "\n" for line in lines).encode("utf-8")


# ------------------------------------------------------------------------------ failures


def status_only_failures(runs: list[sc.Run]) -> list[ErrorKind | None]:
    """Per run, the kind a lane reports when it sees an HTTP failure's status but nothing
    telling of a broken stream: `failure_kind` for an HTTP error, always `provider` for a
    stream error."""
    kinds: list[ErrorKind | None] = []
    for run in runs:
        failure = run_failure(run)
        kinds.append(None if failure is None else "provider"
                     if failure.stream_error is not None else failure_kind(failure))
    return kinds


# ------------------------------------------------------------------------------ JS string helpers


JS_WHITESPACE = frozenset("\t\n\v\f\r \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006"
                          "\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000\ufeff")
"""What JavaScript's `trim`/`trimEnd` remove (both runtimes are Node programs); Python's
`str.strip` removes more (`\\x1c`-`\\x1f`, `\\x85`), so it would not model them."""


def js_trim_end(text: str) -> str:
    end = len(text)
    while end and text[end - 1] in JS_WHITESPACE:
        end -= 1
    return text[:end]


def js_trim(text: str) -> str:
    start = 0
    while start < len(text) and text[start] in JS_WHITESPACE:
        start += 1
    return js_trim_end(text[start:])


# ------------------------------------------------------------------------------ API answers


def content_blocks(block: sc.Block, split: bool) -> int:
    """How many content blocks of the step's own message one scenario block becomes: a patch
    one call per changed file (in the Anthropic and Gemini responders alike); with `split`
    (after an Anthropic WebSearch) text and thinking none, as they go to a later message."""
    if isinstance(block, sc.PatchBlock):
        spec = block.patch
        return len(spec.add) + len(spec.update) + len(spec.delete)
    return 0 if split and isinstance(block, sc.TextBlock | sc.ReasoningBlock) else 1


# ------------------------------------------------------------------------------ API lane views


def file_change_item(path: str, kind: Literal["add", "update"]) -> ItemMaker:
    return lambda item_id: FileChange(id=item_id, status="completed",
                                      changes=[FileChangeEntry(path=path, kind=kind)])


def turn_plan_views(abstract: AbstractScenario) -> list[list[ItemMaker]]:
    """Per run, the expected items of a lane that shows a plan as one item per turn, completed
    when the turn ends with the last plan's steps (the app-server's `turn/plan/updated`, ACP's
    `plan` update): every other block's item in block order, then that plan item."""
    runs: list[list[ItemMaker]] = []
    for r, run in enumerate(abstract.scenario.runs):
        makers: list[ItemMaker] = []
        plan: sc.PlanBlock | None = None
        for s, step in enumerate(run.steps):
            for b, block in enumerate(step if isinstance(step, list) else []):
                if isinstance(block, sc.PlanBlock):
                    plan = block
                else:
                    makers.append(expected_maker(abstract, (r, s, b), block))
        if plan is not None:
            makers.append(plan_item(plan))
        runs.append(makers)
    return runs


def streamed_item(kind: str, text: str) -> ItemMaker:
    """A completed item of text streamed in chunks: an assistant message when `kind` is
    `assistant_message`, else readable reasoning."""
    if kind == "assistant_message":
        return lambda item_id: AssistantMessage(id=item_id, status="completed", text=text)
    return lambda item_id: Reasoning(id=item_id, status="completed", text=text)


def plan_item(block: sc.PlanBlock) -> ItemMaker:
    """One completed plan item holding the block's steps."""
    return lambda item_id: Plan(id=item_id, status="completed", entries=[
        PlanEntry(text=e.text, status=e.status) for e in block.plan])


def rm_item(rel: str, output: str) -> ItemMaker:
    return lambda item_id: CommandExecution(id=item_id, status="completed",
                                            command=f"rm -- {shlex.quote(rel)}", exit_code=0,
                                            output=output)

