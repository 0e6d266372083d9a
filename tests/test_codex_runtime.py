"""The real Codex runtime: offline checks of the shipped recordings, the driver, live re-runs.

Offline (fast): every scenario with a Codex recording gives, in both Codex lanes, a log that is
schema-valid, follows the ordering rules, matches its golden file and the scenario outline (the
gate's own cell evaluation). Driver units: the hermetic command line, config and templating.
Live (`runtime` marker): each scenario re-runs on the pinned binary against the stub, into a tmp
folder; the fresh recording must normalize to a log strictly equivalent to the shipped one.
"""

from __future__ import annotations

import re
import shutil
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from harness.conformance.divergences import read_ledger
from harness.conformance.equivalence import equivalent
from harness.conformance.gate import GateOptions, evaluate_cell
from harness.contract.lane import LaneInput, RunContext, get_lane, lane_ids
from harness.record.recording import record_scenario
from harness.record.runtimes.base import RunPlan
from harness.record.runtimes.codex import DRIVER, CodexDriver, config_toml
from harness.scenario import Scenario, load_scenario, scenario_dirs

ROOT = Path(__file__).resolve().parents[1]
CASSETTES = ROOT / "cassettes"
LANES = ("codex-adapter", "codex-native")
CATALOG = sorted(d.name for d in CASSETTES.iterdir() if (d / "scenario.yaml").exists()
                 and not any(run.plugins for run in load_scenario(d / "scenario.yaml").runs))
"""Every catalog scenario but those that place Codex plugins (tests/test_plugins.py runs them
with their marketplace): a scenario added to cassettes/ is re-run live without editing this."""
RECORDED = [CASSETTES / n for n in CATALOG if (CASSETTES / n / "codex.http.yaml").exists()]
RACY = "codex-sandbox-denied-command-hidden"
"""Ledger id of the one Codex behaviour that depends on timing (see its DIVERGENCES.md entry)."""


def _plan(tmp: Path, scenario: Scenario, run: int = 0, thread: str | None = None) -> RunPlan:
    return RunPlan(scenario, run, tmp / "workspace", tmp / "home", "http://127.0.0.1:4242",
                   thread)


def _scenario(**settings: Any) -> Scenario:
    return Scenario.model_validate({
        "name": "s", "description": "d", "settings": settings, "expect": {"turns": [{}, {}]},
        "runs": [{"prompt": "p1", "steps": [[{"text": "a"}]]},
                 {"prompt": "p2", "steps": [[{"text": "b"}]]}]})


# ==================================================================================== offline




@pytest.mark.parametrize("name", CATALOG)
def test_every_catalog_scenario_is_recorded_or_says_why_not(name: str) -> None:
    for folder in [CASSETTES / name]:
        scenario = load_scenario(folder / "scenario.yaml")
        recorded = (folder / "codex.http.yaml").exists()
        assert recorded != (scenario.unsupported_reason("codex") is not None), folder.name


@pytest.mark.parametrize("lane", LANES)
@pytest.mark.parametrize("folder", RECORDED, ids=[d.name for d in RECORDED])
def test_recorded_cell_passes_schema_order_golden_and_outline(folder: Path, lane: str) -> None:
    result, updated = evaluate_cell(folder, get_lane(lane),
                                    GateOptions(cassettes=CASSETTES, golden=ROOT / "golden"))
    assert not updated
    assert result.status == "pass", [(c.name, c.detail) for c in result.failures] or result.reason


@pytest.mark.parametrize("folder", RECORDED, ids=[d.name for d in RECORDED])
def test_recordings_hold_no_temp_path_port_or_random_id(folder: Path) -> None:
    """Templating made the files machine-independent (re-recording gives no diff)."""
    for name in ("codex.http.yaml", "codex-native.jsonl", "codex.meta.json"):
        text = (folder / name).read_text(encoding="utf-8")
        assert "harness-codex-" not in text and "/tmp/tmp" not in text, name
    http = (folder / "codex.http.yaml").read_text(encoding="utf-8")
    assert "uri: http://127.0.0.1:8080/v1/responses" in http
    assert not re.search(r'turn_started_at_unix_ms\\?":[1-9]', http)  # timings templated


