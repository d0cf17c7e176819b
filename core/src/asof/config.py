"""Deployment configuration: one TOML file plus environment variables.

The file is found at the path given (``--config``), else at ``$ASOF_CONFIG``, else at
the per-user default ``($XDG_CONFIG_HOME or ~/.config)/asof/config.toml``. A missing
default file is an empty configuration; a missing file that was named explicitly is a
:class:`~asof.errors.ConfigError`. Every mistake (an unknown table or key, a wrong
type, an unknown chain or capability in ``[routes]``, a value outside an option's
choices) is a ``ConfigError`` naming the file (or environment variable) and the key.

The file's shape::

    [asof]
    allow = ["helius", "allium"]   # only these plugins load (absent: every plugin)
    block = ["pacifica"]           # these never load
    timeout = 30                   # seconds per request (default: each provider's own)
    attempts = 3                   # tries per request, retries included (1 to 10)
    rate_limit_store = "postgresql://asof@db:5432/asof"   # or redis://HOST:PORT/N: one
                                   # rate budget per provider key across processes

    [routes]                       # provider preference per chain, or chain.capability
    solana = ["helius", "allium"]
    "ethereum.holdings_history" = ["allium"]

    [providers.helius]             # one table per installed provider (a table naming
                                   # no installed provider is an error)
    api_key = "..."                # a credential, by its declared name
    base_url = "https://..."       # overrides the declared base URL
    network = "mainnet"            # one of the provider's declared networks
    rate_limit = "5/1s"            # or {requests = 5, per_seconds = 1}, or "off"
    timeout = 10                   # seconds, for this provider only
    # ... and the provider's declared options

    [providers.evm.urls]           # a provider that takes one URL per chain
    base = "https://..."           # chain name (or alias) = URL

    [archive]                      # read by asof.archive (see docs/archive.md)

Environment variables, one pattern for every provider (``<NAME>`` is the provider's
name upper-cased with ``-`` turned into ``_``): ``ASOF_<NAME>_<CREDENTIAL>`` (for example
``ASOF_HELIUS_API_KEY``), ``ASOF_<NAME>_BASE_URL``, ``ASOF_<NAME>_NETWORK``,
``ASOF_<NAME>_RATE_LIMIT``, ``ASOF_<NAME>_TIMEOUT`` and ``ASOF_<NAME>_<OPTION>``; and
``ASOF_ALLOW``, ``ASOF_BLOCK`` (comma-separated), ``ASOF_TIMEOUT``, ``ASOF_ATTEMPTS``,
``ASOF_RATE_LIMIT_STORE``.
Settings in the environment override the file (a bad value in the file is still an
error when the environment overrides it), except credentials: a credential is
looked up in the file first, then in ``ASOF_<NAME>_<CREDENTIAL>``, then in the
provider's usual variable names (as :class:`~asof.provider.Credential` says).
"""

from __future__ import annotations

import logging
import os
import re
import stat
import tomllib
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import attrs

from asof.budget import check_store_url
from asof.chains import resolve_chain
from asof.errors import ConfigError, UnknownChain
from asof.provider import Credential, Option, ProviderInfo, RateLimit
from asof.records import Capability
from asof.secrets import Secret
from asof.settings import ProviderSettings

__all__ = [
    "CONFIG_ENV",
    "Config",
    "default_cache_dir",
    "default_config_path",
    "default_data_dir",
    "env_name",
    "load_config",
    "parse_rate_limit",
]

log = logging.getLogger("asof.config")

CONFIG_ENV = "ASOF_CONFIG"
"""The environment variable naming the configuration file."""

DEFAULT_TIMEOUT = 30.0
DEFAULT_ATTEMPTS = 3
#: The most tries per request a configuration may ask for.
MAX_ATTEMPTS = 10

