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
from harness.record.runtimes.registry import get_driver

REPO = Path(__file__).resolve().parents[1]
CASSETTES = REPO / "cassettes"
GOLDEN = REPO / "golden"
CONTEXT_SCENARIOS = ["hello", "cwd", "resume", "resume_twice", "sandbox_readonly_write"]
"""A plain run, a `-C` subdirectory, one and two resumes, a read-only sandbox."""


# ------------------------------------------------------------------------------ run context


def _normalize(capsysbinary: pytest.CaptureFixture[bytes], *argv: str) -> tuple[int, bytes]:
    code = main(["normalize", *argv])
    return code, capsysbinary.readouterr().out


RECORDED_CELLS = [(lane, scenario) for scenario in CONTEXT_SCENARIOS
                  for lane in sorted(available_lanes())
                  if (CASSETTES / scenario / available_lanes()[lane].native_file).exists()]
"""Every lane's recording of the context scenarios (a scenario a runtime cannot express has
none for its lanes)."""


@pytest.mark.parametrize(("lane", "scenario"), RECORDED_CELLS)
def test_normalize_beside_its_meta_reproduces_the_golden(
        capsysbinary: pytest.CaptureFixture[bytes], lane: str, scenario: str) -> None:
    native = CASSETTES / scenario / available_lanes()[lane].native_file
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


# ------------------------------------------------------------------------ version, completion


def test_version_prints_the_installed_version(capsys: pytest.CaptureFixture[str]) -> None:
    from importlib.metadata import version  # noqa: PLC0415

    with pytest.raises(SystemExit) as stop:
        main(["--version"])
    assert stop.value.code == 0
    assert capsys.readouterr().out == f"harness {version('agent-conformance-harness')}\n"


@pytest.mark.parametrize("shell", ["bash", "zsh"])
def test_completion_script_knows_every_command_and_option(
        shell: str, capsys: pytest.CaptureFixture[str]) -> None:
    from harness.cli import COMMANDS  # noqa: PLC0415

    assert main(["completion", shell]) == 0
    script = capsys.readouterr().out
    assert all(name in script for name in COMMANDS)
    assert "--format" in script and "--update-golden" in script and "--lenient" in script
    files = "_shtab_compgen_files" if shell == "bash" else "_files"
    assert files in script  # normalize's and validate's inputs complete as files


def test_bash_completion_completes_a_subcommand(capsys: pytest.CaptureFixture[str],
                                                tmp_path: Path) -> None:
    """The script as bash runs it: `harness nor<TAB>` -> normalize."""
    bash = shutil.which("bash")
    if bash is None:
        pytest.skip("no bash")
    assert main(["completion", "bash"]) == 0
    script = tmp_path / "harness.bash"
    script.write_text(capsys.readouterr().out)
    probe = (f"source {script}; COMP_WORDS=(harness nor); COMP_CWORD=1; COMP_LINE='harness nor';"
             " COMP_POINT=${#COMP_LINE}; _shtab_harness; echo ${COMPREPLY[@]}")
    done = subprocess.run([bash, "-c", probe], capture_output=True, text=True, check=False)
    assert done.stdout.split() == ["normalize"], done.stderr


# ------------------------------------------------------------------------------ check --format json


def _catalog_copy(tmp_path: Path, scenario: str) -> tuple[Path, Path]:
    cassettes, golden = tmp_path / "cassettes", tmp_path / "golden"
    shutil.copytree(CASSETTES / scenario, cassettes / scenario)
    shutil.copytree(GOLDEN / scenario, golden / scenario)
    return cassettes, golden


CODEX_PAIR = ["--lane", "codex-native", "--lane", "codex-adapter", "--scenario", "shell_ok"]
"""Two lanes on one scenario (naming the scenario keeps the catalog-wide capability check,
which needs every scenario, out of it)."""


