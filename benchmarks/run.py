"""Benchmarks of issues 7 and 17 (not timed tests): `python benchmarks/run.py [--quick]` writes its
report into RESULTS.md between the markers there (`write_report`), keeping the rest of the file.

Generates its own inputs into benchmarks/.data/ (gitignored, reused while the size and seed match)
and measures, as medians of `--runs` runs:

- throughput of `harness normalize` for each JSONL lane (codex-native, claude-code, gemini-cli;
  `--jsonl` picks some) on a realistic generated stream against a bare `orjson.loads`-per-line
  loop over the same file, measured in the same run (MB/s, native events/s, ratio; target >= 0.5);
- each API lane (codex-adapter, anthropic, gemini; `--api` picks some) over its own generated
  ~50 MB cassette: MB/s, peak RSS, the log's size, ratios against orjson over every SSE `data:`
  line and against the floor of reading the cassette (`api.py`);
- peak RSS of `harness normalize` over a 1 GB stream of each JSONL lane (target < 150 MB);
- `harness check` offline over whatever catalog exists (target < 10 s on 2 cores), wall and
  CPU, with the load average (`--no-gate` skips it).

The CLI runs as a subprocess, as a user runs it: its time includes interpreter start-up.
"""

from __future__ import annotations

import argparse
import compileall
import datetime as dt
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).parent))
import api
import generate

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(__file__).parent / ".data"
RESULTS = Path(__file__).parent / "RESULTS.md"
HARNESS = [sys.executable, "-m", "harness"]


@dataclass(frozen=True)
class Run:
    seconds: float
    peak_rss_mb: float
    cpu_seconds: float = 0.0
    """User + system time of the child: steadier than wall time on a shared machine."""


def run_cli(args: list[str], env: dict[str, str] | None = None, cwd: Path = ROOT,
            command: tuple[str, ...] = tuple(HARNESS)) -> Run:
    """Run the harness CLI (or `command`) with stdout to /dev/null; wall time, CPU time and
    peak RSS."""
    with open(os.devnull, "wb") as sink:
        started = time.perf_counter()
        proc = subprocess.Popen([*command, *args], cwd=cwd, stdout=sink,
                                stderr=subprocess.PIPE, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - started
    stderr = proc.stderr.read().decode() if proc.stderr else ""
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 1):
        raise SystemExit(f"{' '.join([*command[1:], *args])} failed ({code}): {stderr[-500:]}")
    return Run(seconds, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime)


def orjson_lines(path: Path, *, sse: bool = False) -> int:
    """The baseline: parse every line (every SSE `data:` line) with orjson; returns the count."""
    count = 0
    with path.open("rb") as stream:
        for raw in stream:
            line = raw
            if sse:
                line = raw.lstrip()
                if not line.startswith(b"data: "):
                    continue
                line = line[6:]
            orjson.loads(line)
            count += 1
    return count


def orjson_roundtrip(path: Path) -> None:
    """The floor of any normalizer that writes its strings back out: parse every line and
    serialize it again (UTF-8 -> str -> UTF-8), to /dev/null, with nothing in between."""
    with path.open("rb") as stream, open(os.devnull, "wb") as sink:
        for raw in stream:
            sink.write(orjson.dumps(orjson.loads(raw), option=orjson.OPT_APPEND_NEWLINE))


REPORT_BEGIN = "<!-- benchmarks/run.py writes from here: its latest run -->"
REPORT_END = "<!-- benchmarks/run.py writes up to here; the rest is kept -->"


def write_report(path: Path, lines: list[str]) -> None:
    """Put a run's report between the markers of `path`, atomically, keeping everything around
    them: the measured history and its analysis are written by hand and must survive a re-run
    (a file without the markers gets the report on top)."""
    block = "\n".join([REPORT_BEGIN, *lines, REPORT_END])
    old = path.read_text() if path.exists() else ""
    if REPORT_BEGIN in old and REPORT_END in old:
        head, rest = old.split(REPORT_BEGIN, 1)
        text = head + block + rest.split(REPORT_END, 1)[1]
    else:
        text = block + "\n\n" + old
    partial = path.with_name(path.name + ".partial")
    partial.write_text(text)
    os.replace(partial, path)


