"""Hypothesis strategies for native runtime streams, importable by users of the harness.

`from harness.testing.strategies import codex_exec_streams` gives valid `codex exec --json` streams
(bytes, one JSON object per line) to property-test anything that reads them. Each strategy draws
abstract blocks first (a message, a command, a search, a turn, a run) and renders native lines from
them afterwards, so Hypothesis shrinks by removing whole blocks, never by producing broken lines.
`abstract_scenarios()` draws provider-neutral scenarios (plus the results of their commands; a run
may end in a failed model call) and `expected_log()` says what a perfect lane makes of them, for
round trips through wire encoders. The shapes follow Codex CLI 0.169
(`codex-rs/exec/src/exec_events.rs`), quirks included: item ids restart at `item_0` in a resumed
run, `web_search` items carry two `id` keys, commands are shell-wrapped, usage is cumulative over
the thread.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

from harness import scenario as sc
from harness.conformance.equivalence import unwrap_command
from harness.contract.builder import LogBuilder, SessionInfo
from harness.contract.model import (
    AssistantMessage,
    CommandExecution,
    ErrorKind,
    FileChange,
    FileChangeEntry,
    Item,
    McpToolCall,
    Plan,
    PlanEntry,
    PlanStatus,
    Reasoning,
    TurnError,
    WebSearch,
    status_kind,
)
from harness.testing import missing_extra

try:
    from hypothesis import strategies as st
except ImportError:
    raise missing_extra("hypothesis", "harness.testing.strategies") from None

__all__ = ["AbstractScenario", "ShellResult", "abstract_scenarios", "codex_exec_streams",
           "expected_failures", "expected_items", "expected_log", "expected_log_of",
           "failure_kind", "run_failure", "unicode_text"]

Segment = Callable[[str], str]
"""One native line of an item, rendered once the item's `item_N` id is known."""


def unicode_text(max_size: int = 40) -> st.SearchStrategy[str]:
    """Any text that UTF-8 can carry (no lone surrogates), newlines and controls included."""
    return st.text(st.characters(codec="utf-8"), max_size=max_size)


def _large_text() -> st.SearchStrategy[str]:
    """Large outputs (up to ~80 kB), as Codex prints them for chatty commands."""
    return st.builds(lambda unit, n: unit * n, st.sampled_from(["x", "é", "日本\n", "🙂"]),
                     st.integers(2_000, 20_000))


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _event(etype: str, item_id: str, body: dict[str, Any]) -> str:
    """An item event; `item.id` leads the item object, as serde prints it (flattened payload)."""
    return f'{{"type":{_dumps(etype)},"item":{{"id":{_dumps(item_id)},{_dumps(body)[1:]}}}'


# ------------------------------------------------------------------------------ abstract blocks


@dataclass(frozen=True)
class Block:
    """One native item: its lines in order, each waiting for the item id."""

    segments: tuple[Segment, ...]


def _segment(etype: str, body: dict[str, Any]) -> Segment:
    def render(item_id: str) -> str:
        return _event(etype, item_id, body)
    return render


def _completed_only(body: dict[str, Any]) -> Block:
    return Block((_segment("item.completed", body),))


def _with_start(start: dict[str, Any], end: dict[str, Any], started: bool) -> Block:
    done = _segment("item.completed", end)
    return Block((_segment("item.started", start), done) if started else (done,))


@st.composite
def _message(draw: st.DrawFn) -> Block:
    text = draw(st.one_of(unicode_text(), _large_text()))
    return _completed_only({"type": draw(st.sampled_from(["agent_message", "reasoning"])),
                            "text": text})


@st.composite
def _command(draw: st.DrawFn) -> Block:
    command = "/bin/bash -lc " + shlex.quote(draw(unicode_text(30)))
    output = draw(st.one_of(unicode_text(), _large_text()))
    status = draw(st.sampled_from(["completed", "failed", "declined"]))
    exit_code = None if status == "declined" else draw(st.integers(-1, 255))
    start = {"type": "command_execution", "command": command, "aggregated_output": "",
             "exit_code": None, "status": "in_progress"}
    end = {**start, "aggregated_output": output, "exit_code": exit_code, "status": status}
    return _with_start(start, end, draw(st.booleans()))