_TABLES = ("asof", "routes", "providers", "archive", "portfolio")
_ASOF_KEYS = ("allow", "block", "timeout", "attempts", "rate_limit_store")
_PROVIDER_KEYS = ("base_url", "network", "rate_limit", "timeout")
_TRUE = frozenset({"true", "1", "yes", "on"})
_FALSE = frozenset({"false", "0", "no", "off"})
_OFF = frozenset({"off", "none", "unlimited"})
_UNITS = {
    "ms": 0.001,
    "s": 1.0, "sec": 1.0, "second": 1.0, "seconds": 1.0,
    "m": 60.0, "min": 60.0, "minute": 60.0, "minutes": 60.0,
    "h": 3600.0, "hour": 3600.0, "hours": 3600.0,
}  # fmt: skip
_RATE = re.compile(
    r"^\s*(?P<requests>\d+)\s*(?:/|per)\s*(?P<amount>\d+(?:\.\d+)?)?\s*(?P<unit>[a-z]+)?\s*$",
    re.IGNORECASE,
)

_warned_readable: set[Path] = set()


# --------------------------------------------------------------------------- helpers


def env_name(provider: str, name: str) -> str:
    """The environment variable for a provider's setting: ``ASOF_<PROVIDER>_<NAME>``,
    both parts upper-cased, ``-`` and ``.`` turned into ``_``."""
    return f"ASOF_{_env_part(provider)}_{_env_part(name)}"


def _env_part(text: str) -> str:
    return re.sub(r"[^A-Z0-9_]", "_", text.upper())


def _user_dir(env: Mapping[str, str] | None, variable: str, fallback: str) -> Path:
    environ = os.environ if env is None else env
    value = environ.get(variable, "")
    if value and os.path.isabs(value):  # the XDG rules ignore relative paths
        return Path(value)
    home = environ.get("HOME") or str(Path.home())
    return Path(home) / fallback


def default_config_path(env: Mapping[str, str] | None = None) -> Path:
    """``($XDG_CONFIG_HOME or ~/.config)/asof/config.toml``."""
    return _user_dir(env, "XDG_CONFIG_HOME", ".config") / "asof" / "config.toml"


def default_data_dir(env: Mapping[str, str] | None = None) -> Path:
    """Where asof keeps data (the archive): ``($XDG_DATA_HOME or ~/.local/share)/asof``."""
    return _user_dir(env, "XDG_DATA_HOME", os.path.join(".local", "share")) / "asof"


def default_cache_dir(env: Mapping[str, str] | None = None) -> Path:
    """Where asof keeps disposable files: ``($XDG_CACHE_HOME or ~/.cache)/asof``."""
    return _user_dir(env, "XDG_CACHE_HOME", ".cache") / "asof"


def _type_name(value: object) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "a table"
    return f"a {type(value).__name__}"


def _positive_number(value: object, where: str) -> float:
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            raise ConfigError(f"{where}: expected a number of seconds, got {value!r}") from None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(f"{where}: expected a number of seconds, got {_type_name(value)}")
    if not value > 0 or value != value or value == float("inf"):
        raise ConfigError(f"{where}: must be a positive number of seconds, got {value!r}")
    return float(value)


def _shown(value: object) -> str:
    """``value`` for an error message, unless it could be a secret put in the wrong
    place: only a short plain word is shown as it is."""
    if isinstance(value, str) and re.fullmatch(r"[A-Za-z][A-Za-z0-9_.-]{0,15}", value.strip()):
        return repr(value.strip())
    if isinstance(value, str):
        return f"a value of {len(value)} characters (not shown: it may be a secret)"
    return _type_name(value)


def _positive_int(value: object, where: str) -> int:
    if isinstance(value, str):
        try:
            value = int(value.strip())
        except ValueError:
            raise ConfigError(f"{where}: expected a whole number, got {value!r}") from None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"{where}: expected a whole number, got {_type_name(value)}")
    if value < 1:
        raise ConfigError(f"{where}: must be at least 1, got {value}")
    return value


def _attempts(value: object, where: str) -> int:
    attempts = _positive_int(value, where)
    if attempts > MAX_ATTEMPTS:
        raise ConfigError(f"{where}: at most {MAX_ATTEMPTS} tries per request, got {attempts}")
    return attempts


def _names(value: object, where: str) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise ConfigError(f"{where}: expected an array of names, got {_type_name(value)}")
    names: list[str] = []
    for item in value:
        if not isinstance(item, str) or not item.strip():
            raise ConfigError(f"{where}: every entry must be a non-empty name, got {item!r}")
        name = item.strip().lower()
        if name not in names:
            names.append(name)
    return tuple(names)


