"""Claude Code driver: `claude -p --output-format stream-json --verbose` offline against the stub.

Hermetic recipe (see shared runtime facts): temp HOME, `ANTHROPIC_BASE_URL` at the stub, a dummy
key, nonessential traffic and telemetry off, one retry so error scenarios are quick, stdin from
/dev/null, a closed loopback proxy as backstop. How scenario settings become Claude Code flags:

- approval policy `never` -> `--permission-mode acceptEdits` plus `--allowedTools` for the tools
  the scenario uses (Bash, WebSearch, each MCP server): nothing is asked, edits are accepted.
- `on-request` / `on-failure` / `untrusted` -> `--permission-mode default` with nothing allowed:
  headless Claude Code cannot ask anyone, so a tool needing permission is denied.
- sandbox `full-access` -> `--permission-mode bypassPermissions` (`IS_SANDBOX=1`: the harness may
  run as root, where Claude Code otherwise refuses the mode). Claude Code's own sandbox needs
  bubblewrap, which this Linux lacks, so commands are never OS-confined: context says so.
- auth `env` -> `ANTHROPIC_API_KEY` (sent as `x-api-key`); `alt_env` -> `ANTHROPIC_AUTH_TOKEN`
  (sent as `Authorization: Bearer`); `login` has no Claude Code equivalent (scenario marks it).
- plan scenarios use `--model claude-sonnet-4-6` with `CLAUDE_CODE_ENABLE_TASKS=false`: the
  default model gets no TodoWrite tool in 2.1.328 and 2.1.332.
- later runs: `--resume <session_id>` (Claude Code keeps the id).
- client decisions (a scenario whose calls carry `client:`): the harness plays the client of
  `--input-format stream-json --permission-prompt-tool stdio` (shared runtime facts, "Approvals
  decided by a client"): `initialize`, the prompt as a `user` line, each `can_use_tool` answered
  with the next scripted decision (`permission_answer`), stdin closed after `result`. The
  recording keeps both directions in the order they passed: stdout lines as read, the client's
  lines as written (the claude-code lane reads both). Permission mode `default`: every
  non-read-only tool asks.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shlex
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

from harness.contract.errors import HarnessError
from harness.record.cassette import STUB_URL
from harness.record.providers.anthropic import DUMMY_API_KEY, AnthropicResponder
from harness.record.runtimes.base import REPO_ROOT, RUNTIMES_DIR, RunOutput, RunPlan
from harness.record.stub import Responder
from harness.scenario import (
    ClientDecision,
    FailStep,
    PlanBlock,
    Scenario,
    ShellBlock,
    WebSearchBlock,
)

DEFAULT_MODEL = "claude-opus-5-5"
"""What Claude Code (2.1.328, 2.1.332) uses without `--model`."""
PLAN_MODEL = "claude-sonnet-4-6"
RUN_TIMEOUT_S = 180
CLOSED_PROXY = "http://127.0.0.1:9"

_UUID = re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b")
_SHA256 = re.compile(r"\b[0-9a-f]{64}\b")
_TIMING = re.compile(
    r'("(?:[A-Za-z_]*_ms|durationMs|total_cost_usd|costUSD)"\s*:\s*)-?[0-9][0-9.e+-]*')
_TIMESTAMP = re.compile(r'("timestamp"\s*:\s*)"[0-9T:.\-]+Z"')
_SOCKET = re.compile(r"/tmp/cc-socks/\d+\.sock")
_SEED_COMMIT = re.compile(r"(?<![0-9a-f])[0-9a-f]{7,40}(?= seed\b)")
"""The workspace's seed commit (its hash changes with the commit time) in Claude's gitStatus."""
_TOOL_RESULT_FILE = re.compile(r"(?<=tool-results/)[A-Za-z0-9]{6,16}(?=\.txt\b)")
"""The random name of the file Claude Code saves a too-large tool output in (`<persisted-output>`
names it to the model); numbered by first sight like UUIDs, so re-recording gives no diff."""


class ClaudeRunError(HarnessError):
    """Claude Code could not be started or did not finish in time."""


def _uses(scenario: Scenario, kind: type) -> bool:
    return any(isinstance(b, kind) for run in scenario.runs for step in run.steps
               if not isinstance(step, FailStep) for b in step)


def client_mode(scenario: Scenario) -> bool:
    """True when a client decides the scenario's approvals (some call carries `client:`)."""
    return any(scenario.client_decisions(index) for index in range(len(scenario.runs)))


