"""The API lanes and the gate in `benchmarks/run.py` (issue 17 items 2-4; not timed tests).

API lanes (codex-adapter, anthropic, gemini) replay a vcrpy cassette through the provider's SDK.
Each is measured on its own generated ~50 MB cassette (`generate.py`) against:

- the bare parse: orjson over every SSE `data:` line of the file (what `run.py` has always
  used for codex-adapter);
- the floor: reading the cassette as the lane must (`iter_http_cassette`: libyaml, interaction
  by interaction, every field checked) and parsing every SSE `data:` line with orjson, with no
  SDK, no normalizing and no output. No lane that replays the cassette can be faster;
- the SDK floor (`python benchmarks/api.py sdk-floor LANE FILE`, a process of its own like the
  CLI): the cassette replayed exactly as the lane replays it (`vcr_stream`, the SDK client the
  lane builds, the streaming call the lane makes, the body split as the lane splits it, the
  lane's one patch inside the openai SDK), every SDK event iterated and dropped: no
  translation, no output. Issue 17 keeps the SDKs on the replay path, so no lane can beat it.

The lane's own CPU time splits into: start-up (interpreter, harness and SDK imports:
`api.py import LANE`), the SDK floor after start-up, the lane's replay glue and translation
(`api.py events LANE FILE`: the lane's `normalize`, every event made and dropped, over the SDK
floor) and writing the log (`harness normalize` over `events`). The lanes' logs are far larger
than their input (every `item.updated` carries the text so far), so the output volume is
reported beside the rates.
"""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import generate
import orjson

from harness.contract.lane import LaneInput, RunContext, get_lane
from harness.record.cassette import iter_http_cassette
from harness.record.replay import vcr_stream
from lanes.api_shell import sdk_kwargs

API_CASSETTES: dict[str, tuple[str, Callable[..., int]]] = {
    "codex-adapter": ("responses", generate.responses_cassette),
    "anthropic": ("messages", generate.messages_cassette),
    "gemini": ("gemini", generate.gemini_cassette),
}
"""API lane -> (file stem, generator) of its cassette (issue 17: >= 20 MB/s, peak RSS < 150 MB
on 50 MB)."""

TRANSCRIPT_LANES = ("codex-app-server", "acp")
"""JSON-RPC transcript lanes: no generator for their input yet (`TRANSCRIPT_HOOK`)."""


def transcript_hook(lane: str, size_mb: float) -> Path | None:
    """TRANSCRIPT_HOOK: the generated input of a JSON-RPC transcript lane, when a generator
    exists (none yet: such a stream must keep the protocol's request ids and thread state
    consistent, which repeating the catalog's transcripts does not). None skips the lane."""
    return None


def cassette(data: Path, lane: str, size_mb: float,
             ensure: Callable[[Path, Callable[[Path], object]], Path]) -> Path:
    stem, make = API_CASSETTES[lane]
    return ensure(data / f"{stem}-{size_mb:g}mb.yaml", lambda p: make(p, size_mb))


def floor(path: Path) -> int:
    """Read the cassette as a lane must and parse every SSE data line; the count of lines."""
    count = 0
    for interaction, _ in iter_http_cassette(path):
        for line in interaction.response.body.splitlines():
            if line.startswith(b"data:"):
                orjson.loads(line[5:])
                count += 1
    return count


# ------------------------------------------------------------------------------ SDK floor

LANE_MODULES = {"codex-adapter": "lanes.codex_adapter", "anthropic": "lanes.anthropic",
                "gemini": "lanes.gemini"}


def _lane_module(lane: str) -> ModuleType:
    """The lane's module (imported here, not at the top: a process imports one SDK only)."""
    return importlib.import_module(LANE_MODULES[lane])


def _floor_anthropic(path: Path) -> int:
    lane = _lane_module("anthropic")
    clients, count = lane.default_clients(), 0
    with vcr_stream(path) as interactions:
        for interaction in interactions:
            body = json.loads(interaction.request.body)
            messages = clients(interaction).beta.messages
            for _ in messages.create(**sdk_kwargs(body, lane._CREATE_PARAMS, stream=True)):
                count += 1
    return count