def parse_rate_limit(value: object, where: str = "rate_limit") -> RateLimit | None:
    """Read a rate limit: ``"5/1s"``, ``"100/60s"``, ``"300 per 1min"``, ``"5/s"``, a
    table ``{requests = 5, per_seconds = 1}``, or ``"off"`` / ``false`` for none."""
    if value is False or (isinstance(value, str) and value.strip().lower() in _OFF):
        return None
    if isinstance(value, dict):
        unknown = sorted(set(value) - {"requests", "per_seconds"})
        if unknown:
            raise ConfigError(
                f"{where}: unknown key {unknown[0]!r} (expected requests and per_seconds)"
            )
        if "requests" not in value or "per_seconds" not in value:
            raise ConfigError(f"{where}: needs both requests and per_seconds")
        return RateLimit(
            requests=_positive_int(value["requests"], f"{where}.requests"),
            per_seconds=_positive_number(value["per_seconds"], f"{where}.per_seconds"),
        )
    if isinstance(value, str):
        match = _RATE.match(value)
        if match:
            amount, unit = match["amount"], (match["unit"] or "s").lower()
            if (amount or match["unit"]) and unit in _UNITS:
                seconds = float(amount or 1) * _UNITS[unit]
                requests = int(match["requests"])
                if requests >= 1 and seconds > 0:
                    return RateLimit(requests=requests, per_seconds=seconds)
        raise ConfigError(
            f"{where}: cannot read rate limit {value!r} "
            '(write it like "5/1s", "300/1min" or {requests = 5, per_seconds = 1})'
        )
    raise ConfigError(f"{where}: expected a string or a table, got {_type_name(value)}")


def _route_key(key: str, where: str) -> str:
    chain_part, dot, capability = key.strip().partition(".")
    try:
        chain = resolve_chain(chain_part).name
    except UnknownChain:
        raise ConfigError(f"{where}: unknown chain {chain_part!r} (see `asof chains`)") from None
    if not dot:
        return chain
    try:
        cap = Capability(capability.strip().lower())
    except ValueError:
        known = ", ".join(c.value for c in Capability)
        raise ConfigError(
            f"{where}: unknown capability {capability!r} (one of {known})"
        ) from None
    return f"{chain}.{cap.value}"


# --------------------------------------------------------------------------- Config


