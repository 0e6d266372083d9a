"""What Claude Code is, written once for the two lanes that read it.

Used by `lanes.anthropic` (Messages API traffic that says Claude Code sent it) and
`lanes.claude_code` (Claude Code's own stream-json). Both lanes watch the same runtime, Claude
Code 2.1.328, through different surfaces: its tool names, its MCP naming, the text of its tool
results and its TodoWrite statuses are the runtime's, not either surface's, so they live here
and a lane never imports the other.
Surface facts stay in the lanes (SSE events and side calls in `anthropic`; init lines,
`tool_use_result` objects and permission denials in `claude_code`).

Rules where the two lanes' copies had drifted, and the one kept (each pinned in both lanes'
tests):

- `result_text`: a tool_result's content as text is the string itself, or the `text` of its
  `text` blocks joined with a newline, which is how Claude Code 2.1.328 itself reads tool_result
  content as text (other blocks, `tool_reference` or `image`, add nothing; content that is
  neither a string nor a list is no text). The stream lane joined with no separator and took
  any block's `text`; the API lane rendered other content as JSON.
- `EXIT_CODE`: a failed Bash result opens with `Exit code N` in the tool_result the model gets
  and with `Error: Exit code N` in the stream's `tool_use_result`: one pattern reads both.
- `TOOL_KINDS` lists only tools with a kind of their own; ToolSearch is a plain `tool_call`
  (the default) and is named in `NOISE_TOOLS`.
- `file_changes`: the path is `file_path` (NotebookEdit: `notebook_path`) when it is a non-empty
  string; anything else names no file.
"""

from __future__ import annotations

import re
from typing import Any

from harness.contract.model import FileChangeEntry, ItemKind, PlanEntry, PlanStatus

TOOL_KINDS: dict[str, ItemKind] = {
    "Bash": "command_execution",
    "Write": "file_change",
    "Edit": "file_change",
    "MultiEdit": "file_change",
    "NotebookEdit": "file_change",
    "TodoWrite": "plan",
    "WebSearch": "web_search",
}
"""Claude Code tool name -> normalized item kind. `mcp__<server>__<tool>` names are MCP calls
(`MCP_PREFIX`); any other tool (`Read`, `Glob`, `Task`, `ToolSearch`, ...) is a plain
`tool_call`."""

MCP_PREFIX = "mcp__"
"""Claude Code names every MCP tool `mcp__<server>__<tool>` and counts any name with this prefix
as MCP."""

NOISE_TOOLS = frozenset({"ToolSearch"})
"""Runtime plumbing, not work the user asked for: Claude Code loads deferred tools (MCP,
TodoWrite, WebSearch) through ToolSearch."""

TODO_STATUSES: dict[str, PlanStatus] = {
    "pending": "pending",
    "in_progress": "in_progress",
    "completed": "completed",
}
"""TodoWrite `status` -> plan entry status: Claude Code's three (`sdk-tools.d.ts`), the model's
three; anything else is `pending`."""

EXIT_CODE = re.compile(r"^(?:Error: )?Exit code (-?\d+)\n?")
"""The head of a failed Bash result: `Exit code N` (tool_result content) or `Error: Exit code N`
(stream-json `tool_use_result`), then the output."""

WRITE_CREATED = re.compile(r"^File created successfully", re.IGNORECASE)
"""The head of Write's tool_result when it created the file (an overwrite says it updated the
file). The stream lane reads the same fact from `tool_use_result.type` (`create`)."""

DECLINED = re.compile(
    r"haven't granted it yet|needs approval|permission to use \S+ (?:has been|was) denied|"
    r"doesn't want to proceed|was rejected by the user", re.IGNORECASE)
"""Words of the error tool_result Claude Code sends when a call was refused, not run (no
permission in headless mode, or the user said no). The stream lane reads the refusal from
`system/permission_denied` and `tool_result_meta` instead."""


def tool_kind(name: str) -> ItemKind:
    """Normalized kind of a Claude Code tool (see `TOOL_KINDS` and `MCP_PREFIX`)."""
    if name.startswith(MCP_PREFIX):
        return "mcp_tool_call"
    return TOOL_KINDS.get(name, "tool_call")


def mcp_names(name: str) -> tuple[str, str]:
    """(server, tool) from `mcp__<server>__<tool>`: the server ends at the first `__`, the tool
    is the rest (it may hold `__` itself), as Claude Code splits it."""
    server, _, tool = name[len(MCP_PREFIX):].partition("__")
    return server, tool


def result_text(content: Any) -> str:
    """A tool_result's content as text: a string as it is, a list by its `text` blocks joined
    with a newline; anything else is no text (see module docstring)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join("" if b.get("text") is None else str(b["text"]) for b in content
                         if isinstance(b, dict) and b.get("type") == "text")
    return ""


def exit_code(text: str) -> tuple[int, str] | None:
    """(exit code, output) of a failed Bash result text, or None when it names no exit code (a
    refusal, an interrupt)."""
    match = EXIT_CODE.match(text)
    if match is None:
        return None
    return int(match.group(1)), text[match.end():]


def file_path(arguments: Any) -> str | None:
    """The file a Write/Edit/MultiEdit/NotebookEdit call touches (see module docstring)."""
    if not isinstance(arguments, dict):
        return None
    path = arguments.get("file_path") or arguments.get("notebook_path")
    return path if isinstance(path, str) and path else None


def file_changes(arguments: Any, *, created: bool) -> list[FileChangeEntry]:
    """The change a file tool call makes: `add` when the lane's surface says the call created
    the file, else `update`; no entry when the call names no file."""
    path = file_path(arguments)
    if path is None:
        return []
    return [FileChangeEntry(path=path, kind="add" if created else "update")]


def plan_entries(arguments: Any) -> list[PlanEntry]:
    """TodoWrite's `todos` [{content, status, activeForm}] as plan entries."""
    todos = arguments.get("todos") if isinstance(arguments, dict) else None
    return [PlanEntry(text=str(t.get("content", "")),
                      status=TODO_STATUSES.get(str(t.get("status")), "pending"))
            for t in (todos if isinstance(todos, list) else []) if isinstance(t, dict)]
