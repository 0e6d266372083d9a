"""Replay an HTTP cassette to an official provider SDK with vcrpy, network impossible.

API lanes re-issue each recorded request through the provider's own SDK so that the provider's
JSON is read by the SDK's typed models, not by a parser of ours. vcrpy plays the cassette back in
`record_mode="none"`: a request the cassette does not hold raises instead of reaching a network,
and each interaction plays at most once, in recorded order for equal method and path.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx2
import vcr
from vcr.errors import CannotOverwriteExistingCassetteException

from harness.contract.errors import InputError
from harness.record.cassette import Interaction, load_cassette_dict


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


@contextmanager
def vcr_replay(path: Path) -> Iterator[None]:
    """Within the block, HTTP from SDKs is answered from the cassette at `path`, in order."""
    player = vcr.VCR(record_mode="none", decode_compressed_response=False)
    player.register_matcher("method_ci", _method_ci)
    player.register_serializer("any", _AnyCassette)
    try:
        with player.use_cassette(
            str(path),
            serializer="any",
            match_on=["method_ci", "path"],
            allow_playback_repeats=False,
        ):
            yield
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


def consume_raw(interaction: Interaction, uri: str | None = None) -> None:
    """Play a request no SDK sends (side traffic, an unusable body) straight through httpx2, so
    the interactions after it keep their recorded order; its answer is read from the cassette."""
    req = interaction.request
    errors = (httpx2.HTTPError, httpx2.InvalidURL, CannotOverwriteExistingCassetteException)
    with httpx2.Client() as http, contextlib.suppress(*errors):
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
