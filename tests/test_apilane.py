"""The provider-neutral shell every API lane stands on (lanes.api_shell), tested on its own, and
the rules every lane module keeps: HTTP statuses go through the core's one table
(`harness.contract.model.HTTP_STATUS_KINDS`), and a lane never imports another lane (shared
runtime knowledge lives in `lanes/*_family.py`, shared API machinery in `lanes/api_shell.py`).
The layout checks read the lane modules' source, so they need no provider SDK."""

from __future__ import annotations

import ast
import gzip
import io
import zlib
from importlib.metadata import entry_points
from pathlib import Path

import brotli  # type: ignore[import-untyped]
import pytest
import yaml

from harness.contract.errors import InputError
from harness.contract.lane import LaneInput, available_lanes
from harness.contract.model import HTTP_STATUS_KINDS, ErrorKind, TurnError, status_kind
from harness.record.cassette import read_http_cassette
from lanes.api_shell import (
    TurnUsage,
    client_per_key,
    json_or_none,
    json_or_text,
    parse_body,
    sdk_kwargs,
    side_error,
    spooled,
)

DEEP = "[" * 3000 + "]" * 3000


@pytest.mark.parametrize(("status", "kind"), [
    (400, "provider"), (401, "auth"), (403, "auth"), (404, "provider"), (408, "network"),
    (429, "rate_limit"), (529, "provider"), (500, "provider"), (502, "provider"),
    (503, "provider"), (504, "provider"), (599, "provider"), (402, "unknown"), (413, "unknown"),
    (418, "unknown"), (200, "unknown"), (302, "unknown"), (600, "unknown"), (0, "unknown")])
def test_http_status_table_rows(status: int, kind: ErrorKind) -> None:
    """The one HTTP status table: 400 and 404 are the provider refusing the call, 401/403
    credentials, 408 the network, 429 a rate limit, 529 and any other 5xx the provider;
    anything else is unknown."""
    assert status_kind(status) == kind


def test_http_status_table_is_exactly_the_listed_rows() -> None:
    assert HTTP_STATUS_KINDS == {400: "provider", 401: "auth", 403: "auth", 404: "provider",
                                 408: "network", 429: "rate_limit", 529: "provider"}


def test_status_kind_falls_back_to_what_the_lane_knows() -> None:
    """`otherwise` answers only for a status the table and the 5xx rule do not decide (the
    gemini lane passes the kind of the error body's RPC status)."""
    assert status_kind(418, otherwise="rate_limit") == "rate_limit"
    assert status_kind(400, otherwise="rate_limit") == "provider"
    assert status_kind(503, otherwise="auth") == "provider"
    table: dict[int, ErrorKind] = {429: "rate_limit"}
    assert status_kind(429, table) == "rate_limit" and status_kind(400, table) == "unknown"


# ------------------------------------------------------------------------------ lane layout


def _lane_modules() -> dict[str, Path]:
    """Every registered lane's module name -> its source file (found without importing it)."""
    root = Path(__file__).resolve().parents[1]
    modules = {ep.value.partition(":")[0] for ep in entry_points(group="harness.lanes")}
    return {m: root.joinpath(*m.split(".")).with_suffix(".py") for m in sorted(modules)}


def _imported_modules(tree: ast.Module) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names |= {f"{node.module}.{alias.name}" for alias in node.names}
    return names


def test_every_lane_reads_http_statuses_through_the_one_table() -> None:
    """Each lane calls `status_kind` without a table of its own, and no lane module spells out
    an HTTP status table (a dict keyed by 1xx-5xx numbers)."""
    modules = _lane_modules()
    assert len(modules) == len(available_lanes())
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call)
                 and isinstance(n.func, ast.Name) and n.func.id == "status_kind"]
        assert calls, f"{name} never reads an HTTP status through status_kind"
        assert all(len(c.args) == 1 and {k.arg for k in c.keywords} <= {"otherwise"}
                   for c in calls), f"{name} passes its own status table"
        tables = [n for n in ast.walk(tree) if isinstance(n, ast.Dict) and n.keys and all(
            isinstance(k, ast.Constant) and type(k.value) is int and 100 <= k.value <= 599
            for k in n.keys)]
        assert not tables, f"{name} keeps an HTTP status table of its own"


