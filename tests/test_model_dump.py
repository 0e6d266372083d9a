"""The fast normalize path: `dump_event` writes exactly the bytes `model_dump_json` does, and the
CLI imports only the subcommand it runs.

Goldens are compared byte for byte, so the serializer is a contract: field order, unicode
escaping, float formatting, non-finite floats, big ints (beyond 64 bits orjson refuses them and
pydantic's serializer takes over) and values that are not JSON at all (also pydantic's) must all
come out as they did before the fast path existed. The CLI lists every subcommand from a table
(`harness.cli.COMMANDS`) that must stay equal to the modules' own registration.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import enum
import importlib
import pkgutil
import subprocess
import sys
import types
import typing
import uuid
from pathlib import Path
from typing import Any

import pytest
from annotated_types import Ge
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel

import harness.cli
from harness.cli import COMMANDS, build_parser, chosen_command
from harness.contract import model
from harness.contract.builder import ITEM_TYPES, LogBuilder
from harness.contract.model import dump_event, dump_event_line, load_event

ROOT = Path(__file__).resolve().parents[1]
EVENT_MODELS: tuple[type[BaseModel], ...] = tuple(typing.get_args(typing.get_args(model.Event)[0]))


def _models_reachable() -> set[type[BaseModel]]:
    """Every model class an event can hold, found by walking field annotations."""
    seen: set[type[BaseModel]] = set()

    def walk(annotation: Any) -> None:
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            if annotation not in seen:
                seen.add(annotation)
                for field in annotation.model_fields.values():
                    walk(field.annotation)
            return
        for arg in typing.get_args(annotation):
            walk(arg)

    for event_model in EVENT_MODELS:
        walk(event_model)
    return seen


# ------------------------------------------------------------------------------- strategies


class Colour(enum.Enum):
    RED = "red"


@dataclasses.dataclass
class Point:
    x: int
    y: float


_scalars = st.one_of(
    st.none(), st.booleans(),
    st.integers(),
    st.integers(min_value=2**63 - 2, max_value=2**64 + 2),  # the 64-bit edges orjson knows
    st.integers(min_value=-(2**200), max_value=2**200),  # beyond 64 bits: pydantic's job
    st.floats(),  # nan and infinities included
    st.text(st.characters(exclude_categories=())),  # lone surrogates and controls included
)
_json = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner,
                                                                max_size=3),
    max_leaves=12,
)
_not_json = st.one_of(
    st.tuples(_scalars, _scalars),
    st.dictionaries(st.integers(), _scalars, max_size=2),  # non-string keys
    st.frozensets(st.integers(), max_size=3),
    st.text(max_size=5).map(str.encode),
    st.just(Colour.RED), st.uuids(), st.datetimes(), st.dates(),
    st.builds(Point, st.integers(), st.floats()),
    st.builds(model.Runtime, name=st.text(max_size=5)),  # one of our models, nested in `Any`
)
_any = st.recursive(
    _scalars | _not_json,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner,
                                                                max_size=3),
    max_leaves=12,
)


def _for(annotation: Any, metadata: list[Any]) -> st.SearchStrategy[Any]:
    """A strategy for one field's annotation (what the model's validator accepts)."""
    if annotation is Any:
        return _any
    if annotation is type(None):
        return st.none()
    if annotation is str:
        return st.text(st.characters(exclude_categories=()), max_size=20)
    if annotation is bool:
        return st.booleans()
    if annotation is int:
        floor = next((m.ge for m in metadata if isinstance(m, Ge)), None)
        return st.integers(min_value=floor) | st.integers(min_value=2**63, max_value=2**90)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return models(annotation)
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is typing.Literal:
        return st.sampled_from(args)
    if origin in (typing.Union, types.UnionType):
        return st.one_of([_for(arg, metadata) for arg in args])
    if origin is list:
        return st.lists(_for(args[0], []), max_size=3)
    raise AssertionError(f"no strategy for {annotation!r}")  # a new field type: add it here


def models(cls: type[BaseModel]) -> st.SearchStrategy[Any]:
    """Validated instances of `cls`, every field drawn (defaults too, so all values occur)."""
    fields = {name: _for(f.annotation, f.metadata) for name, f in cls.model_fields.items()}
    return st.fixed_dictionaries(fields).map(lambda kwargs: cls(**kwargs))


events = st.one_of([models(m) for m in EVENT_MODELS])


def _reference(event: BaseModel) -> bytes:
    return event.model_dump_json().encode()


def _assert_same_bytes(event: Any) -> None:
    """dump_event and dump_event_line write the reference's bytes, or refuse as it refuses."""
    try:
        expected = _reference(event)
    except Exception as exc:  # the same refusal is the property
        with pytest.raises(type(exc)):
            dump_event(event)
        with pytest.raises(type(exc)):
            dump_event_line(event)
        return
    assert dump_event(event) == expected
    assert dump_event_line(event) == expected + b"\n"


