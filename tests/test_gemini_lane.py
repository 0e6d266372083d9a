"""gemini lane: Gemini CLI's Gemini API traffic, re-issued through google-genai, normalized.

Hand-built sequences (one per mapping and quirk, docstrings naming the quirk) come from the
builders below, which grow requests the way Gemini CLI 0.61 does (seen by running it against a
stub on 127.0.0.1): the first user content is `<session_context>` plus the prompt; each answer is
echoed back as a model content with CLI-assigned call ids (`<name>_<ms>_<n>`) and
`skip_thought_signature_validator`, thought parts dropped; tool results follow as a user content
of `functionResponse` parts (`{"output": ...}` or `{"error": ...}`); a non-streaming routing call
precedes each prompt; a resumed process rebuilds the history (fresh session context, each
earlier functionResponse sent twice). SSE frames end in `\\r\\n\\r\\n` like the real API's.
Regenerate the reviewable cassettes in tests/data/gemini/ by running this module.
"""

from __future__ import annotations

import functools
import gzip
import importlib.util
import io
import json
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2
import pytest
import yaml
from google import genai
from google.genai import types
from hypothesis import given, settings
from hypothesis import strategies as st
from vcr.request import Request as VcrRequest
from vcr.serialize import serialize as vcr_serialize
from vcr.serializers import jsonserializer, yamlserializer

import lanes.gemini as gm
from harness.contract.errors import FrameError, InputError
from harness.contract.lane import LaneInput, RunContext, get_lane
from harness.record.cassette import read_http_cassette, render_http_cassette
from harness.record.stub import Exchange, StubReply, StubRequest
from lanes import gemini_family
from lanes.gemini import LANE
from tests import lanekit
from tests.lanekit import assert_well_formed, completed, scaled, shape, split, write

# ==================================================================================== builders

SSE = {"content-type": "text/event-stream"}
JSON = {"content-type": "application/json"}
MODEL = "gemini-2.5-pro"
WORKSPACE = "/tmp/gw-work"
SESSION_CONTEXT = (
    "<session_context>\nThis is the Gemini CLI. We are setting up the context for our chat.\n"
    "Today's date is Wednesday, November 25, 2026.\nMy operating system is: linux\n"
    "- **Workspace Directories:**\n  - " + WORKSPACE + "\n- **Directory Structure:**\n\n"
    + WORKSPACE + "/\n\n</session_context>")
SYSTEM = {"parts": [{"text": "You are Gemini CLI, an autonomous CLI agent."}]}
TOOLS = [{"functionDeclarations": [{"name": n, "description": n, "parametersJsonSchema": {}}
                                   for n in ("run_shell_command", "write_file", "replace",
                                             "write_todos", "google_web_search", "read_file")]}]
GENERATION = {"temperature": 1, "topP": 0.95, "topK": 64,
              "thinkingConfig": {"includeThoughts": True, "thinkingBudget": 8192}}
ROUTING_SCHEMA = {"type": "OBJECT", "properties": {
    "complexity_reasoning": {"type": "STRING"}, "complexity_score": {"type": "INTEGER"}},
    "required": ["complexity_reasoning", "complexity_score"]}


def usage(prompt: int = 100, out: int = 10, cached: int = 20, thoughts: int = 5
          ) -> dict[str, Any]:
    return {"promptTokenCount": prompt, "candidatesTokenCount": out,
            "cachedContentTokenCount": cached, "thoughtsTokenCount": thoughts,
            "totalTokenCount": prompt + out + thoughts}


def text(value: str, **extra: Any) -> dict[str, Any]:
    return {"text": value, **extra}


def thought(value: str, signature: str | None = None) -> dict[str, Any]:
    part: dict[str, Any] = {"text": value, "thought": True}
    if signature:
        part["thoughtSignature"] = signature
    return part


def call(name: str, args: dict[str, Any], call_id: str | None = None) -> dict[str, Any]:
    fc: dict[str, Any] = {"name": name, "args": args}
    if call_id:
        fc["id"] = call_id
    return {"functionCall": fc}


def chunk(parts: list[dict[str, Any]], *, finish: str | None = None,
          use: dict[str, Any] | None = None, rid: str = "resp-1") -> dict[str, Any]:
    candidate: dict[str, Any] = {"content": {"role": "model", "parts": parts}, "index": 0}
    if finish:
        candidate["finishReason"] = finish
    body: dict[str, Any] = {"candidates": [candidate], "modelVersion": MODEL, "responseId": rid}
    if use:
        body["usageMetadata"] = use
    return body


def sse(*chunks: dict[str, Any]) -> list[bytes]:
    return [b"data: " + json.dumps(c, ensure_ascii=False).encode() + b"\r\n\r\n" for c in chunks]


def stream(*parts_per_chunk: list[dict[str, Any]], finish: str | None = "STOP",
           use: dict[str, Any] | None = None) -> list[bytes]:
    """One answer: a chunk per part list; the last carries finishReason and usage."""
    chunks = [chunk(p) for p in parts_per_chunk]
    if finish is not None:
        last = chunks[-1]
        last["candidates"][0]["finishReason"] = finish
        last["usageMetadata"] = use or usage()
    return sse(*chunks)


def json_array(*chunks: dict[str, Any]) -> bytes:
    """Chunks framed as the API streams them without `alt=sse` (`[{...}\\r\\n,\\r\\n{...}]`)."""
    return ("[" + "\r\n,\r\n".join(json.dumps(c, indent=2, ensure_ascii=False)
                                     for c in chunks) + "\r\n]").encode()


def post(path: str, body: dict[str, Any] | bytes, status: int = 200, *,
         frames: list[bytes] | None = None, reply: bytes | None = None,
         query: str = "") -> Exchange:
    raw = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode()
    headers = SSE if frames is not None else JSON
    chunks = frames if frames is not None else [reply or b"{}"]
    return Exchange(StubRequest("POST", path, query, {"content-type": "application/json"}, raw),
                    StubReply(status, headers, chunks))


def stream_path(model: str = MODEL) -> str:
    return f"/v1beta/models/{model}:streamGenerateContent"


def error_body(code: int, status: str, message: str) -> bytes:
    return json.dumps({"error": {"code": code, "message": message, "status": status}}).encode()


def routing_exchange(contents: list[dict[str, Any]], score: int = 20) -> Exchange:
    """Gemini CLI's routing call: non-streaming, JSON schema with a complexity score."""
    body = {"contents": contents, "systemInstruction": {"parts": [{"text": "Task Routing AI"}]},
            "generationConfig": {"responseMimeType": "application/json",
                                 "responseJsonSchema": ROUTING_SCHEMA}}
    answer = chunk([text(json.dumps({"complexity_reasoning": "easy",
                                     "complexity_score": score}))], finish="STOP",
                   use=usage(5, 3, 0, 0))
    return post("/v1beta/models/gemini-3.5-flash-lite:generateContent", body,
                reply=json.dumps(answer).encode())


def web_search_exchange(query: str) -> Exchange:
    """The google_web_search tool's helper: generateContent with the googleSearch tool."""
    body = {"contents": [{"role": "user", "parts": [{"text": query}]}],
            "tools": [{"googleSearch": {}}], "generationConfig": {"temperature": 0}}
    answer = chunk([text(f"results for {query}")], finish="STOP")
    return post("/v1beta/models/gemini-3-flash-preview:generateContent", body,
                reply=json.dumps(answer).encode())