def test_no_lane_imports_another_lane() -> None:
    """A lane may import the shared API shell and the runtime family modules, never a lane."""
    modules = _lane_modules()
    lanes_dir = next(iter(modules.values())).parent
    shared = {f"lanes.{p.stem}" for p in lanes_dir.glob("*_family.py")} | {"lanes.api_shell"}
    assert {"lanes.claude_family", "lanes.gemini_family"} <= shared
    for name in [*modules, *sorted(shared)]:
        path = lanes_dir / f"{name.rpartition('.')[2]}.py"
        imported = _imported_modules(ast.parse(path.read_text(encoding="utf-8")))
        others = {m for m in imported if m in modules and m != name}
        assert not others, f"{name} imports lane module(s) {sorted(others)}"


def test_turn_errors_take_their_retry_policy_from_the_kind() -> None:
    assert TurnError.of("rate_limit", "slow down").retryable is True
    assert TurnError.of("auth", "bad key").retryable is False


def test_hostile_json_is_malformed_not_a_crash() -> None:
    """A 3000-deep array raises RecursionError in json.loads: it counts as not JSON."""
    assert json_or_none(DEEP) is None
    assert json_or_text(DEEP) == DEEP
    assert json_or_none(b'{"a": 1}') == {"a": 1}
    body, why = parse_body(DEEP.encode())
    assert body is None and why is not None and why.startswith("request body is not JSON")
    assert parse_body(b"[1]") == (None, "request body is not a JSON object")
    assert parse_body(b"") == (None, "request body is not a JSON object")
    assert parse_body(b'{"model": "m"}') == ({"model": "m"}, None)


def test_recorded_bodies_go_back_to_the_sdk_unchanged() -> None:
    """Known parameters by name, the rest (runtime metadata, future keys) as extra_body."""
    body = {"model": "m", "input": [], "stream": True, "client_metadata": {"x": 1}}
    kwargs = sdk_kwargs(body, frozenset({"model", "input", "stream"}), stream=False)
    assert kwargs == {"model": "m", "input": [], "stream": False,
                      "extra_body": {"client_metadata": {"x": 1}}}
    assert sdk_kwargs({"model": "m"}, frozenset({"model"}), stream=None) == {
        "model": "m", "extra_body": None}


def test_one_client_per_key() -> None:
    built: list[str] = []

    def factory(base: str) -> str:
        built.append(base)
        return f"client:{base}"

    choose = client_per_key(factory, lambda base: base)
    assert [choose("a"), choose("a"), choose("b")] == ["client:a", "client:a", "client:b"]
    assert built == ["a", "b"]


def test_turn_usage_sums_calls_and_keeps_unreported_reasoning_null() -> None:
    usage = TurnUsage()
    assert usage.model() is None
    usage.add(10, 2, 5, None)
    usage.add(20, 0, 7, None)
    model = usage.model()
    assert model is not None and model.scope == "turn"
    assert (model.input_tokens, model.cached_input_tokens, model.output_tokens,
            model.reasoning_tokens) == (30, 2, 12, None)
    usage.add(1, 0, 1, 3)
    again = usage.model()
    assert again is not None and again.reasoning_tokens == 3


def test_side_call_errors_say_why() -> None:
    assert side_error("api said no", None, 500) == "api said no"
    assert side_error(None, "bad SSE", 200) == "bad SSE"
    assert side_error(None, None, 404) == "HTTP 404"
    assert side_error(None, None, 200) is None


def test_stdin_is_spooled_to_a_file_that_lives_as_long_as_the_block(tmp_path: Path) -> None:
    source = LaneInput(stream=io.BytesIO(b"interactions: []\n"), name="<stdin>")
    with spooled(source, prefix="t-") as path:
        assert path.read_bytes() == b"interactions: []\n"
    assert not path.exists()
    on_disk = tmp_path / "c.yaml"
    on_disk.write_text("x")
    with spooled(LaneInput(stream=io.BytesIO(), name="c", path=on_disk), prefix="t-") as path:
        assert path == on_disk


# ------------------------------------------------------------------------ compressed bodies


