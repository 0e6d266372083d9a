"""Semantic equivalence of normalized logs: what must agree across lanes, field by field.

Two logs from different lanes never agree byte for byte: ids, usage numbers, deltas and shell
wrappers differ by runtime. `project()` reduces a log to its meaning, a list of `Fact`s: runs
(resumed or not), turns (outcome and error kind), completed items (kind plus every field a
transcript shows, canonicalized) and approvals. `equivalent()` compares two projections field by
field at one of two strengths:

- `strict`: scripted scenarios, where every lane was fed the same script: texts, command output,
  tool arguments and results must agree too.
- `structural`: recordings from real providers: kinds, order, statuses, exit codes, commands,
  paths, tools, queries, plan entries, outcomes, approvals.

Nothing is skipped silently. What a pair may differ in is a `Mask` with a name: a field-level
ledger entry (`harness.conformance.divergences`), an item kind only one lane can show (declared
`item_kinds`), or a lane's plumbing tool (`noise_tools`). The verdict lists every mask it used.
Which model field is compared, and which is deliberately not, is written in `COMPARED` and
`NOT_COMPARED`; a test holds the two to the model so a new field cannot go uncompared unnoticed.

Canonical forms (each a documented, tested rule, applied to both sides alike): commands lose
their shell wrapper (`unwrap_command`); paths become workspace-relative (`relative_path`), and
the session's absolute workspace inside outputs and payloads reads `{workspace}`
(`in_workspace`);
outputs and results lose CRLF, ANSI escapes, trailing blanks per line and blank lines at both ends
(`canonical_output`), after the lane's own declared output rules (`LaneSpec.output_rules`: what
its runtime does to output before the lane sees it); JSON values are compared canonically.
"""

from __future__ import annotations

import difflib
import json
import re
import shlex
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from dataclasses import field as _field
from typing import Any, Literal

Strength = Literal["strict", "structural"]
NOISE_KINDS = frozenset({"error", "unknown"})
"""Non-fatal notices and unknown items are runtime-specific by nature; compared nowhere."""

MASKED = "<masked>"
OutputRule = Callable[[str], str]

COMPARED: dict[str, tuple[str, ...]] = {
    "run": ("resumed",),
    "turn": ("outcome", "error_kind"),
    "assistant_message": ("status", "text", "citations"),
    "reasoning": ("status", "text"),
    "command_execution": ("status", "command", "exit_code", "output", "error"),
    "file_change": ("status", "changes", "error"),
    "mcp_tool_call": ("status", "server", "tool", "arguments", "result", "error"),
    "tool_call": ("status", "name", "arguments", "result", "error"),
    "web_search": ("status", "query"),
    "plan": ("status", "entries", "text"),
    "approval.requested": ("item", "action"),
    "approval.resolved": ("decision", "decided_by"),
}
"""Fact kind -> the fields compared, in the order a difference is reported."""

STRICT_ONLY = frozenset({"text", "output", "arguments", "result", "error", "citations"})
"""Fields compared only at `strict` strength: a live model's words and tools' payloads vary."""

NOT_COMPARED: dict[str, str] = {
    "id": "minted by each lane",
    "native_id": "the provider's own id: differs by provider by design",
    "kind": "compared as the fact's kind",
    "encrypted": "an encrypted reasoning text is not compared (its text is not readable)",
    "cwd": "only some runtimes report a command's cwd; the session's cwd places paths",
    "move_path": "compared inside `changes`",
    "reason": "an approval's reason is runtime wording",
    "request_id": "minted by each runtime",
    "item_id": "compared as the approval's item (kind and position)",
    "results": "search hits come from the provider's index; only API lanes see them",
}
"""Model fields deliberately left out of the comparison, with the reason (see the test)."""

_WRAPPERS = (
    re.compile(r"^(?:/usr)?(?:/bin/)?(?:ba|z)?sh\s+-l?c\s+(?P<rest>.+)$", re.DOTALL),
)
_WS = re.compile(r"\s+")
_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07]*(?:\x07|\x1b\\)")
WORKSPACE_MARKERS = ("{workspace}/", "{workspace}")


# ------------------------------------------------------------------------------ canonical forms


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


def canonical_output(text: str) -> str:
    """Output as every runtime could agree on it: CRLF -> LF, ANSI escapes removed, trailing
    blanks of each line and blank lines at both ends dropped. Inner text stays exact."""
    text = _ANSI.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    return "\n".join(line.rstrip() for line in text.split("\n")).strip("\n")


def _text(value: str) -> str:
    return _WS.sub(" ", value).strip()


