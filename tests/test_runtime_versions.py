"""Runtime versions side by side: `harness runtimes install name@version` puts any published
version in `.runtimes/<name>@<version>/` without touching the pin, `runtimes list` shows both,
and `harness record --version` records with it into a scratch folder, never over the catalog.

npm is faked by a script on PATH (no network): it writes the package.json npm would, for the
version in its argument, and logs each call so a second install can be seen not to run npm.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest

from harness.cli import main
from harness.cli.record import scratch_scenarios
from harness.conformance.drift import run_drift, write_reports
from harness.contract.errors import HarnessError
from harness.record.recording import record_scenario
from harness.record.runtimes import base
from harness.record.runtimes.install import (
    InstallError,
    install,
    install_dir,
    installed_version,
    installed_versions,
    parse_spec,
)
from harness.record.runtimes.registry import driver_names, get_driver
from harness.scenario import load_scenario
from tests.miniatures import FakeDriver, fake_native_lane, write_scenario

DRIVERS = {name: get_driver(name) for name in ("codex", "claude", "gemini")}
"""Loaded before any test points `.runtimes/` elsewhere (drivers read it when imported)."""

FAKE_NPM = """#!/bin/sh
# fake npm: install --prefix DIR ... PACKAGE@VERSION; view PACKAGE version
echo "$@" >> "{log}"
[ "$1" = view ] && {{ echo "${{FAKE_NPM_LATEST:-9.9.9}}"; exit 0; }}
prefix="$3"; spec="$(eval echo \\${{$#}})"
package="${{spec%@*}}"; version="${{spec##*@}}"
[ -n "$FAKE_NPM_FAIL" ] && {{ echo "npm ERR! 404 No match for version" >&2; exit 1; }}
[ -n "$FAKE_NPM_REPORTS" ] && version="$FAKE_NPM_REPORTS"
mkdir -p "$prefix/node_modules/$package" "$prefix/node_modules/.bin"
printf '{{"name": "%s", "version": "%s"}}' "$package" "$version" \\
  > "$prefix/node_modules/$package/package.json"
