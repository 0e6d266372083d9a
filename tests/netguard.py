"""The network guard every test runs under (installed by tests/conftest.py): outbound connections
may reach loopback only, anything else fails loudly before a packet leaves."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

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


@contextmanager
def loopback_only() -> Iterator[None]:
    """Within the block every socket's `connect`/`connect_ex` refuses non-loopback addresses
    (subprocess runtimes are fenced separately: their drivers point proxies at a closed
    loopback port)."""
    socket.socket.connect = _guarded_connect  # type: ignore[method-assign]
    socket.socket.connect_ex = _guarded_connect_ex  # type: ignore[method-assign]
    try:
        yield
    finally:
        socket.socket.connect = _real_connect  # type: ignore[method-assign]
        socket.socket.connect_ex = _real_connect_ex  # type: ignore[method-assign]
