"""What Codex CLI 0.169 sends to the Responses API, as request items and bodies.

Shapes seen in real recordings (cassettes/*/codex.http.yaml): the developer and
`<environment_context>` messages, the user prompt, `client_metadata` with `thread_id` and
`x-codex-turn-metadata`, and Codex's own tool output texts (`exec_command`, `apply_patch`,
`tool_search`). Shared by the codex-adapter lane tests (tests/test_codex_adapter_lane.py, whose
`Codex` builder grows a thread's requests from them) and the round-trip Codex simulator
(`harness.testing.render.codex`).
"""

from __future__ import annotations

import json
from typing import Any

TOOLS = [{"type": "function", "name": "exec_command"}, {"type": "custom", "name": "apply_patch"},
         {"type": "tool_search"}, {"type": "web_search"}]
"""The tools Codex offers in every request."""
CWD = "/work/space"
"""The working directory `environment()` reports by default."""


# ------------------------------------------------------------------------------ tool outputs


def exec_output(call_id: str, code: int | None, output: str = "") -> dict[str, Any]:
    text = ("Chunk ID: 0a1b2c\nWall time: 0.0100 seconds\n"
            f"Process exited with code {code}\nOriginal token count: 3\nOutput:\n{output}")
    return {"type": "function_call_output", "call_id": call_id, "output": text}


def raw_output(call_id: str, output: Any, kind: str = "function_call_output") -> dict[str, Any]:
    return {"type": kind, "call_id": call_id, "output": output}


def patch_output(call_id: str, ok: bool = True) -> dict[str, Any]:
    text = ("Exit code: 0\nWall time: 0 seconds\nOutput:\nSuccess. Updated the following "
            "files:\nA a.txt\n") if ok else "apply_patch verification failed: no such file"
    return {"type": "custom_tool_call_output", "call_id": call_id, "output": text}


def tool_search_output(call_id: str, names: list[str]) -> dict[str, Any]:
    return {"type": "tool_search_output", "call_id": call_id, "execution": "client",
            "status": "completed", "tools": [{"type": "namespace", "name": n} for n in names]}


# ------------------------------------------------------------------------------ requests


def user(text: str) -> dict[str, Any]:
    return {"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]}


def developer(text: str) -> dict[str, Any]:
    return {"type": "message", "role": "developer",
            "content": [{"type": "input_text", "text": text}]}


def environment(cwd: str = CWD) -> dict[str, Any]:
    return user(f"<environment_context>\n  <cwd>{cwd}</cwd>\n  <shell>bash</shell>\n"
                "</environment_context>")


def client_metadata(thread: str, **turn: Any) -> dict[str, Any]:
    meta = {"thread_id": thread, "request_kind": "turn", "history_initialization": "new",
            "sandbox_mode": "workspace-write", "thread_source": "user", **turn}
    meta = {k: v for k, v in meta.items() if v is not None}
    return {"thread_id": thread, "session_id": thread,
            "x-codex-turn-metadata": json.dumps(meta)}


def request_body(inputs: list[dict[str, Any]], *, thread: str | None = "thr_1",
                 metadata: dict[str, Any] | None = None, tools: bool = True) -> dict[str, Any]:
    body: dict[str, Any] = {"model": "gpt-5.5", "instructions": "", "input": inputs,
                            "tool_choice": "auto", "parallel_tool_calls": True, "stream": True,
                            "store": False, "include": ["reasoning.encrypted_content"]}
    if tools:
        body["tools"] = TOOLS
    if thread is not None:
        body["prompt_cache_key"] = thread
    if metadata is not None:
        body["client_metadata"] = metadata
    return body
