"""Cassettes read one interaction at a time (`iter_http_cassette`, `vcr_stream`), and what an
API lane does when a cassette turns unreadable part way.

The streamed reader must read exactly what the whole-file reader reads (every catalog cassette,
every layout other recorders write), must really stream (it yields the first interactions of a
file whose end is broken), and replay through it must keep vcrpy's playback rules.
"""

from __future__ import annotations

import json
from pathlib import Path

import httpx2
import pytest
import yaml
from vcr.errors import CannotOverwriteExistingCassetteException

from harness.contract.errors import InputError
from harness.record.cassette import iter_http_cassette, load_cassette_dict, read_http_cassette
from harness.record.replay import vcr_stream
from lanes.codex_adapter import LANE
from tests import lanekit
from tests.lanekit import assert_well_formed

REPO = Path(__file__).resolve().parents[1]
CATALOG = sorted(REPO.glob("cassettes/*/*.http.yaml"))
SHAPES = sorted(REPO.glob("tests/data/shapes/*/*.http.yaml"))
HELLO = REPO / "cassettes" / "hello" / "codex.http.yaml"


def _interaction(n: int, path: str = "/v1/x", method: str = "POST") -> dict[str, object]:
    return {"request": {"method": method, "uri": f"https://api.example.invalid{path}",
                        "headers": {"content-type": ["application/json"]},
                        "body": json.dumps({"n": n})},
            "response": {"status": {"code": 200, "message": "OK"},
                         "headers": {"content-type": ["application/json"]},
                         "body": {"string": json.dumps({"answer": n})}}}


def _write(path: Path, interactions: list[dict[str, object]], tail: str = "") -> Path:
    text = yaml.safe_dump({"interactions": interactions, "version": 1}, sort_keys=False)
    path.write_text(text + tail, encoding="utf-8")
    return path


@pytest.mark.parametrize("path", CATALOG + SHAPES, ids=lambda p: str(p.relative_to(REPO)))
def test_streamed_reader_reads_what_the_whole_reader_reads(path: Path) -> None:
    streamed = list(iter_http_cassette(path))
    assert [i for i, _ in streamed] == read_http_cassette(path)
    assert [entry for _, entry in streamed] == load_cassette_dict(
        path.read_text(encoding="utf-8"))["interactions"]
    if path in CATALOG:  # ours: every interaction has its line (Interaction equality: the same)
        assert all(i.line is not None for i, _ in streamed)