def payload_text(value: Any) -> str | None:
    """A tool result or error as text: a string as is; MCP/API content blocks (`text`,
    `input_text`, `output_text`) joined by newlines, also under a `content` key; any other
    JSON value canonically serialized. None stays None."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    blocks = value.get("content") if isinstance(value, dict) else value
    if isinstance(blocks, list) and blocks and all(
            isinstance(b, dict) and isinstance(b.get("text"), str) for b in blocks):
        return "\n".join(b["text"] for b in blocks)
    return canonical_json(value)


JS_SAFE_INTEGER = 2**53 - 1


def _as_js_number(value: Any) -> Any:
    """Integers past JavaScript's safe range as the double a JS runtime holds them as (all
    three CLIs are Node programs: such an argument reaches their output as a float)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and abs(value) > JS_SAFE_INTEGER:
        return float(value)
    if isinstance(value, list):
        return [_as_js_number(v) for v in value]
    if isinstance(value, dict):
        return {k: _as_js_number(v) for k, v in value.items()}
    return value


def canonical_json(value: Any) -> str:
    """JSON with sorted keys, numbers as a JavaScript runtime holds them (`_as_js_number`)."""
    return json.dumps(_as_js_number(value), sort_keys=True, ensure_ascii=False,
                      separators=(",", ":"))


# ------------------------------------------------------------------------------ projection


@dataclass
class Fact:
    """One comparable thing a log says: a run, a turn's outcome, a completed item, an approval.
    `where` places it for messages (`run 0 turn 0 item 2`); `fields` hold canonical values."""

    kind: str
    where: str
    run: int
    fields: dict[str, Any]
    turn: int | None = None


@dataclass(frozen=True)
class Lens:
    """How one lane's log is read for comparison: its plumbing tools (left out, named) and
    its runtime's output rules (applied before the shared canonical form)."""

    noise_tools: frozenset[str] = frozenset()
    output_rules: Sequence[tuple[str, OutputRule]] = ()

    def output(self, text: str) -> str:
        for _, rule in self.output_rules:
            text = rule(text)
        return canonical_output(text)


def in_workspace(text: str, cwd: str | None) -> str:
    """The session's absolute workspace path written as `{workspace}` (the recorder's
    template), so a payload naming a file compares across temp roots."""
    root = (cwd or "").rstrip("/")
    return text.replace(root, "{workspace}") if root.startswith("/") and len(root) > 1 else text


def _item_fields(item: Mapping[str, Any], cwd: str | None, lens: Lens) -> dict[str, Any]:
    kind = item["kind"]
    fields: dict[str, Any] = {"status": item["status"]}
    def read(text: object) -> str | None:
        return None if text is None else in_workspace(lens.output(str(text)), cwd)

    if kind in {"assistant_message", "reasoning"}:
        fields["text"] = None if item.get("encrypted") else _text(item.get("text") or "")
        if kind == "assistant_message":
            fields["citations"] = [(c.get("url"), _text(c.get("title") or ""),
                                    _text(c.get("cited_text") or ""))
                                   for c in item.get("citations") or []]
    elif kind == "command_execution":
        fields.update(command=unwrap_command(item["command"]), exit_code=item.get("exit_code"),
                      output=read(item.get("output")), error=read(item.get("error")))
    elif kind == "file_change":
        fields["changes"] = sorted(
            (relative_path(c["path"], cwd), c["kind"],
             relative_path(c["move_path"], cwd) if c.get("move_path") else None)
            for c in item["changes"])
        fields["error"] = read(item.get("error"))
    elif kind in {"mcp_tool_call", "tool_call"}:
        if kind == "mcp_tool_call":
            fields.update(server=item["server"], tool=item["tool"])
        else:
            fields["name"] = item["name"]
        fields.update(arguments=in_workspace(canonical_json(item.get("arguments")), cwd),
                      result=read(payload_text(item.get("result"))),
                      error=read(payload_text(item.get("error"))))
    elif kind == "web_search":
        fields["query"] = _text(item.get("query") or "")
    elif kind == "plan":
        fields["entries"] = [(e["status"], _text(e["text"])) for e in item.get("entries", [])]
        fields["text"] = _text(item.get("text") or "") if item.get("text") else None
    return fields


