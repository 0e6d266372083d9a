"""Write the `hosted_*` fixtures here: Responses API traffic of tools the API runs itself (remote
MCP with and without approvals, web search with sources and citations, file search, code
interpreter, image generation) and of the client-run computer and local shell tools. The stub
cannot script these, so the exchanges are written from the documented wire format (the item and
event shapes of openai-python's `openai/types/responses/*` and of public recordings, named in
SHAPES.md) and rendered as the recorder renders cassettes.

Run: `python tests/data/shapes/codex-adapter/write_hosted.py` (from the repo root).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from harness.record.cassette import write_http_cassette
from harness.record.stub import Exchange, StubReply, StubRequest, sse_event

HERE = Path(__file__).resolve().parent
MCP_TOOL = {"type": "mcp", "server_label": "games", "server_url": "https://mcp.example.com/mcp",
            "require_approval": "never"}
DICE_TOOL = {"type": "mcp", "server_label": "dmcp", "server_url": "https://dmcp.example.com/sse",
             "require_approval": "always"}
GAMES_TOOLS = [{"name": "get_my_games", "description": "Returns a list of my favorite games.",
                "input_schema": {"type": "object", "properties": {}},
                "annotations": {"read_only": True}},
               {"name": "get_game", "description": "One game by title.",
                "input_schema": {"type": "object",
                                 "properties": {"title": {"type": "string"}}},
                "annotations": None}]
TINY_PNG = ("iVBORw0KGgoAAAANSUHEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU"
            "5ErkJggg==")


def usage(inp: int, out: int, cached: int = 0, reasoning: int = 0) -> dict[str, Any]:
    return {"input_tokens": inp, "input_tokens_details": {"cached_tokens": cached},
            "output_tokens": out, "output_tokens_details": {"reasoning_tokens": reasoning},
            "total_tokens": inp + out}


def message(mid: str, text: str, annotations: list[dict[str, Any]] | None = None
            ) -> dict[str, Any]:
    return {"id": mid, "type": "message", "status": "completed", "role": "assistant",
            "content": [{"type": "output_text", "text": text, "annotations": annotations or [],
                         "logprobs": []}]}


def response(rid: str, output: list[dict[str, Any]], use: dict[str, Any] | None,
             status: str = "completed", **extra: Any) -> dict[str, Any]:
    return {"id": rid, "object": "response", "created_at": 1764806400, "status": status,
            "background": False, "error": None, "incomplete_details": None,
            "instructions": None, "model": "gpt-4.1-2025-04-14", "output": output,
            "parallel_tool_calls": True, "previous_response_id": None, "store": True,
            "temperature": 1.0, "text": {"format": {"type": "text"}}, "tool_choice": "auto",
            "tools": [], "top_p": 1.0, "truncation": "disabled", "usage": use, "user": None,
            "metadata": {}, **extra}


def request(body: dict[str, Any]) -> StubRequest:
    raw = json.dumps({"model": "gpt-4.1", **body}, ensure_ascii=False).encode()
    return StubRequest("POST", "/v1/responses", "",
                       {"content-type": "application/json", "accept": "application/json",
                        "authorization": "Bearer sk-dummy"}, raw)


def whole(body: dict[str, Any], answer: dict[str, Any]) -> Exchange:
    """A non-streamed exchange: the answer is one JSON `response` object."""
    return Exchange(request(body), StubReply(
        200, {"content-type": "application/json"},
        [json.dumps(answer, ensure_ascii=False).encode()]))


Frames = list[tuple[str, dict[str, Any]]]


def streamed(body: dict[str, Any], answer: dict[str, Any],
             frames: Callable[[int, dict[str, Any]], Frames]) -> Exchange:
    """A streamed exchange: created, per output item `frames(n, item)`, completed."""
    events: Frames = [("response.created", {"response": {**answer, "status": "in_progress",
                                                          "output": [], "usage": None}})]
    for n, item in enumerate(answer["output"]):
        events += frames(n, item)
    events.append(("response.completed", {"response": answer}))
    chunks = [sse_event(etype, json.dumps({"type": etype, "sequence_number": seq, **fields},
                                          ensure_ascii=False).encode())
              for seq, (etype, fields) in enumerate(events)]
    return Exchange(request({**body, "stream": True}),
                    StubReply(200, {"content-type": "text/event-stream; charset=utf-8"}, chunks))


def item_frames(n: int, item: dict[str, Any]) -> Frames:
    """The events a hosted item streams with (per openai-python's event types)."""
    iid, itype = item["id"], item["type"]
    at = {"output_index": n, "item_id": iid}
    if itype == "message":
        text = item["content"][0]["text"]
        return [("response.output_item.added",
                 {"output_index": n, "item": {**item, "status": "in_progress", "content": []}}),
                ("response.output_text.delta",
                 {**at, "content_index": 0, "delta": text, "logprobs": []}),
                ("response.output_text.done",
                 {**at, "content_index": 0, "text": text, "logprobs": []}),
                ("response.output_item.done", {"output_index": n, "item": item})]
    if itype == "mcp_list_tools":
        return [("response.output_item.added",
                 {"output_index": n, "item": {**item, "tools": []}}),
                ("response.mcp_list_tools.in_progress", at),
                ("response.mcp_list_tools.completed", at),
                ("response.output_item.done", {"output_index": n, "item": item})]
    if itype == "mcp_call":
        opening = {**item, "status": "in_progress", "arguments": "", "output": None,
                   "error": None}
        return [("response.output_item.added", {"output_index": n, "item": opening}),
                ("response.mcp_call.in_progress", at),
                ("response.mcp_call_arguments.delta", {**at, "delta": item["arguments"]}),
                ("response.mcp_call_arguments.done", {**at, "arguments": item["arguments"]}),
                ("response.mcp_call.completed", at),
                ("response.output_item.done", {"output_index": n, "item": item})]
    code = item["code"]
    opening = {**item, "status": "in_progress", "code": "", "outputs": None}
    return [("response.output_item.added", {"output_index": n, "item": opening}),
            ("response.code_interpreter_call.in_progress", at),
            ("response.code_interpreter_call_code.delta", {**at, "delta": code[:12]}),
            ("response.code_interpreter_call_code.delta", {**at, "delta": code[12:]}),
            ("response.code_interpreter_call_code.done", {**at, "code": code}),
            ("response.code_interpreter_call.interpreting", at),
            ("response.code_interpreter_call.completed", at),
            ("response.output_item.done", {"output_index": n, "item": item})]


# ------------------------------------------------------------------------------------ fixtures


def mcp_items() -> list[dict[str, Any]]:
    return [
        {"id": "mcpl_01", "type": "mcp_list_tools", "server_label": "games",
         "tools": GAMES_TOOLS},
        {"id": "mcp_01", "type": "mcp_call", "status": "completed", "approval_request_id": None,
         "arguments": "{}", "error": None, "name": "get_my_games",
         "output": '["Lies of P", "Bloodborne", "Sekiro"]', "server_label": "games"},
        {"id": "mcp_02", "type": "mcp_call", "status": "failed", "approval_request_id": None,
         "arguments": '{"title":"Elden Ring"}', "name": "get_game", "output": None,
         "error": {"type": "mcp_tool_execution_error",
                   "content": [{"type": "text", "text": "no game titled Elden Ring"}]},
         "server_label": "games"},
        message("msg_01", "You have Lies of P, Bloodborne and Sekiro; Elden Ring is not in "
                          "your library."),
    ]


def hosted_mcp_nonstream() -> list[Exchange]:
    body = {"input": [{"role": "user", "content": "What games do I have?"}],
            "tools": [MCP_TOOL], "stream": False}
    return [whole(body, response("resp_01", mcp_items(), usage(107, 37)))]


def hosted_mcp_stream() -> list[Exchange]:
    body = {"input": [{"role": "user", "content": "What games do I have?"}],
            "tools": [MCP_TOOL]}
    return [streamed(body, response("resp_01", mcp_items(), usage(107, 37)), item_frames)]


def hosted_mcp_approval() -> list[Exchange]:
    """Approve one call, refuse the next (stateful: `previous_response_id`)."""
    request1 = {"id": "mcpr_01", "type": "mcp_approval_request", "server_label": "dmcp",
                "name": "roll", "arguments": '{"diceRollExpression":"2d4 + 1"}'}
    request2 = {**request1, "id": "mcpr_02", "arguments": '{"diceRollExpression":"1d20"}'}
    listing = {"id": "mcpl_01", "type": "mcp_list_tools", "server_label": "dmcp",
               "tools": [{"name": "roll", "input_schema": {"type": "object"},
                          "description": "Roll dice.", "annotations": None}]}
    call = {"id": "mcp_01", "type": "mcp_call", "status": "completed",
            "approval_request_id": "mcpr_01", "arguments": '{"diceRollExpression":"2d4 + 1"}',
            "error": None, "name": "roll", "output": "4", "server_label": "dmcp"}
    return [
        whole({"input": [{"role": "user", "content": "Roll 2d4+1"}], "tools": [DICE_TOOL]},
              response("resp_01", [listing, request1], usage(80, 20))),
        whole({"previous_response_id": "resp_01", "tools": [DICE_TOOL],
               "input": [{"type": "mcp_approval_response", "approval_request_id": "mcpr_01",
                          "approve": True}]},
              response("resp_02", [call, message("msg_01", "You rolled 4.")], usage(120, 9))),
        whole({"previous_response_id": "resp_02", "tools": [DICE_TOOL],
               "input": [{"role": "user", "content": "Roll a d20 too."}]},
              response("resp_03", [request2], usage(140, 18))),
        whole({"previous_response_id": "resp_03", "tools": [DICE_TOOL],
               "input": [{"type": "mcp_approval_response", "approval_request_id": "mcpr_02",
                          "approve": False, "reason": "no more rolls today"}]},
              response("resp_04", [message("msg_02", "Okay, I will not roll the d20.")],
                       usage(160, 10))),
    ]


def hosted_web_search_citations() -> list[Exchange]:
    text = ("Reykjavik had light rain today ([vedur.is](https://en.vedur.is/weather/)); "
            "the forecast says sun tomorrow ([yr.no](https://www.yr.no/en/reykjavik)).")
    annotations = [
        {"type": "url_citation", "start_index": 32, "end_index": 74,
         "url": "https://en.vedur.is/weather/", "title": "Icelandic Met Office"},
        {"type": "url_citation", "start_index": 110, "end_index": 148,
         "url": "https://www.yr.no/en/reykjavik", "title": "Reykjavik - yr"},
    ]
    search = {"id": "ws_01", "type": "web_search_call", "status": "completed",
              "action": {"type": "search", "query": "Reykjavik weather today",
                         "sources": [{"type": "url", "url": "https://en.vedur.is/weather/"},
                                     {"type": "url", "url": "https://www.yr.no/en/reykjavik"}]}}
    page = {"id": "ws_02", "type": "web_search_call", "status": "completed",
            "action": {"type": "open_page", "url": "https://www.yr.no/en/reykjavik"}}
    body = {"input": [{"role": "user", "content": "Weather in Reykjavik?"}],
            "tools": [{"type": "web_search"}], "include": ["web_search_call.action.sources"],
            "stream": False}
    output = [search, page, message("msg_01", text, annotations)]
    return [whole(body, response("resp_01", output, usage(2300, 60, cached=1024)))]


def hosted_file_search() -> list[Exchange]:
    search = {"id": "fs_01", "type": "file_search_call", "status": "completed",
              "queries": ["capital of France"],
              "results": [{"file_id": "file-dummy01", "filename": "notes.txt", "score": 0.97,
                           "text": "Paris is the capital of France.", "attributes": {}}]}
    answer = message("msg_01", "The capital of France is Paris.",
                     [{"type": "file_citation", "index": 30, "file_id": "file-dummy01",
                       "filename": "notes.txt"}])
    body = {"input": [{"role": "user", "content": "What is the capital of France?"}],
            "tools": [{"type": "file_search", "vector_store_ids": ["vs_dummy01"]}],
            "include": ["file_search_call.results"], "stream": False}
    return [whole(body, response("resp_01", [search, answer], usage(1178, 45)))]


def hosted_code_interpreter_stream() -> list[Exchange]:
    code = "import math\nprint(math.factorial(10))"
    call = {"id": "ci_01", "type": "code_interpreter_call", "status": "completed",
            "code": code, "container_id": "cntr_dummy01",
            "outputs": [{"type": "logs", "logs": "3628800\n"}]}
    body = {"input": [{"role": "user", "content": "What is 10 factorial? Use Python."}],
            "tools": [{"type": "code_interpreter", "container": {"type": "auto"}}],
            "include": ["code_interpreter_call.outputs"]}
    output = [call, message("msg_01", "10! = 3628800.")]
    return [streamed(body, response("resp_01", output, usage(300, 40)), item_frames)]


def hosted_image_generation() -> list[Exchange]:
    image = {"id": "ig_01", "type": "image_generation_call", "status": "completed",
             "action": "generate", "background": "opaque", "output_format": "png",
             "quality": "low", "size": "1024x1024",
             "revised_prompt": "A single red pixel on a white background", "result": TINY_PNG}
    body = {"input": [{"role": "user", "content": "Draw a red pixel."}],
            "tools": [{"type": "image_generation", "quality": "low"}], "stream": False}
    output = [image, message("msg_01", "Here is your red pixel.")]
    return [whole(body, response("resp_01", output, usage(2000, 15)))]


def hosted_computer_use() -> list[Exchange]:
    tool = {"type": "computer_use_preview", "display_width": 1024, "display_height": 768,
            "environment": "browser"}
    call = {"id": "cu_01", "type": "computer_call", "call_id": "call_cu01",
            "action": {"type": "click", "button": "left", "x": 120, "y": 300},
            "pending_safety_checks": [], "status": "completed"}
    shot = {"type": "computer_screenshot", "image_url": f"data:image/png;base64,{TINY_PNG}"}
    return [
        whole({"input": [{"role": "user", "content": "Click the Sign in button."}],
               "tools": [tool], "truncation": "auto"},
              response("resp_01", [call], usage(900, 30))),
        whole({"previous_response_id": "resp_01", "tools": [tool], "truncation": "auto",
               "input": [{"type": "computer_call_output", "call_id": "call_cu01",
                          "output": shot}]},
              response("resp_02", [message("msg_01", "I clicked Sign in.")], usage(1900, 8))),
    ]


def hosted_local_shell() -> list[Exchange]:
    call = {"id": "lsh_01", "type": "local_shell_call", "call_id": "call_ls01",
            "status": "completed",
            "action": {"type": "exec", "command": ["ls", "-a"], "env": {},
                       "working_directory": "/tmp/work", "timeout_ms": 10000, "user": None}}
    prompt = {"role": "user", "content": "List the files."}
    return [
        whole({"input": [prompt], "tools": [{"type": "local_shell"}]},
              response("resp_01", [call], usage(500, 20))),
        whole({"input": [prompt, call, {"type": "local_shell_call_output",
                                        "call_id": "call_ls01", "output": ".\n..\nREADME.md\n"}],
               "tools": [{"type": "local_shell"}]},
              response("resp_02", [message("msg_01", "There is one file: README.md.")],
                       usage(560, 12))),
    ]


def hosted_shell_container() -> list[Exchange]:
    """The hosted shell (`environment: container_auto`): three `shell_call`s, only the last
    with a `shell_call_output` (whose own status still says in_progress)."""
    env = {"type": "container_reference", "container_id": "cntr_dummy02"}

    def shell(n: int, commands: list[str]) -> dict[str, Any]:
        return {"id": f"sh_0{n}", "type": "shell_call", "call_id": f"call_sh0{n}",
                "status": "completed", "environment": env,
                "action": {"commands": commands, "max_output_length": None,
                           "timeout_ms": None}}

    output = [shell(1, ["ls -l /mnt/data", "python3 count.py"]),
              shell(2, ["python3 count_again.py"]),
              shell(3, ["wc -l /mnt/data/report.csv | cat"]),
              {"id": "sho_03", "type": "shell_call_output", "call_id": "call_sh03",
               "status": "in_progress", "max_output_length": None,
               "output": [{"stdout": "3 /mnt/data/report.csv\n", "stderr": "",
                           "outcome": {"type": "exit", "exit_code": 0}}]},
              message("msg_01", "2")]
    body = {"model": "gpt-5.2", "stream": False, "include": ["reasoning.encrypted_content"],
            "input": [{"role": "user", "content": "How many data rows has the CSV?"}],
            "tools": [{"type": "shell", "environment": {"type": "container_auto",
                                                        "file_ids": ["file-dummy02"]}}]}
    return [whole(body, response("resp_01", output, usage(1314, 234, reasoning=229)))]


def client_shell_apply_patch() -> list[Exchange]:
    """The client-run `shell` and `apply_patch` tools: the calls, then the client's
    `shell_call_output` (one outcome per command) and `apply_patch_call_output`."""
    tools = [{"type": "shell", "environment": {"type": "local"}}, {"type": "apply_patch"}]
    prompt = {"role": "user", "content": "Say hello in README.md."}
    shell = {"id": "sh_01", "type": "shell_call", "call_id": "call_sh01", "status": "completed",
             "environment": {"type": "local"},
             "action": {"commands": ["ls", "cat README.md"], "timeout_ms": 5000,
                        "max_output_length": 4096}}
    ran = {"type": "shell_call_output", "call_id": "call_sh01", "max_output_length": 4096,
           "output": [{"stdout": "README.md\n", "stderr": "",
                       "outcome": {"type": "exit", "exit_code": 0}},
                      {"stdout": "hi\n", "stderr": "",
                       "outcome": {"type": "exit", "exit_code": 0}}]}
    patch = {"id": "apc_01", "type": "apply_patch_call", "call_id": "call_ap01",
             "status": "completed",
             "operation": {"type": "update_file", "path": "README.md",
                           "diff": "@@\n-hi\n+hello\n"}}
    applied = {"type": "apply_patch_call_output", "call_id": "call_ap01",
               "status": "completed", "output": "Updated README.md"}
    return [
        whole({"model": "gpt-5.1", "input": [prompt], "tools": tools},
              response("resp_01", [shell], usage(400, 30))),
        whole({"model": "gpt-5.1", "input": [prompt, shell, ran], "tools": tools},
              response("resp_02", [patch], usage(450, 40))),
        whole({"model": "gpt-5.1", "input": [prompt, shell, ran, patch, applied],
               "tools": tools},
              response("resp_03", [message("msg_01", "README.md now says hello.")],
                       usage(500, 10))),
    ]


def nonstream_incomplete() -> list[Exchange]:
    cut = message("msg_01", "The first three primes are 2, 3,")
    cut["status"] = "incomplete"
    body = {"input": [{"role": "user", "content": "List primes."}], "max_output_tokens": 16}
    answer = response("resp_01", [cut], usage(12, 16), status="incomplete",
                      incomplete_details={"reason": "max_output_tokens"})
    return [whole(body, answer)]


def nonstream_failed() -> list[Exchange]:
    body = {"input": [{"role": "user", "content": "Hello"}]}
    answer = response("resp_01", [], None, status="failed",
                      error={"code": "server_error", "message": "The model had an error."})
    return [whole(body, answer)]


FIXTURES: dict[str, Callable[[], list[Exchange]]] = {
    "hosted_mcp_nonstream": hosted_mcp_nonstream,
    "hosted_mcp_stream": hosted_mcp_stream,
    "hosted_mcp_approval": hosted_mcp_approval,
    "hosted_web_search_citations": hosted_web_search_citations,
    "hosted_file_search": hosted_file_search,
    "hosted_code_interpreter_stream": hosted_code_interpreter_stream,
    "hosted_image_generation": hosted_image_generation,
    "hosted_computer_use": hosted_computer_use,
    "hosted_local_shell": hosted_local_shell,
    "hosted_shell_container": hosted_shell_container,
    "client_shell_apply_patch": client_shell_apply_patch,
    "nonstream_incomplete": nonstream_incomplete,
    "nonstream_failed": nonstream_failed,
}


if __name__ == "__main__":
    for fixture, exchanges in FIXTURES.items():
        write_http_cassette(HERE / f"{fixture}.http.yaml", exchanges())
        print(fixture)
