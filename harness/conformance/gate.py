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
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.conformance.capabilities import capability_problems
from harness.conformance.divergences import Divergence, Excuse, read_ledger
from harness.conformance.equivalence import (
    Difference,
    Fact,
    Lens,
    Strength,
    Verdict,
    compare_projections,
    equivalent,
    first_divergence,
    kind_gaps,
    project,
)
from harness.conformance.outline import match_capabilities, match_outline, scripted_texts
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
from harness.contract.runmeta import recorded_context
from harness.contract.schema import validate_event
from harness.fsutil import atomic_write_text
from harness.record.secrets import Finding, scan_paths
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
    return recorded_context(scenario_dir / native_file)


def golden_path(options: GateOptions, scenario: str, lane: str) -> Path:
    return options.golden / scenario / f"{lane}.jsonl"


def render_jsonl(events: Sequence[dict[str, Any]]) -> str:
    return "".join(json.dumps(e, ensure_ascii=False, separators=(",", ":")) + "\n"
                   for e in events)


def normalize_external(command: str, lane: LaneSpec, native: Path,
                       context: RunContext | None = None) -> list[dict[str, Any]]:
    """Run an external implementation: `{lane}`, `{input}` and `{context}` (a JSON file holding
    the recorded run context: cwd, sandbox, approval policy, auth mode, model, runtime version,
    resumed_from) substituted; JSONL on stdout. It is judged exactly like a lane."""
    with tempfile.TemporaryDirectory(prefix="harness-impl-") as scratch:
        context_file = Path(scratch) / "context.json"
        context_file.write_text((context or RunContext()).model_dump_json(), encoding="utf-8")
        argv = [part.replace("{lane}", lane.id).replace("{input}", str(native))
                .replace("{context}", str(context_file)) for part in shlex.split(command)]
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
        order = [f"order.{v.rule}: event {v.index}: {v.detail}" for v in check_events(events)]
        checks += _by_check_id("order", order)
    return checks


def _by_check_id(family: str, problems: list[str]) -> list[Check]:
    """Problems that start with their check id (`outline.text: ...`) as one failed Check per
    id, or one passing Check named `family` when there is none."""
    if not problems:
        return [Check(family, True)]
    grouped: dict[str, list[str]] = {}
    for problem in problems:
        check_id = problem.split(":", 1)[0]
        grouped.setdefault(check_id if check_id.startswith(family + ".") else family,
                           []).append(problem)
    return [Check(check_id, False, "\n".join(lines[:5])) for check_id, lines in grouped.items()]


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
    scenario = _cached(load_scenario, scenario_dir / "scenario.yaml")
    native = scenario_dir / lane.native_file
    result = CellResult(scenario.name, lane.id, "pass")
    result.capability_gap = any(d.kind == "capability_gap" and lane.id in d.lanes
                                for d in _cached(read_ledger, scenario_dir))
    if not native.exists():
        result.status = "gap"
        result.reason = _gap_reason(scenario, lane)
        return result, False
    try:
        if options.impl:
            events = normalize_external(options.impl, lane, native,
                                        run_context(scenario_dir, lane.native_file))
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
    outline = match_outline(events, scenario.expect.for_lane(lane.id),
                            texts=scripted_texts(scenario), lens=lens_of(lane))
    outline += match_capabilities(events, scenario, "control_plane" in lane.capabilities)
    result.checks += _by_check_id("outline", outline)
    result.status = "pass" if not result.failures else "fail"
    result.seconds = time.perf_counter() - started
    return result, updated


def _gap_reason(scenario: Scenario, lane: LaneSpec) -> str:
    for runtime, support in scenario.runtimes.items():
        if support.unsupported and lane.native_file.startswith(runtime):
            return f"unsupported on {runtime}: {support.unsupported}"
    return f"no recording ({lane.native_file}) for this scenario"


_READ: dict[tuple[Any, Path], tuple[tuple[int, int] | None, Any]] = {}
"""Scenario files and ledgers read in this process, by path and (mtime, size): a worker
evaluates every lane of a scenario, and parsing the same YAML again for each cost a tenth of the
gate."""


def _cached(read: Callable[[Path], Any], path: Path) -> Any:
    """`read(path)`, read again only when the file (or folder) changed."""
    try:
        info = path.stat()
        stamp: tuple[int, int] | None = (info.st_mtime_ns, info.st_size)
    except OSError:
        stamp = None
    known = _READ.get((read, path))
    if known is None or stamp is None or known[0] != stamp:
        known = _READ[(read, path)] = (stamp, read(path))
    return known[1]