@attrs.frozen(kw_only=True, repr=False)
class Config:
    """A deployment's configuration, as read by :func:`load_config`.

    ``providers`` holds each ``[providers.<name>]`` table as written (names lower-cased);
    use the methods to read a provider's settings, which also apply the environment and
    check the keys against what the provider declares. ``env`` is the environment the
    configuration was read with (never shown in ``repr``). ``timeout_given`` says whether
    ``timeout`` was set explicitly (in ``[asof]`` or ``ASOF_TIMEOUT``); when it was not,
    each provider's declared timeout applies. ``rate_limit_store`` is the URL of the
    store of rate budgets shared across processes (:mod:`asof.budget`), or ``None``.
    """

    path: Path | None = None
    allow: tuple[str, ...] | None = None
    block: tuple[str, ...] = ()
    routes: Mapping[str, tuple[str, ...]] = attrs.field(factory=dict, hash=False)
    providers: Mapping[str, Mapping[str, Any]] = attrs.field(factory=dict, hash=False)
    archive: Mapping[str, Any] = attrs.field(factory=dict, hash=False)
    #: the ``[portfolio]`` table as written (spam policy, price tolerance), read by
    #: :func:`asof.portfolio.settings.portfolio_settings`
    portfolio: Mapping[str, Any] = attrs.field(factory=dict, hash=False)
    timeout: float = DEFAULT_TIMEOUT
    attempts: int = DEFAULT_ATTEMPTS
    env: Mapping[str, str] = attrs.field(factory=dict, hash=False)
    timeout_given: bool = False
    rate_limit_store: str | None = attrs.field(default=None, repr=False)

    def __repr__(self) -> str:
        return (
            f"Config(path={self.path!r}, allow={self.allow!r}, block={self.block!r}, "
            f"routes={dict(self.routes)!r}, providers={sorted(self.providers)!r}, "
            f"timeout={self.timeout:g}, attempts={self.attempts})"
        )

    # -- plugins and routes

    def is_allowed(self, name: str) -> bool:
        """Whether the allow and block lists let the plugin ``name`` load."""
        key = name.lower()
        if key in self.block:
            return False
        return self.allow is None or key in self.allow

    def route_preference(self, chain: str, capability: str) -> tuple[str, ...]:
        """The providers the deployment prefers for ``chain`` and ``capability``, best
        first: those under ``"<chain>.<capability>"``, then those under ``"<chain>"``.

        ``chain`` may be any alias; an empty tuple means no preference.
        """
        name = resolve_chain(chain).name
        cap = Capability(str(capability)).value
        merged: list[str] = []
        for key in (f"{name}.{cap}", name):
            for provider in self.routes.get(key, ()):
                if provider not in merged:
                    merged.append(provider)
        return tuple(merged)

    # -- one provider's settings

    def _where(self, provider: str, key: str) -> str:
        source = str(self.path) if self.path is not None else "configuration"
        return f"{source}: [providers.{provider}] {key}"

    def _section(self, info: ProviderInfo) -> Mapping[str, Any]:
        section = self.providers.get(info.name.lower(), {})
        allowed = {
            *_PROVIDER_KEYS,
            *(c.name for c in info.credentials),
            *(o.name for o in info.options),
            *(("urls",) if info.chain_urls else ()),
        }
        for key in section:
            if key not in allowed:
                raise ConfigError(
                    f"{self._where(info.name, key)}: unknown key for provider {info.name} "
                    f"(known: {', '.join(sorted(allowed))})"
                )
        return section

    def _env(self, provider: str, name: str) -> tuple[str, str] | None:
        variable = env_name(provider, name)
        value = self.env.get(variable, "").strip()
        return (variable, value) if value else None

    def credential(self, info: ProviderInfo, cred: Credential) -> tuple[Secret | None, str]:
        """The credential's value and where it came from, or ``(None, how to set it)``.

        Looked up in the provider's table of the file (key ``cred.name``), then in
        ``ASOF_<PROVIDER>_<NAME>``, then in each of ``cred.env``. Empty values count as
        unset.
        """
        section = self._section(info)
        if cred.name in section:
            value = section[cred.name]
            where = self._where(info.name, cred.name)
            if not isinstance(value, str):
                raise ConfigError(f"{where}: expected a string, got {_type_name(value)}")
            if value.strip():
                self._warn_if_readable()
                return Secret(value.strip()), where
        variables = [env_name(info.name, cred.name), *cred.env]
        for variable in variables:
            found = self.env.get(variable, "").strip()
            if found:
                return Secret(found), f"environment variable {variable}"
        return None, "set " + " or ".join(dict.fromkeys(variables))

    def _warn_if_readable(self) -> None:
        path = self.path
        if path is None or os.name == "nt" or path in _warned_readable:
            return
        try:
            mode = path.stat().st_mode
        except OSError:
            return
        if mode & (stat.S_IRGRP | stat.S_IROTH):
            _warned_readable.add(path)
            log.warning(
                "%s holds a credential and other users can read it; restrict it with "
                "`chmod 600 %s`",
                path,
                path,
            )

    def network(self, info: ProviderInfo) -> str | None:
        """The selected network: ``ASOF_<NAME>_NETWORK``, else ``network`` in the file,
        else the declared network whose URL is the default base URL, else ``None``."""
        section = self._section(info)
        found = self._env(info.name, "network")
        if found is not None and "network" in section:  # a bad file value is still an error
            self._check_network(info, self._where(info.name, "network"), section["network"])
        if found is not None:
            where, value = f"environment variable {found[0]}", found[1]
        elif "network" in section:
            where, value = self._where(info.name, "network"), section["network"]
        else:
            for name, url in info.networks.items():
                if url.rstrip("/") == info.base_url.rstrip("/"):
                    return name
            return None
        return self._check_network(info, where, value)

    def _check_network(self, info: ProviderInfo, where: str, value: object) -> str:
        if not isinstance(value, str):
            raise ConfigError(f"{where}: expected a string, got {_type_name(value)}")
        if not info.networks:
            raise ConfigError(f"{where}: provider {info.name} declares no networks")
        if value not in info.networks:
            raise ConfigError(
                f"{where}: unknown network {_shown(value)} for {info.name} "
                f"(one of {', '.join(info.networks)})"
            )
        return value

    def base_url(self, info: ProviderInfo) -> str:
        """The provider's base URL, without a trailing ``/``: ``ASOF_<NAME>_BASE_URL``,
        else ``base_url`` in the file, else the selected network's URL, else the
        declared default."""
        section = self._section(info)
        found = self._env(info.name, "base_url")
        if found is not None:
            return _check_url(found[1], f"environment variable {found[0]}")
        if "base_url" in section:
            return _check_url(section["base_url"], self._where(info.name, "base_url"))
        network = self.network(info)
        if network is not None:
            return info.networks[network].rstrip("/")
        return info.base_url.rstrip("/")

    def chain_urls(self, info: ProviderInfo) -> dict[str, str]:
        """The provider's URL per canonical chain name, from ``[providers.<name>.urls]``
        (only for a provider that declares ``chain_urls``); empty when not set."""
        section = self._section(info)
        table = section.get("urls", {})
        where = self._where(info.name, "urls")
        if not isinstance(table, Mapping):
            raise ConfigError(f"{where}: expected a table of chain = URL, got "
                              f"{_type_name(table)}")
        urls: dict[str, str] = {}
        for chain, url in table.items():
            try:
                name = resolve_chain(str(chain)).name
            except UnknownChain:
                raise ConfigError(f"{where}: unknown chain {chain!r} (see `asof chains`)") from None
            if name in urls:
                raise ConfigError(f"{where}: chain {name} is given twice")
            urls[name] = _check_url(url, f"{where}.{chain}")
        return urls

    def options(self, info: ProviderInfo) -> dict[str, Any]:
        """Every declared option's value: the default, overridden by the file, overridden
        by ``ASOF_<NAME>_<OPTION>``; typed after the declared default."""
        section = self._section(info)
        values: dict[str, Any] = {}
        for option in info.options:
            value: Any = option.default
            if option.name in section:
                where = self._where(info.name, option.name)
                value = _coerce_option(option, section[option.name], where)
            found = self._env(info.name, option.name)
            if found is not None:
                value = _coerce_option(option, found[1], f"environment variable {found[0]}")
            values[option.name] = value
        return values

    def rate_limit(self, info: ProviderInfo) -> RateLimit | None:
        """The rate limit to apply: ``ASOF_<NAME>_RATE_LIMIT``, else ``rate_limit`` in the
        file, else the provider's declared limit. ``"off"`` means none."""
        section = self._section(info)
        found = self._env(info.name, "rate_limit")
        if found is not None:
            return parse_rate_limit(found[1], f"environment variable {found[0]}")
        if "rate_limit" in section:
            return parse_rate_limit(section["rate_limit"], self._where(info.name, "rate_limit"))
        return info.rate_limit

    def provider_timeout(self, info: ProviderInfo) -> float:
        """Seconds to wait for one answer from this provider: ``ASOF_<NAME>_TIMEOUT``,
        else ``timeout`` in its table, else the global timeout when one was set, else the
        provider's declared timeout."""
        section = self._section(info)
        found = self._env(info.name, "timeout")
        if found is not None:
            return _positive_number(found[1], f"environment variable {found[0]}")
        if "timeout" in section:
            return _positive_number(section["timeout"], self._where(info.name, "timeout"))
        return self.timeout if self.timeout_given else info.timeout

    def check_provider_tables(self, known: Iterable[str]) -> None:
        """Raise a :class:`~asof.errors.ConfigError` for a ``[providers.<name>]`` table
        that names none of the ``known`` providers (a misspelt table would otherwise be
        ignored, its key never used)."""
        names = sorted({name.lower() for name in known})
        for name in self.providers:
            if name not in names:
                source = str(self.path) if self.path is not None else "configuration"
                raise ConfigError(
                    f"{source}: [providers.{name}] names no installed provider "
                    f"(known: {', '.join(names) or 'none'})"
                )

    def check_provider(self, info: ProviderInfo) -> None:
        """Read every setting of one provider, raising the first ``ConfigError``."""
        self.provider_settings(info)

    def provider_settings(self, info: ProviderInfo) -> ProviderSettings:
        """Every setting of one provider, resolved once into one record (credentials,
        base URL, network, options, rate limit, timeout); raises the first
        ``ConfigError``. The router keeps it and shares it with the transport and the
        CLI, so the table is read once per provider."""
        found: list[tuple[Credential, Secret]] = []
        unset: list[tuple[Credential, str]] = []
        for cred in info.credentials:
            secret, where = self.credential(info, cred)
            if secret is None:
                unset.append((cred, where))
            else:
                found.append((cred, secret))
        return ProviderSettings(
            info=info,
            base_url=self.base_url(info),
            network=self.network(info),
            credentials=tuple(found),
            unset=tuple(unset),
            options=self.options(info),
            rate_limit=self.rate_limit(info),
            timeout=self.provider_timeout(info),
            chain_urls=self.chain_urls(info) if info.chain_urls else {},
        )


