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


def scan_text(text: str, path: Path) -> Iterator[Finding]:
    for number, line in enumerate(text.splitlines(), start=1):
        for rule, pattern in RULES.items():
            if pattern.search(line):
                yield Finding(path, number, rule)
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
