"""Recording is safe by construction: no secret reaches disk, an interrupted recording never
corrupts what was there, and re-recording reports drift in normalized terms."""

from __future__ import annotations

import http.client
import json
import os
import random
import secrets
import signal
import string
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.contract.errors import HarnessError
from harness.fsutil import recover
from harness.record.proxy import ProxyResponder
from harness.record.recording import LiveSettings, record_scenario, seed_workspace
from harness.record.secrets import Scrubber, scan_paths, scan_text
from harness.record.stub import StubReply, StubRequest, StubServer, sse_event
from harness.scenario import load_scenario
from tests.miniatures import FakeDriver, fake_native_lane, write_scenario

REPO = Path(__file__).resolve().parents[1]


def _token(n: int = 40, alphabet: str = string.ascii_letters + string.digits) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(n))


def _files(folder: Path) -> dict[str, str]:
    return {p.name: p.read_text() for p in sorted(folder.iterdir()) if p.is_file()}


# ------------------------------------------------------------------------------ basics


def test_record_writes_the_set_and_rerecording_gives_no_diff(tmp_path: Path) -> None:
    folder = write_scenario(tmp_path / "demo")
    first = record_scenario(FakeDriver(), folder, drift_lanes={"f": fake_native_lane()})
    assert first.ok and first.exit_codes == [0]
    assert {p.name for p in first.files} == {"fake.http.yaml", "fake-native.jsonl",
                                            "fake.meta.json"}
    before = _files(folder)
    again = record_scenario(FakeDriver(), folder, drift_lanes={"f": fake_native_lane()})
    assert _files(folder) == before
    assert again.drift == {}


def test_existing_cassette_is_not_overwritten_without_force(tmp_path: Path) -> None:
    folder = write_scenario(tmp_path / "demo")
    record_scenario(FakeDriver(), folder)
    with pytest.raises(HarnessError, match="use --force"):
        record_scenario(FakeDriver(), folder, force=False)


def test_drift_is_reported_as_a_normalized_difference(tmp_path: Path) -> None:
    folder = write_scenario(tmp_path / "demo")
    lanes = {"fake-native": fake_native_lane()}
    record_scenario(FakeDriver(generation="1"), folder, drift_lanes=lanes)
    result = record_scenario(FakeDriver(generation="2"), folder, drift_lanes=lanes)
    diff = result.drift["fake-native"]
    assert diff.startswith("eq.assistant_message.text: run 0 turn 0 item 1:")
    assert 'previous=\'{"generation": "1"}\' new=\'{"generation": "2"}\'' in diff


# ------------------------------------------------------------------------------ secrets


class LeakyUpstream:
    """A fake provider that leaks secrets back: in a header, a cookie and the body."""

    def __init__(self, leaks: dict[str, str]) -> None:
        self.leaks = leaks

    def respond(self, request: StubRequest) -> StubReply:
        body = json.dumps({"echo_key": self.leaks["body_echo"], "access_token":
                           self.leaks["body_token"]}).encode()
        return StubReply(200, {"content-type": "text/event-stream",
                               "set-cookie": f"session={self.leaks['cookie']}",
                               "x-request-id": self.leaks["request_id"],
                               "openai-organization": self.leaks["org"]},
                         [sse_event("message", body)])


def _planted_corpus() -> tuple[dict[str, str], dict[str, object], dict[str, str], str]:
    """At least 30 planted secrets across headers, query, bodies, command output and env."""
    key = "sk-" + "proj-" + _token()
    env = {f"SERVICE_{i}_TOKEN": _token(24 + i) for i in range(8)}
    env |= {"MY_PASSWORD": _token(16), "DB_SECRET": _token(30), "GITHUB_TOKEN": _token(36)}
    plant: dict[str, object] = {
        "headers": {"x-goog-api-key": "AIza" + _token(35), "api-key": _token(),
                    "cookie": f"sid={_token()}", "openai-project": "proj_" + _token(24),
                    "anthropic-organization-id": _token(32)},
        "query": {"api_key": _token(), "access_token": _token(), "sig": _token(30)},
        "body": {"refresh_token": _token(), "client_secret": _token(), "password": _token(12),
                 "note": "token " + env["SERVICE_3_TOKEN"],
                 "nested": {"id_token": _token()}},
        "output": ["sk-" + "ant-" + _token(), "eyJ" + _token(20) + ".eyJ" + _token(20) + "."
                   + _token(20), env["SERVICE_0_TOKEN"], env["MY_PASSWORD"],
                   "Bearer " + _token(32), "sk-" + _token(40), env["DB_SECRET"],
                   env["GITHUB_TOKEN"], "AIza" + _token(35)],
    }
    leaks = {"body_echo": env["SERVICE_5_TOKEN"], "body_token": _token(), "cookie": _token(),
             "request_id": "req_" + _token(24), "org": "org-" + _token(24)}
    return env, plant, leaks, key


