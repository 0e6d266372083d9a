"""The gate tests itself: a fixed sample of mutants (one semantic regression in one lane's native
file, accepted into the goldens by `harness check --update-golden`) must make `harness check` fail
and name the scenario and the lane. The full set (every operator x lane x scenario) runs under
`nox -s mutations`; see `tests/gate_mutations.py`.

The sample covers every operator and every lane once or more and stays small: each mutant is two
gate runs over one scenario (about two seconds). It includes the mutants that once survived
(outputs that only one lane witnesses or that every runtime shortens its own way): the scenario
outline now states those outputs, and these cases keep it so.
"""

from __future__ import annotations

import pytest

from tests.gate_mutations import (
    NATIVE_FILES,
    OPERATOR_NAMES,
    OPERATORS,
    ROOT,
    Mutant,
    mutate,
    run_baseline,
    run_mutant,
)

SAMPLE: list[tuple[str, str, str]] = [
    ("shell_ok", "codex-native.jsonl", "command"),
    ("shell_fail", "claude.http.yaml", "exit_code"),
    ("shell_ok", "gemini.http.yaml", "command_output"),
    ("hello", "codex.http.yaml", "answer_text"),
    ("multi_command", "gemini-cli.jsonl", "drop_item"),
    ("shell_ok", "claude-code.jsonl", "extra_item"),
    ("file_change", "codex.http.yaml", "file_path"),
    ("file_change", "gemini-cli.jsonl", "file_change_kind"),
    ("mcp_call", "claude-code.jsonl", "mcp_server"),
    ("mcp_call", "gemini.http.yaml", "mcp_tool"),
    ("mcp_call", "codex-native.jsonl", "mcp_arguments"),
    ("web_search", "claude.http.yaml", "search_query"),
    ("turn_failed_stream", "codex-native.jsonl", "turn_outcome"),
    ("approval_on_request", "claude-code.jsonl", "approval_decision"),
    ("large_output", "claude-code.jsonl", "command_output"),
    ("approval_reviewer_deny", "codex-native.jsonl", "command_output"),
    ("plan", "gemini-cli.jsonl", "plan_entry"),
    ("user_deny", "codex-app-server.jsonl", "approval_decision"),
    ("shell_fail", "codex-app-server.jsonl", "command_output"),
    ("user_file_change_cancel", "codex-app-server.jsonl", "file_change_kind"),
]
"""(scenario, native file, operator): each operator once, each lane two or more times."""


def test_sample_covers_every_operator_and_lane() -> None:
    assert {op for _, _, op in SAMPLE} == set(OPERATOR_NAMES)
    assert {native for _, native, _ in SAMPLE} == set(NATIVE_FILES)


@pytest.mark.parametrize(("scenario", "native", "operator"), SAMPLE,
                         ids=[f"{s}-{NATIVE_FILES[n]}-{o}" for s, n, o in SAMPLE])
def test_gate_kills_accepted_regression(scenario: str, native: str, operator: str) -> None:
    mutant = Mutant(scenario, native, operator)
    outcome = run_mutant(mutant)
    assert outcome.applicable, f"{mutant} does not apply to the catalog any more"
    assert f"{scenario}/{mutant.lane}" in outcome.golden_changed, \
        f"the lane's log did not change ({outcome.note}): the mutant tests nothing"
    assert outcome.killed, f"{mutant} survived [{outcome.note}]:\n{outcome.output[-3000:]}"
    assert outcome.named_scenario and outcome.named_lane, "\n".join(outcome.failures)


def test_unmutated_scenario_passes_the_same_procedure() -> None:
    """The control: without a mutation, accept-then-check passes, so a kill is the mutation's."""
    code, output = run_baseline("shell_ok")
    assert code == 0, output[-3000:]


@pytest.mark.parametrize("native", sorted(NATIVE_FILES))
def test_operators_are_deterministic_and_leave_the_original_alone(native: str) -> None:
    path = ROOT / "cassettes" / "shell_ok" / native
    text = path.read_text(encoding="utf-8")
    applied = 0
    for name, operator in OPERATORS.items():
        first = operator(text, native)
        assert first == operator(text, native), name
        assert path.read_text(encoding="utf-8") == text
        if first is not None:
            applied += 1
            assert first != text
            assert mutate(name, native, text) is not None
    assert applied >= 6, f"only {applied} operators apply to shell_ok/{native}"
