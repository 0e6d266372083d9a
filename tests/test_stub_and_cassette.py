"""The stub server and the cassette format: what is recorded is what replays, minus secrets."""

from __future__ import annotations

import gzip
import http.client
import json
from pathlib import Path

import pytest
import yaml

from harness.contract.errors import InputError
from harness.record.cassette import (
    SCRUBBED,
    STUB_URL,
    load_cassette_dict,
    read_http_cassette,
    render_http_cassette,
    write_http_cassette,
)
from harness.record.stub import Exchange, StubReply, StubRequest, StubServer, sse_event


class EchoSSE:
    """A responder that streams two SSE events naming the request path."""

    def respond(self, request: StubRequest) -> StubReply:
        chunks = [sse_event("a", b'{"n": 1}'), sse_event("b", request.path.encode())]
        return StubReply(200, {"content-type": "text/event-stream"}, chunks)


def _post(port: int, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    conn.request("POST", "/v1/things?alt=sse", body=body, headers=headers)
    resp = conn.getresponse()
    data = resp.read()
    conn.close()
    return resp.status, data


def test_stub_streams_reply_and_records_exchange(tmp_path: Path) -> None:
    with StubServer(EchoSSE()) as stub:
        status, body = _post(stub.port, b'{"x": 1}', {"Authorization": "Bearer dummy-key",
                                                     "Content-Type": "application/json"})
    assert status == 200
    assert body == b'event: a\ndata: {"n": 1}\n\nevent: b\ndata: /v1/things\n\n'
    [exchange] = stub.log.exchanges
    assert exchange.request.query == "alt=sse"
    assert exchange.request.headers["authorization"] == "Bearer dummy-key"
    assert stub.log.problems == []


def test_cassette_round_trip_scrubs_secrets_and_fixes_the_url(tmp_path: Path) -> None:
    with StubServer(EchoSSE()) as stub:
        _post(stub.port, b'{"x": "\xc3\xa9"}', {"x-api-key": "dummy-key",
                                              "Content-Type": "application/json"})
    path = tmp_path / "c.http.yaml"
    write_http_cassette(path, stub.log.exchanges)
    text = path.read_text()
    assert "dummy-key" not in text
    assert str(stub.port) not in text
    [interaction] = read_http_cassette(path)
    assert interaction.request.uri == f"{STUB_URL}/v1/things?alt=sse"
    assert interaction.request.headers["x-api-key"] == SCRUBBED
    assert interaction.request.json() == {"x": "é"}
    assert interaction.response.body.startswith(b"event: a\n")
    assert render_http_cassette(stub.log.exchanges) == text, "rendering is deterministic"


def _foreign(body: bytes | str, encoding: str | None) -> dict[str, object]:
    headers = {"Content-Encoding": [encoding]} if encoding else {}
    return {"version": 1, "interactions": [{
        "request": {"method": "post", "uri": "https://api.example.invalid/v1/x", "body": None,
                    "headers": {"Content-Type": ["application/json"]}},
        "response": {"status": {"code": 200, "message": "OK"}, "headers": headers,
                     "body": {"string": body}},
    }]}


def test_reads_foreign_yaml_cassette_with_gzip_body(tmp_path: Path) -> None:
    """vcrpy stores gzip bodies as YAML !!binary; the reader unpacks them."""
    path = tmp_path / "foreign.yaml"
    path.write_text(yaml.dump(_foreign(gzip.compress(b'{"ok": true}'), "gzip")))
    [interaction] = read_http_cassette(path)
    assert interaction.request.method == "POST"
    assert interaction.response.body == b'{"ok": true}'


def test_reads_foreign_json_cassette(tmp_path: Path) -> None:
    path = tmp_path / "foreign.json"
    path.write_text(json.dumps(_foreign('{"ok": true}', None)))
    [interaction] = read_http_cassette(path)
    assert interaction.response.body == b'{"ok": true}'


def test_corrupt_gzip_body_names_file_and_interaction(tmp_path: Path) -> None:
    path = tmp_path / "corrupt.yaml"
    path.write_text(yaml.dump(_foreign(b"\x1f\x8bnot really gzip", "gzip")))
    with pytest.raises(InputError, match="interaction 0: corrupt gzip body"):
        read_http_cassette(path)


@pytest.mark.parametrize("text, reason", [
    ("interactions: [{request: {}}]\nversion: 1\n", "interaction 0: missing or malformed field"),
    ("interactions: {a: 1}\nversion: 1\n", "not a vcrpy cassette"),
    ("{not json", "not a vcrpy cassette"),
])
def test_malformed_cassette_is_an_input_error(tmp_path: Path, text: str, reason: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(InputError) as info:
        read_http_cassette(path)
    assert str(path) in str(info.value)
    assert reason in str(info.value)


@pytest.mark.parametrize("where, value, reason", [
    (("request", "body"), 1.5, "request body is float, not text or bytes"),
    (("request", "body"), [1], "request body is list, not text or bytes"),
    (("request", "body"), {"a": 1}, "request body is dict, not text or bytes"),
    (("request", "uri"), None, "request uri is NoneType, not a string"),
    (("request", "uri"), 7, "request uri is int, not a string"),
    (("request", "method"), ["POST"], "request method is list, not a string"),
    (("response", "body", "string"), 5, "response body string is int, not text or bytes"),
    (("response", "body", "string"), 2**63, "response body string is int, not text or bytes"),
    (("response", "status", "code"), 1.5, "status code 1.5 is not an HTTP status"),
    (("response", "status", "code"), True, "status code True is not an HTTP status"),
    (("response", "status", "code"), 2**63, "is not an HTTP status"),
    (("request", "headers"), 0, "request headers is int, not a mapping"),
    (("response", "headers"), ["x"], "response headers is list, not a mapping"),
])
def test_wrong_typed_fields_are_refused_naming_the_interaction(
        tmp_path: Path, where: tuple[str, ...], value: object, reason: str) -> None:
    """The reader refuses, for every cassette lane at once, a field of the wrong type that a
    lane or SDK would otherwise parse and crash on (found by the mutation fuzz: a request body
    `1.5` escaped the anthropic lane as a TypeError from json.loads; `int()` read a status 1.5
    as 1 and `bytes(2**63)` would try to allocate 2**63 zero bytes)."""
    doc = _foreign('{"ok": true}', None)
    target = doc["interactions"][0]  # type: ignore[index]
    for key in where[:-1]:
        target = target[key]
    target[where[-1]] = value
    path = tmp_path / "typed.yaml"
    path.write_text(yaml.safe_dump(doc))
    with pytest.raises(InputError) as info:
        read_http_cassette(path)
    assert str(info.value).startswith(f"{path}:2: interaction 0: missing or malformed field")
    assert reason in str(info.value)


def test_null_bodies_read_as_empty(tmp_path: Path) -> None:
    """A null request body (vcrpy records GETs so) and a null response body string are empty
    bodies, not errors: only a present, non-text body is refused."""
    doc = _foreign('{"ok": true}', None)
    doc["interactions"][0]["response"]["body"]["string"] = None  # type: ignore[index]
    path = tmp_path / "nulls.yaml"
    path.write_text(yaml.safe_dump(doc))
    [interaction] = read_http_cassette(path)
    assert (interaction.request.body, interaction.response.body) == (b"", b"")


@pytest.mark.parametrize("char", ["\x85", "\u2028", "\u2029", "\r", "\t", "\x0b", "\x0c"])
def test_line_break_lookalikes_survive_the_cassette(tmp_path: Path, char: str) -> None:
    """YAML reads NEL and the Unicode line/paragraph separators as line breaks when written raw;
    a body holding them must still come back byte for byte."""
    request_body = json.dumps({"input": f"a\n{char}b"}, ensure_ascii=False).encode()
    reply = f"data: {json.dumps({'t': char}, ensure_ascii=False)}\n\n".encode()
    exchange = Exchange(StubRequest("POST", "/v1/responses", "", {}, request_body),
                        StubReply(200, {}, [reply]))
    path = tmp_path / "c.yaml"
    write_http_cassette(path, [exchange])
    [interaction] = read_http_cassette(path)
    assert json.loads(interaction.request.body) == json.loads(request_body)  # pretty-printed
    assert interaction.response.body == reply


def test_errors_name_the_line_where_the_interaction_starts(tmp_path: Path) -> None:
    """A cassette error says `file:line`, the line of that interaction's `- request:`."""
    good = Exchange(StubRequest("POST", "/v1/x", "", {}, b"{}"), StubReply(200, {}, [b"ok"]))
    path = tmp_path / "c.yaml"
    write_http_cassette(path, [good, good])
    text = path.read_text()
    second = [n for n, line in enumerate(text.splitlines(), 1) if line.startswith("- request:")][1]
    assert [i.line for i in read_http_cassette(path)] == [2, second]
    head, tail = text.rsplit("- request:", 1)
    path.write_text(head + "- request:" + tail.replace("code: 200", "code: nope"))
    with pytest.raises(InputError) as info:
        read_http_cassette(path)
    assert info.value.line == second and "interaction 1" in info.value.reason


OTHER_LAYOUTS: dict[str, str] = {
    "pydantic-ai parsed_body": """
interactions:
- request:
    method: POST
    uri: https://api.example.invalid/v1/x
    headers: {content-type: [application/json]}
    parsed_body: {q: 1}
  response:
    status: {code: 200, message: OK}
    headers: {content-type: [application/json]}
    parsed_body: {ok: true}
""",
    "ruby vcr": """
http_interactions:
- request:
    method: post
    uri: https://api.example.invalid/v1/x
    body: {encoding: UTF-8, string: '{"q": 1}'}
    headers: {Content-Type: [application/json]}
  response:
    status: {code: 200, message: OK}
    headers: {Content-Type: [application/json]}
    body: {encoding: ASCII-8BIT, base64_string: eyJvayI6IHRydWV9}
  recorded_at: Fri, 04 Dec 2026 12:00:00 GMT
recorded_with: VCR 6.3.1
""",
    "go-vcr v2": """
version: 2
interactions:
- id: 0
  request:
    proto: HTTP/1.1
    form: {}
    url: https://api.example.invalid/v1/x
    method: POST
    headers: {Content-Type: [application/json]}
    body: '{"q": 1}'
  response:
    status: 200 OK
    code: 200
    headers: {Content-Type: [application/json]}
    body: '{"ok": true}'
    duration: 12ms
""",
}


@pytest.mark.parametrize("layout", sorted(OTHER_LAYOUTS))
def test_other_recorders_layouts_read_as_vcrpy(layout: str, tmp_path: Path) -> None:
    """Cassettes other recorders write (parsed JSON bodies, Ruby VCR, go-vcr) are read into the
    same exchange, and vcrpy's replay loads them through the same function."""
    path = tmp_path / "other.yaml"
    path.write_text(OTHER_LAYOUTS[layout])
    [interaction] = read_http_cassette(path)
    assert (interaction.request.method, interaction.request.uri) == (
        "POST", "https://api.example.invalid/v1/x")
    assert json.loads(interaction.request.body) == {"q": 1}
    assert json.loads(interaction.response.body) == {"ok": True}
    assert interaction.response.status == 200
    [entry] = load_cassette_dict(OTHER_LAYOUTS[layout])["interactions"]
    assert set(entry["request"]) == {"method", "uri", "body", "headers"}
    assert entry["response"]["status"]["code"] == 200