# ------------------------------------------------------------------------------- properties


@given(events)
def test_dump_event_is_byte_identical_to_model_dump_json(event: Any) -> None:
    """Invariant: for every event the model accepts, dump_event(e) == model_dump_json(e)
    encoded, and dump_event_line adds exactly one newline; whatever the reference refuses
    to serialize, the fast path refuses too."""
    _assert_same_bytes(event)


@given(events, st.sampled_from(["in_progress", "completed", "failed", "declined"]))
def test_copied_and_constructed_models_dump_identically(event: Any, status: str) -> None:
    """Invariant: models made without validation (`model_copy(update=...)` as the builder
    closes items, `model_construct`) keep field order, so the bytes still match."""
    copies = [event.model_construct(**dict(event)), event.model_copy(update={"seq": 7})]
    item = getattr(event, "item", None)
    if item is not None:
        copies.append(event.model_copy(update={"item": item.model_copy(update={"status": status})}))
    for copy in copies:
        _assert_same_bytes(copy)


# ------------------------------------------------------------------------------- fixed cases


@pytest.mark.parametrize("payload", [
    2**64 - 1, 2**64, -(2**63), -(2**63) - 1, 10**30, float("inf"), float("nan"), 1e16, 1e-7,
    -0.0, "\ud800", "\x00\x1f\x7f\u2028é𝄞\"\\/", {1: "x"}, (1, 2), b"ok", Colour.RED,
    uuid.UUID(int=1), dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC), Point(1, 2.5),
    {"deep": [[[[{"a": None}]]]]},
])
def test_edge_values_in_an_unknown_payload(payload: Any) -> None:
    """The values where orjson and pydantic could differ, each pinned once: identical bytes
    (a lone surrogate: the same refusal)."""
    item = model.UnknownItem(id="item_0", status="completed", native_type="x", payload=payload)
    event = model.ItemCompleted(seq=0, lane="test", thread_id=None, turn=0, item=item)
    _assert_same_bytes(event)


def test_no_model_renames_excludes_or_computes_a_field() -> None:
    """The fast path writes `__dict__`, which is right only while every field is written under
    its own name, in declaration order, with no serializer of its own."""
    reachable = _models_reachable()
    assert model.Runtime in reachable and model.Delta in reachable
    for cls in reachable:
        assert not cls.model_computed_fields, cls
        decorators = cls.__pydantic_decorators__
        assert not decorators.field_serializers and not decorators.model_serializers, cls
        for name, field in cls.model_fields.items():
            assert field.alias in (None, name) and field.serialization_alias in (None, name)
            assert not field.exclude, (cls, name)


def test_every_golden_line_dumps_back_to_itself() -> None:
    """Every shipped golden line, parsed and dumped again, is the same bytes (real logs of every
    lane, not only drawn ones)."""
    goldens = sorted((ROOT / "golden").rglob("*.jsonl"))
    assert goldens
    lines = 0
    for path in goldens:
        for line in path.read_bytes().splitlines():
            if line.strip():
                assert dump_event(load_event(line)) == line, f"{path}:{lines}"
                lines += 1
    assert lines > 100


# ------------------------------------------------------------------------- builder item events


@given(st.lists(st.tuples(st.sampled_from(["started", "updated", "completed"]),
                          st.one_of([models(m) for m in ITEM_TYPES]),
                          st.none() | models(model.Delta)), max_size=6),
       st.none() | st.text(max_size=5))
def test_builder_item_events_equal_validated_ones(
        calls: list[tuple[Any, Any, Any]], thread_id: str | None) -> None:
    """Invariant: the item events the builder makes without validating (`trusted`) equal, field
    for field and in `model_fields_set`, the events pydantic validates from the same values,
    and dump to the same bytes."""
    builder = LogBuilder("prop")
    builder.thread_id, builder.turn = thread_id, 3
    for phase, item, delta in calls:
        event: Any = builder.item(phase, item, delta if phase == "updated" else None)
        values = {"seq": event.seq, "lane": "prop", "thread_id": thread_id, "turn": 3,
                  "item": item}
        if phase == "updated":
            values["delta"] = delta
        validated = type(event)(**values)
        assert event == validated
        assert event.model_fields_set == validated.model_fields_set
        assert list(event.__dict__) == list(validated.__dict__)
        _assert_same_bytes(event)