def _check_url(value: object, where: str) -> str:
    if not isinstance(value, str):
        raise ConfigError(f"{where}: expected a URL string, got {_type_name(value)}")
    url = value.strip()
    if not re.match(r"^https?://[^/\s]+", url):
        raise ConfigError(f"{where}: expected an http:// or https:// URL, got {_shown(value)}")
    return url.rstrip("/")


def _coerce_option(option: Option, value: object, where: str) -> Any:
    default = option.default
    result: Any
    if isinstance(default, bool):
        if isinstance(value, bool):
            result = value
        elif isinstance(value, int) and value in (0, 1):
            result = bool(value)
        elif isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
            result = value.strip().lower() in _TRUE
        else:
            raise ConfigError(
                f"{where}: expected true or false (or yes/no, 1/0), got {value!r}"
            )
    elif isinstance(default, int):
        if isinstance(value, int) and not isinstance(value, bool):
            result = value
        elif isinstance(value, str) and re.fullmatch(r"\s*[-+]?\d+\s*", value):
            result = int(value)
        else:
            raise ConfigError(f"{where}: expected a whole number, got {value!r}")
    elif isinstance(default, str):
        if not isinstance(value, str):
            raise ConfigError(f"{where}: expected a string, got {_type_name(value)}")
        result = value
    else:
        if not isinstance(value, str | int | float | bool):
            raise ConfigError(f"{where}: expected a single value, got {_type_name(value)}")
        result = value
    if option.choices and str(result) not in option.choices:
        raise ConfigError(
            f"{where}: {_shown(str(result))} is not one of {', '.join(option.choices)}"
        )
    return result


