"""The package as a user installs it: a wheel built here, installed into a throwaway folder,
works away from the checkout (schemas as package data, `harness schema --check`, normalize);
the public API; the `testing` extra named when its libraries are missing; file modes; the
TypeScript `Item` union."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import sysconfig
import tomllib
import zipfile
from pathlib import Path

import pytest

import harness
from harness.fsutil import atomic_write_text, commit_files

REPO = Path(__file__).resolve().parents[1]
SOURCES = ["harness", "lanes", "schemas", "pyproject.toml", "README.md"]
"""What the wheel is built from (copied, so the build leaves nothing in the checkout)."""


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel, built offline from a copy of the sources (links kept, as git keeps them)."""
    for module in ("setuptools", "wheel"):
        if not _importable(module):
            pytest.fail(f"building the wheel needs {module}: pip install -e '.[dev]'")
    root = tmp_path_factory.mktemp("wheel")
    source = root / "src"
    source.mkdir()
    for name in SOURCES:
        origin = REPO / name
        if origin.is_dir():
            shutil.copytree(origin, source / name, symlinks=True,
                            ignore=shutil.ignore_patterns("__pycache__", "codex"))
        else:
            shutil.copy(origin, source / name)
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps",
                           "--no-build-isolation", "--no-index", "-q", "-w", str(root / "dist"),
                           str(source)], capture_output=True, text=True, check=False, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    (built,) = (root / "dist").glob("*.whl")
    return built


def _importable(module: str) -> bool:
    return subprocess.run([sys.executable, "-c", f"import {module}"], capture_output=True,
                          check=False).returncode == 0