def test_builder_validates_an_item_that_is_not_a_model() -> None:
    """Only model instances skip validation: an item given as a dict takes the validating path
    (coerced when valid, refused when not), never the unvalidated one."""
    builder = LogBuilder("prop")
    builder.turn = 0
    event: Any = builder.item("started", {"id": "i", "status": "in_progress",  # type: ignore[arg-type]
                                          "kind": "web_search", "query": "q"})
    assert isinstance(event.item, model.WebSearch)
    with pytest.raises(ValueError, match="status"):
        builder.item("completed", {"id": "i", "status": "bogus", "kind": "web_search",  # type: ignore[arg-type]
                                   "query": "q"})


# ------------------------------------------------------------------------------- CLI start-up


class _RecordingSubparsers:
    """Stands in for argparse's subparsers action: records what a module registers."""

    def __init__(self) -> None:
        self.registered: dict[str, str | None] = {}

    def add_parser(self, name: str, **kwargs: Any) -> argparse.ArgumentParser:
        self.registered[name] = kwargs.get("help")
        return argparse.ArgumentParser(prog=name)


def test_command_table_matches_the_modules_and_their_help() -> None:
    """`COMMANDS` is what `harness --help` shows without importing anything: it must name every
    module in harness.cli, each with the help line its `register()` gives."""
    names = sorted(info.name for info in pkgutil.iter_modules(harness.cli.__path__))
    assert list(COMMANDS) == names
    for name in names:
        recorder = _RecordingSubparsers()
        importlib.import_module(f"harness.cli.{name}").register(recorder)
        assert recorder.registered == {name: COMMANDS[name]}


def test_top_level_help_lists_every_command() -> None:
    help_text = build_parser().format_help()
    for name, help_line in COMMANDS.items():
        assert name in help_text and help_line.split()[0] in help_text


def test_chosen_command_is_the_first_non_option() -> None:
    assert chosen_command(["normalize", "--lane", "x", "-"]) == "normalize"
    assert chosen_command(["-h"]) is None
    assert chosen_command(["-h", "check"]) == "check"
    assert chosen_command([]) is None


def test_normalize_imports_no_other_subcommand() -> None:
    """Start-up: `harness normalize` loads its own module only (not the gate, SDKs, recorder)."""
    probe = ("import sys; from harness.cli import build_parser; build_parser('normalize'); "
             "print(' '.join(sorted(m for m in sys.modules if m.startswith('harness.'))))")
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, check=True,
                            cwd=ROOT, text=True).stdout.split()
    assert "harness.cli.normalize" in loaded
    assert not [m for m in loaded if m.startswith("harness.cli.") and
                m != "harness.cli.normalize"]
    assert "harness.conformance.gate" not in loaded


@pytest.mark.parametrize("depth", [199, 200, 201, 300, 1000])
def test_free_json_nested_past_the_writers_limits_is_kept_as_its_text(depth: int) -> None:
    """Tool arguments, results and unknown payloads are written whatever their depth: up to
    MAX_PAYLOAD_DEPTH as structure, deeper as their compact JSON text (the JSON writers refuse
    ~256 levels, and a line that cannot be written would lose the whole event)."""
    import json  # noqa: PLC0415

    from harness.contract.model import (  # noqa: PLC0415
        MAX_PAYLOAD_DEPTH,
        ItemCompleted,
        ToolCall,
        UnknownItem,
        dump_event,
    )

    value: object = "leaf"
    for _ in range(depth):
        value = [value]
    for item in (UnknownItem(id="u", status="completed", native_type="x", payload=value),
                 ToolCall(id="t", status="completed", name="n", arguments=value, result=value)):
        line = dump_event(ItemCompleted(seq=0, lane="x", thread_id=None, turn=0, item=item))
        kept = json.loads(line)["item"]
        field = kept.get("payload", kept.get("arguments"))
        if depth <= MAX_PAYLOAD_DEPTH:
            assert field == value
        else:
            assert field == "[" * depth + '"leaf"' + "]" * depth
