"""`scan_text` skips rules and lines that cannot match (whole-text pre-checks, keyword search in
a lowered copy): it must report exactly what trying every rule on every line reports, whatever
the text holds (look-alike letters `re.IGNORECASE` folds, every line break `splitlines` knows,
secrets of each rule)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.record import secrets
from harness.record.secrets import Finding, scan_text

PATH = Path("x.yaml")


def every_line_every_rule(text: str) -> Iterator[Finding]:
    """The scan as it was: each rule on each line."""
    for number, line in enumerate(text.splitlines(), start=1):
        for rule, pattern in secrets.RULES.items():
            if pattern.search(line):
                yield Finding(PATH, number, rule)
        header = secrets._HEADER_VALUE.match(line)
        if header and secrets.shannon_entropy(header.group("value")) >= \
                secrets.ENTROPY_BITS_PER_CHAR:
            yield Finding(PATH, number, "high-entropy-header-value")


PIECES = ["key", "KEY", "Token", "secret", "auth", "cookie", "\u0130", "\u0131", "\u017f",
          "\u212a", "api-", "x-api-key: ", "'", '"', ": ", ":", " ", "  - ", "[", "-", "_",
          "sk-", "sk-ant-", "sk-proj-", "AIza", "eyJ", ".", "Bearer ", "bearer\n", "<scrubbed>",
          "\n", "\r\n", "\r", "\x0b", "\x0c", "\x1c", "\x85", "\u2028", "\u2029", "é", "データ",
          "aB3xY9qZ7wK2mN5pR8tV1uL4oS6dF0gH", "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(PIECES), max_size=40))
def test_fast_scan_finds_what_every_line_every_rule_finds(pieces: list[str]) -> None:
    text = "".join(pieces)
    assert list(scan_text(text, PATH)) == list(every_line_every_rule(text))


def test_known_secrets_still_found() -> None:
    text = ("a: 1\nauthorization: [Bearer abcdefghijklmnopqrstuvwxyz012345]\n"
            "x-\u0130\u0131-K\u017fey: aB3xY9qZ7wK2mN5pR8tV1uL4oS6dF0gH\nkey: sk-ant-" +
            "a" * 30 + "\n")
    text += "x-api-key: aB3xY9qZ7wK2mN5pR8tV1uL4oS6dF0gH\n\u017fecret: A1b2C3d4E5f6G7h8I9j0K1l2M3\n"
    found = list(scan_text(text, PATH))
    assert found == list(every_line_every_rule(text))
    assert {f.rule for f in found} >= {"bearer-token", "anthropic-key"}
    assert [f.line for f in found if f.rule == "high-entropy-header-value"] == [5, 6]


@pytest.mark.parametrize("name", ["x-api-key", "x-goog-token", "client-secret",
                                  "proxy-authorization", "set-cookie"])
def test_every_header_keyword_is_searched(name: str) -> None:
    """The header rule names five keywords (key, token, secret, auth, cookie); the scan finds a
    high-entropy value under a header carrying any of them, so its keyword pre-search skips
    none of the lines the rule itself would flag."""
    text = f"ok: 1\n{name}: aB3xY9qZ7wK2mN5pR8tV1uL4oS6dF0gH\n"
    assert [(f.line, f.rule) for f in scan_text(text, PATH)] == [
        (2, "high-entropy-header-value")]
