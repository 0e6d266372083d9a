"""What Gemini CLI's tools are, written once for the two lanes that read them.

Used by `lanes.gemini` (Gemini CLI's Gemini API traffic) and `lanes.gemini_cli` (Gemini CLI's
own stream-json). Both lanes watch the same runtime, Gemini CLI 0.61, through different surfaces:
its tool names and their kinds, its MCP naming, the parameters its tools take, its write_todos
statuses and the way it refuses a tool are the runtime's, not either surface's, so they live here
and a lane never imports the other. Surface facts stay in the lanes (SSE chunks, side calls and
finish reasons in `gemini`; `init`/`result` lines and error wording in `gemini_cli`).

Rules where the two lanes' copies had drifted, and the one kept (each pinned in both lanes'
tests):

- MCP names: a tool is an MCP call when its name parses as `mcp_<server>_<tool>` with both parts
  non-empty, split at the first `_` after the prefix, which is Gemini CLI's own
  `parseMcpToolName` (`/^([^_]+)_(.+)$/` after `mcp_`). The API lane took any `mcp_` name
  (`mcp_x` became server `x`, tool ``); the stream lane took `mcp__x` (server ``).
- `TODO_STATUSES` lists all five write_todos statuses of Gemini CLI 0.61 (`TODO_STATUSES` in its
  bundle: pending, in_progress, completed, cancelled, blocked); the API lane's copy lacked
  `blocked` (it fell to `pending` by default, the same result).
- Paths: a file tool names its file in `file_path` (Gemini CLI's `PARAM_FILE_PATH`; the API
  lane also read `path`, which no Gemini CLI file tool takes); a shell command's directory is
  `dir_path` (`PARAM_DIR_PATH`), else `directory` (the name older Gemini CLIs used), and only a
  non-empty string names one.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from harness.contract.model import ItemKind, PlanEntry, PlanStatus

TOOL_KINDS: dict[str, ItemKind] = {
    "run_shell_command": "command_execution",
    "write_file": "file_change",
    "replace": "file_change",
    "write_todos": "plan",
    "google_web_search": "web_search",
}
"""Gemini CLI tool name -> normalized item kind. `mcp_<server>_<tool>` -> mcp_tool_call (see
`mcp_names`); any other tool (`read_file`, `glob`, `grep_search`, `web_fetch`, ...) -> tool_call."""

MCP_PREFIX = "mcp_"
"""Gemini CLI names MCP tools `mcp_<server>_<tool>`."""

_MCP_NAME = re.compile(r"mcp_([^_]+)_(.+)")

FILE_CHANGE_KINDS: dict[str, Literal["add", "update"]] = {
    "write_file": "add",
    "replace": "update",
}
"""File tool -> change kind when the call starts. write_file creates or overwrites and its call
does not say which: `add`, until a result says otherwise (`WRITE_CREATED`)."""

WRITE_CREATED = "created and wrote to new file"
"""Words of write_file's result when it created the file (`Successfully created and wrote to new
file: <path>`; an overwrite says `Successfully overwrote file`). Only the model gets this text;
the stream-json `tool_result` of write_file has no output."""

TODO_STATUSES: dict[str, PlanStatus] = {
    "pending": "pending",
    "in_progress": "in_progress",
    "completed": "completed",
    "cancelled": "completed",
    "blocked": "pending",
}
"""write_todos `status` -> plan entry status (the model has three: a cancelled todo is done
with, a blocked one still waits); anything else is `pending`."""

DECLINED_ERROR_TYPES = frozenset({"tool_not_registered"})
"""A tool refused without running, as stream-json's `tool_result.error.type` names it: headless
approval mode `default` drops every tool that would ask, and a call of it fails
`tool_not_registered`."""

POLICY_DENIED_ERROR_TYPES = frozenset({"policy_violation"})
"""A tool its policy engine denied without running (`Tool execution denied by policy.` and the
rule's deny message): a decline under every approval mode, yolo included (headless Gemini CLI
0.61 denies an edit of a build file such as package.json even under yolo)."""

DECLINED_ERRORS = re.compile(r'^(?:Tool "[^"]+" not found\b|Tool execution denied by policy\.)')
"""The same refusals as the model gets them: the functionResponse error Gemini CLI writes for
`tool_not_registered` (`Tool "<name>" not found.`) and for `policy_violation`."""

_UNTRUSTED = re.compile(r"^\s*<untrusted_context>\n?(.*?)\n?</untrusted_context>\s*$", re.DOTALL)
_SHELL_FIELD = re.compile(r"^(Output|Exit Code|Error|Signal|Background PIDs|Process Group PGID|"
                          r"Command|Directory|Stdout|Stderr):[ ]?", re.MULTILINE)
_EMPTY_OUTPUT = "(empty)"


def tool_kind(name: str) -> ItemKind:
    """Normalized kind of a Gemini CLI tool (see `TOOL_KINDS` and `mcp_names`)."""
    if name in TOOL_KINDS:
        return TOOL_KINDS[name]
    return "mcp_tool_call" if _MCP_NAME.fullmatch(name) else "tool_call"


def mcp_names(name: str) -> tuple[str, str]:
    """(server, tool) from `mcp_<server>_<tool>`, split at the first `_` after the prefix as
    Gemini CLI splits it: a server name holding `_` cannot be told apart from the tool name
    (`mcp_my_srv_tool` is server `my`, tool `srv_tool`). ("", "") when the name is no MCP name."""
    match = _MCP_NAME.fullmatch(name)
    return (match.group(1), match.group(2)) if match else ("", "")


def file_path(parameters: Any) -> str:
    """The file a write_file/replace call names (`file_path`), "" when none."""
    path = parameters.get("file_path") if isinstance(parameters, dict) else None
    return path if isinstance(path, str) else ""


def shell_cwd(parameters: Any) -> str | None:
    """The directory run_shell_command runs in, when the call names one (see module
    docstring); None means the project root."""
    if not isinstance(parameters, dict):
        return None
    for key in ("dir_path", "directory"):
        value = parameters.get(key)
        if isinstance(value, str) and value:
            return value
    return None


def plan_entries(parameters: Any) -> list[PlanEntry]:
    """write_todos' `todos` [{description, status}] as plan entries."""
    todos = parameters.get("todos") if isinstance(parameters, dict) else None
    return [PlanEntry(text=str(t.get("description", "")),
                      status=TODO_STATUSES.get(str(t.get("status")), "pending"))
            for t in (todos if isinstance(todos, list) else []) if isinstance(t, dict)]


def unwrap(text: str) -> str:
    """Gemini CLI wraps tool output for the model in `<untrusted_context>` tags (0.61); older
    versions don't."""
    match = _UNTRUSTED.match(text)
    return match.group(1) if match else text


def parse_shell_output(text: str) -> tuple[int | None, str, bool]:
    """(exit code, output, ran) from run_shell_command's result as the model gets it.

    Gemini CLI writes `Output: ...` then `Exit Code: N` only when non-zero, `Error: ...` when the
    process could not run, `Signal: ...` when killed, plus `Process Group PGID`/`Background
    PIDs`. No exit code line and no error means exit 0; `(empty)` means no output. `ran` is
    False when the text has no such fields (not a shell result at all). The stream-json
    `tool_result` carries the display text instead (the output, or `Command exited with code:
    N` when there is none), which the gemini-cli lane keeps as it is.
    """
    body = unwrap(text)
    fields: dict[str, str] = {}
    marks = list(_SHELL_FIELD.finditer(body))
    for n, mark in enumerate(marks):
        end = marks[n + 1].start() if n + 1 < len(marks) else len(body)
        fields[mark.group(1)] = body[mark.end():end].rstrip("\n")
    if not fields:
        return None, text, False
    output = fields.get("Output", fields.get("Stdout", ""))
    output = "" if output.strip() == _EMPTY_OUTPUT else output
    code_text = fields.get("Exit Code", "").strip()
    if re.fullmatch(r"-?\d+", code_text):
        return int(code_text), output, True
    if "Error" in fields or "Signal" in fields:
        return None, output or fields.get("Error", ""), True
    return 0, output, True
