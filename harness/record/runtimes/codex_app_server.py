"""The Codex app-server driver: the harness plays the client of `codex app-server` (JSON-RPC
over stdio) offline against the Responses stub, and decides approvals as the scenario scripts.

Everything Codex-specific about the hermetic setup (CODEX_HOME, `config.toml`, environment,
`codex login`, templating of paths and ids) is the exec driver's (`harness.record.runtimes.codex`),
reused here; this module knows only the app-server protocol (shared/runtime-facts.md, "Approvals
decided by a client"). One app-server process per scenario run:

    initialize -> initialized -> skills/list, mcpServerStatus/list, config/read, account/read
    -> thread/start {cwd, approvalPolicy, sandbox}   (later runs: thread/resume {threadId, ...})
    -> turn/start -> read until turn/completed, answering each approval request in turn

The transcript (`codex-app-server.jsonl`) keeps every message in both directions in the order the
client saw or sent it, one JSON object per line: `{"dir": "out", "msg": {...}}` for what the
client wrote, `{"dir": "in", "msg": {...}}` for what it read. Server requests are answered with the
run's scripted `ClientDecision`s in order (`Scenario.client_decisions`); a request with no
scripted answer left is declined, and a scripted answer never asked for is reported, both on the
run's stderr (the outline's `approvals` is what holds a recording to its script).
"""

from __future__ import annotations

import contextlib
import re
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.record.runtimes.base import RunOutput, RunPlan
from harness.record.runtimes.codex import (
    SANDBOX_FLAGS,
    TIMEOUT_SECONDS,
    CodexDriver,
    protocol_schema,
)
from harness.record.runtimes.install import install_dir
from harness.record.runtimes.jsonrpc import JsonRpcClient
from harness.record.stub import Responder
from harness.scenario import ClientDecision, Scenario

CLIENT_INFO = {"name": "agent-conformance-harness", "title": "harness", "version": "0.1.0"}
CONTROL_PLANE: tuple[tuple[str, dict[str, Any]], ...] = (
    ("skills/list", {}),
    ("mcpServerStatus/list", {}),
    ("config/read", {}),
    ("account/read", {}),
)
"""What a capability-aware client asks once per run: skills, MCP servers, effective config,
auth state (all answer offline)."""

APPROVAL_REQUESTS = frozenset({"item/commandExecution/requestApproval",
                               "item/fileChange/requestApproval"})

_VOLATILE: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r'"(\w*At|\w*AtMs|durationMs|timestamp)": \d+'), r'"\1": 0'),
    (re.compile(r'"(processId|pid)": "\d+"'), r'"\1": "0"'),
    (re.compile(r'"serverName": "[^"]*"'), '"serverName": "{host}"'),
    (re.compile(r'"version": "sha256:[0-9a-f]{64}"'), '"version": "sha256:{config}"'),
    (re.compile(r"sessions/\d{4}/\d{2}/\d{2}/rollout-\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}"),
     "sessions/{date}/rollout-{datetime}"),
    (re.compile(r'("userAgent": "[^"(]*)\([^)]*\)'), r"\1({os})"),
)
"""App-server values that change run to run or machine to machine: wall-clock stamps and
durations (`emittedAtMs`, `startedAt`, ...), process ids, the host name, the OS in the user
agent, the session file's date, and `config/read`'s per-layer `version` (a hash of the config
file, which holds the stub's port). The order of concurrent notifications (token usage, rate
limits, an item's completion) and whether a short command's output also arrives as
`item/commandExecution/outputDelta` can still differ between recordings: real timing, kept; the
completed items (what drift and equivalence compare) do not depend on it."""


def codex_decision(client: ClientDecision, params: dict[str, Any]) -> Any:
    """A scripted client decision as the app-server's `decision` value (a deny message has no
    place in this protocol: Codex tells the model "rejected by user")."""
    if client.decision == "approve":
        return "accept"
    if client.decision == "approve_for_session":
        return "acceptForSession"
    if client.decision == "approve_with_amendment":
        proposed = params.get("proposedExecpolicyAmendment")
        amendment = client.amendment if client.amendment is not None else proposed
        return {"acceptWithExecpolicyAmendment": {"execpolicy_amendment": amendment or []}}
    return "decline" if client.decision == "deny" else "cancel"


class _Session(JsonRpcClient):
    """One app-server process seen as a client (the app-server omits `"jsonrpc"`)."""

    def answer(self, msg: dict[str, Any]) -> None:
        """A server request: approvals get the next scripted decision; anything else is
        refused with a JSON-RPC error (the client offers nothing more)."""
        method, params = msg["method"], msg.get("params") or {}
        if method not in APPROVAL_REQUESTS:
            self.refuse(msg)
            return
        if self.decisions:
            decision = codex_decision(self.decisions.pop(0), params)
        else:
            self.problems.append(f"unscripted approval request {method}: declined")
            decision = "decline"
        self.send({"id": msg["id"], "result": {"decision": decision}})