def _all_values(value: object) -> Iterator[str]:
    if isinstance(value, dict):
        for item in value.values():
            yield from _all_values(item)
    elif isinstance(value, list):
        for item in value:
            yield from _all_values(item)
    elif isinstance(value, str):
        yield value.split("=", 1)[-1].removeprefix("Bearer ")


def test_planted_secrets_never_reach_disk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env, plant, leaks, key = _planted_corpus()
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    planted = {key, *env.values(), *_all_values(plant), *leaks.values()}
    assert len(planted) >= 30
    folder = write_scenario(tmp_path / "demo")
    with StubServer(LeakyUpstream(leaks)) as upstream:
        result = record_scenario(FakeDriver(plant=plant), folder,
                                 live=LiveSettings(upstream.base_url, key))
    assert result.exit_codes == [0]
    written = "\n".join(_files(folder).values())
    survivors = sorted(s for s in planted if s in written)
    where = {s: [line for line in written.splitlines() if s in line][:1] for s in survivors}
    assert survivors == [], f"{len(survivors)} planted secrets reached disk: {where}"
    assert scan_paths([folder]) == []
    home = os.environ.get("HOME", "/")
    if home.rstrip("/"):  # the real home folder never reaches disk (it becomes {home})
        assert home.rstrip("/") + "/" not in written
    meta = json.loads((folder / "fake.meta.json").read_text())
    assert meta["live"] is True


def test_scanner_finds_every_planted_secret_format(tmp_path: Path) -> None:
    samples = {
        "anthropic-key": "sk-" + "ant-api03-" + _token(),
        "openai-project-key": "sk-" + "proj-" + _token(),
        "openai-key": "sk-" + _token(48),
        "openai-key-marker": "abc" + "T3Blbk" + "FJxyz",
        "google-api-key": "AIza" + _token(35),
        "jwt": "eyJ" + _token(20) + ".eyJ" + _token(30) + "." + _token(30),
        "bearer-token": "Authorization: Bearer " + _token(40),
        "high-entropy-header-value": "  x-custom-auth-token: ['" + _token(48) + "']",
    }
    for rule, text in samples.items():
        assert rule in {f.rule for f in scan_text(text, Path("f"))}, rule
    path = tmp_path / "leak.yaml"
    path.write_text("ok\n" + "\n".join(samples.values()) + "\n")
    lines = {f.line for f in scan_paths([tmp_path])}
    assert lines == set(range(2, 2 + len(samples)))


def test_scanner_reads_every_kind_of_recording_the_catalog_holds(tmp_path: Path) -> None:
    """A secret in any recorded file is found: native streams and goldens (`.jsonl`),
    cassettes, metadata, ledgers. Only `_fixtures/`, the scripts the scenarios run (written
    here, not recorded), is left to review."""
    suffixes = {path.suffix for folder in (REPO / "cassettes", REPO / "golden")
                for path in folder.rglob("*.*") if path.is_file()
                and "_fixtures" not in path.parts}
    assert {".jsonl", ".yaml", ".json", ".md"} <= suffixes
    for suffix in sorted(suffixes):
        (tmp_path / f"leak{suffix}").write_text("ok\nkey: sk-" + "ant-api03-" + _token() + "\n")
    assert {f.path.name for f in scan_paths([tmp_path])} == {f"leak{s}" for s in suffixes}


def test_scanner_reports_nothing_on_the_shipped_cassettes_and_goldens() -> None:
    findings = scan_paths([REPO / "cassettes", REPO / "golden"])
    assert findings == [], "\n".join(map(str, findings))


def test_scrubber_templates_home_and_user() -> None:
    scrub = Scrubber.from_environment({"HOME": "/home/alice", "USER": "alice"})
    assert scrub("cwd=/home/alice/project by alice") == "cwd={home}/project by {user}"