def test_divergence_ledgers_parse_and_name_real_lanes() -> None:
    """Every ledger entry parses and names registered lanes; Codex entries blame a Codex lane."""
    registered = set(lane_ids())
    for folder in scenario_dirs(CASSETTES):
        for entry in read_ledger(folder):
            assert set(entry.lanes) | set(entry.versus) <= registered, entry.id
            if entry.id.startswith("codex-"):
                assert set(entry.lanes) <= set(LANES), entry.id


# ==================================================================================== driver


def test_later_runs_resume_with_flags_before_resume(tmp_path: Path) -> None:
    args = DRIVER.arguments(_plan(tmp_path, _scenario(sandbox="read-only"), 1, "thread-1"))
    assert args[1:4] == ["exec", "--json", "--skip-git-repo-check"]
    assert args[args.index("-s") + 1] == "read-only"
    assert args[-3:] == ["resume", "thread-1", "p2"]
    assert args.index("-C") < args.index("resume")


def test_reviewer_uses_approve_for_me_without_sandbox_flag(tmp_path: Path) -> None:
    """Codex refuses `-s` together with `--approve-for-me` (exit 2), so the driver omits it."""
    args = DRIVER.arguments(_plan(tmp_path, _scenario(reviewer="deny",
                                                      approval_policy="on-request")))
    assert "--approve-for-me" in args and "-s" not in args
    assert 'approval_policy="on-request"' in args


def test_config_is_hermetic() -> None:
    sc = _scenario(mcp_servers={"demo": {"command": ["{python}",
                                                     "cassettes/_fixtures/mcp_demo_server.py"]}})
    text = config_toml(sc, "http://127.0.0.1:4242")
    for line in ('base_url = "http://127.0.0.1:4242/v1"', "request_max_retries = 0",
                 "stream_max_retries = 0", "check_for_update_on_startup = false",
                 "plugins = false", "exclude_slash_tmp = true",
                 'default_tools_approval_mode = "approve"'):
        assert line in text
    assert "{python}" not in text and str(CASSETTES / "_fixtures") in text


def test_auth_modes_put_the_key_where_the_scenario_says(tmp_path: Path) -> None:
    env = DRIVER.environment(_plan(tmp_path, _scenario(auth="env")))
    alt = DRIVER.environment(_plan(tmp_path, _scenario(auth="alt_env")))
    login = DRIVER.environment(_plan(tmp_path, _scenario(auth="login")))
    assert env["CODEX_API_KEY"] == DRIVER.key and "OPENAI_API_KEY" not in env
    assert alt["OPENAI_API_KEY"] == DRIVER.key and "CODEX_API_KEY" not in alt
    assert "CODEX_API_KEY" not in login and "OPENAI_API_KEY" not in login
    assert env["HOME"] == str(tmp_path / "home") and env["NO_PROXY"].startswith("127.0.0.1")


def test_template_makes_paths_ids_and_metadata_order_stable(tmp_path: Path) -> None:
    plan = _plan(tmp_path, _scenario())
    first = (f'"{tmp_path}/workspace/a" 01a21057-2f12-7a52-870b-965140c87af4 '
             "msg_01a21057-2f12-7a52-870b-965140c87af5 http://127.0.0.1:4242/v1 "
             "Wall time: 0.0123 seconds\n"
             '    "client_metadata": {\n      "b": "2",\n      "a": "1"\n    }')
    driver = CodexDriver()
    out = driver.template(first, plan)
    assert out.startswith('"{workspace}/a" 00000000-0000-4000-8000-000000000001 '
                          "msg_00000000-0000-4000-8000-000000000002 http://127.0.0.1:{port}/v1")
    assert "Wall time: 0.0000 seconds" in out
    assert out.endswith('"client_metadata": {\n      "a": "1",\n      "b": "2"\n    }')
    again = driver.template("01a21057-2f12-7a52-870b-965140c87af4", plan)
    assert again == "00000000-0000-4000-8000-000000000001"  # one mapping per recording


