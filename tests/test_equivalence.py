"""Equivalence: what two lanes must agree on, and the checker itself caught in the act."""

from __future__ import annotations

from typing import Any, get_args

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from harness.conformance.equivalence import (
    COMPARED,
    NOISE_KINDS,
    NOT_COMPARED,
    Lens,
    Mask,
    canonical_output,
    equivalent,
    project,
    relative_path,
    unwrap_command,
)
from tests.miniatures import log

SHELL = {"kind": "command_execution", "command": "/bin/bash -lc 'echo hi'", "exit_code": 0,
         "output": "hi\n"}
TEXT = {"kind": "assistant_message", "text": "It printed  hi."}


@pytest.mark.parametrize("wrapped, plain", [
    ("/bin/bash -lc 'echo hi'", "echo hi"),
    ('bash -c "ls -la | wc -l"', "ls -la | wc -l"),
    ("/bin/zsh -lc 'printf \"%s\" x'", 'printf "%s" x'),
    (["bash", "-lc", "echo hi"], "echo hi"),
    (["ls", "-la", "my dir"], "ls -la 'my dir'"),
    ("echo plain", "echo plain"),
    ("bash -c 'unterminated", "bash -c 'unterminated"),
])
def test_shell_wrappers_unwrap(wrapped: str | list[str], plain: str) -> None:
    assert unwrap_command(wrapped) == plain


def test_paths_become_workspace_relative() -> None:
    assert relative_path("{workspace}/src/a.py") == "src/a.py"
    assert relative_path("/tmp/ws/src/a.py", cwd="/tmp/ws") == "src/a.py"
    assert relative_path("notes.md") == "notes.md"


def test_ids_usage_and_wrappers_do_not_matter() -> None:
    a = log(SHELL, TEXT)
    b = log({**SHELL, "command": 'bash -c "echo hi"', "id": "other"},
            {**TEXT, "text": "It printed hi.\n"})
    b[-1]["usage"] = {"scope": "turn", "input_tokens": 5}
    assert equivalent(a, b, "strict").equivalent


def test_strict_compares_texts_structural_does_not() -> None:
    a, b = log(TEXT), log({**TEXT, "text": "Something else"})
    assert equivalent(a, b, "structural").equivalent
    verdict = equivalent(a, b, "strict", labels=("left", "right"))
    assert not verdict.equivalent
    assert [d.check for d in verdict.differences] == ["eq.assistant_message.text"]
    assert "left='It printed hi.'" in verdict.diff and "right='Something else'" in verdict.diff


def test_structural_still_compares_a_commands_exit_code() -> None:
    """Only words and payloads are strict-only: a command that failed in one lane and succeeded
    in the other is a structural difference (a live run's outcome must agree)."""
    a, b = log(SHELL), log({**SHELL, "exit_code": 1})
    verdict = equivalent(a, b, "structural")
    assert [d.check for d in verdict.differences] == ["eq.command_execution.exit_code"]


def test_kinds_only_one_lane_can_show_are_named_masks_not_failures() -> None:
    reasoning = {"kind": "reasoning", "text": "think", "encrypted": False}
    a, b = log(reasoning, TEXT), log(TEXT)
    verdict = equivalent(a, b, "strict", a_kinds=frozenset({"reasoning", "assistant_message"}),
                         b_kinds=frozenset({"assistant_message"}))
    assert verdict.equivalent
    assert verdict.gaps == frozenset({"reasoning"})
    assert verdict.masks_used == frozenset({"kinds:reasoning"})
    assert not equivalent(a, b, "strict").equivalent, "without declared kinds it is compared"


def test_noise_tools_and_notices_are_left_out() -> None:
    search = {"kind": "tool_call", "name": "ToolSearch", "arguments": {}}
    notice = {"kind": "error", "message": "model metadata missing"}
    assert equivalent(log(search, notice, TEXT), log(TEXT), "strict",
                      a_noise_tools=frozenset({"ToolSearch"})).equivalent
    assert not equivalent(log(search, TEXT), log(TEXT), "strict").equivalent


def test_a_missing_item_is_reported_as_the_shape_with_context() -> None:
    a = log(TEXT, SHELL, TEXT)
    b = log(TEXT, TEXT)
    verdict = equivalent(a, b, labels=("codex", "claude"))
    assert [d.check for d in verdict.differences] == ["eq.items"]
    assert "-run 0 turn 0: command_execution" in verdict.diff