LAYOUTS = {
    "go-vcr, key after version": """\
version: 2
interactions:
- id: 0
  request:
    proto: HTTP/1.1
    url: https://api.example.invalid/v1/x
    method: POST
    headers: {Content-Type: [application/json]}
    body: '{"q": 1}'
  response:
    status: 200 OK
    code: 200
    headers: {Content-Type: [application/json]}
    body: '{"ok": true}'
""",
    "Ruby VCR": """\
---
http_interactions:
- request:
    method: post
    uri: https://api.example.invalid/v1/x
    body: {encoding: UTF-8, string: '{"q": 1}'}
    headers: {Content-Type: [application/json]}
  response:
    status: {code: 200, message: OK}
    headers: {Content-Type: [application/json]}
    body: {encoding: UTF-8, base64_string: eyJvayI6IHRydWV9}
recorded_with: VCR 6.2.0
""",
    "pydantic-ai parsed_body, anchors": """\
interactions:
- request:
    method: POST
    uri: https://api.example.invalid/v1/x
    headers: &h {content-type: [application/json]}
    parsed_body: {q: 1}
  response:
    status: {code: 200, message: OK}
    headers: *h
    parsed_body: {ok: true}
version: 1
""",
    "flow style": '{"interactions": [{"request": {"method": "POST", "uri": '
                  '"https://api.example.invalid/v1/x", "headers": {}, "body": "{\\"q\\": 1}"}, '
                  '"response": {"status": {"code": 200, "message": "OK"}, "headers": {}, '
                  '"body": {"string": "{\\"ok\\": true}"}}}], "version": 1}\n',
}


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_other_layouts_read_the_same_streamed(layout: str, tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(LAYOUTS[layout], encoding="utf-8")
    [(interaction, entry)] = list(iter_http_cassette(path))
    assert [interaction] == read_http_cassette(path)
    assert json.loads(interaction.response.body) == {"ok": True}
    assert entry == load_cassette_dict(LAYOUTS[layout])["interactions"][0]


def test_streamed_reader_yields_before_reading_the_end(tmp_path: Path) -> None:
    """It streams: interactions before a broken end are read (the whole reader refuses the
    file outright), then the break is an InputError naming the file."""
    path = _write(tmp_path / "c.yaml", [_interaction(n) for n in range(3)], tail="oops: [\n")
    with pytest.raises(InputError):
        read_http_cassette(path)
    seen: list[int] = []
    with pytest.raises(InputError) as info:
        for interaction, _ in iter_http_cassette(path):
            seen.append(json.loads(interaction.request.body)["n"])
    assert seen == [0, 1, 2]
    assert str(path) in str(info.value) and "not a vcrpy cassette" in str(info.value)


def test_malformed_interaction_part_way_is_refused_with_its_line(tmp_path: Path) -> None:
    bad = _interaction(2)
    del bad["request"]["method"]  # type: ignore[attr-defined]
    path = _write(tmp_path / "c.yaml", [_interaction(0), _interaction(1), bad])
    reader = iter_http_cassette(path)
    assert [json.loads(i.request.body)["n"] for i, _ in (next(reader), next(reader))] == [0, 1]
    with pytest.raises(InputError) as info:
        next(reader)
    line = path.read_text().splitlines().index("- request:", 20) + 1
    assert info.value.line == line and "interaction 2" in info.value.reason


def _get(request_of: dict[str, object]) -> bytes:
    req = request_of["request"]
    assert isinstance(req, dict)
    with httpx2.Client() as http:
        return http.request(req["method"], req["uri"], content=req["body"].encode()).content


def test_vcr_stream_plays_in_order_reading_ahead_for_a_later_request(tmp_path: Path) -> None:
    """vcrpy's rules: a request gets the first unplayed interaction with its method and path,
    read ahead when it is further on; each is played once."""
    entries = [_interaction(0, "/v1/a"), _interaction(1, "/v1/b"), _interaction(2, "/v1/b")]
    path = _write(tmp_path / "c.yaml", entries)
    with vcr_stream(path) as interactions:
        first = next(interactions)
        assert first.request.path == "/v1/a"
        assert json.loads(_get(entries[2])) == {"answer": 1}  # read ahead to interaction 1
        assert json.loads(_get(entries[2])) == {"answer": 2}
        with pytest.raises(CannotOverwriteExistingCassetteException):  # each played once
            _get(entries[2])
        assert [json.loads(i.request.body)["n"] for i in interactions] == [1, 2]


def _hello_twice_then(tmp_path: Path, last: dict[str, object]) -> Path:
    data = yaml.safe_load(HELLO.read_text(encoding="utf-8"))
    data["interactions"] = [*data["interactions"], *data["interactions"], last]
    path = tmp_path / "codex.http.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


def test_api_lane_unreadable_part_way_strict_and_lenient(tmp_path: Path) -> None:
    """A cassette that turns unreadable after some model calls: strict refuses naming the file
    and the interaction's line; lenient keeps the log so far, a notice, and closes the log."""
    bad = _interaction(9, "/v1/responses")
    bad["response"] = {"status": {"code": "two hundred"}}
    path = _hello_twice_then(tmp_path, bad)
    with pytest.raises(InputError) as info:
        lanekit.normalize_file(LANE, path)
    assert str(path) in str(info.value) and info.value.line is not None
    events = lanekit.normalize_file(LANE, path, lenient=True)
    assert_well_formed(events)
    notices = [e for e in events if e["type"] == "item.completed"
               and e["item"]["kind"] == "error"]
    assert len(notices) == 1 and "malformed field" in notices[0]["item"]["message"]
    answers = [e["item"]["text"] for e in events if e["type"] == "item.completed"
               and e["item"]["kind"] == "assistant_message"]
    whole = lanekit.normalize_file(LANE, HELLO)
    hello = [e["item"]["text"] for e in whole if e["type"] == "item.completed"
             and e["item"]["kind"] == "assistant_message"]
    assert answers == hello * 2
    read = tmp_path / "read"
    read.mkdir()
    twice = _hello_twice_then(read, bad)
    data = yaml.safe_load(twice.read_text(encoding="utf-8"))
    data["interactions"] = data["interactions"][:-1]  # what could be read, alone
    twice.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    assert _shown(events) == _shown(lanekit.normalize_file(LANE, twice, lenient=True))


def _shown(events: list[dict[str, object]]) -> list[tuple[object, ...]]:
    """Each event but notices, as its type and item (kind, status, text): what a reader sees."""
    shown: list[tuple[object, ...]] = []
    for event in events:
        item = event.get("item")
        if isinstance(item, dict) and item["kind"] == "error":
            continue
        shown.append((event["type"], *((item["kind"], item["status"], item.get("text"))
                                       if isinstance(item, dict) else ())))
    return shown


def test_api_lane_unreadable_from_the_start_gives_the_error_alone(tmp_path: Path) -> None:
    bad = _interaction(0, "/v1/responses")
    bad["response"] = {"status": {"code": "two hundred"}}
    path = _write(tmp_path / "c.yaml", [bad, _interaction(1, "/v1/responses")])
    events = lanekit.normalize_file(LANE, path, lenient=True)
    assert [(e["type"], e["item"]["kind"]) for e in events] == [("item.completed", "error")]


GEMINI = sorted([*REPO.glob("cassettes/*/gemini*.http.yaml"),
                 *REPO.glob("tests/data/shapes/gemini/*.http.yaml")])


@pytest.mark.parametrize("path", GEMINI, ids=lambda p: str(p.relative_to(REPO)))
def test_gemini_decides_cli_traffic_before_replay_as_over_the_whole_replay(path: Path) -> None:
    """The gemini lane streams because it reads whether Gemini CLI sent the traffic from the
    requests before replay: the same answer `sent_by_gemini_cli` gives over the whole replay."""
    from lanes import gemini  # noqa: PLC0415 - the google-genai SDK, for this test only

    try:
        replayed = list(gemini.replay_cassette(path))
    except InputError:
        pytest.skip("a cassette the lane refuses")
    whole = gemini.sent_by_gemini_cli(replayed)
    assert [r.cli_traffic for r in replayed] == [whole] * len(replayed)
