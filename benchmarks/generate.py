"""Generate large, realistic native inputs for the benchmarks (deterministic for a given seed).

`codex_stream(path, size_mb)`: a `codex exec --json` stream of many turns mixing reasoning,
assistant text, commands (some with large outputs), file changes, MCP calls and todo lists.
`responses_cassette(path, size_mb)`: one vcrpy cassette whose Responses-API SSE bodies add up to
about `size_mb`, for an API lane.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

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
