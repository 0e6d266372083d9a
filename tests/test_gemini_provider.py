"""Gemini wire encoder and stub responder: shapes the official SDK reads, steps chosen by content.

Requests are built the way Gemini CLI 0.61.0 sends them (seen in cassettes/*/gemini.http.yaml):
`contents` with the session context and the prompt in the first user content, each model answer
echoed back, then a user content of `functionResponse` parts; side calls on `:generateContent`.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from google.genai import types

from harness.record.providers import gemini as gp
from harness.record.stub import StubLog, StubReply, StubRequest
from harness.scenario import Scenario

SCENARIO = Scenario.model_validate({
    "name": "t",
    "description": "two runs with tools",
    "runs": [
        {"prompt": "Run ls.", "steps": [[{"text": "Looking."}, {"shell": "ls"}],
                                        [{"text": "Done."}]]},
        {"prompt": "Again?", "steps": [[{"web_search": {"query": "q"}}, {"text": "Found."}]]},
    ],
    "expect": {"turns": [{"items": []}, {"items": []}]},
})
KEY = "dummy-key-for-stub"


def step_of(*runs: dict[str, Any]) -> Any:
    """The first step of a one-run scenario built from `runs` (blocks or a failure)."""
    return Scenario.model_validate({**SCENARIO.model_dump(), "runs": list(runs),
                                    "expect": {"turns": [{}]}}).runs[0].steps[0]


def frames(reply: StubReply) -> list[dict[str, Any]]:
    """The JSON objects of an SSE reply (checks the CRLF framing on the way)."""
    body = reply.body.decode()
    assert body.endswith("\r\n\r\n")
    return [json.loads(f.removeprefix("data: ")) for f in body.split("\r\n\r\n") if f]


def request(contents: list[dict[str, Any]], *, side: bool = False, key: str = KEY,
            **extra: Any) -> StubRequest:
    action = ":generateContent" if side else ":streamGenerateContent"
    body = json.dumps({"contents": contents, **extra}).encode()
    return StubRequest("POST", f"/v1beta/models/gemini-2.5-pro{action}",
                       "" if side else "alt=sse", {"x-goog-api-key": key}, body)


def prompt(text: str) -> dict[str, Any]:
    return {"role": "user", "parts": [{"text": "<session_context>\n...\n</session_context>"},
                                      {"text": text}]}


def model(parts: list[dict[str, Any]]) -> dict[str, Any]:
    return {"role": "model", "parts": parts}


def answers(calls: list[dict[str, Any]]) -> dict[str, Any]:
    return {"role": "user", "parts": [
        {"functionResponse": {"id": c["functionCall"]["id"], "name": c["functionCall"]["name"],
                              "response": {"output": "ok"}}} for c in calls]}


# ==================================================================================== encoder


def test_stream_is_read_by_the_official_sdk() -> None:
    """Every chunk validates as google-genai's GenerateContentResponse; the texts concatenate
    to the scripted text, and only the last chunk finishes, with usage."""
    reply = gp.encode_step(step_of(SCENARIO.runs[0].model_dump()), gp.Position(0, 0))
    parsed = [types.GenerateContentResponse.model_validate(f) for f in frames(reply)]
    texts = "".join(p.text or "" for p in parsed[:-1])
    assert texts == "Looking."
    assert [c.candidates[0].finish_reason for c in parsed if c.candidates] == [
        None, types.FinishReason.STOP]
    last: Any = parsed[-1]
    call = last.candidates[0].content.parts[0].function_call
    assert (call.name, call.args, call.id) == ("run_shell_command", {"command": "ls"},
                                               "r0s0b1c0")
    assert parsed[-1].usage_metadata is not None
    assert parsed[-1].usage_metadata.prompt_token_count == 1000


@pytest.mark.parametrize(("block", "calls"), [
    ({"shell": "ls"}, [("run_shell_command", {"command": "ls"})]),
    ({"plan": [{"text": "a", "status": "pending"}]},
     [("write_todos", {"todos": [{"description": "a", "status": "pending"}]})]),
    ({"web_search": {"query": "q"}}, [("google_web_search", {"query": "q"})]),
    ({"mcp": {"server": "demo", "tool": "echo", "arguments": {"text": "x"}}},
     [("mcp_demo_echo", {"text": "x"})]),
    ({"patch": {"add": [{"path": "a", "content": "A"}],
                "update": [{"path": "b", "old": "o", "new": "n"}], "delete": ["c"]}},
     [("write_file", {"file_path": "a", "content": "A"}),
      ("replace", {"file_path": "b", "old_string": "o", "new_string": "n",
                   "instruction": "Apply the scripted edit to b."}),
      ("run_shell_command", {"command": "rm -- c"})]),
])
def test_blocks_become_gemini_cli_tool_calls(block: dict[str, Any],
                                             calls: list[tuple[str, dict[str, Any]]]) -> None:
    """TOOL_NAMES: each block is the call of the Gemini CLI tool that does it (one per file)."""
    step = step_of({"prompt": "p", "steps": [[block]]})
    parts = [p for b in step for p in gp.block_parts(b, gp.Position(0, 0), 0)]
    assert [(p["functionCall"]["name"], p["functionCall"]["args"]) for p in parts] == calls
    assert len({p["functionCall"]["id"] for p in parts}) == len(parts)


def test_reasoning_parts_are_thoughts() -> None:
    step = step_of({"prompt": "p", "steps": [[
        {"reasoning": "plain"}, {"reasoning": {"text": "hidden", "encrypted": True}}]]})
    parts = [p for n, b in enumerate(step) for p in gp.block_parts(b, gp.Position(0, 0), n)]
    assert parts[0] == {"text": "plain", "thought": True}
    assert parts[1]["thought"] is True and "text" not in parts[1] and parts[1]["thoughtSignature"]


def test_web_search_ends_the_model_call() -> None:
    """Gemini CLI runs google_web_search itself: blocks after it come in the next call."""
    steps = gp.gemini_steps(SCENARIO.runs[1])
    assert [[type(b).__name__ for b in s] for s in steps] == [["WebSearchBlock"],
                                                              ["TextBlock"]]


def test_http_failure_is_a_google_error_body() -> None:
    fail = step_of({"prompt": "p", "steps": [{"fail": {"http_status": 429,
                                                        "message": "slow down"}}]})
    reply = gp.encode_failure(fail, gp.Position(0, 0))
    assert reply.status == 429
    assert json.loads(reply.body) == {"error": {"code": 429, "message": "slow down",
                                                "status": "RESOURCE_EXHAUSTED"}}


def test_stream_failure_ends_without_finish_reason() -> None:
    fail = step_of({"prompt": "p", "steps": [{"fail": {"stream_error": "server_error",
                                                        "message": "crashed"}}]})
    chunks = frames(gp.encode_failure(fail, gp.Position(0, 0)))
    assert chunks[-1]["error"]["message"] == "crashed"
    assert not any("finishReason" in c.get("candidates", [{}])[0] for c in chunks)


ROUTING_SCHEMA = {"type": "OBJECT", "required": ["complexity_reasoning", "complexity_score"],
                  "properties": {"complexity_reasoning": {"type": "STRING"},
                                 "complexity_score": {"type": "INTEGER"}}}
NEXT_SPEAKER_SCHEMA = {"type": "object", "required": ["reasoning", "next_speaker"],
                       "properties": {"reasoning": {"type": "string"},
                                      "next_speaker": {"type": "string",
                                                       "enum": ["user", "model"]}}}


@pytest.mark.parametrize("schema", [ROUTING_SCHEMA, NEXT_SPEAKER_SCHEMA])
def test_side_calls_answer_an_instance_of_their_schema(schema: dict[str, Any]) -> None:
    """The routing classifier and the next-speaker check parse the answer against the schema
    in their request; a wrong shape makes the CLI print a parse error."""
    answer = gp.side_answer({"generationConfig": {"responseJsonSchema": schema}})
    value = json.loads(answer["candidates"][0]["content"]["parts"][0]["text"])
    assert set(value) == set(schema["required"])
    kinds = {"STRING": str, "string": str, "INTEGER": int}
    for name, spec in schema["properties"].items():
        assert isinstance(value[name], kinds[spec["type"]])
    if schema is NEXT_SPEAKER_SCHEMA:
        assert value["next_speaker"] == "user"


# ==================================================================================== responder


def responder() -> gp.GeminiResponder:
    return gp.GeminiResponder(SCENARIO, StubLog(), expected_key=KEY)


def calls_of(reply: StubReply) -> list[dict[str, Any]]:
    return [p for f in frames(reply) for p in f["candidates"][0]["content"]["parts"]
            if "functionCall" in p]


def test_step_is_chosen_by_content_not_call_order() -> None:
    """Side calls in between do not advance the script; the answered call picks step 1."""
    stub = responder()
    first = stub.respond(request([prompt("Run ls.")]))
    stub.respond(request([{"role": "user", "parts": [{"text": "classify"}]}], side=True,
                         generationConfig={"responseJsonSchema": ROUTING_SCHEMA}))
    calls = calls_of(first)
    history = [prompt("Run ls."), model(calls), answers(calls)]
    second = stub.respond(request(history))
    assert "".join(f["candidates"][0]["content"]["parts"][0].get("text", "")
                   for f in frames(second)) == "Done."
    assert stub.respond(request([prompt("Run ls.")])).body == first.body
    assert stub.log.problems == []


def test_unanswered_function_call_is_a_problem() -> None:
    stub = responder()
    calls = calls_of(stub.respond(request([prompt("Run ls.")])))
    stub.respond(request([prompt("Run ls."), model(calls),
                          {"role": "user", "parts": [{"text": "nothing"}]}]))
    assert any("has no functionResponse" in p for p in stub.log.problems)


def test_key_must_arrive_in_x_goog_api_key() -> None:
    stub = responder()
    stub.respond(request([prompt("Run ls.")], key="other"))
    assert stub.log.problems == ["x-goog-api-key: expected the scenario key, got a different key"]


def test_resume_must_carry_the_earlier_run() -> None:
    """After --resume the request holds run 0's prompt; without it the stub reports it."""
    stub = responder()
    stub.respond(request([prompt("Run ls."), model([{"text": "Done."}]), prompt("Again?")]))
    assert stub.log.problems == []
    stub.respond(request([prompt("Again?")]))
    assert stub.log.problems == ["run 1: history lacks run 0's prompt (resume did not carry "
                                 "the thread)"]


def test_unknown_prompt_and_paths_are_reported() -> None:
    stub = responder()
    reply = stub.respond(request([prompt("Something else")]))
    assert reply.status == 200 and "no run's prompt" in stub.log.problems[0]
    missing = stub.respond(StubRequest("GET", "/v1beta/models", "", {}, b""))
    assert missing.status == 404
