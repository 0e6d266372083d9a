"""The Codex CLI driver: `codex exec --json` offline against the Responses stub, hermetically.

Recipe (shared/runtime-facts.md, Codex section): a temp `CODEX_HOME` and `HOME`; `config.toml`
with a custom provider pointing at the stub (`wire_api = "responses"`, retries 0 so failure
scenarios end at once), everything that goes online by itself switched off, a closed loopback
proxy as backstop; stdin from /dev/null; `-C`/`-s` per scenario; later runs are
`codex exec [flags] resume <thread_id> "prompt"` (flags before `resume`).

Choices made here on purpose:
- `/tmp` and `$TMPDIR` are not writable roots (`exclude_slash_tmp`, `exclude_tmpdir_env_var`):
  recordings happen under /tmp, and "outside the workspace" must really be outside the sandbox.
- `[tools.update_plan] enabled = true` always, so every scenario offers the same tool set.
- The provider's key comes from OpenAI auth (`requires_openai_auth`), as a user's setup does, so
  the auth scenarios show which source Codex really reads (`CODEX_API_KEY`, `OPENAI_API_KEY`,
  `codex login --with-api-key`).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.record.providers.responses import MODEL, ResponsesResponder
from harness.record.runtimes.base import REPO_ROOT, RUNTIMES_DIR, RunOutput, RunPlan
from harness.record.runtimes.codex_plugins import run_plugin_steps
from harness.record.stub import Responder
from harness.scenario import Scenario

DUMMY_KEY = "dummy-key-for-stub"
TIMEOUT_SECONDS = 120
CLOSED_PROXY = "http://127.0.0.1:9"
"""Discard port on loopback: nothing listens, so anything that ignores NO_PROXY fails fast."""

SANDBOX_FLAGS: dict[str, str] = {
    "read-only": "read-only",
    "workspace-write": "workspace-write",
    "full-access": "danger-full-access",
}
"""Scenario sandbox -> `codex exec -s` value."""

KEY_VARIABLES: dict[str, str | None] = {
    "env": "CODEX_API_KEY",
    "alt_env": "OPENAI_API_KEY",
    "login": None,
}
"""Scenario auth mode -> the variable the key is put in (`login`: stored by `codex login`)."""

_UUID = re.compile(r"(?<![0-9a-f])[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
                   r"(?![0-9a-f])")
_VOLATILE: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"Wall time: [0-9.]+ seconds"), "Wall time: 0.0000 seconds"),
    (re.compile(r"Chunk ID: [0-9a-f]+"), "Chunk ID: 000000"),
    (re.compile(r'"duration_ms":\s*\d+'), '"duration_ms":0'),
    (re.compile(r'(turn_started_at_unix_ms\\?":)\d+'), r"\g<1>0"),
    (re.compile(r'(latest_git_commit_hash\\?":\\?")[0-9a-f]{40}'), r"\g<1>{seed_commit}"),
    (re.compile(r"<current_date>[^<]*</current_date>"), "<current_date>{date}</current_date>"),
    (re.compile(r"<timezone>[^<]*</timezone>"), "<timezone>{timezone}</timezone>"),
)
"""Values that change run to run with nothing scripted about them: timings, random chunk ids,
the date and time zone Codex puts in its environment context."""

_METADATA_BLOCK = re.compile(
    r'^(?P<indent>[ \t]*)"client_metadata": \{\n(?P<body>(?:(?P=indent)[ \t]+"[^"\n]*": '
    r'"(?:[^"\\\n]|\\.)*",?\n)+)(?P=indent)\}', re.MULTILINE)
"""A pretty-printed `client_metadata` object in a cassette: Codex fills it from a hash map, so
its key order changes run to run (one string value per line, which makes sorting safe)."""


def codex_home(plan: RunPlan) -> Path:
    return plan.home / ".codex"


def _toml(value: str) -> str:
    return json.dumps(value)  # a JSON string is a valid TOML basic string


def mcp_command(command: list[str]) -> list[str]:
    """A scenario MCP command with `{python}` and repo-relative paths made absolute."""
    out = [sys.executable if part == "{python}" else part for part in command]
    return [str(REPO_ROOT / part) if (REPO_ROOT / part).is_file() else part for part in out]


def config_toml(scenario: Scenario, stub_url: str) -> str:
    """The hermetic `config.toml` for a scenario (see the module docstring)."""
    lines = [
        f"model = {_toml(MODEL)}",
        'model_provider = "stub"',
        "check_for_update_on_startup = false",
        "",
        "[model_providers.stub]",
        'name = "stub"',
        f"base_url = {_toml(stub_url + '/v1')}",
        'wire_api = "responses"',
        "requires_openai_auth = true",
        "request_max_retries = 0",
        "stream_max_retries = 0",
        "",
        "[features]",
        f"plugins = {'true' if scenario.uses_plugins else 'false'}",  # on: plugin scenarios
        "remote_plugin = false",
        "apps = false",
        "tool_suggest = false",
        "",
        "[analytics]",
        "enabled = false",
        "",
        "[sandbox_workspace_write]",
        "exclude_slash_tmp = true",
        "exclude_tmpdir_env_var = true",
        "",
        "[tools.update_plan]",
        "enabled = true",
    ]
    for name, server in sorted(scenario.settings.mcp_servers.items()):
        command = mcp_command(server.command)
        lines += ["", f"[mcp_servers.{name}]", f"command = {_toml(command[0])}",
                  f"args = [{', '.join(_toml(a) for a in command[1:])}]",
                  'default_tools_approval_mode = "approve"']
    return "\n".join(lines) + "\n"


def protocol_schema(binary: Path) -> dict[str, Any]:
    """What this Codex binary prints about its app-server protocol (`app-server
    generate-json-schema`, offline, in a throwaway home); drift compares two versions' schemas."""
    with tempfile.TemporaryDirectory(prefix="codex-schema-") as tmp:
        out = Path(tmp) / "out"
        env = {"PATH": os.environ.get("PATH", ""), "HOME": tmp, "CODEX_HOME": tmp}
        subprocess.run([str(binary), "app-server", "generate-json-schema", "--out", str(out)],
                       env=env, check=True, capture_output=True, timeout=120)
        schema: dict[str, Any] = json.loads(
            (out / "codex_app_server_protocol.schemas.json").read_text(encoding="utf-8"))
    return schema