@dataclass
class CodexAppServerDriver:
    """RuntimeDriver for `codex app-server` (see the module docstring)."""

    name: str = "codex-app-server"
    npm_package: str = "@openai/codex"
    version: str = "0.171.0"
    native_lane: str = "codex-app-server"
    native_file: str = "codex-app-server.jsonl"
    shape_tags: tuple[str, ...] = ("method", "type")
    install_name: str = "codex"
    """One package, two surfaces: installs and versions live in the codex driver's folders."""
    exec_driver: CodexDriver = field(default_factory=CodexDriver)

    def binary(self) -> Path:
        """The pinned Codex install the exec driver uses."""
        return install_dir(self) / "node_modules" / ".bin" / "codex"

    def responder(self, scenario: Scenario) -> Responder:
        return self.exec_driver.responder(scenario)

    def protocol_schema(self) -> dict[str, Any]:
        return protocol_schema(self.binary())

    def environment(self, plan: RunPlan) -> dict[str, str]:
        """The exec driver's environment; `CODEX_API_KEY` is read by `codex exec` only, so the
        primary-key mode also puts the key where the app-server reads it (`OPENAI_API_KEY`)."""
        env = self.exec_driver.environment(plan)
        if "CODEX_API_KEY" in env:
            env["OPENAI_API_KEY"] = env["CODEX_API_KEY"]
        return env

    def run(self, plan: RunPlan) -> RunOutput:
        if plan.run_index == 0:
            self.exec_driver.prepare(plan)
        settings = plan.scenario.settings
        cwd = plan.workspace / settings.cwd
        args = [str(self.binary()), "app-server", *settings.extra_args.get(self.name, [])]
        err_path = plan.home / f"stderr-{plan.run_index}.txt"
        with err_path.open("wb") as err:
            proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                    stderr=err, env=self.environment(plan), cwd=cwd)
            session = _Session(proc, plan.scenario.client_decisions(plan.run_index),
                               time.monotonic() + TIMEOUT_SECONDS)
            thread_id = self._converse(session, plan, cwd)
            code = self._finish(proc)
        stdout, notes = session.transcript()
        return RunOutput(args=["codex", *args[1:]], stdout=stdout,
                         stderr=err_path.read_bytes() + notes,
                         exit_code=code, thread_id=thread_id)

    def _converse(self, s: _Session, plan: RunPlan, cwd: Path) -> str | None:
        """The client's side of one run; returns the thread id (None when none started)."""
        settings = plan.scenario.settings
        s.request("initialize", {"clientInfo": CLIENT_INFO,
                                 "capabilities": {"experimentalApi": False}})
        s.send({"method": "initialized"})
        answers = {method: s.request(method, params) for method, params in CONTROL_PLANE}
        account = (answers["account/read"].get("result") or {}).get("account")
        if account is None and settings.auth != "login":
            # the app-server reads no key variable: a client logs in with the key it holds
            key = plan.api_key or self.exec_driver.key
            s.request("account/login/start", {"type": "apiKey", "apiKey": key})
        thread: dict[str, Any] = {"cwd": str(cwd), "sandbox": SANDBOX_FLAGS[settings.sandbox]}
        if settings.approval_policy != "unknown":
            thread["approvalPolicy"] = settings.approval_policy
        if plan.thread_id is None:
            answer = s.request("thread/start", thread)
        else:
            answer = s.request("thread/resume", {"threadId": plan.thread_id, **thread})
        thread_id = (answer.get("result") or {}).get("thread", {}).get("id")
        if not isinstance(thread_id, str):
            return None
        prompt = plan.scenario.runs[plan.run_index].prompt
        s.request("turn/start", {"threadId": thread_id, "input": [
            {"type": "text", "text": prompt, "text_elements": []}]})
        s.read_until(lambda msg: msg.get("method") == "turn/completed")
        return thread_id

    @staticmethod
    def _finish(proc: subprocess.Popen[bytes]) -> int:
        """Close stdin (the app-server exits at EOF) and wait; kill it if it lingers."""
        assert proc.stdin is not None
        with contextlib.suppress(OSError):
            proc.stdin.close()
        try:
            return proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            return proc.wait()

    def template(self, text: str, plan: RunPlan) -> str:
        for pattern, stable in _VOLATILE:
            text = pattern.sub(stable, text)
        return self.exec_driver.template(text, plan)

    def context(self, scenario: Scenario) -> dict[str, str | None]:
        """Unlike exec, the app-server runs with the approval policy and sandbox asked for; the
        version is this driver's (another installed version's, under `harness record --version`),
        not the exec driver's pin."""
        settings = scenario.settings
        context = self.exec_driver.context(scenario)
        context["approval_policy"] = settings.approval_policy
        context["sandbox"] = settings.sandbox
        context["runtime_version"] = self.version
        return context


DRIVER = CodexAppServerDriver()