def _floor_codex_adapter(path: Path) -> int:
    lane = _lane_module("codex-adapter")
    lane._tagged_event_validation()  # the lane's one patch inside the SDK (by `type` tag)
    clients, count = lane.default_clients(), 0
    with vcr_stream(path) as interactions:
        for interaction in interactions:
            body = json.loads(interaction.request.body)
            responses = clients(interaction).responses
            for _ in responses.create(**sdk_kwargs(body, lane._CREATE_PARAMS, stream=True)):
                count += 1
    return count


def _floor_gemini(path: Path) -> int:
    lane = _lane_module("gemini")
    types = lane.types  # google.genai.types, as the lane imports it
    clients, count = lane.cached(lane._new_client), 0
    with vcr_stream(path) as interactions:
        for interaction in interactions:
            route = lane.route_of(interaction)
            assert route is not None and route.method == lane.STREAM_METHOD
            body = json.loads(interaction.request.body)
            contents = [types.Content.model_validate(c) for c in body["contents"]]
            config = types.GenerateContentConfig(
                http_options=types.HttpOptions(
                    extra_body={k: v for k, v in body.items() if k != "contents"} or None),
                automatic_continuation=False)
            stream = clients(interaction, route).models.generate_content_stream(
                model=route.model, contents=contents, config=config)
            for _ in stream:
                count += 1
    return count


SDK_FLOORS: dict[str, Callable[[Path], int]] = {
    "codex-adapter": _floor_codex_adapter,
    "anthropic": _floor_anthropic,
    "gemini": _floor_gemini,
}
"""API lane -> its SDK floor over a generated cassette (every interaction one streamed call,
as `generate.py` writes them); returns the count of SDK events."""


def lane_events(lane: str, path: Path) -> int:
    """The lane's `normalize` over `path`, every event made and dropped (nothing written)."""
    count = 0
    with path.open("rb") as stream:
        for _ in get_lane(lane).normalize(LaneInput(stream=stream, name=str(path), path=path),
                                          RunContext()):
            count += 1
    return count


PROCESSES: dict[str, Callable[[list[str]], int]] = {
    "import": lambda args: len(vars(_lane_module(args[0]))),
    "sdk-floor": lambda args: SDK_FLOORS[args[0]](Path(args[1])),
    "events": lambda args: lane_events(args[0], Path(args[1])),
}
"""What `python benchmarks/api.py WHAT LANE [FILE]` runs, in a process of its own (so each is
timed with its start-up, as `harness normalize` is)."""


