"""Scenario outlines: what they compare, and which runtime chatter they leave out."""

from __future__ import annotations

from harness.conformance.equivalence import Lens
from harness.conformance.outline import match_outline
from harness.scenario import ExpectedItem, ExpectedTurn
from tests.miniatures import log

SEARCH = {"kind": "tool_call", "name": "ToolSearch", "arguments": {}, "result": None}
MCP = {"kind": "mcp_tool_call", "server": "demo", "tool": "echo"}
TEXT = {"kind": "assistant_message", "text": "done"}
OUTLINE = [ExpectedTurn(items=[ExpectedItem(kind="mcp_tool_call", server="demo", tool="echo"),
                               ExpectedItem(kind="assistant_message")])]


def test_a_lanes_plumbing_tool_calls_are_not_part_of_the_outline() -> None:
    """Claude Code loads MCP tools through ToolSearch first: the lane declares that tool as
    noise, so one outline serves every runtime."""
    events = log(SEARCH, MCP, TEXT)
    assert match_outline(events, OUTLINE, frozenset({"ToolSearch"})) == []
    assert match_outline(events, OUTLINE) != []


def test_an_outline_that_names_tool_calls_still_sees_the_plumbing() -> None:
    outline = [ExpectedTurn(items=[ExpectedItem(kind="tool_call", tool="ToolSearch"),
                                   *OUTLINE[0].items])]
    assert match_outline(log(SEARCH, MCP, TEXT), outline, frozenset({"ToolSearch"})) == []


def test_other_tool_calls_are_never_noise() -> None:
    other = {**SEARCH, "name": "Read"}
    problems = match_outline(log(other, MCP, TEXT), OUTLINE, frozenset({"ToolSearch"}))
    assert problems and "expected 2 items" in problems[0]


def test_the_scripted_answer_text_is_checked_where_the_outline_gives_none() -> None:
    """The scenario scripts what the model says: a lane that changes the answer fails
    `outline.text`, even though the outline item names no text."""
    texts = [["done"]]
    assert match_outline(log(MCP, TEXT), OUTLINE, texts=texts) == []
    problems = match_outline(log(MCP, {**TEXT, "text": "something else"}), OUTLINE, texts=texts)
    assert problems == ["outline.text: run 0 item 1: expected 'done', got 'something else'"]


def test_an_explicit_outline_text_still_consumes_its_scripted_text() -> None:
    outline = [ExpectedTurn(items=[ExpectedItem(kind="assistant_message", text="first"),
                                   ExpectedItem(kind="assistant_message")])]
    texts = [["first", "second"]]
    good = log({**TEXT, "text": "first"}, {**TEXT, "text": "second"})
    assert match_outline(good, outline, texts=texts) == []
    bad = log({**TEXT, "text": "first"}, {**TEXT, "text": "first"})
    assert match_outline(bad, outline, texts=texts)[0].startswith("outline.text: run 0 item 1")


SHELL = {"kind": "command_execution", "command": "/bin/bash -lc 'ls'", "exit_code": 0,
         "output": ""}
PATCH = {"kind": "file_change", "changes": [{"path": "{workspace}/a.py", "kind": "add"}]}
FULL = [ExpectedTurn(items=[
    ExpectedItem(kind="command_execution", status="completed", exit_code=0, command="ls"),
    ExpectedItem(kind="file_change", paths=["a.py"], change_kinds=["add"]),
    ExpectedItem(kind="mcp_tool_call", server="demo", tool="echo"),
    ExpectedItem(kind="tool_call", tool="Read"),
    ExpectedItem(kind="assistant_message", text="done")])]
READ = {"kind": "tool_call", "name": "Read", "arguments": {}, "result": None}


def test_every_outline_field_fails_when_changed() -> None:
    """Each outline field, changed alone in the log, fails by its own check id (a loosened
    comparison of any of them makes its case here fail)."""
    items = [SHELL, PATCH, MCP, READ, TEXT]
    assert match_outline(log(*items), FULL) == []
    changes = {
        "outline.status": (0, {"status": "failed"}),
        "outline.exit_code": (0, {"exit_code": 2}),
        "outline.command": (0, {"command": "ls -la"}),
        "outline.paths": (1, {"changes": [{"path": "{workspace}/b.py", "kind": "add"}]}),
        "outline.change_kinds": (1, {"changes": [{"path": "{workspace}/a.py",
                                                  "kind": "update"}]}),
        "outline.server": (2, {"server": "other"}),
        "outline.tool": (2, {"tool": "other"}),
        "outline.text": (4, {"text": "other"}),
    }
    for check, (index, change) in changes.items():
        mutated = list(items)
        mutated[index] = {**items[index], **change}
        problems = match_outline(log(*mutated), FULL)
        assert [p.split(":")[0] for p in problems] == [check], (check, problems)
    renamed = [*items[:3], {**READ, "name": "Grep"}, TEXT]
    assert [p.split(":")[0] for p in match_outline(log(*renamed), FULL)] == ["outline.tool"]
    assert match_outline(log(*items, outcome="provider"), FULL)[0].startswith("outline.outcome")
    kind = [ExpectedTurn(outcome="failed", error_kind="auth", items=FULL[0].items)]
    assert match_outline(log(*items, outcome="provider"), kind)[0].startswith(
        "outline.error_kind")
    assert match_outline(log(*items[:-1]), FULL)[0].startswith("outline.items")
    assert match_outline(log(*items) + log(*items), FULL)[0].startswith("outline.runs")


OUTPUTS = [ExpectedTurn(items=[
    ExpectedItem(kind="command_execution", output="out.txt: Read-only file system"),
    ExpectedItem(kind="command_execution", output_head="1\n2\n3"),
    ExpectedItem(kind="file_change", error="denied by the user")])]
RO = {**SHELL, "output": "out.txt: Read-only file system\r\n"}
BIG = {**SHELL, "output": "1\n2\n3\n4\n... 900 bytes omitted ...\n99\n"}
DENIED = {**PATCH, "status": "declined", "error": "denied by the user"}


def test_outputs_and_refusal_texts_fail_when_changed() -> None:
    """A command's whole output, the head of a shortened one and a refusal text are each held
    to the scenario (canonical form: CRLF and trailing blanks do not count), and each change
    fails by its own check id: a prefix planted in a shortened output, a changed refusal."""
    assert match_outline(log(RO, BIG, DENIED), OUTPUTS) == []
    for index, change in ((0, {"output": "MUTATED out.txt: Read-only file system"}),
                          (1, {"output": "MUTATED 1\n2\n3\n4"}),
                          (1, {"output": "2\n3\n4"}),
                          (2, {"error": "MUTATED denied by the user"}),
                          (2, {"error": None})):
        items = [RO, BIG, DENIED]
        items[index] = {**items[index], **change}
        problems = match_outline(log(*items), OUTPUTS)
        check = "outline.error" if index == 2 else "outline.output"
        assert [p.split(":")[0] for p in problems] == [check], (change, problems)


def test_outputs_are_read_through_the_lanes_output_rules() -> None:
    """The outline reads an output as the equivalence check does: with the lane's declared
    output rules applied (here a header the runtime adds)."""
    headed = {**RO, "output": "Exit code: 1\nout.txt: Read-only file system"}
    lens = Lens(output_rules=(("test.header", lambda t: t.removeprefix("Exit code: 1\n")),))
    outline = [ExpectedTurn(items=OUTPUTS[0].items[:1])]
    assert match_outline(log(headed), outline) != []
    assert match_outline(log(headed), outline, lens=lens) == []