def test_resumed_runs_and_failed_turns_are_part_of_meaning() -> None:
    assert [d.check for d in equivalent(log(TEXT), log(TEXT, resumed="t0")).differences] \
        == ["eq.run.resumed"]
    failed = equivalent(log(TEXT), log(TEXT, outcome="provider")).differences
    assert [d.check for d in failed] == ["eq.turn.outcome", "eq.turn.error_kind"]
    kinds = equivalent(log(TEXT, outcome="auth"), log(TEXT, outcome="provider")).differences
    assert [d.check for d in kinds] == ["eq.turn.error_kind"]


# ------------------------------------------------------------------------------ every field

MCP = {"kind": "mcp_tool_call", "server": "demo", "tool": "echo", "arguments": {"text": "a"},
       "result": [{"type": "text", "text": "a"}], "error": None}
TOOL = {"kind": "tool_call", "name": "Read", "arguments": {"path": "x"}, "result": "x",
        "error": None}
PATCH = {"kind": "file_change", "changes": [{"path": "{workspace}/a.py", "kind": "add"}]}
SEARCH = {"kind": "web_search", "query": "weather"}
PLAN = {"kind": "plan", "entries": [{"text": "step", "status": "pending"}], "text": None}
THINK = {"kind": "reasoning", "text": "because", "encrypted": False}
CITATION = {"url": "https://example.test/a", "title": "A", "cited_text": "a"}
CITED = {**TEXT, "citations": [CITATION]}
MOVE = {"kind": "file_change", "changes": [{"path": "{workspace}/a.py", "kind": "move",
                                            "move_path": "{workspace}/b.py"}]}

FIELD_CHANGES: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
    ("eq.assistant_message.text", TEXT, {"text": "other"}),
    ("eq.assistant_message.status", TEXT, {"status": "failed"}),
    ("eq.reasoning.text", THINK, {"text": "other"}),
    ("eq.command_execution.command", SHELL, {"command": "echo ho"}),
    ("eq.command_execution.exit_code", SHELL, {"exit_code": 1}),
    ("eq.command_execution.output", SHELL, {"output": "ho\n"}),
    ("eq.command_execution.status", SHELL, {"status": "failed"}),
    ("eq.file_change.changes", PATCH, {"changes": [{"path": "{workspace}/b.py", "kind": "add"}]}),
    ("eq.file_change.changes", PATCH, {"changes": [{"path": "{workspace}/a.py",
                                                    "kind": "update"}]}),
    ("eq.mcp_tool_call.server", MCP, {"server": "other"}),
    ("eq.mcp_tool_call.tool", MCP, {"tool": "other"}),
    ("eq.mcp_tool_call.arguments", MCP, {"arguments": {"text": "b"}}),
    ("eq.mcp_tool_call.result", MCP, {"result": [{"type": "text", "text": "b"}]}),
    ("eq.mcp_tool_call.error", MCP, {"error": "boom"}),
    ("eq.tool_call.name", TOOL, {"name": "Grep"}),
    ("eq.tool_call.arguments", TOOL, {"arguments": {"path": "y"}}),
    ("eq.tool_call.result", TOOL, {"result": "y"}),
    ("eq.web_search.query", SEARCH, {"query": "news"}),
    ("eq.plan.entries", PLAN, {"entries": [{"text": "step", "status": "completed"}]}),
    ("eq.plan.entries", PLAN, {"entries": [{"text": "other", "status": "pending"}]}),
    ("eq.plan.text", PLAN, {"text": "a free-form plan"}),
    ("eq.plan.status", PLAN, {"status": "failed"}),
    ("eq.assistant_message.citations", TEXT, {"citations": [{"url": "https://example.test/a",
                                                             "title": "A", "cited_text": "a"}]}),
    ("eq.command_execution.error", SHELL, {"error": "denied by the user"}),
    ("eq.file_change.error", PATCH, {"error": "denied by the user"}),
    ("eq.file_change.status", PATCH, {"status": "declined"}),
    ("eq.mcp_tool_call.status", MCP, {"status": "failed"}),
    ("eq.tool_call.error", TOOL, {"error": "boom"}),
    ("eq.tool_call.status", TOOL, {"status": "failed"}),
    ("eq.web_search.status", SEARCH, {"status": "failed"}),
    ("eq.reasoning.status", THINK, {"status": "failed"}),
    ("eq.assistant_message.citations", CITED, {"citations": [{**CITATION, "title": "B"}]}),
    ("eq.assistant_message.citations", CITED, {"citations": [{**CITATION,
                                                             "cited_text": "b"}]}),
    ("eq.assistant_message.citations", CITED, {"citations": [{**CITATION,
                                                             "url": "https://example.test/b"}]}),
    ("eq.file_change.changes", MOVE, {"changes": [{"path": "{workspace}/a.py", "kind": "move",
                                                   "move_path": "{workspace}/c.py"}]}),
]