# --------------------------------------------------------------------------- loading


def load_config(
    path: str | os.PathLike[str] | None = None, *, env: Mapping[str, str] | None = None
) -> Config:
    """Read the configuration.

    ``path`` None means ``$ASOF_CONFIG``, else the per-user default file (see
    :func:`default_config_path`). ``env`` is the environment to read (default
    ``os.environ``; a copy is kept). Raises :class:`~asof.errors.ConfigError` for a
    missing explicit file, bad TOML or any invalid setting.
    """
    environ = dict(os.environ if env is None else env)
    explicit, via = path is not None, ""
    if path is None and environ.get(CONFIG_ENV, "").strip():
        path = environ[CONFIG_ENV].strip()
        explicit, via = True, f" (named by {CONFIG_ENV})"
    file = Path(path).expanduser() if path is not None else default_config_path(environ)
    data: dict[str, Any] = {}
    found: Path | None = None
    if file.exists() or explicit:
        try:
            raw = file.read_bytes()
        except FileNotFoundError:
            raise ConfigError(f"configuration file {file} does not exist{via}") from None
        except OSError as exc:
            reason = exc.strerror or type(exc).__name__
            raise ConfigError(f"cannot read configuration file {file}{via}: {reason}") from None
        try:
            data = tomllib.loads(raw.decode("utf-8"))
        except UnicodeDecodeError:
            raise ConfigError(f"{file}: not UTF-8 text") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{file}: not valid TOML: {exc}") from None
        found = file
    return _build(data, found, environ)