DEFAULT_DENIAL = "The user denied this."
"""What a scripted deny without a message tells the model."""
DEFAULT_CANCEL = "The user cancelled."
"""What a scripted cancel without a message says (Claude Code tells the model its own text)."""


def _session_rules(request: dict[str, Any]) -> list[dict[str, Any]]:
    """A grant for this session from the request's own `permission_suggestions`: its rules
    (the exact command; Claude Code proposes them for `localSettings`) moved to `session`;
    without rules (an edit), the suggestions already scoped to the session (`setMode
    acceptEdits`)."""
    suggestions = [s for s in request.get("permission_suggestions") or []
                   if isinstance(s, dict)]
    rules = [{**s, "destination": "session"} for s in suggestions if s.get("type") == "addRules"]
    return rules or [s for s in suggestions if s.get("destination") == "session"]


def permission_answer(client: ClientDecision, request: dict[str, Any]) -> dict[str, Any]:
    """A scripted decision as the `can_use_tool` answer: approve -> allow (input unchanged),
    approve_for_session -> allow with session rules, deny -> deny with the scripted message,
    cancel -> deny with `interrupt` (the turn ends). An exec-policy amendment becomes a
    prefix rule (`<prefix>:*`) kept in the user's settings, as Codex keeps it in its rules
    file (both outlive the session)."""
    tool_input = request.get("input") if isinstance(request.get("input"), dict) else {}
    if client.decision == "approve":
        return {"behavior": "allow", "updatedInput": tool_input}
    if client.decision == "approve_for_session":
        return {"behavior": "allow", "updatedInput": tool_input,
                "updatedPermissions": _session_rules(request)}
    if client.decision == "approve_with_amendment":
        prefix = " ".join(client.amendment or [])
        rules = [{"type": "addRules", "rules": [{"toolName": str(request.get("tool_name")),
                                                 "ruleContent": f"{prefix}:*"}],
                  "behavior": "allow", "destination": "userSettings"}] if prefix \
            else _session_rules(request)
        return {"behavior": "allow", "updatedInput": tool_input, "updatedPermissions": rules}
    if client.decision == "cancel":
        return {"behavior": "deny", "message": client.message or DEFAULT_CANCEL,
                "interrupt": True}
    return {"behavior": "deny", "message": client.message or DEFAULT_DENIAL}


APPROVER_TOOL = "mcp__approver__decide"
"""The permission-prompt tool of `approval_channel: mcp_tool` runs: the fixture
cassettes/_fixtures/mcp_approver.py started as MCP server `approver`."""
APPROVER_SERVER = ["{python}", "cassettes/_fixtures/mcp_approver.py"]


def mcp_tool_channel(scenario: Scenario) -> bool:
    """A client decides, through an MCP tool Claude Code calls per prompt (not over stdin)."""
    return client_mode(scenario) and scenario.settings.approval_channel == "mcp_tool"


def _permission_mode(scenario: Scenario) -> str:
    if client_mode(scenario):
        return "default"
    if scenario.settings.sandbox == "full-access":
        return "bypassPermissions"
    return "acceptEdits" if scenario.settings.approval_policy == "never" else "default"


def _allowed_tools(scenario: Scenario) -> list[str]:
    """Tools allowed without asking under `acceptEdits` (edits are accepted by the mode)."""
    if _permission_mode(scenario) != "acceptEdits":
        return []
    tools = ["Bash"] if _uses(scenario, ShellBlock) else []
    if _uses(scenario, WebSearchBlock):
        tools.append("WebSearch")
    tools += [f"mcp__{name}" for name in scenario.settings.mcp_servers]
    return tools


def _model(scenario: Scenario) -> str:
    return PLAN_MODEL if _uses(scenario, PlanBlock) else DEFAULT_MODEL