def compile_bytecode() -> None:
    """Write the project's bytecode first, as installing the wheel does (pip compiles on
    install): under `PYTHONDONTWRITEBYTECODE=1` (set on this machine) an editable checkout would
    otherwise compile every module from source on every start, which no installed user pays."""
    for package in ("harness", "lanes"):
        if not compileall.compile_dir(ROOT / package, quiet=1):
            raise SystemExit(f"cannot compile {package}")


def timed(fn: Callable[[], object]) -> tuple[float, float]:
    """Wall and CPU seconds of one call."""
    started, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - started, time.process_time() - cpu


def median(values: list[float]) -> float:
    return statistics.median(values)


def ensure(path: Path, make: Callable[[Path], object]) -> Path:
    DATA.mkdir(exist_ok=True)
    if not path.exists():
        partial = path.with_suffix(".partial")
        make(partial)
        partial.rename(path)
    return path


def throughput(lane: str, path: Path, runs: int, *, sse: bool) -> dict[str, float]:
    size_mb = path.stat().st_size / 2**20
    events = orjson_lines(path, sse=sse)
    base_runs = [timed(lambda: orjson_lines(path, sse=sse)) for _ in range(runs)]
    base, base_cpu = median([w for w, _ in base_runs]), median([c for _, c in base_runs])
    cli = [run_cli(["normalize", "--lane", lane, str(path)]) for _ in range(runs)]
    lane_s, lane_cpu = median([r.seconds for r in cli]), median([r.cpu_seconds for r in cli])
    return {"size_mb": size_mb, "events": events, "base_s": base, "lane_s": lane_s,
            "base_mbps": size_mb / base, "lane_mbps": size_mb / lane_s,
            "base_eps": events / base, "lane_eps": events / lane_s, "ratio": base / lane_s,
            "cpu_ratio": base_cpu / lane_cpu, "base_cpu": base_cpu, "lane_cpu": lane_cpu,
            "peak_mb": max(r.peak_rss_mb for r in cli)}


