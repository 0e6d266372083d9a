"""Live: Claude Code's Bash output shaping, held to the round-trip renderings.

No recording shows what Claude Code 2.1.328 does to awkward command output, so this runs the real
binary (one `claude -p` run, about two seconds) against the stub on `shells_scenario(SHELLS)`
(one command per answer keeps the order fixed) and holds both lanes' logs of what it produced
to the round trip's renderings of the same scenario:

- the anthropic lane's log of the recorded requests (the tool_result text the model got) to
  `anthropic_view` and to the lane's log of `claude_exchanges`;
- the claude-code lane's log of its stdout (`tool_use_result.stdout` or the `Error: ...` string)
  to `claude_code_view` and to the lane's log of `claude_stream_lines`.

Seen live, and modelled by `bash_visible`/`bash_result` (`harness.testing.render.claude`) and
`bash_stdout` (`harness.testing.render.claude_code`): a successful command loses its leading blank
lines (lines of JavaScript whitespace only) and trailing whitespace, nothing else (indentation of
the first kept line, ANSI escapes, `\\x1c`, inner blank lines stay); a failed one keeps its
leading blank lines, and a long `Exit code N` text is middle-truncated to 10 000 characters
instead of being saved to a file; output is capped at 30 000 characters before either trim.
"""

from __future__ import annotations

import re
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import pytest

from harness.contract.lane import LaneSpec, RunContext, normalize_to_dicts
from harness.record.cassette import render_http_cassette
from harness.record.recording import run_scenario
from harness.record.runtimes.claude import DRIVER
from harness.record.stub import Exchange
from harness.testing.render.claude import CLAUDE_SAVED_OUTPUT, anthropic_view, claude_exchanges
from harness.testing.render.claude_code import claude_code_view, claude_stream_lines
from harness.testing.render.common import normalize_exchanges, shells_scenario, stream_log
from harness.testing.strategies import AbstractScenario, expected_failures, expected_log_of
from lanes.anthropic import LANE as ANTHROPIC
from lanes.claude_code import LANE as CLAUDE_CODE
from tests.lanekit import assert_matches

SHELLS: list[tuple[str, int, str]] = [
    ("printf '\\n\\n  lead blank then spaces\\nx\\n'", 0, "\n\n  lead blank then spaces\nx\n"),
    ("printf '  \\n\\t\\r\\n\\302\\240\\n   indented\\n  y  \\n'", 0,
     "  \n\t\r\n\u00a0\n   indented\n  y  \n"),
    ("printf '\\n\\n\\033[31mred\\033[0m plain\\n'", 0, "\n\n\x1b[31mred\x1b[0m plain\n"),
    ("printf 'tail\\n\\n\\nmid\\n \\t\\n\\n   \\t'", 0, "tail\n\n\nmid\n \t\n\n   \t"),
    ("printf '\\n\\n  \\n\\t\\n'", 0, "\n\n  \n\t\n"),
    ("printf '\\034\\nfs\\n'", 0, "\x1c\nfs\n"),
    ("printf '\\n \\nerr line\\n\\n'; exit 3", 3, "\n \nerr line\n\n"),
    ("printf '\\n\\n  \\n'; exit 4", 4, "\n\n  \n"),
    ("printf ' \\n\\n  x\\n'; test -f no-such-file", 1, " \n\n  x\n"),
    ("printf '\\n\\n\\n\\n\\n'; seq 1 20000", 0,
     "\n" * 5 + "".join(f"{n}\n" for n in range(1, 20001))),
    ("printf '\\n\\n'; yes abcd | head -n 8000; exit 2", 2, "\n\n" + "abcd\n" * 8000),
]
"""(command, exit code, what it prints): leading blank and whitespace-only lines, indentation,
ANSI, trailing and inner whitespace, a control character that is not JavaScript whitespace,
failures with leading blank lines or only whitespace, an exit Claude Code interprets, output
saved to a file after leading blank lines, a failure too long for the model's text."""

_SAVED = re.compile(r"Full output saved to: [^\n]*/tool-results/[^\n/]*\.txt")
SIMULATED_SAVE = f"Full output saved to: {CLAUDE_SAVED_OUTPUT}"
"""Where the simulator says large output went (Claude Code's own path is a random name)."""


def test_scripted_outputs_are_what_the_commands_print(tmp_path: Path) -> None:
    """The scenario's outputs are the commands' real ones (run here by bash, as Claude Code
    does), so a live difference is Claude Code's shaping, not a wrong script."""
    for command, code, output in SHELLS:
        done = subprocess.run(["bash", "-c", command], cwd=tmp_path, capture_output=True,
                              check=False)
        assert (done.returncode, done.stdout.decode()) == (code, output), command


def _anthropic_log(exchanges: list[Exchange]) -> list[dict[str, Any]]:
    """The anthropic lane's log of the recorded requests, the saved-output path templated."""
    text = _SAVED.sub(SIMULATED_SAVE, render_http_cassette(exchanges))
    with tempfile.TemporaryDirectory(prefix="claude-live-") as tmp:
        path = Path(tmp) / ANTHROPIC.native_file
        path.write_text(text, encoding="utf-8")
        return normalize_to_dicts(ANTHROPIC, path, RunContext())


def _holds(lane: LaneSpec, real: list[dict[str, Any]], rendered: list[dict[str, Any]],
           expected: list[dict[str, Any]], abstract: AbstractScenario) -> None:
    assert_matches(lane, real, abstract, expected)
    assert_matches(lane, rendered, abstract, expected)


@pytest.mark.runtime
def test_round_trip_renders_what_claude_code_did_with_awkward_output(tmp_path: Path) -> None:
    """Fidelity beyond the catalog: the real Claude Code runs `shells_scenario(SHELLS)`; the
    anthropic lane's log of its requests and the claude-code lane's log of its stdout are each
    strictly equivalent to the lane's expected view and to the lane's log of the rendering, every
    command's output and exit code equal (assert_matches)."""
    if not DRIVER.binary().exists():
        pytest.fail("Claude Code is not installed: harness runtimes install claude")
    abstract = shells_scenario(SHELLS)
    scenario = abstract.scenario
    outputs, stub = run_scenario(DRIVER, scenario, tmp_path.resolve(),
                                 DRIVER.responder(scenario))
    assert stub.log.problems == []
    assert [out.exit_code for _, out in outputs] == [0]
    failures = expected_failures(abstract)
    _holds(ANTHROPIC, _anthropic_log(stub.log.exchanges),
           normalize_exchanges(ANTHROPIC, claude_exchanges(abstract)),
           expected_log_of(anthropic_view(abstract), failures), abstract)
    _holds(CLAUDE_CODE, stream_log(CLAUDE_CODE, b"".join(out.stdout for _, out in outputs)),
           stream_log(CLAUDE_CODE, claude_stream_lines(abstract)),
           expected_log_of(claude_code_view(abstract), failures), abstract)
