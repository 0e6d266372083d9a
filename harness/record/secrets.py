"""Secrets: scrub them before anything touches disk, and scan what is on disk for any that slipped.

Scrubbing is layered, each layer catching what the previous could miss: secret headers and query
parameters by name, token-like fields in JSON bodies by key, and finally every value of a secret
found in the environment wherever it appears (bodies, command output in native streams). The
user's home folder and name are templated so cassettes do not identify who recorded them.

The scanner is the independent check: provider key formats, JWTs, bearer tokens and long
high-entropy header values, reported as `file:line: rule`.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

SCRUBBED = "<scrubbed>"
NON_IDENTIFYING_HOMES = frozenset({None, "", "/", "/root"})
NON_IDENTIFYING_USERS = frozenset({None, "", "root"})
"""System accounts say nothing about who recorded; templating them would also rewrite unrelated
text (Codex writes `</root>` tags and an `agent_name` of `/root`)."""
SECRET_ENV_NAME = re.compile(r"(KEY|TOKEN|SECRET|PASSWORD|CREDENTIAL|AUTH)", re.IGNORECASE)
MIN_SECRET_LENGTH = 8
SECRET_QUERY_PARAMS = ("key", "api_key", "apikey", "access_token", "token", "sig", "signature")
SECRET_HEADERS = frozenset(
    {"authorization", "x-api-key", "x-goog-api-key", "api-key", "cookie", "set-cookie",
     "openai-organization", "openai-project", "anthropic-organization-id", "x-request-id",
     "request-id", "openai-request-id", "x-goog-request-id", "cf-ray"}
)
SECRET_JSON_KEYS = ("api_key", "apikey", "access_token", "refresh_token", "id_token",
                    "client_secret", "password", "secret", "session_token", "bearer",
                    *SECRET_HEADERS, *SECRET_QUERY_PARAMS)

_QUERY_NAMES = "|".join(SECRET_QUERY_PARAMS)
_JSON_NAMES = "|".join(re.escape(k) for k in SECRET_JSON_KEYS)
_QUERY = re.compile(rf"(?P<lead>[?&](?:{_QUERY_NAMES})=)(?P<value>[^&#\s\"']+)", re.IGNORECASE)
_JSON_FIELD = re.compile(
    rf'(?P<lead>\\*"(?:{_JSON_NAMES})\\*"\s*:\s*\\*")(?P<value>[^"\\]+)', re.IGNORECASE
)
"""A token-like key and its string value, also inside JSON that is itself a JSON string."""


# ------------------------------------------------------------------------------ scrubbing


@dataclass(frozen=True)
class Scrubber:
    """Replaces secrets and identity in text; built once per recording from the environment."""

    secrets: Mapping[str, str]  # value -> name of the variable it came from
    home: str | None = None
    user: str | None = None

    @classmethod
    def from_environment(cls, env: Mapping[str, str] | None = None,
                         extra: Iterable[str] = ()) -> Scrubber:
        env = os.environ if env is None else env
        secrets = {value: name for name, value in env.items()
                   if SECRET_ENV_NAME.search(name) and len(value) >= MIN_SECRET_LENGTH}
        secrets.update({value: "secret" for value in extra if len(value) >= MIN_SECRET_LENGTH})
        home, user = env.get("HOME"), env.get("USER")
        return cls(secrets, home if home not in NON_IDENTIFYING_HOMES else None,
                   user if user not in NON_IDENTIFYING_USERS else None)

    def __call__(self, text: str) -> str:
        for value in sorted(self.secrets, key=len, reverse=True):
            if value in text:
                text = text.replace(value, f"<scrubbed:{self.secrets[value]}>")
        text = _QUERY.sub(lambda m: m.group("lead") + SCRUBBED, text)
        text = _JSON_FIELD.sub(lambda m: m.group("lead") + SCRUBBED, text)
        for rule, pattern in RULES.items():
            text = pattern.sub(f"<scrubbed:{rule}>", text)
        if self.home:
            text = text.replace(self.home, "{home}")
        if self.user and len(self.user) >= 3:
            text = re.sub(rf"\b{re.escape(self.user)}\b", "{user}", text)
        return text


# ------------------------------------------------------------------------------ scanning


@dataclass(frozen=True)
class Finding:
    path: Path
    line: int
    rule: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.rule}"


RULES: Mapping[str, re.Pattern[str]] = {
    "anthropic-key": re.compile(r"sk-ant-[A-Za-z0-9_-]{20,}"),
    "openai-project-key": re.compile(r"sk-(?:proj|svcacct|admin)-[A-Za-z0-9_-]{20,}"),
    "openai-key": re.compile(r"\bsk-[A-Za-z0-9]{32,}"),
    # split so that secret greps over this repository do not flag the rule itself
    "openai-key-marker": re.compile("T3Blbk" + "FJ"),
    "google-api-key": re.compile(r"AIza[0-9A-Za-z_-]{35}"),
    "jwt": re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"),
    "bearer-token": re.compile(r"[Bb]earer\s+(?!<scrubbed)[A-Za-z0-9._~+/=-]{20,}"),
}
_HEADER_VALUE = re.compile(
    r"^\s*-?\s*['\"]?(?P<name>[A-Za-z0-9-]*(?:key|token|secret|auth|cookie)[A-Za-z0-9-]*)['\"]?"
    r"\s*:\s*\[?\s*['\"]?(?P<value>[A-Za-z0-9_\-./+=]{24,})",
    re.IGNORECASE,
)
ENTROPY_BITS_PER_CHAR = 3.5


def shannon_entropy(value: str) -> float:
    counts = {c: value.count(c) for c in set(value)}
    return -sum(n / len(value) * math.log2(n / len(value)) for n in counts.values())


_HEADER_NAME = re.compile(r"(?:key|token|secret|auth|cookie)[A-Za-z0-9-]*['\"]?\s*:",
                          re.IGNORECASE)
"""What every `_HEADER_VALUE` match contains (its name's keyword through the colon): a line
without it cannot match, and finding it is cheap where `_HEADER_VALUE`'s leading name part
backtracks over every long word."""


_LITERAL_OF = {"openai-key": "sk-", "jwt": "eyJ"}
"""Text these rules' matches contain: a plain substring test skips their regex (whose leading
`\\b` defeats the regex engine's own literal search) on text without it."""


_HEADER_KEYWORDS = ("key", "token", "secret", "auth", "cookie")
_FOLD_TO_ASCII = str.maketrans({"\u0130": "i", "\u0131": "i", "\u017f": "s"})
"""Letters `re.IGNORECASE` matches to the keywords' letters that `str.lower` does not turn into
them: U+0130 lowers to two characters, U+0131 (dotless i) and U+017F (long s) to themselves.
(The Kelvin sign lowers to k.)"""


def _header_name_starts(text: str) -> list[int]:
    """Every position where `_HEADER_NAME` matches, in order (a superset of `finditer`'s). The
    regex's own scan of a whole text is slow (case-insensitive alternation: no literal to jump
    to); the keywords are found in a same-length lowered copy and each is confirmed."""
    folded = text.translate(_FOLD_TO_ASCII) if any(c in text for c in "\u0130\u0131\u017f") \
        else text
    lowered = folded.lower()
    if len(lowered) != len(text):  # cannot happen once İ is folded; never guess positions
        return [m.start() for m in _HEADER_NAME.finditer(text)]
    found: set[int] = set()
    for keyword in _HEADER_KEYWORDS:
        at = lowered.find(keyword)
        while at != -1:
            if _HEADER_NAME.match(text, at):
                found.add(at)
            at = lowered.find(keyword, at + 1)
    return sorted(found)


def scan_text(text: str, path: Path) -> Iterator[Finding]:
    # Every rule on every line was the gate's slowest serial step (4.6 s over the catalog).
    # A rule that matches nowhere in the whole text matches no line of it (a line's match is a
    # match of the text), so only rules found somewhere are tried line by line; the header rule
    # only on the lines where its keyword-to-colon part (`_HEADER_NAME`) starts.
    rules = [(rule, pattern) for rule, pattern in RULES.items()
             if _LITERAL_OF.get(rule, "") in text and pattern.search(text)]
    starts = _header_name_starts(text)
    if not rules and not starts:
        return
    offset, pending = 0, iter(starts)
    start = next(pending, None)
    for number, (line, kept) in enumerate(zip(text.splitlines(), text.splitlines(keepends=True),
                                              strict=True), start=1):
        offset += len(kept)
        for rule, pattern in rules:
            if pattern.search(line):
                yield Finding(path, number, rule)
        if start is None or start >= offset:
            continue
        while start is not None and start < offset:
            start = next(pending, None)
        header = _HEADER_VALUE.match(line)
        if header and shannon_entropy(header.group("value")) >= ENTROPY_BITS_PER_CHAR:
            yield Finding(path, number, "high-entropy-header-value")


SCANNED_SUFFIXES = (".yaml", ".yml", ".json", ".jsonl", ".md", ".txt", ".html", ".xml")


def iter_files(paths: Iterable[Path]) -> Iterator[Path]:
    for path in paths:
        if path.is_dir():
            yield from sorted(p for p in path.rglob("*") if p.is_file()
                              and p.name.endswith(SCANNED_SUFFIXES))
        elif path.is_file():
            yield path


def scan_paths(paths: Iterable[Path]) -> list[Finding]:
    findings: list[Finding] = []
    for file in iter_files(paths):
        try:
            text = file.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        findings.extend(scan_text(text, file))
    return findings
