"""Clients that hold exactly one plugin, for a plugin's own tests.

:func:`make_client` builds an :class:`~asof.AsyncClient` whose only plugin is the one
under test, with a configuration file of its own (so no per-user file or environment
leaks in), the archive off (unless given), and a placeholder for every credential the
plugin declares so the router does not skip it, and its rate limit off (nothing is
sent anywhere; pass ``rate_limited=True`` to test the limiter). The pytest fixture
``asof_client_factory`` wraps it.
"""

from __future__ import annotations

import importlib.metadata
import os
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from asof.errors import UnknownProvider
from asof.provider import ProviderInfo

if TYPE_CHECKING:
    from asof.client import AsyncClient

__all__ = [
    "FAKE_SECRET",
    "FIXED_NOW",
    "credential_env",
    "credentials_of",
    "load_plugin",
    "make_client",
    "plugin_info",
]

#: The placeholder credential tests send; it is not a real key anywhere.
FAKE_SECRET = "asof-test-key-not-real"
#: The fixed "now" :func:`make_client` gives a client unless told otherwise.
FIXED_NOW = datetime(2030, 1, 1, tzinfo=UTC)


def load_plugin(name: str) -> object:
    """The object behind the ``asof`` entry point ``name``."""
    for entry in importlib.metadata.entry_points(group="asof", name=name):
        return entry.load()
    raise UnknownProvider(name)


def plugin_info(plugin: object) -> ProviderInfo:
    """The plugin's ``provider_info()`` declaration."""
    declare = getattr(plugin, "provider_info", None)
    if not callable(declare):
        raise AssertionError(f"{plugin!r} has no provider_info hook")
    info = declare()
    if not isinstance(info, ProviderInfo):
        raise AssertionError(f"provider_info() returned {type(info).__name__}, not ProviderInfo")
    return info


def credential_env(
    info: ProviderInfo, *, real: Mapping[str, str] | None = None
) -> dict[str, str]:
    """Environment variables that give every declared credential a value.

    Each credential gets ``ASOF_<PROVIDER>_<NAME>``: the value found in ``real`` (under
    that name or one of the provider's usual names) when ``real`` is given, else
    :data:`FAKE_SECRET`. Pass ``real=os.environ`` only when recording cassettes.
    """
    env: dict[str, str] = {}
    for cred in info.credentials:
        key = f"ASOF_{info.name.upper()}_{cred.name.upper()}"
        value = FAKE_SECRET
        if real is not None:
            for name in (key, *cred.env):
                if real.get(name):
                    value = real[name]
                    break
        env[key] = value
    return env


def credentials_of(*names: str) -> dict[str, str]:
    """:func:`credential_env` of each installed plugin in ``names``, merged."""
    env: dict[str, str] = {}
    for name in names:
        env.update(credential_env(plugin_info(load_plugin(name))))
    return env


def make_client(
    plugin: object | str,
    *,
    config_dir: Path,
    http_transport: Any = None,
    env: Mapping[str, str] | None = None,
    attempts: int = 1,
    config_text: str = "",
    clock: Callable[[], datetime] | None = lambda: FIXED_NOW,
    real_credentials: bool = False,
    rate_limited: bool = False,
    archive: Any = False,
) -> AsyncClient:
    """An :class:`~asof.AsyncClient` holding only ``plugin`` (a module or an entry-point
    name).

    ``attempts`` (default 1: no retries, so error tests see the first failure at once)
    and ``config_text`` (more TOML) go into a configuration file written in
    ``config_dir``. ``env`` is added to the credential placeholders; with
    ``real_credentials`` the credentials come from ``os.environ`` instead (recording).
    The provider's rate limit is off (``ASOF_<PROVIDER>_RATE_LIMIT=off``) unless
    ``rate_limited`` (or ``env`` sets the variable); keep it on when recording against
    the real provider. The archive is off unless ``archive`` gives one (an
    :class:`~asof.archive.Archive`); the clock is fixed at :data:`FIXED_NOW` unless
    ``clock`` says.
    """
    from asof.client import AsyncClient
    from asof.config import env_name

    module = load_plugin(plugin) if isinstance(plugin, str) else plugin
    info = plugin_info(module)
    config_dir.mkdir(parents=True, exist_ok=True)
    path = config_dir / f"asof-{info.name}.toml"
    path.write_text(f"[asof]\nattempts = {int(attempts)}\n\n{config_text}\n", encoding="utf-8")
    full_env = credential_env(info, real=os.environ if real_credentials else None)
    if not rate_limited and not real_credentials:
        full_env[env_name(info.name, "rate_limit")] = "off"
    full_env.update(env or {})
    return AsyncClient(
        path,
        http_transport=http_transport,
        plugins={info.name: module},
        env=full_env,
        archive=archive,
        clock=clock,
    )
