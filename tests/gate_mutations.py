"""Mutation testing of the conformance gate: does `harness check` catch a regression that an
attacker has accepted into the goldens?

A false PASS is the worst bug the gate can have. Each *mutant* plants ONE semantic regression in
ONE lane's native file of ONE scenario (an answer's text, a command, its output or exit code, an
item dropped or duplicated, a file path or change kind, an MCP server/tool/arguments, a search
query, a turn's outcome, an approval decision, a plan entry), on a copy of the catalog. Then the
attacker runs `harness check --update-golden` on the copy, so the golden snapshot now holds the
regression, and `harness check` runs again. What is left to catch it: the schema and ordering
rules, the scenario's outline, the pairwise equivalence with the other lanes under the
divergence ledger (including stale ledger entries), the capability and secret checks. The mutant
is *killed* when the second check exits non-zero, *survives* when it passes.

Operators (`OPERATORS`, name -> function(text, native_file) -> mutated text or None when it does
not apply) are deterministic: each changes the first applicable occurrence (one item, one
call, one turn), consistently everywhere that one thing is written in the file, so the mutant is
a coherent recording of a different run rather than a self-contradicting file:

- JSONL streams (`codex-native.jsonl`, `claude-code.jsonl`, `gemini-cli.jsonl`): the JSON lines of
  that item (its started/updated/completed lines, a tool call and its result).
- The app-server transcript (`codex-app-server.jsonl`, JSON-RPC both ways): every copy of the
  thread item (`item/started`, `item/completed`, the turn's `items` in `turn/completed`, the
  history a `thread/resume` answers with), its deltas (the mark goes at the start of the first
  delta, so the deltas still add up to the marked text) and its approval request; a dropped
  item takes its approval request and the client's answer with it. `approval_decision` flips
  the client's answer (`result.decision`, approving <-> `decline`, `cancel` -> `accept`) and the
  item follows: declined = never ran (no output, exit code or output deltas), approved = ran
  (exit 0; a cancelled file change, which never completed, completes).
- The ACP transcript (`gemini-acp.jsonl`, JSON-RPC both ways, `gemini --acp`): every copy of a
  tool call (its `tool_call`, its `tool_call_update`s, the `toolCall` of its
  `session/request_permission`); an answer's mark goes at the start of its first chunk. A
  dropped or duplicated call takes its permission request and the client's answer with it (the
  twin's request gets a new id). `approval_decision` flips the option the client chose (allow
  <-> reject, among the request's own options) and the call follows: rejected = no later
  updates (an agent sends none for a refused call; nor the mode notice an allow-always brought),
  allowed = a completing `tool_call_update`. A `cancelled` answer, which ACP allows only after
  the client's `session/cancel`, becomes an allow in a turn nobody cancelled (no
  `session/cancel`, the turn ends `end_turn`); `turn_outcome` on a cancelled turn likewise
  takes the cancel out and rejects the permission instead. Gemini CLI sends no command output
  or exit code over ACP: `command_output` gives the completing update a text content and
  `exit_code` a `rawOutput.exit_code` of 1, as an agent that shows them would.
- HTTP cassettes (`codex.http.yaml`, `claude.http.yaml`, `gemini.http.yaml`, vcrpy YAML): the SSE
  event payloads of the recorded response bodies, plus the copies the runtime sends back as
  history in later request bodies. Three facts exist only in request bodies (a tool's output, a
  shell exit code, a refusal the runtime sends the model): `command_output`, `exit_code` and
  `approval_decision` (and the file-change kind of a Write/write_file, which the API lanes read
  from the tool result text) edit the tool result there.

A turn-outcome mutation flips the first failed turn to completed, else the last completed turn
to failed (the end of the recording, so the file stays coherent). A turn the user interrupted
completes without the interrupt: Claude Code's interrupting deny becomes a plain deny (no
`[Request interrupted by user...]` line), ACP's cancel a rejection. On an HTTP cassette
`drop_item` drops the first answer or reasoning item (a call dropped from a response the
runtime then went on to answer would leave an incoherent recording); `codex exec --json` prints
no approval events, so its `approval_decision` flips an item between declined and run. A mutant
whose lane log does not change (no golden rewritten) is counted and reported apart: it tests
nothing of the gate.

The check runs in-process through `harness.cli.main` (the `harness` console script itself), on
a copy of only the mutated scenario (`cassettes/<S>`, `cassettes/_fixtures`, `golden/<S>`) with
`--scenario S --jobs 1`: the same gate as on the whole catalog, minus the whole-catalog-only
capability check.

    python -m tests.gate_mutations --all              # every scenario x lane x operator
    python -m tests.gate_mutations --lane acp --all   # one lane's native file, every operator
    python -m tests.gate_mutations --scenario shell_ok --operator command
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import io
import json
import multiprocessing
import os
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml

from harness.cli import main as harness_main
from lanes import acp as acp_lane

ROOT = Path(__file__).resolve().parent.parent
MARK = "MUTATED"

NATIVE_FILES: dict[str, str] = {
    "codex-native.jsonl": "codex-native",
    "claude-code.jsonl": "claude-code",
    "gemini-cli.jsonl": "gemini-cli",
    "codex.http.yaml": "codex-adapter",
    "claude.http.yaml": "anthropic",
    "gemini.http.yaml": "gemini",
    "codex-app-server.jsonl": "codex-app-server",
    "gemini-acp.jsonl": "acp",
}
"""Native file -> the lane that reads it."""

OPERATOR_NAMES: tuple[str, ...] = (
    "answer_text", "command", "command_output", "exit_code", "drop_item", "extra_item",
    "file_path", "file_change_kind", "mcp_server", "mcp_tool", "mcp_arguments",
    "search_query", "turn_outcome", "approval_decision", "plan_entry",
)


# ============================================================================ value mutations


def _text(value: str) -> str:
    return f"{MARK} {value}"


def _word(value: str) -> str:
    """A name (MCP server or tool) changed without `_`, so no lane's name split moves."""
    return f"{value}mutated"


def _path(path: str) -> str:
    head, slash, base = path.rpartition("/")
    return f"{head}{slash}mutated_{base}"


_SHELL_WRAPPER = re.compile(r"^((?:/usr)?(?:/bin/)?(?:ba|z)?sh\s+-l?c\s+['\"]?)")


def _command(command: Any) -> Any:
    """`cat x` -> `mutated_cat x`, inside a `bash -lc '...'` wrapper when there is one."""
    if isinstance(command, list):
        if len(command) == 3 and command[1] in {"-c", "-lc"}:
            return [command[0], command[1], _command(command[2])]
        return [f"mutated_{command[0]}", *command[1:]] if command else ["mutated"]
    text = str(command)
    match = _SHELL_WRAPPER.match(text)
    cut = match.end() if match else 0
    return f"{text[:cut]}mutated_{text[cut:]}"


def _arguments(args: Any) -> Any:
    """The first string argument gets the mark; no string argument: one more argument."""
    if isinstance(args, dict):
        out = dict(args)
        for key, value in out.items():
            if isinstance(value, str):
                out[key] = _text(value)
                return out
        out["mutated"] = True
        return out
    return {"mutated": True}


_EXIT_HEAD = re.compile(r"^((?:Error: )?Exit code )(-?\d+)")


def _output_text(text: str) -> str:
    """Output with the mark after any `Exit code N` head (so the code stays readable)."""
    match = _EXIT_HEAD.match(text)
    if match:
        line_end = text.find("\n")
        cut = len(text) if line_end < 0 else line_end + 1
        return text[:cut] + _text(text[cut:])
    return _text(text)


def _flip_code(code: int) -> int:
    return 1 if code == 0 else 0


# ============================================================================ documents


class Jsonl:
    """A JSONL stream: parsed rows, re-serialized only where edited (compact, like the CLIs;
    `spaced`: with `json.dumps`' default separators, like the app-server transcript recorder)."""

    def __init__(self, text: str, *, spaced: bool = False) -> None:
        self.separators = (", ", ": ") if spaced else (",", ":")
        self.raw: list[str | None] = text.splitlines(keepends=True)
        self.rows: list[Any] = []
        for line in self.raw:
            try:
                self.rows.append(json.loads(line) if line.strip() else None)
            except ValueError:
                self.rows.append(None)

    def edit(self, index: int) -> Any:
        self.raw[index] = None
        return self.rows[index]

    def put(self, index: int, row: Any) -> None:
        self.rows[index], self.raw[index] = row, None

    def insert(self, index: int, rows: Sequence[Any]) -> None:
        for offset, row in enumerate(rows):
            self.rows.insert(index + offset, row)
            self.raw.insert(index + offset, None)

    def delete(self, indexes: Iterable[int]) -> None:
        for index in sorted(set(indexes), reverse=True):
            del self.rows[index]
            del self.raw[index]

    def text(self) -> str:
        return "".join(raw if raw is not None else
                       json.dumps(row, ensure_ascii=False, separators=self.separators) + "\n"
                       for raw, row in zip(self.raw, self.rows, strict=True))


@dataclass(eq=False)
class SseBlock:
    """One event of an SSE body (compared by identity: two pings are two blocks)."""

    event: str | None
    data: Any
    raw: str | None

    def edit(self) -> Any:
        self.raw = None
        return self.data


class Sse:
    """One recorded SSE body: blocks separated by blank lines, `event:` and `data:` lines
    (LF or CRLF, as recorded: Gemini's bodies use CRLF)."""

    def __init__(self, text: str, compact: bool) -> None:
        self.compact = compact
        self.nl = "\r\n" if "\r\n" in text else "\n"
        self.blocks: list[SseBlock] = []
        for raw in text.split(self.nl * 2):
            event, data = None, None
            datas = []
            for line in raw.split(self.nl):
                if line.startswith("event:"):
                    event = line[6:].strip()
                elif line.startswith("data:"):
                    datas.append(line[5:].strip())
            if datas:
                try:
                    data = json.loads("\n".join(datas))
                except ValueError:
                    data = None
            self.blocks.append(SseBlock(event, data, raw))

    def new(self, data: Any, event: str | None = None) -> SseBlock:
        return SseBlock(event, data, None)

    def payloads(self) -> Iterator[tuple[int, dict[str, Any]]]:
        for index, block in enumerate(self.blocks):
            if isinstance(block.data, dict):
                yield index, block.data

    def text(self) -> str:
        separators = (",", ":") if self.compact else (", ", ": ")
        parts = []
        for block in self.blocks:
            if block.raw is not None:
                parts.append(block.raw)
                continue
            data = json.dumps(block.data, ensure_ascii=False, separators=separators)
            parts.append((f"event: {block.event}{self.nl}" if block.event else "")
                         + f"data: {data}")
        return (self.nl * 2).join(parts)


class _CassetteDumper(yaml.SafeDumper):
    """The recorder's cassette style (literal blocks for multi-line text): an unmutated
    cassette loads and dumps back byte for byte, so only the mutated bodies differ."""