_LANES: dict[str, LaneSpec] = {}


def _lane(lane_id: str) -> LaneSpec:
    """`get_lane` once per process: it scans the installed entry points (~10 ms) on each call."""
    if lane_id not in _LANES:
        _LANES[lane_id] = get_lane(lane_id)
    return _LANES[lane_id]


def _cell_job(args: tuple[Path, str, GateOptions]) -> tuple[CellResult, bool]:
    scenario_dir, lane_id, options = args
    specs = options.lane_specs
    lane = specs[lane_id] if specs is not None else _lane(lane_id)
    return evaluate_cell(scenario_dir, lane, options)


# ------------------------------------------------------------------------------ pairs


def lens_of(lane: LaneSpec) -> Lens:
    """How the pair comparison reads one lane's log: its plumbing tools and output rules."""
    return Lens(noise_tools=lane.noise_tools, output_rules=lane.output_rules)


def compare_pairs(scenario_dir: Path, cells: list[CellResult], lanes: dict[str, LaneSpec],
                  *, every_lane: bool = True) -> tuple[list[PairResult], list[str]]:
    """Pairwise equivalence of the scenario's lanes under its divergence ledger, and the ledger
    entries that excuse nothing (stale). Every pair is compared on every field; an entry masks
    only what it names, and only for the pairs it covers. `every_lane`: all lanes ran, so an
    entry that covers no pair at all is stale too."""
    ledger = read_ledger(scenario_dir)
    strength = strength_for(scenario_dir)
    with_logs = sorted((c for c in cells if c.events), key=lambda c: c.lane)
    facts = {c.lane: project(c.events, lens_of(lanes[c.lane])) for c in with_logs}
    pairs = [(a.lane, b.lane) for a, b in itertools.combinations(with_logs, 2)]

    def judge(pair: tuple[str, str], entries: list[Divergence]) -> Verdict:
        a, b = pair
        masks = [m for d in entries if d.covers(a, b) for m in d.masks()]
        gaps = kind_gaps(frozenset(lanes[a].item_kinds), frozenset(lanes[b].item_kinds))
        verdict = compare_projections(facts[a], facts[b], strength, gaps, masks, labels=pair)
        pinned = pinned_differences(pair, entries, facts)
        if not pinned:
            return verdict
        return Verdict(False, "\n".join([*filter(None, [verdict.diff]), *map(str, pinned)]),
                       verdict.gaps, (*verdict.differences, *pinned), verdict.masks_used)

    stale, active = _stale_entries(ledger, pairs, judge, every_lane)
    results: list[PairResult] = []
    for pair in pairs:
        started = time.perf_counter()
        verdict = judge(pair, active)
        gaps_named = [d.id for d in ledger if d.capabilities and d.covers(*pair)]
        used = sorted({*verdict.masks_used, *gaps_named})
        result = PairResult(scenario_dir.name, pair, "pass", verdict.diff,
                            gaps=sorted(verdict.gaps), masks=used,
                            checks=sorted({d.check for d in verdict.differences}),
                            seconds=time.perf_counter() - started)
        if not verdict.equivalent:
            result.status = "fail"
        elif used:
            entries = {d.id: d for d in ledger}
            result.status = "masked"
            result.reason = "; ".join(f"{m}: {entries[m].reason}" if m in entries else m
                                      for m in used)
        results.append(result)
    return results, [f"{scenario_dir.name}: {message}" for message in stale]


def pinned_differences(pair: tuple[str, str], entries: list[Divergence],
                       facts: dict[str, list[Fact]]) -> list[Difference]:
    """Where an excuse states what its lanes show in the field it masks (`shows`), each lane of
    the pair it excuses must show exactly that (`ledger.shows`): a mask for what a runtime
    cannot send never hides a value the lane made up."""
    found: list[Difference] = []
    for entry in entries:
        if not entry.covers(*pair):
            continue
        for excuse in entry.excuses:
            mask = excuse.mask(entry.id)
            if not excuse.pins or mask is None or mask.field is None:
                continue
            for lane in (lane for lane in pair if lane in entry.lanes):
                found += [Difference("ledger.shows", f"{lane} {fact.where}",
                                     f"{entry.id} says {lane} shows {excuse.field} = "
                                     f"{excuse.shows!r}, it shows {fact.fields.get(mask.field)!r}")
                          for fact in facts[lane] if mask.selects(fact)
                          and fact.fields.get(mask.field) != excuse.shows]
    return found


