"""Anthropic Messages stub: the encoder's SSE read back by the official SDK, and the responder's
choice of answer from request content (never call order) plus its request checks."""

from __future__ import annotations

import json
from typing import Any

import httpx2
import pytest
from anthropic import Anthropic, APIStatusError
from hypothesis import given
from hypothesis import strategies as st

from harness.record.providers.anthropic import (
    DUMMY_API_KEY,
    AnthropicResponder,
    RequestMismatch,
    WireMessage,
    encode_message,
    expand_run,
    json_pieces,
    pick_answer,
)
from harness.record.stub import StubReply, StubRequest
from harness.scenario import Scenario

CWD = "/work/space"


def scenario(steps: list[Any], *, prompts: tuple[str, ...] = ("Do it.",)) -> Scenario:
    runs = [{"prompt": p, "steps": steps if n == len(prompts) - 1 else [[{"text": "ok"}]]}
            for n, p in enumerate(prompts)]
    return Scenario.model_validate({"name": "t", "description": "t", "runs": runs,
                                    "expect": {"turns": [{}] * len(prompts)}})


def body(messages: list[dict[str, Any]], *, stream: bool = True, **extra: Any) -> bytes:
    system = [{"type": "text", "text": f" - Primary working directory: {CWD}\n"}]
    return json.dumps({"model": "claude-opus-5-5", "messages": messages, "system": system,
                       "stream": stream, **extra}).encode()


def request(payload: bytes, path: str = "/v1/messages", key: str = DUMMY_API_KEY
            ) -> StubRequest:
    return StubRequest("POST", path, "beta=true", {"x-api-key": key}, payload)


def user(text: str) -> dict[str, Any]:
    return {"role": "user", "content": [{"type": "text", "text": text}]}


def echo_back(message: WireMessage) -> list[dict[str, Any]]:
    """The history Claude Code sends after our answer: the answer, then its tool results."""
    out = [{"role": "assistant", "content": list(message.blocks)}]
    results = [{"type": "tool_result", "tool_use_id": i, "content": "ok"}
               for i in message.tool_use_ids]
    return out + ([{"role": "user", "content": results}] if results else [])


def sdk_final(reply: StubReply) -> Any:
    """Read a reply with the official SDK's streaming accumulator."""
    transport = httpx2.MockTransport(lambda _: httpx2.Response(
        reply.status, headers=reply.headers, content=b"".join(reply.chunks)))
    client = Anthropic(api_key="k", base_url="http://stub", max_retries=0,
                       http_client=httpx2.Client(transport=transport))
    with client.messages.stream(model="m", max_tokens=10,
                                messages=[{"role": "user", "content": "x"}]) as stream:
        return stream.get_final_message()


# ==================================================================================== encoder


def test_sdk_rebuilds_every_block_kind() -> None:
    sc = scenario([[{"reasoning": "think"}, {"reasoning": {"text": "x", "encrypted": True}},
                    {"text": "hello " * 20}, {"shell": "ls"}]])
    message = expand_run(sc, 0, CWD)[0]
    assert isinstance(message, WireMessage)
    final = sdk_final(StubReply(200, {"content-type": "text/event-stream"},
                                encode_message(message, "m", {"input_tokens": 1,
                                                              "output_tokens": 2})))
    assert [b.type for b in final.content] == ["thinking", "redacted_thinking", "text",
                                               "tool_use"]
    assert final.content[0].thinking == "think" and final.content[0].signature
    assert final.content[2].text == "hello " * 20
    assert final.content[3].name == "Bash" and final.content[3].input["command"] == "ls"
    assert final.stop_reason == "tool_use" and final.usage.output_tokens == 2


def test_deferred_tools_are_loaded_through_toolsearch_first() -> None:
    """Claude Code 2.1.328 defers MCP tools, TodoWrite and WebSearch behind ToolSearch."""
    sc = scenario([[{"mcp": {"server": "demo", "tool": "echo", "arguments": {"text": "p"}}}]])
    prep, call = expand_run(sc, 0, CWD)[:2]
    assert isinstance(prep, WireMessage) and isinstance(call, WireMessage)
    assert prep.blocks[0]["name"] == "ToolSearch"
    assert prep.blocks[0]["input"]["query"] == "select:mcp__demo__echo"
    assert call.blocks[0]["name"] == "mcp__demo__echo"


def test_patch_maps_to_write_edit_with_a_read_first() -> None:
    """Edit refuses a file that was not Read in the session: the encoder reads it first."""
    sc = scenario([[{"patch": {"add": [{"path": "a.md", "content": "x"}],
                               "update": [{"path": "g.py", "old": "a", "new": "b"}]}}]])
    prep, edit = expand_run(sc, 0, CWD)[:2]
    assert isinstance(prep, WireMessage) and isinstance(edit, WireMessage)
    assert [(b["name"], b["input"]["file_path"]) for b in prep.blocks] == [
        ("Read", f"{CWD}/g.py")]
    assert [b["name"] for b in edit.blocks] == ["Write", "Edit"]


