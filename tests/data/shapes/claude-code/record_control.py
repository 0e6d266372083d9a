"""Record Claude Code sessions whose permission prompts a client answers (the fixtures
`control_*.jsonl` here): `claude -p --input-format stream-json --output-format stream-json
--verbose --permission-prompt-tool stdio`, offline against a scripted Anthropic stub on
127.0.0.1. This script plays the client: it sends `initialize` and the prompt, answers each
`can_use_tool` request as the session's plan says, and writes every line of both directions in
the order they passed (client lines as it wrote them, stdout lines as it read them), templated
like the catalog's recordings.

Run: `python tests/data/shapes/claude-code/record_control.py [session ...]` (from the repo root).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from harness.record.providers.anthropic import (
    DUMMY_API_KEY,
    JSON_HEADERS,
    SSE_HEADERS,
    WireMessage,
    encode_message,
    encode_whole,
    working_directory,
)
from harness.record.runtimes.base import RunPlan
from harness.record.runtimes.claude import CLOSED_PROXY, DRIVER
from harness.record.stub import StubReply, StubRequest, StubServer

HERE = Path(__file__).resolve().parent
PROMPT = "Work in this folder as scripted (control protocol recording)."
SECOND_PROMPT = "And once more, please."
SESSION_RULE = [{"type": "addRules", "rules": [{"toolName": "Bash", "ruleContent": "touch:*"}],
                 "behavior": "allow", "destination": "session"}]

Answer = Callable[[dict[str, Any]], dict[str, Any] | None]
"""What the client answers to a prompt; None: it sends an `interrupt` request instead."""
Script = Callable[[str], list[tuple[dict[str, Any], ...]]]


def bash(tid: str, command: str, description: str) -> dict[str, Any]:
    return {"type": "tool_use", "id": tid, "name": "Bash",
            "input": {"command": command, "description": description}}


def text(value: str) -> dict[str, Any]:
    return {"type": "text", "text": value}


def allow(request: dict[str, Any]) -> dict[str, Any]:
    return {"behavior": "allow", "updatedInput": request["input"]}


def allow_for_session(request: dict[str, Any]) -> dict[str, Any]:
    return {"behavior": "allow", "updatedInput": request["input"],
            "updatedPermissions": SESSION_RULE}


def allow_suggested(request: dict[str, Any]) -> dict[str, Any]:
    return {"behavior": "allow", "updatedInput": request["input"],
            "updatedPermissions": request.get("permission_suggestions") or []}


def allow_changed(request: dict[str, Any]) -> dict[str, Any]:
    """Allow, but run another command than the one asked (the client edits the input)."""
    return {"behavior": "allow",
            "updatedInput": {**request["input"], "command": "touch edited.txt"}}


def deny(message: str) -> Answer:
    return lambda _request: {"behavior": "deny", "message": message}


def interrupt(message: str) -> Answer:
    return lambda _request: {"behavior": "deny", "message": message, "interrupt": True}


def client_interrupt(_request: dict[str, Any]) -> None:
    return None


SESSIONS: dict[str, tuple[Script, list[Answer], list[str]]] = {
    # allow a Bash command, deny a Write with a message, the model answers
    "control_allow_deny": (lambda cwd: [
        (text("I'll create the file first."),
         bash("toolu_ctl_a0", "touch made.txt", "Create made.txt")),
        ({"type": "tool_use", "id": "toolu_ctl_a1", "name": "Write",
          "input": {"file_path": f"{cwd}/notes.txt", "content": "hello\n"}},),
        (text("made.txt exists; notes.txt was not written because you declined it."),),
    ], [allow, deny("Not this file, please.")], [PROMPT]),
    # allow with a session rule `Bash(touch:*)`: the second touch is not asked
    "control_session_rule": (lambda cwd: [
        (bash("toolu_ctl_s0", "touch first.txt", "Create first.txt"),),
        (bash("toolu_ctl_s1", "touch second.txt", "Create second.txt"),),
        (text("Both files are there."),),
    ], [allow_for_session, allow], [PROMPT]),
    # allow with every suggestion Claude Code offered (a local rule, a directory, mode
    # acceptEdits for the session): a system/status line reports the new mode
    "control_suggestions": (lambda cwd: [
        (bash("toolu_ctl_g0", "touch first.txt", "Create first.txt"),),
        (bash("toolu_ctl_g1", "touch second.txt", "Create second.txt"),),
        (text("Both files are there."),),
    ], [allow_suggested, allow], [PROMPT]),
    # two prompts in one stdin session, a Bash call allowed in each
    "control_two_prompts": (lambda cwd: [
        (bash("toolu_ctl_t0", "touch one.txt", "Create one.txt"),),
        (text("Made one.txt."),),
        (bash("toolu_ctl_t1", "rm one.txt", "Remove one.txt"),),
        (text("Removed it again."),),
    ], [allow, allow], [PROMPT, SECOND_PROMPT]),
    # the user interrupts at the first prompt: the run ends
    "control_interrupt": (lambda cwd: [
        (bash("toolu_ctl_i0", "touch stopped.txt", "Create stopped.txt"),),
        (text("never sent"),),
    ], [interrupt("Stopped by the user.")], [PROMPT]),
    # the client sends `interrupt` instead of answering the prompt
    "control_client_interrupt": (lambda cwd: [
        (bash("toolu_ctl_c0", "touch later.txt", "Create later.txt"),),
        (text("never sent"),),
    ], [client_interrupt], [PROMPT]),
    # a PreToolUse hook the client answers (allow): the command is not prompted
    "control_hook": (lambda cwd: [
        (bash("toolu_ctl_h0", "touch hooked.txt", "Create hooked.txt"),),
        (text("Created hooked.txt."),),
    ], [allow], [PROMPT]),
    # allow with an edited input: another command runs than the model asked for
    "control_updated_input": (lambda cwd: [
        (bash("toolu_ctl_u0", "touch asked.txt", "Create asked.txt"),),
        (text("Done."),),
    ], [allow_changed], [PROMPT]),
    # an in-process (SDK) MCP server the client serves over `mcp_message` requests
    "control_sdk_mcp": (lambda cwd: [
        ({"type": "tool_use", "id": "toolu_ctl_m0", "name": "ToolSearch",
          "input": {"query": "select:mcp__calc__add", "max_results": 1}},),
        ({"type": "tool_use", "id": "toolu_ctl_m1", "name": "mcp__calc__add",
          "input": {"a": 2, "b": 3}},),
        (text("2 + 3 = 5."),),
    ], [allow], [PROMPT]),
    # --include-partial-messages: stream_event lines before each assistant line
    "partial_messages": (lambda cwd: [
        (text("Listing the folder."), bash("toolu_ctl_p0", "ls", "List files")),
        (text("The folder is empty."),),
    ], [allow], [PROMPT]),
}
EXTRA_ARGS: dict[str, list[str]] = {
    "partial_messages": ["--include-partial-messages"],
    "control_sdk_mcp": ["--mcp-config", json.dumps(
        {"mcpServers": {"calc": {"type": "sdk", "name": "calc"}}}), "--strict-mcp-config"]}
INIT_EXTRA: dict[str, dict[str, Any]] = {
    "control_hook": {"hooks": {"PreToolUse": [{"matcher": "Bash",
                                               "hookCallbackIds": ["hook_0"]}]}},
    "control_sdk_mcp": {"sdkMcpServers": ["calc"]}}
"""Extra `initialize` fields: a PreToolUse hook answered by the client (`hook_callback`)."""
HOOK_ANSWER = {"hookSpecificOutput": {"hookEventName": "PreToolUse",
                                      "permissionDecision": "allow",
                                      "permissionDecisionReason": "allowed by the test hook"}}
STDOUT_VARIANT = frozenset({"control_allow_deny", "control_session_rule", "control_suggestions",
                            "control_two_prompts", "control_interrupt",
                            "control_client_interrupt", "control_updated_input"})
"""Sessions also saved as a stdout-only recording (`<name>_stdout.jsonl`)."""


class Responder:
    """The conversation (a request with tools whose first user text holds PROMPT) gets the
    script's answer number = how many assistant messages it carries; anything else is a side
    call."""

    def __init__(self, script: Script) -> None:
        self.script = script

    def respond(self, request: StubRequest) -> StubReply:
        if request.path.rstrip("/").endswith("/count_tokens"):
            return StubReply(200, dict(JSON_HEADERS), [b'{"input_tokens": 10}'])
        body = json.loads(request.body or b"{}")
        model = str(body.get("model") or "claude")
        messages = body.get("messages") or []
        blob = json.dumps(messages)
        if body.get("tools") and PROMPT in blob:
            results = sum(1 for m in messages if m.get("role") == "assistant")
            answers = self.script(working_directory(body) or "")
            message = WireMessage(f"msg_ctl_{results}", answers[min(results, len(answers) - 1)])
            usage = {"input_tokens": 1500 + 60 * results, "cache_creation_input_tokens": 120,
                     "cache_read_input_tokens": 900, "output_tokens": 30}
        else:
            message = WireMessage("msg_side", (text("Scripted session"),))
            usage = {"input_tokens": 50, "cache_creation_input_tokens": 0,
                     "cache_read_input_tokens": 0, "output_tokens": 3}
        if body.get("stream"):
            return StubReply(200, dict(SSE_HEADERS), encode_message(message, model, usage))
        return StubReply(200, dict(JSON_HEADERS), [encode_whole(message, model, usage)])


def environment(home: Path, stub_url: str) -> dict[str, str]:
    """The hermetic environment of the catalog's Claude driver."""
    return {"PATH": "/usr/bin:/bin", "HOME": str(home), "LANG": "C.UTF-8",
            "ANTHROPIC_BASE_URL": stub_url, "ANTHROPIC_API_KEY": DUMMY_API_KEY,
            "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1", "DISABLE_TELEMETRY": "1",
            "DISABLE_AUTOUPDATER": "1", "CLAUDE_CODE_MAX_RETRIES": "1",
            "CLAUDE_CODE_ENABLE_TASKS": "false", "HTTP_PROXY": CLOSED_PROXY,
            "HTTPS_PROXY": CLOSED_PROXY, "ALL_PROXY": CLOSED_PROXY,
            "NO_PROXY": "127.0.0.1,localhost"}


