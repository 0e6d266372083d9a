"""Shared test setup.

Hypothesis profiles: `ci` (200 examples, no deadline, no example database, derandomized: the
gate that decides whether a change lands draws the same examples every time, so it is red only
for a change, never for the luck of a draw), `explore` (random draws, 2000 examples, for the
`explore` nox session that hunts new counterexamples off the landing path) and `dev` (fast,
for the edit-test loop). Pick one with HYPOTHESIS_PROFILE; the default is `dev`. Tests that
pin their own `@settings` keep them.
Snapshot goldens use the `jsonl_snapshot` fixture of the harness pytest plugin.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import settings

settings.register_profile("ci", max_examples=200, deadline=None, database=None,
                          derandomize=True)
settings.register_profile("explore", max_examples=2000, deadline=None)
settings.register_profile("dev", max_examples=20, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))


# ------------------------------------------------------------------------------ no network

LOOPBACK_NAMES = frozenset({"localhost", "::1"})


def assert_loopback(address: object) -> None:
    """Tests and replay may only reach 127.0.0.0/8 or ::1; anything else fails loudly."""
    if not isinstance(address, tuple):  # AF_UNIX paths and the like stay local
        return
    host = str(address[0])
    if host in LOOPBACK_NAMES or host.startswith("127."):
        return
    raise RuntimeError(f"network access to {address!r} is blocked in tests "
                       "(only 127.0.0.1 is allowed)")


_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex


def _guarded_connect(self: socket.socket, address: Any) -> None:
    assert_loopback(address)
    _real_connect(self, address)


def _guarded_connect_ex(self: socket.socket, address: Any) -> int:
    assert_loopback(address)
    return _real_connect_ex(self, address)


@pytest.fixture(autouse=True, scope="session")
def _block_network() -> Iterator[None]:
    """Every test runs with outbound connections limited to loopback (subprocess runtimes are
    fenced separately: their drivers point proxies at a closed loopback port)."""
    socket.socket.connect = _guarded_connect  # type: ignore[method-assign]
    socket.socket.connect_ex = _guarded_connect_ex  # type: ignore[method-assign]
    try:
        yield
    finally:
        socket.socket.connect = _real_connect  # type: ignore[method-assign]
        socket.socket.connect_ex = _real_connect_ex  # type: ignore[method-assign]
