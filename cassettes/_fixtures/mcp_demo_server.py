"""A tiny MCP server over stdio for the mcp scenarios: tool `echo` succeeds, tool `fail` errors.

Dependency-free on purpose (stdlib JSON-RPC, one JSON message per line, as MCP's stdio transport
specifies): every runtime under test starts it with the harness's own interpreter (`{python}` in
scenario files), so it must run without installing an MCP SDK, and its answers must never change
between recordings (no timestamps, no random ids).
"""

from __future__ import annotations

import json
import sys
from typing import Any

PROTOCOL_VERSION = "2025-06-18"

TOOLS: list[dict[str, Any]] = [
    {
        "name": "echo",
        "description": "Return the given text unchanged.",
        "inputSchema": {
            "type": "object",
            "properties": {"text": {"type": "string", "description": "Text to echo back."}},
            "required": ["text"],
        },
    },
    {
        "name": "fail",
        "description": "Always fails with a tool error (for testing error paths).",
        "inputSchema": {
            "type": "object",
            "properties": {"reason": {"type": "string", "description": "Why it fails."}},
        },
    },
]


def call_tool(name: str, arguments: dict[str, Any]) -> dict[str, Any]:
    """The result of `tools/call`: tool errors are results with `isError`, per MCP."""
    if name == "echo":
        return {"content": [{"type": "text", "text": str(arguments.get("text", ""))}],
                "isError": False}
    if name == "fail":
        reason = str(arguments.get("reason", "no reason given"))
        return {"content": [{"type": "text", "text": f"fail: {reason}"}], "isError": True}
    return {"content": [{"type": "text", "text": f"unknown tool {name}"}], "isError": True}


def answer(message: dict[str, Any]) -> dict[str, Any] | None:
    """The reply to one JSON-RPC message (None for notifications)."""
    method, params = message.get("method"), message.get("params") or {}
    if "id" not in message:
        return None
    reply: dict[str, Any] = {"jsonrpc": "2.0", "id": message["id"]}
    if method == "initialize":
        reply["result"] = {
            "protocolVersion": params.get("protocolVersion", PROTOCOL_VERSION),
            "capabilities": {"tools": {"listChanged": False}},
            "serverInfo": {"name": "demo", "version": "1.0.0"},
        }
    elif method == "tools/list":
        reply["result"] = {"tools": TOOLS}
    elif method == "tools/call":
        reply["result"] = call_tool(str(params.get("name")), params.get("arguments") or {})
    elif method == "ping":
        reply["result"] = {}
    else:
        reply["error"] = {"code": -32601, "message": f"method not found: {method}"}
    return reply


def main() -> int:
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            message = json.loads(line)
        except ValueError:
            continue
        if isinstance(message, dict):
            reply = answer(message)
            if reply is not None:
                sys.stdout.write(json.dumps(reply) + "\n")
                sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