def test_system_accounts_are_not_templated() -> None:
    """Recording as root must not turn Codex's `<root>...</root>` tags or its `/root` agent
    name into `{home}`: a system account identifies nobody."""
    scrub = Scrubber.from_environment({"HOME": "/root", "USER": "root"})
    text = '<root>{workspace}</root> "agent_name":"/root" root'
    assert scrub(text) == text


# ------------------------------------------------------------------------------ streaming


class GatedUpstream:
    """Sends one event, then waits until the test says the client saw it, then finishes."""

    def __init__(self) -> None:
        self.client_saw_first = threading.Event()
        self.finished = threading.Event()

    def respond(self, request: StubRequest) -> StubReply:
        def chunks() -> Iterator[bytes]:
            yield sse_event("one", b"{}")
            self.client_saw_first.wait(timeout=10)
            yield sse_event("two", b"{}")
            self.finished.set()

        return StubReply(200, {"content-type": "text/event-stream"}, chunks())


def test_proxy_passes_events_through_before_upstream_finishes() -> None:
    upstream_brain = GatedUpstream()
    with StubServer(upstream_brain) as upstream, \
            StubServer(ProxyResponder(upstream.base_url)) as proxy:
        conn = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=10)
        conn.request("POST", "/v1/x", body=b"{}")
        response = conn.getresponse()
        first = response.readline()
        finished_before_first = upstream_brain.finished.is_set()
        upstream_brain.client_saw_first.set()
        rest = response.read()
    assert first == b"event: one\n"
    assert not finished_before_first, "the proxy waited for the whole upstream body"
    assert b"event: two" in rest
    [exchange] = proxy.log.exchanges
    assert exchange.reply.body.count(b"event:") == 2


# ------------------------------------------------------------------------------ SIGKILL

RECORD_LOOP = textwrap.dedent("""
    import sys
    from pathlib import Path
    from harness.record.recording import record_scenario
    from tests.miniatures import FakeDriver
    folder = Path(sys.argv[1])
    generation = 2
    while True:
        record_scenario(FakeDriver(generation=str(generation)), folder)
        generation += 1
""")


def _generation_of_set(folder: Path) -> set[str]:
    """The generation each of the three files belongs to (one value when the set is whole)."""
    meta = json.loads((folder / "fake.meta.json").read_text())
    gens = {meta["runs"][0]["args"][4]}
    native = [json.loads(line) for line in (folder / "fake-native.jsonl").read_text().splitlines()]
    gens.add(native[0]["generation"])
    http_text = (folder / "fake.http.yaml").read_text()
    gens.update(g for g in gens if f'"generation": "{g}"' in http_text)
    if not any(f'"generation": "{g}"' in http_text for g in gens):
        gens.add("http-mismatch")
    return gens


def test_sigkill_at_random_moments_never_corrupts_the_cassette(tmp_path: Path) -> None:
    """20 trials: kill a re-recording loop at a random moment; after recovery the cassette set
    is whole (all three files from one recording) and no partial file is left."""
    folder = write_scenario(tmp_path / "demo")
    record_scenario(FakeDriver(generation="1"), folder)
    rng = random.Random(1234)
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    env = {**os.environ, "PYTHONPATH": str(REPO), "TMPDIR": str(scratch)}
    for trial in range(20):
        proc = subprocess.Popen([sys.executable, "-c", RECORD_LOOP, str(folder)], env=env,
                                cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.05, 1.2))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        recover(folder)
        gens = _generation_of_set(folder)
        assert len(gens) == 1, f"trial {trial}: mixed set {gens}"
        leftovers = [p.name for p in folder.iterdir() if p.name.startswith(".")]
        assert leftovers == [], f"trial {trial}: partial files {leftovers}"


def test_the_seed_commit_is_the_same_on_every_recording(tmp_path: Path) -> None:
    """Runtimes put the workspace's HEAD hash in their prompts: it must not vary per run."""
    scenario = load_scenario(write_scenario(tmp_path / "s") / "scenario.yaml")
    heads = []
    for name in ("a", "b"):
        seed_workspace(scenario, tmp_path / name)
        heads.append(subprocess.run(["git", "rev-parse", "HEAD"], cwd=tmp_path / name,
                                    capture_output=True, text=True, check=True).stdout)
    assert heads[0] == heads[1]
