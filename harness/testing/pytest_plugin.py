"""pytest plugin (entry point `harness`): lets a user's own test suite use the harness.

Fixtures (session-scoped and stateless, so they work inside hypothesis' `@given`):
- `normalize_file(lane_id, path, context=None) -> list[Event]`: a native file or cassette through
  a lane, eagerly; without `context`, the recording's own (its `<runtime>.meta.json`) is used.
- `load_cassette(path) -> list[Interaction]`: an HTTP cassette (ours or any vcrpy one), read.
- `assert_equivalent(a, b, strength="structural")`: fails with the equivalence diff that points at
  the first divergence, not a wall of unequal dicts.
- `jsonl_snapshot` (function-scoped, as syrupy's `snapshot` is): one reviewable JSONL golden per
  snapshot under the `harness_snapshot_dir` ini option (default `golden/_snapshots`, relative to
  pytest's rootdir); needs syrupy, which is imported only when asked for.

Lanes x scenarios: `@pytest.mark.harness_cells(lanes=[...], scenarios=[...])` on a test taking a
`harness_cell` argument runs it once per recorded cell of the catalog (`harness_cassettes` ini
option, default `cassettes`); `catalog_cells()` gives the same `pytest.param`s for
`@pytest.mark.parametrize`.

Replay never touches the network: while the plugin's fixtures normalize or load, every socket
may connect to loopback only (pytest-socket; anything else raises `SocketBlockedError`). Turn it
off with `--harness-allow-network` or the ini option `harness_block_network = false`.

Hypothesis strategies for native streams live in `harness.testing.strategies`.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NamedTuple

import pytest
from pydantic import BaseModel

from harness.conformance.equivalence import Strength, equivalent
from harness.contract.lane import RunContext, available_lanes, get_lane, normalize_path
from harness.contract.model import Event
from harness.contract.runmeta import recorded_context
from harness.record.cassette import Interaction, read_http_cassette
from harness.testing import missing_extra

NormalizeFile = Callable[..., list[Event]]
AssertEquivalent = Callable[..., None]
LogLike = Iterable[BaseModel | Mapping[str, Any]]

LOOPBACK = ["127.0.0.0/8", "::1"]
BLOCK_OPTION = "harness_block_network"
ALLOW_FLAG = "--harness-allow-network"
SNAPSHOT_OPTION = "harness_snapshot_dir"
CASSETTES_OPTION = "harness_cassettes"
CELLS_MARKER = "harness_cells"


# ------------------------------------------------------------------------------ options


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("harness", "agent-conformance-harness")
    group.addoption(ALLOW_FLAG, action="store_true", default=False,
                    help="let the harness fixtures open non-loopback sockets during replay")
    parser.addini(BLOCK_OPTION, type="bool", default=True,
                  help="harness fixtures allow loopback sockets only while replaying "
                       "(pytest-socket); default true")
    parser.addini(SNAPSHOT_OPTION, default="golden/_snapshots",
                  help="folder of jsonl_snapshot goldens, relative to rootdir "
                       "(default golden/_snapshots)")
    parser.addini(CASSETTES_OPTION, default="cassettes",
                  help="catalog folder harness_cells/catalog_cells read, relative to rootdir")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", f"{CELLS_MARKER}(lanes=None, scenarios=None, cassettes=None): run the test "
        "once per recorded lane x scenario cell, as its `harness_cell` argument")


def _blocking(config: pytest.Config) -> bool:
    return bool(config.getini(BLOCK_OPTION)) and not config.getoption(ALLOW_FLAG)


# ------------------------------------------------------------------------------ no network


@contextmanager
def loopback_only() -> Iterator[None]:
    """Within the block sockets connect to loopback only (pytest-socket's host filter); the
    previous `connect` is put back afterwards, whatever guard it was."""
    try:
        import pytest_socket  # noqa: PLC0415 -- optional: only when blocking is on
    except ImportError:
        raise missing_extra("pytest-socket", f"blocking the network during replay ({ALLOW_FLAG} "
                            "turns it off)") from None
    saved = socket.socket.connect
    pytest_socket.socket_allow_hosts(LOOPBACK, allow_unix_socket=True)
    try:
        yield
    finally:
        socket.socket.connect = saved  # type: ignore[method-assign]


@contextmanager
def _no_guard() -> Iterator[None]:
    yield


# ------------------------------------------------------------------------------ helpers


def normalize_events(lane_id: str, path: Path, context: RunContext | None = None
                     ) -> list[Event]:
    """Normalize one file with one lane, eagerly (tests want the whole log). Without a
    `context`, the recording's own (its `<runtime>.meta.json`) is used, as the gate does."""
    path = Path(path)
    return list(normalize_path(get_lane(lane_id), path, context or recorded_context(path)))


def _as_dicts(events: LogLike) -> list[Mapping[str, Any]]:
    return [e.model_dump(mode="json") if isinstance(e, BaseModel) else e for e in events]


def check_equivalent(a: LogLike, b: LogLike, strength: Strength = "structural",
                     labels: tuple[str, str] = ("expected", "actual")) -> None:
    """Raise AssertionError carrying the first divergence when two logs are not equivalent."""
    verdict = equivalent(_as_dicts(a), _as_dicts(b), strength, labels=labels)
    if not verdict.equivalent:
        raise AssertionError(f"normalized logs differ ({strength}):\n{verdict.diff}")


def _guarded(function: Callable[..., Any], config: pytest.Config) -> Callable[..., Any]:
    guard = loopback_only if _blocking(config) else _no_guard

    def call(*args: Any, **kwargs: Any) -> Any:
        with guard():
            return function(*args, **kwargs)

    call.__doc__ = function.__doc__
    return call


# ------------------------------------------------------------------------------ fixtures


@pytest.fixture(scope="session")
def normalize_file(pytestconfig: pytest.Config) -> NormalizeFile:
    """`normalize_file(lane_id, path, context=None) -> list[Event]`, loopback only."""
    return _guarded(normalize_events, pytestconfig)


@pytest.fixture(scope="session")
def load_cassette(pytestconfig: pytest.Config) -> Callable[[Path], list[Interaction]]:
    """`load_cassette(path) -> list[Interaction]` (YAML or JSON vcrpy cassettes, gzip bodies)."""
    return _guarded(read_http_cassette, pytestconfig)


@pytest.fixture(scope="session")
def assert_equivalent() -> AssertEquivalent:
    """`assert_equivalent(expected, actual, strength="structural")` with a readable diff."""
    return check_equivalent


@pytest.fixture
def jsonl_snapshot(request: pytest.FixtureRequest) -> Any:
    """syrupy's snapshot writing JSONL goldens under `harness_snapshot_dir`."""
    from harness.testing.snapshots import extension_in  # noqa: PLC0415 -- syrupy is optional

    folder = Path(request.config.rootpath) / str(request.config.getini(SNAPSHOT_OPTION))
    snapshot = request.getfixturevalue("snapshot")
    return snapshot.use_extension(extension_in(folder))


# ------------------------------------------------------------------------------ lanes x scenarios


class CatalogCell(NamedTuple):
    """One recorded lane x scenario cell: what a user's assertion over the catalog needs."""

    scenario: str
    lane: str
    native: Path
    golden: Path

    def normalize(self) -> list[Event]:
        """The cell's log, with the recording's context, network blocked."""
        with loopback_only():
            return normalize_events(self.lane, self.native)


def catalog_cells(cassettes: Path | str = "cassettes", *, lanes: Sequence[str] | None = None,
                  scenarios: Sequence[str] | None = None,
                  golden: Path | str | None = None) -> list[Any]:
    """`pytest.param(CatalogCell, id="<scenario>-<lane>")` for every recorded cell of the
    catalog (lanes whose SDK is not installed, and scenarios a runtime did not record, are left
    out), for `@pytest.mark.parametrize("cell", catalog_cells(...))`."""
    root = Path(cassettes)
    golden_root = Path(golden) if golden is not None else root.parent / "golden"
    specs = available_lanes()
    chosen = [lane for lane in specs if lanes is None or lane in lanes]
    unknown = set(lanes or ()) - set(specs)
    if unknown:
        raise ValueError(f"unknown or unavailable lane(s): {', '.join(sorted(unknown))}")
    params = []
    for folder in sorted(p for p in root.iterdir() if (p / "scenario.yaml").is_file()):
        if scenarios is not None and folder.name not in scenarios:
            continue
        for lane in chosen:
            native = folder / specs[lane].native_file
            if native.is_file():
                cell = CatalogCell(folder.name, lane, native,
                                   golden_root / folder.name / f"{lane}.jsonl")
                params.append(pytest.param(cell, id=f"{folder.name}-{lane}"))
    return params


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """`@pytest.mark.harness_cells(...)` + a `harness_cell` argument: one test per cell."""
    marker = metafunc.definition.get_closest_marker(CELLS_MARKER)
    if marker is None or "harness_cell" not in metafunc.fixturenames:
        return
    config = metafunc.config
    cassettes = marker.kwargs.get("cassettes") or config.getini(CASSETTES_OPTION)
    root = Path(cassettes) if Path(cassettes).is_absolute() else config.rootpath / cassettes
    metafunc.parametrize("harness_cell", catalog_cells(
        root, lanes=marker.kwargs.get("lanes"), scenarios=marker.kwargs.get("scenarios")))
