"""asof provider plugin for Allium: balance history, holdings history, and balances
derived from the history.

Registered under the ``asof`` entry-point group as ``allium``; this module's top level
carries the hook implementations. See ``docs/providers/allium.md``.
"""

from __future__ import annotations

from asof_allium.hooks import (
    balance_at,
    discover_chains,
    history_page,
    provider_info,
    supported_chains,
)

__all__ = [
    "balance_at",
    "discover_chains",
    "history_page",
    "provider_info",
    "supported_chains",
]