@pytest.fixture(scope="module")
def installed(wheel: Path) -> Path:
    """The wheel installed (no index, no dependencies) into a folder of its own."""
    target = wheel.parent / "site"
    done = subprocess.run([sys.executable, "-m", "pip", "install", "--no-index", "--no-deps",
                           "-q", "--target", str(target), str(wheel)],
                          capture_output=True, text=True, check=False, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    return target


def _run_installed(site: Path, *argv: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """`python -S`: no .pth files, so the checkout's editable install is invisible; the wheel's
    folder comes first, this environment's site-packages give the dependencies."""
    paths = [str(site), sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(paths)}
    return subprocess.run([sys.executable, "-S", *argv], capture_output=True, text=True,
                          check=False, cwd=cwd, env=env, timeout=120)


def test_wheel_carries_the_schema_and_declarations(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    assert "harness/schemas/normalized-log.v1.schema.json" in names
    assert "harness/schemas/normalized-log.v1.d.ts" in names
    assert "harness/py.typed" in names
    assert not [n for n in names if n.startswith("harness/schemas/codex")]


def test_schema_check_passes_from_the_installed_wheel(installed: Path, tmp_path: Path) -> None:
    where = _run_installed(installed, "-c", "import harness; print(harness.__file__)",
                           cwd=tmp_path)
    assert where.stdout.strip().startswith(str(installed)), where.stderr
    done = _run_installed(installed, "-m", "harness", "schema", "--check", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    version = _run_installed(installed, "-m", "harness", "--version", cwd=tmp_path)
    assert version.stdout.strip() == f"harness {harness.__version__}"


def test_schema_check_sees_a_stale_installed_file(installed: Path, tmp_path: Path) -> None:
    """The check above fails when the shipped file is not the model's: a copy proves it."""
    broken = tmp_path / "site"
    shutil.copytree(installed, broken)
    (broken / "harness" / "schemas" / "normalized-log.v1.d.ts").write_text("// stale\n")
    done = _run_installed(broken, "-m", "harness", "schema", "--check", cwd=tmp_path)
    assert done.returncode == 1 and "normalized-log.v1.d.ts: stale" in done.stderr


def test_installed_wheel_validates_and_normalizes(installed: Path, tmp_path: Path) -> None:
    native = REPO / "cassettes" / "shell_ok" / "codex-native.jsonl"
    done = _run_installed(installed, "-m", "harness", "normalize", "--lane", "codex-native",
                          str(native), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout == (REPO / "golden" / "shell_ok" / "codex-native.jsonl").read_text()
    log = tmp_path / "log.jsonl"
    log.write_text(done.stdout)
    valid = _run_installed(installed, "-m", "harness", "validate", str(log), cwd=tmp_path)
    assert valid.returncode == 0, valid.stdout + valid.stderr


# ------------------------------------------------------------------------------ public API


def test_public_api_is_all_and_resolves() -> None:
    assert sorted(harness.__all__) == sorted([*harness.PUBLIC, "__version__"])
    for name in harness.__all__:
        assert getattr(harness, name) is not None, name
    assert harness.RunContext is harness.recorded_context.__globals__["RunContext"]


def test_import_harness_loads_nothing_else() -> None:
    probe = "import sys, harness; print(sorted(m for m in sys.modules if m.startswith('harness')))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          check=True)
    assert done.stdout.strip() == "['harness']"


# ------------------------------------------------------------------------------ testing extra


def test_testing_extra_lists_the_test_libraries() -> None:
    extras = tomllib.loads((REPO / "pyproject.toml").read_text())["project"][
        "optional-dependencies"]
    names = {requirement.split(">")[0].split("=")[0] for requirement in extras["testing"]}
    assert {"pytest", "hypothesis", "syrupy", "pytest-socket"} <= names


@pytest.mark.parametrize(("module", "missing"), [
    ("harness.testing.strategies", "hypothesis"),
    ("harness.testing.snapshots", "syrupy"),
])
def test_a_missing_test_library_names_the_extra(module: str, missing: str) -> None:
    probe = (f"import sys; sys.modules[{missing!r}] = None\n"
             f"try:\n    import {module}\n"
             "except ImportError as exc:\n    print(type(exc).__name__, exc)\n")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          check=True)
    assert done.stdout.startswith("MissingTestingExtraError")
    assert f"needs {missing}" in done.stdout
    assert "agent-conformance-harness[testing]" in done.stdout


# ------------------------------------------------------------------------------ file modes


def test_written_files_are_0644(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        atomic_write_text(tmp_path / "one.txt", "x")
        commit_files(tmp_path / "set", {"a.json": b"{}", "b.jsonl": b""}, name="set")
    finally:
        os.umask(old)
    for path in (tmp_path / "one.txt", tmp_path / "set" / "a.json", tmp_path / "set" / "b.jsonl"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o644, path


# ------------------------------------------------------------------------------ .d.ts


def test_declarations_export_the_item_union() -> None:
    from harness.contract.schema import TYPESCRIPT_NAME, published_text  # noqa: PLC0415

    text = published_text(TYPESCRIPT_NAME)
    assert "export type Item = AssistantMessage | Reasoning | CommandExecution" in text
    assert "  item: Item;" in text  # the events name it instead of repeating the union
    assert text.count("AssistantMessage | Reasoning") == 1


def test_plugin_from_the_installed_wheel(installed: Path, tmp_path: Path) -> None:
    """A separate project's suite, with the harness from the wheel: the plugin's entry point,
    fixtures, cell marker and snapshots."""
    project = tmp_path / "project"
    (project / "tests").mkdir(parents=True)
    (project / "pyproject.toml").write_text(
        "[tool.pytest.ini_options]\n"
        f"harness_cassettes = {str(REPO / 'cassettes')!r}\n")
    (project / "tests" / "test_user.py").write_text(
        "import harness\nimport pytest\n\n"
        "def test_from_wheel():\n"
        f"    assert harness.__file__.startswith({str(installed)!r})\n\n"
        "@pytest.mark.harness_cells(lanes=['codex-native'], scenarios=['hello', 'cwd'])\n"
        "def test_cell(harness_cell, normalize_file, jsonl_snapshot):\n"
        "    events = normalize_file(harness_cell.lane, harness_cell.native)\n"
        "    assert events == jsonl_snapshot\n")
    done = _run_installed(installed, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                          "--snapshot-update", cwd=project)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "3 passed" in done.stdout
    written = sorted(p.name for p in (project / "golden" / "_snapshots").rglob("*.jsonl"))
    assert written == ["test_cell[cwd-codex-native].jsonl", "test_cell[hello-codex-native].jsonl"]


def test_strategies_from_the_installed_wheel(installed: Path, tmp_path: Path) -> None:
    """Every lane's strategy draws from the wheel (its renderers ship in the package, nothing
    comes from tests/), and the wheel's lane reads the draw strictly. The first draw is taken
    as it is (no shrinking: shrinking eight strategies' draws took over two minutes)."""
    probe = (
        "import io, harness, harness.testing.render as render\n"
        "from hypothesis import Phase, find, settings\n"
        "quick = settings(phases=[Phase.generate], database=None, max_examples=20)\n"
        "from harness.testing.strategies import NATIVE_INPUTS, native_inputs\n"
        f"assert render.__file__.startswith({str(installed)!r}), render.__file__\n"
        "for lane_id in sorted(NATIVE_INPUTS):\n"
        "    data = find(native_inputs(lane_id), lambda data: len(data) > 0, settings=quick)\n"
        "    lane = harness.get_lane(lane_id)\n"
        "    events = list(lane.normalize(harness.LaneInput(io.BytesIO(data), 'drawn'),\n"
        "                                 harness.RunContext()))\n"
        "    assert events and all(not harness.validate_event(e.model_dump(mode='json'))\n"
        "                          for e in events), lane_id\n"
        "    print(lane_id)\n")
    done = _run_installed(installed, "-c", probe, cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.split() == sorted(harness.lane_ids())
