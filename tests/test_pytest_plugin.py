"""The pytest plugin as a user's suite sees it: fixtures that load, normalize, compare, snapshot."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]
REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _outer_socket_guard_survives() -> Iterator[None]:
    """An in-process pytester run loads pytest-socket's plugin, whose teardown resets socket
    patches: put back this suite's own network guard afterwards."""
    socket_class, connect = socket.socket, socket.socket.connect
    yield
    socket.socket = socket_class  # type: ignore[misc]
    socket.socket.connect = connect  # type: ignore[method-assign]


def test_fixtures_work_in_a_users_suite(pytester: pytest.Pytester) -> None:
    cassettes = REPO / "cassettes"
    pytester.makepyfile(f'''
        from pathlib import Path
        import pytest

        CASSETTES = Path({str(cassettes)!r})

        def test_normalize_and_compare(normalize_file, assert_equivalent):
            native = normalize_file("codex-native", CASSETTES / "shell_ok" / "codex-native.jsonl")
            adapter = normalize_file("codex-adapter", CASSETTES / "shell_ok" / "codex.http.yaml")
            assert native[0].type == "session.started"
            assert_equivalent(native, adapter)

        def test_cassette_loads(load_cassette):
            interactions = load_cassette(CASSETTES / "shell_ok" / "codex.http.yaml")
            assert interactions[0].request.path.endswith("/responses")

        def test_diff_is_shown(normalize_file, assert_equivalent):
            ok = normalize_file("codex-native", CASSETTES / "shell_ok" / "codex-native.jsonl")
            bad = normalize_file("codex-native", CASSETTES / "shell_fail" / "codex-native.jsonl")
            assert_equivalent(ok, bad)

        def test_snapshot(normalize_file, jsonl_snapshot):
            events = normalize_file("codex-native", CASSETTES / "hello" / "codex-native.jsonl")
            assert events == jsonl_snapshot
    ''')
    pytester.makefile(".toml", pyproject="[project]\nname = 'user-suite'\n")
    first = pytester.runpytest("-p", "no:cacheprovider", "--snapshot-update")
    first.assert_outcomes(passed=3, failed=1)
    first.stdout.fnmatch_lines(["*normalized logs differ (structural)*",
                                "*eq.command_execution.exit_code*"])
    written = list(pytester.path.glob("golden/_snapshots/**/*.jsonl"))
    assert len(written) == 1 and '"session.started"' in written[0].read_text()
    again = pytester.runpytest("-p", "no:cacheprovider", "-k", "snapshot")
    again.assert_outcomes(passed=1)


def test_strategies_are_importable_for_users() -> None:
    from harness.testing import strategies  # noqa: PLC0415 -- the import is what is tested

    assert callable(strategies.codex_exec_streams)
