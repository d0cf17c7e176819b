"""asof provider plugin for Pacifica, a perpetual-futures exchange settled on Solana.

Registered under the ``asof`` entry-point group as ``pacifica``; this module exposes
the hook implementations. It serves the venue ``pacifica``: an account's ledger
(``account_ledger``) from ``GET /api/v1/account/balance/history``, and ``balance_at``
derived from that ledger. See ``docs/providers/pacifica.md``.
"""

from __future__ import annotations

from asof_pacifica.hooks import balance_at, history_page, provider_info, supported_chains

__all__ = ["balance_at", "history_page", "provider_info", "supported_chains"]