def machine() -> list[str]:
    cpu = next((line.split(":", 1)[1].strip() for line in
                Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("model name")),
               platform.processor() or "unknown")
    mem = next((int(line.split()[1]) // 1024 for line in
                Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal")), 0)
    return [f"- date: {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC",
            f"- CPU: {cpu}, {os.cpu_count()} cores; RAM {mem} MiB",
            f"- {platform.platform()}; Python {platform.python_version()}; "
            f"orjson {orjson.__version__}"]


def table(name: str, r: dict[str, float], target: float) -> list[str]:
    verdict = "meets" if r["ratio"] >= target else "misses"
    return [
        f"| {name} | {r['size_mb']:.0f} MB, {r['events']:,.0f} native events | "
        f"{r['base_mbps']:.0f} MB/s, {r['base_eps']:,.0f} ev/s | "
        f"{r['lane_mbps']:.1f} MB/s, {r['lane_eps']:,.0f} ev/s | "
        f"**{r['ratio']:.2f}** ({verdict} >= {target}) | "
        f"{r['cpu_ratio']:.2f} ({r['base_cpu']:.2f} s / {r['lane_cpu']:.2f} s) | "
        f"{r['peak_mb']:.0f} MB |"]


JSONL_STREAMS: dict[str, Callable[..., int]] = {
    "codex-native": generate.codex_stream,
    "claude-code": generate.claude_stream,
    "gemini-cli": generate.gemini_stream,
}
"""The JSONL lanes and the generator of each one's native stream (issue 17: each at >= 0.5 x a
bare orjson loop over the same stream, peak RSS < 150 MB on 1 GB)."""


def jsonl_stream(lane: str, size_mb: float, seed: int = 7) -> Path:
    """The lane's generated stream of about `size_mb` MB (made once, reused)."""
    name = "codex" if lane == "codex-native" else lane
    return ensure(DATA / f"{name}-{size_mb:g}mb.jsonl",
                  lambda p: JSONL_STREAMS[lane](p, size_mb, seed=seed))


def jsonl_lanes(lanes: list[str], runs: int, stream_mb: float, big_mb: float
                ) -> tuple[dict[str, dict[str, float]], dict[str, tuple[float, Run]]]:
    """Throughput of each JSONL lane (same-run baseline, `throughput`) and its peak RSS over a
    `big_mb` stream: (results by lane, (size MB, run) by lane)."""
    results, memory = {}, {}
    for lane in lanes:
        results[lane] = throughput(lane, jsonl_stream(lane, stream_mb), runs, sse=False)
        big = jsonl_stream(lane, big_mb, seed=11)
        memory[lane] = (big.stat().st_size / 2**20,
                        run_cli(["normalize", "--lane", lane, str(big)]))
    return results, memory


def jsonl_memory_lines(memory: dict[str, tuple[float, Run]]) -> list[str]:
    return [f"- `harness normalize --lane {lane}` over {size:.0f} MB: peak RSS "
            f"**{run.peak_rss_mb:.0f} MB** (target < 150 MB), {run.seconds:.1f} s."
            for lane, (size, run) in memory.items()]


API_PROCESS = (sys.executable, str(Path(__file__).parent / "api.py"))
"""`api.py`'s processes (SDK floor, the lane's events, start-up), timed as the CLI is."""


def api_lanes(lanes: list[str], runs: int, cassette_mb: float) -> dict[str, dict[str, float]]:
    """Each API lane over its own generated cassette, `runs` times each (CPU: the least of
    the runs, steadier than wall time on a shared machine; wall: the median): the bare parse
    and the floor of reading the cassette (in this process), start-up, the SDK floor, the
    lane's events without writing, `harness normalize`, and the log's size (`api.py`)."""
    results = {}
    for lane in lanes:
        path = api.cassette(DATA, lane, cassette_mb, ensure)
        bare = [timed(lambda p=path: orjson_lines(p, sse=True)) for _ in range(runs)]
        floors = [timed(lambda p=path: api.floor(p)) for _ in range(runs)]
        procs = {name: [run_cli(args, command=API_PROCESS) for _ in range(runs)]
                 for name, args in (("startup", ["import", lane]),
                                    ("sdk", ["sdk-floor", lane, str(path)]),
                                    ("events", ["events", lane, str(path)]))}
        cli = [run_cli(["normalize", "--lane", lane, str(path)]) for _ in range(runs)]
        results[lane] = api.summary(
            path, bare=bare, floor=floors, startup=procs["startup"], sdk=procs["sdk"],
            events=procs["events"], lane=cli, out_mb=api.output_mb(HARNESS, lane, path, ROOT),
            sse_events=orjson_lines(path, sse=True))
    return results


def api_lines(results: dict[str, dict[str, float]]) -> list[str]:
    if not results:
        return []
    return ["## API lanes", "", *api.api_tables(results), "",
            f"Not measured: {', '.join(api.TRANSCRIPT_LANES)} (`api.transcript_hook`: no "
            "generator of a large JSON-RPC transcript yet).", ""]


def gate_section(runs: int) -> list[str]:
    """`harness check` offline over the catalog, `runs` times: medians of wall and CPU."""
    catalog = sorted({p.parent.name for p in (ROOT / "cassettes").glob("*/scenario.yaml")})
    gate = [run_cli(["check", "--report", str(DATA / "report")]) for _ in range(runs)]
    walls = ", ".join(f"{g.seconds:.1f}" for g in gate)
    return ["## Gate", "",
            f"`harness check` offline over the catalog as it stands ({len(catalog)} scenarios, "
            f"default jobs = {os.cpu_count()} cores): **{median([g.seconds for g in gate]):.1f} s"
            f"** wall (runs: {walls} s), {median([g.cpu_seconds for g in gate]):.1f} s CPU "
            "(target < 10 s on 2 cores; exit code ignored).", ""]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--stream-mb", type=float, default=200)
    parser.add_argument("--big-mb", type=float, default=1024)
    parser.add_argument("--cassette-mb", type=float, default=50)
    parser.add_argument("--quick", action="store_true", help="small sizes, one run (smoke)")
    parser.add_argument("--jsonl", nargs="*", default=list(JSONL_STREAMS), metavar="LANE",
                        help="JSONL lanes to measure (default: all)")
    parser.add_argument("--api", nargs="*", default=list(api.API_CASSETTES), metavar="LANE",
                        help="API lanes to measure (default: all)")
    parser.add_argument("--no-gate", action="store_true", help="do not time `harness check`")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    if args.quick:
        args.runs, args.stream_mb, args.big_mb, args.cassette_mb = 1, 10, 20, 2
    compile_bytecode()
    load_before = api.load()
    api_results = api_lanes(args.api, args.runs, args.cassette_mb)
    gate_lines = [] if args.no_gate else gate_section(args.runs)
    if not args.jsonl:  # API lanes and gate only
        lines = ["## The latest run of `benchmarks/run.py` (API lanes and gate)", "",
                 f"Written by `python benchmarks/run.py --jsonl` ({args.runs} runs each, "
                 f"medians); load average (1/5/15 min) {load_before} before, {api.load()} "
                 "after. Machine:", "", *machine(), "", *api_lines(api_results), *gate_lines]
        write_report(args.out, lines)
        print("\n".join(lines))
        return 0
    stream = jsonl_stream("codex-native", args.stream_mb)
    lanes, memories = jsonl_lanes(args.jsonl, args.runs, args.stream_mb, args.big_mb)
    native = lanes.get("codex-native") or throughput("codex-native", stream, args.runs,
                                                     sse=False)
    floor_runs = [timed(lambda: orjson_roundtrip(stream)) for _ in range(args.runs)]
    floor_s, floor_cpu = median([w for w, _ in floor_runs]), median([c for _, c in floor_runs])
    tiny = DATA / "tiny.jsonl"
    tiny.write_text('{"type": "thread.started", "thread_id": "t"}\n')
    startup = median([run_cli(["normalize", "--lane", "codex-native", str(tiny)]).seconds
                      for _ in range(max(args.runs, 5))])
    native_net = native["size_mb"] / (native["lane_s"] - startup)
    lines = [
        "## The latest run of `benchmarks/run.py`", "",
        f"Written by `python benchmarks/run.py` ({args.runs} runs each, medians). Machine:", "",
        *machine(), "",
        "## Throughput", "",
        "| lane | input | bare orjson loop | `harness normalize` | ratio (wall) | "
        "ratio (CPU: loop / CLI) | peak RSS |",
        "|---|---|---|---|---|---|---|",
        *[row for lane, result in (lanes or {"codex-native": native}).items()
          for row in table(lane, result, 0.5)], "",
        f"CLI start-up (imports, one-line input): {startup:.2f} s; codex-native without it: "
        f"{native_net:.0f} MB/s, ratio {native_net / native['base_mbps']:.2f}.", "",
        f"Floor: an orjson loop that parses every line of the codex stream and serializes it "
        f"again (no normalizing, no start-up) takes {floor_s:.2f} s wall / {floor_cpu:.2f} s "
        f"CPU, so no normalizer that writes its strings back out can beat a ratio of "
        f"{native['base_s'] / floor_s:.2f} (wall) / {native['base_cpu'] / floor_cpu:.2f} (CPU) "
        f"against the parse-only loop on this input; `harness normalize` takes "
        f"{native['lane_cpu'] / floor_cpu:.2f}x the floor's CPU time.", "",
        "## Memory", "",
        *jsonl_memory_lines(memories), "",
        *api_lines(api_results), *gate_lines,
        f"Load average (1/5/15 min): {load_before} before the run, {api.load()} after.", "",
    ]
    write_report(args.out, lines)
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
