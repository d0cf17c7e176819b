"""DataFrame conversions keep every number exact: raw amounts up to 2**128 - 1 and
beyond int64, Decimal values at their full precision, UTC times."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from asof.exact import multiply
from asof.frames import Results, rows, to_arrow, to_pandas, to_polars
from asof.portfolio import Holding, Portfolio
from asof.prices import Price, Valuation
from asof.records import (
    Amount,
    BalanceChange,
    BlockRef,
    LedgerEntry,
    Point,
    Provenance,
    Token,
    Wallet,
)

W = Wallet(chain="ethereum", address="0xd8da6bf26964af9d7eed9e03e53415d37aa96045")
T = datetime(2025, 3, 1, 12, 30, 15, 123456, tzinfo=UTC)
PROV = Provenance(provider="model", derived=True)


def change(raw: int, decimals: int = 18) -> BalanceChange:
    token = Token(chain="ethereum", address="0x" + "ab" * 20, standard="erc20",
                  decimals=decimals)
    return BalanceChange(wallet=W, token=token, token_account=None,
                         balance=Amount(raw=raw, decimals=decimals),
                         block=BlockRef(number=1, timestamp=T), provenance=PROV)


def test_a_raw_amount_beyond_int64_round_trips_as_text() -> None:
    big = 2**128 - 1
    items = [change(big), change(5)]
    table = to_arrow(items)
    assert table.schema.field("balance.raw").type == pa.string()
    assert [int(v) for v in table.column("balance.raw").to_pylist()] == [big, 5]
    frame = to_pandas(items)
    assert [int(v) for v in frame["balance.raw"]] == [big, 5]
    polars = to_polars(items)
    assert [int(v) for v in polars["balance.raw"].to_list()] == [big, 5]


def test_small_raw_amounts_are_int64_and_times_utc() -> None:
    table = to_arrow([change(2**63 - 1), change(0)])
    assert table.schema.field("balance.raw").type == pa.int64()
    assert table.column("balance.raw").to_pylist() == [2**63 - 1, 0]
    stamp = table.schema.field("block.timestamp").type
    assert stamp == pa.timestamp("us", tz="UTC")
    assert table.column("block.timestamp").to_pylist()[0] == T


@settings(max_examples=60, deadline=None)
@given(raws=st.lists(st.integers(min_value=0, max_value=2**128 - 1), min_size=1,
                     max_size=5),
       price=st.decimals(min_value=0, max_value=10**12, places=18, allow_nan=False))
def test_every_amount_and_value_survives(raws: list[int], price: Decimal) -> None:
    token = Token(chain="ethereum", address="0x" + "cd" * 20, standard="erc20",
                  decimals=18, symbol="X")
    holdings = []
    for raw in raws:
        amount = Amount(raw=raw, decimals=18)
        quoted = Price(token=token, usd=price, time=T, requested=T, provenance=PROV)
        assert amount.value is not None
        holdings.append(Holding(wallet=W, token=token, amount=amount, as_of=None,
                                provenance=PROV,
                                valuation=Valuation(currency="usd",
                                                    value=multiply(amount.value, price),
                                                    price=quoted)))
    portfolio = Portfolio(wallet=W, requested=Point(time=T), holdings=tuple(holdings),
                          provenance=PROV)
    result = Results([portfolio])
    table = result.to_arrow()
    got = [int(v) for v in table.column("amount.raw").to_pylist()]
    assert got == raws
    values = table.column("valuation.value").to_pylist()
    expected = [h.valuation.value for h in holdings if h.valuation is not None]
    assert [Decimal(str(v)) for v in values] == expected
    frame = result.to_pandas()
    assert [int(v) for v in frame["amount.raw"]] == raws
    assert [Decimal(str(v)) for v in frame["valuation.value"]] == expected
    assert list(frame["wallet"]) == [str(W)] * len(raws)
    assert "<table>" in result._repr_html_()


def test_rows_of_a_portfolio_are_one_per_holding() -> None:
    token = Token(chain="ethereum", address="0x" + "ef" * 20, standard="erc20", decimals=6)
    holding = Holding(wallet=W, token=token, amount=Amount(raw=7, decimals=6), as_of=None,
                      provenance=PROV, token_accounts=())
    found = rows([Portfolio(wallet=W, requested=Point(block=9), holdings=(holding,) * 2,
                            provenance=PROV)])
    assert len(found) == 2
    assert found[0]["requested_block"] == 9
    assert found[0]["amount.raw"] == 7


def test_a_value_is_never_rounded_to_the_context() -> None:
    from asof.prices import valuation

    token = Token(chain="ethereum", address="0x" + "cd" * 20, decimals=18)
    amount = Amount(raw=2**128 - 1, decimals=18)
    price = Price(token=token, usd=Decimal("1234.567890123456789"), time=T, requested=T,
                  provenance=PROV)
    found = valuation(amount, price).value
    assert found == Decimal(f"{(2**128 - 1) * 1234567890123456789}E-33")  # integer truth
    assert found is not None
    assert len(found.as_tuple().digits) > 28


def test_an_archive_series_and_a_ledger_convert(tmp_path: Any) -> None:
    from asof.archive import Archive
    from tests.core.archive.helpers import at, change, clock, covered

    with Archive(tmp_path / "a.sqlite", clock=clock()) as archive:
        archive.add([covered(at(2), at(31)), change(at(3), 2**100 + 7), change(at(5), 2)])
        points = archive.series(
            "solana:GQUtvPx89ZNCwmvQqFmH59bJcU8fW8siETpaxod7Aydz", "USDC",
            start=at(1), end=at(6), every="1d")
    frame = to_pandas(points)
    import pandas as pd

    raws = [None if pd.isna(v) else int(v) for v in frame["amount.raw"]]
    assert raws == [None, 0, 2**100 + 7, 2**100 + 7, 2]  # uncovered stays empty, not 0
    assert str(frame["time"].dt.tz) == "UTC"
    ledger = [LedgerEntry(account=Wallet(chain="pacifica",
                                         address="42trU9A5Hs7WcKnJ3mRtYpXvQz8LbEdGfN2aPuVwCx6M"),
                          time=T, event_type="deposit", amount=Decimal("100.000001"),
                          balance=Decimal("12345678901234567890123456789.000001"),
                          pending_balance=None, known_type=True, provenance=PROV)]
    table = to_arrow(ledger)
    assert table.column("balance").to_pylist() == [
        Decimal("12345678901234567890123456789.000001")]
    assert to_polars(ledger)["event_type"].to_list() == ["deposit"]


def test_records_show_as_tables_in_notebooks() -> None:
    html = change(2**128 - 1)._repr_html_()
    assert html.startswith("<table>")
    assert str(2**128 - 1) in html  # exact text, not a float
