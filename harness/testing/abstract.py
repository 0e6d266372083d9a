"""Abstract scenarios and what a perfect lane makes of them, without hypothesis.

An `AbstractScenario` is a provider-neutral scenario plus what its commands return; the
renderers (`harness.testing.render`) turn one into each runtime's native input, and
`expected_log` says what a perfect lane logs for it. Kept apart from `strategies` (which draws
them) so that rendering needs no test library.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from harness import scenario as sc
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
    Reasoning,
    TurnError,
    WebSearch,
    status_kind,
)

__all__ = ["ROUNDTRIP_THREAD", "AbstractScenario", "ItemMaker", "ShellResult", "expected_failures",
           "expected_item", "expected_items", "expected_log", "expected_log_of", "expected_maker",
           "failure_kind", "run_failure"]

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
                makers.append(expected_maker(abstract, (r, s, b), block))
        runs.append(makers)
    return runs


def expected_maker(abstract: AbstractScenario, where: tuple[int, int, int], block: sc.Block
                   ) -> ItemMaker:
    """`expected_item` for one block, waiting for its id."""
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
