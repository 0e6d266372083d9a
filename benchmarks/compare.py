"""Before/after of each optimisation: `python benchmarks/compare.py [--runs N] REV... [--file F]`.

Runs `harness normalize --lane codex-native` over one generated stream (default: the 200 MB one
run.py makes) with the harness and lanes of each git revision (`git archive` into
benchmarks/.data/rev-<sha>/, run from there, so `python -m` finds it first; the venv and its entry
points stay the same)
and with the working tree last, in the same session so the numbers compare. Prints a markdown
table: medians of wall and CPU seconds, MB/s, start-up on a one-line input, and the output's
SHA-256 so a change that alters a single output byte shows.
"""

from __future__ import annotations

import argparse
import hashlib
import statistics
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import run

TINY = b'{"type": "thread.started", "thread_id": "t"}\n'


def checkout(rev: str) -> tuple[str, Path]:
    """The revision's harness/ and lanes/ in a folder of their own (reused when present)."""
    sha = subprocess.run(["git", "rev-parse", "--short", rev], cwd=run.ROOT, check=True,
                         capture_output=True, text=True).stdout.strip()
    folder = run.DATA / f"rev-{sha}"
    if not folder.exists():
        partial = folder.with_suffix(".partial")
        partial.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(["git", "archive", sha, "harness", "lanes"], cwd=run.ROOT,
                                 check=True, capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", str(partial)], input=archive, check=True)
        partial.rename(folder)
    return sha, folder


def output_digest(path: Path, cwd: Path) -> str:
    out = subprocess.run([*run.HARNESS, "normalize", "--lane", "codex-native", str(path)],
                         cwd=cwd, check=True, capture_output=True).stdout
    return hashlib.sha256(out).hexdigest()[:12]


def measure(label: str, path: Path, cwd: Path, runs: int) -> str:
    """One table row; `cwd` holds the harness and lanes to run (`python -m` looks there first)."""
    tiny = run.DATA / "tiny.jsonl"
    tiny.write_bytes(TINY)
    args = ["normalize", "--lane", "codex-native"]
    startup = statistics.median(run.run_cli([*args, str(tiny)], cwd=cwd).seconds
                                for _ in range(max(runs, 5)))
    cli = [run.run_cli([*args, str(path)], cwd=cwd) for _ in range(runs)]
    wall = statistics.median(r.seconds for r in cli)
    cpu = statistics.median(r.cpu_seconds for r in cli)
    size = path.stat().st_size / 2**20
    return (f"| {label} | {wall:.2f} s ({size / wall:.0f} MB/s) | {cpu:.2f} s "
            f"({size / cpu:.0f} MB/s) | {startup:.2f} s | {output_digest(path, cwd)} |")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("revs", nargs="*", help="git revisions, oldest first")
    parser.add_argument("--file", type=Path, default=run.DATA / "codex-200mb.jsonl")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    path = run.ensure(args.file, lambda p: run.generate.codex_stream(p, 200))
    rows = ["| harness + lanes | wall (median) | CPU (median) | start-up | output sha256 |",
            "|---|---|---|---|---|"]
    for rev in args.revs:
        sha, folder = checkout(rev)
        rows.append(measure(sha, path, folder, args.runs))
        print(rows[-1], file=sys.stderr)
    rows.append(measure("working tree", path, run.ROOT, args.runs))
    print("\n".join(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
