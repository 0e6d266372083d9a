"""The `harness` command as a user meets it: run context from metadata, --version, completion,
JSON output of the gate, a matrix that fits 80 columns, progress only on a terminal."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from harness.cli import main
from harness.contract.lane import available_lanes
from harness.contract.runmeta import meta_for, recorded_context

REPO = Path(__file__).resolve().parents[1]
CASSETTES = REPO / "cassettes"
GOLDEN = REPO / "golden"
CONTEXT_SCENARIOS = ["hello", "cwd", "resume", "resume_twice", "sandbox_readonly_write"]
"""A plain run, a `-C` subdirectory, one and two resumes, a read-only sandbox."""


# ------------------------------------------------------------------------------ run context


def _normalize(capsysbinary: pytest.CaptureFixture[bytes], *argv: str) -> tuple[int, bytes]:
    code = main(["normalize", *argv])
    return code, capsysbinary.readouterr().out


@pytest.mark.parametrize("scenario", CONTEXT_SCENARIOS)
@pytest.mark.parametrize("lane", sorted(available_lanes()))
def test_normalize_beside_its_meta_reproduces_the_golden(
        capsysbinary: pytest.CaptureFixture[bytes], lane: str, scenario: str) -> None:
    native = CASSETTES / scenario / available_lanes()[lane].native_file
    if not native.exists():
        pytest.skip(f"{scenario} has no {lane} recording")
    code, out = _normalize(capsysbinary, "--lane", lane, str(native))
    assert code == 0
    assert out == (GOLDEN / scenario / f"{lane}.jsonl").read_bytes()


def test_without_meta_the_context_is_unknown(capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    """The test above fails when the meta file is ignored: this is what ignoring it prints."""
    native = CASSETTES / "hello" / "codex-native.jsonl"
    code, out = _normalize(capsysbinary, "--lane", "codex-native", "--no-meta", str(native))
    assert code == 0
    assert out != (GOLDEN / "hello" / "codex-native.jsonl").read_bytes()
    session = json.loads(out.splitlines()[0])
    assert session["sandbox"] == "unknown" and session["model"] is None


def test_explicit_meta_file_and_flags_override(tmp_path: Path,
                                               capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    copy = tmp_path / "stream.jsonl"
    shutil.copy(CASSETTES / "hello" / "codex-native.jsonl", copy)
    meta = CASSETTES / "hello" / "codex.meta.json"
    code, out = _normalize(capsysbinary, "--lane", "codex-native", "--meta", str(meta), str(copy))
    assert code == 0
    assert out == (GOLDEN / "hello" / "codex-native.jsonl").read_bytes()
    code, out = _normalize(capsysbinary, "--lane", "codex-native", "--meta", str(meta),
                           "--sandbox", "read-only", str(copy))
    session = json.loads(out.splitlines()[0])
    assert session["sandbox"] == "read-only" and session["model"] == "gpt-5.5"


def test_meta_beside_a_copy_is_found_by_file_name(tmp_path: Path) -> None:
    for name in ("codex-native.jsonl", "codex.meta.json", "claude.meta.json"):
        shutil.copy(CASSETTES / "cwd" / name, tmp_path / name)
    assert meta_for(tmp_path / "codex-native.jsonl") == tmp_path / "codex.meta.json"
    assert recorded_context(tmp_path / "codex-native.jsonl").cwd is not None
    assert meta_for(tmp_path / "claude-code.jsonl") == tmp_path / "claude.meta.json"
    assert meta_for(tmp_path / "other.jsonl") is None
    assert recorded_context(tmp_path / "elsewhere.jsonl").sandbox == "unknown"


@pytest.mark.parametrize("scenario", ["cwd", "resume_twice"])
def test_plugin_normalize_uses_the_meta_too(scenario: str) -> None:
    from harness.contract.model import dump_event_line  # noqa: PLC0415
    from harness.testing.pytest_plugin import normalize_events  # noqa: PLC0415

    for lane in ("codex-native", "anthropic", "gemini-cli"):
        native = CASSETTES / scenario / available_lanes()[lane].native_file
        text = b"".join(dump_event_line(e) for e in normalize_events(lane, native))
        assert text == (GOLDEN / scenario / f"{lane}.jsonl").read_bytes(), lane


def test_a_broken_meta_file_is_one_line_and_exit_2(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    shutil.copy(CASSETTES / "hello" / "codex-native.jsonl", tmp_path / "codex-native.jsonl")
    (tmp_path / "codex.meta.json").write_text("{not json")
    assert main(["normalize", "--lane", "codex-native",
                 str(tmp_path / "codex-native.jsonl")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "codex.meta.json: unreadable meta file" in err[0]


def test_normalize_cli_process_reads_the_meta() -> None:
    """The installed command, as a user pipes it (one process; the rest run in-process)."""
    native = CASSETTES / "resume" / "codex-native.jsonl"
    done = subprocess.run([sys.executable, "-m", "harness", "normalize", "--lane", "codex-native",
                           str(native)], capture_output=True, check=False, cwd=REPO)
    assert done.returncode == 0, done.stderr
    assert done.stdout == (GOLDEN / "resume" / "codex-native.jsonl").read_bytes()