def _build(data: Mapping[str, Any], path: Path | None, environ: Mapping[str, str]) -> Config:
    source = str(path) if path is not None else "configuration"
    for key, value in data.items():
        if key not in _TABLES:
            raise ConfigError(
                f"{source}: unknown table [{key}] (known: {', '.join(f'[{t}]' for t in _TABLES)})"
            )
        if not isinstance(value, dict):
            raise ConfigError(f"{source}: [{key}] must be a table, got {_type_name(value)}")

    main: Mapping[str, Any] = data.get("asof", {})
    for key in main:
        if key not in _ASOF_KEYS:
            raise ConfigError(
                f"{source}: [asof] unknown key {key!r} (known: {', '.join(_ASOF_KEYS)})"
            )

    checks: dict[str, Callable[[object, str], object]] = {
        "allow": _names, "block": _names, "timeout": _positive_number, "attempts": _attempts,
        "rate_limit_store": check_store_url,
    }
    for key, value in main.items():  # a bad file value is an error even when overridden
        checks[key](value, f"{source}: [asof] {key}")

    def setting(key: str) -> tuple[object, str] | None:
        variable = f"ASOF_{key.upper()}"
        if environ.get(variable, "").strip():
            value: object = environ[variable]
            if key in ("allow", "block"):  # comma-separated in the environment
                value = [part for part in environ[variable].split(",") if part.strip()]
            return value, f"environment variable {variable}"
        if key in main:
            return main[key], f"{source}: [asof] {key}"
        return None

    allow: tuple[str, ...] | None = None
    block: tuple[str, ...] = ()
    timeout, timeout_given, attempts = DEFAULT_TIMEOUT, False, DEFAULT_ATTEMPTS
    if (found := setting("allow")) is not None:
        allow = _names(*found)
    if (found := setting("block")) is not None:
        block = _names(*found)
    if (found := setting("timeout")) is not None:
        timeout, timeout_given = _positive_number(*found), True
    if (found := setting("attempts")) is not None:
        attempts = _attempts(*found)
    store: str | None = None
    if (found := setting("rate_limit_store")) is not None:
        store = check_store_url(*found)

    routes: dict[str, tuple[str, ...]] = {}
    entries: list[tuple[str, object]] = []
    for key, value in data.get("routes", {}).items():
        if isinstance(value, dict):  # solana.balance_at = [...] written as a dotted key
            entries.extend((f"{key}.{sub}", item) for sub, item in value.items())
        else:
            entries.append((key, value))
    for key, value in entries:
        where = f"{source}: [routes] {key}"
        canonical = _route_key(key, where)
        if canonical in routes:
            raise ConfigError(f"{where}: {canonical!r} is already routed under another name")
        routes[canonical] = _names([value] if isinstance(value, str) else value, where)

    providers: dict[str, dict[str, Any]] = {}
    for name, table in data.get("providers", {}).items():
        key = name.strip().lower()
        if not isinstance(table, dict):
            raise ConfigError(
                f"{source}: [providers.{name}] must be a table, got {_type_name(table)}"
            )
        if key in providers:
            raise ConfigError(f"{source}: [providers.{name}] appears twice")
        for item, value in table.items():
            where = f"{source}: [providers.{name}] {item}"
            if item == "rate_limit":
                parse_rate_limit(value, where)
            elif item == "timeout":
                _positive_number(value, where)
            elif item == "base_url":
                _check_url(value, where)
            elif item == "network":
                if not isinstance(value, str):
                    raise ConfigError(f"{where}: expected a string, got {_type_name(value)}")
            elif item == "urls" and isinstance(value, dict):
                for chain, url in value.items():
                    _check_url(url, f"{where}.{chain}")
            elif not isinstance(value, str | int | float | bool):
                raise ConfigError(f"{where}: expected a single value, got {_type_name(value)}")
        providers[key] = dict(table)

    return Config(
        path=path,
        allow=allow,
        block=block,
        routes=routes,
        providers=providers,
        archive=dict(data.get("archive", {})),
        portfolio=dict(data.get("portfolio", {})),
        timeout=timeout,
        attempts=attempts,
        env=dict(environ),
        timeout_given=timeout_given,
        rate_limit_store=store,
    )
