"""Gemini CLI (`@google/gemini-cli`) driven offline: `gemini -p PROMPT --output-format stream-json`.

Hermetic recipe (see ../shared runtime facts): a temp HOME with `.gemini/settings.json` (API-key
auth, folder trust off, telemetry and usage statistics off, auto-update off, one model attempt so
error scenarios are fast, the scenario's MCP servers), `GOOGLE_GEMINI_BASE_URL` at the stub, a
dummy `GEMINI_API_KEY`, `GEMINI_CLI_NO_RELAUNCH=true`, proxies pointed at a closed loopback port
as a backstop, stdin from /dev/null. Stdout goes to a regular file, not a pipe: the tail of a long
line written just before exit can be lost through a pipe.

Determinism: the session id is a UUID derived from the scenario name (`--session-id`), later runs
`--resume` it; the model is pinned with `-m` (no routing call, and `write_todos` is offered only on
non-preview 2.x models). `template()` replaces what still varies (temp paths, timestamps,
durations, the date in the CLI's session context, process group ids).

Gemini CLI cannot express every scenario setting; what it really ran with is what `context()`
reports: it has no sandbox without Docker/Podman (`full-access`), and its headless `default`
approval mode removes every tool that would ask (`untrusted`).
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

from harness.contract.model import ApprovalPolicy
from harness.record.providers.gemini import MODEL, GeminiResponder
from harness.record.runtimes.base import REPO_ROOT, RUNTIMES_DIR, RunOutput, RunPlan
from harness.record.stub import Responder
from harness.scenario import Scenario

DUMMY_KEY = "dummy-key-for-stub"
TIMEOUT_SECONDS = 120
CLOSED_PORT_PROXY = "http://127.0.0.1:9"
SESSION_NAMESPACE = uuid.UUID("6d1f0c1e-4a52-4b8e-9a57-67656d696e69")

APPROVAL_MODES: dict[ApprovalPolicy, tuple[str, ApprovalPolicy]] = {
    "never": ("yolo", "never"),
    "on-request": ("default", "untrusted"),
    "on-failure": ("default", "untrusted"),
    "untrusted": ("default", "untrusted"),
    "unknown": ("default", "untrusted"),
}
"""Scenario approval policy -> (`--approval-mode`, the policy that really applies). Headless,
`default` cannot ask anyone, so the CLI drops every tool that would need approval."""

SESSION_ID_SINCE = (0, 51, 0)
"""`--session-id` exists in 0.51.0 (0.40.0 and older refuse it as an unknown argument, exit 1;
releases in between are unchecked). Older versions get the CLI's own random session id."""

NO_PROXY_SINCE = (0, 51, 0)
"""From 0.51.0 (0.40.0 and older do not; between unchecked) the CLI's proxy honours `NO_PROXY`;
older ones send even 127.0.0.1 through `HTTPS_PROXY`, so they run without the closed-proxy
backstop (telemetry, usage statistics and auto-update are off in settings either way)."""

SANDBOX_REALLY_USED = "full-access"
"""Without `--sandbox` (Docker/Podman/Seatbelt) Gemini CLI runs commands unconfined."""

_VOLATILE: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r'"timestamp":\s*"[^"]*"'), '"timestamp":"1970-01-01T00:00:00.000Z"'),
    (re.compile(r'"duration_ms":\s*\d+'), '"duration_ms":0'),
    (re.compile(r"Today's date is [^(\n\\]*\("), "Today's date is {date} ("),
    (re.compile(r"Process Group PGID: \d+"), "Process Group PGID: {pgid}"),
)