def _str_presenter(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    if any(c in value for c in ("\x85", "\u2028", "\u2029")):
        style: str | None = '"'
    else:
        style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_CassetteDumper.add_representer(str, _str_presenter)


_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class Http:
    """A vcrpy cassette: response SSE bodies and JSON request bodies, edited in place."""

    def __init__(self, text: str, compact: bool) -> None:
        self.data = yaml.load(text, Loader=_LOADER)
        self.interactions: list[dict[str, Any]] = self.data["interactions"]
        self.compact = compact
        self._sse: dict[int, Sse | None] = {}
        self._requests: dict[int, Any] = {}
        self.dirty_requests: set[int] = set()

    def __len__(self) -> int:
        return len(self.interactions)

    def sse(self, index: int) -> Sse | None:
        if index not in self._sse:
            body = self.interactions[index]["response"].get("body")
            text = body.get("string") if isinstance(body, dict) else body
            if isinstance(text, bytes):
                text = text.decode("utf-8", "replace")
            is_sse = isinstance(text, str) and re.search(r"^data:", text, re.MULTILINE)
            self._sse[index] = Sse(text, self.compact) if is_sse else None
        return self._sse[index]

    def sses(self) -> Iterator[tuple[int, Sse]]:
        for index in range(len(self)):
            sse = self.sse(index)
            if sse is not None:
                yield index, sse

    def request(self, index: int) -> Any:
        if index not in self._requests:
            body = self.interactions[index]["request"].get("body")
            try:
                self._requests[index] = json.loads(body) if body else None
            except (TypeError, ValueError):
                self._requests[index] = None
        return self._requests[index]

    def requests(self) -> Iterator[tuple[int, dict[str, Any]]]:
        for index in range(len(self)):
            body = self.request(index)
            if isinstance(body, dict):
                yield index, body

    def touch_request(self, index: int) -> None:
        self.dirty_requests.add(index)

    def text(self) -> str:
        for index, sse in self._sse.items():
            if sse is None:
                continue
            response = self.interactions[index]["response"]
            if isinstance(response.get("body"), dict):
                response["body"]["string"] = sse.text()
            else:
                response["body"] = sse.text()
        for index in self.dirty_requests:
            self.interactions[index]["request"]["body"] = json.dumps(
                self._requests[index], indent=2, ensure_ascii=False) + "\n"
        return yaml.dump(self.data, Dumper=_CassetteDumper, sort_keys=False, allow_unicode=True,
                         width=100)


# ============================================================================ registry

Impl = Callable[[Any], str | None]
"""A flavour's implementation of an operator: edits the document, returns a one-line note of
what it changed, or None when nothing applies."""

_IMPLS: dict[tuple[str, str], Impl] = {}


def _impl(operator: str, native: str) -> Callable[[Impl], Impl]:
    def register(fn: Impl) -> Impl:
        assert operator in OPERATOR_NAMES and native in NATIVE_FILES, (operator, native)
        _IMPLS[(operator, native)] = fn
        return fn
    return register


def _impl_mcp(native: str, mutate_part: Callable[[Any, str], str | None]) -> None:
    """Register one format's MCP mutator for the three MCP operators (server, tool, arguments)."""
    for part in ("server", "tool", "arguments"):
        _impl(f"mcp_{part}", native)(lambda doc, part=part: mutate_part(doc, part))


@dataclass(frozen=True)
class Mutation:
    operator: str
    native: str
    text: str
    note: str


def mutate(operator: str, native: str, text: str) -> Mutation | None:
    """Apply one operator to one native file's text (None: it does not apply)."""
    fn = _IMPLS.get((operator, native))
    if fn is None:
        return None
    doc: Jsonl | Http = Jsonl(text, spaced=native in {AS, AC}) if native.endswith(".jsonl") else \
        Http(text, compact=native.startswith("codex"))
    note = fn(doc)
    if note is None:
        return None
    new = doc.text()
    return None if new == text else Mutation(operator, native, new, note)


def _operator(name: str) -> Callable[[str, str], str | None]:
    def operator(text: str, native: str) -> str | None:
        found = mutate(name, native, text)
        return None if found is None else found.text
    operator.__name__ = name
    operator.__doc__ = f"The `{name}` mutation of a native file's text, or None."
    return operator


OPERATORS: dict[str, Callable[[str, str], str | None]] = {
    name: _operator(name) for name in OPERATOR_NAMES}
"""Operator name -> function(native file text, native file name) -> mutated text or None."""


# ============================================================================ codex-native

CN = "codex-native.jsonl"
_TURN_END = ("turn.completed", "turn.failed")


def _cn_items(doc: Jsonl, *types: str) -> Iterator[tuple[int, dict[str, Any]]]:
    """item.completed lines (optionally of these item types), in order."""
    for index, row in enumerate(doc.rows):
        if isinstance(row, dict) and row.get("type") == "item.completed" \
                and isinstance(row.get("item"), dict) \
                and (not types or row["item"].get("type") in types):
            yield index, row["item"]


def _cn_lines(doc: Jsonl, completed: int) -> list[int]:
    """Every line of the item completed at line `completed`, within its turn."""
    item_id = doc.rows[completed]["item"].get("id")
    start = completed
    while start > 0 and not (isinstance(doc.rows[start], dict)
                             and doc.rows[start].get("type") == "turn.started"):
        start -= 1
    end = completed
    while end < len(doc.rows) - 1 and not (isinstance(doc.rows[end], dict)
                                           and doc.rows[end].get("type") in _TURN_END):
        end += 1
    return [i for i in range(start, end + 1)
            if isinstance(doc.rows[i], dict) and isinstance(doc.rows[i].get("item"), dict)
            and doc.rows[i]["item"].get("id") == item_id]


def _cn_edit_item(doc: Jsonl, completed: int, fn: Callable[[dict[str, Any]], None]) -> None:
    for index in _cn_lines(doc, completed):
        fn(doc.edit(index)["item"])


def _cn_first(doc: Jsonl, *types: str) -> int | None:
    return next((i for i, _ in _cn_items(doc, *types)), None)


@_impl("answer_text", CN)
def _cn_answer(doc: Jsonl) -> str | None:
    line = _cn_first(doc, "agent_message")
    if line is None:
        return None

    def fn(item: dict[str, Any]) -> None:
        item["text"] = _text(str(item.get("text") or ""))
    _cn_edit_item(doc, line, fn)
    return f"line {line + 1}: agent_message text"


@_impl("command", CN)
def _cn_command(doc: Jsonl) -> str | None:
    line = _cn_first(doc, "command_execution")
    if line is None:
        return None

    def fn(item: dict[str, Any]) -> None:
        item["command"] = _command(item.get("command"))
    _cn_edit_item(doc, line, fn)
    return f"line {line + 1}: command -> {doc.rows[line]['item']['command']!r}"


@_impl("command_output", CN)
def _cn_output(doc: Jsonl) -> str | None:
    line = _cn_first(doc, "command_execution")
    if line is None:
        return None
    item = doc.edit(line)["item"]
    item["aggregated_output"] = _text(str(item.get("aggregated_output") or ""))
    return f"line {line + 1}: aggregated_output"


@_impl("exit_code", CN)
def _cn_exit(doc: Jsonl) -> str | None:
    for line, item in _cn_items(doc, "command_execution"):
        if isinstance(item.get("exit_code"), int):
            old = item["exit_code"]
            doc.edit(line)["item"]["exit_code"] = _flip_code(old)
            return f"line {line + 1}: exit_code {old} -> {_flip_code(old)}"
    return None


@_impl("drop_item", CN)
def _cn_drop(doc: Jsonl) -> str | None:
    line = _cn_first(doc)
    if line is None:
        return None
    item = doc.rows[line]["item"]
    doc.delete(_cn_lines(doc, line))
    return f"dropped {item.get('type')} {item.get('id')} (line {line + 1})"


@_impl("extra_item", CN)
def _cn_extra(doc: Jsonl) -> str | None:
    line = _cn_first(doc)
    if line is None:
        return None
    copies = []
    for index in _cn_lines(doc, line):
        row = copy.deepcopy(doc.rows[index])
        row["item"]["id"] = f"{row['item'].get('id')}_mutant"
        copies.append(row)
    doc.insert(line + 1, copies)
    return f"duplicated {doc.rows[line]['item'].get('type')} after line {line + 1}"


@_impl("file_path", CN)
def _cn_file_path(doc: Jsonl) -> str | None:
    for line, item in _cn_items(doc, "file_change"):
        if item.get("changes"):
            def fn(it: dict[str, Any]) -> None:
                if it.get("changes"):
                    it["changes"][0]["path"] = _path(str(it["changes"][0].get("path")))
            _cn_edit_item(doc, line, fn)
            return f"line {line + 1}: changes[0].path"
    return None


_KIND_FLIP = {"add": "update", "update": "add", "delete": "update", "move": "update"}


@_impl("file_change_kind", CN)
def _cn_file_kind(doc: Jsonl) -> str | None:
    for line, item in _cn_items(doc, "file_change"):
        if item.get("changes"):
            old = item["changes"][0].get("kind")

            def fn(it: dict[str, Any]) -> None:
                if it.get("changes"):
                    change = it["changes"][0]
                    change["kind"] = _KIND_FLIP.get(str(change.get("kind")), "update")
            _cn_edit_item(doc, line, fn)
            return f"line {line + 1}: changes[0].kind {old} -> {_KIND_FLIP.get(old, 'update')}"
    return None


def _cn_mcp(doc: Jsonl, key: str) -> str | None:
    line = _cn_first(doc, "mcp_tool_call")
    if line is None:
        return None

    def fn(item: dict[str, Any]) -> None:
        item[key] = _arguments(item.get(key)) if key == "arguments" else _word(str(item.get(key)))
    _cn_edit_item(doc, line, fn)
    return f"line {line + 1}: mcp_tool_call {key}"


_impl_mcp(CN, _cn_mcp)


@_impl("search_query", CN)
def _cn_search(doc: Jsonl) -> str | None:
    line = _cn_first(doc, "web_search")
    if line is None:
        return None

    def fn(item: dict[str, Any]) -> None:
        if item.get("query"):
            item["query"] = _text(item["query"])
        action = item.get("action")
        if isinstance(action, dict) and action.get("query"):
            action["query"] = _text(action["query"])
    _cn_edit_item(doc, line, fn)
    return f"line {line + 1}: web_search query"


def _flip_target(ends: list[tuple[int, bool]]) -> tuple[int, bool] | None:
    """(index, failed) of the turn end to flip: the first failed one, else the last one."""
    failed = [e for e in ends if e[1]]
    return failed[0] if failed else (ends[-1] if ends else None)


@_impl("turn_outcome", CN)
def _cn_turn(doc: Jsonl) -> str | None:
    ends = [(i, r["type"] == "turn.failed") for i, r in enumerate(doc.rows)
            if isinstance(r, dict) and r.get("type") in _TURN_END]
    target = _flip_target(ends)
    if target is None:
        return None
    line, failed = target
    if failed:
        doc.put(line, {"type": "turn.completed", "usage": {
            "input_tokens": 0, "cached_input_tokens": 0, "output_tokens": 0,
            "reasoning_output_tokens": 0}})
        return f"line {line + 1}: turn.failed -> turn.completed"
    doc.put(line, {"type": "turn.failed",
                   "error": {"message": f"{MARK}: stream disconnected before completion"}})
    return f"line {line + 1}: turn.completed -> turn.failed"


@_impl("approval_decision", CN)
def _cn_approval(doc: Jsonl) -> str | None:
    """`codex exec --json` prints no approval events: the decision shows as the item's
    status (`declined`, no exit code). Declined -> approved and run; run -> declined."""
    line = _cn_first(doc, "command_execution", "file_change")
    if line is None:
        return None
    item = doc.edit(line)["item"]
    if item.get("status") == "declined":
        item["status"] = "completed"
        if item.get("type") == "command_execution":
            item["exit_code"] = 0
        return f"line {line + 1}: declined -> approved (completed)"
    old = item.get("status")
    item["status"] = "declined"
    if item.get("type") == "command_execution":
        item["exit_code"] = None
        item["aggregated_output"] = ""
    return f"line {line + 1}: {old} -> declined"


@_impl("plan_entry", CN)
def _cn_plan(doc: Jsonl) -> str | None:
    line = _cn_first(doc, "todo_list")
    if line is None:
        return None

    def fn(item: dict[str, Any]) -> None:
        if item.get("items"):
            item["items"][0]["text"] = _text(str(item["items"][0].get("text")))
    _cn_edit_item(doc, line, fn)
    return f"line {line + 1}: todo_list items[0].text"


# ============================================================================ claude-code

CC = "claude-code.jsonl"
CLAUDE_NOISE = frozenset({"ToolSearch"})
CLAUDE_FILE_TOOLS = frozenset({"Write", "Edit", "MultiEdit", "NotebookEdit"})


def _cc_blocks(doc: Jsonl) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line, block) of assistant content blocks (one per line), synthetic errors left out."""
    for index, row in enumerate(doc.rows):
        if isinstance(row, dict) and row.get("type") == "assistant":
            message = row.get("message") or {}
            if message.get("model") == "<synthetic>":
                continue
            for block in message.get("content") or []:
                if isinstance(block, dict):
                    yield index, block


def _cc_tool(doc: Jsonl, pred: Callable[[str], bool]) -> tuple[int, dict[str, Any]] | None:
    return next(((i, b) for i, b in _cc_blocks(doc)
                 if b.get("type") == "tool_use" and pred(str(b.get("name")))), None)


def _cc_result(doc: Jsonl, tool_id: str) -> tuple[int, dict[str, Any]] | None:
    for index, row in enumerate(doc.rows):
        if isinstance(row, dict) and row.get("type") == "user":
            content = (row.get("message") or {}).get("content")
            for block in content if isinstance(content, list) else []:
                if isinstance(block, dict) and block.get("type") == "tool_result" \
                        and block.get("tool_use_id") == tool_id:
                    return index, block
    return None


@_impl("answer_text", CC)
def _cc_answer(doc: Jsonl) -> str | None:
    for line, block in _cc_blocks(doc):
        if block.get("type") == "text":
            doc.edit(line)
            block["text"] = _text(str(block.get("text") or ""))
            return f"line {line + 1}: assistant text"
    return None


def _cc_permission_inputs(doc: Jsonl, tool_id: Any) -> list[dict[str, Any]]:
    """The other copies of a tool call's input in a transcript where Claude Code asked its
    client (stream-json control protocol): the `can_use_tool` request's `input` and the client's
    `updatedInput`, which the lane takes as what ran."""
    out: list[dict[str, Any]] = []
    for index, row in enumerate(doc.rows):
        request = row.get("request") if isinstance(row, dict) \
            and row.get("type") == "control_request" else None
        if not (isinstance(request, dict) and request.get("subtype") == "can_use_tool"
                and request.get("tool_use_id") == tool_id):
            continue
        if isinstance(request.get("input"), dict):
            out.append(doc.edit(index)["request"]["input"])
        for answer, reply in enumerate(doc.rows):
            response = reply.get("response") if isinstance(reply, dict) \
                and reply.get("type") == "control_response" else None
            if isinstance(response, dict) and response.get("request_id") == row.get("request_id"):
                inner = response.get("response")
                if isinstance(inner, dict) and isinstance(inner.get("updatedInput"), dict):
                    out.append(doc.edit(answer)["response"]["response"]["updatedInput"])
    return out


@_impl("command", CC)
def _cc_command(doc: Jsonl) -> str | None:
    found = _cc_tool(doc, lambda n: n == "Bash")
    if found is None:
        return None
    line, block = found
    doc.edit(line)
    for tool_input in [block["input"], *_cc_permission_inputs(doc, block.get("id"))]:
        tool_input["command"] = _command(tool_input.get("command"))
    return f"line {line + 1}: Bash command -> {block['input']['command']!r}"


def _cc_refused(doc: Jsonl, tool_id: Any) -> bool:
    """Whether the call was refused (a `permission_denied` line, or the client's `deny`): its
    result is why it did not run, which the lane reads as the item's error, not output."""
    denied_requests = {row.get("request_id") for row in doc.rows if isinstance(row, dict)
                       and row.get("type") == "control_request"
                       and isinstance(row.get("request"), dict)
                       and row["request"].get("tool_use_id") == tool_id}
    return any(isinstance(row, dict) and (
        (row.get("subtype") == "permission_denied" and row.get("tool_use_id") == tool_id)
        or (row.get("type") == "control_response" and isinstance(row.get("response"), dict)
            and row["response"].get("request_id") in denied_requests
            and (row["response"].get("response") or {}).get("behavior") == "deny"))
        for row in doc.rows)


@_impl("command_output", CC)
def _cc_output(doc: Jsonl) -> str | None:
    """The output of the first Bash call that was not refused."""
    found = next(((i, b) for i, b in _cc_blocks(doc) if b.get("type") == "tool_use"
                  and b.get("name") == "Bash" and not _cc_refused(doc, b.get("id"))), None)
    result = found and _cc_result(doc, str(found[1].get("id")))
    if not result:
        return None
    line, block = result
    row = doc.edit(line)
    content = block.get("content")
    if isinstance(content, str):
        block["content"] = _output_text(content)
    elif isinstance(content, list):
        for part in content:
            if isinstance(part, dict) and part.get("type") == "text":
                part["text"] = _output_text(str(part.get("text")))
                break
    tur = row.get("tool_use_result")
    if isinstance(tur, dict):
        tur["stdout"] = _text(str(tur.get("stdout") or ""))
    elif isinstance(tur, str):
        row["tool_use_result"] = _output_text(tur)
    return f"line {line + 1}: Bash output"


@_impl("exit_code", CC)
def _cc_exit(doc: Jsonl) -> str | None:
    for _, block in _cc_blocks(doc):
        if block.get("type") != "tool_use" or block.get("name") != "Bash":
            continue
        result = _cc_result(doc, str(block.get("id")))
        if result is None:
            continue
        rline, rblock = result
        row = doc.rows[rline]
        tur = row.get("tool_use_result")
        content = rblock.get("content")
        if isinstance(tur, dict) and not rblock.get("is_error") \
                and not tur.get("returnCodeInterpretation"):
            doc.edit(rline)
            out = str(tur.get("stdout") or "")
            rblock["is_error"] = True
            rblock["content"] = f"Exit code 1\n{out}"
            row["tool_use_result"] = f"Error: Exit code 1\n{out}"
            return f"line {rline + 1}: Bash exit 0 -> 1"
        text = tur if isinstance(tur, str) else content if isinstance(content, str) else ""
        match = _EXIT_HEAD.match(text)
        if match:
            old = int(match.group(2))
            new = old + 1 if old != 0 else 1

            def bump(value: str, new: int = new) -> str:
                return _EXIT_HEAD.sub(lambda m: f"{m.group(1)}{new}", value, count=1)
            doc.edit(rline)
            if isinstance(tur, str):
                row["tool_use_result"] = bump(tur)
            if isinstance(content, str):
                rblock["content"] = bump(content)
            return f"line {rline + 1}: Bash exit {old} -> {new}"
    return None


def _cc_first_item(doc: Jsonl) -> tuple[int, dict[str, Any]] | None:
    return next(((i, b) for i, b in _cc_blocks(doc)
                 if not (b.get("type") == "tool_use" and b.get("name") in CLAUDE_NOISE)), None)


@_impl("drop_item", CC)
def _cc_drop(doc: Jsonl) -> str | None:
    found = _cc_first_item(doc)
    if found is None:
        return None
    line, block = found
    drop = [line]
    if block.get("type") == "tool_use":
        tool_id = block.get("id")
        result = _cc_result(doc, str(tool_id))
        if result is not None:
            drop.append(result[0])
        drop += [i for i, r in enumerate(doc.rows) if isinstance(r, dict)
                 and r.get("type") == "system" and r.get("tool_use_id") == tool_id]
    doc.delete(drop)
    return f"dropped {block.get('type')} {block.get('name') or ''} (line {line + 1})".strip()


@_impl("extra_item", CC)
def _cc_extra(doc: Jsonl) -> str | None:
    found = _cc_first_item(doc)
    if found is None:
        return None
    line, block = found
    twin = copy.deepcopy(doc.rows[line])
    message = twin["message"]
    message["id"] = f"{message.get('id')}_mutant"
    twin["uuid"] = f"{twin.get('uuid')}-mutant"
    if block.get("type") != "tool_use":
        doc.insert(line + 1, [twin])
        return f"duplicated assistant {block.get('type')} after line {line + 1}"
    tool_id = str(block.get("id"))
    new_id = f"{tool_id}_mutant"
    for b in message["content"]:
        if b.get("type") == "tool_use":
            b["id"] = new_id
    result = _cc_result(doc, tool_id)
    if result is None:
        doc.insert(line + 1, [twin])
        return f"duplicated tool_use {block.get('name')} after line {line + 1}"
    rtwin = copy.deepcopy(doc.rows[result[0]])
    rtwin["uuid"] = f"{rtwin.get('uuid')}-mutant"
    for b in rtwin["message"]["content"]:
        if isinstance(b, dict) and b.get("tool_use_id") == tool_id:
            b["tool_use_id"] = new_id
    for meta in rtwin.get("tool_result_meta") or []:
        if isinstance(meta, dict) and meta.get("id") == tool_id:
            meta["id"] = new_id
    doc.insert(result[0] + 1, [twin, rtwin])
    return f"duplicated tool_use {block.get('name')} + result after line {result[0] + 1}"


@_impl("file_path", CC)
def _cc_file_path(doc: Jsonl) -> str | None:
    found = _cc_tool(doc, lambda n: n in CLAUDE_FILE_TOOLS)
    if found is None:
        return None
    line, block = found
    doc.edit(line)
    key = "notebook_path" if "notebook_path" in block["input"] else "file_path"
    for tool_input in [block["input"], *_cc_permission_inputs(doc, block.get("id"))]:
        tool_input[key] = _path(str(tool_input.get(key)))
    result = _cc_result(doc, str(block.get("id")))
    if result is not None:
        tur = doc.edit(result[0]).get("tool_use_result")
        if isinstance(tur, dict) and isinstance(tur.get("filePath"), str):
            tur["filePath"] = _path(tur["filePath"])
    return f"line {line + 1}: {block.get('name')} {key}"


@_impl("file_change_kind", CC)
def _cc_file_kind(doc: Jsonl) -> str | None:
    """Write is `add` when its tool_use_result says `create`, else `update`; Edit is
    `update`. Write: flip create <-> update; Edit: becomes a Write that created the file."""
    found = _cc_tool(doc, lambda n: n in CLAUDE_FILE_TOOLS)
    if found is None:
        return None
    line, block = found
    result = _cc_result(doc, str(block.get("id")))
    row = doc.edit(result[0]) if result else {}
    tur = row.get("tool_use_result")
    if block.get("name") == "Write":
        if not isinstance(tur, dict):
            return None
        old = tur.get("type")
        tur["type"] = "update" if old == "create" else "create"
        return f"line {result[0] + 1 if result else '?'}: Write tool_use_result.type " \
               f"{old} -> {tur['type']}"
    doc.edit(line)
    old_name = block.get("name")
    block["name"] = "Write"
    if isinstance(tur, dict):
        tur["type"] = "create"
    else:
        row["tool_use_result"] = {"type": "create", "filePath": block["input"].get("file_path")}
    return f"line {line + 1}: {old_name} -> Write that created the file"


def _cc_mcp(doc: Jsonl, part: str) -> str | None:
    found = _cc_tool(doc, lambda n: n.startswith("mcp__"))
    if found is None:
        return None
    line, block = found
    doc.edit(line)
    if part == "arguments":
        block["input"] = _arguments(block.get("input"))
        return f"line {line + 1}: {block['name']} input"
    server, _, tool = str(block["name"])[5:].partition("__")
    server, tool = (_word(server), tool) if part == "server" else (server, _word(tool))
    old, block["name"] = block["name"], f"mcp__{server}__{tool}"
    return f"line {line + 1}: {old} -> {block['name']}"


_impl_mcp(CC, _cc_mcp)


@_impl("search_query", CC)
def _cc_search(doc: Jsonl) -> str | None:
    found = _cc_tool(doc, lambda n: n == "WebSearch")
    if found is None:
        return None
    line, block = found
    doc.edit(line)
    block["input"]["query"] = _text(str(block["input"].get("query")))
    result = _cc_result(doc, str(block.get("id")))
    if result is not None:
        tur = doc.edit(result[0]).get("tool_use_result")
        if isinstance(tur, dict) and isinstance(tur.get("query"), str):
            tur["query"] = _text(tur["query"])
    return f"line {line + 1}: WebSearch query"


def _cc_failed(row: dict[str, Any]) -> bool:
    return bool(row.get("is_error")) or row.get("terminal_reason") not in (None, "completed") \
        or str(row.get("subtype")).startswith("error")


CLAUDE_INTERRUPT = "[Request interrupted by user"


def _cc_uninterrupt(doc: Jsonl, end: int) -> bool:
    """The run that ended at line `end` as if the user had not interrupted it: an interrupting
    deny at a permission prompt becomes a plain deny (as Claude Code records one: the message
    is the refused call's result, `permission-rule`), the `[Request interrupted by user...]`
    lines go. Whether there was an interrupt."""
    start = max((i for i, r in enumerate(doc.rows[:end]) if isinstance(r, dict)
                 and r.get("type") == "result"), default=-1) + 1
    found = False
    denied: dict[Any, str] = {}
    for index in range(start, end):
        row = doc.rows[index]
        response = row.get("response") if isinstance(row, dict) \
            and row.get("type") == "control_response" else None
        answer = response.get("response") if isinstance(response, dict) else None
        if isinstance(answer, dict) and answer.get("interrupt") is True:
            found = True
            del doc.edit(index)["response"]["response"]["interrupt"]
            message = str(answer.get("message") or "The user denied this tool use.")
            request_id = response.get("request_id")
            denied.update({r["request"].get("tool_use_id"): message for r in doc.rows[start:end]
                           if isinstance(r, dict) and r.get("type") == "control_request"
                           and r.get("request_id") == request_id
                           and isinstance(r.get("request"), dict)})
    for tool_id, message in denied.items():
        result = _cc_result(doc, str(tool_id))
        if result is None:
            continue
        row = doc.edit(result[0])
        result[1].update(content=message, is_error=True)
        row["tool_use_result"] = f"Error: {message}"
        for meta in row.get("tool_result_meta") or []:
            if isinstance(meta, dict) and meta.get("id") == tool_id:
                meta["non_execution_kind"] = "permission-rule"
                meta["permission_decision"] = {"decision": "reject", "source": "user_reject"}
    marks = [i for i in range(start, end) if isinstance(doc.rows[i], dict)
             and doc.rows[i].get("type") == "user"
             and isinstance((doc.rows[i].get("message") or {}).get("content"), list)
             and any(isinstance(b, dict) and b.get("type") == "text"
                     and str(b.get("text")).startswith(CLAUDE_INTERRUPT)
                     for b in doc.rows[i]["message"]["content"])]
    doc.delete(marks)
    return found or bool(marks)


@_impl("turn_outcome", CC)
def _cc_turn(doc: Jsonl) -> str | None:
    """A failed run completes (a run the user interrupted: without the interrupt, see
    `_cc_uninterrupt`); else the last completed run fails with an API error."""
    ends = [(i, _cc_failed(r)) for i, r in enumerate(doc.rows)
            if isinstance(r, dict) and r.get("type") == "result"]
    target = _flip_target(ends)
    if target is None:
        return None
    line, failed = target
    if failed:
        result_row = doc.rows[line]
        interrupted = _cc_uninterrupt(doc, line)
        line = next(i for i, r in enumerate(doc.rows) if r is result_row)
        row = doc.edit(line)
        row.update(is_error=False, terminal_reason="completed", api_error_status=None,
                   stop_reason="end_turn")
        if str(row.get("subtype")).startswith("error"):
            row.update(subtype="success", result="")
        for key in ("api_error_type", "errors"):
            row.pop(key, None)
        return f"line {line + 1}: failed result -> completed" + \
            (" (the interrupt undone: a plain deny)" if interrupted else "")
    row = doc.edit(line)
    row.update(is_error=True, terminal_reason="api_error", api_error_status=500,
               api_error_type="api_error", result=f"API Error: 500 {MARK}: the model failed")
    return f"line {line + 1}: completed result -> failed (api_error 500)"


def _cc_flip_control(doc: Jsonl, tool_id: Any, deny: str | None) -> None:
    """Where the client decided (stream-json control protocol), its `control_response` to the
    `can_use_tool` request flips too: allow (with the request's input) or deny (`deny` is the
    message)."""
    for row in doc.rows:
        request = row.get("request") if isinstance(row, dict) \
            and row.get("type") == "control_request" else None
        if not (isinstance(request, dict) and request.get("subtype") == "can_use_tool"
                and request.get("tool_use_id") == tool_id):
            continue
        for index, reply in enumerate(doc.rows):
            response = reply.get("response") if isinstance(reply, dict) \
                and reply.get("type") == "control_response" else None
            if isinstance(response, dict) and response.get("request_id") == row.get("request_id") \
                    and isinstance(response.get("response"), dict):
                doc.edit(index)["response"]["response"] = \
                    {"behavior": "deny", "message": deny} if deny is not None else \
                    {"behavior": "allow", "updatedInput": request.get("input")}


@_impl("approval_decision", CC)
def _cc_approval(doc: Jsonl) -> str | None:
    """The first permission decision of a (non-plumbing) tool flips, as Claude Code would have
    printed it: reject -> accept (its `system/permission_denied` line goes, the tool runs and
    returns a result); accept -> reject (a `system/permission_denied` line, an error result)."""
    for _, block in _cc_blocks(doc):
        if block.get("type") != "tool_use" or block.get("name") in CLAUDE_NOISE:
            continue
        tool_id = block.get("id")
        result = _cc_result(doc, str(tool_id))
        if result is None:
            continue
        line, rblock = result
        row = doc.rows[line]
        for meta in row.get("tool_result_meta") or []:
            decision = meta.get("permission_decision") if isinstance(meta, dict) else None
            if meta.get("id") != tool_id or not isinstance(decision, dict):
                continue
            doc.edit(line)
            old = decision.get("decision")
            if old == "reject":
                decision["decision"] = "accept"
                meta.pop("non_execution_kind", None)
                rblock.update(is_error=False, content=f"{MARK}: approved and ran")
                row["tool_use_result"] = {"stdout": f"{MARK}: approved and ran", "stderr": "",
                                          "interrupted": False, "isImage": False}
                _cc_flip_control(doc, tool_id, None)
                doc.delete(i for i, r in enumerate(doc.rows) if isinstance(r, dict)
                           and r.get("subtype") == "permission_denied"
                           and r.get("tool_use_id") == tool_id)
                return f"{block.get('name')} {tool_id}: permission reject -> accept"
            decision["decision"] = "reject"
            meta["non_execution_kind"] = "user-rejected"
            message = f"Permission to use {block.get('name')} has been denied."
            _cc_flip_control(doc, tool_id, message)
            rblock.update(is_error=True, content=message)
            row["tool_use_result"] = f"Error: {message}"
            doc.insert(line, [{"type": "system", "subtype": "permission_denied",
                               "tool_name": block.get("name"), "tool_use_id": tool_id,
                               "message": message, "uuid": f"{row.get('uuid')}-denied",
                               "session_id": row.get("session_id")}])
            return f"{block.get('name')} {tool_id}: permission accept -> reject"
    return None


@_impl("plan_entry", CC)
def _cc_plan(doc: Jsonl) -> str | None:
    found = _cc_tool(doc, lambda n: n == "TodoWrite")
    if found is None:
        return None
    line, block = found
    todos = block["input"].get("todos")
    if not todos:
        return None
    doc.edit(line)
    old = todos[0].get("content")
    todos[0]["content"] = _text(str(old))
    result = _cc_result(doc, str(block.get("id")))
    if result is not None:
        tur = doc.edit(result[0]).get("tool_use_result")
        for todo in (tur.get("newTodos") or []) if isinstance(tur, dict) else []:
            if todo.get("content") == old:
                todo["content"] = todos[0]["content"]
                break
    return f"line {line + 1}: TodoWrite todos[0].content"


# ============================================================================ gemini-cli

GC = "gemini-cli.jsonl"
GEMINI_FILE_TOOLS = frozenset({"write_file", "replace"})
_GEMINI_MCP = re.compile(r"mcp_([^_]+)_(.+)")


def _gc_tool(doc: Jsonl, pred: Callable[[str], bool]) -> tuple[int, dict[str, Any]] | None:
    return next(((i, r) for i, r in enumerate(doc.rows) if isinstance(r, dict)
                 and r.get("type") == "tool_use" and pred(str(r.get("tool_name")))), None)


def _gc_result(doc: Jsonl, tool_id: Any) -> int | None:
    return next((i for i, r in enumerate(doc.rows) if isinstance(r, dict)
                 and r.get("type") == "tool_result" and r.get("tool_id") == tool_id), None)


def _is_assistant(row: Any) -> bool:
    return isinstance(row, dict) and row.get("type") == "message" \
        and row.get("role") == "assistant"


@_impl("answer_text", GC)
def _gc_answer(doc: Jsonl) -> str | None:
    for line, row in enumerate(doc.rows):
        if _is_assistant(row) and isinstance(row.get("content"), str):
            doc.edit(line)["content"] = _text(row["content"])
            return f"line {line + 1}: assistant message"
    return None


@_impl("command", GC)
def _gc_command(doc: Jsonl) -> str | None:
    found = _gc_tool(doc, lambda n: n == "run_shell_command")
    if found is None:
        return None
    line = found[0]
    params = doc.edit(line)["parameters"]
    params["command"] = _command(params.get("command"))
    return f"line {line + 1}: command -> {params['command']!r}"


@_impl("command_output", GC)
def _gc_output(doc: Jsonl) -> str | None:
    """The output of the first command that ran (`status: success`): a refused call's result
    (`status: error`) holds why it did not run, which the lane reads as its error, not output."""
    result = next((r for tool in doc.rows
                   if isinstance(tool, dict) and tool.get("type") == "tool_use"
                   and tool.get("tool_name") == "run_shell_command"
                   and (r := _gc_result(doc, tool.get("tool_id"))) is not None
                   and doc.rows[r].get("status") == "success"), None)
    if result is None:
        return None
    row = doc.edit(result)
    row["output"] = _text(str(row.get("output") or ""))
    return f"line {result + 1}: tool_result output"


def _gc_first_item(doc: Jsonl) -> list[int] | None:
    """Lines of the first item: a tool_use with its tool_result, or one assistant message
    (its consecutive chunks)."""
    for line, row in enumerate(doc.rows):
        if isinstance(row, dict) and row.get("type") == "tool_use":
            result = _gc_result(doc, row.get("tool_id"))
            return [line] + ([result] if result is not None else [])
        if _is_assistant(row):
            end = line
            while end + 1 < len(doc.rows) and _is_assistant(doc.rows[end + 1]):
                end += 1
            return list(range(line, end + 1))
    return None


@_impl("drop_item", GC)
def _gc_drop(doc: Jsonl) -> str | None:
    lines = _gc_first_item(doc)
    if lines is None:
        return None
    kind = doc.rows[lines[0]].get("tool_name") or "assistant message"
    doc.delete(lines)
    return f"dropped {kind} (lines {', '.join(str(i + 1) for i in lines)})"


@_impl("extra_item", GC)
def _gc_extra(doc: Jsonl) -> str | None:
    """A tool call duplicated with a new tool_id (assistant text has no id: consecutive
    chunks merge, so a text-only stream has no extra item to give)."""
    found = _gc_tool(doc, lambda n: True)
    if found is None:
        return None
    line, row = found
    result = _gc_result(doc, row.get("tool_id"))
    new_id = f"{row.get('tool_id')}_mutant"
    twins = [copy.deepcopy(row)]
    if result is not None:
        twins.append(copy.deepcopy(doc.rows[result]))
    for twin in twins:
        twin["tool_id"] = new_id
    doc.insert((result if result is not None else line) + 1, twins)
    return f"duplicated {row.get('tool_name')} call + result"


@_impl("file_path", GC)
def _gc_file_path(doc: Jsonl) -> str | None:
    found = _gc_tool(doc, lambda n: n in GEMINI_FILE_TOOLS)
    if found is None:
        return None
    line, _ = found
    params = doc.edit(line)["parameters"]
    params["file_path"] = _path(str(params.get("file_path")))
    return f"line {line + 1}: file_path"


def _gc_rename(doc: Jsonl, line: int, new_name: str) -> None:
    row = doc.edit(line)
    old_id = str(row.get("tool_id"))
    new_id = new_name + old_id[len(str(row.get("tool_name"))):] \
        if old_id.startswith(str(row.get("tool_name"))) else old_id
    result = _gc_result(doc, row.get("tool_id"))
    row["tool_name"], row["tool_id"] = new_name, new_id
    if result is not None:
        doc.edit(result)["tool_id"] = new_id


@_impl("file_change_kind", GC)
def _gc_file_kind(doc: Jsonl) -> str | None:
    """write_file reads as `add`, replace as `update`: the tool becomes the other one."""
    found = _gc_tool(doc, lambda n: n in GEMINI_FILE_TOOLS)
    if found is None:
        return None
    line, row = found
    old = row["tool_name"]
    _gc_rename(doc, line, "replace" if old == "write_file" else "write_file")
    return f"line {line + 1}: {old} -> {row['tool_name']}"


def _gc_mcp(doc: Jsonl, part: str) -> str | None:
    found = _gc_tool(doc, lambda n: _GEMINI_MCP.fullmatch(n) is not None)
    if found is None:
        return None
    line, row = found
    if part == "arguments":
        doc.edit(line)["parameters"] = _arguments(row.get("parameters"))
        return f"line {line + 1}: {row['tool_name']} parameters"
    match = _GEMINI_MCP.fullmatch(row["tool_name"])
    assert match is not None
    server, tool = match.group(1), match.group(2)
    server, tool = (_word(server), tool) if part == "server" else (server, _word(tool))
    old = row["tool_name"]
    _gc_rename(doc, line, f"mcp_{server}_{tool}")
    return f"line {line + 1}: {old} -> {row['tool_name']}"


_impl_mcp(GC, _gc_mcp)


@_impl("search_query", GC)
def _gc_search(doc: Jsonl) -> str | None:
    found = _gc_tool(doc, lambda n: n == "google_web_search")
    if found is None:
        return None
    params = doc.edit(found[0])["parameters"]
    params["query"] = _text(str(params.get("query")))
    return f"line {found[0] + 1}: google_web_search query"


@_impl("turn_outcome", GC)
def _gc_turn(doc: Jsonl) -> str | None:
    ends = [(i, r.get("status") != "success") for i, r in enumerate(doc.rows)
            if isinstance(r, dict) and r.get("type") == "result"]
    target = _flip_target(ends)
    if target is None:
        return None
    line, failed = target
    row = doc.edit(line)
    if failed:
        row["status"] = "success"
        row.pop("error", None)
        return f"line {line + 1}: result error -> success"
    row["status"] = "error"
    row["error"] = {"type": "unknown", "message": f"[API Error: {MARK}: the model failed]"}
    return f"line {line + 1}: result success -> error"


@_impl("approval_decision", GC)
def _gc_approval(doc: Jsonl) -> str | None:
    """A refused tool (`tool_not_registered`: headless approval mode drops it) runs instead;
    a tool that ran is refused instead."""
    for line, row in enumerate(doc.rows):
        if not (isinstance(row, dict) and row.get("type") == "tool_result"):
            continue
        error = row.get("error") if isinstance(row.get("error"), dict) else {}
        doc.edit(line)
        if error.get("type") == "tool_not_registered":
            row["status"] = "success"
            row.pop("error", None)
            row["output"] = f"{MARK}: approved and ran"
            return f"line {line + 1}: refused tool -> approved"
        name = str(row.get("tool_id")).rsplit("__", 1)[0]
        message = f'Tool "{name}" not found.'
        row.update(status="error", output=message,
                   error={"type": "tool_not_registered", "message": message})
        return f"line {line + 1}: tool that ran -> refused (tool_not_registered)"
    return None


@_impl("plan_entry", GC)
def _gc_plan(doc: Jsonl) -> str | None:
    found = _gc_tool(doc, lambda n: n == "write_todos")
    if found is None or not (found[1].get("parameters") or {}).get("todos"):
        return None
    todo = doc.edit(found[0])["parameters"]["todos"][0]
    todo["description"] = _text(str(todo.get("description")))
    return f"line {found[0] + 1}: write_todos todos[0].description"


# ============================================================================ codex.http

CX = "codex.http.yaml"
CODEX_NOISE_ITEMS = frozenset({"tool_search_call"})
_CODEX_SHELLS = frozenset({"exec_command", "shell", "container.exec", "local_shell"})


def _cx_side(doc: Http, index: int) -> bool:
    """A Codex side request (the guardian reviewer, a sub-agent), not the conversation."""
    body = doc.request(index)
    if not isinstance(body, dict):
        return False
    client = body.get("client_metadata") if isinstance(body.get("client_metadata"), dict) \
        else {}
    return bool(client.get("x-openai-subagent") or client.get("x-codex-parent-thread-id")
                or str(body.get("prompt_cache_key") or "").startswith("guardian:"))


def _cx_items(doc: Http) -> Iterator[tuple[int, dict[str, Any]]]:
    """(interaction, item) of every output item of the conversation (side requests left
    out) as `response.output_item.done` shows it."""
    for index, sse in doc.sses():
        if _cx_side(doc, index):
            continue
        for _, payload in sse.payloads():
            if payload.get("type") == "response.output_item.done" \
                    and isinstance(payload.get("item"), dict):
                yield index, payload["item"]


def _cx_first(doc: Http, pred: Callable[[dict[str, Any]], bool]) -> dict[str, Any] | None:
    return next((item for _, item in _cx_items(doc) if pred(item)), None)


def _cx_copies(doc: Http, item_id: str) -> Iterator[dict[str, Any]]:
    """Every written copy of one output item: stream events, the completed response, and
    the history in later requests. Marks what it yields as edited."""
    for _, sse in doc.sses():
        for block in sse.blocks:
            data = block.data
            if not isinstance(data, dict):
                continue
            if isinstance(data.get("item"), dict) and data["item"].get("id") == item_id:
                block.edit()
                yield data["item"]
            response = data.get("response")
            for out in (response.get("output") or []) if isinstance(response, dict) else []:
                if isinstance(out, dict) and out.get("id") == item_id:
                    block.edit()
                    yield out
    for index, body in doc.requests():
        for entry in body.get("input") or []:
            if isinstance(entry, dict) and entry.get("id") == item_id:
                doc.touch_request(index)
                yield entry


def _cx_outputs(doc: Http, call_id: str) -> Iterator[dict[str, Any]]:
    """Every copy of one call's output in the requests (marked edited)."""
    for index, body in doc.requests():
        for entry in body.get("input") or []:
            if isinstance(entry, dict) and str(entry.get("type", "")).endswith("_output") \
                    and entry.get("call_id") == call_id:
                doc.touch_request(index)
                yield entry


def _cx_args(item: dict[str, Any], fn: Callable[[dict[str, Any]], None]) -> None:
    """Edit a function call's JSON `arguments` (a copy whose arguments are still empty, as in
    `output_item.added`, is left alone)."""
    try:
        args = json.loads(item.get("arguments") or "")
    except ValueError:
        return
    if isinstance(args, dict):
        fn(args)
        item["arguments"] = json.dumps(args, ensure_ascii=False)


def _cx_edit_output(entry: dict[str, Any], fn: Callable[[str], str]) -> None:
    output = entry.get("output")
    if isinstance(output, str):
        entry["output"] = fn(output)
    elif isinstance(output, list):
        texts = [p for p in output if isinstance(p, dict) and isinstance(p.get("text"), str)]
        if texts:
            texts[-1]["text"] = fn(texts[-1]["text"])


@_impl("answer_text", CX)
def _cx_answer(doc: Http) -> str | None:
    item = _cx_first(doc, lambda i: i.get("type") == "message" and i.get("role") == "assistant")
    if item is None:
        return None
    item_id = item["id"]
    for copy_ in _cx_copies(doc, item_id):
        for part in copy_.get("content") or []:
            if isinstance(part, dict) and part.get("type") == "output_text":
                part["text"] = _text(str(part.get("text")))
                break
    for _, sse in doc.sses():
        for block in sse.blocks:
            data = block.data
            if isinstance(data, dict) and data.get("type") == "response.output_text.delta" \
                    and data.get("item_id") == item_id:
                block.edit()["delta"] = _text(str(data.get("delta")))
                return f"message {item_id} text"
    return f"message {item_id} text"


def _cx_call(doc: Http, pred: Callable[[dict[str, Any]], bool]) -> dict[str, Any] | None:
    return _cx_first(doc, lambda i: i.get("type") == "function_call" and pred(i))


def _cx_shell(doc: Http) -> dict[str, Any] | None:
    return _cx_call(doc, lambda i: i.get("name") in _CODEX_SHELLS and not i.get("namespace"))


@_impl("command", CX)
def _cx_command(doc: Http) -> str | None:
    item = _cx_shell(doc)
    if item is None:
        return None

    def fn(args: dict[str, Any]) -> None:
        key = "cmd" if "cmd" in args else "command"
        args[key] = _command(args.get(key))
    for copy_ in _cx_copies(doc, item["id"]):
        _cx_args(copy_, fn)
    return f"{item['name']} {item['id']} command"


_CODEX_OUTPUT = re.compile(r"^Output:\n", re.MULTILINE)
_CODEX_EXIT = re.compile(r"^(Process exited with code |Exit code: )(-?\d+)", re.MULTILINE)


def _cx_mark_output(text: str) -> str:
    match = _CODEX_OUTPUT.search(text)
    if match:
        return text[:match.end()] + _text(text[match.end():])
    try:
        parsed = json.loads(text)
    except ValueError:
        parsed = None
    if isinstance(parsed, dict) and isinstance(parsed.get("output"), str):
        parsed["output"] = _text(parsed["output"])
        return json.dumps(parsed)
    return _text(text)


@_impl("command_output", CX)
def _cx_output(doc: Http) -> str | None:
    item = _cx_shell(doc)
    if item is None:
        return None
    found = False
    for entry in _cx_outputs(doc, str(item.get("call_id"))):
        _cx_edit_output(entry, _cx_mark_output)
        found = True
    return f"{item['id']} output (request side)" if found else None


@_impl("exit_code", CX)
def _cx_exit(doc: Http) -> str | None:
    for _, item in _cx_items(doc):
        if item.get("type") != "function_call" or item.get("name") not in _CODEX_SHELLS:
            continue
        outputs = list(_cx_outputs(doc, str(item.get("call_id"))))
        texts = [e.get("output") for e in outputs if isinstance(e.get("output"), str)]
        match = next((m for t in texts if (m := _CODEX_EXIT.search(t))), None)
        if match is None:
            continue
        old = int(match.group(2))
        for entry in outputs:
            _cx_edit_output(entry, lambda t: _CODEX_EXIT.sub(
                lambda m: f"{m.group(1)}{_flip_code(int(m.group(2)))}", t, count=1))
        return f"{item['id']} exit code {old} -> {_flip_code(old)} (request side)"
    return None


def _cx_first_item(doc: Http) -> tuple[int, dict[str, Any]] | None:
    return next(((i, it) for i, it in _cx_items(doc)
                 if it.get("type") not in CODEX_NOISE_ITEMS), None)


@_impl("drop_item", CX)
def _cx_drop(doc: Http) -> str | None:
    """The first message or reasoning item (a call dropped from a response the runtime then
    answered would leave the recording incoherent); else the first item."""
    found = next(((i, it) for i, it in _cx_items(doc)
                  if it.get("type") in {"message", "reasoning"}), None) or _cx_first_item(doc)
    if found is None:
        return None
    index, item = found
    item_id, call_id = item.get("id"), item.get("call_id")
    for _, sse in doc.sses():
        keep = []
        for block in sse.blocks:
            data = block.data
            if isinstance(data, dict) and (
                    (isinstance(data.get("item"), dict) and data["item"].get("id") == item_id)
                    or data.get("item_id") == item_id):
                continue
            response = data.get("response") if isinstance(data, dict) else None
            if isinstance(response, dict) and any(isinstance(o, dict) and o.get("id") == item_id
                                                  for o in response.get("output") or []):
                block.edit()
                response["output"] = [o for o in response["output"]
                                      if not (isinstance(o, dict) and o.get("id") == item_id)]
            keep.append(block)
        sse.blocks = keep
    for rindex, body in doc.requests():
        entries = body.get("input")
        if not isinstance(entries, list):
            continue
        kept = [e for e in entries if not (isinstance(e, dict) and (
            e.get("id") == item_id or (call_id and e.get("call_id") == call_id)))]
        if len(kept) != len(entries):
            body["input"] = kept
            doc.touch_request(rindex)
    return f"dropped {item.get('type')} {item_id} (interaction {index})"


def _renamed(value: Any, old: str, new: str) -> Any:
    """A deep copy of `value` with every string equal to `old` replaced by `new`."""
    if isinstance(value, dict):
        return {k: _renamed(v, old, new) for k, v in value.items()}
    if isinstance(value, list):
        return [_renamed(v, old, new) for v in value]
    return new if value == old else value


@_impl("extra_item", CX)
def _cx_extra(doc: Http) -> str | None:
    found = _cx_first_item(doc)
    if found is None:
        return None
    index, item = found
    item_id, call_id = str(item.get("id")), item.get("call_id")

    def twin(value: Any) -> Any:
        out = _renamed(value, item_id, f"{item_id}_mutant")
        return _renamed(out, call_id, f"{call_id}_mutant") if call_id else out
    sse = doc.sse(index)
    assert sse is not None
    mine = [b for b in sse.blocks if isinstance(b.data, dict) and (
        (isinstance(b.data.get("item"), dict) and b.data["item"].get("id") == item_id)
        or b.data.get("item_id") == item_id)]
    done = max(sse.blocks.index(b) for b in mine)
    sse.blocks[done + 1:done + 1] = [sse.new(twin(b.data), b.event) for b in mine]
    for block in sse.blocks:
        response = block.data.get("response") if isinstance(block.data, dict) else None
        outputs = response.get("output") if isinstance(response, dict) else None
        if isinstance(outputs, list):
            at = next((n for n, o in enumerate(outputs)
                       if isinstance(o, dict) and o.get("id") == item_id), None)
            if at is not None:
                block.edit()
                outputs.insert(at + 1, twin(outputs[at]))
    for rindex, body in doc.requests():
        entries = body.get("input")
        if not isinstance(entries, list):
            continue
        out: list[Any] = []
        for entry in entries:
            out.append(entry)
            if isinstance(entry, dict) and (entry.get("id") == item_id or (
                    call_id and entry.get("call_id") == call_id)):
                out.append(twin(entry))
        if len(out) != len(entries):
            body["input"] = out
            doc.touch_request(rindex)
    return f"duplicated {item.get('type')} {item_id} (interaction {index})"


_PATCH_HEAD = re.compile(r"^\*\*\* (Add|Update|Delete) File: (.+)$", re.MULTILINE)


def _cx_patch(doc: Http) -> dict[str, Any] | None:
    return _cx_first(doc, lambda i: i.get("type") == "custom_tool_call"
                     and i.get("name") == "apply_patch")


def _cx_edit_patch(doc: Http, item: dict[str, Any], fn: Callable[[re.Match[str]], str]) -> bool:
    if not _PATCH_HEAD.search(str(item.get("input"))):
        return False
    for copy_ in _cx_copies(doc, item["id"]):
        if isinstance(copy_.get("input"), str):
            copy_["input"] = _PATCH_HEAD.sub(fn, copy_["input"], count=1)
    return True


@_impl("file_path", CX)
def _cx_file_path(doc: Http) -> str | None:
    item = _cx_patch(doc)
    if item is None or not _cx_edit_patch(
            doc, item, lambda m: f"*** {m.group(1)} File: {_path(m.group(2))}"):
        return None
    return f"apply_patch {item['id']}: first file path"


@_impl("file_change_kind", CX)
def _cx_file_kind(doc: Http) -> str | None:
    flip = {"Add": "Update", "Update": "Add", "Delete": "Update"}
    item = _cx_patch(doc)
    if item is None or not _cx_edit_patch(
            doc, item, lambda m: f"*** {flip[m.group(1)]} File: {m.group(2)}"):
        return None
    return f"apply_patch {item['id']}: first file's Add/Update/Delete flipped"


def _cx_mcp(doc: Http, part: str) -> str | None:
    item = _cx_call(doc, lambda i: str(i.get("namespace") or "").startswith("mcp__"))
    if item is None:
        return None
    old = f"{item['namespace']}.{item['name']}"
    for copy_ in _cx_copies(doc, item["id"]):
        if part == "server" and copy_.get("namespace"):
            copy_["namespace"] = f"mcp__{_word(copy_['namespace'][5:])}"
        elif part == "tool" and copy_.get("name"):
            copy_["name"] = _word(copy_["name"])
        elif part == "arguments":
            _cx_args(copy_, lambda a: a.update(_arguments(a)))
    return f"{old} {part} -> {item['namespace']}.{item['name']}"


_impl_mcp(CX, _cx_mcp)


@_impl("search_query", CX)
def _cx_search(doc: Http) -> str | None:
    item = _cx_first(doc, lambda i: i.get("type") == "web_search_call")
    if item is None:
        return None
    for copy_ in _cx_copies(doc, item["id"]):
        action = copy_.get("action")
        if isinstance(action, dict):
            if isinstance(action.get("query"), str):
                action["query"] = _text(action["query"])
            if isinstance(action.get("queries"), list) and action["queries"]:
                action["queries"][0] = _text(str(action["queries"][0]))
    return f"web_search_call {item['id']} query"


@_impl("turn_outcome", CX)
def _cx_turn(doc: Http) -> str | None:
    ends = [(b, b.data.get("type") == "response.failed") for _, sse in doc.sses()
            for b in sse.blocks if isinstance(b.data, dict)
            and b.data.get("type") in {"response.completed", "response.failed"}]
    failed = [e for e in ends if e[1]]
    target = failed[0] if failed else (ends[-1] if ends else None)
    if target is None:
        return None
    block, was_failed = target
    data = block.edit()
    response = data.get("response") if isinstance(data.get("response"), dict) else {}
    if was_failed:
        data["type"] = block.event = "response.completed"
        response["status"] = "completed"
        response.pop("error", None)
        response.setdefault("usage", {
            "input_tokens": 0, "output_tokens": 0, "total_tokens": 0,
            "input_tokens_details": {"cached_tokens": 0},
            "output_tokens_details": {"reasoning_tokens": 0}})
        return "response.failed -> response.completed"
    data["type"] = block.event = "response.failed"
    response["status"] = "failed"
    response["error"] = {"code": "server_error", "message": f"{MARK}: the model failed"}
    return "last response.completed -> response.failed"


_CODEX_REFUSAL = re.compile(r"Rejected\(|rejected|declined|not approved|reject command",
                            re.IGNORECASE)


@_impl("approval_decision", CX)
def _cx_approval(doc: Http) -> str | None:
    """A reviewer's answer (`outcome: allow|deny`, in a guardian side call's response) flips;
    without a reviewer, the first shell call's output (request side) becomes a refusal, or a
    refusal becomes a normal run."""
    for _, sse in doc.sses():
        for block in sse.blocks:
            data = block.data
            item = data.get("item") if isinstance(data, dict) else None
            for part in (item.get("content") or []) if isinstance(item, dict) else []:
                text = part.get("text") if isinstance(part, dict) else None
                if isinstance(text, str) and re.search(r'"outcome":\s*"(allow|deny)"', text):
                    flipped = re.sub(r'("outcome":\s*")(allow|deny)"', lambda m: m.group(1) + (
                        "deny" if m.group(2) == "allow" else "allow") + '"', text, count=1)
                    _cx_replace_text(doc, text, flipped)
                    return "reviewer outcome allow <-> deny; " + (
                        _cx_flip_refusal(doc) or "no shell call")
    return _cx_flip_refusal(doc)


def _cx_flip_refusal(doc: Http) -> str | None:
    """The first shell call's output (request side): a refusal becomes a normal run, a run a
    refusal."""
    item = _cx_shell(doc)
    if item is None:
        return None
    outputs = list(_cx_outputs(doc, str(item.get("call_id"))))
    if not outputs:
        return None
    refused = any(_CODEX_REFUSAL.search(str(e.get("output"))) for e in outputs)
    for entry in outputs:
        entry["output"] = ("Chunk ID: 000000\nWall time: 0.0000 seconds\nProcess exited with "
                           "code 0\nOriginal token count: 1\nOutput:\n\n") if refused else (
            'exec_command failed: CreateProcess { message: "Rejected(\\"This action was '
            f'rejected due to unacceptable risk. {MARK}\\")" }}')
    return f"{item['id']} output (request side): " + \
        ("refusal -> approved run" if refused else "run -> rejected")


def _cx_replace_text(doc: Http, old: str, new: str) -> None:
    """Replace one answer text everywhere it is written: the done item and the completed
    response hold it whole; its deltas become one delta holding the new text."""
    for _, sse in doc.sses():
        owner = None
        for block in sse.blocks:
            if isinstance(block.data, dict):
                renamed = _renamed(block.data, old, new)
                if renamed != block.data:
                    block.data, block.raw = renamed, None
                    item = renamed.get("item")
                    owner = item.get("id") if isinstance(item, dict) else owner
        deltas = [b for b in sse.blocks if owner and isinstance(b.data, dict)
                  and b.data.get("type") == "response.output_text.delta"
                  and b.data.get("item_id") == owner]
        if deltas:
            deltas[0].edit()["delta"] = new
            sse.blocks = [b for b in sse.blocks if all(b is not d for d in deltas[1:])]


@_impl("plan_entry", CX)
def _cx_plan(doc: Http) -> str | None:
    item = _cx_call(doc, lambda i: i.get("name") == "update_plan")
    if item is None:
        return None

    def fn(args: dict[str, Any]) -> None:
        if args.get("plan"):
            args["plan"][0]["step"] = _text(str(args["plan"][0].get("step")))
    for copy_ in _cx_copies(doc, item["id"]):
        _cx_args(copy_, fn)
    return f"update_plan {item['id']} plan[0].step"


# ============================================================================ claude.http

AH = "claude.http.yaml"


@dataclass
class _Block:
    interaction: int
    index: int
    start: SseBlock

    @property
    def content(self) -> dict[str, Any]:
        return self.start.data["content_block"]


def _ah_side(doc: Http, index: int) -> bool:
    """Claude Code's nested web search request (only server web_search tools), which runs the
    search a WebSearch call asked for: not the conversation."""
    body = doc.request(index)
    tools = body.get("tools") if isinstance(body, dict) else None
    return isinstance(tools, list) and bool(tools) and all(
        isinstance(t, dict) and str(t.get("type", "")).startswith("web_search") for t in tools)


def _ah_blocks(doc: Http) -> Iterator[_Block]:
    """Content blocks of the conversation's responses (the nested search left out)."""
    for index, sse in doc.sses():
        if _ah_side(doc, index):
            continue
        for block in sse.blocks:
            data = block.data
            if isinstance(data, dict) and data.get("type") == "content_block_start" \
                    and isinstance(data.get("content_block"), dict):
                yield _Block(index, int(data.get("index", 0)), block)


def _ah_events(doc: Http, blk: _Block) -> list[SseBlock]:
    """The start, delta and stop events of one content block."""
    sse = doc.sse(blk.interaction)
    assert sse is not None
    return [b for b in sse.blocks if isinstance(b.data, dict) and b.data.get("type") in {
        "content_block_start", "content_block_delta", "content_block_stop"}
        and b.data.get("index") == blk.index]


def _ah_tool(doc: Http, pred: Callable[[str], bool]) -> _Block | None:
    return next((b for b in _ah_blocks(doc) if b.content.get("type") == "tool_use"
                 and pred(str(b.content.get("name")))), None)


def _ah_input(doc: Http, blk: _Block) -> Any:
    parts = [str(b.data["delta"].get("partial_json") or "") for b in _ah_events(doc, blk)
             if b.data.get("type") == "content_block_delta"
             and b.data["delta"].get("type") == "input_json_delta"]
    if not parts:
        return blk.content.get("input")
    try:
        return json.loads("".join(parts))
    except ValueError:
        return None


def _ah_history(doc: Http, role: str) -> Iterator[tuple[int, list[Any], dict[str, Any]]]:
    """(request, content list, block) of every content block of `role` messages in the
    requests."""
    for index, body in doc.requests():
        for message in body.get("messages") or []:
            if isinstance(message, dict) and message.get("role") == role \
                    and isinstance(message.get("content"), list):
                for block in message["content"]:
                    if isinstance(block, dict):
                        yield index, message["content"], block


def _ah_set_tool(doc: Http, blk: _Block, *, name: str | None = None,
                 arguments: Any = None) -> None:
    """Give one tool_use block a new name and/or input, in the stream and in the history."""
    tool_id = blk.content.get("id")
    if name is not None:
        blk.start.edit()
        blk.content["name"] = name
    if arguments is not None:
        deltas = [b for b in _ah_events(doc, blk) if b.data.get("type") == "content_block_delta"
                  and b.data["delta"].get("type") == "input_json_delta"]
        if deltas:
            deltas[0].edit()["delta"]["partial_json"] = json.dumps(arguments,
                                                                   ensure_ascii=False)
            sse = doc.sse(blk.interaction)
            assert sse is not None
            sse.blocks = [b for b in sse.blocks if b not in deltas[1:]]
        else:
            blk.start.edit()
            blk.content["input"] = arguments
    for index, _, block in _ah_history(doc, "assistant"):
        if block.get("type") == "tool_use" and block.get("id") == tool_id:
            doc.touch_request(index)
            if name is not None:
                block["name"] = name
            if arguments is not None:
                block["input"] = arguments


def _ah_results(doc: Http, tool_id: Any) -> Iterator[dict[str, Any]]:
    for index, _, block in _ah_history(doc, "user"):
        if block.get("type") == "tool_result" and block.get("tool_use_id") == tool_id:
            doc.touch_request(index)
            yield block


def _ah_result_text(block: dict[str, Any], fn: Callable[[str], str]) -> None:
    content = block.get("content")
    if isinstance(content, str):
        block["content"] = fn(content)
    elif isinstance(content, list):
        for part in content:
            if isinstance(part, dict) and part.get("type") == "text":
                part["text"] = fn(str(part.get("text")))
                return


@_impl("answer_text", AH)
def _ah_answer(doc: Http) -> str | None:
    for blk in _ah_blocks(doc):
        if blk.content.get("type") != "text":
            continue
        events = _ah_events(doc, blk)
        deltas = [b for b in events if b.data.get("type") == "content_block_delta"
                  and b.data["delta"].get("type") == "text_delta"]
        full = str(blk.content.get("text") or "") + "".join(
            str(b.data["delta"].get("text")) for b in deltas)
        if deltas:
            delta = deltas[0].edit()["delta"]
            delta["text"] = _text(str(delta.get("text")))
        else:
            blk.start.edit()
            blk.content["text"] = _text(full)
        for index, _, block in _ah_history(doc, "assistant"):
            if block.get("type") == "text" and block.get("text") == full:
                block["text"] = _text(full)
                doc.touch_request(index)
        return f"interaction {blk.interaction} text block {blk.index}"
    return None


def _ah_tool_input(doc: Http, pred: Callable[[str], bool],
                   fn: Callable[[dict[str, Any]], None]) -> _Block | None:
    blk = _ah_tool(doc, pred)
    if blk is None:
        return None
    arguments = _ah_input(doc, blk)
    if not isinstance(arguments, dict):
        return None
    fn(arguments)
    _ah_set_tool(doc, blk, arguments=arguments)
    return blk


@_impl("command", AH)
def _ah_command(doc: Http) -> str | None:
    blk = _ah_tool_input(doc, lambda n: n == "Bash",
                         lambda a: a.update(command=_command(a.get("command"))))
    return None if blk is None else f"interaction {blk.interaction}: Bash command"


@_impl("command_output", AH)
def _ah_output(doc: Http) -> str | None:
    blk = _ah_tool(doc, lambda n: n == "Bash")
    if blk is None:
        return None
    found = False
    for block in _ah_results(doc, blk.content.get("id")):
        _ah_result_text(block, _output_text)
        found = True
    return f"{blk.content.get('id')} tool_result (request side)" if found else None


@_impl("exit_code", AH)
def _ah_exit(doc: Http) -> str | None:
    blk = _ah_tool(doc, lambda n: n == "Bash")
    if blk is None:
        return None
    results = list(_ah_results(doc, blk.content.get("id")))
    if not results:
        return None
    note = ""
    for block in results:
        content = block.get("content")
        text = content if isinstance(content, str) else ""
        match = _EXIT_HEAD.match(text)
        if match:
            old = int(match.group(2))
            block["content"] = _EXIT_HEAD.sub(lambda m, old=old: f"{m.group(1)}{old + 1}",
                                              text, count=1)
            note = f"exit {old} -> {old + 1}"
        elif not block.get("is_error"):
            block["is_error"] = True
            _ah_result_text(block, lambda t: f"Exit code 1\n{t}")
            note = "exit 0 -> 1"
    return f"{blk.content.get('id')} tool_result (request side): {note}" if note else None


def _ah_first_item(doc: Http) -> _Block | None:
    return next((b for b in _ah_blocks(doc) if not (
        b.content.get("type") in {"tool_use", "server_tool_use"}
        and b.content.get("name") in CLAUDE_NOISE)), None)


@_impl("drop_item", AH)
def _ah_drop(doc: Http) -> str | None:
    """The first text or thinking block (see `_cx_drop`); else the first block."""
    blk = next((b for b in _ah_blocks(doc) if b.content.get("type") in {
        "text", "thinking", "redacted_thinking"}), None) or _ah_first_item(doc)
    if blk is None:
        return None
    sse = doc.sse(blk.interaction)
    assert sse is not None
    mine = _ah_events(doc, blk)
    full = "".join(str(b.data["delta"].get("text") or "") for b in mine
                   if b.data.get("type") == "content_block_delta")
    sse.blocks = [b for b in sse.blocks if b not in mine]
    for b in sse.blocks:
        if isinstance(b.data, dict) and isinstance(b.data.get("index"), int) \
                and b.data["index"] > blk.index:
            b.edit()["index"] -= 1
    tool_id = blk.content.get("id")
    for index, body in doc.requests():
        for message in body.get("messages") or []:
            content = message.get("content") if isinstance(message, dict) else None
            if not isinstance(content, list):
                continue
            kept = [c for c in content if not (isinstance(c, dict) and (
                (tool_id and (c.get("id") == tool_id or c.get("tool_use_id") == tool_id))
                or (not tool_id and c.get("type") == "text" and full and c.get("text") == full
                    and message.get("role") == "assistant")))]
            if len(kept) != len(content):
                message["content"] = kept
                doc.touch_request(index)
        messages = body.get("messages")
        if isinstance(messages, list) and any(
                isinstance(m, dict) and m.get("content") == [] for m in messages):
            body["messages"] = [m for m in messages
                                if not (isinstance(m, dict) and m.get("content") == [])]
    kind = blk.content.get("name") or blk.content.get("type")
    return f"dropped {kind} block (interaction {blk.interaction})"


@_impl("extra_item", AH)
def _ah_extra(doc: Http) -> str | None:
    blk = _ah_first_item(doc)
    if blk is None:
        return None
    sse = doc.sse(blk.interaction)
    assert sse is not None
    indexes = [b.data["index"] for b in sse.blocks if isinstance(b.data, dict)
               and isinstance(b.data.get("index"), int)]
    new_index = max(indexes) + 1
    tool_id = blk.content.get("id")
    new_id = f"{tool_id}_mutant" if tool_id else None
    twins = []
    for b in _ah_events(doc, blk):
        data = copy.deepcopy(b.data)
        data["index"] = new_index
        if tool_id and isinstance(data.get("content_block"), dict):
            data["content_block"]["id"] = new_id
        twins.append(sse.new(data, b.event))
    last_stop = max(n for n, b in enumerate(sse.blocks) if isinstance(b.data, dict)
                    and b.data.get("type") == "content_block_stop")
    sse.blocks[last_stop + 1:last_stop + 1] = twins
    if tool_id:
        for index, body in doc.requests():
            for message in body.get("messages") or []:
                content = message.get("content") if isinstance(message, dict) else None
                if not isinstance(content, list):
                    continue
                out: list[Any] = []
                for c in content:
                    out.append(c)
                    if isinstance(c, dict) and tool_id in (c.get("id"), c.get("tool_use_id")):
                        out.append(_renamed(c, tool_id, new_id))
                if len(out) != len(content):
                    message["content"] = out
                    doc.touch_request(index)
    kind = blk.content.get("name") or blk.content.get("type")
    return f"duplicated {kind} block as index {new_index} (interaction {blk.interaction})"


@_impl("file_path", AH)
def _ah_file_path(doc: Http) -> str | None:
    def fn(a: dict[str, Any]) -> None:
        key = "notebook_path" if "notebook_path" in a else "file_path"
        a[key] = _path(str(a.get(key)))
    blk = _ah_tool_input(doc, lambda n: n in CLAUDE_FILE_TOOLS, fn)
    return None if blk is None else f"{blk.content.get('name')} file_path"


_WRITE_CREATED = re.compile(r"^File created successfully", re.IGNORECASE)


@_impl("file_change_kind", AH)
def _ah_file_kind(doc: Http) -> str | None:
    """Write is `add` when its tool_result says it created the file: Write that created ->
    Write that overwrote (the result text); Write that overwrote or Edit -> Write that
    created."""
    blk = _ah_tool(doc, lambda n: n in CLAUDE_FILE_TOOLS)
    if blk is None:
        return None
    results = list(_ah_results(doc, blk.content.get("id")))
    arguments = _ah_input(doc, blk)
    path = arguments.get("file_path") if isinstance(arguments, dict) else None
    created = blk.content.get("name") == "Write" and any(
        _WRITE_CREATED.match(str(r.get("content"))) for r in results)
    if created:
        for block in results:
            block["content"] = f"The file {path} has been updated successfully."
        return "Write that created -> Write that overwrote (request side)"
    old = blk.content.get("name")
    if old != "Write":
        _ah_set_tool(doc, blk, name="Write")
    for block in results:
        block["content"] = f"File created successfully at: {path}"
    return f"{old} -> Write that created the file"


def _ah_mcp(doc: Http, part: str) -> str | None:
    blk = _ah_tool(doc, lambda n: n.startswith("mcp__"))
    if blk is None:
        return None
    old = str(blk.content.get("name"))
    if part == "arguments":
        arguments = _ah_input(doc, blk)
        _ah_set_tool(doc, blk, arguments=_arguments(arguments))
        return f"{old} input"
    server, _, tool = old[5:].partition("__")
    server, tool = (_word(server), tool) if part == "server" else (server, _word(tool))
    _ah_set_tool(doc, blk, name=f"mcp__{server}__{tool}")
    return f"{old} -> mcp__{server}__{tool}"


_impl_mcp(AH, _ah_mcp)


@_impl("search_query", AH)
def _ah_search(doc: Http) -> str | None:
    blk = _ah_tool_input(doc, lambda n: n == "WebSearch",
                         lambda a: a.update(query=_text(str(a.get("query")))))
    return None if blk is None else "WebSearch query"


@_impl("turn_outcome", AH)
def _ah_turn(doc: Http) -> str | None:
    ends: list[tuple[Sse, int, bool]] = []
    for _, sse in doc.sses():
        for n, block in enumerate(sse.blocks):
            kind = block.data.get("type") if isinstance(block.data, dict) else None
            if kind in {"message_stop", "error"}:
                ends.append((sse, n, kind == "error"))
    failed = [e for e in ends if e[2]]
    target = failed[0] if failed else (ends[-1] if ends else None)
    if target is None:
        return None
    sse, n, was_failed = target
    if was_failed:
        sse.blocks[n:n + 1] = [
            sse.new({"type": "message_delta", "delta": {"stop_reason": "end_turn",
                                                        "stop_sequence": None},
                     "usage": {"output_tokens": 1}}, "message_delta"),
            sse.new({"type": "message_stop"}, "message_stop")]
        return "stream error -> end_turn"
    sse.blocks = [b for b in sse.blocks if not (isinstance(b.data, dict) and b.data.get(
        "type") in {"message_delta", "message_stop"})]
    at = max((k for k, b in enumerate(sse.blocks) if b.data is not None), default=0)
    sse.blocks.insert(at + 1, sse.new({"type": "error", "error": {
        "type": "api_error", "message": f"{MARK}: the model failed"}}, "error"))
    return "last message_stop -> stream error"


_CLAUDE_DECLINED = re.compile(r"haven't granted it yet|needs approval|permission to use \S+ "
                              r"(?:has been|was) denied|doesn't want to proceed|was rejected",
                              re.IGNORECASE)


@_impl("approval_decision", AH)
def _ah_approval(doc: Http) -> str | None:
    """The first (non-plumbing) tool's result, request side: a refusal becomes a normal result,
    a normal result a refusal (`Permission to use X has been denied.`)."""
    for blk in _ah_blocks(doc):
        if blk.content.get("type") != "tool_use" or blk.content.get("name") in CLAUDE_NOISE:
            continue
        results = list(_ah_results(doc, blk.content.get("id")))
        if not results:
            continue
        refused = any(r.get("is_error") and _CLAUDE_DECLINED.search(str(r.get("content")))
                      for r in results)
        for block in results:
            if refused:
                block["is_error"] = False
                block["content"] = f"{MARK}: approved and ran"
            else:
                block["is_error"] = True
                block["content"] = f"Permission to use {blk.content.get('name')} has been " \
                                   "denied."
        return f"{blk.content.get('name')} (request side): " + \
            ("refused -> approved" if refused else "approved -> refused")
    return None


@_impl("plan_entry", AH)
def _ah_plan(doc: Http) -> str | None:
    def fn(a: dict[str, Any]) -> None:
        if a.get("todos"):
            a["todos"][0]["content"] = _text(str(a["todos"][0].get("content")))
    blk = _ah_tool_input(doc, lambda n: n == "TodoWrite", fn)
    return None if blk is None else "TodoWrite todos[0].content"


# ============================================================================ gemini.http

GH = "gemini.http.yaml"


def _index(items: list[Any], obj: Any) -> int:
    """Position of `obj` itself in `items` (not of an equal copy)."""
    return next(n for n, item in enumerate(items) if item is obj)


def _gh_parts(doc: Http) -> Iterator[tuple[int, SseBlock, list[Any], dict[str, Any]]]:
    """(interaction, block, parts list, part) of every response part, in order."""
    for index, sse in doc.sses():
        for block in sse.blocks:
            data = block.data
            for cand in (data.get("candidates") or []) if isinstance(data, dict) else []:
                content = cand.get("content") if isinstance(cand, dict) else None
                parts = content.get("parts") if isinstance(content, dict) else None
                for part in parts if isinstance(parts, list) else []:
                    if isinstance(part, dict):
                        yield index, block, parts, part


def _gh_call(doc: Http, pred: Callable[[str], bool]
             ) -> tuple[int, SseBlock, list[Any], dict[str, Any]] | None:
    return next((p for p in _gh_parts(doc) if isinstance(p[3].get("functionCall"), dict)
                 and pred(str(p[3]["functionCall"].get("name")))), None)


def _gh_history(doc: Http, key: str, call_id: Any
                ) -> Iterator[tuple[list[Any], dict[str, Any]]]:
    """(parts list, part) of every `functionCall`/`functionResponse` with this id in the
    requests (marked edited)."""
    for index, body in doc.requests():
        for content in body.get("contents") or []:
            parts = content.get("parts") if isinstance(content, dict) else None
            for part in list(parts) if isinstance(parts, list) else []:
                if isinstance(part, dict) and isinstance(part.get(key), dict) \
                        and part[key].get("id") == call_id:
                    doc.touch_request(index)
                    yield parts, part


def _gh_edit_call(doc: Http, found: tuple[int, SseBlock, list[Any], dict[str, Any]],
                  fn: Callable[[dict[str, Any]], None], *, response_name: bool = False) -> None:
    """Edit one functionCall in the stream and its history copies (`response_name`: the
    matching functionResponses take the call's new name too)."""
    _, block, _, part = found
    call_id = part["functionCall"].get("id")
    block.edit()
    fn(part["functionCall"])
    for _, hpart in _gh_history(doc, "functionCall", call_id):
        fn(hpart["functionCall"])
    if response_name:
        for _, hpart in _gh_history(doc, "functionResponse", call_id):
            hpart["functionResponse"]["name"] = part["functionCall"]["name"]


def _gh_response_text(part: dict[str, Any], fn: Callable[[str], str]) -> bool:
    response = part["functionResponse"].get("response")
    if isinstance(response, dict) and isinstance(response.get("output"), str):
        response["output"] = fn(response["output"])
        return True
    return False


def _gh_args(key: str, fn: Callable[[Any], Any]) -> Callable[[dict[str, Any]], None]:
    def edit(call: dict[str, Any]) -> None:
        args = call.setdefault("args", {})
        args[key] = fn(args.get(key))
    return edit


@_impl("answer_text", GH)
def _gh_answer(doc: Http) -> str | None:
    for index, block, _, part in _gh_parts(doc):
        if isinstance(part.get("text"), str) and not part.get("thought"):
            first = part["text"]
            block.edit()
            part["text"] = _text(first)
            for rindex, body in doc.requests():
                for content in body.get("contents") or []:
                    if not (isinstance(content, dict) and content.get("role") == "model"):
                        continue
                    for hpart in content.get("parts") or []:
                        if isinstance(hpart, dict) and isinstance(hpart.get("text"), str) \
                                and not hpart.get("thought") and hpart["text"].startswith(first):
                            hpart["text"] = _text(hpart["text"])
                            doc.touch_request(rindex)
            return f"interaction {index}: first text part"
    return None


@_impl("command", GH)
def _gh_command(doc: Http) -> str | None:
    found = _gh_call(doc, lambda n: n == "run_shell_command")
    if found is None:
        return None
    _gh_edit_call(doc, found, _gh_args("command", _command))
    return f"interaction {found[0]}: run_shell_command command"


_GEMINI_OUTPUT = re.compile(r"^Output: ?", re.MULTILINE)
_GEMINI_EXIT = re.compile(r"^Exit Code: (-?\d+)", re.MULTILINE)


def _gh_mark_output(text: str) -> str:
    match = _GEMINI_OUTPUT.search(text)
    if match:
        return text[:match.end()] + _text(text[match.end():])
    return _text(text)


@_impl("command_output", GH)
def _gh_output(doc: Http) -> str | None:
    found = _gh_call(doc, lambda n: n == "run_shell_command")
    if found is None:
        return None
    call_id = found[3]["functionCall"].get("id")
    hits = [_gh_response_text(p, _gh_mark_output)
            for _, p in _gh_history(doc, "functionResponse", call_id)]
    return f"{call_id} functionResponse output (request side)" if any(hits) else None


@_impl("exit_code", GH)
def _gh_exit(doc: Http) -> str | None:
    for _, _, _, part in _gh_parts(doc):
        call = part.get("functionCall")
        if not (isinstance(call, dict) and call.get("name") == "run_shell_command"):
            continue
        responses = [p for _, p in _gh_history(doc, "functionResponse", call.get("id"))]
        outputs = [p["functionResponse"].get("response", {}).get("output") for p in responses]
        if not any(isinstance(o, str) and _GEMINI_OUTPUT.search(o) for o in outputs):
            continue

        def flip(text: str) -> str:
            match = _GEMINI_EXIT.search(text)
            if match:  # non-zero -> 0: Gemini CLI writes no Exit Code line for 0
                return text[:match.start()] + text[match.end() + 1:]
            marks = list(re.finditer(r"^(Process Group PGID|Background PIDs|</untrusted_"
                                     r"context>)", text, re.MULTILINE))
            at = marks[0].start() if marks else len(text)
            return text[:at] + "Exit Code: 1\n" + text[at:]
        for response in responses:
            _gh_response_text(response, flip)
        return f"{call.get('id')} exit code flipped (request side)"
    return None


def _gh_first_item(doc: Http) -> tuple[int, SseBlock, list[Any], dict[str, Any]] | None:
    return next((p for p in _gh_parts(doc) if not p[3].get("thought")
                 and ("functionCall" in p[3] or isinstance(p[3].get("text"), str))), None)


@_impl("drop_item", GH)
def _gh_drop(doc: Http) -> str | None:
    """The first answer's text (see `_cx_drop`); else the first function call."""
    found = next((p for p in _gh_parts(doc) if isinstance(p[3].get("text"), str)
                  and not p[3].get("thought")), None) or _gh_first_item(doc)
    if found is None:
        return None
    index, block, parts, part = found
    if "functionCall" in part:
        call_id = part["functionCall"].get("id")
        block.edit()
        del parts[_index(parts, part)]
        for key in ("functionCall", "functionResponse"):
            for hparts, hpart in list(_gh_history(doc, key, call_id)):
                del hparts[_index(hparts, hpart)]
        return f"dropped functionCall {part['functionCall'].get('name')} " \
               f"(interaction {index})"
    for where, b, ps, p in list(_gh_parts(doc)):
        if where == index and isinstance(p.get("text"), str) and not p.get("thought"):
            b.edit()
            del ps[_index(ps, p)]
    return f"dropped the text of interaction {index}"


@_impl("extra_item", GH)
def _gh_extra(doc: Http) -> str | None:
    """A function call duplicated with a new id (text parts of one answer merge into one
    message: a text-only cassette has no extra item to give)."""
    found = _gh_call(doc, lambda n: True)
    if found is None:
        return None
    index, block, parts, part = found
    call_id = part["functionCall"].get("id")
    new_id = f"{call_id}_mutant"
    block.edit()
    parts.insert(_index(parts, part) + 1, _renamed(part, call_id, new_id))
    for key in ("functionCall", "functionResponse"):
        for hparts, hpart in list(_gh_history(doc, key, call_id)):
            hparts.insert(_index(hparts, hpart) + 1, _renamed(hpart, call_id, new_id))
    return f"duplicated functionCall {part['functionCall'].get('name')} (interaction {index})"


@_impl("file_path", GH)
def _gh_file_path(doc: Http) -> str | None:
    found = _gh_call(doc, lambda n: n in GEMINI_FILE_TOOLS)
    if found is None:
        return None
    _gh_edit_call(doc, found, _gh_args("file_path", lambda p: _path(str(p))))
    return f"{found[3]['functionCall'].get('name')} file_path"


@_impl("file_change_kind", GH)
def _gh_file_kind(doc: Http) -> str | None:
    """write_file is `add` when its result says it created the file, else `update`; replace is
    `update`. write_file that created <-> write_file that overwrote; replace -> write_file
    that created."""
    found = _gh_call(doc, lambda n: n in GEMINI_FILE_TOOLS)
    if found is None:
        return None
    call = found[3]["functionCall"]
    path = (call.get("args") or {}).get("file_path")
    responses = [p for _, p in _gh_history(doc, "functionResponse", call.get("id"))]
    outputs = [str((p["functionResponse"].get("response") or {}).get("output")) for p in
               responses]
    created = call.get("name") == "write_file" and any(
        "created and wrote to new file" in o for o in outputs)
    new_output = f"Successfully overwrote file: {path}." if created else \
        f"Successfully created and wrote to new file: {path}."
    old = call.get("name")
    if old != "write_file":
        _gh_edit_call(doc, found, lambda c: c.update(name="write_file"), response_name=True)
    for response in responses:
        response["functionResponse"]["response"] = {"output": new_output}
    return "write_file that created -> overwrote" if created else \
        f"{old} -> write_file that created the file"


def _gh_mcp(doc: Http, part: str) -> str | None:
    found = _gh_call(doc, lambda n: _GEMINI_MCP.fullmatch(n) is not None)
    if found is None:
        return None
    old = found[3]["functionCall"]["name"]
    if part == "arguments":
        _gh_edit_call(doc, found, lambda c: c.update(args=_arguments(c.get("args"))))
        return f"{old} args"
    match = _GEMINI_MCP.fullmatch(old)
    assert match is not None
    server, tool = match.group(1), match.group(2)
    server, tool = (_word(server), tool) if part == "server" else (server, _word(tool))
    _gh_edit_call(doc, found, lambda c: c.update(name=f"mcp_{server}_{tool}"),
                  response_name=True)
    return f"{old} -> mcp_{server}_{tool}"


_impl_mcp(GH, _gh_mcp)


@_impl("search_query", GH)
def _gh_search(doc: Http) -> str | None:
    found = _gh_call(doc, lambda n: n == "google_web_search")
    if found is None:
        return None
    _gh_edit_call(doc, found, _gh_args("query", lambda q: _text(str(q))))
    return "google_web_search query"


@_impl("turn_outcome", GH)
def _gh_turn(doc: Http) -> str | None:
    ends: list[tuple[Sse, int, bool]] = []
    for _, sse in doc.sses():
        for n, block in enumerate(sse.blocks):
            data = block.data
            if isinstance(data, dict) and "error" in data:
                ends.append((sse, n, True))
            elif isinstance(data, dict) and any(isinstance(c, dict) and c.get("finishReason")
                                                for c in data.get("candidates") or []):
                ends.append((sse, n, False))
    failed = [e for e in ends if e[2]]
    target = failed[0] if failed else (ends[-1] if ends else None)
    if target is None:
        return None
    sse, n, was_failed = target
    if was_failed:
        sse.blocks[n] = sse.new({"candidates": [{"content": {"role": "model", "parts": []},
                                                 "index": 0, "finishReason": "STOP"}]})
        return "stream error -> finishReason STOP"
    data = sse.blocks[n].edit()
    for cand in data["candidates"]:
        cand.pop("finishReason", None)
    sse.blocks.insert(n + 1, sse.new({"error": {
        "code": 500, "message": f"{MARK}: the model failed", "status": "INTERNAL"}}))
    return "last finishReason -> stream error 500"


_GEMINI_DECLINED = re.compile(r'^Tool "[^"]+" not found\b')


@_impl("approval_decision", GH)
def _gh_approval(doc: Http) -> str | None:
    """The first call's functionResponse (request side): Gemini CLI's refusal (`Tool "X" not
    found`, the tool dropped by the approval mode) becomes a result, a result a refusal."""
    for _, _, _, part in _gh_parts(doc):
        call = part.get("functionCall")
        if not isinstance(call, dict):
            continue
        responses = [p for _, p in _gh_history(doc, "functionResponse", call.get("id"))]
        if not responses:
            continue
        refused = any(_GEMINI_DECLINED.match(str((p["functionResponse"].get("response") or {})
                                                 .get("error"))) for p in responses)
        ran = f"Output: {MARK}: approved and ran" if call.get("name") == "run_shell_command" \
            else f"{MARK}: approved and ran"
        for response in responses:
            response["functionResponse"]["response"] = {"output": ran} if refused else {
                "error": f'Tool "{call.get("name")}" not found.'}
        return f"{call.get('name')} (request side): " + \
            ("refused -> approved" if refused else "approved -> refused")
    return None


@_impl("plan_entry", GH)
def _gh_plan(doc: Http) -> str | None:
    found = _gh_call(doc, lambda n: n == "write_todos")
    if found is None or not (found[3]["functionCall"].get("args") or {}).get("todos"):
        return None

    def fn(call: dict[str, Any]) -> None:
        todos = (call.get("args") or {}).get("todos")
        if todos:
            todos[0]["description"] = _text(str(todos[0].get("description")))
    _gh_edit_call(doc, found, fn)
    return "write_todos todos[0].description"


# ============================================================================ codex-app-server

AS = "codex-app-server.jsonl"
_AS_TYPES = frozenset({"agentMessage", "reasoning", "commandExecution", "fileChange",
                       "mcpToolCall", "dynamicToolCall", "collabAgentToolCall", "webSearch",
                       "plan"})
"""Thread item types the lane maps to an item (`userMessage`, the client's prompt, is none)."""
_AS_APPROVALS = {"item/commandExecution/requestApproval": "commandExecution",
                 "item/fileChange/requestApproval": "fileChange"}
_AS_APPROVED = frozenset({"accept", "acceptForSession", "acceptWithExecpolicyAmendment",
                          "applyNetworkPolicyAmendment"})


def _as_msg(doc: Jsonl, index: int, direction: str = "in") -> dict[str, Any] | None:
    row = doc.rows[index]
    msg = row.get("msg") if isinstance(row, dict) and row.get("dir") == direction else None
    return msg if isinstance(msg, dict) else None


def _as_params(doc: Jsonl, index: int, method: str | None = None) -> dict[str, Any] | None:
    """The params of a server line (of this method)."""
    msg = _as_msg(doc, index)
    if msg is None or (method is not None and msg.get("method") != method):
        return None
    params = msg.get("params")
    return params if isinstance(params, dict) else None


def _as_started(doc: Jsonl, *types: str) -> Iterator[tuple[int, dict[str, Any]]]:
    """Every mapped item, by its `item/started` line, in order (optionally of these types)."""
    for index in range(len(doc.rows)):
        params = _as_params(doc, index, "item/started")
        item = params.get("item") if params else None
        if isinstance(item, dict) and item.get("type") in (types or _AS_TYPES):
            yield index, item


def _as_completed(doc: Jsonl, native: str) -> tuple[int, dict[str, Any]] | None:
    for index in range(len(doc.rows)):
        params = _as_params(doc, index, "item/completed")
        item = params.get("item") if params else None
        if isinstance(item, dict) and item.get("id") == native:
            return index, item
    return None


def _walk(value: Any, pred: Callable[[dict[str, Any]], bool]) -> Iterator[dict[str, Any]]:
    if isinstance(value, dict):
        if pred(value):
            yield value
        for inner in value.values():
            yield from _walk(inner, pred)
    elif isinstance(value, list):
        for inner in value:
            yield from _walk(inner, pred)


def _as_edit_item(doc: Jsonl, native: str, fn: Callable[[dict[str, Any]], None]) -> None:
    """Every copy of one thread item the server sent: `item/started`, `item/completed`, the
    turn's `items` in `turn/completed` and the history a later `thread/resume` answers with."""
    for index in range(len(doc.rows)):
        msg = _as_msg(doc, index)
        found = list(_walk(msg, lambda d: d.get("id") == native and "type" in d)) if msg else []
        if found:
            doc.edit(index)
            for item in found:
                fn(item)


def _as_deltas(doc: Jsonl, native: str, method: str | None = None) -> list[int]:
    """The streaming lines (`item/.../delta`, `.../outputDelta`) of one item."""
    return [i for i in range(len(doc.rows))
            if (params := _as_params(doc, i)) is not None and params.get("itemId") == native
            and "delta" in params
            and (method is None or (_as_msg(doc, i) or {}).get("method") == method)]


def _as_mark_delta(doc: Jsonl, native: str, method: str) -> None:
    """The mark at the start of the first delta: the deltas still add up to the marked text."""
    deltas = _as_deltas(doc, native, method)
    if deltas:
        params = doc.edit(deltas[0])["msg"]["params"]
        params["delta"] = _text(str(params["delta"]))


def _as_requests(doc: Jsonl, native: str) -> list[tuple[int, int | None, int | None]]:
    """(request, the client's answer, `serverRequest/resolved`) lines of the approval requests
    for one item (request ids restart with each app-server process: the next answer wins)."""
    out = []
    for index in range(len(doc.rows)):
        msg = _as_msg(doc, index)
        if msg is None or msg.get("method") not in _AS_APPROVALS or "id" not in msg \
                or (msg.get("params") or {}).get("itemId") != native:
            continue
        answer = next((i for i in range(index + 1, len(doc.rows))
                       if (m := _as_msg(doc, i, "out")) is not None and "method" not in m
                       and m.get("id") == msg["id"]), None)
        resolved = next((i for i in range(index + 1, len(doc.rows))
                         if (p := _as_params(doc, i, "serverRequest/resolved")) is not None
                         and p.get("requestId") == msg["id"]), None)
        out.append((index, answer, resolved))
    return out


@_impl("answer_text", AS)
def _as_answer(doc: Jsonl) -> str | None:
    line, item = next(_as_started(doc, "agentMessage"), (None, None))
    if line is None or item is None:
        return None

    def fn(it: dict[str, Any]) -> None:
        if it.get("text"):
            it["text"] = _text(str(it["text"]))
    _as_edit_item(doc, item["id"], fn)
    _as_mark_delta(doc, item["id"], "item/agentMessage/delta")
    return f"line {line + 1}: agentMessage {item['id']} text (and its first delta)"


@_impl("command", AS)
def _as_command(doc: Jsonl) -> str | None:
    line, item = next(_as_started(doc, "commandExecution"), (None, None))
    if line is None or item is None:
        return None
    note = f"line {line + 1}: command -> {_command(item.get('command'))!r} (and its approval)"

    def fn(it: dict[str, Any]) -> None:
        if "command" in it:
            it["command"] = _command(it["command"])
        for action in it.get("commandActions") or []:
            if isinstance(action, dict) and isinstance(action.get("command"), str):
                action["command"] = _command(action["command"])
    _as_edit_item(doc, item["id"], fn)
    for request, _, _ in _as_requests(doc, item["id"]):
        fn(doc.edit(request)["msg"]["params"])
    return note


def _as_ran(doc: Jsonl) -> tuple[int, dict[str, Any]] | None:
    """The first command that ran (completed, not declined)."""
    for _, started in _as_started(doc, "commandExecution"):
        found = _as_completed(doc, started["id"])
        if found and found[1].get("status") != "declined":
            return found
    return None


@_impl("command_output", AS)
def _as_output(doc: Jsonl) -> str | None:
    found = _as_ran(doc)
    if found is None:
        return None
    line, item = found

    def fn(it: dict[str, Any]) -> None:
        if it.get("status") != "inProgress":
            it["aggregatedOutput"] = _text(str(it.get("aggregatedOutput") or ""))
    _as_edit_item(doc, item["id"], fn)
    _as_mark_delta(doc, item["id"], "item/commandExecution/outputDelta")
    return f"line {line + 1}: aggregatedOutput of {item['id']} (and its first output delta)"


@_impl("exit_code", AS)
def _as_exit(doc: Jsonl) -> str | None:
    for _, started in _as_started(doc, "commandExecution"):
        found = _as_completed(doc, started["id"])
        if found is None or not isinstance(found[1].get("exitCode"), int):
            continue
        line, old = found[0], found[1]["exitCode"]
        _as_edit_item(doc, started["id"], _as_set_exit(_flip_code(old)))
        return f"line {line + 1}: exitCode {old} -> {_flip_code(old)} (status to match)"
    return None


def _as_set_exit(new: int) -> Callable[[dict[str, Any]], None]:
    def fn(it: dict[str, Any]) -> None:
        if isinstance(it.get("exitCode"), int):
            it["exitCode"] = new
            if it.get("status") in {"completed", "failed"}:
                it["status"] = "completed" if new == 0 else "failed"
    return fn


def _as_prune(value: Any, native: str) -> bool:
    """Remove the item from every list (a turn's `items`, a resumed thread's history)."""
    changed = False
    if isinstance(value, dict):
        for inner in value.values():
            changed = _as_prune(inner, native) or changed
    elif isinstance(value, list):
        keep = [v for v in value if not (isinstance(v, dict) and v.get("id") == native
                                         and "type" in v)]
        changed = len(keep) != len(value)
        value[:] = keep
        for inner in value:
            changed = _as_prune(inner, native) or changed
    return changed


def _as_item_lines(doc: Jsonl, native: str) -> list[int]:
    """The item's own notifications: started, deltas, completed."""
    return sorted({i for i in range(len(doc.rows))
                   if (p := _as_params(doc, i)) is not None
                   and (_as_msg(doc, i) or {}).get("method") in {"item/started",
                                                                 "item/completed"}
                   and isinstance(p.get("item"), dict) and p["item"].get("id") == native}
                  | set(_as_deltas(doc, native)))


@_impl("drop_item", AS)
def _as_drop(doc: Jsonl) -> str | None:
    line, item = next(_as_started(doc), (None, None))
    if line is None or item is None:
        return None
    native = item["id"]
    gone = set(_as_item_lines(doc, native))
    for request in _as_requests(doc, native):
        gone |= {i for i in request if i is not None}
    for index in range(len(doc.rows)):
        if index not in gone and isinstance(doc.rows[index], dict):
            pruned = copy.deepcopy(doc.rows[index])
            if _as_prune(pruned, native):
                doc.put(index, pruned)
    doc.delete(gone)
    return f"dropped {item.get('type')} {native} (line {line + 1}; {len(gone)} lines)"


@_impl("extra_item", AS)
def _as_extra(doc: Jsonl) -> str | None:
    line, item = next(_as_started(doc), (None, None))
    if line is None or item is None:
        return None
    native, twin = item["id"], f"{item['id']}_mutant"
    lines = _as_item_lines(doc, native)
    copies = []
    for index in lines:
        row = copy.deepcopy(doc.rows[index])
        params = row["msg"]["params"]
        if isinstance(params.get("item"), dict):
            params["item"]["id"] = twin
        if params.get("itemId") == native:
            params["itemId"] = twin
        copies.append(row)
    doc.insert(lines[-1] + 1, copies)
    return f"duplicated {item.get('type')} {native} after line {lines[-1] + 1}"


def _as_file_change(doc: Jsonl) -> tuple[int, dict[str, Any]] | None:
    return next(((i, it) for i, it in _as_started(doc, "fileChange") if it.get("changes")), None)


@_impl("file_path", AS)
def _as_file_path(doc: Jsonl) -> str | None:
    found = _as_file_change(doc)
    if found is None:
        return None

    def fn(it: dict[str, Any]) -> None:
        if it.get("changes"):
            it["changes"][0]["path"] = _path(str(it["changes"][0].get("path")))
    _as_edit_item(doc, found[1]["id"], fn)
    return f"line {found[0] + 1}: changes[0].path"


def _as_flip_kind(kind: Any) -> Any:
    """`{type: add}` -> update, update -> add, delete -> update, a move -> a plain update."""
    name = kind.get("type") if isinstance(kind, dict) else kind
    flipped = _KIND_FLIP.get(str(name), "update")
    if isinstance(kind, dict):
        return {**kind, "type": flipped, **({"move_path": None} if "move_path" in kind else {})}
    return flipped


@_impl("file_change_kind", AS)
def _as_file_kind(doc: Jsonl) -> str | None:
    found = _as_file_change(doc)
    if found is None:
        return None
    old = found[1]["changes"][0].get("kind")

    def fn(it: dict[str, Any]) -> None:
        if it.get("changes"):
            it["changes"][0]["kind"] = _as_flip_kind(it["changes"][0].get("kind"))
    _as_edit_item(doc, found[1]["id"], fn)
    return f"line {found[0] + 1}: changes[0].kind {old} -> {_as_flip_kind(old)}"


def _as_mcp(doc: Jsonl, key: str) -> str | None:
    line, item = next(_as_started(doc, "mcpToolCall"), (None, None))
    if line is None or item is None:
        return None

    def fn(it: dict[str, Any]) -> None:
        it[key] = _arguments(it.get(key)) if key == "arguments" else _word(str(it.get(key)))
    _as_edit_item(doc, item["id"], fn)
    return f"line {line + 1}: mcpToolCall {item['id']} {key}"


_impl_mcp(AS, _as_mcp)


@_impl("search_query", AS)
def _as_search(doc: Jsonl) -> str | None:
    for line, item in _as_started(doc, "webSearch"):
        found = _as_completed(doc, item["id"])
        if found is None or not found[1].get("query"):
            continue

        def fn(it: dict[str, Any]) -> None:
            if it.get("query"):
                it["query"] = _text(str(it["query"]))
            action = it.get("action")
            if isinstance(action, dict):
                if action.get("query"):
                    action["query"] = _text(str(action["query"]))
                if action.get("queries"):
                    action["queries"] = [_text(str(q)) for q in action["queries"]]
        _as_edit_item(doc, item["id"], fn)
        return f"line {line + 1}: webSearch {item['id']} query"
    return None


@_impl("turn_outcome", AS)
def _as_turn(doc: Jsonl) -> str | None:
    """`failed` and `interrupted` are the lane's failed turns."""
    ends = [(i, p["turn"].get("status") in {"failed", "interrupted"})
            for i in range(len(doc.rows))
            if (p := _as_params(doc, i, "turn/completed")) is not None
            and isinstance(p.get("turn"), dict)]
    target = _flip_target(ends)
    if target is None:
        return None
    line, failed = target
    turn = doc.edit(line)["msg"]["params"]["turn"]
    old = turn.get("status")
    if failed:
        turn["status"], turn["error"] = "completed", None
    else:
        turn["status"] = "failed"
        turn["error"] = {"message": f"stream disconnected before completion: {MARK}",
                         "codexErrorInfo": "other", "additionalDetails": None}
    return f"line {line + 1}: turn {old} -> {turn['status']}"


def _as_completed_row(doc: Jsonl, native: str, status: str) -> dict[str, Any] | None:
    """An `item/completed` line for an item that has only its `item/started`."""
    line = next((i for i, it in _as_started(doc) if it.get("id") == native), None)
    if line is None:
        return None
    row = copy.deepcopy(doc.rows[line])
    row["msg"]["method"] = "item/completed"
    item = row["msg"]["params"]["item"]
    item["status"] = status
    if item.get("type") == "commandExecution":
        item["exitCode"], item["aggregatedOutput"] = 0, ""
    return dict(row)


def _as_set_ran(ran: bool) -> Callable[[dict[str, Any]], None]:
    """An item's final copies: run (exit 0) or declined (never ran: no output, no exit code)."""
    def fn(it: dict[str, Any]) -> None:
        if it.get("status") == "inProgress":
            return
        it["status"] = "completed" if ran else "declined"
        if it.get("type") == "commandExecution":
            it["exitCode"] = 0 if ran else None
            if not ran:
                it["aggregatedOutput"] = None
    return fn


@_impl("approval_decision", AS)
def _as_approval(doc: Jsonl) -> str | None:
    """The client's answer flips between approving and declining; the item follows: a declined
    item did not run (no output, no exit code, no output deltas), an approved one did (exit 0);
    a cancelled file change, which never completed, completes."""
    for _, started in _as_started(doc, *_AS_APPROVALS.values()):
        native = started["id"]
        requests = [r for r in _as_requests(doc, native) if r[1] is not None]
        if not requests:
            continue
        _, answer, resolved = requests[0]
        assert answer is not None
        result = doc.edit(answer)["msg"].setdefault("result", {})
        old = result.get("decision")
        name = next(iter(old)) if isinstance(old, dict) and old else old
        approve = name not in _AS_APPROVED
        result["decision"] = "accept" if approve else "decline"
        status = "completed" if approve else "declined"
        _as_edit_item(doc, native, _as_set_ran(approve))
        if not approve:
            doc.delete(_as_deltas(doc, native, "item/commandExecution/outputDelta"))
        elif _as_completed(doc, native) is None:
            row = _as_completed_row(doc, native, status)
            if row is not None:
                doc.insert((resolved if resolved is not None else answer) + 1, [row])
        return f"line {answer + 1}: decision {old!r} -> {result['decision']!r} " \
            f"(item {native} {status})"
    return None


@_impl("plan_entry", AS)
def _as_plan(doc: Jsonl) -> str | None:
    updates = [(i, p) for i in range(len(doc.rows))
               if (p := _as_params(doc, i, "turn/plan/updated")) is not None and p.get("plan")]
    if not updates:
        return None
    turn = updates[0][1].get("turnId")
    for index, params in updates:
        if params.get("turnId") == turn and isinstance(params["plan"][0], dict):
            step = doc.edit(index)["msg"]["params"]["plan"][0]
            step["step"] = _text(str(step.get("step")))
    return f"line {updates[0][0] + 1}: plan[0].step in every update of turn {turn}"



# ============================================================================ acp (gemini --acp)

AC = "gemini-acp.jsonl"
_AC_PERMISSION = "session/request_permission"
_AC_CHUNKS = ("agent_message_chunk", "agent_thought_chunk")
_AC_ALLOW = ("allow_once", "allow_always")
_AC_REJECT = ("reject_once", "reject_always")
_AC_EMPTY_SUBJECT = "****\n"
"""Gemini CLI's thought with no subject: a chunk that is only this is its own (opaque) item."""
_AC_MODE_NOTICE = "[MODE_UPDATE] "
"""Gemini CLI's approval-mode notice (after an allow-always on an edit): no item."""


def _ac_update(doc: Jsonl, index: int) -> dict[str, Any] | None:
    """The `update` of an agent's `session/update` line."""
    params = _as_params(doc, index, "session/update")
    update = params.get("update") if params else None
    return update if isinstance(update, dict) else None


def _ac_request(doc: Jsonl, index: int) -> dict[str, Any] | None:
    """The params of an agent's `session/request_permission` request."""
    msg = _as_msg(doc, index)
    params = msg.get("params") if msg and msg.get("method") == _AC_PERMISSION \
        and "id" in msg else None
    return params if isinstance(params, dict) and isinstance(params.get("toolCall"), dict) \
        else None


def _ac_call_of(doc: Jsonl, index: int) -> dict[str, Any] | None:
    """The tool call a line shows: a `tool_call`/`tool_call_update` or a permission request's
    `toolCall`."""
    update = _ac_update(doc, index)
    if update is not None:
        return update if update.get("sessionUpdate") in {"tool_call", "tool_call_update"} \
            else None
    params = _ac_request(doc, index)
    return params["toolCall"] if params else None


def _ac_calls(doc: Jsonl) -> list[tuple[int, str]]:
    """(first line, toolCallId) of every tool call, in the order the agent showed them."""
    seen: dict[str, int] = {}
    for index in range(len(doc.rows)):
        call = _ac_call_of(doc, index)
        if call is not None and isinstance(call.get("toolCallId"), str):
            seen.setdefault(call["toolCallId"], index)
    return sorted((line, native) for native, line in seen.items())


def _ac_copies(doc: Jsonl, native: str) -> list[int]:
    """Every line that shows the call: its updates and its permission requests."""
    return [i for i in range(len(doc.rows))
            if (call := _ac_call_of(doc, i)) is not None and call.get("toolCallId") == native]


def _ac_merged(doc: Jsonl, native: str) -> dict[str, Any]:
    """The call as the lane holds it at the end: every copy's fields, later ones winning."""
    merged: dict[str, Any] = {}
    for index in _ac_copies(doc, native):
        merged.update(_ac_call_of(doc, index) or {})
    return merged


def _ac_edit_call(doc: Jsonl, native: str, fn: Callable[[dict[str, Any]], None]) -> None:
    """Apply `fn` to every copy of the call."""
    for index in _ac_copies(doc, native):
        doc.edit(index)
        call = _ac_call_of(doc, index)
        assert call is not None
        fn(call)


def _ac_first(doc: Jsonl, pred: Callable[[dict[str, Any]], bool]) -> str | None:
    """The first call whose merged state satisfies `pred`."""
    return next((native for _, native in _ac_calls(doc) if pred(_ac_merged(doc, native))),
                None)


def _ac_kind(call: dict[str, Any]) -> str:
    return acp_lane.item_kind(call)


def _ac_permissions(doc: Jsonl, native: str) -> list[tuple[int, int | None]]:
    """(request, the client's answer) lines of the permission requests about one call."""
    out = []
    for index in range(len(doc.rows)):
        params = _ac_request(doc, index)
        if params is None or params["toolCall"].get("toolCallId") != native:
            continue
        request_id = (_as_msg(doc, index) or {}).get("id")
        answer = next((i for i in range(index + 1, len(doc.rows))
                       if (m := _as_msg(doc, i, "out")) is not None and "method" not in m
                       and m.get("id") == request_id), None)
        out.append((index, answer))
    return out


def _ac_decision(doc: Jsonl, request: int, answer: int | None) -> str | None:
    """The kind of the option the client chose (`cancelled` when it cancelled)."""
    if answer is None:
        return None
    outcome = ((_as_msg(doc, answer, "out") or {}).get("result") or {}).get("outcome")
    if not isinstance(outcome, dict):
        return None
    if outcome.get("outcome") == "cancelled":
        return "cancelled"
    options = (_ac_request(doc, request) or {}).get("options") or []
    return next((str(o.get("kind")) for o in options if isinstance(o, dict)
                 and o.get("optionId") == outcome.get("optionId")), None)


def _ac_refused(doc: Jsonl, native: str) -> bool:
    return any(_ac_decision(doc, r, a) in {*_AC_REJECT, "cancelled"}
               for r, a in _ac_permissions(doc, native))


@_impl("answer_text", AC)
def _ac_answer(doc: Jsonl) -> str | None:
    """The mark at the start of the first answer chunk (the chunks still add up)."""
    for index in range(len(doc.rows)):
        update = _ac_update(doc, index)
        content = update.get("content") if update else None
        if update and update.get("sessionUpdate") == "agent_message_chunk" \
                and isinstance(content, dict) and isinstance(content.get("text"), str) \
                and not content["text"].startswith(_AC_MODE_NOTICE):
            doc.edit(index)
            content["text"] = _text(content["text"])
            return f"line {index + 1}: agent_message_chunk text"
    return None


@_impl("command", AC)
def _ac_command(doc: Jsonl) -> str | None:
    """The lane's command is `rawInput.command`, else the title (Gemini CLI's): both, in
    every copy of the call (its updates and its permission request)."""
    native = _ac_first(doc, lambda c: _ac_kind(c) == "command_execution")
    if native is None:
        return None
    note = f"{native}: command -> {_command(_ac_merged(doc, native).get('title'))!r}"

    def fn(call: dict[str, Any]) -> None:
        if isinstance(call.get("title"), str):
            call["title"] = _command(call["title"])
        raw_input = call.get("rawInput")
        if isinstance(raw_input, dict) and "command" in raw_input:
            raw_input["command"] = _command(raw_input["command"])
    _ac_edit_call(doc, native, fn)
    return note


def _ac_completion(doc: Jsonl, native: str) -> int | None:
    """The update that completes the call (`status: completed`)."""
    return next((i for i in _ac_copies(doc, native)
                 if (_ac_update(doc, i) or {}).get("status") == "completed"), None)


@_impl("command_output", AC)
def _ac_output(doc: Jsonl) -> str | None:
    """The first command that ran (completed, not refused): its `rawOutput.output` when the
    agent sends one, else the text content of its completing update (Gemini CLI sends it
    empty: the agent now shows the marked output)."""
    native = _ac_first(doc, lambda c: _ac_kind(c) == "command_execution"
                       and c.get("status") == "completed")
    line = None if native is None or _ac_refused(doc, native) else _ac_completion(doc, native)
    if native is None or line is None:
        return None
    update = doc.edit(line)["msg"]["params"]["update"]
    raw_output = update.get("rawOutput")
    if isinstance(raw_output, dict) and isinstance(raw_output.get("output"), str):
        raw_output["output"] = _text(raw_output["output"])
        return f"line {line + 1}: rawOutput.output of {native}"
    text = acp_lane.content_text(update.get("content"))
    update["content"] = [{"type": "content", "content": {"type": "text", "text": _text(text)}}]
    return f"line {line + 1}: content text of {native}'s completion"


@_impl("exit_code", AC)
def _ac_exit(doc: Jsonl) -> str | None:
    """`rawOutput.exit_code` (or `exitCode`) flips where the agent sends one; Gemini CLI sends
    none, so the first command that ran now reports exit code 1 (as an agent that sends exit
    codes would, in its completing update)."""
    for _, native in _ac_calls(doc):
        raw_output = _ac_merged(doc, native).get("rawOutput")
        key = next((k for k in ("exit_code", "exitCode") if isinstance(raw_output, dict)
                    and isinstance(raw_output.get(k), int)), None)
        if key is None:
            continue
        assert isinstance(raw_output, dict)
        old = raw_output[key]

        def fn(call: dict[str, Any], key: str = key, old: int = old) -> None:
            out = call.get("rawOutput")
            if isinstance(out, dict) and out.get(key) == old:
                out[key] = _flip_code(old)
        _ac_edit_call(doc, native, fn)
        return f"{native}: rawOutput.{key} {old} -> {_flip_code(old)}"
    native = _ac_first(doc, lambda c: _ac_kind(c) == "command_execution"
                       and c.get("status") == "completed")
    line = None if native is None or _ac_refused(doc, native) else _ac_completion(doc, native)
    if native is None or line is None:
        return None
    update = doc.edit(line)["msg"]["params"]["update"]
    raw_output = update.get("rawOutput")
    update["rawOutput"] = {**(raw_output if isinstance(raw_output, dict) else {}),
                           "exit_code": 1}
    return f"line {line + 1}: {native} now sends rawOutput.exit_code 1"


def _ac_text_run(doc: Jsonl, start: int) -> list[int]:
    """The lines of the text item that starts at `start`: consecutive chunks of one kind (a
    thought that is only the empty-subject marker is an item of its own); mode notices and
    the lines the lane reads as no item in between do not end it."""
    kind = (_ac_update(doc, start) or {}).get("sessionUpdate")
    lines = [start]
    if _ac_chunk_text(doc, start) == _AC_EMPTY_SUBJECT and kind == "agent_thought_chunk":
        return lines
    for index in range(start + 1, len(doc.rows)):
        update = _ac_update(doc, index)
        if update is None or update.get("sessionUpdate") != kind \
                or (kind == "agent_thought_chunk"
                    and _ac_chunk_text(doc, index) == _AC_EMPTY_SUBJECT):
            break
        lines.append(index)
    return lines


def _ac_chunk_text(doc: Jsonl, index: int) -> str | None:
    content = (_ac_update(doc, index) or {}).get("content")
    return content.get("text") if isinstance(content, dict) else None


def _ac_first_item(doc: Jsonl) -> tuple[str, int, str | None] | None:
    """("text", line, None) or ("call", line, toolCallId) of the first item."""
    calls = {line: native for line, native in _ac_calls(doc)}
    for index in range(len(doc.rows)):
        if index in calls:
            return "call", index, calls[index]
        update = _ac_update(doc, index)
        text = _ac_chunk_text(doc, index)
        if update and update.get("sessionUpdate") in _AC_CHUNKS and isinstance(text, str) \
                and not text.startswith(_AC_MODE_NOTICE):
            return "text", index, None
    return None


def _ac_call_lines(doc: Jsonl, native: str) -> list[int]:
    """The call's copies, its permission requests and the client's answers."""
    lines = set(_ac_copies(doc, native))
    for request, answer in _ac_permissions(doc, native):
        lines |= {request, *([answer] if answer is not None else [])}
    return sorted(lines)


@_impl("drop_item", AC)
def _ac_drop(doc: Jsonl) -> str | None:
    """The first item goes: a text item's chunks, or a tool call with every update, its
    permission request and the client's answer."""
    found = _ac_first_item(doc)
    if found is None:
        return None
    what, line, native = found
    if what == "text":
        lines = _ac_text_run(doc, line)
        kind = (_ac_update(doc, line) or {}).get("sessionUpdate")
        doc.delete(lines)
        return f"dropped {kind} lines {lines[0] + 1}-{lines[-1] + 1}"
    assert native is not None
    lines = _ac_call_lines(doc, native)
    doc.delete(lines)
    return f"dropped tool call {native} ({len(lines)} lines)"


def _ac_next_request_id(doc: Jsonl) -> int:
    ids = [m["id"] for i in range(len(doc.rows)) if (m := _as_msg(doc, i)) is not None
           and "method" in m and isinstance(m.get("id"), int)]
    return max(ids, default=-1) + 1


@_impl("extra_item", AC)
def _ac_extra(doc: Jsonl) -> str | None:
    """The first tool call happens twice: its lines (updates, permission request with a new
    request id, the client's same answer) again, under a new toolCallId, right after it
    (consecutive text chunks merge into one item: a text-only transcript has no extra item to
    give)."""
    calls = _ac_calls(doc)
    if not calls:
        return None
    native = calls[0][1]
    twin = f"{native}_mutant"
    lines = _ac_call_lines(doc, native)
    new_id = _ac_next_request_id(doc)
    old_ids = {(_as_msg(doc, r) or {}).get("id") for r, _ in _ac_permissions(doc, native)}
    copies = []
    for index in lines:
        row = copy.deepcopy(doc.rows[index])
        msg = row["msg"]
        if msg.get("id") in old_ids:
            msg["id"] = new_id
        for call in _walk(msg, lambda d: d.get("toolCallId") == native):
            call["toolCallId"] = twin
        copies.append(row)
    doc.insert(lines[-1] + 1, copies)
    return f"duplicated tool call {native} as {twin} after line {lines[-1] + 1}"


def _ac_file_change(doc: Jsonl) -> str | None:
    return _ac_first(doc, lambda c: _ac_kind(c) == "file_change")


def _ac_diffs(call: dict[str, Any]) -> list[dict[str, Any]]:
    return [b for b in call.get("content") or [] if isinstance(b, dict)
            and b.get("type") == "diff"]


@_impl("file_path", AC)
def _ac_file_path(doc: Jsonl) -> str | None:
    """The first edit's first file, in every copy: its diff's path, its location, and the
    file's name in the title."""
    native = _ac_file_change(doc)
    if native is None:
        return None
    merged = _ac_merged(doc, native)
    paths = [b.get("path") for b in _ac_diffs(merged)] + \
        [loc.get("path") for loc in merged.get("locations") or [] if isinstance(loc, dict)]
    old = next((p for p in paths if isinstance(p, str)), None)
    if old is None:
        return None
    new = _path(old)
    base = old.rpartition("/")[2]

    def fn(call: dict[str, Any]) -> None:
        for entry in [*_ac_diffs(call), *(loc for loc in call.get("locations") or []
                                          if isinstance(loc, dict))]:
            if entry.get("path") == old:
                entry["path"] = new
        if isinstance(call.get("title"), str) and base in call["title"]:
            call["title"] = call["title"].replace(base, new.rpartition("/")[2], 1)
    _ac_edit_call(doc, native, fn)
    return f"{native}: path {old} -> {new}"


def _ac_diff_kind(diff: dict[str, Any]) -> str:
    """As the lane reads a diff: `_meta.kind` add or no old text -> add; delete; else update."""
    meta = diff.get("_meta")
    hint = meta.get("kind") if isinstance(meta, dict) else None
    return "add" if hint == "add" or diff.get("oldText") is None else \
        "delete" if hint == "delete" else "update"


@_impl("file_change_kind", AC)
def _ac_file_kind(doc: Jsonl) -> str | None:
    """The first edit's first diff, in every copy: a created file (`_meta.kind: add`) becomes
    a modified one (`modify`, the old text the diff's own), a modified or deleted one a created
    one (`add`, old text empty, as Gemini CLI writes a new file). An edit shown without a diff
    flips its ACP kind (`delete` <-> `edit`)."""
    native = _ac_file_change(doc)
    if native is None:
        return None
    merged = _ac_merged(doc, native)
    diffs = _ac_diffs(merged)
    if not diffs:
        old_kind = merged.get("kind")
        new_kind = "edit" if old_kind == "delete" else "delete"
        _ac_edit_call(doc, native, lambda c: c.update(kind=new_kind) if "kind" in c else None)
        return f"{native}: kind {old_kind} -> {new_kind} (no diff)"
    path, old = diffs[0].get("path"), _ac_diff_kind(diffs[0])

    def fn(call: dict[str, Any]) -> None:
        for diff in _ac_diffs(call):
            if diff.get("path") != path:
                continue
            meta = diff["_meta"] = dict(diff.get("_meta") or {})
            if old == "add":
                meta["kind"] = "modify"
                if diff.get("oldText") is None:
                    diff["oldText"] = diff.get("newText") or ""
            else:
                meta["kind"] = "add"
                diff["oldText"] = ""
            return
    _ac_edit_call(doc, native, fn)
    return f"{native}: {path} {old} -> {'update' if old == 'add' else 'add'}"


def _ac_mcp(doc: Jsonl, part: str) -> str | None:
    """The first MCP call (`mcp_names`: Gemini CLI's title `<tool> (<server> MCP Server)`, or
    Claude Code's `mcp__<server>__<tool>`): the name in every copy, and Gemini CLI's
    `mcp_<server>_<tool>__` call id prefix with it; the arguments are `rawInput`, else the
    JSON object Gemini CLI shows as the first content."""
    native = _ac_first(doc, lambda c: acp_lane.mcp_names(c) is not None)
    if native is None:
        return None
    merged = _ac_merged(doc, native)
    names = acp_lane.mcp_names(merged)
    assert names is not None
    server, tool = names
    if part == "arguments":
        first = _ac_call_of(doc, _ac_copies(doc, native)[0]) or {}
        if "rawInput" in merged:
            new_args = _arguments(merged.get("rawInput"))
            _ac_edit_call(doc, native, lambda c: c.update(rawInput=new_args)
                          if "rawInput" in c else None)
            return f"{native}: rawInput"
        shown = _ac_json_content(first)
        if shown is None:
            return None
        text = json.dumps(_arguments(shown), ensure_ascii=False, separators=(",", ":"))

        def edit_args(call: dict[str, Any]) -> None:
            if _ac_json_content(call) == shown:
                call["content"] = [{"type": "content", "content": {"type": "text",
                                                                   "text": text}}]
        _ac_edit_call(doc, native, edit_args)
        return f"{native}: arguments shown as content -> {text}"
    new_server, new_tool = (_word(server), tool) if part == "server" else (server, _word(tool))
    new_native = native.replace(f"mcp_{server}_{tool}__", f"mcp_{new_server}_{new_tool}__", 1)

    def fn(call: dict[str, Any]) -> None:
        title = call.get("title")
        if isinstance(title, str) and _MCP_TITLE.match(title):
            call["title"] = f"{new_tool} ({new_server} MCP Server)"
        meta = call.get("_meta")
        claude = meta.get("claudeCode") if isinstance(meta, dict) else None
        if isinstance(claude, dict) and isinstance(claude.get("toolName"), str):
            claude["toolName"] = f"mcp__{new_server}__{new_tool}"
        call["toolCallId"] = new_native
    _ac_edit_call(doc, native, fn)
    return f"{native}: {part} {server}/{tool} -> {new_server}/{new_tool}"


_MCP_TITLE = re.compile(r"^\S+ \(\S+ MCP Server\)$")


def _ac_json_content(call: dict[str, Any]) -> dict[str, Any] | None:
    text = acp_lane.content_text(call.get("content"))
    try:
        value = json.loads(text) if text.startswith("{") else None
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


_impl_mcp(AC, _ac_mcp)


@_impl("search_query", AC)
def _ac_search(doc: Jsonl) -> str | None:
    """A web search's query is `rawInput.query`, else the title (none in Gemini CLI's
    recordings so far)."""
    native = _ac_first(doc, lambda c: _ac_kind(c) == "web_search")
    if native is None:
        return None

    def fn(call: dict[str, Any]) -> None:
        raw_input = call.get("rawInput")
        if isinstance(raw_input, dict) and isinstance(raw_input.get("query"), str):
            raw_input["query"] = _text(raw_input["query"])
        elif isinstance(call.get("title"), str):
            call["title"] = _text(call["title"])
    _ac_edit_call(doc, native, fn)
    return f"{native}: query"


def _ac_prompt_answers(doc: Jsonl) -> list[tuple[int, bool]]:
    """(line, failed) of the agent's answers to the client's `session/prompt` requests."""
    prompts = {m.get("id") for i in range(len(doc.rows))
               if (m := _as_msg(doc, i, "out")) is not None
               and m.get("method") == "session/prompt"}
    out = []
    for index in range(len(doc.rows)):
        msg = _as_msg(doc, index)
        if msg is None or "method" in msg or msg.get("id") not in prompts:
            continue
        result = msg.get("result") if isinstance(msg.get("result"), dict) else {}
        out.append((index, "error" in msg or result.get("stopReason") == "cancelled"))
    return out


def _ac_uncancel(doc: Jsonl, answer: int) -> str:
    """The turn that ended at `answer` as if the client had not cancelled it: no
    `session/cancel`, and the permission it cancelled is rejected instead (ACP: a client
    answers `cancelled` only after cancelling the turn)."""
    start = max((i for i, _ in _ac_prompt_answers(doc) if i < answer), default=-1) + 1
    cancels = [i for i in range(start, answer) if (m := _as_msg(doc, i, "out")) is not None
               and m.get("method") == "session/cancel"]
    rejected = 0
    for index in range(start, answer):
        msg = _as_msg(doc, index, "out")
        outcome = ((msg or {}).get("result") or {}).get("outcome") if msg and "method" \
            not in msg else None
        if not (isinstance(outcome, dict) and outcome.get("outcome") == "cancelled"):
            continue
        request = next((i for i in range(index) if (m := _as_msg(doc, i)) is not None
                        and m.get("method") == _AC_PERMISSION and m.get("id") == msg["id"]),
                       None)
        option = _ac_option(doc, request, _AC_REJECT) if request is not None else None
        if option is not None:
            doc.edit(index)["msg"]["result"] = {"outcome": {"outcome": "selected",
                                                            "optionId": option}}
            rejected += 1
    doc.delete(cancels)
    return f" (no session/cancel: {rejected} cancelled permission(s) rejected)" \
        if cancels or rejected else ""


def _ac_option(doc: Jsonl, request: int, kinds: Sequence[str]) -> str | None:
    """The id of the request's first option of one of these kinds (in `kinds` order)."""
    options = (_ac_request(doc, request) or {}).get("options") or []
    for kind in kinds:
        for option in options:
            if isinstance(option, dict) and option.get("kind") == kind:
                return str(option.get("optionId"))
    return None


@_impl("turn_outcome", AC)
def _ac_turn(doc: Jsonl) -> str | None:
    """A failed or cancelled prompt turn ends `end_turn` (a cancelled one without the cancel:
    see `_ac_uncancel`); else the last completed turn fails with an error answer."""
    target = _flip_target(_ac_prompt_answers(doc))
    if target is None:
        return None
    line, failed = target
    if failed:
        row = doc.rows[line]
        note = _ac_uncancel(doc, line)
        line = next(i for i, r in enumerate(doc.rows) if r is row)
        msg = doc.edit(line)["msg"]
        msg.pop("error", None)
        msg["result"] = {"stopReason": "end_turn"}
        return f"line {line + 1}: failed prompt turn -> end_turn{note}"
    msg = doc.edit(line)["msg"]
    msg.pop("result", None)
    msg["error"] = {"code": -32603, "message": "Internal error",
                    "data": {"details": f"{MARK}: the model failed"}}
    return f"line {line + 1}: end_turn -> error answer"


@_impl("approval_decision", AC)
def _ac_approval(doc: Jsonl) -> str | None:
    """The client's first answer flips between allowing and rejecting, and the call follows:
    rejected = never ran (its later updates go: the agent sends none for a refused call; so
    does the mode notice an allow-always brought); allowed = ran (a completing
    `tool_call_update` follows the answer). A cancelled answer becomes an allow-once of a turn
    the client did not cancel (no `session/cancel`, the turn ends `end_turn`)."""
    for _, native in _ac_calls(doc):
        for request, answer in _ac_permissions(doc, native):
            old = _ac_decision(doc, request, answer)
            if old is None or answer is None:
                continue
            allow = old not in _AC_ALLOW
            option = _ac_option(doc, request, _AC_ALLOW if allow else _AC_REJECT)
            if option is None:
                continue
            doc.edit(answer)["msg"]["result"] = {"outcome": {"outcome": "selected",
                                                             "optionId": option}}
            if not allow:
                later = [i for i in _ac_copies(doc, native) if i > answer]
                notices = [i for i in range(answer, len(doc.rows)) if (
                    t := _ac_chunk_text(doc, i)) is not None and t.startswith(_AC_MODE_NOTICE)]
                doc.delete([*later, *(notices if old == "allow_always" else [])])
                return f"{native}: {old} -> rejected (never ran)"
            asked = (_ac_request(doc, request) or {})["toolCall"]
            ran = {**copy.deepcopy(asked), "sessionUpdate": "tool_call_update",
                   "status": "completed"}
            if _ac_kind(asked) == "command_execution":
                ran["content"] = []
            session = ((_as_msg(doc, request) or {}).get("params") or {}).get("sessionId")
            doc.insert(answer + 1, [{"dir": "in", "msg": {
                "jsonrpc": "2.0", "method": "session/update",
                "params": {"sessionId": session, "update": {
                    "sessionUpdate": "tool_call_update",
                    **{k: v for k, v in ran.items() if k != "sessionUpdate"}}}}}])
            note = ""
            if old == "cancelled":
                end = next((i for i, failed in _ac_prompt_answers(doc) if i > answer), None)
                cancels = [i for i in range(answer) if (m := _as_msg(doc, i, "out")) is not None
                           and m.get("method") == "session/cancel"
                           and i > request]
                if end is not None:
                    msg = doc.edit(end)["msg"]
                    msg.pop("error", None)
                    msg["result"] = {"stopReason": "end_turn"}
                doc.delete(cancels)
                note = " (no session/cancel: the turn ends end_turn)"
            return f"{native}: {old} -> allow ({option}), the call ran{note}"
    return None


@_impl("plan_entry", AC)
def _ac_plan(doc: Jsonl) -> str | None:
    """The first plan's first entry, in every `plan` update of that turn that still lists it
    (each update replaces the plan; none in Gemini CLI's recordings so far)."""
    plans = [i for i in range(len(doc.rows)) if (u := _ac_update(doc, i)) is not None
             and u.get("sessionUpdate") == "plan" and u.get("entries")]
    if not plans:
        return None
    first = doc.rows[plans[0]]["msg"]["params"]["update"]["entries"][0]
    old = first.get("content") if isinstance(first, dict) else None
    if not isinstance(old, str):
        return None
    end = next((i for i, _ in _ac_prompt_answers(doc) if i > plans[0]), len(doc.rows))
    for index in plans:
        entries = doc.rows[index]["msg"]["params"]["update"]["entries"]
        if index < end and isinstance(entries[0], dict) and entries[0].get("content") == old:
            doc.edit(index)["msg"]["params"]["update"]["entries"][0]["content"] = _text(old)
    return f"line {plans[0] + 1}: plan entries[0].content"


# ============================================================================ the runner


@dataclass(frozen=True)
class Mutant:
    scenario: str
    native: str
    operator: str

    @property
    def lane(self) -> str:
        return NATIVE_FILES[self.native]

    def __str__(self) -> str:
        return f"{self.scenario}/{self.native}:{self.operator}"


@dataclass
class Outcome:
    mutant: Mutant
    applicable: bool
    note: str = ""
    killed: bool = False
    attack_rc: int | None = None
    check_rc: int | None = None
    named_scenario: bool = False
    named_lane: bool = False
    golden_changed: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    output: str = ""
    seconds: float = 0.0


_FAILURE_LINE = re.compile(r"^(FAIL|ERROR) |^LEDGER STALE |^CAPABILITY |^SECRET |^harness: ")


def run_check(cassettes: Path, golden: Path, report: Path, scenario: str, *,
              update_golden: bool = False) -> tuple[int, str]:
    """`harness check --scenario S` on a catalog copy (in-process: `harness.cli.main` is the
    console script), with its exit code and everything it printed."""
    argv = ["check", "--cassettes", str(cassettes), "--golden", str(golden),
            "--report", str(report), "--scenario", scenario, "--jobs", "1"]
    if update_golden:
        argv.append("--update-golden")
    buffer = io.StringIO()
    old_columns = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = "200"
    try:
        with contextlib.redirect_stdout(buffer), contextlib.redirect_stderr(buffer):
            code = harness_main(argv)
    finally:
        if old_columns is None:
            os.environ.pop("COLUMNS", None)
        else:
            os.environ["COLUMNS"] = old_columns
    return code, buffer.getvalue()


def copy_scenario(root: Path, scenario: str, into: Path) -> tuple[Path, Path]:
    """Copy one scenario (its cassettes folder, the shared fixtures, its goldens) into `into`."""
    cassettes, golden = into / "cassettes", into / "golden"
    shutil.copytree(root / "cassettes" / scenario, cassettes / scenario)
    fixtures = root / "cassettes" / "_fixtures"
    if fixtures.exists():
        shutil.copytree(fixtures, cassettes / "_fixtures")
    if (root / "golden" / scenario).exists():
        shutil.copytree(root / "golden" / scenario, golden / scenario)
    else:
        golden.mkdir(parents=True)
    return cassettes, golden


def run_mutant(mutant: Mutant, root: Path = ROOT) -> Outcome:
    """Plant the mutant in a copy, let the attacker accept it into the goldens, check again."""
    started = time.perf_counter()
    native = root / "cassettes" / mutant.scenario / mutant.native
    if not native.exists():
        return Outcome(mutant, applicable=False)
    found = mutate(mutant.operator, mutant.native, native.read_text(encoding="utf-8"))
    if found is None:
        return Outcome(mutant, applicable=False)
    outcome = Outcome(mutant, applicable=True, note=found.note)
    with tempfile.TemporaryDirectory(prefix="gate-mutant-") as tmp:
        cassettes, golden = copy_scenario(root, mutant.scenario, Path(tmp))
        (cassettes / mutant.scenario / mutant.native).write_text(found.text, encoding="utf-8")
        report = Path(tmp) / "report"
        outcome.attack_rc, attack = run_check(cassettes, golden, report, mutant.scenario,
                                              update_golden=True)
        outcome.golden_changed = [line.split(":", 1)[1].strip() for line in attack.splitlines()
                                  if line.startswith("golden updated:")]
        outcome.check_rc, output = run_check(cassettes, golden, report, mutant.scenario)
    outcome.output = output
    outcome.killed = outcome.check_rc != 0
    outcome.failures = [line for line in output.splitlines() if _FAILURE_LINE.match(line)]
    outcome.named_scenario = any(mutant.scenario in line for line in outcome.failures)
    outcome.named_lane = any(mutant.lane in line for line in outcome.failures)
    outcome.seconds = time.perf_counter() - started
    return outcome


def run_baseline(scenario: str, root: Path = ROOT) -> tuple[int, str]:
    """The unmutated scenario through the same two steps: it must pass, or its mutants say
    nothing."""
    with tempfile.TemporaryDirectory(prefix="gate-baseline-") as tmp:
        cassettes, golden = copy_scenario(root, scenario, Path(tmp))
        report = Path(tmp) / "report"
        run_check(cassettes, golden, report, scenario, update_golden=True)
        return run_check(cassettes, golden, report, scenario)


def scenarios(root: Path = ROOT) -> list[str]:
    return sorted(d.name for d in (root / "cassettes").iterdir()
                  if (d / "scenario.yaml").exists())


def scenario_mutants(scenario: str, root: Path = ROOT, *, only_operators: Sequence[str] = (),
                     only_lanes: Sequence[str] = ()) -> list[Mutant]:
    """The applicable (native file, operator) mutants of one scenario."""
    out = []
    for native, lane in NATIVE_FILES.items():
        path = root / "cassettes" / scenario / native
        if (only_lanes and lane not in only_lanes) or not path.exists():
            continue
        text = path.read_text(encoding="utf-8")
        out += [Mutant(scenario, native, operator) for operator in OPERATOR_NAMES
                if not (only_operators and operator not in only_operators)
                and mutate(operator, native, text) is not None]
    return out


def all_mutants(root: Path = ROOT, *, only_scenarios: Sequence[str] = (),
                only_operators: Sequence[str] = (), only_lanes: Sequence[str] = (),
                jobs: int = 1) -> list[Mutant]:
    """Every applicable (scenario, native file, operator), in catalog order."""
    chosen = [s for s in scenarios(root) if not only_scenarios or s in only_scenarios]

    def one(scenario: str) -> list[Mutant]:
        return scenario_mutants(scenario, root, only_operators=only_operators,
                                only_lanes=only_lanes)
    found = _pool_map(one, chosen, jobs)
    return [m for group in found for m in group]


_TASK: Callable[[Any], Any] | None = None


def _call(arg: Any) -> Any:
    assert _TASK is not None
    return _TASK(arg)


def _pool_map(fn: Callable[[Any], Any], args: Sequence[Any], jobs: int) -> Iterator[Any]:
    """`map(fn, args)` over `jobs` forked workers (0: one per core), results in order
    (forked, so `fn` may be a closure and the workers start with the harness imported)."""
    global _TASK  # noqa: PLW0603 -- read by forked workers: a closure cannot be pickled
    workers = min(jobs or os.cpu_count() or 1, max(1, len(args)))
    if workers <= 1:
        yield from map(fn, args)
        return
    _TASK = fn
    try:
        fork = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(max_workers=workers, mp_context=fork) as pool:
            yield from pool.map(_call, args)
    finally:
        _TASK = None


def run_all(mutants: Sequence[Mutant], jobs: int = 0,
            progress: Callable[[Outcome], None] | None = None) -> list[Outcome]:
    outcomes: list[Outcome] = []
    for outcome in _pool_map(run_mutant, mutants, jobs):
        outcomes.append(outcome)
        if progress:
            progress(outcome)
    return outcomes


def summary(outcomes: Sequence[Outcome]) -> str:
    """The kill ratio over applicable mutants, the same over mutants that changed the lane's
    log (a mutant the lane reads the same way tests nothing of the gate), and per operator and
    per lane."""
    tried = [o for o in outcomes if o.applicable]
    killed = [o for o in tried if o.killed]
    effective = [o for o in tried if o.golden_changed]

    def ratio(part: int, whole: int) -> str:
        return f"{part}/{whole}" + (f" = {part / whole:.1%}" if whole else "")
    lines = [f"kill ratio: {ratio(len(killed), len(tried))} "
             f"(over mutants that changed the lane's log: "
             f"{ratio(sum(o.killed for o in effective), len(effective))}; "
             f"{len(tried) - len(effective)} left the log unchanged)"]
    for title, key in (("by operator", lambda o: o.mutant.operator),
                       ("by lane", lambda o: o.mutant.lane)):
        groups: dict[str, list[Outcome]] = {}
        for outcome in tried:
            groups.setdefault(key(outcome), []).append(outcome)
        cells = [f"{name} {sum(o.killed for o in group)}/{len(group)}"
                 for name, group in sorted(groups.items())]
        lines.append(f"{title}: " + ", ".join(cells))
    unnamed = [o for o in killed if not o.named_scenario]
    if unnamed:
        lines.append(f"killed without naming the scenario: {', '.join(map(str, unnamed))}")
    return "\n".join(lines)


def describe_survivor(outcome: Outcome) -> str:
    if not outcome.golden_changed:
        return f"SURVIVED {outcome.mutant} [{outcome.note}] (the lane's log did not change)"
    return f"SURVIVED {outcome.mutant} [{outcome.note}] golden: " \
        f"{', '.join(outcome.golden_changed)}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.gate_mutations",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--all", action="store_true", help="every scenario x lane x operator")
    parser.add_argument("--scenario", action="append", default=[])
    parser.add_argument("--operator", action="append", default=[], choices=OPERATOR_NAMES)
    parser.add_argument("--lane", action="append", default=[], choices=sorted(
        NATIVE_FILES.values()))
    parser.add_argument("--jobs", type=int, default=0, help="worker processes (0: one per core)")
    parser.add_argument("--list", action="store_true", help="list the mutants, run nothing")
    parser.add_argument("--json", type=Path, help="write every outcome here")
    parser.add_argument("--fail-under", type=float, default=None,
                        help="exit 1 when the kill ratio is below this (0..1)")
    args = parser.parse_args(argv)
    if not (args.all or args.scenario or args.operator or args.lane):
        parser.error("say --all, or narrow with --scenario/--operator/--lane")
    started = time.perf_counter()
    mutants = all_mutants(only_scenarios=args.scenario, only_operators=args.operator,
                          only_lanes=args.lane, jobs=args.jobs)
    if args.list:
        for mutant in mutants:
            print(mutant)
        print(f"{len(mutants)} mutants")
        return 0
    chosen = sorted({m.scenario for m in mutants})
    broken = []
    for scenario, (code, output) in zip(chosen, _pool_map(run_baseline, chosen, args.jobs),
                                        strict=True):
        if code != 0:
            broken.append(scenario)
            print(f"BASELINE FAILS {scenario}: its mutants are left out\n{output[-2000:]}")
    mutants = [m for m in mutants if m.scenario not in broken]
    print(f"{len(mutants)} mutants over {len(chosen) - len(broken)} scenarios", flush=True)
    done = 0

    def progress(outcome: Outcome) -> None:
        nonlocal done
        done += 1
        if not outcome.killed:
            print(describe_survivor(outcome), flush=True)
        if done % 50 == 0:
            print(f"... {done}/{len(mutants)} ({time.perf_counter() - started:.0f} s)",
                  flush=True)
    outcomes = run_all(mutants, args.jobs, progress)
    print(f"\n{summary(outcomes)}\n({time.perf_counter() - started:.0f} s)")
    if args.json:
        args.json.write_text(json.dumps([{**asdict(o), "mutant": str(o.mutant),
                                          "lane": o.mutant.lane} for o in outcomes],
                                        indent=1, ensure_ascii=False))
    tried = [o for o in outcomes if o.applicable]
    ratio = sum(o.killed for o in tried) / len(tried) if tried else 1.0
    return 1 if args.fail_under is not None and ratio < args.fail_under else 0


if __name__ == "__main__":
    sys.exit(main())
