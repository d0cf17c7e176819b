"""asof's pytest plugin (entry point ``pytest11``: ``asof``), for plugin test suites.

Fixtures:

``asof_client_factory``
    ``asof_client_factory(plugin, *, http_transport=None, env=None, attempts=1,
    config_text="", clock=..., rate_limited=False)`` returns an
    :class:`~asof.AsyncClient` holding only ``plugin`` (a module or an entry-point
    name); see :func:`asof.testing.client.make_client`. Credentials are placeholders,
    or the real ones from the environment when pytest runs with ``--record-mode`` other
    than ``none`` (then the provider's rate limit stays on). The rate limit is off
    otherwise, so no plugin needs a ``conftest.py`` to switch it off.
``mock_http``
    A fresh :class:`asof.testing.mock.MockHTTP`: canned replies by path, the requests
    it saw, and ``.transport`` to hand to the factory.
``vcr_config``
    :func:`asof.testing.recording.recording_config`: secrets filtered, compressed
    bodies decoded, JSON bodies matched. Override it in a ``conftest.py`` to add to it.
``vcr_cassette_dir``
    ``<rootdir>/cassettes/<asof_plugin_name>``.
``default_cassette_name``
    pytest-recording's ``Class.test_name[params]`` without the anyio backend, so a test
    run under asyncio and trio replays one cassette.
``asof_plugin_name``
    The plugin whose cassettes a test module uses: by default the name of the test
    module's directory (``tests/plugins/helius/`` -> ``helius``).

``vcr_config``, ``vcr_cassette_dir`` and ``default_cassette_name`` replace
pytest-recording's defaults: they live in :mod:`asof.testing.cassette_fixtures`, which is
registered after every plugin loaded from entry points, so they win whatever order those
load in (a ``conftest.py`` still overrides them).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from asof.client import AsyncClient
    from asof.testing.mock import MockHTTP

__all__ = ["ClientFactory"]

ClientFactory = Callable[..., "AsyncClient"]


def pytest_configure(config: pytest.Config) -> None:
    """Register the cassette fixtures last, so they override pytest-recording's."""
    if not config.pluginmanager.has_plugin("asof-cassettes"):
        from asof.testing import cassette_fixtures

        config.pluginmanager.register(cassette_fixtures, "asof-cassettes")


def _recording(config: pytest.Config) -> bool:
    mode = config.getoption("--record-mode", default=None)
    return mode is not None and mode != "none"


@pytest.fixture
def asof_client_factory(request: pytest.FixtureRequest, tmp_path: Path) -> ClientFactory:
    """Build clients that hold one plugin (see the module docstring)."""
    from asof.testing.client import make_client

    def factory(plugin: object | str, **kwargs: Any) -> AsyncClient:
        kwargs.setdefault("real_credentials", _recording(request.config))
        return make_client(plugin, config_dir=tmp_path / "asof-config", **kwargs)

    return factory


@pytest.fixture
def mock_http() -> MockHTTP:
    """Canned HTTP replies and the requests seen (see :class:`asof.testing.mock.MockHTTP`)."""
    from asof.testing.mock import MockHTTP

    return MockHTTP()


@pytest.fixture(scope="module")
def asof_plugin_name(request: pytest.FixtureRequest) -> str:
    """The plugin whose cassettes this test module uses: its directory's name."""
    return Path(str(request.node.path)).parent.name