def _compressed_cassette(tmp_path: Path, coding: str, body: bytes) -> Path:
    """A one-interaction vcrpy cassette whose response body carries `coding`, as vcrpy saves
    an answer it did not decode (`!!binary`)."""
    entry = {"request": {"method": "POST", "uri": "https://api.example.test/v1/responses",
                         "headers": {"accept-encoding": ["gzip, deflate, br, zstd"]},
                         "body": "{}"},
             "response": {"status": {"code": 200, "message": "OK"},
                          "headers": {"content-type": ["application/json"],
                                      "content-encoding": [coding]},
                          "body": {"string": body}}}
    path = tmp_path / "compressed.http.yaml"
    path.write_text(yaml.safe_dump({"interactions": [entry], "version": 1}))
    return path


@pytest.mark.parametrize("coding", ["br", "gzip", "deflate", "gzip, br", "identity"])
def test_compressed_bodies_are_read_decoded(tmp_path: Path, coding: str) -> None:
    """Every coding a provider answers with (br when the client offers it, as httpx does once
    a brotli package is installed) is undone, several in the order they were applied."""
    encode = {"br": brotli.compress, "gzip": gzip.compress, "deflate": zlib.compress,
              "identity": bytes}
    plain = b'{"id": "resp_1", "output": []}'
    body = plain
    for one in coding.split(", "):
        body = encode[one](body)
    [interaction] = read_http_cassette(_compressed_cassette(tmp_path, coding, body))
    assert interaction.response.body == plain


@pytest.mark.parametrize(("coding", "body", "reason"), [
    ("br", b"not brotli at all", "interaction 0: corrupt br body"),
    ("compress", b"x", "interaction 0: unsupported content-encoding 'compress'"),
])
def test_undecodable_bodies_are_refused_at_their_line(tmp_path: Path, coding: str,
                                                      body: bytes, reason: str) -> None:
    """Before, a brotli body reached the SDK as bytes and was refused as 'SSE data the SDK
    cannot parse'; an unknown coding passed through the same way."""
    with pytest.raises(InputError) as caught:
        read_http_cassette(_compressed_cassette(tmp_path, coding, body))
    assert reason in str(caught.value)
    assert caught.value.line == 2


def test_parallel_request_and_response_lists_must_pair_up(tmp_path: Path) -> None:
    """vcrpy's in-memory layout (`requests` / `responses`) is read pairwise; unequal lists are
    a malformed cassette, not a silent drop of the extra half."""
    path = tmp_path / "parallel.yaml"
    request = {"method": "POST", "uri": "https://api.example.test/v1/responses", "body": "{}",
               "headers": {}}
    response = {"status": {"code": 200, "message": "OK"}, "headers": {},
                "body": {"string": b'{"id": "resp_1"}'}}
    path.write_text(yaml.safe_dump({"requests": [request], "responses": [response]}))
    [interaction] = read_http_cassette(path)
    assert interaction.response.body == b'{"id": "resp_1"}'
    path.write_text(yaml.safe_dump({"requests": [request, request], "responses": [response]}))
    with pytest.raises(InputError, match="2 requests but 1 responses"):
        read_http_cassette(path)


def test_a_gzip_compressed_cassette_file_is_read(tmp_path: Path) -> None:
    """A whole cassette saved gzip-compressed (`*.yaml.gz`) reads like its plain text; a cut
    one is refused as corrupt, not as 'not UTF-8'."""
    request = {"method": "POST", "uri": "https://api.example.test/v1/responses", "body": "{}",
               "headers": {}}
    response = {"status": {"code": 200, "message": "OK"}, "headers": {},
                "body": {"string": '{"id": "resp_1"}'}}
    packed = gzip.compress(yaml.safe_dump({"interactions": [
        {"request": request, "response": response}], "version": 1}).encode())
    path = tmp_path / "cassette.yaml.gz"
    path.write_bytes(packed)
    [interaction] = read_http_cassette(path)
    assert interaction.response.body == b'{"id": "resp_1"}'
    path.write_bytes(packed[:-12])
    with pytest.raises(InputError, match="corrupt gzip cassette"):
        read_http_cassette(path)
