"""The Gemini CLI ACP driver: the harness plays the client of `gemini --acp` (Agent Client
Protocol, JSON-RPC 2.0 over stdio) offline against the Gemini stub, and answers permission
requests as the scenario scripts.

Everything Gemini-specific about the hermetic setup (HOME, `settings.json`, environment, stub,
templating of paths and dates) is the `gemini -p` driver's (`harness.record.runtimes.gemini`),
reused here; this module knows only the ACP client side (shared/runtime-facts.md, "Approvals
decided by a client"). One agent process per scenario run:

    initialize {protocolVersion, clientCapabilities (no fs, no terminal)}
    -> session/new {cwd, mcpServers: []}          (later runs: session/load {sessionId, ...})
    -> session/prompt {sessionId, prompt} -> read until its response (stopReason)

The transcript (`gemini-acp.jsonl`) keeps every message in both directions in order, one JSON
object per line: `{"dir": "out", "msg": ...}` written by the client, `{"dir": "in", "msg": ...}`
read by it. `session/request_permission` gets the run's next scripted `ClientDecision`:
approve -> the `allow_once` option, approve_for_session -> `allow_always`, deny -> `reject_once`,
cancel -> the client cancels the prompt turn (`session/cancel`) and answers `cancelled`, as the
protocol asks of a client that cancels while a permission request is open. A request with no
scripted answer left is rejected, a scripted answer never asked for is reported; both on stderr.

The scenario's MCP servers reach the agent through the CLI's own `settings.json` (as for
`gemini -p`), so `session/new` sends `mcpServers: []`. A later run asks `session/load` when the
agent declares `loadSession`; Gemini CLI 0.61 declares it but answers "No previous sessions
found for this project." in a new process (its session setup rewrites the saved chat before
looking it up), so the catalog marks resume scenarios unsupported for this driver.
"""

from __future__ import annotations

import contextlib
import re
import subprocess
import time
from pathlib import Path
from typing import Any

from harness.record.providers.gemini import MODEL
from harness.record.runtimes.base import RunOutput, RunPlan
from harness.record.runtimes.gemini import (
    APPROVAL_MODES,
    TIMEOUT_SECONDS,
    GeminiDriver,
    session_id,
    write_settings,
)
from harness.record.runtimes.install import install_dir
from harness.record.runtimes.jsonrpc import JsonRpcClient
from harness.record.stub import Responder
from harness.scenario import ClientDecision, Scenario

PROTOCOL_VERSION = 1
CLIENT_CAPABILITIES: dict[str, Any] = {"fs": {"readTextFile": False, "writeTextFile": False},
                                       "terminal": False}
"""The client offers no file system or terminal: the agent uses its own tools."""

OPTION_KINDS: dict[str, str] = {
    "approve": "allow_once",
    "approve_for_session": "allow_always",
    "approve_with_amendment": "allow_always",
    "deny": "reject_once",
}
"""Scripted decision -> the permission option kind the client selects (ACP has no amendment:
a prefix grant is the nearest, `allow_always`)."""

_SESSION_ID = re.compile(r'"sessionId": "([^"]+)"')


def permission_outcome(decision: str, options: Any) -> dict[str, Any]:
    """The client's `outcome` for a scripted decision: the option of the mapped kind
    (`reject_always` stands in for a missing `reject_once`), or `cancelled`."""
    wanted = OPTION_KINDS.get(decision)
    if wanted is not None and isinstance(options, list):
        kinds = [wanted, "reject_always"] if wanted == "reject_once" else [wanted]
        for kind in kinds:
            for option in options:
                if isinstance(option, dict) and option.get("kind") == kind:
                    return {"outcome": "selected", "optionId": option.get("optionId")}
    return {"outcome": "cancelled"}


class _Client(JsonRpcClient):
    """One agent process seen as an ACP client (JSON-RPC 2.0: every message tagged)."""

    jsonrpc = "2.0"

    def __init__(self, proc: subprocess.Popen[bytes], decisions: list[ClientDecision],
                 deadline: float) -> None:
        super().__init__(proc, decisions, deadline)
        self.session: str | None = None

    def request_message(self, rid: int, method: str, params: dict[str, Any]) -> dict[str, Any]:
        return {"id": rid, "method": method, "params": params}

    def answer(self, msg: dict[str, Any]) -> None:
        """Permission requests get the next scripted decision; any other agent request is
        refused with a JSON-RPC error (this client offers no fs or terminal)."""
        method, params = msg["method"], msg.get("params") or {}
        if method != "session/request_permission":
            self.refuse(msg)
            return
        if self.decisions:
            decision = self.decisions.pop(0).decision
        else:
            self.problems.append("unscripted permission request: rejected")
            decision = "deny"
        if decision == "cancel" and self.session is not None:
            self.send({"method": "session/cancel", "params": {"sessionId": self.session}})
        outcome = permission_outcome(decision, params.get("options"))
        self.send({"id": msg["id"], "result": {"outcome": outcome}})