class GeminiDriver:
    name = "gemini"
    npm_package = "@google/gemini-cli"
    version = "0.61.0"
    native_lane = "gemini-cli"
    native_file = "gemini-cli.jsonl"

    def binary(self) -> Path:
        return RUNTIMES_DIR / self.name / "node_modules" / ".bin" / "gemini"

    def responder(self, scenario: Scenario) -> Responder:
        return GeminiResponder(scenario, expected_key=DUMMY_KEY)

    # ---------------------------------------------------------------- one run

    def run(self, plan: RunPlan) -> RunOutput:
        write_settings(plan)
        args = self.arguments(plan)
        cwd = plan.workspace / plan.scenario.settings.cwd
        stdout_path = plan.home / f".stdout-run{plan.run_index}.jsonl"
        stderr_path = plan.home / f".stderr-run{plan.run_index}.txt"
        with stdout_path.open("wb") as out, stderr_path.open("wb") as err:
            proc = subprocess.Popen([str(self.binary()), *args], cwd=cwd, env=self.env(plan),
                                    stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                                    start_new_session=True)
            try:
                code = proc.wait(timeout=TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                code = proc.wait()
        stdout = stdout_path.read_bytes()
        return RunOutput(args=["gemini", *args], stdout=stdout, stderr=stderr_path.read_bytes(),
                         exit_code=code, thread_id=session_of(stdout) or plan.thread_id)

    def arguments(self, plan: RunPlan) -> list[str]:
        scenario = plan.scenario
        mode, _ = APPROVAL_MODES[scenario.settings.approval_policy]
        args = ["-p", scenario.runs[plan.run_index].prompt, "--output-format", "stream-json",
                "-m", MODEL, "--approval-mode", mode]
        if plan.run_index > 0 and plan.thread_id:
            args += ["--resume", plan.thread_id]
        elif _release(self.version) >= SESSION_ID_SINCE:
            args += ["--session-id", session_id(scenario)]
        return args + list(scenario.settings.extra_args.get(self.name, []))

    def env(self, plan: RunPlan) -> dict[str, str]:
        """A minimal environment: nothing of the caller's leaks in (no real key, no settings)."""
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(plan.home),
            "LANG": "C.UTF-8",
            "TERM": "dumb",
            "GOOGLE_GEMINI_BASE_URL": plan.stub_url,
            "GEMINI_API_KEY": plan.api_key or DUMMY_KEY,
            "GEMINI_CLI_NO_RELAUNCH": "true",
            "HTTP_PROXY": CLOSED_PORT_PROXY,
            "HTTPS_PROXY": CLOSED_PORT_PROXY,
            "ALL_PROXY": CLOSED_PORT_PROXY,
            "NO_PROXY": "127.0.0.1,localhost",
        }
        if _release(self.version) < NO_PROXY_SINCE:
            env = {k: v for k, v in env.items() if not k.endswith("_PROXY")}
        return env

    # ---------------------------------------------------------------- determinism

    def template(self, text: str, plan: RunPlan) -> str:
        pairs = ((sys.executable, "{python}"), (str(plan.workspace), "{workspace}"),
                 (str(plan.home), "{home}"), (str(plan.workspace.parent), "{tmp}"),
                 (str(REPO_ROOT), "{repo}"))
        for real, stable in pairs:
            text = text.replace(real, stable)
        for pattern, stable in _VOLATILE:
            text = pattern.sub(stable, text)
        return text

    def context(self, scenario: Scenario) -> dict[str, str | None]:
        _, policy = APPROVAL_MODES[scenario.settings.approval_policy]
        cwd = scenario.settings.cwd.strip("/")
        return {
            "cwd": "{workspace}" if cwd in {"", "."} else f"{{workspace}}/{cwd}",
            "sandbox": SANDBOX_REALLY_USED,
            "approval_policy": policy,
            "auth_mode": "api_key",
            "model": MODEL,
            "runtime_version": self.version,
        }


def _release(version: str) -> tuple[int, ...]:
    return tuple(int(p) for p in version.partition("-")[0].split(".") if p.isdigit())


def session_id(scenario: Scenario) -> str:
    """A stable session UUID per scenario, so re-recording gives the same stream."""
    return str(uuid.uuid5(SESSION_NAMESPACE, scenario.name))


def session_of(stdout: bytes) -> str | None:
    """The session id from the `init` line (the id to `--resume`)."""
    for line in stdout.splitlines():
        try:
            data = json.loads(line)
        except ValueError:
            continue
        if isinstance(data, dict) and data.get("type") == "init":
            sid = data.get("session_id")
            return sid if isinstance(sid, str) else None
    return None


def settings(scenario: Scenario) -> dict[str, Any]:
    """`~/.gemini/settings.json` for an offline run of the scenario."""
    servers = {name: _mcp_server(spec.command) for name, spec
               in scenario.settings.mcp_servers.items()}
    data: dict[str, Any] = {
        "security": {"auth": {"selectedType": "gemini-api-key"},
                     "folderTrust": {"enabled": False}},
        "privacy": {"usageStatisticsEnabled": False},
        "telemetry": {"enabled": False},
        "general": {"maxAttempts": 1, "enableAutoUpdate": False,
                    "enableAutoUpdateNotification": False},
    }
    if servers:
        data["mcpServers"] = servers
    return data


def _mcp_server(command: list[str]) -> dict[str, Any]:
    """`{python}` is this interpreter; relative paths are relative to the repository root."""
    resolved = [sys.executable if part == "{python}" else part for part in command]
    resolved = [str(REPO_ROOT / p) if n and (REPO_ROOT / p).exists() else p
                for n, p in enumerate(resolved)]
    return {"command": resolved[0], "args": resolved[1:], "cwd": str(REPO_ROOT), "trust": True}


def write_settings(plan: RunPlan) -> None:
    folder = plan.home / ".gemini"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "settings.json").write_text(json.dumps(settings(plan.scenario), indent=2),
                                          encoding="utf-8")


DRIVER = GeminiDriver()
