"""The demo-tools plugin's stdio MCP server: `echo` returns its text, `version` the plugin version.

Shipped inside the plugin (Codex copies a plugin's folder into its cache on install, so the server
must travel with it) and dependency-free (stdlib JSON-RPC, one message per line, as MCP's stdio
transport specifies). `version` reads the plugin's own manifest, so a session shows which
installed copy really answered: the update scenario's proof that the new version runs.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

PROTOCOL_VERSION = "2025-06-18"
MANIFEST = Path(__file__).resolve().parent / ".codex-plugin" / "plugin.json"

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
        "name": "version",
        "description": "Name and version of the installed demo-tools plugin.",
        "inputSchema": {"type": "object", "properties": {}},
    },
]


def plugin_version() -> str:
    manifest = json.loads(MANIFEST.read_text(encoding="utf-8"))
    return f"{manifest['name']} {manifest['version']}"


def call_tool(name: str, arguments: dict[str, Any]) -> dict[str, Any]:
    """The result of `tools/call`: tool errors are results with `isError`, per MCP."""
    if name == "echo":
        text, error = str(arguments.get("text", "")), False
    elif name == "version":
        text, error = plugin_version(), False
    else:
        text, error = f"unknown tool {name}", True
    return {"content": [{"type": "text", "text": text}], "isError": error}


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
            "serverInfo": {"name": "demo_plugin", "version": plugin_version().split()[-1]},
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