@st.composite
def _file_change(draw: st.DrawFn) -> Block:
    changes = draw(st.lists(st.fixed_dictionaries({
        "path": st.builds(lambda name: f"/tmp/ws/{name}", unicode_text(12).filter(
            lambda s: "/" not in s and s.strip() != "")),
        "kind": st.sampled_from(["add", "delete", "update"]),
    }), min_size=1, max_size=3))
    status = draw(st.sampled_from(["completed", "failed"]))
    return _completed_only({"type": "file_change", "changes": changes, "status": status})


@st.composite
def _mcp_call(draw: st.DrawFn) -> Block:
    base: dict[str, Any] = {
            "type": "mcp_tool_call", "server": draw(st.sampled_from(["demo", "files"])),
            "tool": draw(st.sampled_from(["echo", "read_file"])),
            "arguments": {"text": draw(unicode_text(20))}, "result": None, "error": None,
            "status": "in_progress"}
    if draw(st.booleans()):
        end = {**base, "status": "completed",
               "result": {"content": [{"type": "text", "text": draw(unicode_text())}],
                          "structured_content": None}}
    else:
        end = {**base, "status": "failed", "error": {"message": draw(unicode_text())}}
    return _with_start(base, end, draw(st.booleans()))


@st.composite
def _collab_call(draw: st.DrawFn) -> Block:
    base: dict[str, Any] = {"type": "collab_tool_call",
            "tool": draw(st.sampled_from(["spawn_agent", "send_input", "wait", "close_agent"])),
            "sender_thread_id": "thr_parent", "receiver_thread_ids": ["thr_child"],
            "prompt": draw(st.none() | unicode_text()), "agents_states": {},
            "status": "in_progress"}
    end = {**base, "status": draw(st.sampled_from(["completed", "failed"])),
           "agents_states": {"thr_child": {"status": "completed", "message": None}}}
    return _with_start(base, end, draw(st.booleans()))


@st.composite
def _web_search(draw: st.DrawFn) -> Block:
    """Two `id` keys in one object: Codex's `item_N`, then the provider's search id (unique per
    search: derived from the item number, as no two searches of a run share one)."""
    prefix = "ws_" + draw(st.text("0123456789abcdef", min_size=6, max_size=6))
    query = draw(unicode_text())
    start = {"type": "web_search", "query": "", "action": {"type": "other"}}
    end = {**start, "query": query, "action": {"type": "search", "query": query}}

    def search(etype: str, body: dict[str, Any]) -> Segment:
        def render(item_id: str) -> str:
            ws_id = prefix + item_id.removeprefix("item_")
            return _event(etype, item_id, {"type": "web_search", "id": ws_id, **body})
        return render

    started = draw(st.booleans())
    done = search("item.completed", end)
    return Block((search("item.started", start), done) if started else (done,))


@st.composite
def _todo_list(draw: st.DrawFn) -> Block:
    steps = draw(st.lists(unicode_text(20), min_size=1, max_size=4))
    states = draw(st.lists(st.lists(st.booleans(), min_size=len(steps), max_size=len(steps)),
                           min_size=1, max_size=3))
    bodies = [{"type": "todo_list", "items": [{"text": t, "completed": c}
                                              for t, c in zip(steps, done, strict=True)]}
              for done in states]
    return Block((_segment("item.started", bodies[0]),
                  *(_segment("item.updated", body) for body in bodies[1:]),
                  _segment("item.completed", bodies[-1])))


@st.composite
def _error_item(draw: st.DrawFn) -> Block:
    return _completed_only({"type": "error", "message": draw(unicode_text())})


@st.composite
def _future_item(draw: st.DrawFn) -> Block:
    """An item type this Codex does not print yet: lanes must keep it, not drop it."""
    return _completed_only({"type": "hologram", "beam": draw(st.integers(0, 9)),
                            "note": draw(unicode_text(10))})


def _blocks() -> st.SearchStrategy[Block]:
    return st.one_of(_message(), _command(), _file_change(), _mcp_call(), _collab_call(),
                     _web_search(), _todo_list(), _error_item(), _future_item())


# ------------------------------------------------------------------------------ turns and runs

Ending = Literal["completed", "failed", "truncated"]

FAILURE_MESSAGES = (
    "We're currently experiencing high demand, which may cause temporary errors.",
    "exceeded retry limit, last status: 429 Too Many Requests",
    "stream disconnected before completion: stream closed before response.completed",
    "stream disconnected before completion: The server had an error processing your request.",
)
"""`turn.failed` messages Codex prints for HTTP 500, 429, a cut stream and `response.failed`."""


