"""One provider's settings, resolved once from the configuration and the environment.

:meth:`asof.config.Config.provider_settings` reads a provider's table and variables
once and returns a :class:`ProviderSettings`; the router keeps one per loaded plugin and
shares it with the transport (:meth:`asof.transport.Transport.session_for` builds the
provider's session from it) and with ``asof plugins`` (which shows
:meth:`ProviderSettings.credential_state`). Nothing re-reads the configuration table
after that.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from asof.provider import Credential, ProviderInfo, RateLimit
from asof.secrets import Redactor, Secret, url_secrets

__all__ = ["ProviderSettings"]


@attrs.frozen(kw_only=True, repr=False)
class ProviderSettings:
    """Everything the core resolved for one provider.

    ``credentials`` pairs each credential that has a value with it (a
    :class:`~asof.secrets.Secret`); ``unset`` pairs each one without a value with how
    to set it. ``base_url`` is the one to call (configured, network or default),
    ``network`` the selected network, ``options`` every declared option's value,
    ``rate_limit`` the limit to apply (``None``: none), ``timeout`` the seconds to
    wait for one answer and ``chain_urls`` the per-chain URLs of a provider that
    declares ``chain_urls``. The ``repr`` shows no secret and masks key-like parts of the
    base URL.
    """

    info: ProviderInfo
    base_url: str
    network: str | None = None
    credentials: tuple[tuple[Credential, Secret], ...] = ()
    unset: tuple[tuple[Credential, str], ...] = ()
    options: Mapping[str, Any] = attrs.field(factory=dict, hash=False)
    rate_limit: RateLimit | None = None
    timeout: float = 30.0
    #: for a provider declaring ``chain_urls``: canonical chain name -> its URL
    chain_urls: Mapping[str, str] = attrs.field(factory=dict, hash=False)

    @property
    def name(self) -> str:
        """The provider's name."""
        return self.info.name

    @property
    def missing(self) -> str | None:
        """Why the provider cannot be called (a required credential without a value and
        how to set it), or ``None`` when it can."""
        for cred, where in self.unset:
            if cred.required:
                return f"missing credential {cred.name}: {where}"
        return None

    def credential_state(self) -> str:
        """``none needed``, ``ok``, or what to set (never a value)."""
        if not self.info.credentials:
            return "none needed"
        unset = [where if cred.required else f"optional {cred.name}: {where}"
                 for cred, where in self.unset]
        return "; ".join(unset) if unset else "ok"

    def shown_base_url(self) -> str:
        """The base URL with anything key-like in it masked."""
        known = (self.info.base_url, *self.info.networks.values())
        return Redactor(url_secrets(self.base_url, known=known)).redact(self.base_url)

    def __repr__(self) -> str:
        names = [cred.name for cred, _ in self.credentials]
        return (f"ProviderSettings({self.name}, base_url={self.shown_base_url()!r}, "
                f"network={self.network!r}, credentials={names!r}, "
                f"rate_limit={self.rate_limit!r}, timeout={self.timeout:g})")
