"""The API lanes' writer (`lanes.api_shell.write_lines`, their `LaneSpec.normalize_lines`) writes
byte for byte what `dump_event_line` writes of each event, and escapes a growing text once.

Proved over drawn item events (texts grown, replaced, cut, with quotes, control characters,
astral and lone surrogates, fields orjson refuses), and over the events every API lane makes of
every catalog cassette and shape fixture, strict and lenient. The writer is also shown to escape
each character of a growing text once (a writer that re-encoded the whole text would pass the
identity tests and be no faster) and `harness normalize` to use it.
"""

from __future__ import annotations

import dataclasses
import io
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.cli import main
from harness.contract.builder import LogBuilder
from harness.contract.errors import HarnessError
from harness.contract.lane import LaneInput, LaneSpec, RunContext, available_lanes
from harness.contract.model import (
    AssistantMessage,
    Citation,
    CommandExecution,
    Delta,
    Event,
    Item,
    Plan,
    PlanEntry,
    Reasoning,
    dump_event_line,
)
from harness.contract.runmeta import recorded_context
from lanes import api_shell
from lanes.api_shell import write_lines
from tests.lanekit import scaled

ROOT = Path(__file__).resolve().parents[1]
SHAPES = ROOT / "tests" / "data" / "shapes"
API_LANES: dict[str, LaneSpec] = {
    lane_id: lane for lane_id, lane in available_lanes().items()
    if lane.input_kind == "http-cassette"}


def test_every_api_lane_writes_through_write_lines() -> None:
    assert set(API_LANES) >= {"codex-adapter", "anthropic", "gemini"}
    assert all(lane.normalize_lines is not None for lane in API_LANES.values())


# ------------------------------------------------------------------------------ drawn events

PIECES = st.one_of(
    st.text(max_size=12),
    st.sampled_from(['"', "\\", "\n", "\t", "\x00", "\x1f", "\x7f", "é", "データ",
                     "\U0001f600", "\u2028", "/", "\\u00e9", "\ud800", "\udfff"]))
"""A streamed piece: any text, or one of the characters JSON escaping treats apart (a lone
surrogate is what orjson refuses: the event goes to `dump_event_line`)."""

Step = tuple[int, str, str]
"""(which of three items, what happens to it, a piece of text)."""

STEPS = st.lists(st.tuples(st.integers(0, 2),
                           st.sampled_from(["grow", "grow", "grow", "replace", "cut", "complete",
                                            "cite", "odd id"]),
                           PIECES), max_size=40)


def _item(slot: int, text: str, status: str, *, ident: str | None = None,
          cite: bool = False) -> Item:
    """Item `slot` as one of the kinds that carry a text (and one that does not)."""
    ident = ident or f"item_{slot}"
    if slot == 0:
        return AssistantMessage(id=ident, status=status, text=text, native_id="msg/0",
                                citations=[Citation(url="u", cited_text=text[:3])] if cite
                                else [])
    if slot == 1:
        return Reasoning(id=ident, status=status, text=text, encrypted=cite)
    if cite:
        return CommandExecution(id=ident, status=status, command=text, output=text)
    return Plan(id=ident, status=status, text=text or None,
                entries=[PlanEntry(text=text, status="pending")])