@dataclass
class Gemini:
    """One Gemini CLI conversation's requests, history growing like the CLI's own."""

    model: str = MODEL
    routing: bool = False
    cli: bool = True
    contents: list[dict[str, Any]] = field(default_factory=list)
    exchanges: list[Exchange] = field(default_factory=list)
    last_calls: list[dict[str, Any]] = field(default_factory=list)
    clock: int = 1795570311882

    def start(self, prompt: str) -> Gemini:
        opening = not self.contents and self.cli
        parts = [text(SESSION_CONTEXT), text(prompt)] if opening else [text(prompt)]
        self.contents.append({"role": "user", "parts": parts})
        if self.routing:
            self.exchanges.append(routing_exchange(list(self.contents)))
        return self

    def body(self) -> dict[str, Any]:
        return {"contents": list(self.contents), "systemInstruction": SYSTEM, "tools": TOOLS,
                "generationConfig": GENERATION}

    def reply(self, frames: list[bytes], status: int = 200) -> Gemini:
        self.exchanges.append(post(stream_path(self.model), self.body(), status, frames=frames,
                                   query="alt=sse"))
        return self

    def answer(self, *parts_per_chunk: list[dict[str, Any]], **stream_args: Any) -> Gemini:
        self.reply(stream(*parts_per_chunk, **stream_args))
        self._echo([p for parts in parts_per_chunk for p in parts])
        return self

    def generate(self, parts: list[dict[str, Any]], *, finish: str | None = "STOP",
                 use: dict[str, Any] | None = None, **extra: Any) -> Gemini:
        """A non-streamed `:generateContent` answer: one JSON object."""
        body = chunk(parts, finish=finish, use=use or usage())
        body["candidates"][0].update(extra)
        self.exchanges.append(post(f"/v1beta/models/{self.model}:generateContent",
                                   self.body(), reply=json.dumps(body).encode()))
        self._echo(parts)
        return self

    def array(self, *chunks: dict[str, Any], status: int = 200) -> Gemini:
        """A `:streamGenerateContent` answer without `alt=sse`: one JSON array."""
        self.exchanges.append(post(stream_path(self.model), self.body(), status,
                                   reply=json_array(*chunks)))
        return self

    def _echo(self, parts: list[dict[str, Any]]) -> None:
        """The answer as the CLI puts it into history: thoughts dropped, ids on calls."""
        self.clock += 1
        echoed: list[dict[str, Any]] = []
        self.last_calls = []
        for part in parts:
            if part.get("thought"):
                continue
            if "functionCall" in part:
                fc = dict(part["functionCall"])
                fc.setdefault("id", f"{fc['name']}_{self.clock}_{len(self.last_calls)}")
                self.last_calls.append(fc)
                echoed.append({"functionCall": fc,
                               "thoughtSignature": "skip_thought_signature_validator"})
            elif "text" not in part:
                echoed.append(dict(part))
            elif echoed and "text" in echoed[-1]:
                echoed[-1] = {"text": echoed[-1]["text"] + part["text"]}
            else:
                echoed.append({"text": part["text"]})
        self.contents.append({"role": "model", "parts": echoed})

    def results(self, *responses: dict[str, Any]) -> Gemini:
        """functionResponse parts for the last answer's calls, in call order."""
        parts = [{"functionResponse": {"name": fc["name"], "response": resp, "id": fc["id"]}}
                 for fc, resp in zip(self.last_calls, responses, strict=True)]
        self.contents.append({"role": "user", "parts": parts})
        return self

    def side(self, exchange: Exchange) -> Gemini:
        self.exchanges.append(exchange)
        return self

    def resumed(self, prompt: str) -> Gemini:
        """A new `gemini --resume` process: history rebuilt (fresh session context, each
        earlier functionResponse part sent twice), then the new prompt."""
        rebuilt: list[dict[str, Any]] = []
        for content in self.contents:
            parts = [dict(p) for p in content["parts"] if "thoughtSignature" not in p
                     or "functionCall" in p]
            for part in parts:
                part.pop("thoughtSignature", None)
            if any("functionResponse" in p for p in parts):
                parts = [p for p in parts for _ in range(2)]
            rebuilt.append({"role": content["role"], "parts": parts})
        rebuilt[0]["parts"][0] = text(SESSION_CONTEXT.replace("\n\n</", "\n└───a.txt\n\n</"))
        self.contents = rebuilt
        return self.start(prompt)


def shell_output(output: str, code: int = 0) -> dict[str, Any]:
    """run_shell_command's functionResponse as Gemini CLI 0.61 writes it."""
    lines = [f"Output: {output or '(empty)'}"]
    if code:
        lines.append(f"Exit Code: {code}")
    lines.append("Process Group PGID: 7252")
    return {"output": "<untrusted_context>\n" + "\n".join(lines) + "\n</untrusted_context>"}


def not_registered(name: str) -> dict[str, Any]:
    return {"error": f'Tool "{name}" not found. Did you mean one of: "read_file"?'}


# ==================================================================================== helpers

DATA = Path(__file__).parent / "data" / "gemini"
BAD = Path(__file__).parent / "data" / "bad_cassettes"
READ_IN_STRICT = frozenset({
    "body_not_utf8.gemini",
    "http_4xx.gemini",
    "http_5xx.gemini",
})
"""Samples the gemini lane reads in strict mode (an HTTP error, a cut or foreign stream
is a failed turn or an unknown item, the payload kept); every other sample is refused."""
REPO = Path(__file__).resolve().parents[1]
CASSETTES = REPO / "cassettes"


def normalize_file(path: Path, *, lenient: bool = False,
                   context: RunContext | None = None) -> list[dict[str, Any]]:
    return lanekit.normalize_file(LANE, path, lenient=lenient, context=context)


def run(tmp_path: Path, exchanges: list[Exchange], **kw: Any) -> list[dict[str, Any]]:
    return lanekit.run(LANE, tmp_path, exchanges, **kw)


# ------------------------------------------------------------------------------ contract tables


def test_lane_is_registered_and_truthful() -> None:
    spec = get_lane("gemini")
    assert spec is LANE
    assert (spec.provider, spec.input_kind, spec.native_file) == (
        "google", "http-cassette", "gemini.http.yaml")
    assert "approvals" not in spec.capabilities, "Gemini API traffic carries no approvals"
    assert "sandbox_context" not in spec.capabilities, "the requests never name a sandbox"
    assert {f"side_call.{k}" for k in ("routing", "web_search", "count_tokens")} \
        <= spec.noise_tools


def test_finish_reason_table_is_exhaustive_over_the_sdk_enum() -> None:
    """FINISH_REASONS names exactly the SDK's FinishReason values, so an SDK upgrade that adds
    one fails here until the lane decides what it means."""
    assert set(gm.FINISH_REASONS) == {r.value for r in types.FinishReason}
    assert gm.FINISH_REASONS["STOP"] is None and gm.FINISH_REASONS["SAFETY"] == "provider"


def test_plan_status_table_covers_write_todos_statuses() -> None:
    """write_todos' status enum of Gemini CLI 0.61 (`TODO_STATUSES` in its bundle), one table
    for both Gemini lanes (`lanes.gemini_family`)."""
    assert set(gemini_family.TODO_STATUSES) == {"pending", "in_progress", "completed",
                                                "cancelled", "blocked"}


def _sample_call(name: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """A call of tool `name` and a successful functionResponse for it, in Gemini CLI's shapes."""
    samples: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
        "run_shell_command": ({"command": "ls"}, shell_output("a.txt")),
        "write_file": ({"file_path": "a.txt", "content": "hi\n"},
                       {"output": f"Successfully created and wrote to new file: {WORKSPACE}"
                                  "/a.txt. Here is the updated code:\nhi\n"}),
        "replace": ({"file_path": "a.txt", "old_string": "hi", "new_string": "ho"},
                    {"output": f"Successfully modified file: {WORKSPACE}/a.txt (1 "
                               "replacements)."}),
        "write_todos": ({"todos": [{"description": "look", "status": "completed"}]},
                        {"output": "Successfully updated the todo list."}),
        "google_web_search": ({"query": "zürich weather"},
                              {"output": 'Web search results for "zürich weather":\n\nsunny'}),
    }
    args, response = samples[name]
    return call(name, args), response


@pytest.mark.parametrize("name", sorted(gemini_family.TOOL_KINDS))
def test_tool_table_every_key_maps_to_its_kind(tmp_path: Path, name: str) -> None:
    """TOOL_KINDS coverage: a call of each listed tool, finished by its functionResponse in the
    next request, completes as the item kind the table names."""
    fc, response = _sample_call(name)
    g = Gemini().start("go").answer([fc]).results(response).answer([text("ok")])
    items = completed(run(tmp_path, g.exchanges))
    assert [i["kind"] for i in items] == [gemini_family.TOOL_KINDS[name], "assistant_message"]
    assert items[0]["status"] == "completed"


def test_tool_table_default_and_mcp_rules() -> None:
    assert gm.tool_kind is gemini_family.tool_kind and gm.mcp_names is gemini_family.mcp_names
    assert gm.tool_kind("read_file") == "tool_call"
    assert gm.tool_kind("mcp_files_read") == "mcp_tool_call"
    assert gm.mcp_names("mcp_files_read_text") == ("files", "read_text")


def test_error_tables() -> None:
    """HTTP status first (the core's one table; any 5xx is provider), then the Google RPC
    status of the body."""
    assert gm.http_error(400, "FAILED_PRECONDITION", "x").kind == "provider"
    assert gm.http_error(404, None, "x").kind == "provider"
    assert gm.http_error(408, None, "x").kind == "network"
    assert gm.http_error(418, "RESOURCE_EXHAUSTED", "x").kind == "rate_limit"
    assert gm.http_error(401, None, "x").kind == "auth"
    assert (gm.http_error(429, None, "x").kind, gm.http_error(429, None, "x").retryable) == (
        "rate_limit", True)
    assert gm.http_error(503, None, "x").kind == "provider"
    assert gm.http_error(None, "RESOURCE_EXHAUSTED", "x").kind == "rate_limit"
    assert gm.http_error(None, "cancelled", "x").kind == "cancelled"
    assert (gm.http_error(418, None, "x").kind, gm.http_error(418, None, "x").retryable) == (
        "unknown", False)


# ------------------------------------------------------------------------------ parsers


def test_shell_output_parsing() -> None:
    """Gemini CLI writes `Exit Code:` only when non-zero; `(empty)` is no output; `Error:` means
    the process never ran; output without the `<untrusted_context>` wrapper (older CLIs) too."""
    parse = gemini_family.parse_shell_output
    assert parse(shell_output("hé\nline 2", 3)["output"]) == (3, "hé\nline 2", True)
    assert parse(shell_output("")["output"]) == (0, "", True)
    assert parse("Output: x\nError: spawn ENOENT") == (None, "x", True)
    assert parse("Command: ls\nStdout: a\nExit Code: 0") == (0, "a", True)
    assert parse("whatever") == (None, "whatever", False)
    # killed by a signal: it ran, with no exit code to report (not a success)
    assert parse("Output: partial\nSignal: 9") == (None, "partial", True)


