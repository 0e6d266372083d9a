"""Record Zed's Claude Code ACP adapter (`@zed-industries/claude-code-acp`) as an ACP agent,
offline: the `claude_code_acp_*.jsonl` fixtures beside this file.

The client side is the harness's ACP driver (`harness.record.runtimes.gemini_acp`); the agent
side is set up as the harness's Claude Code driver sets up Claude Code
(`harness.record.runtimes.claude`: a temporary HOME, `ANTHROPIC_BASE_URL` at the project's
Messages API stub on 127.0.0.1, the key in the environment, non-essential traffic off, proxies
closed): the adapter runs the Claude Code CLI its Agent SDK bundles with that environment.
Scenarios come from the catalog (their scripted model turns and client decisions); the
transcript is templated like the catalog's.

Run (from the repo root, with the adapter installed, e.g. `npm install --prefix DIR
@zed-industries/claude-code-acp@0.16.2`):
`python tests/data/shapes/acp/record_claude_code_acp.py DIR/node_modules/.bin/claude-code-acp
SCENARIO...`
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

from harness.record.recording import record_scenario
from harness.record.runtimes.base import RunPlan
from harness.record.runtimes.claude import ClaudeDriver
from harness.record.runtimes.gemini_acp import GeminiAcpDriver
from harness.record.stub import Responder
from harness.scenario import Scenario

HERE = Path(__file__).resolve().parent
CATALOG = HERE.parents[3] / "cassettes"
VERSION = "0.16.2"


class ClaudeCodeAcpDriver(GeminiAcpDriver):
    """The ACP client of the harness, driving claude-code-acp set up like Claude Code."""

    name = "claude-code-acp"
    npm_package = "@zed-industries/claude-code-acp"
    version = VERSION
    native_file = "claude-code-acp.jsonl"

    def __init__(self, binary: Path) -> None:
        self.claude = ClaudeDriver()
        self.path = binary

    def binary(self) -> Path:
        return self.path

    def responder(self, scenario: Scenario) -> Responder:
        return self.claude.responder(scenario)

    shown_name = "claude-code-acp"

    def arguments(self, plan: RunPlan) -> list[str]:
        return []

    def environment(self, plan: RunPlan) -> dict[str, str]:
        return self.claude.environment(plan)

    def set_up(self, plan: RunPlan) -> None:
        pass  # (Claude Code's setup is in its environment)

    def template(self, text: str, plan: RunPlan) -> str:
        return self.claude.template(text, plan)

    def context(self, scenario: Scenario) -> dict[str, str | None]:
        return self.claude.context(scenario)


def main(binary: str, scenarios: list[str]) -> None:
    driver = ClaudeCodeAcpDriver(Path(binary).resolve())
    for name in scenarios:
        with tempfile.TemporaryDirectory(prefix="claude-code-acp-") as tmp:
            folder = Path(tmp) / name
            folder.mkdir()
            shutil.copy(CATALOG / name / "scenario.yaml", folder / "scenario.yaml")
            result = record_scenario(driver, folder, force=True)
            print(name, result.exit_codes, result.problems)
            tag = VERSION.replace(".", "_")
            shutil.copy(folder / driver.native_file, HERE / f"claude_code_acp_{tag}_{name}.jsonl")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
