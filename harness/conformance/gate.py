"""The conformance gate: every lane x scenario cell checked, every lane pair compared.

A cell (one lane on one scenario) passes when its log is schema-valid, keeps the ordering rules,
equals its golden snapshot and matches the scenario's outline. A pair (two lanes on one scenario)
passes when their logs are equivalent; a pair that differs is a "known divergence" only when the
scenario's ledger (DIVERGENCES.md) explains it, and a ledger entry whose difference is gone fails,
so the ledger stays true. Cells run in worker processes; `shard` splits scenarios across CI jobs.
The gate holds only `LaneSpec`s and never names a provider.
"""

from __future__ import annotations

import itertools
import json
import os
import shlex
import subprocess
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.conformance.capabilities import capability_problems
from harness.conformance.divergences import read_ledger
from harness.conformance.equivalence import Strength, equivalent, first_divergence
from harness.conformance.outline import match_outline
from harness.conformance.results import CellResult, Check, GateResult, PairResult
from harness.contract.errors import HarnessError
from harness.contract.invariants import check_events
from harness.contract.lane import (
    LaneSpec,
    RunContext,
    available_lanes,
    get_lane,
    normalize_to_dicts,
)
from harness.contract.schema import validate_event
from harness.fsutil import atomic_write_text
from harness.record.secrets import scan_paths
from harness.scenario import Scenario, load_scenario, scenario_dirs


@dataclass
class GateOptions:
    cassettes: Path = Path("cassettes")
    golden: Path = Path("golden")
    lanes: list[str] | None = None
    scenarios: list[str] | None = None
    update_golden: bool = False
    impl: str | None = None
    shard: tuple[int, int] = (1, 1)
    jobs: int = 0
    lane_specs: dict[str, LaneSpec] | None = field(
        default=None, metadata={"doc": "lanes given directly (tests); evaluated in-process"})


# ------------------------------------------------------------------------------ selection


def parse_shard(text: str) -> tuple[int, int]:
    """`K/N` with 1 <= K <= N."""
    try:
        k, n = (int(part) for part in text.split("/"))
    except ValueError:
        raise HarnessError(f"shard must look like K/N, got {text!r}", source="--shard") from None
    if not 1 <= k <= n:
        raise HarnessError(f"shard {text!r}: need 1 <= K <= N", source="--shard")
    return k, n


def select_scenarios(options: GateOptions) -> list[Path]:
    dirs = scenario_dirs(options.cassettes)
    if options.scenarios:
        wanted = set(options.scenarios)
        missing = wanted - {d.name for d in dirs}
        if missing:
            raise HarnessError(f"no such scenario(s): {', '.join(sorted(missing))}",
                               source=str(options.cassettes))
        dirs = [d for d in dirs if d.name in wanted]
    k, n = options.shard
    return [d for index, d in enumerate(dirs) if index % n == k - 1]


def select_lanes(options: GateOptions) -> dict[str, LaneSpec]:
    lanes = options.lane_specs if options.lane_specs is not None else available_lanes()
    if options.lanes:
        unknown = set(options.lanes) - set(lanes)
        if unknown:
            raise HarnessError(f"unknown or unavailable lane(s): {', '.join(sorted(unknown))}",
                               source="--lane")
        lanes = {k: v for k, v in lanes.items() if k in options.lanes}
    return lanes


# ------------------------------------------------------------------------------ one cell


def strength_for(scenario_dir: Path) -> Strength:
    """Scripted recordings compare strictly; live recordings from real providers structurally."""
    for meta in scenario_dir.glob("*.meta.json"):
        try:
            if json.loads(meta.read_text()).get("live"):
                return "structural"
        except (OSError, ValueError):
            continue
    return "strict"


def run_context(scenario_dir: Path, native_file: str) -> RunContext:
    """The recorded run's context (cwd, sandbox, ...) from the meta file naming `native_file`.

    Native streams do not say everything about the run (Codex's JSONL has no cwd or sandbox);
    the recorder writes what the runtime really ran with into `<runtime>.meta.json`.
    """
    for meta_path in sorted(scenario_dir.glob("*.meta.json")):
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise HarnessError(f"unreadable meta file: {exc}", source=str(meta_path)) from None
        if native_file in meta.get("files", ()):
            try:
                return RunContext.model_validate(meta.get("context") or {})
            except ValueError as exc:
                raise HarnessError(f"bad context: {exc}", source=str(meta_path)) from None
    return RunContext()