def output_mb(harness: list[str], lane: str, path: Path, cwd: Path) -> float:
    """The size of the lane's log for `path` (one untimed run, read through a pipe)."""
    proc = subprocess.Popen([*harness, "normalize", "--lane", lane, str(path)], cwd=cwd,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert proc.stdout is not None
    size = 0
    while chunk := proc.stdout.read(1 << 20):
        size += len(chunk)
    proc.wait()
    return size / 2**20


TARGET_MBPS = 20
"""Issue 17: each API lane at >= 20 MB/s on a 50 MB cassette, peak RSS < 150 MB."""


def summary(path: Path, *, bare: list[tuple[float, float]], floor: list[tuple[float, float]],
            startup: list[Any], sdk: list[Any], events: list[Any], lane: list[Any],
            out_mb: float, sse_events: int) -> dict[str, float]:
    """One lane's numbers: `bare` and `floor` are (wall, CPU) of in-process runs; `startup`,
    `sdk`, `events` and `lane` are `run.Run`s of processes. CPU: the least of the runs
    (steadier than wall on a shared machine); wall: the median; peak RSS: the most."""
    def cpu(runs: list[Any]) -> float:
        return min(r.cpu_seconds for r in runs)

    walls = sorted(r.seconds for r in lane)
    size = path.stat().st_size / 2**20
    return {
        "size_mb": size, "sse_events": sse_events, "out_mb": out_mb,
        "bare_cpu": min(c for _, c in bare), "floor_cpu": min(c for _, c in floor),
        "startup_cpu": cpu(startup), "sdk_cpu": cpu(sdk), "events_cpu": cpu(events),
        "lane_cpu": cpu(lane), "lane_wall": walls[len(walls) // 2],
        "lane_peak_mb": max(r.peak_rss_mb for r in lane),
        "sdk_peak_mb": max(r.peak_rss_mb for r in sdk),
    }


def api_tables(results: dict[str, dict[str, float]]) -> list[str]:
    """The rates (MB/s on CPU time, wall beside) and the split of each lane's CPU time."""
    rates = [
        "| lane | input | log written | `harness normalize` | SDK floor | lane / SDK floor | "
        "no SDK: bare parse, reading the cassette | peak RSS (lane, SDK floor) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    split = [
        "| lane | start-up (interpreter, imports) | SDK floor after start-up | of it: "
        "reading the cassette | replay glue + translation | writing the log | total |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, r in results.items():
        size, lane_cpu, sdk_cpu = r["size_mb"], r["lane_cpu"], r["sdk_cpu"]
        rate_ok = "meets" if size / lane_cpu >= TARGET_MBPS else "misses"
        sdk_ok = "meets" if size / sdk_cpu >= TARGET_MBPS else "below"
        rss_ok = "meets" if r["lane_peak_mb"] < 150 else "misses"
        rates.append(
            f"| {name} | {size:.0f} MB, {r['sse_events']:,.0f} SSE events | "
            f"{r['out_mb']:,.0f} MB ({r['out_mb'] / size:.0f}x) | "
            f"**{size / lane_cpu:.1f} MB/s** CPU ({lane_cpu:.1f} s; {rate_ok} >= "
            f"{TARGET_MBPS}), wall {size / r['lane_wall']:.1f} MB/s | "
            f"**{size / sdk_cpu:.1f} MB/s** CPU ({sdk_cpu:.1f} s; {sdk_ok} {TARGET_MBPS}) | "
            f"{sdk_cpu / lane_cpu:.2f} | "
            f"{size / r['bare_cpu']:.0f} MB/s, {size / r['floor_cpu']:.0f} MB/s | "
            f"**{r['lane_peak_mb']:.0f} MB** ({rss_ok} < 150), {r['sdk_peak_mb']:.0f} MB |")
        parts = {"start-up": r["startup_cpu"], "sdk": sdk_cpu - r["startup_cpu"],
                 "ours": r["events_cpu"] - sdk_cpu, "write": lane_cpu - r["events_cpu"]}
        cells = [f"{v:.1f} s ({v / lane_cpu:.0%})" for v in parts.values()]
        cells.insert(2, f"{r['floor_cpu']:.1f} s")
        split.append(f"| {name} | {' | '.join(cells)} | {lane_cpu:.1f} s |")
    return [*rates, "",
            f"MB/s on CPU time (user + system, the least of the runs) unless marked wall (the "
            f"median). SDK floor: `api.py sdk-floor`, the replay alone through the SDK with "
            f"start-up; an SDK floor below {TARGET_MBPS} MB/s puts the target out of reach "
            "for any lane that replays through the SDK.", "",
            "Bare parse: orjson over every SSE `data:` line of the file; reading the "
            "cassette: the libyaml read a lane must do and orjson over every SSE data line "
            "(`api.floor`); both in process, no start-up, no SDK.", "",
            "Split of each lane's CPU time: differences of the least CPU times of "
            "`api.py import`, `api.py sdk-floor`, `api.py events` and `harness normalize`.",
            "", *split]


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} / {five:.2f} / {fifteen:.2f}"


if __name__ == "__main__":
    if len(sys.argv) < 3 or sys.argv[1] not in PROCESSES:
        sys.exit(f"usage: api.py {{{'|'.join(PROCESSES)}}} LANE [FILE] (benchmarks/run.py "
                 "runs these; see its --api and --gate options)")
    print(PROCESSES[sys.argv[1]](sys.argv[2:]))
