"""The pytest plugin in a user's suite: fixtures inside @given, lanes x scenarios
parametrization, replay with non-loopback sockets blocked, the snapshot folder option."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]
REPO = Path(__file__).resolve().parents[1]
CASSETTES = REPO / "cassettes"

@pytest.fixture(autouse=True)
def _outer_socket_guard_survives() -> Iterator[None]:
    """An in-process pytester run loads pytest-socket's plugin, whose teardown resets socket
    patches: put back this suite's own network guard afterwards."""
    socket_class, connect = socket.socket, socket.socket.connect
    yield
    socket.socket = socket_class  # type: ignore[misc]
    socket.socket.connect = connect  # type: ignore[method-assign]



def test_fixtures_work_inside_given(pytester: pytest.Pytester) -> None:
    """Session-scoped, stateless fixtures pass hypothesis' function-scoped-fixture check."""
    pytester.makepyfile(f'''
        from pathlib import Path
        from hypothesis import given, settings, strategies as st

        CASSETTES = Path({str(CASSETTES)!r})

        @settings(max_examples=5, deadline=None, database=None)
        @given(st.sampled_from(["hello", "shell_ok", "resume"]))
        def test_every_draw(normalize_file, assert_equivalent, load_cassette, scenario):
            native = normalize_file("codex-native", CASSETTES / scenario / "codex-native.jsonl")
            assert native[0].type == "session.started" and native[0].sandbox != "unknown"
            assert_equivalent(native, native, "strict")
            assert load_cassette(CASSETTES / scenario / "codex.http.yaml")
    ''')
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)


def test_cells_marker_and_helper_run_once_per_recorded_cell(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(f'''
        import pytest
        from harness.contract.model import dump_event_line
        from harness.testing.pytest_plugin import catalog_cells

        CASSETTES = {str(CASSETTES)!r}

        @pytest.mark.harness_cells(cassettes=CASSETTES, lanes=["codex-native", "claude-code"],
                                   scenarios=["hello", "resume"])
        def test_marker(harness_cell):
            text = b"".join(dump_event_line(e) for e in harness_cell.normalize())
            assert text == harness_cell.golden.read_bytes()

        @pytest.mark.parametrize("cell", catalog_cells(CASSETTES, lanes=["gemini-cli"],
                                                       scenarios=["hello", "cwd", "plugin_native"]))
        def test_helper(cell, normalize_file):
            events = normalize_file(cell.lane, cell.native)
            assert events[0].lane == "gemini-cli" and cell.scenario in {{"hello", "cwd"}}
    ''')
    result = pytester.runpytest("-p", "no:cacheprovider", "-v")
    result.assert_outcomes(passed=6)  # 2 x 2 marker cells, 2 helper cells (no gemini plugins)
    result.stdout.fnmatch_lines(["*test_marker?hello-codex-native? PASSED*",
                                 "*test_marker?resume-claude-code? PASSED*",
                                 "*test_helper?cwd-gemini-cli? PASSED*"])


def test_cells_marker_reads_the_ini_catalog(pytester: pytest.Pytester) -> None:
    pytester.makeini(f"[pytest]\nharness_cassettes = {CASSETTES}\n")
    pytester.makepyfile('''
        import pytest

        @pytest.mark.harness_cells(lanes=["codex-adapter"], scenarios=["shell_ok"])
        def test_marker(harness_cell):
            assert harness_cell.native.name == "codex.http.yaml"
    ''')
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=1)


NETWORK_PROBE = '''
    import socket
    import pytest
    import pytest_socket
    import harness.testing.pytest_plugin as plugin

    seen = {}

    def fake_normalize_path(lane, path, context):
        seen["connect"] = socket.socket.connect.__name__
        if seen["connect"] == "guarded_connect":
            with pytest.raises(pytest_socket.SocketConnectBlockedError):
                socket.create_connection(("192.0.2.1", 9), timeout=1)
            server = socket.create_server(("127.0.0.1", 0))
            with server, socket.create_connection(server.getsockname(), timeout=5):
                pass  # loopback stays open (the stub servers of replay live there)
        return iter(())

    def test_replay(normalize_file, monkeypatch):
        before = socket.socket.connect
        monkeypatch.setattr(plugin, "normalize_path", fake_normalize_path)
        normalize_file("codex-native", __file__)
        assert socket.socket.connect is before  # the guard is lifted after the call
        print("CONNECT=" + seen["connect"])
'''


def test_replay_blocks_non_loopback_sockets_by_default(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(NETWORK_PROBE)
    result = pytester.runpytest("-p", "no:cacheprovider", "-s")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*CONNECT=guarded_connect*"])


@pytest.mark.parametrize("how", ["flag", "ini"])
def test_network_blocking_can_be_turned_off(pytester: pytest.Pytester, how: str) -> None:
    pytester.makepyfile(NETWORK_PROBE)
    if how == "ini":
        pytester.makeini("[pytest]\nharness_block_network = false\n")
    args = ["--harness-allow-network"] if how == "flag" else []
    result = pytester.runpytest("-p", "no:cacheprovider", "-s", *args)
    result.assert_outcomes(passed=1)
    assert "CONNECT=guarded_connect" not in result.stdout.str()


SNAPSHOT_TEST = f'''
    from pathlib import Path

    def test_snapshot(normalize_file, jsonl_snapshot):
        native = Path({str(CASSETTES)!r}) / "hello" / "codex-native.jsonl"
        assert normalize_file("codex-native", native) == jsonl_snapshot
'''


def test_snapshot_folder_is_the_ini_option(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nharness_snapshot_dir = review/snaps\n")
    pytester.makepyfile(SNAPSHOT_TEST)
    pytester.runpytest("-p", "no:cacheprovider", "--snapshot-update").assert_outcomes(passed=1)
    written = list(pytester.path.glob("review/snaps/*/*.jsonl"))
    assert [p.relative_to(pytester.path).as_posix() for p in written] == [
        "review/snaps/test_snapshot_folder_is_the_ini_option/test_snapshot.jsonl"]
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=1)


def test_snapshot_folder_does_not_move_with_a_pyproject(pytester: pytest.Pytester) -> None:
    """The default sits under pytest's rootdir; a pyproject.toml beside the tests (not the
    rootdir's ini) does not move it."""
    pytester.makeini("[pytest]\n")
    sub = pytester.mkpydir("suite")
    (sub / "pyproject.toml").write_text("[project]\nname = 'inner'\n")
    (sub / "test_inner.py").write_text(SNAPSHOT_TEST.replace("\n    ", "\n"))
    pytester.runpytest("-p", "no:cacheprovider", "--snapshot-update").assert_outcomes(passed=1)
    assert [p.relative_to(pytester.path).as_posix()
            for p in pytester.path.glob("**/*.jsonl")] == [
        "golden/_snapshots/test_inner/test_snapshot.jsonl"]