@dataclass(frozen=True)
class Turn:
    blocks: tuple[Block, ...]
    order: tuple[int, ...]
    """Which block's next line comes next: any interleaving that keeps each block's own order."""
    ending: Ending
    failure: str
    tokens: tuple[int, int, int, int]


@dataclass(frozen=True)
class Run:
    warning: str | None
    """An `error` item before `turn.started` (Codex's warning about unknown model metadata)."""
    turns: tuple[Turn, ...]


@dataclass
class _Renderer:
    thread_id: str
    lines: list[str] = field(default_factory=list)
    totals: list[int] = field(default_factory=lambda: [0, 0, 0, 0])

    def run(self, run: Run) -> None:
        self.lines.append(_dumps({"type": "thread.started", "thread_id": self.thread_id}))
        ids = iter(f"item_{n}" for n in range(10**9))
        if run.warning is not None:
            self.lines.append(_event("item.completed", next(ids), {"type": "error",
                                                                   "message": run.warning}))
        for turn in run.turns:
            self.turn(turn, ids)
            if turn.ending == "truncated":
                return

    def turn(self, turn: Turn, ids: Iterator[str]) -> None:
        self.lines.append(_dumps({"type": "turn.started"}))
        assigned: dict[int, str] = {}
        progress = [0] * len(turn.blocks)
        for index in turn.order:
            block = turn.blocks[index]
            if index not in assigned:
                assigned[index] = next(ids)
            self.lines.append(block.segments[progress[index]](assigned[index]))
            progress[index] += 1
        if turn.ending == "completed":
            self.totals = [a + b for a, b in zip(self.totals, turn.tokens, strict=True)]
            names = ("input_tokens", "cached_input_tokens", "output_tokens",
                     "reasoning_output_tokens")
            usage = dict(zip(names, self.totals, strict=True))
            self.lines.append(_dumps({"type": "turn.completed", "usage": usage}))
        elif turn.ending == "failed":
            self.lines.append(_dumps({"type": "error", "message": turn.failure}))
            self.lines.append(_dumps({"type": "turn.failed", "error": {"message": turn.failure}}))


@st.composite
def _turn(draw: st.DrawFn, max_blocks: int, ending: Ending | None = None) -> Turn:
    blocks = tuple(draw(st.lists(_blocks(), max_size=max_blocks)))
    tokens = [index for index, block in enumerate(blocks) for _ in block.segments]
    order = tuple(draw(st.permutations(tokens)))
    end: Ending = ending if ending is not None else draw(st.sampled_from(["completed", "failed"]))
    if end == "truncated":
        order = order[: draw(st.integers(0, len(order)))]
    return Turn(blocks, order, end, draw(st.sampled_from(FAILURE_MESSAGES)),
                draw(st.tuples(*[st.integers(0, 5000)] * 4)))


@st.composite
def _run(draw: st.DrawFn, max_turns: int, max_blocks: int) -> Run:
    turns = draw(st.lists(_turn(max_blocks), min_size=1, max_size=max_turns))
    if draw(st.booleans()):
        turns[-1] = draw(_turn(max_blocks, "truncated"))
    warning = draw(st.none() | st.just("Model metadata for `stub-model` not found."))
    return Run(warning, tuple(turns))


@st.composite
def codex_exec_streams(draw: st.DrawFn, *, max_runs: int = 3, max_turns: int = 3,
                       max_blocks: int = 6) -> bytes:
    """A valid `codex exec --json` stdout: one run, or a run and its resumes on the same thread
    (each `codex exec resume` prints `thread.started` again with the same id and restarts item
    ids); turns that complete, fail (a top-level `error` then `turn.failed`) or are cut off;
    items of every type interleaved in any order that keeps each item's own lines in order."""
    thread_id = "019a" + draw(st.text("0123456789abcdef", min_size=12, max_size=12))
    renderer = _Renderer(thread_id)
    for run in draw(st.lists(_run(max_turns, max_blocks), min_size=1, max_size=max_runs)):
        renderer.run(run)
    return "".join(line + "\n" for line in renderer.lines).encode("utf-8")


# ------------------------------------------------------------------------------ abstract scenarios

ROUNDTRIP_THREAD = "thr_roundtrip"
"""Thread id of every run of an abstract scenario (later runs resume it)."""

