"""asof provider plugin for Helius: Solana balances as of a time or a slot.

Registered under the ``asof`` entry-point group as ``helius``; the hook
implementations below are what the core loads. See ``docs/providers/helius.md``.
"""

from __future__ import annotations

from asof_helius.plugin import balance_at, provider_info, supported_chains

__all__ = ["balance_at", "provider_info", "supported_chains"]
