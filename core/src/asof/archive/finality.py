"""Finality horizons: how old data must be before the archive keeps it for good.

A past balance never changes once its block is final, but a fresh one can still be
reorganised away. The archive therefore stores only data at or before ``now - horizon``
for the data's chain; anything fresher passes through to the caller and is not stored,
and coverage never reaches past the horizon.

Defaults (seconds): Solana 60, Ethereum (and Sepolia) 900, other EVM chains 3600 (a
rollup is final once its batch is final on Ethereum), exchange venues 3600, the local
development chain 0, anything else 3600. The ``[archive.finality]`` table of the
configuration overrides them per chain (any alias works), and ``default`` overrides the
fallback::

    [archive.finality]
    solana = 120
    base = 1800
    default = 7200
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

import attrs

from asof.chains import Family, resolve_chain
from asof.errors import ConfigError, UnknownChain

__all__ = ["DEFAULT_FINALITY", "DEFAULT_HORIZON", "Finality"]

#: Built-in horizons in seconds, by canonical chain name.
DEFAULT_FINALITY: Mapping[str, int] = {
    "solana": 60,
    "ethereum": 900,
    "sepolia": 900,
    "anvil": 0,
}
#: The horizon of a chain nobody configured, in seconds.
DEFAULT_HORIZON = 3600
_EVM_HORIZON = 3600
_VENUE_HORIZON = 3600


def _seconds(value: object, key: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(f"[archive.finality] {key}: expected a number of seconds, "
                          f"got {value!r}")
    if value < 0:
        raise ConfigError(f"[archive.finality] {key}: cannot be negative, got {value!r}")
    return float(value)


@attrs.frozen
class Finality:
    """Per-chain finality horizons. ``overrides`` maps canonical chain names (and
    ``default``) to seconds."""

    overrides: Mapping[str, float] = attrs.field(factory=dict, hash=False)

    @classmethod
    def from_mapping(cls, table: Mapping[str, object] | None) -> Finality:
        """Read a ``[archive.finality]`` table: chain name or alias (or ``default``) to
        seconds. Raises :class:`~asof.errors.ConfigError` for an unknown chain or a bad
        value."""
        found: dict[str, float] = {}
        for key, value in (table or {}).items():
            seconds = _seconds(value, key)
            if key == "default":
                found["default"] = seconds
                continue
            try:
                found[resolve_chain(key).name] = seconds
            except UnknownChain:
                raise ConfigError(f"[archive.finality] {key}: unknown chain") from None
        return cls(found)

    def horizon(self, chain: str) -> timedelta:
        """How old data on ``chain`` must be before it is archived."""
        info = resolve_chain(chain)
        if info.name in self.overrides:
            return timedelta(seconds=self.overrides[info.name])
        if info.name in DEFAULT_FINALITY:
            return timedelta(seconds=DEFAULT_FINALITY[info.name])
        if "default" in self.overrides:
            return timedelta(seconds=self.overrides["default"])
        if info.venue:
            return timedelta(seconds=_VENUE_HORIZON)
        if info.family is Family.EVM:
            return timedelta(seconds=_EVM_HORIZON)
        return timedelta(seconds=DEFAULT_HORIZON)

    def cut(self, chain: str, now: datetime) -> datetime:
        """The latest moment on ``chain`` that is final at ``now``."""
        return now - self.horizon(chain)

    def is_final(self, chain: str, moment: datetime, now: datetime) -> bool:
        """Whether data at ``moment`` on ``chain`` is final at ``now``."""
        return moment <= self.cut(chain, now)
