"""nox sessions: one per provider, plus the gate, the live runtimes, lint, types and the full suite.

Each session installs only what it needs into its own virtualenv; pinned npm runtimes go into the
project-local `.runtimes/` through `harness runtimes install`.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import nox

nox.options.default_venv_backend = "venv"
nox.options.reuse_existing_virtualenvs = True
nox.options.sessions = ["lint", "typecheck", "tests"]

PROVIDER_TESTS = {
    "codex": ("openai", ["tests/test_codex*.py", "tests/test_responses*.py"]),
    "anthropic": ("anthropic", ["tests/test_anthropic*.py", "tests/test_claude*.py"]),
    "gemini": ("gemini", ["tests/test_gemini*.py"]),
}
"""Per provider session: the SDK extra it installs and the test files it runs (its lanes, its
stub provider, its runtime driver). The round-trip tests (tests/test_roundtrip_*.py) need every
SDK and run in `tests` only; tests/test_layout.py holds these patterns to the files."""
RUNTIME_FOR = {"codex": "codex", "anthropic": "claude", "gemini": "gemini"}
TYPESCRIPT = "typescript@7.0.2"
"""Pinned compiler that checks the generated `schemas/*.d.ts` (tests/test_schema_and_rules.py)."""


PINNED = {"PIP_CONSTRAINT": str(Path(__file__).resolve().parent / "constraints.txt")}
"""Exact Python package versions (see the file's header) for every install, the isolated build
of `-e .` included (an environment variable reaches it, a `-c` flag does not); `latest` runs
without them."""


def _install(session: nox.Session, extras: str) -> None:
    session.install("-e", f".[{extras}]", env=PINNED)


def _ensure_chromium(session: nox.Session) -> None:
    """The HTML report is rendered in headless Chromium by a test; Debian's package provides it."""
    if shutil.which("chromium"):
        return
    session.run("apt-get", "update", "-qq", external=True)
    session.run("apt-get", "install", "-y", "-qq", "chromium", external=True,
                env={"DEBIAN_FRONTEND": "noninteractive"})


def _ensure_typescript(session: nox.Session) -> None:
    """tsc compiles the generated TypeScript declarations in a test; npm installs it pinned."""
    if Path(".runtimes/tools/node_modules/.bin/tsc").exists():
        return
    session.run("npm", "install", "--prefix", ".runtimes/tools", "--no-audit", "--no-fund",
                "--save-exact", TYPESCRIPT, external=True)


@nox.session
def tests(session: nox.Session) -> None:
    """The whole suite, live runtime re-runs included (what CI runs)."""
    _install(session, "dev,openai,anthropic,gemini")
    _ensure_chromium(session)
    _ensure_typescript(session)
    session.run("harness", "runtimes", "install", "all")
    session.run("pytest", "-n", "2", "--dist", "loadgroup", *session.posargs,
                env={"HYPOTHESIS_PROFILE": "ci"})


@nox.session
def explore(session: nox.Session) -> None:
    """The property tests with fresh random draws and ten times CI's examples: CI's draws are
    fixed so a landing is judged on the change alone; this hunts new counterexamples (run it
    after touching an encoder, simulator or lane; pin what it finds as a regression test)."""
    _install(session, "dev,openai,anthropic,gemini")
    _ensure_chromium(session)
    _ensure_typescript(session)
    session.run("pytest", "-n", "2", "-m", "not runtime", "-p", "no:cacheprovider",
                *(session.posargs or ["tests/"]), env={"HYPOTHESIS_PROFILE": "explore"})


@nox.session
def latest(session: nox.Session) -> None:
    """The offline suite on the newest SDKs and test libraries the index offers (no
    constraints): tells whether an openai/anthropic/google-genai or hypothesis release breaks a
    lane before constraints.txt is refreshed. Not part of CI, which judges changes only."""
    session.install("--upgrade", "--upgrade-strategy", "eager",
                    "-e", ".[dev,openai,anthropic,gemini]")
    _ensure_chromium(session)
    _ensure_typescript(session)
    session.run("pytest", "-n", "2", "-m", "not runtime", *session.posargs,
                env={"HYPOTHESIS_PROFILE": "ci"})


@nox.session
def conformance(session: nox.Session) -> None:
    """The gate over the shipped cassettes (offline; no runtime needed)."""
    _install(session, "openai,anthropic,gemini")
    session.run("harness", "check", *session.posargs)


@nox.session
def mutations(session: nox.Session) -> None:
    """The gate tested by mutation (offline; long): every operator x lane x scenario plants one
    regression in a copy of the catalog, accepts it with `--update-golden`, and checks again;
    prints each survivor and the kill ratio (`tests/gate_mutations.py`; posargs narrow it,
    e.g. `-- --scenario shell_ok`, or add `--fail-under 0.95`)."""
    _install(session, "openai,anthropic,gemini")
    session.run("python", "-m", "tests.gate_mutations", "--all", *session.posargs)


@nox.session
def drift(session: nox.Session) -> None:
    """Drift of the newest release of each runtime (or of those named: `-- codex`) against the
    catalog: installs it side by side, re-records every scenario into a scratch folder and
    names what changed in normalized terms (`report/drift-<runtime>/`). Needs the npm
    registry; fails when any runtime's newest release changes a scenario's meaning."""
    _install(session, "openai,anthropic,gemini")
    changed = []
    for runtime in session.posargs or ["codex", "claude", "gemini"]:
        report = Path("report") / f"drift-{runtime}"
        session.run("harness", "drift", "--runtime", runtime, "--version", "latest",
                    "--report", str(report), success_codes=[0, 1])
        if json.loads((report / "drift.json").read_text())["exit_code"] == 1:
            changed.append(runtime)
    if changed:
        session.error(f"the newest release changes the catalog's meaning: {', '.join(changed)}")


@nox.session
def runtimes(session: nox.Session) -> None:
    """Only the live re-runs of the real runtimes against the stub."""
    _install(session, "dev,openai,anthropic,gemini")
    session.run("harness", "runtimes", "install", "all")
    session.run("pytest", "-m", "runtime", *session.posargs)


def _provider_session(provider: str) -> None:
    extra, patterns = PROVIDER_TESTS[provider]

    @nox.session(name=provider)
    def run(session: nox.Session) -> None:
        _install(session, f"dev,{extra}")
        session.run("harness", "runtimes", "install", RUNTIME_FOR[provider])
        files = [str(p) for pattern in patterns for p in sorted(Path().glob(pattern))]
        session.run("pytest", *files, *session.posargs)

    run.__doc__ = f"The {provider} lanes' tests with only the {extra} SDK installed."


for _provider in PROVIDER_TESTS:
    _provider_session(_provider)


@nox.session
def bench(session: nox.Session) -> None:
    """The benchmarks (issue 17; not timed tests): every lane's `harness normalize` against a
    bare parse of its input and the floor, peak RSS, and `harness check`'s time; writes its
    block of benchmarks/RESULTS.md (the rest is kept). Long (medians of 3 over 200 MB - 1 GB
    inputs); posargs go to benchmarks/run.py, e.g. `-- --quick` (smoke) or `-- --jsonl` (API
    lanes and gate only)."""
    _install(session, "openai,anthropic,gemini")
    session.run("python", "benchmarks/run.py", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    session.install("ruff", env=PINNED)
    session.run("ruff", "check", "harness", "lanes", "tests", "noxfile.py", "benchmarks")


@nox.session
def typecheck(session: nox.Session) -> None:
    _install(session, "dev,openai,anthropic,gemini")
    session.run("mypy")
    session.run("harness", "schema", "--check")