@pytest.mark.parametrize("check, item, change", FIELD_CHANGES,
                         ids=[f"{c}-{i}" for i, (c, _, _) in enumerate(FIELD_CHANGES)])
def test_every_compared_field_fails_when_changed(check: str, item: dict[str, Any],
                                                 change: dict[str, Any]) -> None:
    """Each compared field, changed alone in one log, fails strict equivalence by its check id
    (loosen the comparison of any field and its case here fails)."""
    assert equivalent(log(item), log(item), "strict").equivalent
    verdict = equivalent(log(item), log({**item, **change}), "strict")
    assert [d.check for d in verdict.differences] == [check]


def test_every_compared_item_field_has_a_change_case() -> None:
    """A field listed in COMPARED but never read from the item would compare None with None:
    each compared item field must have a case above that changes it and is caught."""
    covered = {check for check, _, _ in FIELD_CHANGES}
    for kind, names in COMPARED.items():
        if kind in {"run", "turn"} or kind.startswith("approval"):
            continue
        for name in names:
            assert f"eq.{kind}.{name}" in covered, f"{kind}.{name} has no change case"


def test_approvals_are_compared_by_item_action_and_decision() -> None:
    def with_approval(decision: str, action: str = "touch x",
                      by: str = "user") -> list[dict[str, Any]]:
        events = log(SHELL)
        events.insert(3, {"type": "approval.requested", "request_id": "r", "item_id": "item_0",
                          "action": action, "turn": 0})
        events.insert(4, {"type": "approval.resolved", "request_id": "r", "decision": decision,
                          "decided_by": by, "turn": 0})
        return events

    base = with_approval("approved")
    assert equivalent(base, with_approval("approved"), "strict").equivalent
    for other, check in ((with_approval("denied"), "eq.approval.decision"),
                         (with_approval("approved", by="policy"), "eq.approval.decided_by"),
                         (with_approval("approved", action="rm x"), "eq.approval.action")):
        assert [d.check for d in equivalent(base, other, "strict").differences] == [check]


def test_an_approval_asked_while_its_item_runs_is_compared_by_that_items_kind() -> None:
    """Runtimes ask while the item runs: an approval stands between its item's `item.started`
    and `item.completed` (every approval in the catalog does). The item it asks about is part of
    its meaning even then, so the same approval about a file change in one log and about a
    command in the other is a difference (`eq.approval.item`), not a match of two unknowns."""
    def asking_about(index: int) -> list[dict[str, Any]]:
        events = log(SHELL, PATCH)
        running = [{**event, "type": "item.started",
                    "item": {**event["item"], "status": "in_progress"}} for event in events[2:4]]
        asks = [{"type": "approval.requested", "request_id": "r", "item_id": f"item_{index}",
                 "action": "touch x", "turn": 0},
                {"type": "approval.resolved", "request_id": "r", "decision": "approved",
                 "decided_by": "user", "turn": 0}]
        return [*events[:2], *running, *asks, *events[2:]]

    assert equivalent(asking_about(0), asking_about(0), "strict").equivalent
    verdict = equivalent(asking_about(0), asking_about(1), "strict")
    assert [d.check for d in verdict.differences] == ["eq.approval.item"]


def test_every_model_field_is_compared_or_listed_as_not_compared() -> None:
    """A field nobody compares lets a regression through: every field of every item kind and
    approval event in the model is either in COMPARED or in NOT_COMPARED with a reason."""
    from harness.contract.model import (  # noqa: PLC0415
        ApprovalRequested,
        ApprovalResolved,
        Item,
    )
    kinds = {cls.model_fields["kind"].default: cls for cls in get_args(get_args(Item)[0])}
    for kind, cls in kinds.items():
        if kind in NOISE_KINDS:
            continue
        for name in cls.model_fields:
            assert name in COMPARED[kind] or name in NOT_COMPARED, f"{kind}.{name}"
    for cls, kind in ((ApprovalRequested, "approval.requested"),
                      (ApprovalResolved, "approval.resolved")):
        envelope = {"schema_version", "seq", "type", "lane", "thread_id", "turn"}
        for name in set(cls.model_fields) - envelope:
            assert name in COMPARED[kind] or name in NOT_COMPARED, f"{kind}.{name}"


@pytest.mark.parametrize("raw, shown", [
    ("a\r\nb\r\n", "a\nb"),
    ("\x1b[31mred\x1b[0m", "red"),
    ("x   \ny\t\n\n", "x\ny"),
    ("\n\n  lead\n", "  lead"),
    ("a\n\nb", "a\n\nb"),
])
def test_canonical_output_rules(raw: str, shown: str) -> None:
    assert canonical_output(raw) == shown


