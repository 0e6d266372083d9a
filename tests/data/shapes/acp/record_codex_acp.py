"""Record Zed's Codex ACP adapter (`@zed-industries/codex-acp`) as an ACP agent, offline: the
`codex_acp_*.jsonl` fixtures beside this file.

The client side is the harness's ACP driver (`harness.record.runtimes.gemini_acp`: initialize,
session/new, session/prompt, scripted answers to permission requests); the agent side is set up
as the harness's Codex driver sets up Codex (`harness.record.runtimes.codex`: a temporary
CODEX_HOME whose config.toml points the `stub` model provider at the project's Responses stub on
127.0.0.1, the key in the environment, proxies closed), since the adapter runs codex-core with
that configuration. Scenarios come from the catalog (their scripted model turns and client
decisions); the transcript is templated like the catalog's.

Run (from the repo root, with the adapter installed, e.g. `npm install --prefix DIR
@zed-industries/codex-acp@0.16.0`):
`python tests/data/shapes/acp/record_codex_acp.py DIR/node_modules/.bin/codex-acp SCENARIO...`

`codex_acp_0_16_0_prompt_unauthenticated.jsonl` was recorded by this script before its
`authenticate` step existed: a client that never authenticates, so the adapter sends no key.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from harness.record.recording import record_scenario
from harness.record.runtimes.base import RunPlan
from harness.record.runtimes.codex import CodexDriver
from harness.record.runtimes.gemini_acp import GeminiAcpDriver, _Client
from harness.record.stub import Responder
from harness.scenario import Scenario

HERE = Path(__file__).resolve().parent
CATALOG = HERE.parents[3] / "cassettes"
VERSION = "0.16.0"


class CodexAcpDriver(GeminiAcpDriver):
    """The ACP client of the harness, driving codex-acp set up like Codex."""

    name = "codex-acp"
    npm_package = "@zed-industries/codex-acp"
    version = VERSION
    native_file = "codex-acp.jsonl"

    def __init__(self, binary: Path) -> None:
        self.codex = CodexDriver()
        self.path = binary

    def binary(self) -> Path:
        return self.path

    def responder(self, scenario: Scenario) -> Responder:
        return self.codex.responder(scenario)

    shown_name = "codex-acp"

    def arguments(self, plan: RunPlan) -> list[str]:
        return []

    def environment(self, plan: RunPlan) -> dict[str, str]:
        return self.codex.environment(plan)

    def set_up(self, plan: RunPlan) -> None:
        if plan.run_index == 0:
            self.codex.prepare(plan)

    def _converse(self, c: _Client, plan: RunPlan, cwd: Path) -> str | None:
        """As the ACP driver's, plus `authenticate` with the adapter's `codex-api-key` method
        (it reads CODEX_API_KEY only once told to) before the session opens."""
        original = c.request

        def request(method: str, params: dict[str, Any]) -> dict[str, Any]:
            answer = original(method, params)
            if method == "initialize":
                original("authenticate", {"methodId": "codex-api-key"})
            return answer

        c.request = request  # type: ignore[method-assign]
        return super()._converse(c, plan, cwd)

    def template(self, text: str, plan: RunPlan) -> str:
        return self.codex.template(text, plan)

    def context(self, scenario: Scenario) -> dict[str, str | None]:
        return self.codex.context(scenario)


def main(binary: str, scenarios: list[str]) -> None:
    driver = CodexAcpDriver(Path(binary).resolve())
    for name in scenarios:
        with tempfile.TemporaryDirectory(prefix="codex-acp-") as tmp:
            folder = Path(tmp) / name
            folder.mkdir()
            shutil.copy(CATALOG / name / "scenario.yaml", folder / "scenario.yaml")
            result = record_scenario(driver, folder, force=True)
            print(name, result.exit_codes, result.problems)
            tag = VERSION.replace(".", "_")
            shutil.copy(folder / driver.native_file, HERE / f"codex_acp_{tag}_{name}.jsonl")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