def test_check_json_on_stdout_matrix_on_stderr(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    cassettes, golden = _catalog_copy(tmp_path, "shell_ok")
    code = main(["check", "--cassettes", str(cassettes), "--golden", str(golden), *CODEX_PAIR,
                 "--jobs", "1", "--report", str(tmp_path / "report"), "--format", "json"])
    out, err = capsys.readouterr()
    found = json.loads(out)
    assert code == 0 and found["ok"] is True
    assert "conformance: lanes x scenarios" in err and "PASS" in err
    assert found["scenarios"] == ["shell_ok"] and found["lanes"] == ["codex-adapter",
                                                                       "codex-native"]
    cell = next(c for c in found["cells"] if c["lane"] == "codex-native")
    ids = [check["id"] for check in cell["checks"]]
    assert ids == ["schema", "order", "golden", "outline"]
    assert all(check["ok"] for check in cell["checks"]) and cell["seconds"] > 0
    (pair,) = found["pairs"]
    assert pair["lanes"] == ["codex-adapter", "codex-native"] and pair["status"] in {
        "pass", "masked"}
    assert pair["seconds"] > 0 and pair["failed_checks"] == []
    assert found["seconds"] > 0 and found["run"]["harness"] and found["run"]["date"]
    pinned = get_driver("codex").version  # the catalog is recorded with the pin
    assert found["run"]["runtimes"]["codex"] == [pinned]
    import xml.etree.ElementTree as ET  # noqa: PLC0415

    junit = ET.parse(tmp_path / "report" / "junit.xml").getroot()
    properties = {p.get("name"): p.get("value") for p in junit.iter("property")}
    assert properties["harness"] == found["run"]["harness"]
    assert properties["runtimes.codex"] == pinned and "date" in properties


def test_check_json_names_the_failed_check(tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    cassettes, golden = _catalog_copy(tmp_path, "shell_ok")
    target = golden / "shell_ok" / "codex-native.jsonl"
    target.write_text(target.read_text().replace('"exit_code":0', '"exit_code":3', 1))
    code = main(["check", "--cassettes", str(cassettes), "--golden", str(golden), *CODEX_PAIR,
                 "--jobs", "1", "--report", str(tmp_path / "report"), "--format", "json", "-q"])
    out, err = capsys.readouterr()
    found = json.loads(out)
    assert code == 1 and found["ok"] is False
    assert err.strip() == "FAIL"  # --quiet: no matrix, only the verdict
    cell = next(c for c in found["cells"] if c["lane"] == "codex-native")
    assert cell["status"] == "fail"
    assert [c["id"] for c in cell["checks"] if not c["ok"]] == ["golden"]


def test_check_in_a_pipe_prints_no_terminal_codes(tmp_path: Path) -> None:
    """Not a TTY: no progress bar, no colour codes, JSON alone on stdout."""
    cassettes, golden = _catalog_copy(tmp_path, "hello")
    done = subprocess.run(
        [sys.executable, "-m", "harness", "check", "--cassettes", str(cassettes), "--golden",
         str(golden), "--lane", "codex-native", "--scenario", "hello", "--jobs", "1",
         "--format", "json"],
        capture_output=True, text=True, check=False, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["ok"] is True
    assert "\x1b" not in done.stderr and "\r" not in done.stderr
    assert "cells" not in done.stderr.split("conformance")[0]  # no progress line before it


# ------------------------------------------------------------------------------ 80 columns


def _catalog_result() -> object:
    from harness.conformance.results import GateResult  # noqa: PLC0415
    from harness.scenario import load_scenario, scenario_dirs  # noqa: PLC0415

    scenarios = {d.name: load_scenario(d / "scenario.yaml") for d in scenario_dirs(CASSETTES)}
    return GateResult([], [], available_lanes(), scenarios)


def _matrix_text(width: int) -> str:
    import io  # noqa: PLC0415

    from rich.console import Console  # noqa: PLC0415

    from harness.conformance.report import print_matrix  # noqa: PLC0415

    buffer = io.StringIO()
    print_matrix(_catalog_result(), Console(file=buffer, width=width))  # type: ignore[arg-type]
    return buffer.getvalue()


def test_matrix_fits_80_columns_with_whole_scenario_names() -> None:
    text = _matrix_text(80)
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= 80
    rows = {line.split("│")[1].strip() for line in lines if line.startswith("│")}
    assert rows == {d.name for d in (CASSETTES).iterdir()
                    if (d / "scenario.yaml").exists()}
    legend = " ".join(line for line in lines if not line.startswith(("│", "┃", "┏", "└", "┡")))
    for lane in available_lanes():
        assert lane in legend  # each short header is explained
    assert "cn=codex-native" in legend and "ca=codex-adapter" in legend  # never split


def test_matrix_keeps_full_lane_headers_when_they_fit() -> None:
    header = next(line for line in _matrix_text(200).splitlines() if line.startswith("┃"))
    assert all(lane in header for lane in available_lanes())
    assert "lanes:" not in _matrix_text(200)


def test_short_headers_are_unique() -> None:
    from harness.conformance.report import short_headers  # noqa: PLC0415

    assert short_headers(["codex-native", "claude-code", "anthropic"]) == {
        "codex-native": "cn", "claude-code": "cc", "anthropic": "a"}
    clash = short_headers(["gemini-cli", "gemini-core", "x"])
    assert clash == {"gemini-cli": "gc1", "gemini-core": "gc2", "x": "x"}


# ------------------------------------------------------------------------------ progress


def test_progress_bar_only_on_a_terminal() -> None:
    import io  # noqa: PLC0415

    from rich.console import Console  # noqa: PLC0415

    from harness.cli.check import progress_bar  # noqa: PLC0415

    with progress_bar(Console(file=io.StringIO(), force_terminal=False)) as on_cell:
        assert on_cell is None
    with progress_bar(Console(file=io.StringIO(), force_terminal=True), enabled=False) as on_cell:
        assert on_cell is None
    screen = io.StringIO()
    with progress_bar(Console(file=screen, force_terminal=True, width=100)) as on_cell:
        assert on_cell is not None
        on_cell(3, 12, "hello / codex-native")
    assert "3/12" in screen.getvalue() and "hello / codex-native" in screen.getvalue()


# ------------------------------------------------------------------------------ HTML diffs


def test_golden_changes_are_fields_not_lines() -> None:
    from harness.conformance.report import golden_changes  # noqa: PLC0415

    old = {"seq": 2, "type": "item.completed", "item": {"output": "a", "exit_code": 0}}
    new = {"seq": 2, "type": "item.completed", "item": {"output": "a", "exit_code": 1}}
    extra = {"seq": 3, "type": "turn.completed"}
    diff = "\n".join(["--- golden", "+++ this run", "@@ -1 +1 @@", " {\"seq\":1}",
                      "-" + json.dumps(old), "+" + json.dumps(new), "+" + json.dumps(extra)])
    rows = golden_changes(diff)
    assert rows is not None
    assert [(where, field, a, b) for where, field, a, b in rows[:1]] == [
        ("seq 2 item.completed", "item.exit_code", 0, 1)]
    assert rows[1][:2] == ("seq 3 turn.completed", "(whole event)") and rows[1][3] == extra
    assert len(rows) == 2
    assert golden_changes("no golden file golden/x.jsonl (run with --update-golden)") is None
    assert golden_changes("--- a\n+++ b\n-not json\n+either") is None