def project(events: Iterable[Mapping[str, Any]], lens: Lens = Lens()) -> list[Fact]:
    """Reduce a normalized log (event dicts) to facts (see module docstring). Notices, unknown
    items and the lens's plumbing tools are left out here; everything else is kept."""
    facts: list[Fact] = []
    cwd: str | None = None
    run, turn_in_run, item_in_turn = -1, -1, 0
    kinds_by_id: dict[str, str] = {}  # by an item's first event: approvals come while it runs
    for event in events:
        etype = event["type"]
        if etype == "session.started":
            run, turn_in_run = run + 1, -1
            cwd = event.get("cwd")
            facts.append(Fact("run", f"run {run}", run,
                              {"resumed": bool(event.get("resumed_from"))}))
        elif etype == "turn.started":
            turn_in_run, item_in_turn = turn_in_run + 1, 0
        elif etype in {"turn.completed", "turn.failed"}:
            error = event.get("error") or {}
            facts.append(Fact("turn", f"run {run} turn {turn_in_run}", run, {
                "outcome": "failed" if etype == "turn.failed" else "completed",
                "error_kind": error.get("kind")}, turn_in_run))
        elif etype in {"item.started", "item.updated"}:
            kinds_by_id.setdefault(event["item"]["id"], event["item"]["kind"])
        elif etype == "item.completed":
            item = event["item"]
            kind = item["kind"]
            if kind in NOISE_KINDS or (kind == "tool_call" and item["name"] in lens.noise_tools):
                continue
            where = f"run {run} turn {turn_in_run} item {item_in_turn}"
            kinds_by_id[item["id"]] = kind
            item_in_turn += 1
            facts.append(Fact(kind, where, run, _item_fields(item, cwd, lens), turn_in_run))
        elif etype == "approval.requested":
            facts.append(Fact(etype, f"run {run} turn {turn_in_run} approval", run, {
                "item": kinds_by_id.get(event.get("item_id") or "", "?"),
                "action": event.get("action")}, turn_in_run))
        elif etype == "approval.resolved":
            facts.append(Fact(etype, f"run {run} turn {turn_in_run} approval", run, {
                "decision": event.get("decision"), "decided_by": event.get("decided_by")},
                turn_in_run))
    return facts


# ------------------------------------------------------------------------------ masks


@dataclass(frozen=True)
class Mask:
    """One named excuse for a pair: `field` masks `<kind>.<field>` on both sides; `drop`
    removes facts of a kind; `collapse` keeps only a turn's last fact of a kind, at the turn's
    end; `merge` joins a turn's facts of a kind into one at the place of the first, its list
    fields (a file change's `changes`) concatenated and sorted, so one item and several items
    doing the same work compare equal and every change in them is still compared. `where`
    (canonical field values) and `runs` narrow it to the facts it names."""

    name: str
    action: Literal["field", "drop", "collapse", "merge"]
    kind: str
    field: str | None = None
    where: Mapping[str, Any] = _field(default_factory=dict)
    runs: frozenset[int] | None = None

    def selects(self, fact: Fact) -> bool:
        if fact.kind != self.kind or (self.runs is not None and fact.run not in self.runs):
            return False
        return all(_matches(fact.fields.get(key), want) for key, want in self.where.items())


def _matches(actual: Any, want: Any) -> bool:
    if isinstance(want, str) and isinstance(actual, str):
        return actual == want or actual == _text(want)
    return bool(actual == want)


def apply_masks(facts: list[Fact], masks: Iterable[Mask]) -> tuple[list[Fact], set[str]]:
    """The facts with every mask applied, and the names of the masks that touched a fact."""
    out = [Fact(f.kind, f.where, f.run, dict(f.fields), f.turn) for f in facts]
    used: set[str] = set()
    for mask in masks:
        hits = [f for f in out if mask.selects(f)]
        if not hits:
            continue
        used.add(mask.name)
        if mask.action == "field":
            for fact in hits:
                fact.fields[mask.field or ""] = MASKED
        elif mask.action == "drop":
            out = [f for f in out if not mask.selects(f)]
        elif mask.action == "merge":
            out = _merge(out, mask)
        else:
            out = _collapse(out, mask)
    return out, used


def _merge(facts: list[Fact], mask: Mask) -> list[Fact]:
    """Per turn, the selected facts become one at the first one's place: list fields joined
    and sorted, any other field kept when all agree and masked when they do not."""
    result: list[Fact] = []
    first: dict[tuple[int, int | None], Fact] = {}
    for fact in facts:
        key = (fact.run, fact.turn)
        if not mask.selects(fact):
            result.append(fact)
        elif key not in first:
            first[key] = fact
            result.append(fact)
        else:
            into = first[key]
            for name, value in fact.fields.items():
                held = into.fields.get(name)
                if isinstance(held, list) and isinstance(value, list):
                    into.fields[name] = sorted([*held, *value])
                elif held != value:
                    into.fields[name] = MASKED
    return result