def drawn_events(steps: list[Step]) -> list[Event]:
    """Item events as a lane makes them: started, updated with the text so far and the piece
    as its delta, completed; a text may also be replaced or cut, an id be one orjson refuses."""
    b = LogBuilder("anthropic")
    texts: dict[int, str] = {}
    events: list[Event] = []
    for slot, what, piece in steps:
        if slot not in texts:
            texts[slot] = ""
            events.append(b.item("started", _item(slot, "", "in_progress")))
        old = texts[slot]
        if what == "complete":
            events.append(b.item("completed", _item(slot, old + piece, "completed")))
            del texts[slot]
            continue
        new = {"grow": old + piece, "cite": old + piece, "odd id": old + piece,
               "replace": piece + old, "cut": old[: len(old) // 2]}[what]
        texts[slot] = new
        item = _item(slot, new, "in_progress", cite=what == "cite",
                     ident="\ud800" if what == "odd id" else None)
        events.append(b.item("updated", item, Delta(field="text", text=piece)))
    return events


Outcome = tuple[list[bytes], str | None]
"""The lines written, and the error that ended the writing, if any."""


def _outcome(lines: Iterator[bytes]) -> Outcome:
    written: list[bytes] = []
    try:
        for line in lines:
            written.append(line)
    except ValueError as exc:  # what orjson and pydantic raise on what they cannot write
        return written, type(exc).__name__
    return written, None


def assert_same(events: list[Event]) -> Outcome:
    fast = _outcome(write_lines(events))
    assert fast == _outcome(dump_event_line(event) for event in events)
    return fast


@settings(max_examples=scaled(300), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(STEPS)
def test_drawn_item_events_are_written_the_same(steps: list[Step]) -> None:
    assert_same(drawn_events(steps))


@pytest.mark.parametrize("steps", [
    [(0, "grow", "ab"), (0, "replace", "x")],
    [(1, "grow", "abc"), (1, "replace", "z"), (2, "grow", "q"), (1, "complete", "")],
], ids=["longer", "then completed"])
def test_a_text_that_does_not_extend_the_last_one_is_written_whole(steps: list[Step]) -> None:
    """Only a text that extends the one last written reuses its JSON: a text replaced by
    another as long or longer (a final text that differs from the streamed one) is written
    from scratch, never as the old JSON plus a tail."""
    assert assert_same(drawn_events(steps))[1] is None


def test_what_orjson_refuses_goes_to_dump_event_line() -> None:
    """A lone surrogate (in the text, or in another field of the item) is refused by orjson,
    so the event goes to `dump_event_line`, whose pydantic fallback refuses it too: the same
    lines before it, the same error."""
    for steps in ([(0, "grow", "a"), (0, "grow", "b\ud800")],
                  [(0, "grow", "a"), (0, "odd id", "b")]):
        written, error = assert_same(drawn_events(steps))
        assert len(written) == 2 and error == "PydanticSerializationError"


class _CountingOrjson(SimpleNamespace):
    """`orjson` as `lanes.api_shell` sees it, counting the characters of the texts it writes."""

    def __init__(self) -> None:
        super().__init__(Fragment=orjson.Fragment, JSONEncodeError=orjson.JSONEncodeError,
                         OPT_APPEND_NEWLINE=orjson.OPT_APPEND_NEWLINE)
        self.encoded = 0

    def dumps(self, value: Any, **kwargs: Any) -> bytes:
        if isinstance(value, str):
            self.encoded += len(value)
        return orjson.dumps(value, **kwargs)


def test_a_growing_text_is_escaped_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """200 pieces into one item, a second item interleaved: each character of each text is
    escaped once (re-encoding the text so far for every update would be ~100 times more), and
    every line is still `dump_event_line`'s."""
    pieces = [f"word {n} データ \"q\"\n" for n in range(200)]
    steps: list[Step] = [(n % 2, "grow", piece) for n, piece in enumerate(pieces)]
    events = drawn_events([*steps, (0, "complete", ""), (1, "complete", "")])
    counting = _CountingOrjson()
    monkeypatch.setattr(api_shell, "orjson", counting)
    assert assert_same(events)[1] is None
    assert counting.encoded == sum(len(p) for p in pieces)


def test_an_item_is_forgotten_when_it_completes(monkeypatch: pytest.MonkeyPatch) -> None:
    """A completed item's text is not kept: an id used again starts a new text."""
    b = LogBuilder("anthropic")
    events = [b.item("updated", _item(0, "abc", "in_progress"), Delta(field="text", text="abc")),
              b.item("completed", _item(0, "abc", "completed")),
              b.item("updated", _item(0, "abcd", "in_progress"), Delta(field="text", text="d"))]
    counting = _CountingOrjson()
    monkeypatch.setattr(api_shell, "orjson", counting)
    assert assert_same(events)[1] is None
    assert counting.encoded == len("abc") + len("") + len("abcd")


# ------------------------------------------------------------------------------ catalog, shapes


def _files(lane: LaneSpec) -> list[Path]:
    return sorted((ROOT / "cassettes").glob(f"*/{lane.native_file}")) + sorted(
        [*(SHAPES / lane.id).glob("*.http.yaml"), *(SHAPES / lane.id).glob("*.http.yaml.gz")])


FILES = [(lane_id, path) for lane_id, lane in sorted(API_LANES.items())
         for path in _files(lane)]


def _events(lane: LaneSpec, path: Path, context: RunContext) -> tuple[list[Event], str | None]:
    events: list[Event] = []
    try:
        with path.open("rb") as stream:
            events.extend(lane.normalize(LaneInput(stream=stream, name=path.name, path=path),
                                         context))
    except HarnessError as exc:
        return events, f"{type(exc).__name__}: {exc}"
    return events, None


@pytest.mark.parametrize(("lane_id", "path"), FILES,
                         ids=[f"{lane}:{path.parent.name}/{path.name}" for lane, path in FILES])
def test_catalog_and_shape_files_are_written_the_same(lane_id: str, path: Path) -> None:
    """Every recording and shape fixture, strict with its recorded context and lenient: the
    events the lane makes, written by `write_lines` and by `dump_event_line`, are the same
    bytes (`normalize_lines` is `write_lines` over `normalize`, so an error ends both alike)."""
    lane = API_LANES[lane_id]
    context = recorded_context(path)
    for mode in (context, context.model_copy(update={"lenient": True})):
        events, _ = _events(lane, path, mode)
        assert assert_same(events)[1] is None


def test_the_catalog_is_covered() -> None:
    assert all(any(p.parent.parent.name == "cassettes" for p in _files(lane))
               for lane in API_LANES.values())


def test_normalize_lines_is_write_lines_over_normalize(monkeypatch: pytest.MonkeyPatch) -> None:
    """A lane's `normalize_lines` writes its own `normalize`'s events, error included."""
    lane = API_LANES["anthropic"]
    data = (SHAPES / "anthropic" / "ruby_vcr_text_stream.http.yaml").read_bytes()
    slow = [dump_event_line(e) for e in lane.normalize(
        LaneInput(stream=io.BytesIO(data), name="c.yaml"), RunContext())]
    assert lane.normalize_lines is not None
    fast = list(lane.normalize_lines(LaneInput(stream=io.BytesIO(data), name="c.yaml"),
                                     RunContext()))
    assert fast == slow and any(b'"item.updated"' in line for line in fast)
    with pytest.raises(HarnessError):
        list(lane.normalize_lines(LaneInput(stream=io.BytesIO(b"interactions: [1]\n"),
                                            name="bad.yaml"), RunContext()))


def test_cli_normalize_uses_it(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                               monkeypatch: pytest.MonkeyPatch) -> None:
    lane = API_LANES["anthropic"]
    assert lane.normalize_lines is not None
    original = lane.normalize_lines
    calls: list[str] = []

    def counted(source: LaneInput, context: RunContext) -> Iterator[bytes]:
        calls.append(source.name)
        return original(source, context)

    monkeypatch.setattr("harness.cli.normalize.get_lane",
                        lambda _: dataclasses.replace(lane, normalize_lines=counted))
    path = SHAPES / "anthropic" / "ruby_vcr_text_stream.http.yaml"
    assert main(["normalize", "--lane", "anthropic", "--no-meta", str(path)]) == 0
    assert calls == [str(path)] and '"item.updated"' in capsys.readouterr().out


# ------------------------------------------------------------------------------ streamed items


@pytest.mark.parametrize("item", [
    AssistantMessage(id="i", status="in_progress", text="ab", native_id="n",
                     citations=[Citation(url="u")]),
    Reasoning(id="i", status="in_progress", text=""),
    Plan(id="i", status="in_progress", entries=[PlanEntry(text="x", status="pending")]),
], ids=["message", "reasoning", "plan without text"])
@pytest.mark.parametrize("text", ["abc", "", "データ \"\\\n", "\ud800"])
def test_with_text_is_model_copy(item: Item, text: str) -> None:
    """`with_text` makes what `model_copy(update={"text": ...})` makes: same type, fields,
    fields set; the item it copies is left as it was."""
    before = dump_event_line(LogBuilder("x").item("updated", item))
    made, copied = api_shell.with_text(item, text), item.model_copy(update={"text": text})
    assert type(made) is type(copied)
    assert made.__dict__ == copied.__dict__ and list(made.__dict__) == list(copied.__dict__)
    assert made.__pydantic_fields_set__ == copied.__pydantic_fields_set__
    assert made.__pydantic_extra__ == copied.__pydantic_extra__
    assert made.__pydantic_private__ == copied.__pydantic_private__
    assert made == copied and made is not item
    assert dump_event_line(LogBuilder("x").item("updated", item)) == before


@pytest.mark.parametrize(("field", "piece"), [("text", "a"), ("citations", '{"url": "u"}'),
                                              ("text", ""), ("text", "\ud800")])
def test_streamed_delta_is_a_validated_delta(field: str, piece: str) -> None:
    made, validated = api_shell.streamed_delta(field, piece), Delta(field=field, text=piece)
    assert type(made) is Delta and made == validated
    assert made.__pydantic_fields_set__ == validated.__pydantic_fields_set__


def test_streamed_delta_validates_what_is_no_string() -> None:
    with pytest.raises(ValueError):
        api_shell.streamed_delta("text", 5)  # type: ignore[arg-type]