def test_side_call_kinds() -> None:
    body = json.loads(routing_exchange([]).request.body)
    assert gm.side_call_kind("generateContent", body) == "routing"
    next_speaker = {"generationConfig": {"responseJsonSchema": {"properties": {
        "reasoning": {}, "next_speaker": {}}}}}
    assert gm.side_call_kind("generateContent", next_speaker) == "next_speaker_check"
    assert gm.side_call_kind("generateContent",
                             json.loads(web_search_exchange("q").request.body)) == "web_search"
    assert gm.side_call_kind("generateContent", {"contents": []}) == "generate"
    assert gm.side_call_kind("countTokens", {}) == "count_tokens"


# ------------------------------------------------------------------------------ mappings


def test_text_thoughts_and_session_fields(tmp_path: Path) -> None:
    """Consecutive text parts across chunks are one assistant_message (deltas concatenate);
    `thought: true` parts are reasoning; session fields come from the path and the
    `<session_context>` (cwd = first workspace directory)."""
    g = Gemini().start("hi").answer([thought("thinking ")], [thought("about Größe ✓")],
                                    [text("héllo ")], [text("wörld ✓")])
    events = run(tmp_path, g.exchanges)
    assert [(i["kind"], i["text"]) for i in completed(events)] == [
        ("reasoning", "thinking about Größe ✓"), ("assistant_message", "héllo wörld ✓")]
    deltas = [e["delta"]["text"] for e in events if e["type"] == "item.updated"
              and e["item"]["kind"] == "assistant_message"]
    assert deltas == ["héllo ", "wörld ✓"]
    session = events[0]
    assert (session["provider"], session["runtime"]["name"], session["model"], session["cwd"]) \
        == ("google", "gemini", MODEL, WORKSPACE)
    assert session["thread_id"].startswith("prompt-") and session["resumed_from"] is None


def test_thought_signatures(tmp_path: Path) -> None:
    """Quirk: a thought part carrying only a thoughtSignature is one opaque reasoning item
    (`encrypted: true`); a signature on thought text closes that thought, so the next thought
    text is a new item; a signature on a text or functionCall part adds no item."""
    g = Gemini().start("hi").answer([thought("first", signature="c2ln")], [thought("second")],
                                    [{"thought": True, "thoughtSignature": "c2lnbmF0dXJl"}],
                                    [text("ok", thoughtSignature="c2ln")])
    items = completed(run(tmp_path, g.exchanges))
    assert [(i["kind"], i["text"], i.get("encrypted")) for i in items] == [
        ("reasoning", "first", False), ("reasoning", "second", False), ("reasoning", "", True),
        ("assistant_message", "ok", None)]


def test_context_fields_come_from_run_context_first(tmp_path: Path) -> None:
    ctx = RunContext(cwd="{workspace}", sandbox="read-only", approval_policy="never",
                     auth_mode="api_key", runtime_version="0.61.0")
    path = write(tmp_path / "c.yaml", Gemini().start("hi").answer([text("x")]).exchanges)
    session = normalize_file(path, context=ctx)[0]
    assert (session["cwd"], session["sandbox"], session["approval_policy"],
            session["auth_mode"], session["runtime"]["version"]) == (
        "{workspace}", "read-only", "never", "api_key", "0.61.0")


def test_tool_executions_rebuilt_across_requests(tmp_path: Path) -> None:
    """A functionCall streams in one response (item.started, in_progress); its
    functionResponse arrives in the NEXT request. Shell exit code and output come from the CLI's
    text; write_file of a new file is `add`, replace is `update`; write_todos -> plan; usage is
    summed over the turn's calls; the CLI's call id becomes native_id."""
    todos = {"todos": [{"description": "look", "status": "completed"},
                       {"description": "fix", "status": "in_progress"},
                       {"description": "drop", "status": "cancelled"}]}
    g = (Gemini().start("run it")
         .answer([text("running")], [call("run_shell_command", {"command": "echo hé; exit 3"})])
         .results(shell_output("hé", 3))
         .answer([call("write_file", {"file_path": "a.txt", "content": "hi\n"}),
                  call("replace", {"file_path": "a.txt", "old_string": "hi", "new_string": "x"})])
         .results(*[_sample_call(n)[1] for n in ("write_file", "replace")])
         .answer([call("write_todos", todos)])
         .results({"output": "Successfully updated the todo list."})
         .answer([text("done")]))
    events = run(tmp_path, g.exchanges)
    assert shape(events) == ["session.started", "turn.started", "assistant_message:completed",
                             "command_execution:failed", "file_change:completed",
                             "file_change:completed", "plan:completed",
                             "assistant_message:completed", "turn.completed"]
    started = next(e["item"] for e in events if e["type"] == "item.started"
                   and e["item"]["kind"] == "command_execution")
    assert (started["status"], started["exit_code"]) == ("in_progress", None)
    _, cmd, write_file, replace, plan, _ = completed(events)
    assert (cmd["command"], cmd["exit_code"], cmd["output"]) == ("echo hé; exit 3", 3, "hé")
    assert cmd["native_id"].startswith("run_shell_command_")
    assert [(c["path"], c["kind"]) for c in write_file["changes"] + replace["changes"]] == [
        ("a.txt", "add"), ("a.txt", "update")]
    assert [(e["text"], e["status"]) for e in plan["entries"]] == [
        ("look", "completed"), ("fix", "in_progress"), ("drop", "completed")]
    assert events[-1]["usage"] == {"scope": "turn", "input_tokens": 400,
                                   "cached_input_tokens": 80,
                                   "cache_write_input_tokens": None, "output_tokens": 40,
                                   "reasoning_tokens": 20}
    assert events[-1]["stop_reason"] == "STOP"


def test_mcp_web_search_and_other_tools(tmp_path: Path) -> None:
    """`mcp_<server>_<tool>` -> mcp_tool_call (result from `output`); google_web_search ->
    web_search with its query; any other tool -> tool_call with the structured result."""
    g = (Gemini().start("go")
         .answer([call("mcp_files_read", {"path": "x"}),
                  call("google_web_search", {"query": "zürich"}),
                  call("read_file", {"file_path": "a.txt"})])
         .results({"output": '{"content": "data"}'}, {"output": "Web search results"},
                  {"output": "hi\n"})
         .answer([text("ok")]))
    items = completed(run(tmp_path, g.exchanges))
    assert [(i["kind"], i["status"]) for i in items] == [
        ("mcp_tool_call", "completed"), ("web_search", "completed"), ("tool_call", "completed"),
        ("assistant_message", "completed")]
    assert (items[0]["server"], items[0]["tool"], items[0]["result"]) == (
        "files", "read", {"content": "data"})
    assert items[1]["query"] == "zürich"
    assert (items[2]["name"], items[2]["arguments"], items[2]["result"]) == (
        "read_file", {"file_path": "a.txt"}, "hi\n")


def test_gemini_cli_tool_rules_shared_with_the_gemini_cli_lane(tmp_path: Path) -> None:
    """Gemini CLI's tool rules (`lanes.gemini_family`; the gemini-cli lane pins the same):
    an MCP call is a name Gemini CLI parses as `mcp_<server>_<tool>` (`mcp_x` and `mcp__x`
    are plain tools); write_todos `blocked` waits and `cancelled` is done with; a file tool's
    path is `file_path` only; a shell command's directory is `dir_path`, else `directory`."""
    todos = {"todos": [{"description": "a", "status": "blocked"},
                       {"description": "b", "status": "cancelled"}]}
    g = (Gemini().start("go")
         .answer([call("mcp_lonely", {}), call("mcp__x", {}), call("mcp_my_srv_do", {}),
                  call("write_todos", todos), call("write_file", {"path": "p.txt"}),
                  call("run_shell_command", {"command": "ls", "dir_path": "src"}),
                  call("run_shell_command", {"command": "ls", "directory": "lib"})])
         .results({"output": "1"}, {"output": "2"}, {"output": "3"},
                  {"output": "Successfully updated the todo list."},
                  {"output": "Successfully overwrote file: p.txt."},
                  shell_output("a"), shell_output("b"))
         .answer([text("ok")]))
    items = completed(run(tmp_path, g.exchanges))
    assert [(i["kind"], i.get("name"), i.get("server"), i.get("tool")) for i in items[:3]] == [
        ("tool_call", "mcp_lonely", None, None), ("tool_call", "mcp__x", None, None),
        ("mcp_tool_call", None, "my", "srv_do")]
    assert [(e["text"], e["status"]) for e in items[3]["entries"]] == [
        ("a", "pending"), ("b", "completed")]
    assert items[4]["changes"] == [{"path": "", "kind": "update", "move_path": None}]
    assert [i["cwd"] for i in items[5:7]] == ["src", "lib"]


