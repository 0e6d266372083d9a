"""An MCP server over stdio whose one tool, `decide`, answers a runtime's permission prompts with
the scenario's scripted client decisions, in order (Claude Code's `--permission-prompt-tool
mcp__approver__decide`: the tool gets `{tool_name, input, tool_use_id}` and answers the same JSON
a control-protocol client sends, as text).

argv[1] is the run's decisions as JSON, e.g. `[{"decision": "approve"}, {"decision": "deny",
"message": "No."}]`. approve -> allow with the input unchanged; deny -> deny with the message.
A prompt beyond the script is denied. Dependency-free and deterministic, like mcp_demo_server.
"""

from __future__ import annotations

import json
import sys
from typing import Any

PROTOCOL_VERSION = "2025-06-18"
DEFAULT_DENIAL = "The user denied this."

TOOLS: list[dict[str, Any]] = [{
    "name": "decide",
    "description": "Decide whether a tool call may run (the scripted client's answer).",
    "inputSchema": {"type": "object", "properties": {
        "tool_name": {"type": "string"}, "input": {"type": "object"},
        "tool_use_id": {"type": "string"}}},
}]


def decision_text(client: dict[str, Any] | None, tool_input: Any) -> str:
    """The answer Claude Code reads from the tool's text."""
    if client is not None and client.get("decision") == "approve":
        answer: dict[str, Any] = {"behavior": "allow", "updatedInput": tool_input or {}}
    else:
        message = (client or {}).get("message") or DEFAULT_DENIAL
        answer = {"behavior": "deny", "message": message}
    return json.dumps(answer)


def main() -> int:
    script: list[dict[str, Any]] = json.loads(sys.argv[1]) if len(sys.argv) > 1 else []
    for line in sys.stdin:
        try:
            message = json.loads(line)
        except ValueError:
            continue
        if not isinstance(message, dict) or "id" not in message:
            continue
        method, params = message.get("method"), message.get("params") or {}
        reply: dict[str, Any] = {"jsonrpc": "2.0", "id": message["id"]}
        if method == "initialize":
            reply["result"] = {"protocolVersion": params.get("protocolVersion", PROTOCOL_VERSION),
                               "capabilities": {"tools": {"listChanged": False}},
                               "serverInfo": {"name": "approver", "version": "1.0.0"}}
        elif method == "tools/list":
            reply["result"] = {"tools": TOOLS}
        elif method == "tools/call":
            arguments = params.get("arguments") or {}
            client = script.pop(0) if script else None
            reply["result"] = {"content": [{"type": "text", "text": decision_text(
                client, arguments.get("input"))}], "isError": False}
        elif method == "ping":
            reply["result"] = {}
        else:
            reply["error"] = {"code": -32601, "message": f"method not found: {method}"}
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