def golden_path(options: GateOptions, scenario: str, lane: str) -> Path:
    return options.golden / scenario / f"{lane}.jsonl"


def render_jsonl(events: Sequence[dict[str, Any]]) -> str:
    return "".join(json.dumps(e, ensure_ascii=False, separators=(",", ":")) + "\n"
                   for e in events)


def normalize_external(command: str, lane: LaneSpec, native: Path) -> list[dict[str, Any]]:
    """Run an external implementation: `{lane}` and `{input}` substituted, JSONL on stdout."""
    argv = [part.replace("{lane}", lane.id).replace("{input}", str(native))
            for part in shlex.split(command)]
    done = subprocess.run(argv, capture_output=True, check=False, timeout=300)
    if done.returncode != 0:
        tail = done.stderr.decode(errors="replace").strip().splitlines()[-3:]
        raise HarnessError(f"external implementation exited {done.returncode}: "
                           + " | ".join(tail), source=argv[0])
    events: list[dict[str, Any]] = []
    for number, line in enumerate(done.stdout.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            events.append(json.loads(line))
        except ValueError:
            raise HarnessError("output line is not JSON", source=f"{argv[0]} stdout",
                               line=number) from None
    return events


def _schema_and_order(events: list[dict[str, Any]]) -> list[Check]:
    schema_errors = [f"event {i}: {err}" for i, e in enumerate(events)
                     for err in validate_event(e)]
    checks = [Check("schema", not schema_errors, "\n".join(schema_errors[:5]))]
    if not schema_errors:
        order = [f"event {v.index}: {v.rule}: {v.detail}" for v in check_events(events)]
        checks.append(Check("ordering", not order, "\n".join(order[:5])))
    return checks


def _golden_check(options: GateOptions, scenario: str, lane: str,
                  events: list[dict[str, Any]]) -> tuple[Check, bool]:
    path = golden_path(options, scenario, lane)
    if options.impl:
        return _golden_equivalence(path, events), False
    text = render_jsonl(events)
    current = path.read_text(encoding="utf-8") if path.exists() else None
    if current == text:
        return Check("golden", True), False
    if options.update_golden:
        atomic_write_text(path, text)
        return Check("golden", True, "updated"), True
    if current is None:
        return Check("golden", False, f"no golden file {path} (run with --update-golden)"), False
    old = tuple(current.splitlines())
    diff = first_divergence(old, tuple(text.splitlines()), (f"{path}", "this run"))
    return Check("golden", False, diff), False


def _golden_equivalence(path: Path, events: list[dict[str, Any]]) -> Check:
    """An external implementation mints its own ids: judge it by strict equivalence instead."""
    if not path.exists():
        return Check("golden", False, f"no golden file {path}")
    golden = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    verdict = equivalent(golden, events, "strict", labels=(str(path), "implementation"))
    return Check("golden", verdict.equivalent, verdict.diff)


def evaluate_cell(scenario_dir: Path, lane: LaneSpec, options: GateOptions
                  ) -> tuple[CellResult, bool]:
    """Run every per-cell check; returns the result and whether a golden file was rewritten."""
    started = time.perf_counter()
    scenario = load_scenario(scenario_dir / "scenario.yaml")
    native = scenario_dir / lane.native_file
    result = CellResult(scenario.name, lane.id, "pass")
    result.capability_gap = any(d.kind == "capability_gap" and lane.id in d.lanes
                                for d in read_ledger(scenario_dir))
    if not native.exists():
        result.status = "gap"
        result.reason = _gap_reason(scenario, lane)
        return result, False
    try:
        if options.impl:
            events = normalize_external(options.impl, lane, native)
        else:
            events = normalize_to_dicts(lane, native,
                                          run_context(scenario_dir, lane.native_file))
    except HarnessError as exc:
        result.status, result.reason = "error", str(exc)
        return result, False
    except Exception as exc:  # a crashing lane is that lane's bug: report it, judge the rest
        detail = " ".join(str(exc).split())[:400]
        result.status = "error"
        result.reason = f"lane crashed: {type(exc).__name__}: {detail}"
        return result, False
    result.events = events
    result.checks = _schema_and_order(events)
    golden, updated = _golden_check(options, scenario.name, lane.id, events)
    result.checks.append(golden)
    outline = match_outline(events, scenario.expect.for_lane(lane.id), lane.noise_tools)
    result.checks.append(Check("outline", not outline, "\n".join(outline)))
    result.status = "pass" if not result.failures else "fail"
    result.seconds = time.perf_counter() - started
    return result, updated


def _gap_reason(scenario: Scenario, lane: LaneSpec) -> str:
    for runtime, support in scenario.runtimes.items():
        if support.unsupported and lane.native_file.startswith(runtime):
            return f"unsupported on {runtime}: {support.unsupported}"
    return f"no recording ({lane.native_file}) for this scenario"


def _cell_job(args: tuple[Path, str, GateOptions]) -> tuple[CellResult, bool]:
    scenario_dir, lane_id, options = args
    specs = options.lane_specs
    lane = specs[lane_id] if specs is not None else get_lane(lane_id)
    return evaluate_cell(scenario_dir, lane, options)


# ------------------------------------------------------------------------------ pairs


def compare_pairs(scenario_dir: Path, cells: list[CellResult],
                  lanes: dict[str, LaneSpec]) -> list[PairResult]:
    """Pairwise equivalence of the scenario's lanes, judged against its divergence ledger."""
    ledger = read_ledger(scenario_dir)
    strength = strength_for(scenario_dir)
    with_logs = [c for c in cells if c.events]
    results: list[PairResult] = []
    used: set[str] = set()
    for a, b in itertools.combinations(sorted(with_logs, key=lambda c: c.lane), 2):
        la, lb = lanes[a.lane], lanes[b.lane]
        verdict = equivalent(
            a.events, b.events, strength,
            a_kinds=frozenset(la.item_kinds), b_kinds=frozenset(lb.item_kinds),
            a_noise_tools=la.noise_tools, b_noise_tools=lb.noise_tools,
            labels=(a.lane, b.lane),
        )
        entries = [d for d in ledger if d.covers(a.lane, b.lane)]
        pair = PairResult(a.scenario, (a.lane, b.lane), "pass", verdict.diff,
                          gaps=sorted(verdict.gaps))
        if not verdict.equivalent and entries:
            pair.status, pair.reason = "known", "; ".join(f"{d.id}: {d.reason}" for d in entries)
            used.update(d.id for d in entries)
        elif not verdict.equivalent:
            pair.status = "fail"
        elif entries and not all(d.kind == "capability_gap" for d in entries):
            pair.status = "stale"
            pair.reason = "ledger lists a divergence that no longer happens: " + ", ".join(
                d.id for d in entries)
        elif entries:  # equal logs do not make a missing capability equal: report the gap
            pair.status, pair.reason = "known", "; ".join(f"{d.id}: {d.reason}" for d in entries)
        results.append(pair)
    return results


# ------------------------------------------------------------------------------ the gate


def run_gate(options: GateOptions) -> GateResult:
    lanes = select_lanes(options)
    dirs = select_scenarios(options)
    scenarios = {d.name: load_scenario(d / "scenario.yaml") for d in dirs}
    jobs = [(d, lane_id, options) for d in dirs for lane_id in lanes]
    cells: list[CellResult] = []
    updated: list[str] = []
    workers = 1 if options.lane_specs is not None else options.jobs
    for result, was_updated in _map(jobs, workers):
        cells.append(result)
        if was_updated:
            updated.append(f"{result.scenario}/{result.lane}")
    pairs: list[PairResult] = []
    for d in dirs:
        pairs += compare_pairs(d, [c for c in cells if c.scenario == d.name], lanes)
    whole_catalog = options.shard == (1, 1) and not options.scenarios
    problems = capability_problems(lanes, cells, scenarios) if whole_catalog else []
    secrets = [str(f) for f in scan_paths([*dirs, *(options.golden / d.name for d in dirs)])]
    return GateResult(cells, pairs, lanes, scenarios, updated, problems, secrets)


def _map(jobs: list[tuple[Path, str, GateOptions]], workers: int
         ) -> Iterator[tuple[CellResult, bool]]:
    count = workers or min(len(jobs), os.cpu_count() or 1)
    if count <= 1 or len(jobs) <= 1:
        yield from map(_cell_job, jobs)
        return
    with ProcessPoolExecutor(max_workers=count) as pool:
        yield from pool.map(_cell_job, jobs, chunksize=max(1, len(jobs) // (count * 4)))