def test_tool_not_registered_is_declined(tmp_path: Path) -> None:
    """Headless `--approval-mode default` drops shell/write tools; a call anyway gets
    `{"error": "Tool ... not found"}` without running (`gemini_family.DECLINED_ERRORS`):
    `declined` with the refusal as its `error` (it never ran: no output), as the gemini-cli
    lane reads the same refusal; any other error fails the item."""
    g = (Gemini().start("go").answer([call("run_shell_command", {"command": "touch x"}),
                                      call("mcp_files_read", {})])
         .results(not_registered("run_shell_command"), {"error": "MCP server crashed"})
         .answer([text("could not")]))
    cmd, mcp, _ = completed(run(tmp_path, g.exchanges))
    assert (cmd["status"], cmd["exit_code"], cmd["output"]) == ("declined", None, "")
    assert "not found" in cmd["error"]
    assert (mcp["status"], mcp["error"]) == ("failed", "MCP server crashed")


def test_api_call_ids_pair_parallel_calls_of_one_tool(tmp_path: Path) -> None:
    """When the API gives functionCall ids, responses pair by id, whatever their order."""
    g = Gemini().start("go").answer([call("run_shell_command", {"command": "a"}, "c1"),
                                     call("run_shell_command", {"command": "b"}, "c2")])
    g.contents.append({"role": "user", "parts": [
        {"functionResponse": {"name": "run_shell_command", "id": "c2",
                              "response": shell_output("B", 1)}},
        {"functionResponse": {"name": "run_shell_command", "id": "c1",
                              "response": shell_output("A")}}]})
    g.answer([text("ok")])
    items = completed(run(tmp_path, g.exchanges))
    assert [(i["command"], i["exit_code"], i["output"]) for i in items[:2]] == [
        ("b", 1, "B"), ("a", 0, "A")]


def test_call_without_response_fails_at_turn_end(tmp_path: Path) -> None:
    """The recording stops after a response with a call: the functionResponse never arrives,
    so the call stays in_progress and the builder fails it when the truncated turn closes."""
    events = run(tmp_path, Gemini().start("go")
                 .answer([call("run_shell_command", {"command": "sleep 9"})]).exchanges)
    assert shape(events) == ["session.started", "turn.started", "command_execution:failed",
                             "turn.failed:stream_truncated"]


# ------------------------------------------------------------------------------ turns and runs


def test_turn_boundaries_and_one_prompt_per_run(tmp_path: Path) -> None:
    """functionResponses continue a turn; a later prompt starts a new run even when the
    history is carried verbatim: headless Gemini CLI answers one prompt per process, and a
    resumed text-only history is byte-identical to a live one (seen in the `resume` recording),
    so the traffic cannot tell them apart."""
    g = (Gemini().start("one").answer([call("run_shell_command", {"command": "ls"})])
         .results(shell_output("")).answer([text("a")])
         .start("two").answer([text("b")]))
    events = run(tmp_path, g.exchanges)
    assert shape(events) == ["session.started", "turn.started", "command_execution:completed",
                             "assistant_message:completed", "turn.completed", "session.started",
                             "turn.started", "assistant_message:completed", "turn.completed"]
    assert [e["turn"] for e in events if e["type"] == "turn.started"] == [0, 1]
    sessions = [e for e in events if e["type"] == "session.started"]
    assert sessions[1]["resumed_from"] == sessions[0]["thread_id"]


def test_resume_starts_a_new_run(tmp_path: Path) -> None:
    """`gemini --resume`: the new process rebuilds the history (fresh session context, each
    functionResponse twice), so the contents are no verbatim extension: a new session.started,
    resumed_from = the thread fingerprint (the same first prompt names the same thread). The
    duplicated responses in history complete nothing twice."""
    g = (Gemini().start("one").answer([call("run_shell_command", {"command": "ls"})])
         .results(shell_output("a.txt")).answer([text("a")]))
    g.resumed("two").answer([text("b")])
    events = run(tmp_path, g.exchanges)
    sessions = [e for e in events if e["type"] == "session.started"]
    assert len(sessions) == 2
    assert sessions[0]["resumed_from"] is None
    assert sessions[1]["resumed_from"] == sessions[0]["thread_id"] == sessions[1]["thread_id"]
    assert shape(events).count("command_execution:completed") == 1


def test_resumed_run_alone_names_its_thread(tmp_path: Path) -> None:
    g = Gemini().start("one").answer([text("a")])
    g.exchanges.clear()
    g.resumed("two").answer([text("b")])
    [session] = [e for e in run(tmp_path, g.exchanges) if e["type"] == "session.started"]
    assert session["resumed_from"] == session["thread_id"]


def _rate_limited(g: Gemini) -> Gemini:
    """The conversation call answered with HTTP 429 (nothing added to the history)."""
    g.exchanges.append(post(stream_path(), g.body(), 429,
                            reply=error_body(429, "RESOURCE_EXHAUSTED", "slow down")))
    return g


def test_run_after_runs_that_failed_at_once_is_resumed(tmp_path: Path) -> None:
    """Quirk (silent resume, found by the failure-step round trip): runs that all fail at their
    first call (HTTP 429) leave only prompts in the history, no model turn, yet the next run of
    the same thread (same first prompt) is resumed from it."""
    g = _rate_limited(_rate_limited(Gemini().start("one")).start("two"))
    events = run(tmp_path, g.exchanges)
    assert shape(events) == ["session.started", "turn.started", "turn.failed:rate_limit"] * 2
    first, second = [e for e in events if e["type"] == "session.started"]
    assert (first["resumed_from"], second["resumed_from"]) == (None, first["thread_id"])
    assert second["thread_id"] == first["thread_id"]


def test_prompt_after_a_failed_turns_responses_starts_a_run(tmp_path: Path) -> None:
    """Quirk (prompt after results, found by the failure-step round trip): run 0 fails at the
    call carrying its functionResponse; run 1's request keeps that response, then its prompt.
    The turn the response belongs to has ended, so the prompt after it starts a new, resumed
    run, not the failed turn going on."""
    g = _rate_limited(Gemini().start("one").answer([call("run_shell_command",
                                                         {"command": "true"})])
                      .results(shell_output("ok")))
    events = run(tmp_path, _rate_limited(g.start("two")).exchanges)
    assert shape(events) == ["session.started", "turn.started", "command_execution:completed",
                             "turn.failed:rate_limit", "session.started", "turn.started",
                             "turn.failed:rate_limit"]
    first, second = [e for e in events if e["type"] == "session.started"]
    assert second["resumed_from"] == first["thread_id"]


def test_other_conversation_is_a_new_unresumed_run(tmp_path: Path) -> None:
    a, b = Gemini().start("one").answer([text("a")]), Gemini().start("two").answer([text("b")])
    sessions = [e for e in run(tmp_path, a.exchanges + b.exchanges)
                if e["type"] == "session.started"]
    assert [s["resumed_from"] for s in sessions] == [None, None]
    assert sessions[0]["thread_id"] != sessions[1]["thread_id"]


# ------------------------------------------------------------------------------ side calls


def test_routing_call_belongs_to_the_turn_it_routes(tmp_path: Path) -> None:
    """Gemini CLI's `:generateContent` routing call comes before the prompt's first stream
    request. It never forms a turn: it becomes one `side_call.routing` tool_call emitted right
    after the turn it serves starts, with the router's JSON answer; its usage is not counted."""
    events = run(tmp_path, Gemini(routing=True).start("hi").answer([text("x")]).exchanges)
    assert shape(events) == ["session.started", "turn.started", "tool_call:completed",
                             "assistant_message:completed", "turn.completed"]
    routing = completed(events)[0]
    assert routing["name"] == "side_call.routing" and routing["name"] in LANE.noise_tools
    assert routing["result"]["complexity_score"] == 20
    assert routing["arguments"]["model"] == "gemini-3.5-flash-lite"
    assert events[-1]["usage"]["input_tokens"] == 100


def test_web_search_helper_and_count_tokens_inside_a_turn(tmp_path: Path) -> None:
    """google_web_search runs a generateContent with googleSearch between the call and its
    response; countTokens is answered by the SDK's CountTokensResponse."""
    g = Gemini().start("go").answer([call("google_web_search", {"query": "q"})])
    g.side(web_search_exchange("q"))
    g.side(post(f"/v1beta/models/{MODEL}:countTokens", {"contents": g.contents},
                reply=b'{"totalTokens": 42}'))
    g.results({"output": "results"}).answer([text("ok")])
    items = completed(run(tmp_path, g.exchanges))
    assert [(i["kind"], i.get("name")) for i in items] == [
        ("tool_call", "side_call.web_search"), ("tool_call", "side_call.count_tokens"),
        ("web_search", None), ("assistant_message", None)]
    assert items[1]["result"] == {"total_tokens": 42}


def test_unknown_path_and_orphan_side_call_are_kept(tmp_path: Path) -> None:
    """A request on a path that is no model method is an `unknown` item (payload: method,
    path, status, answer); a side call that no turn follows is kept as `unknown` too."""
    odd = post("/v1beta/files", {"x": 1}, reply=b'{"files": []}')
    g = Gemini().start("go").answer([text("ok")])
    g.side(odd).side(routing_exchange(g.contents))
    events = run(tmp_path, g.exchanges)
    unknown = [i for i in completed(events) if i["kind"] == "unknown"]
    assert [u["native_type"] for u in unknown] == ["side_call", "side_call.routing"]
    assert unknown[0]["payload"]["path"] == "/v1beta/files"
    assert events[-1]["turn"] is None


