"""The codex-adapter lane tests' request builders: they moved into the package
(`harness.testing.render.codex_requests`) with the round-trip Codex simulator that shares them;
this module keeps the lane tests' import."""

from __future__ import annotations

from harness.testing.render.codex_requests import (
    CWD,
    TOOLS,
    client_metadata,
    developer,
    environment,
    exec_output,
    patch_output,
    raw_output,
    request_body,
    tool_search_output,
    user,
)

__all__ = ["CWD", "TOOLS", "client_metadata", "developer", "environment", "exec_output",
           "patch_output", "raw_output", "request_body", "tool_search_output", "user"]
