"""The one accumulator every lane emits through: envelope, ids, turns and open items.

Lanes translate native frames into calls on a `LogBuilder`; the builder owns everything that must
be the same in every lane: `seq` numbering, the current `thread_id` and `turn`, minting log-unique
item ids from native ids (native ids repeat after a resume), remembering items that started but
did not finish, and closing what is still open when the input ends. Because the builder enforces
the ordering rules by construction, a lane cannot emit a log that breaks them.
"""

from __future__ import annotations

import typing
from typing import Any, Literal, TypedDict, TypeVar

from pydantic import BaseModel, ConfigDict

from harness.contract.model import (
    ITEM_ADAPTER,
    ApprovalPolicy,
    ApprovalRequested,
    ApprovalResolved,
    AuthMode,
    DecidedBy,
    Decision,
    ErrorNotice,
    Event,
    Item,
    ItemCompleted,
    ItemStarted,
    ItemUpdated,
    McpServerInfo,
    Runtime,
    Sandbox,
    SessionCapabilities,
    SessionStarted,
    SkillInfo,
    TurnCompleted,
    TurnError,
    TurnFailed,
    TurnStarted,
    UnknownItem,
    Usage,
)
from harness.contract.model import (
    Delta as DeltaModel,
)

Phase = Literal["started", "updated", "completed"]
_M = TypeVar("_M", bound=BaseModel)

ITEM_TYPES: frozenset[type[BaseModel]] = frozenset(typing.get_args(typing.get_args(Item)[0]))
"""The concrete item models: an item event built without validation must hold one of these."""

_new = object.__new__
_set = object.__setattr__
_DEFAULTED = frozenset({"schema_version", "type"})
"""Fields a validated construction leaves at their default (not in `model_fields_set`)."""


def trusted(cls: type[_M], fields: dict[str, Any], fields_set: set[str] | None = None) -> _M:
    """An instance of `cls` from values that are already valid, without validating them again:
    what `model_construct` does (pydantic's own four instance slots), minus its per-field Python
    loop, which makes it slower than validation. `fields` must hold every field in declaration
    order; `fields_set` defaults to what a validated construction from them would record. For
    the hot paths that make one instance per native event (the builder's item events, the API
    lanes' streamed deltas); tests compare each use with a validated instance."""
    instance = _new(cls)
    _set(instance, "__dict__", fields)
    _set(instance, "__pydantic_fields_set__",
         fields.keys() - _DEFAULTED if fields_set is None else fields_set)
    _set(instance, "__pydantic_extra__", None)
    _set(instance, "__pydantic_private__", None)
    return instance


def held_item(model: type[_M], fields: dict[str, Any]) -> _M:
    """An item a lane's fast path wrote (valid fields in declaration order) as a model instance:
    trusted when no value nests (a dict, or a list with something in it, may hold dicts where
    the model holds models), else validated."""
    for value in fields.values():
        if type(value) is dict or (type(value) is list and value):
            return model.model_validate(fields)
    return trusted(model, fields)


def _validated(item: Any, delta: Any) -> tuple[Item, DeltaModel | None]:
    """An item and delta given as anything else than exact model instances (dicts, subclasses),
    validated into exact ones, so `LogBuilder.item` goes on as for any other item."""
    def plain(value: Any) -> Any:
        return value.model_dump() if isinstance(value, BaseModel) else value

    checked = ITEM_ADAPTER.validate_python(plain(item))
    return checked, None if delta is None else DeltaModel.model_validate(plain(delta))


class _Envelope(TypedDict):
    seq: int
    lane: str
    thread_id: str | None
    turn: int | None


class SessionInfo(BaseModel):
    """What `session.started` says beyond the envelope; lanes fill it from stream and context."""

    model_config = ConfigDict(frozen=True)

    provider: str
    runtime: Runtime | None = None
    model: str | None = None
    auth_mode: AuthMode = "unknown"
    cwd: str | None = None
    sandbox: Sandbox = "unknown"
    approval_policy: ApprovalPolicy = "unknown"
    resumed_from: str | None = None

TRUNCATED_MESSAGE = "input ended inside a turn"


