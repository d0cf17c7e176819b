"""Allium tests run without the provider's 1 request/s limit (nothing is sent anywhere)."""

from __future__ import annotations

from typing import Any

import pytest

NO_RATE_LIMIT = '[providers.allium]\nrate_limit = "off"\n'


@pytest.fixture
def asof_client_factory(asof_client_factory: Any) -> Any:
    """asof's client factory with the Allium rate limit switched off."""

    def factory(plugin: object | str, **kwargs: Any) -> Any:
        kwargs["config_text"] = NO_RATE_LIMIT + kwargs.get("config_text", "")
        return asof_client_factory(plugin, **kwargs)

    return factory
