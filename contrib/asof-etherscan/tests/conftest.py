"""Fixtures for the Etherscan plugin's tests, as any plugin outside the asof repository
would write them: cassettes beside these tests, and no rate limit (nothing is sent)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

CASSETTES = Path(__file__).resolve().parent.parent / "cassettes" / "etherscan"
NO_RATE_LIMIT = '[providers.etherscan]\nrate_limit = "off"\n'


@pytest.fixture(scope="module")
def asof_plugin_name() -> str:
    """These tests live in ``tests/``, not ``tests/plugins/etherscan/``."""
    return "etherscan"


@pytest.fixture(scope="module")
def vcr_cassette_dir() -> str:
    """``cassettes/etherscan/`` of this distribution, wherever pytest starts."""
    return str(CASSETTES)


@pytest.fixture
def asof_client_factory(asof_client_factory: Any) -> Any:
    """asof's client factory with Etherscan's rate limit switched off."""

    def factory(plugin: object | str, **kwargs: Any) -> Any:
        kwargs["config_text"] = NO_RATE_LIMIT + kwargs.get("config_text", "")
        return asof_client_factory(plugin, **kwargs)

    return factory
