"""The one accumulator every lane emits through: envelope, ids, turns and open items.

Lanes translate native frames into calls on a `LogBuilder`; the builder owns everything that must
be the same in every lane: `seq` numbering, the current `thread_id` and `turn`, minting log-unique
item ids from native ids (native ids repeat after a resume), remembering items that started but
did not finish, and closing what is still open when the input ends. Because the builder enforces
the ordering rules by construction, a lane cannot emit a log that breaks them.
"""

from __future__ import annotations

from typing import Literal, TypedDict

from pydantic import BaseModel, ConfigDict

from harness.model import (
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
    Runtime,
    Sandbox,
    SessionStarted,
    TurnCompleted,
    TurnError,
    TurnFailed,
    TurnStarted,
    Usage,
)
from harness.model import (
    Delta as DeltaModel,
)

Phase = Literal["started", "updated", "completed"]


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

    def close_turn_truncated(self) -> list[Event]:
        """End an open turn as `stream_truncated`: the input stopped before the turn did."""
        error = TurnError(kind="stream_truncated", message=TRUNCATED_MESSAGE, retryable=True)
        return self.turn_failed(error)

    # ---------------------------------------------------------------- items

    def item(self, phase: Phase, item: Item, delta: DeltaModel | None = None) -> Event:
        """Emit one item event; remembers started items so they can be closed at turn end."""
        seq = self._seq  # the envelope inline: this runs for most events of every log
        self._seq = seq + 1
        lane, thread_id, turn = self.lane, self.thread_id, self.turn
        if phase == "started":
            self._open[item.id] = item
            return ItemStarted(seq=seq, lane=lane, thread_id=thread_id, turn=turn, item=item)
        if phase == "updated":
            if item.id in self._open:
                self._open[item.id] = item
            return ItemUpdated(seq=seq, lane=lane, thread_id=thread_id, turn=turn, item=item,
                               delta=delta)
        self._open.pop(item.id, None)
        self._completed.add(item.id)
        return ItemCompleted(seq=seq, lane=lane, thread_id=thread_id, turn=turn, item=item)

    def notice(self, message: str, native_id: str | None = None) -> Event:
        """A non-fatal error notice (allowed inside or outside a turn)."""
        item = ErrorNotice(id=self.fresh_id(), status="completed", message=message,
                           native_id=native_id)
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

    def approval_resolved(self, request_id: str, decision: Decision, by: DecidedBy) -> Event:
        return ApprovalResolved(
            **self._envelope(), request_id=request_id, decision=decision,
            decided_by=by,
        )

    # ---------------------------------------------------------------- end of input

    def close(self) -> list[Event]:
        """Flush at end of input: a turn still open ends as `stream_truncated`."""
        return self.close_turn_truncated() if self.in_turn else []
