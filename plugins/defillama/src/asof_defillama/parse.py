"""Reading DefiLlama's ``/prices/historical`` answer into a :class:`~asof.prices.Price`.

The body is ``{"coins": {"<coin id>": {"price", "symbol", "timestamp", "confidence",
"decimals"}}}``; a coin without a price near the time is absent from ``coins``. Numbers
arrive as Decimal or int (the core parses JSON without floats); anything else breaks the
documented shape and raises :class:`~asof.errors.ResponseError`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from asof.plugin import Price, Provenance, ResponseError, Token

__all__ = ["NAME", "SOURCE", "parse_price"]

NAME = "defillama"
SOURCE = "GET /prices/historical/{timestamp}/{coins}"


def _bad(what: str) -> ResponseError:
    return ResponseError(NAME, f"malformed prices answer: {what}")


def _number(value: Any, field: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise _bad(f"{field} must be a number, got {value!r}")
    result = Decimal(value)
    if not result.is_finite() or result < 0:
        raise _bad(f"{field} must be a finite non-negative number, got {value!r}")
    return result


def _entry(coins: Mapping[str, Any], coin: str) -> Mapping[str, Any] | None:
    found = coins.get(coin)
    if found is None:  # EVM addresses may come back in another case
        found = next((v for k, v in coins.items() if k.lower() == coin.lower()), None)
    if found is not None and not isinstance(found, Mapping):
        raise _bad(f"coins.{coin} must be an object")
    return found


def parse_price(body: Any, token: Token, coin: str, requested: datetime, *,
                fetched_at: datetime, search_width: str) -> Price | None:
    """The price of ``token`` (asked as ``coin``) in ``body``; ``None`` when absent."""
    if not isinstance(body, Mapping) or not isinstance(body.get("coins"), Mapping):
        raise _bad("expected an object with a 'coins' object")
    entry = _entry(body["coins"], coin)
    if entry is None or entry.get("price") is None:
        return None
    usd = _number(entry["price"], f"coins.{coin}.price")
    stamp = entry.get("timestamp")
    if isinstance(stamp, bool) or not isinstance(stamp, int) or stamp < 0:
        raise _bad(f"coins.{coin}.timestamp must be epoch seconds, got {stamp!r}")
    confidence = entry.get("confidence")
    symbol = entry.get("symbol")
    echo: dict[str, Any] = {"coin": coin, "searchWidth": search_width}
    if isinstance(symbol, str):
        echo["symbol"] = symbol
    return Price(
        token=token,
        usd=usd,
        time=datetime.fromtimestamp(stamp, UTC),
        requested=requested,
        confidence=None if confidence is None
        else _number(confidence, f"coins.{coin}.confidence"),
        provenance=Provenance(provider=NAME, source=SOURCE, fetched_at=fetched_at,
                              echo=echo),
    )
