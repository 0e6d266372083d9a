"""The API lanes and the gate in `benchmarks/run.py` (issue 17 items 2-4; not timed tests).

API lanes (codex-adapter, anthropic, gemini) replay a vcrpy cassette through the provider's SDK.
Each is measured on its own generated ~50 MB cassette (`generate.py`) against:

- the bare parse: orjson over every SSE `data:` line of the file (what `run.py` has always
  used for codex-adapter);
- the floor: reading the cassette as the lane must (`iter_http_cassette`: libyaml, interaction
  by interaction, every field checked) and parsing every SSE `data:` line with orjson, with no
  SDK, no normalizing and no output. No lane that replays the cassette can be faster.

The lanes' logs are far larger than their input (every `item.updated` carries the text so far),
so the output volume is reported beside the rates.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import generate
import orjson

from harness.record.cassette import iter_http_cassette

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


def api_row(lane: str, r: dict[str, Any]) -> str:
    rate_ok = "meets" if r["lane_mbps"] >= 20 else "misses"
    rss_ok = "meets" if r["peak_mb"] < 150 else "misses"
    return (f"| {lane} | {r['size_mb']:.0f} MB, {r['events']:,.0f} SSE events | "
            f"{r['out_mb']:,.0f} MB ({r['out_mb'] / r['size_mb']:.0f}x) | "
            f"**{r['lane_mbps']:.1f} MB/s** ({rate_ok} >= 20), CPU {r['lane_cpu']:.1f} s | "
            f"{r['base_mbps']:.0f} MB/s: {r['ratio']:.3f} | "
            f"{r['floor_mbps']:.0f} MB/s: {r['floor_ratio']:.3f} | "
            f"**{r['peak_mb']:.0f} MB** ({rss_ok} < 150) |")


API_HEADER = [
    "| lane | input | log written | `harness normalize` (wall) | bare parse, ratio | "
    "floor, ratio | peak RSS |",
    "|---|---|---|---|---|---|---|",
]


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} / {five:.2f} / {fifteen:.2f}"


if __name__ == "__main__":
    sys.exit("run benchmarks/run.py (its --api and --gate options)")