class GeminiAcpDriver:
    """RuntimeDriver for `gemini --acp` (see the module docstring)."""

    name = "gemini-acp"
    npm_package = "@google/gemini-cli"
    version = "0.61.0"
    native_lane = "acp"
    native_file = "gemini-acp.jsonl"
    shape_tags = ("method", "sessionUpdate", "type")
    install_name = "gemini"
    """One package, two surfaces: installs and versions live in the gemini driver's folders."""

    def __init__(self) -> None:
        self.cli = GeminiDriver()

    def binary(self) -> Path:
        return install_dir(self) / "node_modules" / ".bin" / "gemini"

    def responder(self, scenario: Scenario) -> Responder:
        return self.cli.responder(scenario)

    def arguments(self, plan: RunPlan) -> list[str]:
        mode, _ = APPROVAL_MODES[plan.scenario.settings.approval_policy]
        return ["--acp", "-m", MODEL, "--approval-mode", mode,
                *plan.scenario.settings.extra_args.get(self.name, [])]

    shown_name = "gemini"
    """The command's name in the meta file's run arguments."""

    def set_up(self, plan: RunPlan) -> None:
        """The agent's hermetic setup before a run (Gemini CLI: its `settings.json`)."""
        write_settings(plan)

    def environment(self, plan: RunPlan) -> dict[str, str]:
        return self.cli.env(plan)

    def run(self, plan: RunPlan) -> RunOutput:
        """One run as the ACP client: the agent is started with `arguments`, `environment` and
        `set_up` (the hooks another ACP agent's driver overrides), then `_converse` drives it."""
        self.set_up(plan)
        args = self.arguments(plan)
        cwd = plan.workspace / plan.scenario.settings.cwd
        err_path = plan.home / f".stderr-acp-run{plan.run_index}.txt"
        with err_path.open("wb") as err:
            proc = subprocess.Popen([str(self.binary()), *args], stdin=subprocess.PIPE,
                                    stdout=subprocess.PIPE, stderr=err, cwd=cwd,
                                    env=self.environment(plan))
            client = _Client(proc, plan.scenario.client_decisions(plan.run_index),
                             time.monotonic() + TIMEOUT_SECONDS)
            session = self._converse(client, plan, cwd)
            code = self._finish(proc)
        stdout, notes = client.transcript()
        return RunOutput(args=[self.shown_name, *args], stdout=stdout,
                         stderr=err_path.read_bytes() + notes, exit_code=code,
                         thread_id=session)

    def _converse(self, c: _Client, plan: RunPlan, cwd: Path) -> str | None:
        """The client's side of one run; returns the session id (None when none opened)."""
        init = c.request("initialize", {"protocolVersion": PROTOCOL_VERSION,
                                        "clientCapabilities": CLIENT_CAPABILITIES})
        caps = (init.get("result") or {}).get("agentCapabilities") or {}
        if plan.thread_id is None:
            answer = c.request("session/new", {"cwd": str(cwd), "mcpServers": []})
            session = (answer.get("result") or {}).get("sessionId")
        elif caps.get("loadSession"):
            answer = c.request("session/load", {"sessionId": plan.thread_id, "cwd": str(cwd),
                                                "mcpServers": []})
            session = plan.thread_id if "result" in answer else None
        else:
            c.problems.append("the agent cannot load a session (no loadSession capability)")
            return None
        if not isinstance(session, str):
            return None
        c.session = session
        prompt = plan.scenario.runs[plan.run_index].prompt
        c.request("session/prompt", {"sessionId": session,
                                     "prompt": [{"type": "text", "text": prompt}]})
        return session

    @staticmethod
    def _finish(proc: subprocess.Popen[bytes]) -> int:
        """Close stdin (the agent exits at EOF) and wait; an agent that lingers (its MCP
        servers keep it alive) is terminated, then killed."""
        assert proc.stdin is not None
        with contextlib.suppress(OSError):
            proc.stdin.close()
        for stop in (proc.terminate, proc.kill):
            try:
                return proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                stop()
        return proc.wait()

    def template(self, text: str, plan: RunPlan) -> str:
        """The CLI's templating, and the agent's random session ids -> the scenario's stable
        session UUID (`-1`, `-2` ... for further ones)."""
        stable = session_id(plan.scenario)
        seen: list[str] = []
        for found in _SESSION_ID.findall(text):
            if found not in seen and not found.startswith(stable):
                seen.append(found)
        for n, real in enumerate(seen):
            text = text.replace(real, stable if n == 0 else f"{stable}-{n}")
        return self.cli.template(text, plan)

    def context(self, scenario: Scenario) -> dict[str, str | None]:
        """As the CLI's, except that here the `default` approval mode really asks the client:
        the scenario's policy applies (`never` is yolo); the version is this driver's (another
        installed version's, under `harness record --version`), not the CLI driver's pin."""
        context = self.cli.context(scenario)
        context["runtime_version"] = self.version
        policy = scenario.settings.approval_policy
        context["approval_policy"] = "never" if policy == "never" else \
            "untrusted" if policy == "unknown" else policy
        return context


DRIVER = GeminiAcpDriver()
