"""Semantic equivalence of normalized logs: what must agree across lanes, and where it doesn't.

Two logs from different lanes never agree byte for byte: ids, timestamps, usage numbers, deltas and
shell wrappers differ by runtime. `project()` reduces a log to its meaning, a list of canonical
lines: runs (resumed or not), turns (outcome and error kind) and completed items (kind, status and
the fields that matter for that kind, commands unwrapped, paths relative to the workspace).
`equivalent()` compares two projections at one of two strengths:

- `strict`: scripted scenarios, where every lane was fed the same script: texts must be equal too.
- `structural`: recordings from real providers: kinds, order, statuses, exit codes, paths, tools.

Item kinds that only one of the two lanes can show are left out of both sides and listed as gaps,
so a lane that cannot show reasoning is compared on everything else and the gap is reported.
"""

from __future__ import annotations

import difflib
import re
import shlex
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

Strength = Literal["strict", "structural"]
NOISE_KINDS = frozenset({"error", "unknown"})
"""Non-fatal notices and unknown items are runtime-specific by nature; compared nowhere."""

_WRAPPERS = (
    re.compile(r"^(?:/usr)?(?:/bin/)?(?:ba|z)?sh\s+-l?c\s+(?P<rest>.+)$", re.DOTALL),
)
_WS = re.compile(r"\s+")
WORKSPACE_MARKERS = ("{workspace}/", "{workspace}")


@dataclass(frozen=True)
class Projection:
    """A log reduced to canonical lines, plus the item kinds it contains."""

    lines: tuple[str, ...]
    kinds: frozenset[str]


@dataclass(frozen=True)
class Verdict:
    equivalent: bool
    diff: str = ""
    gaps: frozenset[str] = field(default_factory=frozenset)


def unwrap_command(command: str | list[str]) -> str:
    """`/bin/bash -lc 'echo hi'`, `bash -c "echo hi"`, `["bash","-lc","echo hi"]` -> `echo hi`."""
    if isinstance(command, list):
        if len(command) == 3 and command[0].rsplit("/", 1)[-1] in {"bash", "sh", "zsh"} \
                and command[1] in {"-c", "-lc"}:
            return command[2].strip()
        return shlex.join(command)
    text = command.strip()
    for pattern in _WRAPPERS:
        match = pattern.match(text)
        if match:
            try:
                parts = shlex.split(match.group("rest"))
            except ValueError:
                return text
            if len(parts) == 1:
                return parts[0].strip()
    return text


def relative_path(path: str, cwd: str | None = None) -> str:
    """Paths relative to the workspace, so lanes with different temp roots compare."""
    for marker in WORKSPACE_MARKERS:
        if path.startswith(marker):
            return path[len(marker):] or "."
    if cwd and path.startswith(cwd.rstrip("/") + "/"):
        return path[len(cwd.rstrip("/")) + 1:]
    return path


def _text(value: str) -> str:
    return _WS.sub(" ", value).strip()


def _item_line(item: Mapping[str, Any], strength: Strength, cwd: str | None) -> str:
    kind = item["kind"]
    parts = [kind, f"status={item['status']}"]
    if kind == "command_execution":
        parts += [f"cmd={unwrap_command(item['command'])!r}", f"exit={item.get('exit_code')}"]
    elif kind == "file_change":
        changes = sorted((relative_path(c["path"], cwd), c["kind"]) for c in item["changes"])
        parts.append("changes=" + ",".join(f"{k}:{p}" for p, k in changes))
    elif kind == "mcp_tool_call":
        parts.append(f"tool={item['server']}/{item['tool']}")
    elif kind == "tool_call":
        parts.append(f"name={item['name']}")
    elif kind == "web_search":
        parts.append(f"query={_text(item['query'])!r}")
    elif kind == "plan":
        parts.append("entries=" + "|".join(f"{e['status']}:{_text(e['text'])}"
                                           for e in item.get("entries", [])))
    if strength == "strict" and kind in {"assistant_message", "reasoning"} \
            and not item.get("encrypted"):
        parts.append(f"text={_text(item['text'])!r}")
    return " ".join(parts)


def project(events: Iterable[Mapping[str, Any]], strength: Strength = "structural",
            *, drop_kinds: frozenset[str] = frozenset(),
            noise_tools: frozenset[str] = frozenset()) -> Projection:
    """Reduce a normalized log (event dicts) to canonical lines (see module docstring)."""
    lines: list[str] = []
    kinds: set[str] = set()
    cwd: str | None = None
    for event in events:
        etype = event["type"]
        if etype == "session.started":
            cwd = event.get("cwd")
            lines.append("run resumed" if event.get("resumed_from") else "run")
        elif etype == "turn.started":
            lines.append("  turn")
        elif etype == "turn.completed":
            lines.append("  turn completed")
        elif etype == "turn.failed":
            lines.append(f"  turn failed kind={event['error']['kind']}")
        elif etype == "item.completed":
            item = event["item"]
            kind = item["kind"]
            if kind in NOISE_KINDS or kind in drop_kinds:
                continue
            if kind == "tool_call" and item["name"] in noise_tools:
                continue
            kinds.add(kind)
            lines.append("    " + _item_line(item, strength, cwd))
        elif etype in {"approval.requested", "approval.resolved"}:
            detail = event.get("decision", "")
            lines.append(f"    {etype} {detail}".rstrip())
    return Projection(tuple(lines), frozenset(kinds))


def equivalent(a: Iterable[Mapping[str, Any]], b: Iterable[Mapping[str, Any]],
               strength: Strength = "structural", *,
               a_kinds: frozenset[str] | None = None, b_kinds: frozenset[str] | None = None,
               a_noise_tools: frozenset[str] = frozenset(),
               b_noise_tools: frozenset[str] = frozenset(),
               labels: tuple[str, str] = ("a", "b"), context: int = 3) -> Verdict:
    """Compare two logs; `a_kinds`/`b_kinds` are what each lane can show (None: anything)."""
    gaps: frozenset[str] = frozenset()
    if a_kinds is not None and b_kinds is not None:
        gaps = (a_kinds ^ b_kinds) - NOISE_KINDS
    pa = project(a, strength, drop_kinds=gaps, noise_tools=a_noise_tools)
    pb = project(b, strength, drop_kinds=gaps, noise_tools=b_noise_tools)
    if pa.lines == pb.lines:
        return Verdict(True, gaps=gaps)
    return Verdict(False, first_divergence(pa.lines, pb.lines, labels, context), gaps)


def first_divergence(a: tuple[str, ...], b: tuple[str, ...], labels: tuple[str, str],
                     context: int = 3) -> str:
    """A unified diff of the first differing hunk, with `context` lines of both sides."""
    diff = list(difflib.unified_diff(list(a), list(b), fromfile=labels[0], tofile=labels[1],
                                     n=context, lineterm=""))
    hunks: list[str] = []
    seen_hunk = False
    for line in diff:
        if line.startswith("@@"):
            if seen_hunk:
                break
            seen_hunk = True
        hunks.append(line)
    return "\n".join(hunks)
