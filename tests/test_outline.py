"""Scenario outlines: what they compare, and which runtime chatter they leave out."""

from __future__ import annotations

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
