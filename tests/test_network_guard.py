"""Tests cannot reach the network: anything but loopback fails loudly before a packet leaves."""

from __future__ import annotations

import socket

import pytest

from tests.netguard import assert_loopback


def test_non_loopback_addresses_are_refused_before_connecting() -> None:
    for address in [("203.0.113.7", 443), ("api.openai.com", 443), ("10.0.0.1", 80)]:
        with pytest.raises(RuntimeError, match="blocked in tests"):
            assert_loopback(address)
    assert_loopback(("127.0.0.1", 8080))
    assert_loopback(("::1", 8080, 0, 0))
    assert_loopback("/tmp/some.sock")


def test_the_guard_is_installed_on_every_socket() -> None:
    with socket.socket() as sock, pytest.raises(RuntimeError, match="blocked in tests"):
        sock.connect(("api.anthropic.com", 443))


def test_loopback_still_works() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        with socket.create_connection(server.getsockname(), timeout=5):
            pass
