"""Replay an HTTP cassette to an official provider SDK with vcrpy, network impossible.

API lanes re-issue each recorded request through the provider's own SDK so that the provider's
JSON is read by the SDK's typed models, not by a parser of ours. vcrpy plays the cassette back in
`record_mode="none"`: a request the cassette does not hold raises instead of reaching a network,
and each interaction plays at most once, in recorded order for equal method and path.
"""

from __future__ import annotations

import contextlib
import ssl
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx2
import vcr
from vcr.cassette import Cassette
from vcr.errors import CannotOverwriteExistingCassetteException, UnhandledHTTPRequestError
from vcr.matchers import requests_match
from vcr.request import Request
from vcr.serializers import compat

from harness.contract.errors import InputError
from harness.record.cassette import Entry, Interaction, iter_http_cassette, load_cassette_dict


def _method_ci(r1: Any, r2: Any) -> None:
    """vcrpy matcher: HTTP methods compare case-insensitively (some SDKs send lower case)."""
    assert str(r1.method).upper() == str(r2.method).upper()


class _AnyCassette:
    """vcrpy serializer reading every cassette form `load_cassette_dict` reads (vcrpy's YAML and
    JSON, parsed JSON bodies), so replay serves the bodies the lanes' reader saw."""

    @staticmethod
    def deserialize(cassette_string: str) -> dict[str, Any]:
        return load_cassette_dict(cassette_string)

    @staticmethod
    def serialize(cassette_dict: dict[str, Any]) -> str:
        raise NotImplementedError("replay never writes a cassette")


def _player() -> vcr.VCR:
    player = vcr.VCR(record_mode="none", decode_compressed_response=False)
    player.register_matcher("method_ci", _method_ci)
    player.register_serializer("any", _AnyCassette)
    return player


_PLAYBACK = {"serializer": "any", "match_on": ["method_ci", "path"],
             "allow_playback_repeats": False}


@contextmanager
def vcr_replay(path: Path) -> Iterator[None]:
    """Within the block, HTTP from SDKs is answered from the cassette at `path`, in order."""
    try:
        with _player().use_cassette(str(path), **_PLAYBACK):
            yield
    except CannotOverwriteExistingCassetteException as exc:
        raise InputError(f"replay asked for a request the cassette does not hold: {exc}",
                         source=str(path)) from None


class _Fed:
    """vcrpy persister of a cassette fed by `vcr_stream`: it loads nothing and saves nothing."""

    @staticmethod
    def load_cassette(cassette_path: str, serializer: Any) -> tuple[list[Any], list[Any]]:
        return [], []

    @staticmethod
    def save_cassette(cassette_path: str, cassette_dict: Any, serializer: Any) -> None:
        raise NotImplementedError("replay never writes a cassette")


class _Feed:
    """The cassette's interactions read one at a time: each is handed to vcrpy as the lane
    reaches it, or earlier when vcrpy looks further for a request (as it would in a cassette
    loaded whole)."""

    def __init__(self, entries: Iterator[Entry], cassette: Cassette) -> None:
        self.entries = entries
        self.cassette = cassette
        self.pending: deque[Interaction] = deque()
        self.error: InputError | None = None

    def pull(self) -> bool:
        """Read one more interaction into the cassette; False at the end (or at an unreadable
        one, which the lane meets when it gets there)."""
        if self.error is not None:
            return False
        try:
            entry = next(self.entries, None)
        except InputError as exc:
            self.error = exc
            return False
        if entry is None:
            return False
        interaction, raw = entry
        self.cassette.data.append((Request._from_dict(raw["request"]),
                                   compat.convert_to_bytes(raw["response"])))
        self.pending.append(interaction)
        return True

    def __iter__(self) -> Iterator[Interaction]:
        while self.pending or self.pull():
            yield self.pending.popleft()
        if self.error is not None:
            raise self.error


class _StreamedCassette(Cassette):  # type: ignore[misc]  # vcrpy is untyped
    """vcrpy's cassette over interactions fed one at a time. Playback is vcrpy's (the first
    unplayed interaction matching method and path, each played once); a request matching none
    read so far reads on. A played answer is dropped: it cannot be played again."""

    feed: _Feed

    def _responses(self, request: Any) -> Iterator[tuple[int, Any]]:
        request = self._before_record_request(request)
        index = 0
        while index < len(self.data) or self.feed.pull():
            stored, response = self.data[index]
            if not self.play_counts[index] and requests_match(request, stored, self._match_on):
                yield index, response
            index += 1

    def play_response(self, request: Any) -> Any:
        for index, response in self._responses(request):
            self.play_counts[index] += 1
            self.data[index] = (self.data[index][0], None)
            return response
        raise UnhandledHTTPRequestError(
            f"The cassette ({self._path!r}) doesn't contain the request ({request!r}) asked for")


@contextmanager
def vcr_stream(path: Path) -> Iterator[Iterator[Interaction]]:
    """Within the block, HTTP from SDKs is answered from the cassette at `path`, in order, as
    `vcr_replay` does; the block gets the cassette's interactions to iterate, read one at a time
    (`iter_http_cassette`), so a large cassette is never held whole."""
    try:
        with _player().use_cassette(str(path), persister=_Fed, **_PLAYBACK) as cassette:
            cassette.__class__ = _StreamedCassette
            cassette.feed = _Feed(iter_http_cassette(path), cassette)
            yield iter(cassette.feed)
    except CannotOverwriteExistingCassetteException as exc:
        raise InputError(f"replay asked for a request the cassette does not hold: {exc}",
                         source=str(path)) from None


def base_url_of(interaction: Interaction) -> str:
    """scheme://host[:port] of a recorded request, to point an SDK client at."""
    parts = urlsplit(interaction.request.uri)
    return f"{parts.scheme}://{parts.netloc}"


def missing_answer(exc: BaseException) -> bool:
    """True when an SDK call failed because the cassette holds no answer for its request
    (vcrpy's refusal, raised as is or wrapped by the SDK as a connection error)."""
    return isinstance(exc, CannotOverwriteExistingCassetteException) or isinstance(
        exc.__cause__, CannotOverwriteExistingCassetteException)


@cache
def replay_ssl() -> ssl.SSLContext:
    """One TLS context for every replay client: each new one loads the CA store (~0.08 s, a
    third of the gate's time went to it), and a replayed request never reaches a network."""
    return ssl.create_default_context()


def consume_raw(interaction: Interaction, uri: str | None = None) -> None:
    """Play a request no SDK sends (side traffic, an unusable body) straight through httpx2, so
    the interactions after it keep their recorded order; its answer is read from the cassette."""
    req = interaction.request
    errors = (httpx2.HTTPError, httpx2.InvalidURL, CannotOverwriteExistingCassetteException)
    with httpx2.Client(verify=replay_ssl()) as http, contextlib.suppress(*errors):
        http.request(req.method, uri or req.uri, content=req.body, headers=req.headers)


def safe_base_url(interaction: Interaction, fallback: str = "http://replay.invalid") -> str:
    """`base_url_of`, or `fallback` when the recorded URI is no usable URL (e.g. a templated
    `127.0.0.1:{port}`): vcrpy matches on method and path only, so the host never matters."""
    base = base_url_of(interaction)
    try:
        httpx2.URL(base)
    except httpx2.InvalidURL:
        return fallback
    return base
