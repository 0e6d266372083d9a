"""Re-record the pre-0.44 and 0.44 fixtures of this folder from a real `@openai/codex` release.

    npm install --prefix /tmp/codex-0.42 @openai/codex@0.42.0
    python tests/data/shapes/codex-native/record_legacy.py \
        /tmp/codex-0.42/node_modules/.bin/codex shell_patch out.jsonl [--experimental-json]

Script `resume` runs twice in one CODEX_HOME, the second time as `exec resume <id>` (the id read
from the rollout file name: a legacy stream never prints it); both runs go to `out.jsonl`.

Offline and hermetic: a scripted Responses stub on 127.0.0.1 (the project's `StubServer`), a
temp `CODEX_HOME` whose provider points at it with retries off, a closed loopback proxy as
backstop, stdin from /dev/null. Old releases offer a `shell` tool taking an argv list
(`apply_patch` runs through it) and `demo__<tool>` for MCP tools. The workspace is
/tmp/oldcodex/ws, the path the recorded fixtures name.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from harness.record.stub import StubReply, StubRequest, StubServer, sse_event

REPO = Path(__file__).resolve().parents[4]
WORKSPACE = Path("/tmp/oldcodex/ws")
CLOSED_PROXY = "http://127.0.0.1:9"


def call(call_id: str, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
    return {"type": "function_call", "id": f"fc_{call_id}", "call_id": call_id, "name": name,
            "arguments": json.dumps(arguments)}


def answer(text: str) -> dict[str, Any]:
    return {"type": "message", "id": "msg_1", "role": "assistant",
            "content": [{"type": "output_text", "text": text}]}


PATCH = "*** Begin Patch\n*** Add File: notes.txt\n+first line\n*** End Patch\n"
SCRIPTS: dict[str, list[dict[str, Any]]] = {
    "shell_patch": [
        {"items": [{"type": "reasoning", "id": "rs_1", "summary": [
            {"type": "summary_text",
             "text": "**Looking around**\n\nI will print a greeting first."}]},
            call("call_1", "shell", {"command": ["bash", "-lc", "echo hello"]})]},
        {"items": [call("call_2", "shell", {"command": ["bash", "-lc", "cat missing.txt"]})]},
        {"items": [call("call_3", "shell", {"command": ["apply_patch", PATCH]})]},
        {"items": [answer("hello was printed, missing.txt does not exist, and notes.txt was "
                          "added.")]},
    ],
    "mcp_web_search": [
        {"items": [{"type": "web_search_call", "id": "ws_1", "status": "completed",
                    "action": {"type": "search", "query": "latest stable Python release"}},
                   call("call_1", "demo__echo", {"text": "ping"})]},
        {"items": [call("call_2", "demo__fail", {})]},
        {"items": [answer("echo said ping; fail failed.")]},
    ],
    "plan_update": [
        {"items": [call("call_1", "update_plan", {"explanation": "Two steps.", "plan": [
            {"step": "Read the notes", "status": "completed"},
            {"step": "Write the summary", "status": "in_progress"},
            {"step": "Review", "status": "pending"}]})]},
        {"items": [answer("Plan recorded.")]},
    ],
    "http_400": [{"status": 400, "body": {"error": {
        "message": "Invalid 'input[1].content': string too long.",
        "type": "invalid_request_error", "param": "input[1].content",
        "code": "string_above_max_length"}}}],
    "retry_limit_429": [{"status": 429, "body": {"error": {
        "message": "Rate limit reached for requests", "type": "requests",
        "code": "rate_limit_exceeded"}}}],
    "resume": [{"items": [answer("an answer")]}],
    "response_failed": [{"items": [], "fail": {
        "code": "server_error", "message": "The model failed to generate a response."}}],
}
PROMPTS = {"shell_patch": "Print hello, show missing.txt, add notes.txt.",
           "mcp_web_search": "Search, then use the demo server to echo ping, then call its "
                             "fail tool.",
           "plan_update": "Plan it.", "resume": "Say one."}


def event(etype: str, **fields: Any) -> bytes:
    return sse_event(etype, json.dumps({"type": etype, **fields}).encode())


def response(rid: str, status: str, **extra: Any) -> dict[str, Any]:
    return {"id": rid, "object": "response", "status": status, "model": "gpt-5", "output": [],
            **extra}


class ScriptedResponses:
    """Answers `POST /v1/responses` with the script step numbered by the tool outputs the
    request already carries; usage grows by one input token per step."""

    def __init__(self, steps: list[dict[str, Any]]) -> None:
        self.steps = steps

    def respond(self, request: StubRequest) -> StubReply:
        inputs = json.loads(request.body or b"{}").get("input", [])
        step = sum(1 for i in inputs if i.get("type") == "function_call_output")
        spec = self.steps[min(step, len(self.steps) - 1)]
        if "status" in spec:
            return StubReply(spec["status"], {"content-type": "application/json"},
                             [json.dumps(spec["body"]).encode()])
        rid = f"resp_{step}"
        chunks = [event("response.created", response=response(rid, "in_progress"))]
        chunks += [event("response.output_item.done", output_index=index, item=item)
                   for index, item in enumerate(spec["items"])]
        if "fail" in spec:
            chunks.append(event("response.failed",
                                response=response(rid, "failed", error=spec["fail"])))
        else:
            usage = {"input_tokens": 1000 + step, "input_tokens_details": {"cached_tokens": 100},
                     "output_tokens": 50, "output_tokens_details": {"reasoning_tokens": 20},
                     "total_tokens": 1050 + step}
            chunks.append(event("response.completed",
                                response=response(rid, "completed", usage=usage)))
        return StubReply(200, {"content-type": "text/event-stream"}, chunks)


def config(port: int, script: str) -> str:
    lines = ['model = "gpt-5"', 'model_provider = "stub"', "include_plan_tool = true", "",
             "[model_providers.stub]", 'name = "stub"',
             f'base_url = "http://127.0.0.1:{port}/v1"', 'wire_api = "responses"',
             'env_key = "STUB_KEY"', "request_max_retries = 0", "stream_max_retries = 0"]
    if script == "mcp_web_search":
        server = REPO / "cassettes" / "_fixtures" / "mcp_demo_server.py"
        lines += ["", "[tools]", "web_search = true", "", "[mcp_servers.demo]",
                  f"command = {json.dumps(sys.executable)}", f"args = [{json.dumps(str(server))}]"]
    return "\n".join(lines) + "\n"


def record(codex: str, script: str, out: Path, extra: list[str]) -> int:
    shutil.rmtree(WORKSPACE, ignore_errors=True)
    WORKSPACE.mkdir(parents=True)
    with tempfile.TemporaryDirectory() as home, StubServer(
            ScriptedResponses(SCRIPTS[script])) as stub:
        codex_home = Path(home) / ".codex"
        codex_home.mkdir()
        (Path(home) / "tmp").mkdir()
        (codex_home / "config.toml").write_text(config(stub.port, script), encoding="utf-8")
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": home,
               "CODEX_HOME": str(codex_home), "LANG": "C.UTF-8", "TERM": "dumb",
               "NO_COLOR": "1", "TMPDIR": str(Path(home) / "tmp"), "STUB_KEY": "sk-dummy",
               "HTTP_PROXY": CLOSED_PROXY, "HTTPS_PROXY": CLOSED_PROXY,
               "ALL_PROXY": CLOSED_PROXY, "NO_PROXY": "127.0.0.1,localhost"}
        flags = [*(extra or ["--json"]), "--skip-git-repo-check", "-C", str(WORKSPACE),
                 "-s", "workspace-write"]
        runs = [[PROMPTS.get(script, "Say hi.")]]
        if script == "resume":
            runs.append(["resume", "{id}", "Say two."])
        with out.open("wb") as stdout:
            for run in runs:
                args = run
                if "{id}" in run:
                    rollout = sorted((codex_home / "sessions").rglob("rollout-*.jsonl"))[0]
                    args = [rollout.stem[-36:] if part == "{id}" else part for part in run]
                done = subprocess.run([codex, "exec", *flags, *args], stdin=subprocess.DEVNULL,
                                      stdout=stdout, env=env, timeout=120, check=False)
    return done.returncode


if __name__ == "__main__":
    sys.exit(record(sys.argv[1], sys.argv[2], Path(sys.argv[3]), sys.argv[4:]))
