"""What `harness drift` says beside meaning: the native shape's and the protocol schema's changes.

Each check here fails when its comparison is loosened: a field that appears, a type that
vanishes, a changed value type, an enum value or union variant a new schema adds.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, cast

import pytest

from harness.cli.drift import _schema_changes
from harness.conformance.drift import (
    DriftReport,
    ScenarioDrift,
    compare,
    report_json,
    report_markdown,
)
from harness.conformance.nativeshape import file_shape, shape_difference
from harness.conformance.schemadiff import definitions, schema_difference
from tests.miniatures import fake_native_lane


def _jsonl(path: Path, *lines: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(x) + "\n" if not isinstance(x, str) else x + "\n"
                            for x in lines), encoding="utf-8")
    return path


def test_values_are_not_shape_but_fields_types_and_tags_are(tmp_path: Path) -> None:
    old = _jsonl(tmp_path / "old.jsonl",
                 {"type": "item.completed", "item": {"type": "command", "exit_code": 0}})
    same_shape = _jsonl(tmp_path / "same.jsonl",
                        {"type": "item.completed", "item": {"type": "command", "exit_code": 7}})
    new = _jsonl(tmp_path / "new.jsonl",
                 {"type": "item.completed", "item": {"type": "command", "exit_code": None,
                                                     "source": "agent"}},
                 {"type": "item.completed", "item": {"type": "hook", "exit_code": 0}})
    tags = ("type",)
    assert not shape_difference(file_shape(old, tags), file_shape(same_shape, tags))
    diff = shape_difference(file_shape(old, tags), file_shape(new, tags))
    assert diff.added == (
        "{type=item.completed}.item{type=command}.exit_code:null",
        "{type=item.completed}.item{type=command}.source:string",
        "{type=item.completed}.item{type=hook}.exit_code:number",
        "{type=item.completed}.item{type=hook}.type:string",
    )
    assert diff.vanished == ("{type=item.completed}.item{type=command}.exit_code:number",)
    assert diff.lines()[-1] == "- {type=item.completed}.item{type=command}.exit_code:number"


def test_only_declared_tags_label_objects_and_text_lines_count(tmp_path: Path) -> None:
    path = _jsonl(tmp_path / "a.jsonl", {"method": "x/y", "params": {"kind": "k"}}, "not json")
    shape = file_shape(path, ("method",))
    assert "{method=x/y}.params.kind:string" in shape
    assert "(text line)" in shape
    assert not any("kind=k" in p for p in shape)


def test_compare_reports_shape_with_the_meaning(tmp_path: Path) -> None:
    """Same meaning, new field: status `same` (exit code unchanged) and the field named."""
    line = {"type": "start", "generation": "1"}
    old = _jsonl(tmp_path / "catalog" / "demo" / "fake-native.jsonl", line)
    new = _jsonl(tmp_path / "new" / "demo" / "fake-native.jsonl", {**line, "extra": True})
    verdict = compare(fake_native_lane(), old, new)
    assert verdict.status == "same"
    assert verdict.shape.added == ("{type=start}.extra:bool",)
    report = DriftReport("fake", "0.0.2", "fake-native", (verdict,), schema_changes=("+ v2.X",))
    assert report.exit_code == 0
    md = report_markdown(report, "0.0.1")
    assert "+ {type=start}.extra:bool    [demo]" in md
    assert "## Protocol schema" in md and "+ v2.X" in md
    data = json.loads(report_json(report, "0.0.1"))
    assert data["scenarios"][0]["native_shape"] == {"added": ["{type=start}.extra:bool"],
                                                    "vanished": []}
    assert data["schema_changes"] == ["+ v2.X"]


def test_a_report_without_a_schema_says_nothing_about_one() -> None:
    report = DriftReport("fake", "0.0.2", "fake-native", (ScenarioDrift("demo", "same"),))
    md = report_markdown(report, "0.0.1")
    assert "## Protocol schema" not in md
    assert "No event type, item type or field appeared or vanished." in md
    assert json.loads(report_json(report, "0.0.1"))["schema_changes"] is None


SCHEMA_OLD: dict[str, Any] = {"definitions": {
    "Gone": {"type": "object"},
    "ClientRequest": {"oneOf": [
        {"properties": {"method": {"enum": ["a/b"]}, "params": {}}}]},
    "v2": {
        "ThreadItem": {"oneOf": [
            {"type": "object", "properties": {"type": {"enum": ["agentMessage"]},
                                              "text": {"type": "string"}}}]},
        "ErrorInfo": {"oneOf": [{"type": "string", "enum": ["a", "b"]},
                                {"type": "object", "required": ["http"],
                                 "properties": {"http": {}}}]},
        "Status": {"type": "string", "enum": ["ok", "failed"]},
    }}}


def _new_schema() -> dict[str, Any]:
    new: dict[str, Any] = json.loads(json.dumps(SCHEMA_OLD))
    defs = new["definitions"]
    del defs["Gone"]
    defs["v2"]["Added"] = {"type": "object"}
    defs["v2"]["ThreadItem"]["oneOf"][0]["properties"]["phase"] = {"enum": ["x"]}
    defs["v2"]["ThreadItem"]["oneOf"].append(
        {"type": "object", "properties": {"type": {"enum": ["hook"]}}})
    defs["v2"]["ErrorInfo"]["oneOf"][0]["enum"].append("c")
    defs["v2"]["Status"]["enum"].remove("failed")
    defs["ClientRequest"]["oneOf"].append({"properties": {"method": {"enum": ["c/d"]}}})
    return new


def test_schema_difference_names_definitions_fields_variants_and_enum_values() -> None:
    assert set(definitions(SCHEMA_OLD)) == {"Gone", "ClientRequest", "v2.ThreadItem",
                                            "v2.ErrorInfo", "v2.Status"}
    assert schema_difference(SCHEMA_OLD, _new_schema()) == [
        "+ v2.Added",
        "- Gone",
        "+ ClientRequest[method=c/d]",
        "+ ClientRequest[method=c/d].method",
        "+ v2.ErrorInfo enum c",
        "- v2.Status enum failed",
        "+ v2.ThreadItem[type=agentMessage].phase",
        "+ v2.ThreadItem[type=hook]",
        "+ v2.ThreadItem[type=hook].type",
    ]
    assert schema_difference(SCHEMA_OLD, SCHEMA_OLD) == []


def test_a_changed_enum_inside_a_variant_property_is_named() -> None:
    new = _new_schema()
    new["definitions"]["v2"]["ThreadItem"]["oneOf"][0]["properties"]["type"]["enum"] = [
        "agentMessage"]
    new["definitions"]["v2"]["ThreadItem"]["oneOf"][0]["properties"]["text"]["enum"] = ["t"]
    assert "+ v2.ThreadItem[type=agentMessage].text enum t" in schema_difference(SCHEMA_OLD, new)


class _SchemaDriver:
    def __init__(self, schema: dict[str, Any] | None) -> None:
        self.schema = schema

    def protocol_schema(self) -> dict[str, Any]:
        if self.schema is None:
            raise OSError("not installed")
        return self.schema


def test_drift_compares_schemas_only_for_runtimes_that_print_one(
        capsys: pytest.CaptureFixture[str]) -> None:
    changes = _schema_changes(cast(Any, _SchemaDriver(SCHEMA_OLD)),
                              cast(Any, _SchemaDriver(_new_schema())))
    assert changes is not None and "+ v2.Added" in changes
    assert _schema_changes(cast(Any, object()), cast(Any, object())) is None
    assert _schema_changes(cast(Any, _SchemaDriver(None)),
                           cast(Any, _SchemaDriver(SCHEMA_OLD))) is None
    assert "protocol schema not compared: not installed" in capsys.readouterr().err
