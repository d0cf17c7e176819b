"""asof provider plugin for any Ethereum JSON-RPC node.

Registered under the ``asof`` entry-point group as ``evm``; this module exposes the hook
implementations. It reads exact historical balances from a node's state
(``balance_at``, native coin and ERC-20, at ``block:N`` or a time) and ERC-20 balance
histories from ``Transfer`` logs (``balance_history``). See ``docs/providers/evm.md``.
"""

from __future__ import annotations

from asof_evm.hooks import balance_at, history_page, provider_info, supported_chains

__all__ = ["balance_at", "history_page", "provider_info", "supported_chains"]
