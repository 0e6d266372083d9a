"""Fuzz one lane (or all) against the bad-input contract: `python -m tests.fuzz --help`.

    python -m tests.fuzz --lane codex-native --seconds 600            # atheris if installed
    python -m tests.fuzz --lane all --engine hypothesis --seconds 120
    python -m tests.fuzz --lane gemini --engine atheris -- -runs=100000 -max_len=65536

One target per lane: the property "a stack of damage to one of the lane's shipped inputs keeps
the contract" (tests/fuzz/contract.py, tests/fuzz/mutations.py). The hypothesis engine runs it in
batches until the time budget is spent; the atheris engine (coverage-guided libFuzzer) drives the
very same property through hypothesis' `fuzz_one_input`, so both explore structured damage and a
crash found by either replays as a hypothesis example. Exit code 1 on the first violation, with
the failing source and mutation printed.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.contract.lane import LaneSpec, available_lanes, get_lane
from tests.fuzz.contract import check_contract
from tests.fuzz.mutations import Mutation, cassette_mutations, jsonl_mutations

CASSETTES = Path(__file__).resolve().parents[2] / "cassettes"
BATCH = 25
"""Hypothesis examples per batch: the budget is checked between batches."""
SEEDS = 16
"""Random starting buffers for libFuzzer (hypothesis reads them as choice sequences)."""


def shipped(lane: LaneSpec) -> list[Path]:
    return sorted(CASSETTES.glob(f"*/{lane.native_file}"))


def target(lane: LaneSpec, workdir: Path, *, examples: int = BATCH,
           derandomize: bool | None = None) -> Any:
    """The lane's fuzz property: a hypothesis test function (call it, or feed its
    `.hypothesis.fuzz_one_input` raw bytes). `derandomize=None` follows the loaded profile
    (the ci profile derandomizes, so one call is deterministic there)."""
    sources = shipped(lane)
    if not sources:
        raise SystemExit(f"no shipped {lane.native_file} to fuzz {lane.id} with")
    strategy = jsonl_mutations() if lane.input_kind == "jsonl" else cassette_mutations()
    path = workdir / sources[0].name

    fixed = {} if derandomize is None else {"derandomize": derandomize}

    @settings(max_examples=examples, deadline=None, database=None, print_blob=True,
              suppress_health_check=list(HealthCheck), **fixed)
    @given(source=st.sampled_from(sources), mutation=strategy)
    def keeps_the_contract(source: Path, mutation: Mutation) -> None:
        path.write_bytes(mutation.apply(source.read_bytes()))
        check_contract(lane, path)

    return keeps_the_contract


def fuzz_hypothesis(lane: LaneSpec, seconds: float, *, batch: int = BATCH,
                    log: Callable[[str], None] = print) -> int:
    """Run the lane's property in batches until `seconds` are spent; returns examples run
    (a violation propagates as the failing example's exception). Never derandomized: under
    the ci profile every batch would otherwise replay the same examples."""
    deadline = time.monotonic() + seconds
    runs = 0
    with tempfile.TemporaryDirectory(prefix=f"fuzz-{lane.id}-") as tmp:
        prop = target(lane, Path(tmp), examples=batch, derandomize=False)
        while time.monotonic() < deadline:
            prop()
            runs += batch
    log(f"{lane.id}: {runs} examples in {seconds:g}s, no violation")
    return runs


def fuzz_atheris(lane_id: str, seconds: float, libfuzzer_args: list[str]) -> None:
    """Coverage-guided: libFuzzer's byte mutations drive the same property (never returns)."""
    import atheris  # type: ignore[import-not-found]  # noqa: PLC0415 - optional engine

    with atheris.instrument_imports(include=["lanes"]):  # coverage of the lane's own code
        lane = get_lane(lane_id)
    workdir = Path(tempfile.mkdtemp(prefix=f"fuzz-{lane.id}-"))
    prop = target(lane, workdir, examples=1)
    corpus = workdir / "corpus"
    corpus.mkdir()
    for n in range(SEEDS):  # hypothesis needs a few hundred choice bytes to draw one example
        (corpus / f"seed-{n}").write_bytes(random.Random(n).randbytes(2048))
    args = [sys.argv[0], f"-max_total_time={int(seconds)}", "-max_len=8192",
            *libfuzzer_args, str(corpus)]
    atheris.Setup(args, prop.hypothesis.fuzz_one_input)
    atheris.Fuzz()


def _has_atheris() -> bool:
    try:
        import atheris  # noqa: F401, PLC0415
    except ImportError:
        return False
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.fuzz", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lane", required=True, help="a lane id, or `all`")
    parser.add_argument("--engine", choices=["auto", "atheris", "hypothesis"], default="auto")
    parser.add_argument("--seconds", type=float, default=300.0, help="time budget per lane")
    parser.add_argument("libfuzzer", nargs="*", help="extra libFuzzer flags (after --)")
    args = parser.parse_args(argv)
    lanes = list(available_lanes()) if args.lane == "all" else [args.lane]
    engine = args.engine
    if engine == "auto":
        engine = "atheris" if _has_atheris() and len(lanes) == 1 else "hypothesis"
    if engine == "atheris":
        fuzz_atheris(lanes[0], args.seconds, args.libfuzzer)
        return 0
    for lane_id in lanes:
        fuzz_hypothesis(get_lane(lane_id), args.seconds)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
