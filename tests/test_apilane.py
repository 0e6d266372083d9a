"""The provider-neutral shell every API lane stands on (lanes.api_shell), tested on its own."""

from __future__ import annotations

import io
from pathlib import Path

from harness.contract.lane import LaneInput
from harness.contract.model import ErrorKind, TurnError, status_kind
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


def test_status_kind_uses_the_lane_table_then_the_shared_rule() -> None:
    table: dict[int, ErrorKind] = {429: "rate_limit", 401: "auth"}
    assert status_kind(429, table) == "rate_limit"
    assert status_kind(503, table) == "provider"
    assert status_kind(418, table) == "unknown"
    assert status_kind(418, {}, otherwise="provider") == "provider"


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
