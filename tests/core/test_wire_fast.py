"""The fixed-shape balance-change decoder agrees with the generic converter: the same
record for every line it reads, and it steps aside (``None``) wherever the generic
path refuses a line."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from asof import wire
from asof.records import Amount, BalanceChange, BlockRef, Provenance, Wallet
from asof.tokens import resolve_token

CHANGE = BalanceChange(
    wallet=Wallet(chain="solana", address="GQUtvPx89ZNCwmvQqFmH59bJcU8fW8siETpaxod7Aydz"),
    token=resolve_token("solana", "USDC"), token_account="Acct1111111111111111111111111111",
    balance=Amount(raw=123_456_789, decimals=6),
    block=BlockRef(number=250_000_000, timestamp=datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC),
                   transaction="sig", index=3),
    provenance=Provenance(provider="allium", source="POST /history",
                          fetched_at=datetime(2025, 6, 1, tzinfo=UTC), caveats=("c",)))
BASE: dict[str, Any] = json.loads(wire.dumps_line(CHANGE))
del BASE["kind"]


def _paths(value: Any, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    if isinstance(value, dict):
        return [p for key, sub in value.items() for p in _paths(sub, (*prefix, key))]
    return [prefix]


LEAVES = st.one_of(
    st.none(), st.booleans(), st.integers(-5, 10**20), st.text(max_size=4),
    st.decimals(allow_nan=False, allow_infinity=False, places=2),
    st.sampled_from(["2024-01-01T00:00:00Z", "2024-01-01T00:00:00", "12", "true", []]),
)


def test_the_canonical_line_decodes_to_the_same_record() -> None:
    assert wire.loads_line(wire.dumps_line(CHANGE)) == CHANGE
    assert wire._fast.change(copy.deepcopy(BASE)) == CHANGE


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(_paths(BASE)), LEAVES)
def test_a_changed_field_decodes_alike_or_goes_the_generic_way(
        path: tuple[str, ...], value: Any) -> None:
    data = copy.deepcopy(BASE)
    target = data
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    fast = wire._fast.change(copy.deepcopy(data))
    try:
        slow = wire.from_data(BalanceChange, data)
    except Exception:
        assert fast is None
        return
    assert fast is None or fast == slow
    if isinstance(value, Decimal) and fast is not None:
        assert not any(isinstance(v, float) for v in (fast.balance.raw, fast.block.number))


@settings(max_examples=100, deadline=None)
@given(st.sampled_from([(), ("token",), ("block",), ("provenance",), ("balance",)]),
       st.text(min_size=1, max_size=6))
def test_an_extra_key_goes_the_generic_way(where: tuple[str, ...], key: str) -> None:
    data = copy.deepcopy(BASE)
    target = data
    for part in where:
        target = target[part]
    assume(key not in target)
    target[key] = 1
    assert wire._fast.change(data) is None