def test_failed_side_call_is_a_failed_item_not_a_failed_turn(tmp_path: Path) -> None:
    g = Gemini().start("go")
    g.exchanges.append(post("/v1beta/models/gemini-3.5-flash-lite:generateContent",
                            {"contents": g.contents, "generationConfig": {
                                "responseJsonSchema": ROUTING_SCHEMA}}, status=500,
                            reply=error_body(500, "INTERNAL", "boom")))
    g.answer([text("ok")])
    events = run(tmp_path, g.exchanges)
    side = completed(events)[0]
    assert (side["name"], side["status"]) == ("side_call.routing", "failed")
    assert "boom" in side["error"] and shape(events)[-1] == "turn.completed"


# ------------------------------------------------------------------------------ failures


@pytest.mark.parametrize(("status", "rpc", "kind"), [
    (500, "INTERNAL", "provider"), (429, "RESOURCE_EXHAUSTED", "rate_limit"),
    (401, "UNAUTHENTICATED", "auth"), (400, "INVALID_ARGUMENT", "provider"),
    (404, "NOT_FOUND", "provider"), (408, "DEADLINE_EXCEEDED", "network")])
def test_http_error_status_fails_the_turn(tmp_path: Path, status: int, rpc: str,
                                          kind: str) -> None:
    """The SDK raises ServerError/ClientError; the lane maps its code through the core's one
    table (`harness.contract.model.HTTP_STATUS_KINDS`), then the RPC status."""
    g = Gemini().start("go")
    g.exchanges.append(post(stream_path(), g.body(), status, reply=error_body(status, rpc, "no")))
    events = run(tmp_path, g.exchanges)
    assert shape(events) == ["session.started", "turn.started", f"turn.failed:{kind}"]
    assert events[-1]["error"]["message"] == f"HTTP {status}: no"


def test_error_chunk_mid_stream(tmp_path: Path) -> None:
    """An `{"error": ...}` chunk inside the SSE stream: the SDK raises at that chunk; text that
    arrived before it ends failed, the turn fails with the chunk's code."""
    frames = [*sse(chunk([text("par")])),
              b'data: ' + error_body(503, "UNAVAILABLE", "overloaded") + b"\r\n\r\n"]
    events = run(tmp_path, Gemini().start("go").reply(frames).exchanges)
    assert shape(events)[-2:] == ["assistant_message:failed", "turn.failed:provider"]
    assert completed(events)[0]["text"] == "par"


@pytest.mark.parametrize(("finish", "outcome"), [
    ("SAFETY", "turn.failed:provider"), ("MALFORMED_FUNCTION_CALL", "turn.failed:provider"),
    ("MAX_TOKENS", "turn.completed"), ("SOMETHING_NEW", "turn.completed")])
def test_finish_reasons(tmp_path: Path, finish: str, outcome: str) -> None:
    """FINISH_REASONS decides: blocked/broken answers fail the turn, MAX_TOKENS ends it. Quirk:
    a value the SDK does not know arrives as a pseudo enum member; it is kept raw."""
    events = run(tmp_path, Gemini().start("go").answer([text("t")], finish=finish).exchanges)
    assert shape(events)[-1] == outcome
    if outcome == "turn.completed":
        assert events[-1]["stop_reason"] == finish
    else:
        assert finish in events[-1]["error"]["message"]


def test_blocked_prompt_fails_the_turn(tmp_path: Path) -> None:
    frames = sse({"promptFeedback": {"blockReason": "PROHIBITED_CONTENT"},
                  "usageMetadata": usage()})
    events = run(tmp_path, Gemini().start("go").reply(frames).exchanges)
    assert events[-1]["error"] == {"kind": "provider", "retryable": False,
                                   "message": "prompt blocked: PROHIBITED_CONTENT"}


def test_stream_without_finish_reason_then_retry(tmp_path: Path) -> None:
    """Gemini CLI calls a stream that ends without finishReason invalid and (with retries on)
    re-sends the same contents: the cut message ends failed, the turn goes on."""
    g = Gemini().start("go").reply(stream([text("half")], finish=None)).answer([text("whole")])
    assert shape(run(tmp_path, g.exchanges)) == [
        "session.started", "turn.started", "assistant_message:failed",
        "assistant_message:completed", "turn.completed"]


def test_stream_without_finish_reason_truncates(tmp_path: Path) -> None:
    events = run(tmp_path, Gemini().start("go").reply(stream([text("half")], finish=None))
                 .exchanges)
    assert shape(events)[-2:] == ["assistant_message:failed", "turn.failed:stream_truncated"]


# ------------------------------------------------------------------------------ any client


def plain(prompt: str, model: str = MODEL) -> Gemini:
    """A conversation as any client sends it: no Gemini CLI session context, no routing."""
    return Gemini(model=model, cli=False).start(prompt)


