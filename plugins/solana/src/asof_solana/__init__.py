"""asof provider plugin for any Solana JSON-RPC node: exact balances as of a slot or a time.

Registered under the ``asof`` entry-point group as ``solana``; the hook implementations
below are what the core loads. See ``docs/providers/solana.md``.
"""

from __future__ import annotations

from asof_solana.plugin import balance_at, portfolio_at, provider_info, supported_chains

__all__ = ["balance_at", "portfolio_at", "provider_info", "supported_chains"]
