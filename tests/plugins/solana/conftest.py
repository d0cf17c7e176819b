"""Solana node tests: the provider's public-endpoint rate limit is off (nothing leaves
loopback), and a fake node over the demonstration world is at hand."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.plugins.solana.fakenode import FakeNode, World, demo_world

NO_RATE_LIMIT = '[providers.solana]\nrate_limit = "off"\n'


@pytest.fixture
def asof_client_factory(asof_client_factory: Any) -> Any:
    """asof's client factory with the Solana rate limit switched off."""

    def factory(plugin: object | str, **kwargs: Any) -> Any:
        kwargs["config_text"] = NO_RATE_LIMIT + kwargs.get("config_text", "")
        return asof_client_factory(plugin, **kwargs)

    return factory


@pytest.fixture
def demo() -> tuple[World, dict[str, str]]:
    """The demonstration world and its named addresses."""
    return demo_world()


@pytest.fixture
def served(demo: tuple[World, dict[str, str]]) -> Iterator[tuple[FakeNode, str]]:
    """The demonstration world served on a loopback port: the node and its URL."""
    node = FakeNode(demo[0])
    with node.serve() as url:
        yield node, url
