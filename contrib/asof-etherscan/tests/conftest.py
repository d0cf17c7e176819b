"""Fixtures for the Etherscan plugin's tests, as any plugin outside the asof repository
would write them: its cassettes live beside these tests, and clients run with the
``pro`` option on (balance_at declines without it) unless a test says otherwise."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

CASSETTES = Path(__file__).resolve().parent.parent / "cassettes" / "etherscan"


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
    """asof's client factory with ``[providers.etherscan] pro = true`` unless
    ``pro=False`` is passed."""

    def factory(plugin: object | str, *, pro: bool = True, **kwargs: Any) -> Any:
        if pro:
            kwargs["config_text"] = ("[providers.etherscan]\npro = true\n"
                                     + kwargs.get("config_text", ""))
        return asof_client_factory(plugin, **kwargs)

    return factory
