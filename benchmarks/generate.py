"""Generate large, realistic native inputs for the benchmarks (deterministic for a given seed).

`codex_stream(path, size_mb)`: a `codex exec --json` stream of many turns mixing reasoning,
assistant text, commands (some with large outputs), file changes, MCP calls and todo lists.
`claude_stream` / `gemini_stream`: Claude Code's and Gemini CLI's stream-json stdout, runs of
a session built from the lines of catalog recordings (every field the runtimes print).
`responses_cassette(path, size_mb)`: one vcrpy cassette whose Responses-API SSE bodies add up to
about `size_mb`, for an API lane.
"""

from __future__ import annotations

import copy
import json
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

WORDS = ("agent", "normalize", "stream", "lane", "turn", "item", "cassette", "schema", "gate",
         "événement", "データ", "ok", "build", "test", "patch", "thread")


def _text(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(words))


def _turn(rng: random.Random, thread: str, counter: list[int]) -> list[dict[str, object]]:
    def next_id() -> str:
        counter[0] += 1
        return f"item_{counter[0]}"

    events: list[dict[str, object]] = [{"type": "turn.started"}]
    for _ in range(rng.randint(3, 12)):
        choice = rng.random()
        item_id = next_id()
        if choice < 0.2:
            events.append({"type": "item.completed", "item": {
                "id": item_id, "type": "reasoning", "text": _text(rng, rng.randint(10, 80))}})
        elif choice < 0.55:
            size = rng.choice([20, 200, 2000, 60_000])
            command = f"/bin/bash -lc 'run step {rng.randint(0, 999)}'"
            events.append({"type": "item.started", "item": {
                "id": item_id, "type": "command_execution", "command": command,
                "aggregated_output": "", "exit_code": None, "status": "in_progress"}})
            code = rng.choice([0, 0, 0, 1])
            events.append({"type": "item.completed", "item": {
                "id": item_id, "type": "command_execution", "command": command,
                "aggregated_output": _text(rng, size // 6) + "\n", "exit_code": code,
                "status": "completed" if code == 0 else "failed"}})
        elif choice < 0.7:
            events.append({"type": "item.completed", "item": {
                "id": item_id, "type": "file_change", "status": "completed", "changes": [
                    {"path": f"/work/src/mod_{rng.randint(0, 50)}.py", "kind": "update"}]}})
        elif choice < 0.8:
            events.append({"type": "item.completed", "item": {
                "id": item_id, "type": "mcp_tool_call", "server": "docs", "tool": "search",
                "arguments": {"q": _text(rng, 3)}, "result": {"content": [
                    {"type": "text", "text": _text(rng, 40)}], "structured_content": None},
                "error": None, "status": "completed"}})
        elif choice < 0.85:
            events.append({"type": "item.updated", "item": {
                "id": item_id, "type": "todo_list", "items": [
                    {"text": _text(rng, 4), "completed": rng.random() < 0.5} for _ in range(4)]}})
            events.append({"type": "item.completed", "item": {
                "id": item_id, "type": "todo_list", "items": [
                    {"text": _text(rng, 4), "completed": True} for _ in range(4)]}})
        else:
            events.append({"type": "item.completed", "item": {
                "id": item_id, "type": "agent_message", "text": _text(rng, rng.randint(5, 120))}})
    events.append({"type": "turn.completed", "usage": {
        "input_tokens": rng.randint(1000, 90000), "cached_input_tokens": 0,
        "output_tokens": rng.randint(10, 5000)}})
    return events


def codex_stream(path: Path, size_mb: float, seed: int = 7) -> int:
    """Write about `size_mb` MB of codex exec JSONL; returns the number of lines."""
    rng = random.Random(seed)
    limit = int(size_mb * 1024 * 1024)
    written = lines = 0
    counter = [0]
    with path.open("wb") as out:
        header = json.dumps({"type": "thread.started", "thread_id": "bench-thread"}) + "\n"
        out.write(header.encode())
        written += len(header)
        while written < limit:
            for event in _turn(rng, "bench-thread", counter):
                line = (json.dumps(event, ensure_ascii=False) + "\n").encode()
                out.write(line)
                written += len(line)
                lines += 1
    return lines + 1


CATALOG = Path(__file__).resolve().parents[1] / "cassettes"


def _template(scenario: str, native: str) -> list[dict[str, Any]]:
    """A catalog recording's lines, as the shapes (every field the runtime prints) to copy."""
    text = (CATALOG / scenario / native).read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def _output(rng: random.Random) -> str:
    """A command's output: lines of words, sizes as in `_turn` (a few huge ones)."""
    size = rng.choice([20, 200, 2000, 60_000])
    words = size // 6
    return "\n".join(_text(rng, min(12, words - done)) for done in range(0, max(words, 1), 12))


def _write_lines(path: Path, size_mb: float, lines_of: Any) -> int:
    """Write the lines `lines_of(n)` yields for n = 0, 1, ... until about `size_mb` MB."""
    limit, written, lines, n = int(size_mb * 1024 * 1024), 0, 0, 0
    with path.open("wb") as out:
        while written < limit:
            for event in lines_of(n):
                line = (json.dumps(event, ensure_ascii=False, separators=(",", ":"))
                        + "\n").encode()
                out.write(line)
                written += len(line)
                lines += 1
            n += 1
    return lines


def claude_stream(path: Path, size_mb: float, seed: int = 7) -> int:
    """Write about `size_mb` MB of `claude -p --output-format stream-json --verbose` stdout: runs
    of one session (each resumes it), each an init, steps of thinking, Bash calls with their
    results (some large) and answers, and a result; every line shaped as in the catalog's
    shell_ok / reasoning recordings. Returns the number of lines."""
    rng = random.Random(seed)
    shell = _template("shell_ok", "claude-code.jsonl")
    thinking = next(line for line in _template("reasoning", "claude-code.jsonl")
                    if line["type"] == "assistant"
                    and line["message"]["content"][0]["type"] == "thinking")
    init, call, result, answer, end = shell[0], shell[1], shell[2], shell[3], shell[-1]

    def run(n: int) -> Iterator[dict[str, Any]]:
        yield init
        for step in range(rng.randint(3, 12)):
            mid, tool = f"msg_{n}_{step}", f"toolu_{n}_{step}"
            choice = rng.random()
            if choice < 0.2:
                line = copy.deepcopy(thinking)
                line["message"]["id"] = mid
                line["message"]["content"][0]["thinking"] = _text(rng, rng.randint(10, 80))
            elif choice < 0.7:
                line = copy.deepcopy(call)
                line["message"]["id"] = mid
                command = f"run step {rng.randint(0, 999)}"
                line["message"]["content"][0].update(
                    id=tool, input={"command": command, "description": f"Run {command}"})
                yield line
                output = _output(rng)
                line = copy.deepcopy(result)
                block = line["message"]["content"][0]
                block.update(tool_use_id=tool, content=output)
                line["tool_use_result"]["stdout"] = output
                line["tool_result_meta"][0]["id"] = tool
            else:
                line = copy.deepcopy(answer)
                line["message"]["id"] = mid
                line["message"]["content"][0]["text"] = _text(rng, rng.randint(5, 120))
            yield line
        yield end

    return _write_lines(path, size_mb, run)


def gemini_stream(path: Path, size_mb: float, seed: int = 7) -> int:
    """Write about `size_mb` MB of `gemini -p --output-format stream-json` stdout: runs of one
    session, each an init, the prompt, shell calls with results (some large) and streamed
    answers, and a result; every line shaped as in the catalog's shell_ok recording. Returns
    the number of lines."""
    rng = random.Random(seed)
    shell = _template("shell_ok", "gemini-cli.jsonl")
    init, prompt, call, result, delta, end = (shell[0], shell[1], shell[2], shell[3], shell[4],
                                              shell[-1])

    def run(n: int) -> Iterator[dict[str, Any]]:
        yield init
        yield {**prompt, "content": _text(rng, 12)}
        for step in range(rng.randint(3, 12)):
            if rng.random() < 0.6:
                tool = f"run_shell_command__{n}_{step}"
                yield {**call, "tool_id": tool,
                       "parameters": {"command": f"run step {rng.randint(0, 999)}"}}
                yield {**result, "tool_id": tool, "output": _output(rng)}
            else:
                for _ in range(rng.randint(1, 6)):
                    yield {**delta, "content": _text(rng, rng.randint(5, 40)) + " "}
        yield end

    return _write_lines(path, size_mb, run)


def _sse(event: dict[str, object]) -> str:
    return f"event: {event['type']}\ndata: {json.dumps(event, ensure_ascii=False)}\n\n"


def _responses_answer(rng: random.Random, n: int) -> str:
    """One streamed Responses answer: reasoning summary, then a long message in many deltas."""
    rid, mid, rsid = f"resp_{n}", f"msg_{n}", f"rs_{n}"
    deltas = [_text(rng, rng.randint(5, 60)) + " " for _ in range(rng.randint(20, 400))]
    text = "".join(deltas)
    seq = iter(range(1_000_000))
    events: list[dict[str, object]] = [
        {"type": "response.created", "sequence_number": next(seq), "response": {
            "id": rid, "object": "response", "created_at": 0, "model": "gpt-5.5",
            "status": "in_progress", "output": []}},
        {"type": "response.output_item.added", "sequence_number": next(seq), "output_index": 0,
         "item": {"type": "reasoning", "id": rsid, "summary": []}},
        {"type": "response.reasoning_summary_text.delta", "sequence_number": next(seq),
         "item_id": rsid, "output_index": 0, "summary_index": 0, "delta": _text(rng, 30)},
        {"type": "response.output_item.done", "sequence_number": next(seq), "output_index": 0,
         "item": {"type": "reasoning", "id": rsid, "summary": []}},
        {"type": "response.output_item.added", "sequence_number": next(seq), "output_index": 1,
         "item": {"type": "message", "id": mid, "role": "assistant", "status": "in_progress",
                  "content": []}},
    ]
    events += [{"type": "response.output_text.delta", "sequence_number": next(seq),
                "output_index": 1, "item_id": mid, "content_index": 0, "delta": d,
                "logprobs": []} for d in deltas]
    message = {"type": "message", "id": mid, "role": "assistant", "status": "completed",
               "content": [{"type": "output_text", "text": text, "annotations": []}]}
    events += [
        {"type": "response.output_item.done", "sequence_number": next(seq), "output_index": 1,
         "item": message},
        {"type": "response.completed", "sequence_number": next(seq), "response": {
            "id": rid, "object": "response", "created_at": 0, "model": "gpt-5.5",
            "status": "completed", "output": [message], "usage": {
                "input_tokens": 100 + n, "output_tokens": len(deltas), "total_tokens": 0,
                "input_tokens_details": {"cached_tokens": 0},
                "output_tokens_details": {"reasoning_tokens": 0}}}},
    ]
    return "".join(_sse(e) for e in events)


def responses_cassette(path: Path, size_mb: float, seed: int = 7) -> int:
    """Write a vcrpy cassette of one Codex thread whose turns are one prompt and one long streamed
    answer each, until the SSE bodies add up to about `size_mb` MB; returns the SSE event count."""
    import yaml  # noqa: PLC0415 - only this generator needs it

    rng = random.Random(seed)
    limit, written, events, interactions = int(size_mb * 1024 * 1024), 0, 0, []
    while written < limit:
        n = len(interactions)
        body = {"model": "gpt-5.5", "stream": True, "prompt_cache_key": "bench-thread",
                "input": [{"type": "message", "role": "user", "content": [
                    {"type": "input_text", "text": f"step {n}: {_text(rng, 12)}"}]}]}
        answer = _responses_answer(rng, n)
        written += len(answer.encode())
        events += answer.count("\ndata: ")
        interactions.append({
            "request": {"method": "POST", "uri": "http://127.0.0.1:8080/v1/responses",
                        "headers": {"content-type": ["application/json"]},
                        "body": json.dumps(body, indent=2) + "\n"},
            "response": {"status": {"code": 200, "message": "OK"},
                         "headers": {"content-type": ["text/event-stream"]},
                         "body": {"string": answer}}})
    class Literal(yaml.CSafeDumper):
        """SSE bodies as literal blocks, one SSE line per YAML line, as real cassettes are."""

    def literal(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
        style = "|" if "\n" in value else None
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)

    Literal.add_representer(str, literal)
    with path.open("w", encoding="utf-8") as out:
        yaml.dump({"interactions": interactions, "version": 1}, out, Dumper=Literal,
                  sort_keys=False, allow_unicode=True, width=100)
    return events


# --------------------------------------------------------------- API cassettes (issue 17 item 2)


def _deltas(rng: random.Random) -> list[str]:
    """One long streamed answer's text deltas, sized as `_responses_answer`'s."""
    return [_text(rng, rng.randint(5, 60)) + " " for _ in range(rng.randint(20, 400))]


def _messages_answer(rng: random.Random, n: int) -> str:
    """One streamed Anthropic Messages answer (thinking, then a long text in many deltas), in
    the event sequence the catalog's claude.http.yaml recordings show."""
    deltas = _deltas(rng)
    events: list[dict[str, object]] = [
        {"type": "message_start", "message": {
            "id": f"msg_{n}", "type": "message", "role": "assistant",
            "model": "claude-opus-5-5", "content": [], "stop_reason": None,
            "stop_sequence": None, "usage": {"input_tokens": 100 + n,
                                             "cache_creation_input_tokens": 0,
                                             "cache_read_input_tokens": 0, "output_tokens": 1}}},
        {"type": "content_block_start", "index": 0,
         "content_block": {"type": "thinking", "thinking": "", "signature": ""}},
        {"type": "content_block_delta", "index": 0,
         "delta": {"type": "thinking_delta", "thinking": _text(rng, 30)}},
        {"type": "content_block_delta", "index": 0,
         "delta": {"type": "signature_delta", "signature": "c2lnbmF0dXJl"}},
        {"type": "content_block_stop", "index": 0},
        {"type": "content_block_start", "index": 1,
         "content_block": {"type": "text", "text": ""}},
        *({"type": "content_block_delta", "index": 1,
           "delta": {"type": "text_delta", "text": d}} for d in deltas),
        {"type": "content_block_stop", "index": 1},
        {"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": None},
         "usage": {"output_tokens": len(deltas)}},
        {"type": "message_stop"},
    ]
    return "".join(_sse(e) for e in events)