def with_header(path: Path, index: int, name: str, value: str) -> Path:
    """Add a request header the cassette writer does not keep (e.g. `user-agent`)."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["interactions"][index]["request"]["headers"][name] = [value]
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


def test_json_array_stream_reads_like_its_sse_twin(tmp_path: Path) -> None:
    """`:streamGenerateContent` without `alt=sse` answers one JSON array of the same
    GenerateContentResponse objects: read fully, in strict and lenient mode, into exactly the
    log its SSE twin gives (not a cut stream)."""
    chunks = [chunk([thought("plan")]), chunk([text("hel")]),
              chunk([text("lo")], finish="STOP", use=usage(7, 3, 0, 2))]
    for cli in (True, False):
        sse_log = run(tmp_path, Gemini(cli=cli).start("hi").reply(sse(*chunks)).exchanges)
        array = Gemini(cli=cli).start("hi").array(*chunks).exchanges
        assert run(tmp_path, array) == sse_log
        assert run(tmp_path, array, lenient=True) == sse_log
    assert [(i["kind"], i["text"]) for i in completed(sse_log)] == [
        ("reasoning", "plan"), ("assistant_message", "hello")]
    assert shape(sse_log)[-1] == "turn.completed"


def test_json_array_cut_off_keeps_its_whole_elements(tmp_path: Path) -> None:
    """A JSON array that stops mid-element: strict refuses naming the framing; lenient keeps
    every whole element before the cut, then the turn fails `stream_truncated`."""
    whole = json_array(chunk([text("kept ")]), chunk([text("lost")], finish="STOP"))
    cut = whole[: whole.rindex(b"lost")]
    exchanges = [post(stream_path(), plain("hi").body(), reply=cut)]
    path = write(tmp_path / "c.yaml", exchanges)
    with pytest.raises(FrameError, match="JSON array answer"):
        normalize_file(path)
    events = normalize_file(path, lenient=True)
    message = next(i for i in completed(events) if i["kind"] == "assistant_message")
    assert (message["text"], message["status"]) == ("kept ", "failed")
    assert shape(events)[-1] == "turn.failed:stream_truncated"


@pytest.mark.parametrize(("status", "element", "kind"), [
    (400, {"code": 400, "message": "API key not valid. Please pass a valid API key.",
           "status": "INVALID_ARGUMENT",
           "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo",
                        "reason": "API_KEY_INVALID", "domain": "googleapis.com"}]}, "auth"),
    (400, {"code": 400, "message": "bad", "status": "INVALID_ARGUMENT"}, "provider"),
    (200, {"code": 429, "message": "quota", "status": "RESOURCE_EXHAUSTED"}, "rate_limit"),
])
def test_json_array_errors(tmp_path: Path, status: int, element: dict[str, Any],
                           kind: str) -> None:
    """An array-wrapped error body (`[{"error": ...}]`, HTTP 4xx) and an error element after
    a chunk (HTTP 200) fail the turn by the one error table; an `ErrorInfo` reason that names
    the cause (API_KEY_INVALID) wins over the HTTP status."""
    chunks = [{"error": element}] if status != 200 else [chunk([text("a")]), {"error": element}]
    events = run(tmp_path, plain("hi").array(*chunks, status=status).exchanges)
    assert shape(events)[-1] == f"turn.failed:{kind}"
    assert element["message"] in events[-1]["error"]["message"]


def test_non_streamed_answer_is_a_turn_of_any_client(tmp_path: Path) -> None:
    """`:generateContent` is a conversation call for any client (a whole answer, finished or
    not); only traffic that says Gemini CLI sent it makes it a side call. A model name never
    decides: the flash-lite model Gemini CLI routes with is a plain model here."""
    g = plain("hi", model="gemini-3.5-flash-lite").generate([text("hello")])
    g.start("again").generate([text("bye")], finish=None)
    events = run(tmp_path, g.exchanges)
    assert shape(events) == ["session.started", "turn.started", "assistant_message:completed",
                             "turn.completed", "turn.started", "assistant_message:completed",
                             "turn.completed"]
    assert [e["stop_reason"] for e in events if e["type"] == "turn.completed"] == ["STOP", None]
    cli = Gemini().start("hi").generate([text("hello")]).answer([text("ok")])
    items = completed(run(tmp_path, cli.exchanges))
    assert [(i["kind"], i.get("name")) for i in items] == [
        ("tool_call", "side_call.generate"), ("assistant_message", None)]


def test_gemini_cli_is_told_by_its_traffic_only(tmp_path: Path) -> None:
    """Gemini CLI's readings apply when a request carries its User-Agent or its routing
    schema (or its session context, the other tests): the same plain traffic is then a
    side call plus a run; without such a mark it is two turns of one conversation."""
    g = plain("hi").generate([text("classified")])
    g.contents.pop()
    g.answer([text("ok")])
    items = completed(run(tmp_path, g.exchanges))
    assert [i["kind"] for i in items] == ["assistant_message", "assistant_message"]
    path = write(tmp_path / "ua.yaml", g.exchanges)
    with_header(path, 0, "user-agent", "GeminiCLI/0.61.0/gemini-2.5-pro (linux; x64; terminal)")
    items = completed(normalize_file(path))
    assert [(i["kind"], i.get("name")) for i in items] == [
        ("tool_call", "side_call.generate"), ("assistant_message", None)]
    routed = plain("hi").side(routing_exchange([{"role": "user", "parts": [text("hi")]}]))
    items = completed(run(tmp_path, routed.answer([text("ok")]).exchanges))
    assert [(i["kind"], i.get("name")) for i in items] == [
        ("tool_call", "side_call.routing"), ("assistant_message", None)]


def test_plain_client_tools_read_by_the_api_meaning(tmp_path: Path) -> None:
    """Without Gemini CLI's marks no runtime rule applies: every function is a tool_call (a
    function named run_shell_command too), its result is the documented `output` key (or the
    whole response when neither `output` nor `error` is given), an `error` key fails it (CLI
    wording such as `Tool "x" not found` declines nothing)."""
    g = (plain("go").answer([call("run_shell_command", {"command": "ls"}, "c1"),
                             call("lookup", {"q": 1}, "c2"), call("write_file", {}, "c3")])
         .results({"output": "Output: a\nExit Code: 3"}, {"return_value": "Mexico"},
                  {"error": 'Tool "write_file" not found.'})
         .answer([text("ok")]))
    shell, lookup, write_file, _ = completed(run(tmp_path, g.exchanges))
    assert (shell["kind"], shell["name"], shell["status"], shell["result"]) == (
        "tool_call", "run_shell_command", "completed", "Output: a\nExit Code: 3")
    assert (lookup["result"], lookup["native_id"]) == ({"return_value": "Mexico"}, "c2")
    assert (write_file["kind"], write_file["status"], write_file["error"]) == (
        "tool_call", "failed", 'Tool "write_file" not found.')


def test_plain_client_sessions_and_context(tmp_path: Path) -> None:
    """Any other client: one session per conversation (a later prompt carrying it is a new
    turn, another first prompt a new session), and no cwd read out of prompt words."""
    g = plain("I'm currently working in the directory: /srv/app").answer([text("a")])
    g.start("and now?").answer([text("b")])
    other = plain("unrelated").answer([text("c")])
    events = run(tmp_path, g.exchanges + other.exchanges)
    sessions = [e for e in events if e["type"] == "session.started"]
    assert [(s["cwd"], s["resumed_from"]) for s in sessions] == [(None, None), (None, None)]
    assert sessions[0]["thread_id"] != sessions[1]["thread_id"]
    assert [e["type"] for e in events].count("turn.completed") == 3


def test_code_execution_parts(tmp_path: Path) -> None:
    """The code execution tool: executableCode starts a `code_execution` tool_call
    ({language, code}), its codeExecutionResult completes it (result {outcome, output});
    another outcome fails it; thought-marked runs are kept too; a result pairs by id; a run
    the answer never answers fails at the answer's end."""
    run_ok = {"executableCode": {"language": "PYTHON", "code": "print(1)"}, "thought": True}
    ok = {"codeExecutionResult": {"outcome": "OUTCOME_OK", "output": "1\n"}, "thought": True}
    a = {"executableCode": {"language": "PYTHON", "code": "1/0", "id": "x1"}}
    b = {"executableCode": {"language": "PYTHON", "code": "loop()", "id": "x2"}}
    failed = {"codeExecutionResult": {"outcome": "OUTCOME_FAILED", "output": "ZeroDivision",
                                      "id": "x1"}}
    g = plain("calc").generate([run_ok, ok, text("so "), a, b, failed, text("done")])
    items = completed(run(tmp_path, g.exchanges))
    assert [(i["kind"], i.get("name"), i["status"]) for i in items] == [
        ("tool_call", "code_execution", "completed"), ("assistant_message", None, "completed"),
        ("tool_call", "code_execution", "failed"), ("tool_call", "code_execution", "failed"),
        ("assistant_message", None, "completed")]
    assert (items[0]["arguments"], items[0]["result"], items[0]["error"]) == (
        {"language": "PYTHON", "code": "print(1)"}, {"outcome": "OUTCOME_OK", "output": "1\n"},
        None)
    assert (items[2]["arguments"]["code"], items[2]["error"], items[2]["native_id"]) == (
        "1/0", "OUTCOME_FAILED", "x1")
    assert (items[3]["arguments"]["code"], items[3]["result"], items[3]["error"]) == (
        "loop()", None, "no codeExecutionResult in the answer")


def test_grounding_becomes_web_searches_and_citations(tmp_path: Path) -> None:
    """Google Search grounding (streamed: empty `groundingMetadata` until the last chunk): one
    web_search per query, each listing the web sources; each grounding support cites its
    sources' url/title with its text on the answer; a recitation citation follows."""
    web = [{"web": {"uri": "https://a.example/1", "title": "a.example"}},
           {"web": {"uri": "https://b.example/2", "title": "b.example"}}]
    supports = [{"segment": {"endIndex": 5, "text": "Sunny"}, "groundingChunkIndices": [0, 1]},
                {"segment": {"startIndex": 6, "endIndex": 9, "text": "mild"},
                 "groundingChunkIndices": [1, 7]}]
    first, last = chunk([text("Sunny ")]), chunk([text("mild")], finish="STOP", use=usage())
    first["candidates"][0]["groundingMetadata"] = {}
    last["candidates"][0]["groundingMetadata"] = {
        "webSearchQueries": ["weather", "forecast"], "groundingChunks": web,
        "groundingSupports": supports}
    last["candidates"][0]["citationMetadata"] = {"citationSources": [
        {"startIndex": 0, "endIndex": 4, "uri": "https://c.example", "title": "c"}]}
    items = completed(run(tmp_path, plain("weather?").reply(sse(first, last)).exchanges))
    assert [(i["kind"], i.get("query")) for i in items] == [
        ("web_search", "weather"), ("web_search", "forecast"), ("assistant_message", None)]
    hits = [{"url": "https://a.example/1", "title": "a.example"},
            {"url": "https://b.example/2", "title": "b.example"}]
    assert items[0]["results"] == hits and items[1]["results"] == hits
    assert items[2]["citations"] == [
        {"url": "https://a.example/1", "title": "a.example", "cited_text": "Sunny"},
        {"url": "https://b.example/2", "title": "b.example", "cited_text": "Sunny"},
        {"url": "https://b.example/2", "title": "b.example", "cited_text": "mild"},
        {"url": None, "title": None, "cited_text": "mild"},
        {"url": "https://c.example", "title": "c", "cited_text": None}]


def test_url_context_fetches_are_tool_calls(tmp_path: Path) -> None:
    """The URL context tool: one `url_context` tool_call per `urlContextMetadata` URL, failed
    unless retrieved; grounding without search queries adds citations but no web_search."""
    fetched = {"urlMetadata": [
        {"retrievedUrl": "https://a.example", "urlRetrievalStatus": "URL_RETRIEVAL_STATUS_SUCCESS"},
        {"retrievedUrl": "https://b.example", "urlRetrievalStatus": "URL_RETRIEVAL_STATUS_UNSAFE"}]}
    grounding = {"groundingChunks": [{"web": {"uri": "https://a.example", "title": "A"}}],
                 "groundingSupports": [{"segment": {"text": "Hi"}, "groundingChunkIndices": [0]}]}
    g = plain("read").generate([text("Hi")], urlContextMetadata=fetched,
                               groundingMetadata=grounding)
    items = completed(run(tmp_path, g.exchanges))
    assert [(i["kind"], i.get("arguments"), i["status"], i.get("error")) for i in items] == [
        ("tool_call", {"url": "https://a.example"}, "completed", None),
        ("tool_call", {"url": "https://b.example"}, "failed", "URL_RETRIEVAL_STATUS_UNSAFE"),
        ("assistant_message", None, "completed", None)]
    assert items[2]["citations"] == [{"url": "https://a.example", "title": "A",
                                      "cited_text": "Hi"}]


def test_citations_without_an_open_answer_text_are_kept_whole(tmp_path: Path) -> None:
    """Grounding that arrives once the answer text has closed (a tool call came after it) has
    no text to carry its citations: they are kept as an `unknown` item, not lost."""
    grounding = {"groundingChunks": [{"web": {"uri": "https://a.example", "title": "A"}}],
                 "groundingSupports": [{"segment": {"text": "Hi"}, "groundingChunkIndices": [0]}]}
    g = plain("read").generate([text("Hi"), call("mystery_tool", {"x": 1})],
                               groundingMetadata=grounding)
    kept = [i for i in completed(run(tmp_path, g.exchanges)) if i["kind"] == "unknown"]
    assert [(i["native_type"], i["payload"]) for i in kept] == [
        ("citations", [{"url": "https://a.example", "title": "A", "cited_text": "Hi"}])]