"""


@pytest.fixture
def runtimes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A temp `.runtimes/` and a fake npm first on PATH; returns the npm call log."""
    root = tmp_path / "runtimes"
    monkeypatch.setattr(base, "RUNTIMES_DIR", root)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "npm.log"
    npm = bin_dir / "npm"
    npm.write_text(FAKE_NPM.format(log=log))
    npm.chmod(npm.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.delenv("FAKE_NPM_FAIL", raising=False)
    monkeypatch.delenv("FAKE_NPM_REPORTS", raising=False)
    return log


def _calls(log: Path) -> list[str]:
    return log.read_text().splitlines() if log.exists() else []


@pytest.mark.parametrize(("spec", "parsed"), [
    ("codex", ("codex", None)), ("codex@0.171.0", ("codex", "0.171.0")),
    ("gemini@0.20.0-preview.1", ("gemini", "0.20.0-preview.1"))])
def test_a_spec_names_a_runtime_and_maybe_a_version(spec: str,
                                                    parsed: tuple[str, str | None]) -> None:
    assert parse_spec(spec) == parsed


@pytest.mark.parametrize("spec", ["codex@", "codex@latest", "codex@../../etc", "codex@1.2"])
def test_a_version_that_is_not_a_release_is_refused(spec: str) -> None:
    with pytest.raises(InstallError, match="not a published version"):
        parse_spec(spec)


def test_another_version_installs_side_by_side_and_the_pin_stays(runtimes: Path) -> None:
    driver = get_driver("codex")
    pinned = install(driver)
    other = install(driver, "0.150.0")
    assert pinned == base.RUNTIMES_DIR / "codex"
    assert other == base.RUNTIMES_DIR / "codex@0.150.0"
    assert installed_version(driver) == driver.version
    assert installed_version(driver, "0.150.0") == "0.150.0"
    assert _calls(runtimes)[-1].endswith("@openai/codex@0.150.0")
    assert f"--prefix {other}" in _calls(runtimes)[-1]


def test_an_installed_version_is_not_installed_again(runtimes: Path) -> None:
    driver = get_driver("gemini")
    install(driver, "0.20.0")
    install(driver, "0.20.0")
    assert len(_calls(runtimes)) == 1


def test_the_pin_asked_by_version_is_the_pinned_folder(runtimes: Path) -> None:
    driver = get_driver("claude")
    assert install(driver, driver.version) == base.RUNTIMES_DIR / "claude"
    assert not list(base.RUNTIMES_DIR.glob("claude@*"))


def test_a_failed_npm_install_is_an_error(runtimes: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAKE_NPM_FAIL", "1")
    with pytest.raises(InstallError, match=r"npm install @openai/codex@0\.1\.0 failed"):
        install(get_driver("codex"), "0.1.0", quiet=True)


def test_an_install_reporting_another_version_is_an_error(
        runtimes: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAKE_NPM_REPORTS", "0.151.0")
    with pytest.raises(InstallError, match=r"installed but reports 0\.151\.0"):
        install(get_driver("codex"), "0.150.0")


def test_installed_versions_lists_the_pin_then_others_in_version_order(runtimes: Path) -> None:
    driver = get_driver("codex")
    for version in (None, "0.100.0", "0.60.1", "0.169.0"):
        install(driver, version)
    (base.RUNTIMES_DIR / "codex@0.99.0").mkdir()  # broken: no package.json
    found = installed_versions(driver)
    assert [(i.spec, i.pinned) for i in found] == [
        (f"codex@{driver.version}", True), ("codex@0.60.1", False), ("codex@0.100.0", False),
        ("codex@0.169.0", False)]


def test_runtimes_cli_installs_specs_and_lists_name_at_version(
        runtimes: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["runtimes", "install", "codex@0.150.0", "gemini"]) == 0
    assert main(["runtimes", "list"]) == 0
    out = capsys.readouterr().out
    pinned = get_driver("gemini").version
    assert "codex@0.150.0 installed (side by side)" in out
    assert f"gemini@{pinned} installed (pinned)" in out
    assert "claude@" in out and "not installed" in out


def test_runtimes_cli_refuses_a_malformed_version(runtimes: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["runtimes", "install", "codex@next"]) == 2
    assert "not a published version" in capsys.readouterr().err
    assert not _calls(runtimes)


def test_a_versioned_driver_runs_its_own_install_and_reports_its_version(
        runtimes: Path) -> None:
    pinned = get_driver("codex")
    pinned_binary, pinned_version = pinned.binary(), pinned.version
    other = get_driver("codex", "0.150.0")
    assert other.version == "0.150.0" and pinned.version == pinned_version != "0.150.0"
    assert other.binary() == install_dir(pinned, "0.150.0") / "node_modules" / ".bin" / "codex"
    assert pinned.binary() == pinned_binary
    assert get_driver("codex", pinned.version) is pinned


@pytest.mark.parametrize("name", driver_names())
def test_every_driver_writes_the_version_it_runs_into_the_run_context(name: str) -> None:
    """The meta file's `runtime_version` is what lanes read (a release's quirks depend on it): a
    recording made with another installed version must say that version, also for the drivers
    that borrow the run context of the runtime's other surface (app-server, ACP)."""
    scenario = load_scenario(base.REPO_ROOT / "cassettes" / "hello" / "scenario.yaml")
    pinned = get_driver(name)
    assert pinned.context(scenario)["runtime_version"] == pinned.version
    assert get_driver(name, "0.1.0").context(scenario)["runtime_version"] == "0.1.0"


# ------------------------------------------------------------------ harness record --version


def test_record_refuses_another_version_over_the_catalog(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    catalog = base.REPO_ROOT / "cassettes"
    before = sorted(p.name for p in (catalog / "hello").iterdir())
    code = main(["record", "--runtime", "codex", "--version", "0.150.0", "--scenario", "hello"])
    assert code == 2
    assert "never over the catalog" in capsys.readouterr().err
    code = main(["record", "--runtime", "codex", "--version", "0.150.0", "--scenario", "hello",
                 "--cassettes", str(catalog)])
    assert code == 2
    assert sorted(p.name for p in (catalog / "hello").iterdir()) == before


def test_record_refuses_a_version_not_installed(runtimes: Path, tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    scratch = tmp_path / "scratch"
    code = main(["record", "--runtime", "codex", "--version", "0.150.0", "--scenario", "hello",
                 "--cassettes", str(scratch)])
    assert code == 2
    assert "harness runtimes install codex@0.150.0" in capsys.readouterr().err
    assert not scratch.exists()


def test_record_refuses_a_version_for_all_runtimes(capsys: pytest.CaptureFixture[str],
                                                   tmp_path: Path) -> None:
    code = main(["record", "--runtime", "all", "--version", "0.150.0",
                 "--cassettes", str(tmp_path)])
    assert code == 2
    assert "--version needs one --runtime" in capsys.readouterr().err


def test_record_with_a_version_writes_only_the_scratch_folder(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The fake runtime stands in for an installed version; the catalog copy stays as it was
    and the scratch meta names the version that ran."""
    catalog = tmp_path / "catalog"
    write_scenario(catalog / "demo")
    before = sorted(p.name for p in (catalog / "demo").iterdir())

    def fake_driver(name: str, version: str | None = None) -> FakeDriver:
        return FakeDriver(version=version or "0.0.0")

    monkeypatch.setattr("harness.cli.record.get_driver", fake_driver)
    scratch = tmp_path / "scratch"
    code = main(["record", "--runtime", "fake", "--version", "0.0.7", "--scenario", "demo",
                 "--cassettes", str(scratch), "--catalog", str(catalog)])
    assert code == 0
    assert sorted(p.name for p in (catalog / "demo").iterdir()) == before
    meta = json.loads((scratch / "demo" / "fake.meta.json").read_text())
    assert meta["version"] == "0.0.7"
    assert (scratch / "demo" / "scenario.yaml").read_bytes() == \
        (catalog / "demo" / "scenario.yaml").read_bytes()
    code = main(["record", "--runtime", "fake", "--version", "0.0.7", "--scenario", "demo",
                 "--cassettes", str(catalog), "--catalog", str(catalog)])
    assert code == 2


def test_record_unknown_scenario_in_the_catalog_is_an_error(tmp_path: Path) -> None:
    catalog = tmp_path / "catalog"
    write_scenario(catalog / "demo")
    with pytest.raises(HarnessError, match="no scenario 'nope'"):
        scratch_scenarios(tmp_path / "scratch", catalog, "nope")
    assert not (tmp_path / "scratch").exists()


# ------------------------------------------------------------------ harness drift


def _catalog_with_fake_recording(root: Path) -> Path:
    folder = write_scenario(root / "catalog" / "demo")
    record_scenario(FakeDriver(generation="1"), folder, drift_lanes={})
    return folder


FAKE_LANES = {"fake-native": fake_native_lane()}


def test_drift_of_an_unchanged_version_is_no_semantic_change(tmp_path: Path) -> None:
    """Another version that only differs in the version string: same meaning, exit 0; the
    catalog is only read."""
    folder = _catalog_with_fake_recording(tmp_path)
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    report = run_drift(FakeDriver(generation="1", version="0.0.1"), [folder],
                       tmp_path / "scratch", lanes=FAKE_LANES)
    assert [(s.scenario, s.status) for s in report.scenarios] == [("demo", "same")]
    assert report.exit_code == 0
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before
    meta = json.loads((tmp_path / "scratch" / "demo" / "fake.meta.json").read_text())
    assert meta["version"] == "0.0.1"


def test_drift_of_a_changed_version_names_the_field_and_writes_reports(tmp_path: Path) -> None:
    folder = _catalog_with_fake_recording(tmp_path)
    report = run_drift(FakeDriver(generation="2", version="0.0.2"), [folder],
                       tmp_path / "scratch", lanes=FAKE_LANES)
    [verdict] = report.scenarios
    assert verdict.status == "changed" and report.exit_code == 1
    assert {d.check for d in verdict.differences} == {"eq.assistant_message.text"}
    md, js = write_reports(report, "0.0.0", tmp_path / "report")
    data = json.loads(js.read_text())
    assert (data["exit_code"], data["version"], data["pinned"]) == (1, "0.0.2", "0.0.0")
    assert data["scenarios"][0]["differences"][0]["check"] == "eq.assistant_message.text"
    text = md.read_text()
    assert "| demo | changed | eq.assistant_message.text |" in text
    assert '{"generation": "2"}' in text


def test_drift_that_cannot_record_is_an_error(tmp_path: Path) -> None:
    folder = _catalog_with_fake_recording(tmp_path)

    def broken(driver: Any, target: Path) -> Any:
        raise HarnessError("runtime crashed")

    report = run_drift(FakeDriver(version="0.0.3"), [folder], tmp_path / "scratch",
                       lanes=FAKE_LANES, recorder=broken)
    assert [s.status for s in report.scenarios] == ["error"]
    assert "runtime crashed" in report.scenarios[0].detail
    assert report.exit_code == 2


def test_drift_with_nothing_compared_is_an_error(tmp_path: Path) -> None:
    """A scenario without a catalog recording is skipped; if every one is, no comparison was
    made and the verdict cannot be 'no change'."""
    folder = write_scenario(tmp_path / "catalog" / "demo")
    report = run_drift(FakeDriver(version="0.0.4"), [folder], tmp_path / "scratch",
                       lanes=FAKE_LANES)
    assert [s.status for s in report.scenarios] == ["skipped"]
    assert report.exit_code == 2


def test_drift_cli_exit_codes_and_reports(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    folder = _catalog_with_fake_recording(tmp_path)
    generation = {"value": "1"}

    def fake_driver(name: str, version: str | None = None) -> FakeDriver:
        return FakeDriver(generation=generation["value"], version=version or "0.0.0")

    monkeypatch.setattr("harness.cli.drift.get_driver", fake_driver)
    monkeypatch.setattr("harness.cli.drift.driver_names", lambda: ["codex"])
    monkeypatch.setattr("harness.conformance.drift.get_lane", lambda lane: fake_native_lane())
    args = ["drift", "--runtime", "codex", "--version", "0.0.9", "--scenario", "demo",
            "--catalog", str(folder.parent), "--report", str(tmp_path / "report")]
    assert main(args) == 0
    generation["value"] = "2"
    assert main(args) == 1
    assert json.loads((tmp_path / "report" / "drift.json").read_text())["exit_code"] == 1
    out = capsys.readouterr().out
    assert "changed  demo: eq.assistant_message.text" in out
    assert main([*args[:-4], "--catalog", str(folder.parent), "--scenario", "nope"]) == 2


def test_drift_cli_refuses_a_version_not_installed(runtimes: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["drift", "--runtime", "codex", "--version", "0.150.0"]) == 2
    assert "harness runtimes install codex@0.150.0" in capsys.readouterr().err


def test_latest_asks_the_registry_and_refuses_a_non_version(
        runtimes: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`drift --version latest` resolves through `npm view <package> version`; an answer that
    is not a version (an error page, an empty line) is an error, never a folder name."""
    from harness.record.runtimes.install import latest_version  # noqa: PLC0415

    assert latest_version(get_driver("codex")) == "9.9.9"
    assert _calls(runtimes) == ["view @openai/codex version"]
    monkeypatch.setenv("FAKE_NPM_LATEST", "<html>")
    with pytest.raises(InstallError, match="npm view @openai/codex version failed"):
        latest_version(get_driver("codex"))