def test_context_reports_what_exec_really_ran() -> None:
    """exec forces `never`; --approve-for-me routes to a reviewer in workspace-write."""
    assert DRIVER.context(_scenario(approval_policy="on-request"))["approval_policy"] == "never"
    reviewed = DRIVER.context(_scenario(reviewer="approve", sandbox="read-only"))
    assert (reviewed["approval_policy"], reviewed["sandbox"]) == ("on-request", "workspace-write")
    assert DRIVER.context(_scenario(cwd="sub/dir"))["cwd"] == "{workspace}/sub/dir"


# ==================================================================================== live


def _normalized(lane: str, path: Path) -> list[dict[str, Any]]:
    with path.open("rb") as stream:
        return [e.model_dump(mode="json") for e in
                get_lane(lane).normalize(LaneInput(stream, str(path), path), RunContext())]


def _record(folder: Path, scratch: Path) -> list[str]:
    """Record `folder`'s scenario afresh under `scratch`; returns the stub's problems."""
    target = scratch / folder.name
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    shutil.copy(folder / "scenario.yaml", target / "scenario.yaml")
    return record_scenario(DRIVER, target, force=True, drift_lanes={}).problems


def _compare(folder: Path, scratch: Path, problems: list[str]) -> dict[str, str]:
    """Per lane, the strict equivalence diff of recorded vs re-run ('' = equivalent). In the
    calling thread only: vcrpy's replay patches HTTP globally, so lanes must not run at once."""
    diffs = {"stub": "\n".join(problems)}
    for lane in LANES:
        spec = get_lane(lane)
        verdict = equivalent(_normalized(lane, folder / spec.native_file),
                             _normalized(lane, scratch / folder.name / spec.native_file),
                             "strict", labels=("recorded", "re-run"))
        diffs[lane] = "" if verdict.equivalent else verdict.diff
    return diffs


def _rerun(folder: Path, scratch: Path) -> dict[str, str]:
    return _compare(folder, scratch, _record(folder, scratch))


@pytest.fixture(scope="module")
def live_results(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, dict[str, str]]]:
    """All scenarios re-run once: independent ones concurrently, timing-sensitive ones alone.

    Codex hides a sandbox-denied command only when it is not under load (DIVERGENCES.md, id
    `codex-sandbox-denied-command-hidden`), so those scenarios run one at a time, as recorded,
    and get one retry.
    """
    if not DRIVER.binary().exists():
        pytest.fail(f"codex {DRIVER.version} not installed: run `harness runtimes install codex`")
    scratch = tmp_path_factory.mktemp("codex-live")
    racy = [d for d in RECORDED if any(e.id == RACY for e in read_ledger(d))]
    calm = [d for d in RECORDED if d not in racy]
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=8) as pool:
        problems = list(pool.map(lambda d: _record(d, scratch), calm))
    results = {d.name: _compare(d, scratch, p) for d, p in zip(calm, problems, strict=True)}
    for folder in racy:
        results[folder.name] = _rerun(folder, scratch)
        if any(results[folder.name].values()):
            results[folder.name] = _rerun(folder, scratch)
    print(f"\nlive codex re-runs: {len(RECORDED)} scenarios in "
          f"{time.perf_counter() - started:.1f}s")
    yield results


@pytest.mark.runtime
@pytest.mark.parametrize("folder", RECORDED, ids=[d.name for d in RECORDED])
def test_live_rerun_is_strictly_equivalent_to_the_recording(
        folder: Path, live_results: dict[str, dict[str, str]]) -> None:
    diffs = live_results[folder.name]
    assert not diffs["stub"], diffs["stub"]
    for lane in LANES:
        assert not diffs[lane], f"{lane}:\n{diffs[lane]}"
