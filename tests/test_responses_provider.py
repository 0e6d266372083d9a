"""Responses wire encoder and stub responder: step choice from content, request checks, round trip.

Requests are built the way Codex 0.169 grows them (prompt, then each response's output echoed
back followed by its `*_output` items); the round trip replays encoder output through the
codex-adapter lane (the official openai SDK under vcrpy) to prove the shapes are ones it reads.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from harness.contract.lane import LaneInput, RunContext, get_lane
from harness.record.cassette import write_http_cassette
from harness.record.providers.responses import (
    Position,
    ResponsesResponder,
    encode_step,
    patch_text,
    progress_of,
    review_answer,
)
from harness.record.stub import Exchange, StubLog, StubReply, StubRequest
from harness.scenario import PatchSpec, Scenario

KEY = "dummy-key-for-stub"


def scenario(**extra: Any) -> Scenario:
    data: dict[str, Any] = {
        "name": "t", "description": "d",
        "runs": [{"prompt": "first prompt", "steps": [
            [{"text": "looking"}, {"shell": "ls"}],
            [{"patch": {"add": [{"path": "a.txt", "content": "x\n"}]}}],
            [{"mcp": {"server": "demo", "tool": "echo", "arguments": {"text": "hi"}}}],
            [{"plan": [{"text": "one", "status": "completed"}]}],
            [{"reasoning": "think"}, {"web_search": {"query": "q"}}, {"text": "done"}],
        ]}, {"prompt": "second prompt", "steps": [[{"text": "again"}]]}],
        "expect": {"turns": [{}, {}]},
    }
    data.update(extra)
    return Scenario.model_validate(data)


def user(text: str) -> dict[str, Any]:
    return {"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]}


def assistant(text: str) -> dict[str, Any]:
    return {"type": "message", "role": "assistant",
            "content": [{"type": "output_text", "text": text}]}


def output(call_id: str, kind: str = "function_call_output") -> dict[str, Any]:
    return {"type": kind, "call_id": call_id, "output": "Process exited with code 0\nOutput:\n"}


def request(inputs: list[dict[str, Any]], key: str | None = KEY, **body: Any) -> StubRequest:
    headers = {"content-type": "application/json"}
    if key is not None:
        headers["authorization"] = f"Bearer {key}"
    codex = {"client_metadata": {"x-codex-window-id": "w1"}}  # how Codex names itself
    payload = json.dumps({"model": "gpt-5.5", "stream": True, "input": inputs, **codex,
                          **body}).encode()
    return StubRequest("POST", "/v1/responses", "", headers, payload)


def events(reply: StubReply) -> list[dict[str, Any]]:
    frames = b"".join(reply.chunks).decode().split("\n\n")
    return [json.loads(f.split("data: ", 1)[1]) for f in frames if "data: " in f]


def output_items(reply: StubReply) -> list[dict[str, Any]]:
    return [e["item"] for e in events(reply) if e["type"] == "response.output_item.done"]


def call(item_type: str, call_id: str, **fields: Any) -> dict[str, Any]:
    return {"type": item_type, "call_id": call_id, **fields}


# ==================================================================================== choice


def test_first_request_gets_the_first_step() -> None:
    responder = ResponsesResponder(scenario(), expected_key=KEY)
    items = output_items(responder.respond(request([user("first prompt")])))
    assert [i["type"] for i in items] == ["message", "function_call"]
    assert items[1]["call_id"] == "call_r0s0b1"
    assert json.loads(items[1]["arguments"]) == {"cmd": "ls"}


def test_step_follows_the_answered_calls_not_the_call_count() -> None:
    """Step choice is content-based: the answered call ids say how far the run is."""
    inputs = [user("first prompt"), call("function_call", "call_r0s0b1"), output("call_r0s0b1")]
    progress = progress_of(scenario(), inputs)
    assert progress is not None and (progress.run, progress.steps_done) == (0, 1)
    responder = ResponsesResponder(scenario(), expected_key=KEY)
    for _ in range(3):  # the same request, asked again (a retry), gets the same answer
        items = output_items(responder.respond(request(inputs)))
        assert [i["type"] for i in items] == ["custom_tool_call"]
        assert items[0]["input"] == "*** Begin Patch\n*** Add File: a.txt\n+x\n*** End Patch\n"


def test_mcp_step_loads_deferred_tools_first_then_calls_in_the_offered_namespace() -> None:
    """MCP tools are deferred in Codex 0.169: a tool_search_call comes before the MCP call."""
    done = [user("first prompt"), output("call_r0s0b1"),
            output("call_r0s1b0", "custom_tool_call_output")]
    responder = ResponsesResponder(scenario(), expected_key=KEY)
    first = output_items(responder.respond(request(done)))
    assert [i["type"] for i in first] == ["tool_search_call"]
    offered = {"type": "tool_search_output", "call_id": "call_r0s2search", "tools": [
        {"type": "namespace", "name": "mcp__demo", "tools": [{"type": "function",
                                                              "name": "echo"}]}]}
    second = output_items(responder.respond(request([*done, offered])))
    assert second[0]["type"] == "function_call"
    assert (second[0]["namespace"], second[0]["name"]) == ("mcp__demo", "echo")
    assert not responder.log.problems


def test_last_step_encodes_reasoning_web_search_and_text() -> None:
    done = [user("first prompt"), *(output(f"call_r0s{s}b0") for s in range(4))]
    reply = ResponsesResponder(scenario(), expected_key=KEY).respond(request(done))
    kinds = [e["type"] for e in events(reply)]
    assert kinds[0] == "response.created" and kinds[-1] == "response.completed"
    assert "response.reasoning_summary_text.delta" in kinds
    items = output_items(reply)
    assert [i["type"] for i in items] == ["reasoning", "web_search_call", "message"]
    assert items[0]["encrypted_content"] and items[1]["action"]["query"] == "q"
    seqs = [e["sequence_number"] for e in events(reply)]
    assert seqs == list(range(len(seqs)))


def test_side_calls_never_advance_the_script() -> None:
    """A review between two conversation calls gets a verdict; the script stays where it was."""
    sc = scenario(settings={"reviewer": "deny"})
    responder = ResponsesResponder(sc, expected_key=KEY)
    conversation = [user("first prompt")]
    before = output_items(responder.respond(request(conversation)))
    review = request([user("You are judging one planned coding-agent action. ls")],
                     text={"format": {"type": "json_schema", "schema": {"properties": {
                         "outcome": {"type": "string", "enum": ["allow", "deny"]},
                         "rationale": {"type": "string"}}}}})
    verdict = output_items(responder.respond(review))[0]["content"][0]["text"]
    assert json.loads(verdict)["outcome"] == "deny"
    assert output_items(responder.respond(request(conversation))) == before


def test_review_answer_fills_the_schema_by_decision() -> None:
    props = {"risk_level": {"type": "string", "enum": ["low", "medium", "high", "critical"]},
             "outcome": {"type": "string", "enum": ["allow", "deny"]},
             "rationale": {"type": "string"}}
    assert review_answer(props, "approve")["outcome"] == "allow"
    assert review_answer(props, "approve")["risk_level"] == "low"
    assert review_answer(props, "deny")["outcome"] == "deny"


def test_resumed_run_is_found_by_its_prompt() -> None:
    inputs = [user("first prompt"), assistant("done"), user("second prompt")]
    items = output_items(ResponsesResponder(scenario(), expected_key=KEY)
                         .respond(request(inputs)))
    assert items[0]["content"][0]["text"] == "again"


def test_failure_steps_http_status_and_response_failed() -> None:
    sc = Scenario.model_validate({
        "name": "f", "description": "d", "expect": {"turns": [{}, {}]},
        "runs": [{"prompt": "a", "steps": [{"fail": {"http_status": 500}}]},
                 {"prompt": "b", "steps": [{"fail": {"stream_error": "server_error",
                                                     "message": "boom"}}]}]})
    responder = ResponsesResponder(sc, expected_key=KEY)
    http = responder.respond(request([user("a")]))
    assert http.status == 500 and json.loads(http.body)["error"]["type"] == "server_error"
    stream = events(responder.respond(request([user("a"), user("b")])))
    assert stream[-1]["type"] == "response.failed"
    assert stream[-1]["response"]["error"] == {"code": "server_error", "message": "boom"}


# ==================================================================================== checks


def test_missing_tool_output_is_a_readable_problem() -> None:
    log = StubLog()
    responder = ResponsesResponder(scenario(), log, expected_key=KEY)
    inputs = [user("first prompt"), call("function_call", "call_r0s0b1")]
    responder.respond(request(inputs))
    assert log.problems == ["run 0 step 0: call call_r0s0b1 has no matching *_output in the "
                            "request"]


def test_resume_without_history_is_a_problem() -> None:
    log = StubLog()
    ResponsesResponder(scenario(), log, expected_key=KEY).respond(request([user("second prompt")]))
    assert any("lacks run 0's prompt" in p for p in log.problems)
    assert any("lacks run 0's answer 'done'" in p for p in log.problems)


def test_missing_key_is_401_like_the_real_api_and_another_key_is_a_problem() -> None:
    log = StubLog()
    responder = ResponsesResponder(scenario(), log, expected_key=KEY)
    assert responder.respond(request([user("first prompt")], key=None)).status == 401
    assert not log.problems
    assert responder.respond(request([user("first prompt")], key="other")).status == 401
    assert log.problems == ["Authorization: expected 'Bearer <the scenario key>', got another "
                            "bearer token"]


def test_unknown_prompt_is_a_problem() -> None:
    log = StubLog()
    ResponsesResponder(scenario(), log, expected_key=KEY).respond(request([user("hello?")]))
    assert log.problems and "holds no run's prompt" in log.problems[0]


def test_patch_grammar_add_update_delete() -> None:
    spec = PatchSpec.model_validate({"add": [{"path": "n.md", "content": "a\nb\n"}],
                                     "update": [{"path": "g.py", "old": "x\n", "new": "y\n"}],
                                     "delete": ["old.txt"]})
    assert patch_text(spec) == ("*** Begin Patch\n*** Add File: n.md\n+a\n+b\n"
                                "*** Update File: g.py\n@@\n-x\n+y\n"
                                "*** Delete File: old.txt\n*** End Patch\n")


# ==================================================================================== round trip


def test_encoder_round_trips_through_the_codex_adapter_lane(tmp_path: Path) -> None:
    """Every block kind the encoder emits is read back by the SDK-based lane as that kind."""
    sc = scenario()
    responder = ResponsesResponder(sc, expected_key=KEY)
    inputs: list[dict[str, Any]] = [user("first prompt")]
    exchanges: list[Exchange] = []
    offered = {"type": "tool_search_output", "call_id": "call_r0s2search", "tools": [
        {"type": "namespace", "name": "mcp__demo", "tools": [{"type": "function",
                                                              "name": "echo"}]}]}
    for _ in range(6):
        req = request(inputs)
        reply = responder.respond(req)
        exchanges.append(Exchange(req, StubReply(reply.status, reply.headers,
                                                 list(reply.chunks))))
        for item in output_items(reply):
            inputs.append(item)
            if item["type"] == "tool_search_call":
                inputs.append(offered)
            elif item["type"] == "custom_tool_call":
                inputs.append(output(item["call_id"], "custom_tool_call_output"))
            elif item["type"] == "function_call":
                inputs.append(output(item["call_id"]))
    assert not responder.log.problems
    path = tmp_path / "codex.http.yaml"
    write_http_cassette(path, exchanges)
    with path.open("rb") as stream:
        log = [e.model_dump(mode="json") for e in get_lane("codex-adapter").normalize(
            LaneInput(stream, str(path), path), RunContext())]
    kinds = [e["item"]["kind"] for e in log if e["type"] == "item.completed"]
    assert kinds == ["assistant_message", "command_execution", "file_change", "tool_call",
                     "mcp_tool_call", "plan", "reasoning", "web_search", "assistant_message"]
    assert [e["type"] for e in log].count("turn.completed") == 1


@pytest.mark.parametrize("position", [Position(0, 0), Position(3, 7)])
def test_encoding_is_deterministic(position: Position) -> None:
    """Same step, same position: byte-identical frames (re-recording gives no diff)."""
    steps = scenario().runs[0].steps[4]
    assert isinstance(steps, list)
    assert encode_step(steps, position) == encode_step(steps, position)