def test_web_search_answer_follows_its_result() -> None:
    """WebSearch is a client tool in Claude Code: text after it answers the search result."""
    sc = scenario([[{"web_search": {"query": "q"}}, {"text": "found"}]])
    answers = expand_run(sc, 0, CWD)
    assert [len(a.blocks) for a in answers if isinstance(a, WireMessage)] == [1, 1, 1]
    last = answers[-1]
    assert isinstance(last, WireMessage) and last.blocks[0]["text"] == "found"


@given(st.dictionaries(st.text(max_size=5), st.text(max_size=20) | st.integers(), max_size=4))
def test_json_pieces_concatenate_to_the_input(value: dict[str, Any]) -> None:
    """Invariant: the streamed input_json pieces join to the same JSON object."""
    assert json.loads("".join(json_pieces(value))) == value


# ==================================================================================== responder


def run_script(sc: Scenario) -> list[StubReply]:
    """Drive the responder like Claude Code: each answer's tool uses come back as results."""
    responder = AnthropicResponder(sc)
    history = [user("Do it.")]
    replies: list[StubReply] = []
    for answer in expand_run(sc, 0, CWD):
        reply = responder.respond(request(body(history)))
        replies.append(reply)
        if isinstance(answer, WireMessage):
            history += echo_back(answer)
    return replies


def test_answer_is_chosen_by_tool_result_count() -> None:
    sc = scenario([[{"shell": "ls"}], [{"shell": "pwd"}], [{"text": "done"}]])
    finals = [sdk_final(r) for r in run_script(sc)]
    assert [f.content[0].type for f in finals] == ["tool_use", "tool_use", "text"]
    assert finals[1].content[0].input["command"] == "pwd"


def test_side_calls_do_not_advance_the_script() -> None:
    sc = scenario([[{"shell": "ls"}], [{"text": "done"}]])
    responder = AnthropicResponder(sc)
    tokens = responder.respond(request(b'{"messages": []}', path="/v1/messages/count_tokens"))
    assert json.loads(tokens.body)["input_tokens"] > 0
    title = responder.respond(request(body([user("Write a title")], stream=False)))
    assert json.loads(title.body)["type"] == "message"
    first = sdk_final(responder.respond(request(body([user("Do it.")]))))
    assert first.content[0].name == "Bash"


def test_nested_web_search_gets_server_tool_results() -> None:
    sc = scenario([[{"web_search": {"query": "py"}}]])
    nested = body([user("Perform a web search for the query: py")],
                  tools=[{"type": "web_search_20250305", "name": "web_search"}])
    final = sdk_final(AnthropicResponder(sc).respond(request(nested)))
    assert [b.type for b in final.content] == ["server_tool_use", "web_search_tool_result",
                                               "text"]


def test_failure_steps() -> None:
    """HTTP failures keep their status; a stream error breaks the stream, and the non-streaming
    fallback Claude Code then sends gets the matching HTTP error."""
    http = AnthropicResponder(scenario([{"fail": {"http_status": 529, "message": "busy"}}]))
    reply = http.respond(request(body([user("Do it.")])))
    assert reply.status == 529 and json.loads(reply.body)["error"]["type"] == "overloaded_error"
    stream = AnthropicResponder(scenario([{"fail": {"stream_error": "server_error",
                                                     "message": "crash"}}]))
    broken = stream.respond(request(body([user("Do it.")])))
    assert b"event: error" in broken.body
    with pytest.raises(APIStatusError, match="crash"):
        sdk_final(broken)
    fallback = stream.respond(request(body([user("Do it.")], stream=False)))
    assert fallback.status == 500


def test_wrong_key_is_a_mismatch() -> None:
    responder = AnthropicResponder(scenario([[{"text": "hi"}]]))
    with pytest.raises(RequestMismatch, match="x-api-key"):
        responder.respond(request(body([user("Do it.")]), key="other"))


def test_missing_tool_result_is_a_mismatch() -> None:
    sc = scenario([[{"shell": "ls"}], [{"text": "done"}]])
    first = expand_run(sc, 0, CWD)[0]
    assert isinstance(first, WireMessage)
    history = [user("Do it."), {"role": "assistant", "content": list(first.blocks)},
               {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "other"}]}]
    with pytest.raises(RequestMismatch, match="tool history mismatch"):
        AnthropicResponder(sc).respond(request(body(history)))


def test_resume_must_carry_earlier_prompts() -> None:
    sc = scenario([[{"text": "again"}]], prompts=("First.", "Second."))
    responder = AnthropicResponder(sc)
    with pytest.raises(RequestMismatch, match="resume lost the thread"):
        responder.respond(request(body([user("Second.")])))
    ok = responder.respond(request(body([user("First."), {"role": "assistant", "content": [
        {"type": "text", "text": "ok"}]}, user("Second.")])))
    assert sdk_final(ok).content[0].text == "again"


def test_pick_answer_counts_tool_uses() -> None:
    a = WireMessage("m1", ({"type": "tool_use", "id": "t1", "name": "Bash", "input": {}},
                           {"type": "tool_use", "id": "t2", "name": "Bash", "input": {}}))
    b = WireMessage("m2", ({"type": "text", "text": "x"},))
    assert pick_answer([a, b], 0) == (0, a)
    assert pick_answer([a, b], 2) == (1, b)
    assert pick_answer([a, b], 1) is None