def _server_command(parts: list[str]) -> list[str]:
    """`{python}` -> this interpreter; repository-relative paths -> absolute."""
    out: list[str] = []
    for part in parts:
        if part == "{python}":
            out.append(sys.executable)
        elif not part.startswith("-") and (REPO_ROOT / part).exists():
            out.append(str(REPO_ROOT / part))
        else:
            out.append(part)
    return out


@dataclass
class ClaudeDriver:
    """The Claude Code runtime driver (see module docstring)."""

    name: str = "claude"
    npm_package: str = "@anthropic-ai/claude-code"
    version: str = "2.1.332"
    native_lane: str = "claude-code"
    native_file: str = "claude-code.jsonl"
    shape_tags: tuple[str, ...] = ("type", "subtype")
    _ids: dict[str, dict[str, str]] = field(default_factory=dict, repr=False)

    def binary(self) -> Path:
        return RUNTIMES_DIR / self.name / "node_modules" / ".bin" / "claude"

    def responder(self, scenario: Scenario) -> Responder:
        header = "authorization" if scenario.settings.auth == "alt_env" else "x-api-key"
        return AnthropicResponder(scenario, DUMMY_API_KEY, key_header=header)

    # ---------------------------------------------------------------- running

    def args(self, plan: RunPlan) -> list[str]:
        scenario = plan.scenario
        if mcp_tool_channel(scenario):
            args = [str(self.binary()), "-p", scenario.runs[plan.run_index].prompt,
                    "--output-format", "stream-json", "--verbose",
                    "--permission-mode", _permission_mode(scenario),
                    "--permission-prompt-tool", APPROVER_TOOL]
        elif client_mode(scenario):
            args = [str(self.binary()), "-p", "--input-format", "stream-json",
                    "--output-format", "stream-json", "--verbose",
                    "--permission-mode", _permission_mode(scenario),
                    "--permission-prompt-tool", "stdio"]
        else:
            args = [str(self.binary()), "-p", scenario.runs[plan.run_index].prompt,
                    "--output-format", "stream-json", "--verbose",
                    "--permission-mode", _permission_mode(scenario)]
        if _uses(scenario, PlanBlock):
            args += ["--model", PLAN_MODEL]
        allowed = _allowed_tools(scenario)
        if allowed:
            args += ["--allowedTools", ",".join(allowed)]
        if scenario.settings.mcp_servers or mcp_tool_channel(scenario):
            args += ["--mcp-config", str(self._mcp_config(plan)), "--strict-mcp-config"]
        if plan.thread_id is not None:
            args += ["--resume", plan.thread_id]
        return args + list(scenario.settings.extra_args.get(self.name, []))

    def environment(self, plan: RunPlan) -> dict[str, str]:
        key = plan.api_key or DUMMY_API_KEY
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(plan.home),
            "LANG": "C.UTF-8",
            "ANTHROPIC_BASE_URL": plan.stub_url,
            "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
            "DISABLE_TELEMETRY": "1",
            "DISABLE_AUTOUPDATER": "1",
            "CLAUDE_CODE_MAX_RETRIES": "1",
            "CLAUDE_CODE_ENABLE_TASKS": "false",
            "IS_SANDBOX": "1",
            "HTTP_PROXY": CLOSED_PROXY, "HTTPS_PROXY": CLOSED_PROXY, "ALL_PROXY": CLOSED_PROXY,
            "NO_PROXY": "127.0.0.1,localhost",
        }
        variable = ("ANTHROPIC_AUTH_TOKEN" if plan.scenario.settings.auth == "alt_env"
                    else "ANTHROPIC_API_KEY")
        env[variable] = key
        return env

    def _mcp_config(self, plan: RunPlan) -> Path:
        servers = {name: {"type": "stdio", "command": cmd[0], "args": cmd[1:]}
                   for name, spec in plan.scenario.settings.mcp_servers.items()
                   for cmd in [_server_command(spec.command)]}
        if mcp_tool_channel(plan.scenario):
            script = [c.model_dump(exclude_none=True)
                      for c in plan.scenario.client_decisions(plan.run_index)]
            cmd = _server_command([*APPROVER_SERVER, json.dumps(script)])
            servers["approver"] = {"type": "stdio", "command": cmd[0], "args": cmd[1:]}
        path = plan.home / "mcp.json"
        path.write_text(json.dumps({"mcpServers": servers}, indent=2), encoding="utf-8")
        return path

    def run(self, plan: RunPlan) -> RunOutput:
        if client_mode(plan.scenario) and not mcp_tool_channel(plan.scenario):
            return self._run_as_client(plan)
        args = self.args(plan)
        cwd = plan.workspace / plan.scenario.settings.cwd
        try:
            done = subprocess.run(args, cwd=cwd, env=self.environment(plan),
                                  stdin=subprocess.DEVNULL, capture_output=True,
                                  timeout=RUN_TIMEOUT_S, check=False)
        except subprocess.TimeoutExpired as exc:
            raise ClaudeRunError(f"claude did not finish within {RUN_TIMEOUT_S}s",
                                 source=shlex.join(args[:3])) from exc
        except OSError as exc:
            raise ClaudeRunError(f"cannot start claude: {exc.strerror}",
                                 source=args[0]) from None
        return RunOutput(args=args, stdout=done.stdout, stderr=done.stderr,
                         exit_code=done.returncode, thread_id=session_id(done.stdout))

    def _run_as_client(self, plan: RunPlan) -> RunOutput:
        """One run with the harness as the stream-json client (see module docstring)."""
        args = self.args(plan)
        cwd = plan.workspace / plan.scenario.settings.cwd
        try:
            proc = subprocess.Popen(args, cwd=cwd, env=self.environment(plan),
                                    stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE)
        except OSError as exc:
            raise ClaudeRunError(f"cannot start claude: {exc.strerror}",
                                 source=args[0]) from None
        client = _Client(proc, plan.scenario.client_decisions(plan.run_index))
        timed_out = threading.Event()

        def stop() -> None:
            timed_out.set()
            proc.kill()

        timer = threading.Timer(RUN_TIMEOUT_S, stop)
        timer.start()
        try:
            client.converse(plan.scenario.runs[plan.run_index].prompt)
            code = proc.wait()
        finally:
            timer.cancel()
        if timed_out.is_set():
            raise ClaudeRunError(f"claude did not finish within {RUN_TIMEOUT_S}s",
                                 source=shlex.join(args[:3]))
        stdout = "".join(line + "\n" for line in client.lines).encode()
        return RunOutput(args=args, stdout=stdout, stderr=client.stderr(),
                         exit_code=code, thread_id=session_id(stdout))

    # ---------------------------------------------------------------- determinism

    def template(self, text: str, plan: RunPlan) -> str:
        """Temp paths -> `{workspace}`/`{home}`/`{tmp}`; UUIDs numbered by first sight within
        one recording; timings, costs, timestamps, sockets and device hashes fixed; the stub's
        random port becomes the fixed one HTTP cassettes use."""
        root = plan.workspace.parent
        for path, token in ((plan.workspace, "{workspace}"), (plan.home, "{home}"),
                            (root, "{tmp}"), (REPO_ROOT, "{repo}")):
            text = text.replace(str(path), token)
            text = text.replace(str(path).replace("/", "-"), token.replace("{", "{-"))
        ids = self._ids.setdefault(str(root), {})

        def number(match: re.Match[str]) -> str:
            return ids.setdefault(match.group(0),
                                  f"00000000-0000-4000-8000-{len(ids) + 1:012d}")

        text = _UUID.sub(number, text)
        files = self._ids.setdefault(f"{root}#tool-results", {})
        text = _TOOL_RESULT_FILE.sub(
            lambda m: files.setdefault(m.group(0), f"result-{len(files) + 1}"), text)
        text = _SHA256.sub("{sha256}", text)
        text = _TIMING.sub(lambda m: m.group(1) + "0", text)
        text = _TIMESTAMP.sub(lambda m: m.group(1) + '"{timestamp}"', text)
        text = _SOCKET.sub("{socket}", text)
        text = _SEED_COMMIT.sub("{seed_commit}", text)
        stub = urlsplit(plan.stub_url).netloc
        return text.replace(stub, urlsplit(STUB_URL).netloc) if stub else text

    def context(self, scenario: Scenario) -> dict[str, str | None]:
        """The run as Claude Code really had it (see module docstring for the mapping)."""
        mode = _permission_mode(scenario)
        approval = "never" if mode in {"acceptEdits", "bypassPermissions"} \
            else scenario.settings.approval_policy
        cwd = "{workspace}" if scenario.settings.cwd in {".", ""} \
            else f"{{workspace}}/{scenario.settings.cwd.strip('/')}"
        return {"cwd": cwd, "sandbox": "full-access", "approval_policy": approval,
                "auth_mode": "api_key", "model": _model(scenario),
                "runtime_version": self.version}


