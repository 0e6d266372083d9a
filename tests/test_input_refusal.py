"""A lane refuses input it cannot read as its own: an empty file, or another lane's file, ends
in one `file:1: reason` line and exit code 2 (strict mode), never exit 0 with nothing kept."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from harness.cli import main
from harness.contract.lane import available_lanes

CATALOG = Path(__file__).resolve().parents[1] / "cassettes" / "shell_ok"
LANES = available_lanes()
FILES = {lane_id: CATALOG / spec.native_file for lane_id, spec in LANES.items()}


@pytest.mark.parametrize("lane, owner", [
    (lane, owner) for lane, owner in itertools.permutations(sorted(FILES), 2)])
def test_another_lanes_file_is_refused_naming_its_lane(
        lane: str, owner: str, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["normalize", "--lane", lane, str(FILES[owner])])
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    assert err == (f"harness: {FILES[owner]}:1: looks like {owner} input "
                   f"({LANES[owner].native_file}), not {lane} input\n")


@pytest.mark.parametrize("lane", sorted(FILES))
def test_each_lane_reads_its_own_catalog_file(lane: str,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["normalize", "--lane", lane, str(FILES[lane])]) == 0
    assert '"session.started"' in capsys.readouterr().out


@pytest.mark.parametrize("lane", sorted(FILES))
def test_an_empty_input_is_refused(lane: str, tmp_path: Path,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    empty = tmp_path / "empty"
    empty.write_text("\n  \n")
    assert main(["normalize", "--lane", lane, str(empty)]) == 2
    assert capsys.readouterr().err == f"harness: {empty}:1: empty input: nothing to normalize\n"


def test_lenient_mode_keeps_a_foreign_file_instead_of_refusing(
        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["normalize", "--lane", "claude-code", "--lenient",
                 str(FILES["codex-native"])]) == 0
    assert '"unknown"' in capsys.readouterr().out


def test_validate_fails_an_empty_log_and_one_without_a_session(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    assert main(["validate", str(empty)]) == 1
    assert "log_empty" in capsys.readouterr().out
    notice = ('{"schema_version":1,"seq":0,"type":"item.completed","lane":"x","thread_id":null,'
              '"turn":null,"item":{"id":"u","status":"completed","kind":"unknown",'
              '"native_type":"x","payload":{}}}\n')
    sessionless = tmp_path / "unknown.jsonl"
    sessionless.write_text(notice)
    assert main(["validate", str(sessionless)]) == 1
    assert "no_session" in capsys.readouterr().out
    golden = Path(__file__).resolve().parents[1] / "golden" / "shell_ok" / "codex-native.jsonl"
    assert main(["validate", str(golden)]) == 0


def test_scan_of_a_missing_path_is_an_error_not_a_clean_pass(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scan", str(tmp_path / "no-such-folder")]) == 2
    assert "no such file or directory" in capsys.readouterr().err
    assert main(["scan", str(tmp_path)]) == 0
