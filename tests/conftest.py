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
from collections.abc import Iterator

import pytest
from hypothesis import settings

from tests.netguard import loopback_only

settings.register_profile("ci", max_examples=200, deadline=None, database=None,
                          derandomize=True)
settings.register_profile("explore", max_examples=2000, deadline=None)
settings.register_profile("dev", max_examples=20, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))


# ------------------------------------------------------------------------------ no network


@pytest.fixture(autouse=True, scope="session")
def _block_network() -> Iterator[None]:
    """Every test runs with outbound connections limited to loopback (tests/netguard.py)."""
    with loopback_only():
        yield