def _collapse(facts: list[Fact], mask: Mask) -> list[Fact]:
    """Per turn, only the last selected fact survives, moved just before the turn's outcome."""
    result: list[Fact] = []
    pending: Fact | None = None
    for fact in facts:
        if mask.selects(fact):
            pending = fact
            continue
        if fact.kind == "turn" and pending is not None:
            result.append(pending)
            pending = None
        result.append(fact)
    if pending is not None:
        result.append(pending)
    return result


# ------------------------------------------------------------------------------ comparison


@dataclass(frozen=True)
class Difference:
    """One way two logs disagree: `check` is its stable id (`eq.items`, `eq.turn.outcome`,
    `eq.command_execution.output`, ...), `where` the place, `detail` both values."""

    check: str
    where: str
    detail: str

    def __str__(self) -> str:
        return f"{self.check}: {self.where}: {self.detail}"


@dataclass(frozen=True)
class Verdict:
    equivalent: bool
    diff: str = ""
    gaps: frozenset[str] = _field(default_factory=frozenset)
    differences: tuple[Difference, ...] = ()
    masks_used: frozenset[str] = _field(default_factory=frozenset)


def _shape(facts: Sequence[Fact]) -> list[str]:
    return [f"{f.where.split(' item ')[0]}: {f.kind}" if f.kind not in {"run", "turn"}
            else f"{f.where}: {f.kind}" for f in facts]


def compare_facts(a: Sequence[Fact], b: Sequence[Fact], strength: Strength,
                  labels: tuple[str, str] = ("a", "b"), limit: int = 20) -> list[Difference]:
    """Every difference between two projections: first the shape (which facts, in which
    order), then, when the shapes agree, every compared field that differs."""
    if [f.kind for f in a] != [f.kind for f in b] or [f.run for f in a] != [f.run for f in b]:
        diff = first_divergence(tuple(_shape(a)), tuple(_shape(b)), labels)
        return [Difference("eq.items", "facts", "\n" + diff)]
    found: list[Difference] = []
    for fa, fb in zip(a, b, strict=True):
        for name in COMPARED.get(fa.kind, ()):
            if strength == "structural" and name in STRICT_ONLY:
                continue
            va, vb = fa.fields.get(name), fb.fields.get(name)
            if va != vb:
                found.append(Difference(f"eq.{fa.kind.split('.')[0]}.{name}"
                                        if fa.kind.startswith("approval") else
                                        f"eq.{fa.kind}.{name}", fa.where,
                                        f"{labels[0]}={_show(va)} {labels[1]}={_show(vb)}"))
                if len(found) >= limit:
                    return found
    return found


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 240 else text[:200] + f"... ({len(text)} chars)"


def equivalent(a: Iterable[Mapping[str, Any]], b: Iterable[Mapping[str, Any]],
               strength: Strength = "structural", *,
               a_kinds: frozenset[str] | None = None, b_kinds: frozenset[str] | None = None,
               a_noise_tools: frozenset[str] = frozenset(),
               b_noise_tools: frozenset[str] = frozenset(),
               a_lens: Lens | None = None, b_lens: Lens | None = None,
               masks: Sequence[Mask] = (),
               labels: tuple[str, str] = ("a", "b")) -> Verdict:
    """Compare two logs under `masks`; `a_kinds`/`b_kinds` are what each lane can show (None:
    anything): a kind only one of them can show is dropped from both, as a named mask
    (`kinds:<kind>`) reported in `gaps`."""
    lens_a = a_lens or Lens(noise_tools=a_noise_tools)
    lens_b = b_lens or Lens(noise_tools=b_noise_tools)
    return compare_projections(project(a, lens_a), project(b, lens_b), strength,
                               kind_gaps(a_kinds, b_kinds), masks, labels=labels)


def kind_gaps(a_kinds: frozenset[str] | None, b_kinds: frozenset[str] | None) -> frozenset[str]:
    """Item kinds only one of two lanes can show (declared `item_kinds`)."""
    if a_kinds is None or b_kinds is None:
        return frozenset()
    return (a_kinds ^ b_kinds) - NOISE_KINDS


def compare_projections(pa: list[Fact], pb: list[Fact], strength: Strength,
                        gaps: frozenset[str], masks: Sequence[Mask], *,
                        labels: tuple[str, str]) -> Verdict:
    all_masks = [*(Mask(f"kinds:{k}", "drop", k) for k in sorted(gaps)), *masks]
    ma, used_a = apply_masks(pa, all_masks)
    mb, used_b = apply_masks(pb, all_masks)
    differences = compare_facts(ma, mb, strength, labels)
    used = frozenset(used_a | used_b)
    if not differences:
        return Verdict(True, gaps=gaps, masks_used=used)
    return Verdict(False, "\n".join(str(d) for d in differences), gaps, tuple(differences),
                   used)


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
