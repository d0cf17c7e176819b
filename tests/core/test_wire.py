"""asof's own JSON / JSONL / CSV forms: exact, strict and round-tripping."""

import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from asof.errors import InputError
from asof.records import (
    Amount,
    BalanceAt,
    BalanceChange,
    BlockRef,
    HoldingsPoint,
    LedgerEntry,
    Point,
    Provenance,
    TokenHolding,
    Wallet,
)
from asof.tokens import resolve_token
from asof.wire import dumps_line, flatten, from_data, loads_line, to_data

WALLET = Wallet(chain="solana", address="GQUtvPx89ZNCwmvQqFmH59bJcU8fW8siETpaxod7Aydz")
T = datetime(2025, 3, 1, 12, tzinfo=UTC)
PROV = Provenance(provider="helius", source="GET /x", fetched_at=T, echo={"time": 1, "slot": None})


def balance_change(raw: int) -> BalanceChange:
    return BalanceChange(
        wallet=WALLET, token=resolve_token("solana", "USDC"), token_account="acct1",
        balance=Amount(raw=raw, decimals=6),
        block=BlockRef(number=313000000, hash="h", timestamp=T, transaction="sig", index=4),
        provenance=PROV,
    )


def test_every_kind_round_trips() -> None:
    records = [
        balance_change(2**80),
        HoldingsPoint(wallet=WALLET, timestamp=T, usd=Decimal("297231.67"),
                      breakdown=(TokenHolding(token="x" * 32, usd=Decimal("1.10"),
                                              liquidity_detail="LIQUIDITY_TOO_HIGH"),),
                      provenance=PROV),
        LedgerEntry(account=Wallet(chain="pacifica", address=WALLET.address), time=T,
                    event_type="deposit", amount=Decimal("100.000000"),
                    balance=Decimal("1200.000000"), pending_balance=None, known_type=True,
                    provenance=PROV, sequence=3),
        BalanceAt(wallet=WALLET, token=resolve_token("solana", "SOL"),
                  amount=Amount(raw=0, decimals=9), requested=Point(block=5), as_of=None,
                  provenance=PROV),
    ]
    for record in records:
        line = dumps_line(record)
        assert "\n" not in line
        assert loads_line(line) == record


def test_numbers_are_strings_and_exact() -> None:
    data = to_data(balance_change(2**80 + 7))
    assert data["balance"]["raw"] == str(2**80 + 7)
    assert data["balance"]["value"] == "1208925819614629174.706183"
    assert data["block"]["timestamp"] == "2025-03-01T12:00:00Z"
    assert data["wallet"] == str(WALLET)


@pytest.mark.parametrize(
    ("mutate", "field", "fragment"),
    [
        (lambda d: d["balance"].update(raw=1.5), "balance.raw", "integer"),
        (lambda d: d["balance"].update(raw="12x"), "balance.raw", "integer"),
        (lambda d: d["block"].update(timestamp="2025-03-01T12:00:00"), "block.timestamp", "offset"),
        (lambda d: d.update(extra=1), "", "unknown field"),
        (lambda d: d.update(wallet="solana:nope"), "wallet", "not a Solana address"),
    ],
)
def test_strict_reading_names_the_field(mutate, field: str, fragment: str) -> None:  # type: ignore[no-untyped-def]
    data = to_data(balance_change(1))
    mutate(data)
    with pytest.raises(InputError, match=fragment) as info:
        from_data(BalanceChange, data)
    if field:
        assert info.value.field == field


def test_bad_lines() -> None:
    with pytest.raises(InputError, match="not JSON"):
        loads_line("{nope")
    with pytest.raises(InputError, match="unknown kind"):
        loads_line(json.dumps({"kind": "mystery"}))


def test_flatten_for_csv() -> None:
    row = flatten(balance_change(5))
    assert row["balance.raw"] == "5"
    assert row["token.symbol"] == "USDC"
    assert row["provenance.provider"] == "helius"


@given(st.integers(min_value=0, max_value=2**256), st.integers(min_value=0, max_value=36))
def test_any_amount_round_trips(raw: int, decimals: int) -> None:
    record = BalanceChange(
        wallet=WALLET, token=resolve_token("solana", "USDC"), token_account=None,
        balance=Amount(raw=raw, decimals=decimals), block=BlockRef(number=1, timestamp=T),
        provenance=PROV,
    )
    assert loads_line(dumps_line(record)) == record