ADD_TOOL = {"name": "add", "description": "Add two numbers",
            "inputSchema": {"type": "object", "required": ["a", "b"], "properties": {
                "a": {"type": "number"}, "b": {"type": "number"}}}}


def mcp_answer(message: dict[str, Any]) -> dict[str, Any]:
    """The SDK server `calc`: JSON-RPC answers to initialize, tools/list and tools/call."""
    method = message.get("method")
    result: dict[str, Any] = {}
    if method == "initialize":
        result = {"protocolVersion": (message.get("params") or {}).get("protocolVersion"),
                  "capabilities": {"tools": {}}, "serverInfo": {"name": "calc",
                                                                 "version": "1.0.0"}}
    elif method == "tools/list":
        result = {"tools": [ADD_TOOL]}
    elif method == "tools/call":
        args = (message.get("params") or {}).get("arguments") or {}
        result = {"content": [{"type": "text", "text": str(args.get("a", 0) + args.get("b", 0))}]}
    return {"jsonrpc": "2.0", "id": message.get("id", 0), "result": result}


def client_answer(data: dict[str, Any], pending: list[Answer]) -> dict[str, Any] | None:
    """The client's line for a CLI line (a prompt, a hook callback), or None."""
    subtype = (data.get("request") or {}).get("subtype")
    if data.get("type") != "control_request":
        return None
    if subtype == "mcp_message":
        return {"type": "control_response", "response": {
            "subtype": "success", "request_id": data["request_id"],
            "response": {"mcp_response": mcp_answer(data["request"].get("message") or {})}}}
    if subtype == "hook_callback":
        return {"type": "control_response", "response": {
            "subtype": "success", "request_id": data["request_id"], "response": HOOK_ANSWER}}
    if subtype != "can_use_tool":
        return None
    response = (pending.pop(0) if pending else allow)(data["request"])
    if response is None:
        return {"type": "control_request", "request_id": "req_interrupt_1",
                "request": {"subtype": "interrupt"}}
    return {"type": "control_response", "response": {
        "subtype": "success", "request_id": data["request_id"], "response": response}}