@dataclass(frozen=True)
class ShellResult:
    """What a scripted command did when the runtime ran it."""

    exit_code: int
    output: str


@dataclass(frozen=True)
class AbstractScenario:
    """A scenario plus what its commands return, keyed by (run, step, block) position."""

    scenario: sc.Scenario
    shell_results: dict[tuple[int, int, int], ShellResult]

    def shell_result(self, run: int, step: int, block: int) -> ShellResult:
        return self.shell_results[(run, step, block)]


def _sometimes_huge(small: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """Mostly `small`; about one draw in twenty a large text of 10 kB to ~1 MB."""
    huge = st.builds(lambda unit, n: unit * n, st.sampled_from(["x", "é", "日本\n", "🙂 "]),
                     st.integers(10_000, 250_000))
    return st.integers(0, 19).flatmap(lambda pick: huge if pick == 0 else small)


_NAME = st.from_regex(r"[a-z][a-z0-9]{0,7}", fullmatch=True)
_PATH = st.lists(st.from_regex(r"[a-z0-9é日_-]{1,8}", fullmatch=True), min_size=1,
                 max_size=3).map("/".join)


def _command_text() -> st.SearchStrategy[str]:
    """A command that no shell wrapper hides (the equivalence unwraps `bash -lc`, so a drawn
    `sh -c x` would compare as `x` on one side only)."""
    return unicode_text(30).filter(lambda c: c.strip() != "" and unwrap_command(c) == c.strip())


def _text_blocks() -> st.SearchStrategy[sc.TextBlock | sc.ReasoningBlock]:
    """Messages and reasoning; readable reasoning has some text (a summary with none is what
    providers send for opaque reasoning, so lanes rightly read it as encrypted)."""
    text = st.builds(sc.TextBlock, text=unicode_text(60))
    reasoning = st.builds(lambda t, e: sc.ReasoningBlock(reasoning=sc.ReasoningSpec(
        text=t, encrypted=e)), unicode_text(60).filter(lambda t: t.strip() != ""), st.booleans())
    return st.one_of(text, reasoning)


@st.composite
def _patch(draw: st.DrawFn) -> sc.PatchBlock:
    paths = draw(st.lists(_PATH, min_size=1, max_size=4, unique=True))
    kinds = draw(st.lists(st.sampled_from(["add", "update", "delete"]), min_size=len(paths),
                          max_size=len(paths)))
    content = unicode_text(40)
    spec = sc.PatchSpec(
        add=[sc.FileAdd(path=p, content=draw(content)) for p, k in zip(paths, kinds, strict=True)
             if k == "add"],
        update=[sc.FileUpdate(path=p, old=draw(content), new=draw(content))
                for p, k in zip(paths, kinds, strict=True) if k == "update"],
        delete=[p for p, k in zip(paths, kinds, strict=True) if k == "delete"])
    return sc.PatchBlock(patch=spec)


def _tool_blocks() -> st.SearchStrategy[sc.Block]:
    shell = st.builds(lambda c: sc.ShellBlock(shell=sc.ShellSpec(command=c)), _command_text())
    mcp = st.builds(lambda s, t, a: sc.McpBlock(mcp=sc.McpSpec(server=s, tool=t, arguments=a)),
                    _NAME, _NAME, st.dictionaries(_NAME, unicode_text(20) | st.integers(),
                                                  max_size=3))
    plan = st.builds(lambda entries: sc.PlanBlock(plan=entries), st.lists(st.builds(
        sc.PlanEntrySpec, text=unicode_text(20),
        status=st.sampled_from(get_args(PlanStatus))), min_size=1, max_size=4))
    return st.one_of(shell, _patch(), mcp, plan)


@st.composite
def _tool_step(draw: st.DrawFn) -> list[sc.Block]:
    """Reasoning and text first, an optional web search, then the calls the runtime executes:
    the order a model streams them, so every lane completes the items in block order."""
    said: list[sc.Block] = list(draw(st.lists(_text_blocks(), max_size=2)))
    if draw(st.booleans()):
        said.append(sc.WebSearchBlock(web_search=sc.WebSearchSpec(query=draw(unicode_text(30)))))
    return said + list(draw(st.lists(_tool_blocks(), min_size=1, max_size=3)))


FAILURE_STATUSES = (429, 500, 503, 529)
"""HTTP statuses a failed model call answers: rate limited, server error, unavailable and
Anthropic's overloaded (all of them retryable, so every runtime's retry policy shows)."""

STREAM_ERRORS = ("server_error", "rate_limit_exceeded", "overloaded")
"""`stream_error` codes of a stream that starts and then reports failure."""

SCRIPTED_FAILURES = (
    "The server had an error while processing your request.",
    "Rate limit reached for requests. Please try again in 1s.",
    "Überlastet: bitte später erneut versuchen 🙂",
)
"""Error messages of failure steps: fixed texts, because Codex's lane classifies `turn.failed`
by message and a drawn text could spell another error's words."""


def _failure() -> st.SearchStrategy[sc.FailStep]:
    """A failed model call: an HTTP error status, or a stream that starts and then fails."""
    http = st.builds(lambda status, message: sc.FailStep(fail=sc.FailureSpec(
        http_status=status, message=message)), st.sampled_from(FAILURE_STATUSES),
        st.sampled_from(SCRIPTED_FAILURES))
    stream = st.builds(lambda code, message: sc.FailStep(fail=sc.FailureSpec(
        stream_error=code, message=message)), st.sampled_from(STREAM_ERRORS),
        st.sampled_from(SCRIPTED_FAILURES))
    return st.one_of(http, stream)


@st.composite
def _scenario_run(draw: st.DrawFn, index: int, max_steps: int) -> sc.Run:
    """Tool steps, then a final answer, or (one run in four) a failed model call instead."""
    steps: list[sc.Step] = list(draw(st.lists(_tool_step(), max_size=max_steps)))
    if draw(st.integers(0, 3)) == 0:
        steps.append(draw(_failure()))
    else:
        steps.append(list(draw(st.lists(_text_blocks(), min_size=1, max_size=3))))
    prompt = f"⟦run {index}⟧ " + draw(unicode_text(30))
    return sc.Run(prompt=prompt, steps=steps)


@st.composite
def abstract_scenarios(draw: st.DrawFn, *, max_runs: int = 3,
                       max_steps: int = 3) -> AbstractScenario:
    """One to `max_runs` runs of one turn each (later runs resume the thread, a failed one too);
    each run's steps are model answers whose tool calls are all answered, ending in an answer
    without calls or in a failed model call (`_failure`). Texts are any unicode; command outputs
    are occasionally large (up to ~1 MB)."""
    count = draw(st.integers(1, max_runs))
    runs = [draw(_scenario_run(n, max_steps)) for n in range(count)]
    results: dict[tuple[int, int, int], ShellResult] = {}
    for r, run in enumerate(runs):
        for s, step in enumerate(run.steps):
            for b, block in enumerate(step if isinstance(step, list) else []):
                if isinstance(block, sc.ShellBlock):
                    code = draw(st.sampled_from([0, 0, 1, 2, 127]) | st.integers(0, 255))
                    results[(r, s, b)] = ShellResult(code, draw(_sometimes_huge(unicode_text())))
    scenario = sc.Scenario(name="roundtrip", description="drawn by abstract_scenarios()",
                           runs=runs,
                           expect=sc.Expect(turns=[_expected_turn(run) for run in runs]))
    return AbstractScenario(scenario, results)


def _expected_turn(run: sc.Run) -> sc.ExpectedTurn:
    failure = run_failure(run)
    if failure is None:
        return sc.ExpectedTurn()
    return sc.ExpectedTurn(outcome="failed", error_kind=failure_kind(failure))


def run_failure(run: sc.Run) -> sc.FailureSpec | None:
    """The failed model call a run ends in, or None when it ends in an answer."""
    last = run.steps[-1] if run.steps else None
    return last.fail if isinstance(last, sc.FailStep) else None


STREAM_FAILURE_KINDS: dict[str, ErrorKind] = {"rate_limit_exceeded": "rate_limit",
                                              "rate_limit_error": "rate_limit"}
"""`stream_error` code -> error kind (any other code `provider`: the provider broke the answer)."""


def failure_kind(failure: sc.FailureSpec) -> ErrorKind:
    """The error kind a lane that sees the failure as sent reports for it."""
    if failure.http_status is not None:
        status = failure.http_status
        return status_kind(status)  # the one table every lane uses (HTTP_STATUS_KINDS)
    return STREAM_FAILURE_KINDS.get(failure.stream_error or "", "provider")


# ------------------------------------------------------------------------------ expected log


def _patch_changes(spec: sc.PatchSpec) -> list[FileChangeEntry]:
    return ([FileChangeEntry(path=a.path, kind="add") for a in spec.add]
            + [FileChangeEntry(path=u.path, kind="update") for u in spec.update]
            + [FileChangeEntry(path=p, kind="delete") for p in spec.delete])


def expected_item(abstract: AbstractScenario, where: tuple[int, int, int], block: sc.Block,
                  item_id: str) -> Item:
    """The completed item a perfect lane shows for one block at `where` (run, step, block)."""
    if isinstance(block, sc.TextBlock):
        return AssistantMessage(id=item_id, status="completed", text=block.text)
    if isinstance(block, sc.ReasoningBlock):
        spec = block.reasoning
        return Reasoning(id=item_id, status="completed", text="" if spec.encrypted else spec.text,
                         encrypted=spec.encrypted)
    if isinstance(block, sc.ShellBlock):
        result = abstract.shell_result(*where)
        return CommandExecution(id=item_id, status="completed" if result.exit_code == 0
                                else "failed", command=block.shell.command,
                                exit_code=result.exit_code, output=result.output)
    if isinstance(block, sc.PatchBlock):
        return FileChange(id=item_id, status="completed", changes=_patch_changes(block.patch))
    if isinstance(block, sc.McpBlock):
        return McpToolCall(id=item_id, status="completed", server=block.mcp.server,
                           tool=block.mcp.tool, arguments=dict(block.mcp.arguments))
    if isinstance(block, sc.PlanBlock):
        return Plan(id=item_id, status="completed",
                    entries=[PlanEntry(text=e.text, status=e.status) for e in block.plan])
    return WebSearch(id=item_id, status="completed", query=block.web_search.query)


ItemMaker = Callable[[str], Item]
"""One expected item, waiting for the id the log builder mints for it."""


def expected_items(abstract: AbstractScenario) -> list[list[ItemMaker]]:
    """Per run, the completed items a perfect lane shows, in block order."""
    runs: list[list[ItemMaker]] = []
    for r, run in enumerate(abstract.scenario.runs):
        makers: list[ItemMaker] = []
        for s, step in enumerate(run.steps):
            for b, block in enumerate(step if isinstance(step, list) else []):
                makers.append(_maker(abstract, (r, s, b), block))
        runs.append(makers)
    return runs


def _maker(abstract: AbstractScenario, where: tuple[int, int, int], block: sc.Block
           ) -> ItemMaker:
    return lambda item_id: expected_item(abstract, where, block, item_id)


def expected_failures(abstract: AbstractScenario) -> list[ErrorKind | None]:
    """Per run, the error kind its turn fails with (`failure_kind`), None when it completes."""
    return [None if (failure := run_failure(run)) is None else failure_kind(failure)
            for run in abstract.scenario.runs]


def expected_log_of(runs: Sequence[Sequence[ItemMaker]],
                    failures: Sequence[ErrorKind | None] | None = None
                    ) -> list[dict[str, Any]]:
    """The normalized log (event dicts) of runs of completed items: per run one session (later
    runs resumed from the thread) and one turn holding the items in order, completed, or failed
    with `failures[run]` when that is an error kind. Lanes whose runtime shows a scenario
    differently build their own item lists and kinds (a *lane view*) for it."""
    builder = LogBuilder("expected")
    events = []
    for r, makers in enumerate(runs):
        resumed = ROUNDTRIP_THREAD if r else None
        events += builder.session_started(ROUNDTRIP_THREAD, SessionInfo(provider="expected",
                                                                        resumed_from=resumed))
        events += builder.turn_started()
        events += [builder.item("completed", make(builder.fresh_id())) for make in makers]
        kind = failures[r] if failures is not None else None
        if kind is None:
            events += builder.turn_completed(None)
        else:
            events += builder.turn_failed(TurnError.of(kind, "scripted failure"))
    return [event.model_dump(mode="json") for event in events]


def expected_log(abstract: AbstractScenario) -> list[dict[str, Any]]:
    """The normalized log (event dicts) a perfect lane makes of the scenario: per run one
    session (later runs resumed from the thread) and one turn holding one completed item per
    block, in block order, completed, or failed with the kind of the run's failed model call
    (`expected_failures`). Pure: same scenario, same log."""
    return expected_log_of(expected_items(abstract), expected_failures(abstract))
