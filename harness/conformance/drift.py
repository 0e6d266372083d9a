"""Version drift: record scenarios with another runtime version and compare its normalized log
with the catalog's, using the gate's field-by-field equivalence.

Review is about meaning: a release that only renames ids, changes timings or adds fields the
lane ignores shows no drift; a changed exit code, a missing item, a different turn outcome or
error kind is a semantic change. Recording happens in a scratch folder; the catalog is only read.

Beside meaning, the report names what changed on the wire (`nativeshape`: event and item types,
fields that appeared or vanished) and, for a runtime that prints a schema of its protocol, the
schema's difference between the two versions (`schemadiff`). Neither changes the exit code: a
new field no lane reads is news for the reviewer, not a semantic change.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from harness.conformance.equivalence import Difference, equivalent
from harness.conformance.nativeshape import ShapeDifference, file_shape, shape_difference
from harness.contract.errors import HarnessError
from harness.contract.lane import LaneSpec, get_lane, normalize_to_dicts
from harness.contract.runmeta import recorded_context
from harness.fsutil import atomic_write_text
from harness.record.recording import RecordResult, record_scenario
from harness.record.runtimes.base import RuntimeDriver

Status = Literal["same", "changed", "error", "skipped"]
Recorder = Callable[[RuntimeDriver, Path], RecordResult]

DEFAULT_SHAPE_TAGS = ("type",)
"""Tag keys for a driver that declares none (`shape_tags`): the usual JSON variant key."""


def shape_tags(driver: RuntimeDriver) -> tuple[str, ...]:
    """The keys naming a native object's variant in this runtime's stream (see nativeshape)."""
    tags: tuple[str, ...] = getattr(driver, "shape_tags", DEFAULT_SHAPE_TAGS)
    return tags


@dataclass(frozen=True)
class ScenarioDrift:
    """One scenario's verdict; `detail` is the diff, the error or the reason it was skipped."""

    scenario: str
    status: Status
    detail: str = ""
    differences: tuple[Difference, ...] = ()
    exit_codes: tuple[int, ...] = ()
    shape: ShapeDifference = field(default_factory=ShapeDifference)


@dataclass(frozen=True)
class DriftReport:
    runtime: str
    version: str
    lane: str
    scenarios: tuple[ScenarioDrift, ...] = field(default_factory=tuple)
    schema_changes: tuple[str, ...] | None = field(
        default=None, metadata={"doc": "the protocol schema's difference from the pinned "
                                       "version's; None: the runtime prints no schema"})

    @property
    def exit_code(self) -> int:
        """2 when a scenario could not be recorded or compared, or nothing was compared at all
        (every scenario skipped); else 1 on any semantic change."""
        statuses = {s.status for s in self.scenarios}
        if "error" in statuses or not statuses & {"same", "changed"}:
            return 2
        return 1 if "changed" in statuses else 0


def _record(driver: RuntimeDriver, folder: Path) -> RecordResult:
    return record_scenario(driver, folder, force=True, drift_lanes={})


def compare(lane: LaneSpec, catalog_native: Path, fresh_native: Path,
            tags: tuple[str, ...] = DEFAULT_SHAPE_TAGS) -> ScenarioDrift:
    """The catalog recording against the fresh one, both normalized with their recorded run
    context, compared strictly (every compared field, outputs included); plus the native
    shape's difference."""
    scenario = catalog_native.parent.name
    shape = shape_difference(file_shape(catalog_native, tags), file_shape(fresh_native, tags))
    try:
        old = normalize_to_dicts(lane, catalog_native, recorded_context(catalog_native))
        new = normalize_to_dicts(lane, fresh_native, recorded_context(fresh_native))
    except HarnessError as exc:
        return ScenarioDrift(scenario, "error", f"cannot normalize: {exc}", shape=shape)
    verdict = equivalent(old, new, "strict", labels=("catalog", "new"))
    if verdict.equivalent:
        return ScenarioDrift(scenario, "same", shape=shape)
    return ScenarioDrift(scenario, "changed", verdict.diff, verdict.differences, shape=shape)


def drift_scenario(driver: RuntimeDriver, lane: LaneSpec, catalog_dir: Path, scratch: Path,
                   recorder: Recorder = _record) -> ScenarioDrift:
    """Record `catalog_dir`'s scenario into `scratch/<name>/` and compare (see `compare`)."""
    name = catalog_dir.name
    catalog_native = catalog_dir / lane.native_file
    if not catalog_native.exists():
        return ScenarioDrift(name, "skipped", f"no {lane.native_file} in the catalog")
    target = scratch / name
    target.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(catalog_dir / "scenario.yaml", target / "scenario.yaml")
    try:
        result = recorder(driver, target)
    except HarnessError as exc:
        return ScenarioDrift(name, "error", f"recording failed: {exc}")
    if result.skipped:
        return ScenarioDrift(name, "skipped", result.skipped)
    if result.problems:
        return ScenarioDrift(name, "error", "stub problems: " + "; ".join(result.problems),
                             exit_codes=tuple(result.exit_codes))
    verdict = compare(lane, catalog_native, target / lane.native_file, shape_tags(driver))
    return ScenarioDrift(verdict.scenario, verdict.status, verdict.detail, verdict.differences,
                         tuple(result.exit_codes), verdict.shape)