def test_lane_output_rules_apply_to_that_lane_only() -> None:
    placeholder = {**SHELL, "output": "(none)"}
    empty = {**SHELL, "output": ""}
    rule = Lens(output_rules=(("test.placeholder", lambda s: "" if s == "(none)" else s),))
    assert equivalent(log(placeholder), log(empty), "strict", a_lens=rule).equivalent
    assert not equivalent(log(placeholder), log(empty), "strict", b_lens=rule).equivalent


def test_content_blocks_read_as_their_texts_joined_by_newlines() -> None:
    """A tool result given as MCP/API content blocks and the same result given as plain text
    (another lane's runtime flattens it) agree only under the documented rule: the blocks'
    texts joined by newlines, so `["a", "b"]` is `"a\\nb"`, never `"ab"`."""
    blocks = {**MCP, "result": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]}
    assert equivalent(log(blocks), log({**MCP, "result": "a\nb"}), "strict").equivalent
    assert not equivalent(log(blocks), log({**MCP, "result": "ab"}), "strict").equivalent


# ------------------------------------------------------------------------------ masks


def test_a_field_mask_excuses_that_field_of_the_named_items_only() -> None:
    a = log(SHELL, {**SHELL, "command": "ls"})
    b = log({**SHELL, "exit_code": None}, {**SHELL, "command": "ls", "exit_code": 2})
    mask = Mask("m", "field", "command_execution", "exit_code", {"command": "echo hi"})
    verdict = equivalent(a, b, "strict", masks=[mask])
    assert [d.check for d in verdict.differences] == ["eq.command_execution.exit_code"]
    assert "item 1" in verdict.differences[0].where
    wide = Mask("m", "field", "command_execution", "exit_code")
    assert equivalent(a, b, "strict", masks=[wide]).masks_used == frozenset({"m"})


def test_a_mask_narrowed_by_where_selects_equal_values_not_prefixes() -> None:
    """`where` names the facts a mask excuses by their canonical values: `echo hi` is that
    command, not every command starting with it (`echo hi && rm -rf x` stays compared)."""
    longer = {**SHELL, "command": "echo hi && rm -rf x"}
    mask = Mask("m", "field", "command_execution", "exit_code", {"command": "echo hi"})
    verdict = equivalent(log(longer), log({**longer, "exit_code": 1}), "strict", masks=[mask])
    assert [d.check for d in verdict.differences] == ["eq.command_execution.exit_code"]
    assert equivalent(log(SHELL), log({**SHELL, "exit_code": 1}), "strict",
                      masks=[mask]).equivalent


def test_a_mask_narrowed_to_runs_excuses_those_runs_only() -> None:
    """`runs` narrows a mask to the runs it names (a resumed run that shows what the first
    does not): the same difference in another run is still a difference."""
    a = [*log(SHELL), *log(SHELL, resumed="t1")]
    b = [*log({**SHELL, "exit_code": 1}), *log({**SHELL, "exit_code": 1}, resumed="t1")]
    second = Mask("m", "field", "command_execution", "exit_code", runs=frozenset({1}))
    verdict = equivalent(a, b, "strict", masks=[second])
    assert [(d.check, d.where) for d in verdict.differences] == [
        ("eq.command_execution.exit_code", "run 0 turn 0 item 0")]
    both = Mask("m", "field", "command_execution", "exit_code", runs=frozenset({0, 1}))
    assert equivalent(a, b, "strict", masks=[both]).equivalent


def test_drop_collapse_and_merge_masks() -> None:
    plan1 = {**PLAN}
    plan2 = {**PLAN, "entries": [{"text": "step", "status": "completed"}]}
    folded = equivalent(log(plan1, TEXT, plan2), log(TEXT, plan2), "strict",
                        masks=[Mask("c", "collapse", "plan")])
    assert folded.equivalent
    wrong = equivalent(log(plan1, TEXT, plan2), log(TEXT, plan1), "strict",
                       masks=[Mask("c", "collapse", "plan")])
    assert [d.check for d in wrong.differences] == ["eq.plan.entries"]
    one = {"kind": "file_change", "changes": [{"path": "a", "kind": "add"},
                                              {"path": "b", "kind": "update"}]}
    two = [{"kind": "file_change", "changes": [{"path": "b", "kind": "update"}]},
           {"kind": "file_change", "changes": [{"path": "a", "kind": "add"}]}]
    merge = [Mask("m", "merge", "file_change")]
    assert equivalent(log(one), log(*two), "strict", masks=merge).equivalent
    bad = [two[0], {"kind": "file_change", "changes": [{"path": "c", "kind": "add"}]}]
    assert not equivalent(log(one), log(*bad), "strict", masks=merge).equivalent
    dropped = equivalent(log(SHELL, TEXT), log(TEXT), "strict",
                         masks=[Mask("d", "drop", "command_execution", None, {"exit_code": 0})])
    assert dropped.equivalent
    kept = equivalent(log(SHELL, TEXT), log(TEXT), "strict",
                      masks=[Mask("d", "drop", "command_execution", None, {"exit_code": 1})])
    assert not kept.equivalent