class _Client:
    """The stream-json client of one Claude Code process: sends `initialize` and the prompt,
    answers each permission prompt with the next scripted decision, closes stdin after
    `result`, and keeps every line of both directions in order. A prompt with no scripted
    answer left is denied and a scripted answer never asked for is reported, both on stderr
    (the outline's `approvals` is what holds a recording to its script)."""

    def __init__(self, proc: subprocess.Popen[bytes], decisions: list[ClientDecision]) -> None:
        self.proc = proc
        self.decisions = list(decisions)
        self.lines: list[str] = []
        self.problems: list[str] = []
        self.finished = False
        self._stderr: list[bytes] = []
        assert proc.stderr is not None
        self._err_thread = threading.Thread(target=self._drain, args=(proc.stderr,),
                                            daemon=True)
        self._err_thread.start()

    def _drain(self, stream: IO[bytes]) -> None:
        self._stderr.append(stream.read())

    def send(self, message: dict[str, Any]) -> None:
        line = json.dumps(message)
        self.lines.append(line)
        assert self.proc.stdin is not None
        try:
            self.proc.stdin.write(line.encode() + b"\n")
            self.proc.stdin.flush()
        except OSError as exc:
            self.problems.append(f"cannot write to claude: {exc.strerror}")

    def close(self) -> None:
        assert self.proc.stdin is not None
        with contextlib.suppress(OSError):
            self.proc.stdin.close()

    def converse(self, prompt: str) -> None:
        self.send({"type": "control_request", "request_id": "req_init_1",
                   "request": {"subtype": "initialize"}})
        self.send({"type": "user", "message": {"role": "user", "content": prompt},
                   "parent_tool_use_id": None, "session_id": ""})
        assert self.proc.stdout is not None
        for raw in self.proc.stdout:
            line = raw.decode("utf-8", errors="replace").rstrip("\n")
            self.lines.append(line)
            self._answer(line)
        self.close()
        self.problems += [f"scripted decision {d.decision!r} was never asked for"
                          for d in self.decisions]

    def _answer(self, line: str) -> None:
        try:
            data = json.loads(line)
        except ValueError:
            return
        if not isinstance(data, dict):
            return
        if data.get("type") == "result":
            self.finished = True
            self.close()
            return
        request = data.get("request")
        if data.get("type") != "control_request" or not isinstance(request, dict) \
                or request.get("subtype") != "can_use_tool":
            return
        if self.decisions:
            answer = permission_answer(self.decisions.pop(0), request)
        else:
            self.problems.append(f"unscripted permission prompt for {request.get('tool_name')}:"
                                 " denied")
            answer = {"behavior": "deny", "message": DEFAULT_DENIAL}
        self.send({"type": "control_response", "response": {
            "subtype": "success", "request_id": data.get("request_id"), "response": answer}})

    def stderr(self) -> bytes:
        self._err_thread.join(timeout=5)
        text = b"".join(self._stderr)
        if self.problems:
            text += ("\n".join(f"[harness: {p}]" for p in self.problems) + "\n").encode()
        return text


def session_id(stdout: bytes) -> str | None:
    """The session id from the `system/init` line (the id `--resume` takes)."""
    for raw in stdout.splitlines():
        try:
            line = json.loads(raw)
        except ValueError:
            continue
        if isinstance(line, dict) and line.get("type") == "system" \
                and isinstance(line.get("session_id"), str):
            return str(line["session_id"])
    return None


DRIVER = ClaudeDriver()