def _stale_entries(ledger: list[Divergence], pairs: list[tuple[str, str]],
                   judge: Callable[[tuple[str, str], list[Divergence]], Verdict],
                   every_lane: bool) -> tuple[list[str], list[Divergence]]:
    """Excuses that change no verdict, tried one at a time from the end of the ledger (so of two
    excuses doing the same work the later one is stale), and the ledger as it stays active.
    Each excuse of an entry must earn its place for every pair it covers, not only the entry
    as a whole: an excuse idle for some covered pair excuses more than it names."""
    active = list(ledger)
    stale: list[str] = []
    for position, entry in reversed(list(enumerate(ledger))):
        covered = [p for p in pairs if entry.covers(*p)]
        for index, excuse in enumerate(entry.excuses):
            if excuse.capability:
                continue
            label = f"{entry.id} (excuse {index + 1}: {excuse.describe()})"
            if not covered:
                if every_lane:
                    stale.append(f"{label}: covers no pair of lanes with a log here")
                continue
            current = active[position]
            without = entry_without(current, excuse)
            trial = [*active[:position], without, *active[position + 1:]]
            idle = [p for p in covered
                    if judge(p, active).differences == judge(p, trial).differences]
            if len(idle) == len(covered):
                stale.append(f"{label}: excuses nothing (every pair it covers compares the "
                             "same without it)")
                active = trial
            elif idle:
                pairs_text = ", ".join(f"{a}~{b}" for a, b in idle)
                stale.append(f"{label}: excuses nothing for {pairs_text} (narrow lanes/versus "
                             "so it covers only pairs it explains)")
    return stale, active


def entry_without(entry: Divergence, excuse: Excuse) -> Divergence:
    """The entry with one excuse taken out (it may be left with none)."""
    kept = [e for e in entry.excuses if e is not excuse]
    return entry.model_construct(**{**dict(entry), "excuses": kept})


# ------------------------------------------------------------------------------ the gate


Progress = Callable[[int, int, str], None]
"""Called as `(done, total, what)` while the gate works (the CLI's progress bar)."""


def run_gate(options: GateOptions, progress: Progress | None = None) -> GateResult:
    lanes = select_lanes(options)
    dirs = select_scenarios(options)
    scenarios = {d.name: load_scenario(d / "scenario.yaml") for d in dirs}
    jobs = [(d, lane_id, options) for d in dirs for lane_id in lanes]
    cells: list[CellResult] = []
    updated: list[str] = []
    workers = 1 if options.lane_specs is not None else options.jobs
    if progress is not None:
        progress(0, len(jobs), "")
    scanned = [*dirs, *(options.golden / d.name for d in dirs)]
    with _pool(jobs, workers) as pool:
        # the secret scan, one folder a task, runs beside the cells (it was a serial tail)
        scans = [pool.submit(scan_paths, [p]) for p in scanned] if pool is not None else []
        for result, was_updated in _map(jobs, pool):
            cells.append(result)
            if progress is not None:
                progress(len(cells), len(jobs), f"{result.scenario} / {result.lane}")
            if was_updated:
                updated.append(f"{result.scenario}/{result.lane}")
        findings = _findings(scans) if pool is not None else scan_paths(scanned)
    pairs: list[PairResult] = []
    stale: list[str] = []
    for d in dirs:
        found, stale_here = compare_pairs(d, [c for c in cells if c.scenario == d.name], lanes,
                                          every_lane=not options.lanes)
        pairs += found
        stale += stale_here
    whole_catalog = options.shard == (1, 1) and not options.scenarios
    problems = capability_problems(lanes, cells, scenarios) if whole_catalog else []
    secrets = [str(f) for f in findings]
    return GateResult(cells, pairs, lanes, scenarios, updated, problems, secrets, stale)


@contextmanager
def _pool(jobs: list[tuple[Path, str, GateOptions]], workers: int
          ) -> Iterator[Executor | None]:
    """Worker processes for the cells (None: run them here, one by one)."""
    count = workers or min(len(jobs), os.cpu_count() or 1)
    if count <= 1 or len(jobs) <= 1:
        yield None
        return
    with ProcessPoolExecutor(max_workers=count) as pool:
        yield pool


def _map(jobs: list[tuple[Path, str, GateOptions]], pool: Executor | None
         ) -> Iterator[tuple[CellResult, bool]]:
    if pool is None:
        yield from map(_cell_job, jobs)
        return
    # small chunks: cells differ in cost tenfold (SDK replays), so big ones left a worker idle
    yield from pool.map(_cell_job, jobs, chunksize=2)


def _findings(scans: list[Future[list[Finding]]]) -> list[Finding]:
    """The scans' findings in the order the folders were given."""
    return [finding for scan in scans for finding in scan.result()]
