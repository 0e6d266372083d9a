"""The shape of the test suite itself: test modules share code only through helper modules, and
each provider's nox session runs exactly that provider's test files."""

from __future__ import annotations

import ast
import functools
import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

REPO = Path(__file__).resolve().parents[1]
TESTS = REPO / "tests"


# ------------------------------------------------------------------------------ imports


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(source: str, module: str, *, package: bool = False) -> set[str]:
    """Every module `source` (the code of `module`) imports, relative imports resolved, with
    `from pkg import name` also counted as importing `pkg.name` (it may be a module)."""
    tree = ast.parse(source)
    here = module.split(".") if package else module.split(".")[:-1]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = here[:len(here) - node.level + 1] if node.level > 1 else here
                origin = ".".join([*base, *([node.module] if node.module else [])])
            else:
                origin = node.module or ""
            found.add(origin)
            found.update(f"{origin}.{alias.name}" for alias in node.names)
    return found


def test_modules(names: set[str]) -> set[str]:
    """The test modules (`tests.test_*`) and conftest (`tests.conftest`) among `names` or
    whose members they are."""
    found = set()
    for name in names:
        parts = name.split(".")
        if len(parts) > 1 and parts[0] == "tests" and (
                parts[1] == "conftest" or parts[1].startswith("test_")):
            found.add(f"tests.{parts[1]}")
    return found


test_modules.__test__ = False  # type: ignore[attr-defined]  # a helper, not a test


def test_the_import_check_sees_every_form() -> None:
    sources = {
        "import tests.test_gate": "tests.test_gate",
        "from tests.test_gate import SHELL": "tests.test_gate",
        "from tests import conftest": "tests.conftest",
        "from tests.conftest import assert_loopback": "tests.conftest",
        "from .test_gate import SHELL": "tests.test_gate",
        "from . import test_gate": "tests.test_gate",
    }
    for source, bad in sources.items():
        assert test_modules(imported_modules(source, "tests.helper")) == {bad}, source
    assert test_modules(imported_modules("from ..test_gate import x", "tests.kit.mod")) == {
        "tests.test_gate"}
    assert test_modules(imported_modules("from .test_x import y", "tests.kit", package=True)
                        ) == set()  # tests.kit.test_x: a module of a helper package
    assert not test_modules(imported_modules(
        "import tests.testing\nfrom tests.lanekit import split\nfrom tests import roundtrip",
        "tests.helper"))


@pytest.mark.parametrize("path", sorted(TESTS.rglob("*.py")),
                         ids=lambda p: str(p.relative_to(TESTS)))
def test_no_module_imports_a_test_module(path: Path) -> None:
    """Shared code lives in helper modules (lanekit, miniatures, codex_requests, netguard,
    roundtrip/, fuzz/), never in a test module or the conftest: importing a test module runs its
    collection-time code and ties one test file's refactoring to another's."""
    bad = test_modules(imported_modules(path.read_text(encoding="utf-8"), _module_name(path),
                                        package=path.name == "__init__.py"))
    assert not bad, f"{path.relative_to(REPO)} imports {sorted(bad)}"


# ------------------------------------------------------------------------------ nox sessions


PROVIDER_OF_PREFIX = {"test_codex": "codex", "test_responses": "codex",
                      "test_anthropic": "anthropic", "test_claude": "anthropic",
                      "test_gemini": "gemini"}
"""Which provider session a test file belongs to, by the start of its name."""


@functools.cache
def _noxfile() -> ModuleType:
    """noxfile.py, loaded once (its sessions register with nox on loading)."""
    spec = importlib.util.spec_from_file_location("noxfile_under_test", REPO / "noxfile.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _sessions_of() -> dict[str, list[str]]:
    """Test file name -> the provider sessions whose patterns pick it."""
    picked: dict[str, list[str]] = {}
    for provider, (_, patterns) in _noxfile().PROVIDER_TESTS.items():
        files = {p.name for pattern in patterns for p in REPO.glob(pattern)}
        for name in files:
            picked.setdefault(name, []).append(provider)
    return picked


def test_every_provider_pattern_matches_a_file() -> None:
    for provider, (_, patterns) in _noxfile().PROVIDER_TESTS.items():
        for pattern in patterns:
            assert list(REPO.glob(pattern)), f"{provider}: {pattern} matches no file"


def test_each_provider_test_file_runs_in_exactly_its_provider_session() -> None:
    picked = _sessions_of()
    expected = {p.name: provider for p in TESTS.glob("test_*.py")
                for prefix, provider in PROVIDER_OF_PREFIX.items()
                if p.name.startswith(prefix)}
    assert expected, "no provider test files found"
    for name, provider in sorted(expected.items()):
        assert picked.get(name) == [provider], f"{name}: sessions {picked.get(name, [])}"
    stray = sorted(set(picked) - set(expected))
    assert not stray, f"provider sessions run files of no provider: {stray}"


def test_no_provider_session_runs_the_round_trip_tests() -> None:
    """The round-trip kits drive every provider's lane, so they need every SDK (`nox -s tests`)."""
    assert not [name for name in _sessions_of() if name.startswith("test_roundtrip")]