def test_usage_counts_tool_use_prompt_tokens_as_input(tmp_path: Path) -> None:
    """`toolUsePromptTokenCount` (what built-in tools fed the model) is input beside
    `promptTokenCount`; cached, output and thought counts keep their fields."""
    use = {**usage(17, 205, 4, 319), "toolUsePromptTokenCount": 104}
    events = run(tmp_path, plain("q").generate([text("a")], use=use).exchanges)
    assert events[-1]["usage"] == {"scope": "turn", "input_tokens": 121,
                                   "cached_input_tokens": 4, "cache_write_input_tokens": None,
                                   "output_tokens": 205, "reasoning_tokens": 319}


def test_blocked_prompt_keeps_the_block_message(tmp_path: Path) -> None:
    """`promptFeedback.blockReason` (no candidates) fails the turn; its message is kept."""
    body = {"promptFeedback": {"blockReason": "PROHIBITED_CONTENT",
                               "blockReasonMessage": "The prompt was blocked."}}
    g = plain("x")
    g.exchanges.append(post(f"/v1beta/models/{MODEL}:generateContent", g.body(),
                            reply=json.dumps(body).encode()))
    events = run(tmp_path, g.exchanges)
    assert events[-1]["error"]["message"] == (
        "prompt blocked: PROHIBITED_CONTENT: The prompt was blocked.")
    assert shape(events)[-1] == "turn.failed:provider"


def test_finish_message_the_sdk_drops_is_kept(tmp_path: Path) -> None:
    """The Python SDK drops the Gemini API's `finishMessage`; the lane reads it from the chunk
    JSON, so a MALFORMED_FUNCTION_CALL says what the model tried."""
    g = plain("add").generate([], finish="MALFORMED_FUNCTION_CALL",
                              finishMessage="Malformed function call: print(add(1, 2))")
    events = run(tmp_path, g.exchanges)
    assert events[-1]["error"]["message"] == (
        "finishReason MALFORMED_FUNCTION_CALL: Malformed function call: print(add(1, 2))")


def test_response_without_the_call_id_answers_the_call_of_that_name(tmp_path: Path) -> None:
    """The SDK's automatic function calling echoes the call's id but answers without it (seen
    in genai_generate_function_call): the response still completes the call of that name."""
    g = plain("weather?").generate([call("get_weather", {"city": "Paris"}, "r0")])
    g.contents.append({"role": "user", "parts": [
        {"functionResponse": {"name": "get_weather", "response": {"result": "sunny"}}}]})
    g.generate([text("sunny")])
    tool, _ = completed(run(tmp_path, g.exchanges))
    assert (tool["status"], tool["native_id"], tool["result"]) == (
        "completed", "r0", {"result": "sunny"})


def test_thought_part_of_unknown_content_is_kept(tmp_path: Path) -> None:
    """A `thought: true` part holding neither text nor a signature is not dropped."""
    odd = {"inlineData": {"mimeType": "image/png", "data": "iVBORw0KGgo="}, "thought": True}
    items = completed(run(tmp_path, plain("x").generate([odd, text("a")]).exchanges))
    assert [(i["kind"], i.get("native_type")) for i in items] == [
        ("unknown", "part.inlineData"), ("assistant_message", None)]


# ------------------------------------------------------------------------------ unknowns/errors


def test_unknown_parts_and_candidates_are_kept_whole(tmp_path: Path) -> None:
    """Quirk: the SDK drops JSON fields it does not know, so a part made only of them arrives
    as an empty `Part()`. The lane keeps the chunk JSON the SDK read and emits such a part as
    an `unknown` item with its raw payload; a known part the lane does not map (inlineData)
    and a second candidate are kept the same way."""
    beam = {"hologramBeam": {"power": "on"}}
    code = {"inlineData": {"mimeType": "image/png", "data": "iVBORw0KGgo="}}
    second = {"content": {"role": "model", "parts": [text("alt")]}, "index": 1}
    first = chunk([text("a"), beam, code])
    first["candidates"].append(second)
    frames = sse(first, chunk([text("b")], finish="STOP", use=usage()))
    items = completed(run(tmp_path, Gemini().start("go").reply(frames).exchanges))
    assert [(i["kind"], i.get("native_type")) for i in items] == [
        ("assistant_message", None), ("unknown", "part.hologramBeam"),
        ("unknown", "part.inlineData"), ("unknown", "candidate"),
        ("assistant_message", None)]
    assert items[1]["payload"] == beam and items[2]["payload"] == code


def test_request_body_not_json(tmp_path: Path) -> None:
    """Strict: a FrameError naming the file and the interaction index (as `line`). Lenient: an
    `error` item, and later interactions still replay in their recorded order."""
    good = Gemini().start("go").answer([text("ok")]).exchanges
    path = write(tmp_path / "c.yaml", [post(stream_path(), b"not json", frames=[]), *good])
    with pytest.raises(FrameError) as info:
        normalize_file(path)
    assert (info.value.source, info.value.line) == (str(path), 2)
    assert shape(normalize_file(path, lenient=True)) == [
        "error:completed", "unknown:completed", "session.started", "turn.started",
        "assistant_message:completed", "turn.completed"]


def test_request_contents_the_sdk_rejects(tmp_path: Path) -> None:
    body = {"contents": [{"role": "user", "parts": [{"text": 5}]}]}
    path = write(tmp_path / "c.yaml", [post(stream_path(), body, frames=stream([text("x")]))])
    with pytest.raises(FrameError) as info:
        normalize_file(path)
    assert "contents.0.parts.0.text" in info.value.reason


DEEP = b"[" * 3000 + b"]" * 3000
"""SSE data nested deeper than Python's JSON reader goes (RecursionError, not ValueError)."""


@pytest.mark.parametrize("data", [b"{oops", DEEP], ids=["not_json", "nested_3000_deep"])
def test_sse_data_the_sdk_cannot_parse(tmp_path: Path, data: bytes) -> None:
    """Quirk: SSE data nested 3000 deep made the SDK (and the chunk observer) raise
    RecursionError, which escaped the lane; it is a malformed frame like any other now."""
    frames = [*sse(chunk([text("ok")])), b"data: " + data + b"\r\n\r\n"]
    path = write(tmp_path / "c.yaml", Gemini().start("go").reply(frames).exchanges)
    with pytest.raises(FrameError) as info:
        normalize_file(path)
    assert info.value.line == 2 and "SSE" in info.value.reason
    lenient = normalize_file(path, lenient=True)
    assert_well_formed(lenient)
    assert shape(lenient)[-4:] == ["assistant_message:failed", "error:completed",
                                   "unknown:completed",
                                   "turn.failed:stream_truncated"]


@pytest.mark.parametrize("sample", sorted(BAD.glob("*.yaml")), ids=lambda p: p.stem)
def test_bad_cassettes_strict_and_lenient(sample: Path) -> None:
    """The shared bad-cassette corpus, each sample's outcome pinned: strict either reads it
    into a well-formed log (`READ_IN_STRICT`) or raises an InputError naming the file; lenient
    never raises and gives a well-formed log. A sample moving from one outcome to the other
    fails here, so neither direction can change unnoticed."""
    if sample.stem in READ_IN_STRICT:
        assert_well_formed(normalize_file(sample))
    else:
        with pytest.raises(InputError) as info:
            normalize_file(sample)
        assert str(sample) in str(info.value)
    assert_well_formed(normalize_file(sample, lenient=True))