class LogBuilder:
    """Builds a valid normalized log one call at a time (see module docstring)."""

    def __init__(self, lane: str) -> None:
        self.lane = lane
        self.thread_id: str | None = None
        self.turn: int | None = None
        self._seq = 0
        self._next_turn = 0
        self._run = 0
        self._minted = 0
        self._native_to_id: dict[str, str] = {}
        self._open: dict[str, Item] = {}
        self._completed: set[str] = set()
        self._sessions = 0

    # ---------------------------------------------------------------- envelope helpers

    def _envelope(self) -> _Envelope:
        seq = self._seq
        self._seq += 1
        return {"seq": seq, "lane": self.lane, "thread_id": self.thread_id, "turn": self.turn}

    @property
    def in_turn(self) -> bool:
        return self.turn is not None

    @property
    def has_session(self) -> bool:
        return self._sessions > 0

    # ---------------------------------------------------------------- ids

    def item_id(self, native_id: str | None) -> str:
        """The log-unique id for a native item id in the current run (minted on first sight)."""
        if native_id is None:
            return self._mint()
        known = self._native_to_id.get(native_id)
        if known is None:
            known = self._native_to_id[native_id] = self._mint()
        return known

    def fresh_id(self) -> str:
        """A new id for an item that has no native id."""
        return self._mint()

    def forget_native(self, native_id: str) -> None:
        """Let a native id be reused for a new item (e.g. after it completed)."""
        self._native_to_id.pop(native_id, None)

    def _mint(self) -> str:
        minted = f"item_{self._minted}"
        self._minted += 1
        return minted

    def is_completed(self, item_id: str) -> bool:
        return item_id in self._completed

    # ---------------------------------------------------------------- session / turns

    def session_started(self, thread_id: str | None, info: SessionInfo) -> list[Event]:
        """Start a run; closes an open turn first (a new run cannot continue an old turn)."""
        out = self.close_turn_truncated() if self.in_turn else []
        self._sessions += 1
        self._run += 1
        self._native_to_id = {}
        self.thread_id = thread_id
        self.turn = None
        out.append(SessionStarted(**self._envelope(), **info.model_dump()))
        return out

    def session_started_written(self, thread_id: str | None) -> int:
        """`session_started`'s bookkeeping for a `session.started` a lane's fast path writes
        itself (harness.contract.fastlog), outside a turn only: the event's seq."""
        if self.in_turn:
            raise ValueError("a turn is open: session_started closes it")
        self._sessions += 1
        self._run += 1
        self._native_to_id = {}
        self.thread_id = thread_id
        seq = self._seq
        self._seq = seq + 1
        return seq

    def session_capabilities(self, info: SessionInfo, skills: list[SkillInfo] | None,
                             mcp_servers: list[McpServerInfo] | None) -> list[Event]:
        """What the control plane reported for the session just started; the effective
        settings are `info`, the same the `session.started` said."""
        settings = info.model_dump(include={"model", "auth_mode", "cwd", "sandbox",
                                            "approval_policy"})
        return [SessionCapabilities(**self._envelope(), skills=skills, mcp_servers=mcp_servers,
                                    **settings)]

    def turn_started(self) -> list[Event]:
        out = self.close_turn_truncated() if self.in_turn else []
        self.turn = self._next_turn
        self._next_turn += 1
        out.append(TurnStarted(**self._envelope()))
        return out

    def turn_completed(self, usage: Usage | None, stop_reason: str | None = None) -> list[Event]:
        out = self._close_open_items()
        out.append(TurnCompleted(**self._envelope(), usage=usage, stop_reason=stop_reason))
        self.turn = None
        return out

    def turn_failed(self, error: TurnError) -> list[Event]:
        out = self._close_open_items()
        out.append(TurnFailed(**self._envelope(), error=error))
        self.turn = None
        return out

    def turn_started_written(self) -> tuple[int, int]:
        """`turn_started`'s bookkeeping for a `turn.started` a lane's fast path writes itself
        (harness.contract.fastlog), outside a turn only: the event's seq and turn."""
        if self.in_turn:
            raise ValueError("a turn is open: turn_started closes it")
        turn = self.turn = self._next_turn
        self._next_turn = turn + 1
        seq = self._seq
        self._seq = seq + 1
        return seq, turn

    def turn_ended_written(self) -> tuple[int, int] | None:
        """`turn_completed`'s (or `turn_failed`'s) bookkeeping for the event a lane's fast path
        writes itself: the event's seq and turn; None, changing nothing, when no turn is open
        or items are (`turn_completed` writes their failed completions first)."""
        turn = self.turn
        if turn is None or self._open:
            return None
        seq = self._seq
        self._seq = seq + 1
        self.turn = None
        return seq, turn

    def close_turn_truncated(self) -> list[Event]:
        """End an open turn as `stream_truncated`: the input stopped before the turn did."""
        error = TurnError.of("stream_truncated", TRUNCATED_MESSAGE)
        return self.turn_failed(error)

    # ---------------------------------------------------------------- items

    def item(self, phase: Phase, item: Item, delta: DeltaModel | None = None) -> Event:
        """Emit one item event; remembers started items so they can be closed at turn end.

        Most events of every log pass here, so the event is built without validating again
        what is already valid: the envelope is the builder's own and `item` / `delta` are
        validated model instances (checked by exact type; anything else is validated as usual).
        """
        if type(item) not in ITEM_TYPES or (delta is not None and type(delta) is not DeltaModel):
            item, delta = _validated(item, delta)
        seq = self._seq
        self._seq = seq + 1
        if phase == "started":
            self._open[item.id] = item
            return trusted(ItemStarted, {
                "schema_version": 1, "seq": seq, "lane": self.lane, "thread_id": self.thread_id,
                "turn": self.turn, "type": "item.started", "item": item})
        if phase == "updated":
            if item.id in self._open:
                self._open[item.id] = item
            return trusted(ItemUpdated, {
                "schema_version": 1, "seq": seq, "lane": self.lane, "thread_id": self.thread_id,
                "turn": self.turn, "type": "item.updated", "item": item, "delta": delta})
        self._open.pop(item.id, None)
        self._completed.add(item.id)
        return trusted(ItemCompleted, {
            "schema_version": 1, "seq": seq, "lane": self.lane, "thread_id": self.thread_id,
            "turn": self.turn, "type": "item.completed", "item": item})

    def item_written(self, phase: Phase, item_id: str, model: type[BaseModel],
                     fields: dict[str, Any], held: BaseModel | None = None) -> int:
        """`item`'s bookkeeping for an item event a lane's fast path writes itself
        (harness.contract.fastlog): returns the event's `seq`. `fields` are the item's, valid and
        in declaration order (what the fast path writes); the builder makes them a `model`
        instance (`held_item`, unless `held` is that instance already) only when it must hold
        the item open (to fail it at the turn's end)."""
        if phase == "started" or (phase == "updated" and item_id in self._open):
            held = held or held_item(model, fields)
        else:
            held = None
        seq = self._seq
        self._seq = seq + 1
        if held is not None:
            self._open[item_id] = typing.cast(Item, held)
        elif phase == "completed":
            self._open.pop(item_id, None)
            self._completed.add(item_id)
        return seq

    def notice(self, message: str, native_id: str | None = None) -> Event:
        """A non-fatal error notice (allowed inside or outside a turn)."""
        item = ErrorNotice(id=self.fresh_id(), status="completed", message=message,
                           native_id=native_id)
        return self.item("completed", item)

    def unknown(self, native_type: str, payload: Any, native_id: str | None = None) -> Event:
        """Anything a lane has no mapping for, kept whole as a completed `unknown` item: unknown
        native input is never dropped (allowed inside or outside a turn)."""
        item = UnknownItem(id=self.fresh_id(), status="completed", native_type=native_type,
                           payload=payload, native_id=native_id)
        return self.item("completed", item)

    def _close_open_items(self) -> list[Event]:
        """Complete items that started but never finished, as `failed` (Codex does the same)."""
        still_open = list(self._open.values())
        return [self.item("completed", item.model_copy(update={"status": "failed"}))
                for item in still_open]

    # ---------------------------------------------------------------- approvals

    def approval_requested(
        self, request_id: str, item_id: str, action: str, reason: str | None = None
    ) -> Event:
        return ApprovalRequested(
            **self._envelope(), request_id=request_id, item_id=item_id,
            action=action, reason=reason,
        )

    def approval_resolved(self, request_id: str, decision: Decision, by: DecidedBy,
                          reason: str | None = None) -> Event:
        return ApprovalResolved(
            **self._envelope(), request_id=request_id, decision=decision,
            decided_by=by, reason=reason,
        )

    # ---------------------------------------------------------------- end of input

    def close(self) -> list[Event]:
        """Flush at end of input: a turn still open ends as `stream_truncated`."""
        return self.close_turn_truncated() if self.in_turn else []
