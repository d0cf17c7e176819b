"""Building Allium requests: the effective time window, wallet batches, bodies and
query parameters.

Both endpoints take the wallets as ``addresses`` (a list of ``{chain, address}``) and
the range as ``start_timestamp`` (inclusive) and ``end_timestamp`` (exclusive) in UTC.
``cursor`` travels as a query parameter on both; the balances endpoint also takes
``limit`` there, the holdings endpoint ``min_liquidity``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import attrs

from asof.plugin import HistoryQuery, InputError, InvalidRange, Wallet, format_time
from asof_allium.chains import allium_chain
from asof_allium.info import MAX_WALLETS

__all__ = [
    "HISTORY_EPOCH",
    "Window",
    "balances_request",
    "batches",
    "format_time",
    "holdings_request",
    "window_for",
]

#: Where an open-started balance history begins: before any chain Allium serves.
HISTORY_EPOCH = datetime(2009, 1, 3, tzinfo=UTC)


@attrs.frozen(kw_only=True)
class Window:
    """The range actually asked of Allium: ``end`` is clamped to the current time."""

    start: datetime
    end: datetime
    clamped: bool = False


def window_for(query: HistoryQuery, now: datetime, *, open_start: datetime | None) -> Window:
    """The effective window of ``query`` at ``now``.

    A missing start becomes ``open_start`` (or is refused when that is ``None``); a
    missing or future end becomes ``now``, as Allium documents. A window left empty (a
    start at or after now) is refused before any call.
    """
    now = now.astimezone(UTC).replace(microsecond=0)
    start = query.start if query.start is not None else open_start
    if start is None:
        raise InputError("Allium needs a start for this history", field="start")
    end = query.end
    clamped = end is None or end > now
    if end is None or end > now:
        end = now
    if end <= start:
        if clamped:
            raise InvalidRange(
                f"start {format_time(start)} is not before the current time {format_time(now)}",
                field="start",
            )
        raise InvalidRange(
            f"end {format_time(end)} is not after start {format_time(start)}", field="end"
        )
    return Window(start=start, end=end, clamped=clamped)


def batches(wallets: Sequence[Wallet], size: int = MAX_WALLETS) -> list[tuple[Wallet, ...]]:
    """The wallets without repeats, in order, cut into groups of at most ``size``."""
    unique = list(dict.fromkeys(wallets))
    return [tuple(unique[i : i + size]) for i in range(0, len(unique), size)]


def _addresses(batch: Sequence[Wallet]) -> list[dict[str, str]]:
    return [{"chain": allium_chain(w.chain), "address": w.address} for w in batch]


def balances_request(
    batch: Sequence[Wallet], window: Window, cursor: str | None, limit: int
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Body and query parameters of one balances-history request."""
    body = {
        "addresses": _addresses(batch),
        "start_timestamp": format_time(window.start),
        "end_timestamp": format_time(window.end),
    }
    params: dict[str, Any] = {"limit": limit}
    if cursor is not None:
        params["cursor"] = cursor
    return body, params


def holdings_request(
    batch: Sequence[Wallet],
    window: Window,
    *,
    granularity: str,
    breakdown: bool,
    min_liquidity: Decimal | None,
    cursor: str | None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Body and query parameters of one holdings-history request."""
    body = {
        "addresses": _addresses(batch),
        "start_timestamp": format_time(window.start),
        "end_timestamp": format_time(window.end),
        "granularity": granularity,
        "include_token_breakdown": breakdown,
    }
    params: dict[str, Any] = {}
    if min_liquidity is not None:
        if min_liquidity < 0:
            raise InputError("must not be negative", field="min_liquidity", value=min_liquidity)
        params["min_liquidity"] = format(min_liquidity, "f")
    if cursor is not None:
        params["cursor"] = cursor
    return body, params