def _gemini_answer(rng: random.Random, n: int) -> str:
    """One `streamGenerateContent?alt=sse` answer: a text part a chunk, the last with the finish
    reason and usage, as the catalog's gemini.http.yaml recordings show."""
    deltas = _deltas(rng)
    chunks = []
    for i, d in enumerate(deltas):
        candidate: dict[str, object] = {
            "content": {"role": "model", "parts": [{"text": d}]}, "index": 0}
        chunk: dict[str, object] = {"candidates": [candidate], "modelVersion": "gemini-2.5-pro",
                                    "responseId": f"resp_{n}"}
        if i == len(deltas) - 1:
            candidate["finishReason"] = "STOP"
            chunk["usageMetadata"] = {"promptTokenCount": 100 + n,
                                      "candidatesTokenCount": len(deltas),
                                      "totalTokenCount": 100 + n + len(deltas)}
        chunks.append(f"data: {json.dumps(chunk, ensure_ascii=False)}\n\n")
    return "".join(chunks)


def _sse_cassette(path: Path, size_mb: float, seed: int, uri: str, *,
                  request: Any, answer: Any) -> int:
    """A cassette of one-prompt, one-streamed-answer interactions until the SSE bodies add up to
    about `size_mb` MB (written as `responses_cassette` writes its own); returns the number of
    SSE data lines."""
    import yaml  # noqa: PLC0415 - only the cassette generators need it

    rng = random.Random(seed)
    limit, written, events, interactions = int(size_mb * 1024 * 1024), 0, 0, []
    while written < limit:
        n = len(interactions)
        body = request(rng, n)
        sse = answer(rng, n)
        written += len(sse.encode())
        events += sse.count("data: ")
        interactions.append({
            "request": {"method": "POST", "uri": uri,
                        "headers": {"content-type": ["application/json"]},
                        "body": json.dumps(body, indent=2) + "\n"},
            "response": {"status": {"code": 200, "message": "OK"},
                         "headers": {"content-type": ["text/event-stream"]},
                         "body": {"string": sse}}})

    class Literal(yaml.CSafeDumper):
        """SSE bodies as literal blocks, one SSE line per YAML line, as real cassettes are."""

    def literal(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
        style = "|" if "\n" in value else None
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)

    Literal.add_representer(str, literal)
    with path.open("w", encoding="utf-8") as out:
        yaml.dump({"interactions": interactions, "version": 1}, out, Dumper=Literal,
                  sort_keys=False, allow_unicode=True, width=100)
    return events


def messages_cassette(path: Path, size_mb: float, seed: int = 7) -> int:
    """A large Anthropic Messages cassette (the anthropic lane's input)."""
    history: list[dict[str, object]] = []

    def request(rng: random.Random, n: int) -> dict[str, object]:
        history.append({"role": "user", "content": [
            {"type": "text", "text": f"step {n}: {_text(rng, 12)}"}]})
        return {"model": "claude-opus-5-5", "max_tokens": 32000, "stream": True,
                "messages": history[-1:]}

    return _sse_cassette(path, size_mb, seed, "http://127.0.0.1:8080/v1/messages?beta=true",
                         request=request, answer=_messages_answer)


def gemini_cassette(path: Path, size_mb: float, seed: int = 7) -> int:
    """A large Gemini API cassette (the gemini lane's input)."""

    def request(rng: random.Random, n: int) -> dict[str, object]:
        return {"contents": [{"role": "user", "parts": [
            {"text": f"step {n}: {_text(rng, 12)}"}]}],
                "generationConfig": {"temperature": 0}}

    return _sse_cassette(
        path, size_mb, seed,
        "http://127.0.0.1:8080/v1beta/models/gemini-2.5-pro:streamGenerateContent?alt=sse",
        request=request, answer=_gemini_answer)
