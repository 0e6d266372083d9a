"""The ordering rules of a normalized log, as code: what the schema cannot say about one line alone.

Each rule is a method of `OrderChecker` named after the rule and documented with the rule itself.
The checker is streaming (`feed` one event, `close` at the end) so `harness validate` runs in
memory bounded by the number of open turns and item ids, not the size of the log. It assumes each
event already passed the JSON Schema (see `harness.contract.schema`); it reads events as plain
dicts.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

OUTSIDE_TURN_KINDS = frozenset({"error", "unknown"})
"""Item kinds that may stand between turns (non-fatal notices and unknown items)."""
TURN_END_TYPES = frozenset({"turn.completed", "turn.failed"})


@dataclass(frozen=True)
class Violation:
    """One broken rule: the event's 0-based index in the log, the rule name, and what happened."""

    index: int
    rule: str
    detail: str

    def __str__(self) -> str:
        return f"event {self.index}: {self.rule}: {self.detail}"


@dataclass
class _ItemState:
    started: bool = False
    completed: bool = False


@dataclass
class OrderChecker:
    """Streaming checker of every ordering rule (see each `_rule_*` docstring)."""

    index: int = 0
    turn: int | None = None
    next_turn: int = 0
    lane: str | None = None
    sessions: int = 0
    opened: bool = False
    items: dict[str, _ItemState] = field(default_factory=dict)
    approval_items: list[tuple[int, str]] = field(default_factory=list)
    requested: set[str] = field(default_factory=set)
    resolved: set[str] = field(default_factory=set)
    session: Mapping[str, Any] | None = None
    previous_type: str | None = None
    _found: list[Violation] = field(default_factory=list)

    def feed(self, event: Mapping[str, Any]) -> list[Violation]:
        """Check one event (the next in the log); returns what it broke."""
        self._found = []
        self._rule_seq_contiguous(event)
        self._rule_one_lane(event)
        self._rule_session_first(event)
        self._rule_turns_pair_up(event)
        self._rule_turn_field(event)
        self._rule_items_inside_turns(event)
        self._rule_item_lifecycle(event)
        self._rule_approvals(event)
        self._rule_capabilities(event)
        self.previous_type = event["type"]
        self.index += 1
        return self._found

    def close(self) -> list[Violation]:
        """Rules that can only be judged at the end of the log."""
        self._found = []
        if self.turn is not None:
            self._flag("turns_pair_up", f"turn {self.turn} is never completed or failed")
        known = self.items
        for where, item_id in self.approval_items:
            if item_id not in known:
                self._found.append(Violation(where, "approvals",
                                             f"approval references unknown item {item_id!r}"))
        return self._found

    # ------------------------------------------------------------------ rules

    def _flag(self, rule: str, detail: str) -> None:
        self._found.append(Violation(self.index, rule, detail))

    def _rule_seq_contiguous(self, event: Mapping[str, Any]) -> None:
        """`seq` is 0, 1, 2, ... in line order, with no gap or repeat."""
        if event.get("seq") != self.index:
            self._flag("seq_contiguous", f"seq {event.get('seq')!r}, expected {self.index}")

    def _rule_one_lane(self, event: Mapping[str, Any]) -> None:
        """One log is one lane's output: every event names the same lane."""
        lane = event.get("lane")
        if self.lane is None:
            self.lane = lane
        elif lane != self.lane:
            self._flag("one_lane", f"lane {lane!r} in a log of lane {self.lane!r}")

    def _rule_session_first(self, event: Mapping[str, Any]) -> None:
        """The log opens with `session.started` (only non-fatal notices may precede it: a lane
        reporting input it could not read); each later run opens with its own, outside a turn
        (a resumed run starts a new session with `resumed_from`)."""
        if event["type"] == "session.started":
            self.sessions += 1
            if self.turn is not None:
                self._flag("session_first", f"session.started inside open turn {self.turn}")
                self.turn = None
        elif self.sessions == 0 and not self.opened and not _is_notice(event):
            self.opened = True
            self._flag("session_first", f"{event['type']} before any session.started")

    def _rule_turns_pair_up(self, event: Mapping[str, Any]) -> None:
        """Every `turn.started` is closed by exactly one `turn.completed` or `turn.failed`; turns
        do not nest; turn indices count 0, 1, 2, ... over the whole log."""
        etype = event["type"]
        if etype == "turn.started":
            if self.turn is not None:
                self._flag("turns_pair_up", f"turn.started while turn {self.turn} is open")
            if event.get("turn") != self.next_turn:
                self._flag("turns_pair_up",
                           f"turn index {event.get('turn')!r}, expected {self.next_turn}")
            self.turn = event.get("turn")
            self.next_turn = (self.turn if isinstance(self.turn, int) else self.next_turn) + 1
        elif etype in TURN_END_TYPES and self.turn is None:
            self._flag("turns_pair_up", f"{etype} without an open turn")

    def _rule_turn_field(self, event: Mapping[str, Any]) -> None:
        """The envelope's `turn` is the open turn's index inside a turn and null outside one."""
        etype = event["type"]
        if etype in {"turn.started", "session.started"}:
            if etype == "session.started" and event.get("turn") is not None:
                self._flag("turn_field", "session.started carries a turn index")
            return
        if event.get("turn") != self.turn:
            self._flag("turn_field", f"turn {event.get('turn')!r} but the open turn is "
                       f"{self.turn!r}")
        if etype in TURN_END_TYPES:
            self.turn = None

    def _rule_items_inside_turns(self, event: Mapping[str, Any]) -> None:
        """Item and approval events stand inside a turn, except non-fatal `error` notices and
        `unknown` items, which may also stand between turns."""
        etype = event["type"]
        if self.turn is not None or etype in TURN_END_TYPES or not etype.startswith(
                ("item.", "approval.")):
            return
        if _is_notice(event):
            return
        self._flag("items_inside_turns", f"{etype} outside a turn")

    def _rule_item_lifecycle(self, event: Mapping[str, Any]) -> None:
        """Per item id: `item.started` (if any) comes first and once; updates follow it; at most
        one `item.completed`; nothing about an item comes after its completion."""
        etype = event["type"]
        if not etype.startswith("item."):
            return
        item_id = event["item"]["id"]
        state = self.items.setdefault(item_id, _ItemState())
        if state.completed:
            self._flag("item_lifecycle", f"{etype} for item {item_id!r} after its completion")
            return
        if etype == "item.started":
            if state.started:
                self._flag("item_lifecycle", f"item {item_id!r} started twice")
            state.started = True
        elif etype == "item.completed":
            state.completed = True
        elif etype == "item.updated":
            state.started = True

    def _rule_approvals(self, event: Mapping[str, Any]) -> None:
        """An approval request names an item of this log and a fresh request id; a resolution
        answers an earlier request, at most once."""
        etype = event["type"]
        if etype == "approval.requested":
            request_id = event["request_id"]
            if request_id in self.requested:
                self._flag("approvals", f"request {request_id!r} requested twice")
            self.requested.add(request_id)
            self.approval_items.append((self.index, event["item_id"]))
        elif etype == "approval.resolved":
            request_id = event["request_id"]
            if request_id not in self.requested:
                self._flag("approvals", f"resolution of unknown request {request_id!r}")
            elif request_id in self.resolved:
                self._flag("approvals", f"request {request_id!r} resolved twice")
            self.resolved.add(request_id)

    def _rule_capabilities(self, event: Mapping[str, Any]) -> None:
        """`session.capabilities` comes right after its `session.started` (once per session, same
        thread) and states the same effective settings (model, auth mode, cwd, sandbox,
        approval policy): a UI reading either must see one truth."""
        etype = event["type"]
        if etype == "session.started":
            self.session = event
            return
        if etype != "session.capabilities":
            return
        if self.previous_type != "session.started" or self.session is None:
            self._flag("capabilities", "session.capabilities not right after session.started")
            return
        for name in CAPABILITY_SETTINGS:
            if event.get(name) != self.session.get(name):
                self._flag("capabilities", f"{name} {event.get(name)!r} differs from "
                           f"session.started's {self.session.get(name)!r}")
        if event.get("thread_id") != self.session.get("thread_id"):
            self._flag("capabilities", "thread_id differs from session.started's")


CAPABILITY_SETTINGS = ("model", "auth_mode", "cwd", "sandbox", "approval_policy")
"""Effective settings both `session.started` and `session.capabilities` state."""


def _is_notice(event: Mapping[str, Any]) -> bool:
    """An item event of a kind allowed outside turns."""
    return str(event["type"]).startswith("item.") and event["item"]["kind"] in OUTSIDE_TURN_KINDS


def check_events(events: Iterable[Mapping[str, Any]]) -> list[Violation]:
    """Every ordering-rule violation in a whole log (empty: the log keeps every rule)."""
    checker = OrderChecker()
    found: list[Violation] = []
    for event in events:
        found.extend(checker.feed(event))
    found.extend(checker.close())
    return found
