"""The quick reading of balances-history items agrees with the strict one: for any
item (a documented one with one value changed, removed or added), a page gives the
same records as reading every item strictly, or the same error naming the same field;
wallets and tokens read once per page are never reused for a value that reads
differently."""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from asof.errors import ResponseError
from asof.records import Provenance, Wallet
from asof.strict import strict
from asof_allium.parse import _balance_change, parse_balance_page
from tests.plugins.allium.data import SOL_WALLET

PROVENANCE = Provenance(provider="allium")
SOL = Wallet(chain="solana", address=SOL_WALLET)
ITEM: dict[str, Any] = {
    "address": SOL_WALLET, "chain": "solana", "block_slot": 5,
    "block_timestamp": "2025-04-01T12:00:00Z", "block_hash": "h", "txn_id": "t",
    "txn_index": 0, "raw_balance": 10, "token_account": "acct",
    "token": {"address": "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v", "chain": "solana",
              "type": "sol_spl", "decimals": 6, "info": {"symbol": "USDC"}},
}


def _paths(value: Any, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    if isinstance(value, dict):
        return [prefix, *(p for key, sub in value.items() for p in _paths(sub, (*prefix, key)))]
    return [prefix]


VALUES = st.one_of(
    st.none(), st.booleans(), st.integers(-3, 10**20), st.text(max_size=3),
    st.decimals(allow_nan=False, allow_infinity=False, places=1),
    st.sampled_from(["", " ", "solana", "ethereum", "sol_native", "native", "6", "1",
                     "2025-04-01T12:00:00", "2025-04-01", "yesterday", [], {}, ["x"],
                     {"symbol": 1}, {"symbol": "X"}, Decimal("6"), Decimal("6.0"),
                     "So11111111111111111111111111111111111111112", SOL_WALLET]),
)


def _strictly(items: list[Any]) -> Any:
    """Every item read by the strict reader alone: the records, or the error."""
    try:
        root = strict("allium", {"items": items}, "balances history answer")
        return [_balance_change(item, "solana", [SOL], PROVENANCE)
                for item in root["items"].items()]
    except ResponseError as exc:
        return ("error", exc.field, str(exc))


def _quickly(items: list[Any]) -> Any:
    try:
        return parse_balance_page({"items": items}, chain="solana", batch=[SOL],
                                  provenance=PROVENANCE)[0]
    except ResponseError as exc:
        return ("error", exc.field, str(exc))


def _changed(path: tuple[str, ...], value: Any, *, delete: bool = False) -> dict[str, Any]:
    item = copy.deepcopy(ITEM)
    if not path:
        return item
    target = item
    for key in path[:-1]:
        target = target[key]
    if delete:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return item


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(_paths(ITEM)), VALUES, st.booleans(), st.booleans())
def test_a_changed_item_reads_alike(path: tuple[str, ...], value: Any, delete: bool,
                                    twice: bool) -> None:
    changed = _changed(path, value, delete=delete and bool(path))
    # The documented item first fills the page's wallet and token caches; the changed
    # one (maybe twice) must not borrow from them unless it reads the same.
    items = [copy.deepcopy(ITEM), changed] + ([copy.deepcopy(changed)] if twice else [])
    assert _quickly(items) == _strictly(items)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(_paths(ITEM)), VALUES)
def test_a_changed_item_first_reads_alike(path: tuple[str, ...], value: Any) -> None:
    items = [_changed(path, value), copy.deepcopy(ITEM)]
    assert _quickly(items) == _strictly(items)


def test_items_that_are_not_objects_are_refused_alike() -> None:
    for odd in (None, 1, "x", [ITEM]):
        assert _quickly([ITEM, odd]) == _strictly([ITEM, odd])
