"""Equivalence: what two lanes must agree on, and the checker itself caught in the act."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.conformance.equivalence import equivalent, project, relative_path, unwrap_command
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
    assert "--- left" in verdict.diff and "+++ right" in verdict.diff
    assert "Something else" in verdict.diff


def test_kinds_only_one_lane_can_show_are_gaps_not_failures() -> None:
    reasoning = {"kind": "reasoning", "text": "think", "encrypted": False}
    a, b = log(reasoning, TEXT), log(TEXT)
    verdict = equivalent(a, b, "strict", a_kinds=frozenset({"reasoning", "assistant_message"}),
                         b_kinds=frozenset({"assistant_message"}))
    assert verdict.equivalent
    assert verdict.gaps == frozenset({"reasoning"})


def test_noise_tools_and_notices_are_left_out() -> None:
    search = {"kind": "tool_call", "name": "ToolSearch", "arguments": {}}
    notice = {"kind": "error", "message": "model metadata missing"}
    assert equivalent(log(search, notice, TEXT), log(TEXT), "strict",
                      a_noise_tools=frozenset({"ToolSearch"})).equivalent


def test_diff_points_at_the_first_divergence_with_context() -> None:
    a = log(TEXT, SHELL, TEXT)
    b = log(TEXT, {**SHELL, "exit_code": 1}, TEXT)
    verdict = equivalent(a, b, labels=("codex", "claude"))
    assert "-    command_execution status=completed cmd='echo hi' exit=0" in verdict.diff
    assert "+    command_execution status=completed cmd='echo hi' exit=1" in verdict.diff
    assert verdict.diff.count("@@") == 2, "only the first hunk"


def test_resumed_runs_and_failed_turns_are_part_of_meaning() -> None:
    assert not equivalent(log(TEXT), log(TEXT, resumed="t0")).equivalent
    assert not equivalent(log(TEXT), log(TEXT, outcome="provider")).equivalent


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
        if not commands:
            return
        index = data.draw(st.sampled_from(commands))
        mutated[index] = {**items[index], "exit_code": items[index]["exit_code"] + 1}
    elif mutation == "drop":
        del mutated[data.draw(st.integers(0, len(items) - 1))]
    else:
        lines = project(original, "strict").lines
        pairs = [(i, i + 1) for i in range(len(items) - 1) if lines[i + 2] != lines[i + 3]]
        if not pairs:
            return
        i, j = data.draw(st.sampled_from(pairs))
        mutated[i], mutated[j] = mutated[j], mutated[i]
    assert not equivalent(original, log(*mutated), "strict").equivalent