@dataclass
class CodexDriver:
    """RuntimeDriver for `@openai/codex` (see the module docstring)."""

    name: str = "codex"
    npm_package: str = "@openai/codex"
    version: str = "0.171.0"
    native_lane: str = "codex-native"
    native_file: str = "codex-native.jsonl"
    shape_tags: tuple[str, ...] = ("type",)
    key: str = DUMMY_KEY
    _ids: dict[str, dict[str, str]] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def binary(self) -> Path:
        return RUNTIMES_DIR / self.name / "node_modules" / ".bin" / "codex"

    def responder(self, scenario: Scenario) -> Responder:
        return ResponsesResponder(scenario, expected_key=self.key)

    def protocol_schema(self) -> dict[str, Any]:
        return protocol_schema(self.binary())

    # ---------------------------------------------------------------- running

    def environment(self, plan: RunPlan) -> dict[str, str]:
        """A minimal environment: nothing from the user's shell leaks in but PATH."""
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(plan.home),
            "CODEX_HOME": str(codex_home(plan)),
            "LANG": "C.UTF-8",
            "TERM": "dumb",
            "NO_COLOR": "1",
            "TMPDIR": str(plan.home / "tmp"),
            "HTTP_PROXY": CLOSED_PROXY,
            "HTTPS_PROXY": CLOSED_PROXY,
            "ALL_PROXY": CLOSED_PROXY,
            "http_proxy": CLOSED_PROXY,
            "https_proxy": CLOSED_PROXY,
            "NO_PROXY": "127.0.0.1,localhost",
            "no_proxy": "127.0.0.1,localhost",
        }
        variable = KEY_VARIABLES[plan.scenario.settings.auth]
        if variable is not None:
            env[variable] = plan.api_key or self.key
        return env

    def prepare(self, plan: RunPlan) -> None:
        """First run only: CODEX_HOME with config.toml, and `codex login` for the login mode."""
        home = codex_home(plan)
        home.mkdir(parents=True, exist_ok=True)
        (plan.home / "tmp").mkdir(exist_ok=True)
        (home / "config.toml").write_text(config_toml(plan.scenario, plan.stub_url),
                                          encoding="utf-8")
        if plan.scenario.settings.auth == "login":
            subprocess.run([str(self.binary()), "login", "--with-api-key"],
                           input=(plan.api_key or self.key) + "\n", text=True,
                           env=self.environment(plan), cwd=plan.workspace,
                           capture_output=True, timeout=TIMEOUT_SECONDS, check=False)

    def arguments(self, plan: RunPlan) -> list[str]:
        settings = plan.scenario.settings
        args = [str(self.binary()), "exec", "--json", "--skip-git-repo-check",
                "-C", str(plan.workspace / settings.cwd)]
        if settings.reviewer is not None:
            args.append("--approve-for-me")  # implies workspace-write; `-s` is refused with it
        else:
            args += ["-s", SANDBOX_FLAGS[settings.sandbox]]
        if settings.approval_policy not in {"never", "unknown"}:
            args += ["-c", f"approval_policy={_toml(settings.approval_policy)}"]
        args += settings.extra_args.get(self.name, [])
        if plan.thread_id is not None:
            args += ["resume", plan.thread_id]
        return [*args, plan.scenario.runs[plan.run_index].prompt]

    def run(self, plan: RunPlan) -> RunOutput:
        if plan.run_index == 0:
            self.prepare(plan)
        setup = run_plugin_steps(self.binary(), plan, self.environment(plan))
        args = self.arguments(plan)
        out_path = plan.home / f"stdout-{plan.run_index}.jsonl"
        with out_path.open("wb") as out:  # a file, not a pipe: long last lines are not lost
            try:
                done = subprocess.run(args, stdin=subprocess.DEVNULL, stdout=out,
                                      stderr=subprocess.PIPE, env=self.environment(plan),
                                      cwd=plan.workspace / plan.scenario.settings.cwd,
                                      timeout=TIMEOUT_SECONDS, check=False)
                code, stderr = done.returncode, done.stderr
            except subprocess.TimeoutExpired as exc:
                code, stderr = -9, (exc.stderr or b"") + b"\n[harness: timed out]"
        stdout = out_path.read_bytes()
        return RunOutput(args=[a if a != str(self.binary()) else "codex" for a in args],
                         stdout=stdout, stderr=stderr, exit_code=code,
                         thread_id=thread_id_of(stdout), setup=setup)

    # ---------------------------------------------------------------- determinism

    def template(self, text: str, plan: RunPlan) -> str:
        text = _METADATA_BLOCK.sub(_sorted_block, text)
        root = plan.workspace.parent
        for real, name in ((plan.workspace, "{workspace}"), (plan.home, "{home}"),
                           (root, "{root}")):
            text = text.replace(str(real), name)
        text = text.replace(plan.stub_url, "http://127.0.0.1:{port}")
        for pattern, stable in _VOLATILE:
            text = pattern.sub(stable, text)
        return self._stable_ids(text, str(plan.workspace))

    def _stable_ids(self, text: str, key: str) -> str:
        """Random UUIDs (thread, session, request ids) -> placeholders numbered by first sight,
        shared by every file of one recording so references stay consistent."""
        with self._lock:
            mapping = self._ids.setdefault(key, {})

            def stable(match: re.Match[str]) -> str:
                value = match.group(0)
                if value not in mapping:
                    mapping[value] = f"00000000-0000-4000-8000-{len(mapping) + 1:012d}"
                return mapping[value]

            return _UUID.sub(stable, text)

    def context(self, scenario: Scenario) -> dict[str, str | None]:
        """What the run really had: exec forces approval `never` whatever was asked, except
        that `--approve-for-me` routes requests to the reviewer (`on-request`) in a
        workspace-write sandbox; `untrusted` is refused at startup, so nothing ran at all."""
        settings = scenario.settings
        cwd = "{workspace}" if settings.cwd in {"", "."} else \
            f"{{workspace}}/{settings.cwd.strip('/')}"
        approval = "on-request" if settings.reviewer is not None else "never"
        if settings.approval_policy == "untrusted":
            approval = "unknown"
        return {
            "cwd": cwd,
            "sandbox": "workspace-write" if settings.reviewer is not None else settings.sandbox,
            "approval_policy": approval,
            "auth_mode": "api_key",
            "model": MODEL,
            "runtime_version": self.version,
        }


def _sorted_block(match: re.Match[str]) -> str:
    """The `client_metadata` block with its lines in key order (commas re-placed)."""
    lines = sorted(line.rstrip(",") for line in match.group("body").splitlines())
    indent = match.group("indent")
    body = ",\n".join(lines)
    return f'{indent}"client_metadata": {{\n{body}\n{indent}}}'


def thread_id_of(stdout: bytes) -> str | None:
    """The thread id from the first `thread.started` line."""
    for line in stdout.splitlines():
        try:
            event = json.loads(line)
        except ValueError:
            continue
        if isinstance(event, dict) and event.get("type") == "thread.started":
            value = event.get("thread_id")
            return value if isinstance(value, str) else None
    return None


DRIVER = CodexDriver()