def record(name: str) -> None:
    script, answers, prompts = SESSIONS[name]
    pending = list(answers)
    to_send = list(prompts)
    with tempfile.TemporaryDirectory() as tmp, StubServer(Responder(script)) as stub:
        root = Path(tmp)
        workspace, home = root / "workspace", root / "home"
        workspace.mkdir()
        home.mkdir()
        env = environment(home, stub.base_url)
        args = [str(DRIVER.binary()), "-p", "--input-format", "stream-json",
                "--output-format", "stream-json", "--verbose", "--permission-mode", "default",
                "--permission-prompt-tool", "stdio", *EXTRA_ARGS.get(name, [])]
        proc = subprocess.Popen(args, cwd=workspace, env=env, stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        assert proc.stdin is not None and proc.stdout is not None
        lines: list[tuple[str, str]] = []  # (who wrote it, the line)
        lock = threading.Lock()

        def send(obj: dict[str, Any]) -> None:
            line = json.dumps(obj)
            with lock:
                lines.append(("client", line))
            assert proc.stdin is not None
            proc.stdin.write(line.encode() + b"\n")
            proc.stdin.flush()

        send({"type": "control_request", "request_id": "req_init_1",
              "request": {"subtype": "initialize", **INIT_EXTRA.get(name, {})}})

        def prompt() -> None:
            send({"type": "user", "message": {"role": "user", "content": to_send.pop(0)},
                  "parent_tool_use_id": None, "session_id": ""})

        prompt()
        for raw in proc.stdout:
            line = raw.decode().rstrip("\n")
            with lock:
                lines.append(("cli", line))
            data = json.loads(line)
            answer = client_answer(data, pending)
            if answer is not None:
                send(answer)
            if data.get("type") == "result":
                if to_send:
                    prompt()
                else:
                    proc.stdin.close()
        code = proc.wait(timeout=60)
        err = proc.stderr.read().decode() if proc.stderr else ""
        plan = RunPlan(scenario=None, run_index=0, workspace=workspace,  # type: ignore[arg-type]
                       home=home, stub_url=stub.base_url)
        out = DRIVER.template("\n".join(line for _, line in lines) + "\n", plan)
        (HERE / f"{name}.jsonl").write_text(out, encoding="utf-8")
        # the same session as a stdout-only recording keeps it: the CLI's lines alone
        if name in STDOUT_VARIANT:
            cli_only = [t for (who, _), t in zip(lines, out.splitlines(), strict=True)
                        if who == "cli"]
            (HERE / f"{name}_stdout.jsonl").write_text("\n".join(cli_only) + "\n",
                                                        encoding="utf-8")
        print(f"{name}: exit {code}, {len(lines)} lines, files {sorted(os.listdir(workspace))}"
              f"{' stderr: ' + err[:300] if err else ''}")


if __name__ == "__main__":
    for session in sys.argv[1:] or list(SESSIONS):
        record(session)
