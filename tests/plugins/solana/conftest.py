"""Solana node tests: a fake node over the demonstration world, in process or served."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.plugins.solana.fakenode import FakeNode, World, demo_world

#: Switches the public endpoints' rate limit off: nothing leaves loopback here.
NO_RATE_LIMIT = {"ASOF_SOLANA_RATE_LIMIT": "off"}


@pytest.fixture(scope="session")
def demo() -> tuple[World, dict[str, str]]:
    """The demonstration world and its named addresses (built once: tests never change
    it, they change their own FakeNode)."""
    return demo_world()


@pytest.fixture
def served(demo: tuple[World, dict[str, str]]) -> Iterator[tuple[FakeNode, str]]:
    """The demonstration world served on a loopback port: the node and its URL."""
    node = FakeNode(demo[0])
    with node.serve() as url:
        yield node, url