def test_malformed_cassette_strict_and_lenient(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("interactions: [\n")
    with pytest.raises(InputError) as info:
        normalize_file(bad)
    assert str(bad) in str(info.value)
    assert shape(normalize_file(bad, lenient=True)) == ["error:completed"]


def test_stream_only_input_is_copied_for_replay(tmp_path: Path) -> None:
    path = write(tmp_path / "c.yaml", Gemini().start("go").answer([text("ok")]).exchanges)
    events = list(LANE.normalize(LaneInput(stream=io.BytesIO(path.read_bytes()), name="mem"),
                                 RunContext()))
    assert [e.type for e in events][-1] == "turn.completed"


def _foreign_cassette(path: Path, serializer: Any, *, gzipped: bool) -> Path:
    """A cassette as vcrpy itself writes it (its own Request and serializer), the way another
    tool records one: real API host (never contacted), lower-case method, vcrpy headers."""
    ex = Gemini().start("go").answer([text("grüezi ✓")]).exchanges[0]
    headers = {"Content-Type": ["text/event-stream"]}
    body = ex.reply.body
    if gzipped:
        headers["Content-Encoding"] = ["gzip"]
        body = gzip.compress(body)
    request = VcrRequest("post", "https://generativelanguage.googleapis.com"
                                 f"{stream_path()}?alt=sse", ex.request.body,
                         {"x-goog-api-key": "<scrubbed>"})
    response = {"status": {"code": 200, "message": "OK"}, "headers": headers,
                "body": {"string": body}}
    path.write_text(vcr_serialize({"requests": [request], "responses": [response]}, serializer))
    return path


@pytest.mark.parametrize(("name", "serializer", "gzipped"), [
    ("yaml-gzip", yamlserializer, True), ("json", jsonserializer, False)])
def test_foreign_vcrpy_cassettes(tmp_path: Path, name: str, serializer: Any,
                                 gzipped: bool) -> None:
    """Users bring cassettes recorded by other tools: vcrpy's YAML (binary gzip body, as the
    real API answers with `Content-Encoding: gzip`) and vcrpy's JSON both replay."""
    path = _foreign_cassette(tmp_path / f"{name}.cassette", serializer, gzipped=gzipped)
    events = normalize_file(path)
    assert_well_formed(events)
    assert completed(events)[0]["text"] == "grüezi ✓"


def test_sdk_resends_the_recorded_body_unchanged() -> None:
    """The SDK takes the recorded body back whole (contents as types.Content, the rest as
    extra_body), so the request it sends is the recorded one, thought signatures included."""
    g = (Gemini().start("go").answer([call("run_shell_command", {"command": "ls"})])
         .results(shell_output("a")))
    body = g.body()
    sent: list[httpx2.Request] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        sent.append(request)
        return httpx2.Response(200, headers=SSE, content=b"".join(stream([text("x")])))

    ex = post(stream_path(), body, frames=[], query="alt=sse")
    interaction = read_http_cassette(write(Path(tempfile.mkdtemp()) / "c.yaml", [ex]))[0]
    events = list(gm.normalize_interactions([interaction], RunContext(), source="mem",
                                            client_for=_mock_client(handler)))
    assert json.loads(sent[0].content) == body
    assert sent[0].url.path == stream_path() and sent[0].url.query == b"alt=sse"
    assert events[-1].type == "turn.completed"


# ------------------------------------------------------------------------------ re-chunking


def _mock_client(handler: Any) -> gm.ClientFor:
    """SDK clients answered by `handler` through httpx2.MockTransport (no vcrpy, no socket)."""
    def client_for(_: Any, route: gm.Route) -> genai.Client:
        options = types.HttpOptions(
            base_url=route.base_url, api_version=route.api_version,
            retry_options=types.HttpRetryOptions(attempts=1),
            httpx_client=httpx2.Client(transport=httpx2.MockTransport(handler)))
        return genai.Client(vertexai=False, api_key="replay", http_options=options)
    return client_for


_QUEUED: list[list[bytes]] = []


def _answer_queued(request: httpx2.Request) -> httpx2.Response:
    return httpx2.Response(200, headers=SSE, content=iter(_QUEUED.pop(0)))


_QUEUED_CLIENT = gm.cached(_mock_client(_answer_queued))
"""One SDK client for every example (building one costs ~0.2 s); each request takes the next
queued chunk list as its streamed answer."""


_RECHUNK = (Gemini().start("go")
            .answer([thought("denke über Größe nach ✓")], [text("läuft ")],
                    [call("run_shell_command", {"command": "echo ünï"})])
            .results(shell_output("ünï"))
            .answer([text("fertig: 日本語 ")], [text("✓ — ok 🎉")]))
_RECHUNK_PATH = Path(tempfile.mkdtemp(prefix="gemini-rechunk-")) / "c.yaml"
write(_RECHUNK_PATH, _RECHUNK.exchanges)
_RECHUNK_INTERACTIONS = read_http_cassette(_RECHUNK_PATH)


def _normalize_chunks(chunks_for: list[list[bytes]]) -> list[dict[str, Any]]:
    """The re-chunking cassette's log when the n-th request is answered by the n-th chunk
    list, streamed chunk by chunk."""
    _QUEUED[:] = chunks_for
    events = gm.normalize_interactions(_RECHUNK_INTERACTIONS, RunContext(), source="mem",
                                       client_for=_QUEUED_CLIENT)
    return [e.model_dump(mode="json") for e in events]


@functools.cache
def _whole_log() -> str:
    return json.dumps(_normalize_chunks([[i.response.body] for i in _RECHUNK_INTERACTIONS]))


@settings(max_examples=scaled(60), deadline=None)
@given(cuts=st.lists(st.lists(st.integers(min_value=0, max_value=10**6), max_size=40),
                     min_size=2, max_size=2))
def test_rechunked_sse_gives_the_identical_log(cuts: list[list[int]]) -> None:
    """Invariant: the same SSE bodies split at arbitrary byte boundaries (inside multi-byte
    UTF-8 characters, inside `data:` lines and between `\\r` and `\\n`) normalize to the
    identical log. vcrpy always delivers one chunk, so this feeds the SDK through an
    httpx2.MockTransport."""
    bodies = [i.response.body for i in _RECHUNK_INTERACTIONS]
    whole = json.loads(_whole_log())
    assert shape(whole)[-1] == "turn.completed"
    assert any(ord(ch) > 0xFFFF for ch in json.dumps(whole, ensure_ascii=False))
    assert _normalize_chunks([split(b, c) for b, c in zip(bodies, cuts, strict=True)]) == whole


def test_vcr_replay_equals_mock_transport_replay() -> None:
    """The vcrpy path (one chunk) and the MockTransport path read the same cassette alike."""
    assert normalize_file(_RECHUNK_PATH) == json.loads(_whole_log())


# ------------------------------------------------------------------------------ checked-in data


def _reference_cassettes() -> dict[str, list[Exchange]]:
    """The reviewable cassettes under tests/data/gemini/ (regenerate: run this module)."""
    tools = (Gemini(routing=True).start("run it")
             .answer([thought("plan the work")], [text("Running.")],
                     [call("run_shell_command", {"command": "echo hi; exit 3"})])
             .results(shell_output("hi", 3))
             .answer([call("write_file", {"file_path": "a.txt", "content": "hi\n"})])
             .results(_sample_call("write_file")[1])
             .answer([text("done ✓")]))
    resume = Gemini().start("first").answer([text("one")])
    resume.resumed("second").answer([text("two")])
    failure = Gemini().start("go")
    failure.exchanges.append(post(stream_path(), failure.body(), 500,
                                  reply=error_body(500, "INTERNAL", "Internal error "
                                                                    "encountered.")))
    return {"tool_rebuild": tools.exchanges, "resume": resume.exchanges,
            "http_500": failure.exchanges}


REFERENCE_SHAPES = {
    "tool_rebuild": ["session.started", "turn.started", "tool_call:completed",
                     "reasoning:completed", "assistant_message:completed",
                     "command_execution:failed", "file_change:completed",
                     "assistant_message:completed", "turn.completed"],
    "resume": ["session.started", "turn.started", "assistant_message:completed",
               "turn.completed", "session.started", "turn.started",
               "assistant_message:completed", "turn.completed"],
    "http_500": ["session.started", "turn.started", "turn.failed:provider"],
}


@pytest.mark.parametrize("name", sorted(REFERENCE_SHAPES))
def test_checked_in_reference_cassettes(name: str) -> None:
    """Each checked-in cassette is what the builders render (no drift) and normalizes to its
    documented shape."""
    path = DATA / f"{name}.http.yaml"
    assert path.read_text(encoding="utf-8") == render_http_cassette(_reference_cassettes()[name])
    events = normalize_file(path)
    assert_well_formed(events)
    assert shape(events) == REFERENCE_SHAPES[name]


# ------------------------------------------------------------------------------ real recordings


def test_real_recordings_normalize_and_match_their_outlines() -> None:
    """Every recorded Gemini CLI cassette normalizes strictly, is well formed, and matches the
    scenario's outline for this lane (expect.lanes['gemini'] or expect.turns; the lane's
    plumbing tools left out). With no recordings yet this checks nothing."""
    problems = lanekit.recording_problems(LANE)
    assert problems == {}, json.dumps(problems, indent=2)


if __name__ == "__main__":  # regenerate the reference cassettes
    DATA.mkdir(parents=True, exist_ok=True)
    for cassette_name, cassette_exchanges in _reference_cassettes().items():
        write(DATA / f"{cassette_name}.http.yaml", cassette_exchanges)


# ------------------------------------------------------------------------- Vertex AI REST client

VERTEX_SHAPE = Path(__file__).resolve().parent / "data" / "shapes" / "gemini"


def test_integer_enums_are_refused_by_name_and_kept_in_lenient_mode(tmp_path: Path) -> None:
    """`$alt=json;enum-encoding=int` (the Vertex AI REST client, e.g. langchain-google-vertexai
    in openinference's cassettes) answers `finishReason: 1`: google-genai cannot read it. Strict
    names the encoding (before: an AttributeError about `upper`); lenient keeps the answer whole
    (`unread_answer`) beside the notice."""
    spec = importlib.util.spec_from_file_location(
        "write_vertex_rest", VERTEX_SHAPE / "write_vertex_rest.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    path = tmp_path / "vertex.http.yaml"
    path.write_text(yaml.safe_dump(module.int_enums(), sort_keys=False), encoding="utf-8")
    with pytest.raises(FrameError, match=r"integer enums .*enum-encoding=int"):
        normalize_file(path)
    lenient = normalize_file(path, lenient=True)
    kept = [i for i in completed(lenient) if i["kind"] == "unknown"]
    assert kept[0]["native_type"] == "unread_answer"
    assert kept[0]["payload"]["body"]["candidates"][0]["finishReason"] == 1
