"""The cassette fixtures of asof's pytest plugin.

They share names with pytest-recording's defaults, so :mod:`asof.testing.pytest_plugin`
registers this module in ``pytest_configure``, after every entry-point plugin: among
plugins the later registration wins, and a ``conftest.py`` still overrides both.
"""

from __future__ import annotations

from typing import Any

import pytest

from asof.testing.recording import JSON_BODY_MATCHER, json_body, recording_config

__all__ = [
    "default_cassette_name",
    "pytest_recording_configure",
    "vcr_cassette_dir",
    "vcr_config",
]


@pytest.fixture
def vcr_config() -> dict[str, Any]:
    """Cassette settings with secrets filtered (see :mod:`asof.testing.recording`)."""
    return recording_config()


@pytest.fixture(scope="module")
def vcr_cassette_dir(request: pytest.FixtureRequest, asof_plugin_name: str) -> str:
    """``<rootdir>/cassettes/<plugin>``."""
    return str(request.config.rootpath / "cassettes" / asof_plugin_name)


@pytest.fixture
def default_cassette_name(request: pytest.FixtureRequest) -> str:
    """pytest-recording's name (``Class.test_name[params]``) without the anyio backend,
    so a test run under asyncio and trio replays one cassette."""
    marker = request.node.get_closest_marker("default_cassette")
    if marker is not None:
        return str(marker.args[0])
    name: str = request.node.name
    callspec = getattr(request.node, "callspec", None)
    backend = callspec.params.get("anyio_backend") if callspec is not None else None
    if isinstance(backend, tuple):
        backend = backend[0]
    if isinstance(backend, str) and "[" in name:
        head, _, ids = name[:-1].partition("[")
        kept = [part for part in ids.split("-") if part != backend]
        name = f"{head}[{'-'.join(kept)}]" if kept else head
    if request.cls is not None:
        name = f"{request.cls.__name__}.{name}"
    for char in "<>?%*:|\"'/\\":
        name = name.replace(char, "-")
    return name


@pytest.hookimpl(optionalhook=True)
def pytest_recording_configure(config: pytest.Config, vcr: Any) -> None:
    """Teach each cassette's vcrpy the JSON body matcher."""
    vcr.register_matcher(JSON_BODY_MATCHER, json_body)