def run_drift(driver: RuntimeDriver, scenario_dirs: Sequence[Path], scratch: Path, *,
              lanes: Mapping[str, LaneSpec] | None = None,
              recorder: Recorder = _record,
              progress: Callable[[ScenarioDrift], None] | None = None,
              schema_changes: tuple[str, ...] | None = None) -> DriftReport:
    """Every scenario in turn, with the driver's native lane."""
    lane = (lanes or {}).get(driver.native_lane) or get_lane(driver.native_lane)
    found: list[ScenarioDrift] = []
    for folder in scenario_dirs:
        verdict = drift_scenario(driver, lane, folder, scratch, recorder)
        found.append(verdict)
        if progress is not None:
            progress(verdict)
    return DriftReport(driver.name, driver.version, lane.id, tuple(found), schema_changes)


def shape_summary(report: DriftReport) -> list[tuple[str, list[str]]]:
    """Each changed native path with the scenarios that show it, added before vanished."""
    seen: dict[str, list[str]] = {}
    for s in report.scenarios:
        for line in s.shape.lines():
            seen.setdefault(line, []).append(s.scenario)
    return sorted(seen.items(), key=lambda kv: (kv[0][0] != "+", kv[0]))


def report_json(report: DriftReport, pinned: str) -> str:
    data = {
        "runtime": report.runtime, "version": report.version, "pinned": pinned,
        "lane": report.lane, "exit_code": report.exit_code,
        "scenarios": [{"scenario": s.scenario, "status": s.status, "detail": s.detail,
                       "exit_codes": list(s.exit_codes),
                       "differences": [{"check": d.check, "where": d.where, "detail": d.detail}
                                       for d in s.differences],
                       "native_shape": {"added": list(s.shape.added),
                                        "vanished": list(s.shape.vanished)}}
                      for s in report.scenarios],
        "schema_changes": (None if report.schema_changes is None
                           else list(report.schema_changes)),
    }
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def report_markdown(report: DriftReport, pinned: str) -> str:
    verdict = {0: "no semantic change", 1: "semantic changes", 2: "errors"}[report.exit_code]
    lines = [f"# Drift: {report.runtime}@{report.version} against the catalog "
             f"({report.runtime}@{pinned})", "",
             f"Lane `{report.lane}`; verdict: **{verdict}**.", "",
             "| scenario | status | checks |", "|---|---|---|"]
    for s in report.scenarios:
        checks = ", ".join(sorted({d.check for d in s.differences})) or "-"
        lines.append(f"| {s.scenario} | {s.status} | {checks} |")
    for s in report.scenarios:
        if s.status in {"changed", "error"} and s.detail:
            lines += ["", f"## {s.scenario} ({s.status})", "", "```", s.detail.strip(), "```"]
    lines += _shape_section(report) + _schema_section(report)
    return "\n".join(lines) + "\n"


def _shape_section(report: DriftReport) -> list[str]:
    summary = shape_summary(report)
    lines = ["", "## Native shape", ""]
    if not summary:
        return [*lines, "No event type, item type or field appeared or vanished."]
    lines += ["Paths (`+` only in the new recordings, `-` only in the catalog's), with the "
              "scenarios that show them:", "", "```"]
    for path, scenarios in summary:
        shown = ", ".join(scenarios[:4]) + (f" (+{len(scenarios) - 4})" if len(scenarios) > 4
                                             else "")
        lines.append(f"{path}    [{shown}]")
    return [*lines, "```"]


def _schema_section(report: DriftReport) -> list[str]:
    if report.schema_changes is None:
        return []
    lines = ["", "## Protocol schema", ""]
    if not report.schema_changes:
        return [*lines, "The runtime's protocol schema is the same as the pinned version's."]
    return [*lines, "```", *report.schema_changes, "```"]


def write_reports(report: DriftReport, pinned: str, folder: Path) -> tuple[Path, Path]:
    """`drift.md` and `drift.json` in `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    md, js = folder / "drift.md", folder / "drift.json"
    atomic_write_text(md, report_markdown(report, pinned))
    atomic_write_text(js, report_json(report, pinned))
    return md, js