def test_merged_items_that_disagree_compare_as_neither() -> None:
    """`merge` joins a turn's file changes into one; a field its items disagree on (one edit
    applied, one failed) is then no value at all, never the first item's: the failed edit
    still fails the pair against a lane whose one edit did both."""
    both = {"kind": "file_change", "changes": [{"path": "a", "kind": "add"},
                                               {"path": "b", "kind": "update"}]}
    applied = {"kind": "file_change", "changes": [{"path": "a", "kind": "add"}]}
    failed = {"kind": "file_change", "status": "failed",
              "changes": [{"path": "b", "kind": "update"}]}
    merge = [Mask("m", "merge", "file_change")]
    verdict = equivalent(log(both), log(applied, failed), "strict", masks=merge)
    assert [d.check for d in verdict.differences] == ["eq.file_change.status"]


# ------------------------------------------------------------------------------ mutations

ITEMS = st.one_of(
    st.builds(lambda t: {"kind": "assistant_message", "text": t}, st.text(min_size=1)),
    st.builds(lambda c, x: {"kind": "command_execution", "command": c, "exit_code": x,
                            "output": ""},
              st.text(alphabet="abc ;|", min_size=1), st.integers(0, 255)),
    st.builds(lambda p: {"kind": "file_change", "changes": [{"path": p, "kind": "add"}]},
              st.text(alphabet="abc/._", min_size=1)),
)


@given(st.lists(ITEMS, min_size=1, max_size=8), st.data())
def test_mutations_are_caught(items: list[dict[str, Any]], data: st.DataObject) -> None:
    """Invariant: a changed exit code, a dropped item or two reordered distinct items in one
    lane's log always makes `equivalent` (strict) say no, and the unchanged log says yes."""
    original = log(*items)
    assert equivalent(original, log(*items), "strict").equivalent
    mutation = data.draw(st.sampled_from(["exit", "drop", "swap"]))
    mutated = list(items)
    if mutation == "exit":
        commands = [i for i, item in enumerate(items) if item["kind"] == "command_execution"]
        assume(commands)
        index = data.draw(st.sampled_from(commands))
        mutated[index] = {**items[index], "exit_code": items[index]["exit_code"] + 1}
    elif mutation == "drop":
        del mutated[data.draw(st.integers(0, len(items) - 1))]
    else:
        facts = [(f.kind, f.fields) for f in project(original) if f.kind not in {"run", "turn"}]
        pairs = [(i, i + 1) for i in range(len(items) - 1) if facts[i] != facts[i + 1]]
        assume(pairs)
        i, j = data.draw(st.sampled_from(pairs))
        mutated[i], mutated[j] = mutated[j], mutated[i]
    assert not equivalent(original, log(*mutated), "strict").equivalent


def test_the_session_workspace_inside_payloads_reads_as_the_template() -> None:
    read = {"kind": "tool_call", "name": "Read", "arguments": {"file_path": "{workspace}/a.py"},
            "result": None, "error": None}
    recorded = log(read)
    rendered = log({**read, "arguments": {"file_path": "/tmp/ws/a.py"}})
    rendered[0]["cwd"] = "/tmp/ws"
    assert equivalent(recorded, rendered, "strict").equivalent
    elsewhere = log({**read, "arguments": {"file_path": "/tmp/other/a.py"}})
    elsewhere[0]["cwd"] = "/tmp/ws"
    assert not equivalent(recorded, elsewhere, "strict").equivalent


def test_integers_past_the_js_safe_range_compare_as_the_double_a_cli_holds() -> None:
    big = {**MCP, "arguments": {"h": 33971966115251879936}}
    assert equivalent(log(big), log({**MCP, "arguments": {"h": 3.397196611525188e19}}),
                      "strict").equivalent
    assert not equivalent(log(big), log({**MCP, "arguments": {"h": 3.4e19}}), "strict").equivalent
    small = {**MCP, "arguments": {"h": 2**53 - 1}}
    assert not equivalent(log(small), log({**MCP, "arguments": {"h": float(2**53 - 2)}}),
                          "strict").equivalent
