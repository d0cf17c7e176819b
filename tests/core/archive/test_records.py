"""Ledgers, holdings and answers round-trip through the archive exactly."""

from __future__ import annotations

from decimal import Decimal

from asof.archive import SCHEMA_VERSION, Archive, Record
from asof.queries import BalanceQuery, HistoryQuery
from asof.records import (
    Amount,
    BalanceChange,
    BlockRef,
    Capability,
    HoldingsPoint,
    Page,
    Point,
    Provenance,
    TokenHolding,
)

from .helpers import (
    USDC,
    VENUE,
    WALLET,
    answer,
    at,
    balance_query,
    change,
    covered,
    entry,
    history_query,
)


def test_big_amounts_stay_exact(archive: Archive) -> None:
    huge = 10**40 + 1
    archive.add([covered(at(1), at(31)), change(at(3), huge), change(at(3), huge,
                                                                     account="other")])
    found = archive.lookup_balance(balance_query(at(4)))
    assert found is not None
    assert found.amount.raw == 2 * huge
    (stored, _) = list(archive.records(kinds=["balance_change"]))
    assert isinstance(stored, BalanceChange)
    assert stored.balance.raw == huge


def test_records_round_trip_as_given(archive: Archive) -> None:
    original = BalanceChange(
        wallet=WALLET, token=USDC, token_account=None,
        balance=Amount(raw=5, decimals=6),
        block=BlockRef(number=9, hash="h", timestamp=at(3, 1, 2, 3), transaction="t", index=1),
        provenance=Provenance(provider="p", source="s", fetched_at=at(4),
                              echo={"limit": 5, "ratio": "0.5", "nested": {"a": [1, None]}},
                              caveats=("c",)),
    )
    point = HoldingsPoint(wallet=WALLET, timestamp=at(3), usd=Decimal("12.345"),
                          breakdown=(TokenHolding(token=USDC.address, usd=Decimal("12.345"),
                                                  liquidity_usd=None,
                                                  liquidity_detail="LIQUIDITY_TOO_HIGH"),),
                          provenance=Provenance(provider="p"))
    ledger = entry(at(3), "-1.5", "98.500001", sequence=3)
    given = answer(at(3), 5, at(2))
    archive.add([original, point, ledger, given])
    assert list(archive.records(kinds=["balance_change"])) == [original]
    assert list(archive.records(kinds=["holdings_point"])) == [point]
    assert list(archive.records(kinds=["ledger_entry"])) == [ledger]
    assert list(archive.records(kinds=["balance_at"])) == [given]


def test_duplicates_are_stored_once(archive: Archive) -> None:
    records: list[Record] = [change(at(3), 5), entry(at(3), "1", "1")]
    assert archive.add(records) == 2
    assert archive.add(records) == 0
    assert archive.info().counts["changes"] == 1


def test_venue_balance_from_a_covered_ledger(archive: Archive) -> None:
    usdc = USDC.__class__(chain="pacifica", address=USDC.address, standard="spl",
                          decimals=6, symbol="USDC")
    archive.add([
        covered(None, at(31), wallet=VENUE, provider="ledger",
                capability=Capability.ACCOUNT_LEDGER),
        entry(at(3), "100", "100"),
        entry(at(5), "-0.25", "99.75", kind="trade"),
    ])

    def ask(moment: object) -> Amount | None:
        found = archive.lookup_balance(BalanceQuery(wallet=VENUE, token=usdc,
                                                    point=Point(time=moment)))  # type: ignore[arg-type]
        return None if found is None else found.amount

    assert ask(at(2)) == Amount(raw=0, decimals=6)
    assert ask(at(4)) == Amount(raw=100_000_000, decimals=6)
    assert ask(at(6)) == Amount(raw=99_750_000, decimals=6)
    assert ask(at(31)) is None


def test_ledger_history_and_event_filter(archive: Archive) -> None:
    query = history_query(at(1), at(31), wallets=(VENUE,),
                          capability=Capability.ACCOUNT_LEDGER)
    archive.record_page(query, "ledger", Page(items=(
        entry(at(3), "100", "100"), entry(at(5), "-1", "99", kind="trade"))), None)
    archive.complete_history(query, "ledger")
    found = archive.lookup_history(query)
    assert found is not None
    assert [e.event_type for e in found] == ["deposit", "trade"]  # type: ignore[union-attr]
    deposits = HistoryQuery(capability=Capability.ACCOUNT_LEDGER, wallets=(VENUE,),
                            start=at(1), end=at(31), event_types=("deposit",))
    assert archive.lookup_history(deposits) is None  # a filtered query is covered alone


def test_holdings_history_by_grid(archive: Archive) -> None:
    query = HistoryQuery(capability=Capability.HOLDINGS_HISTORY, wallets=(WALLET,),
                         start=at(1), end=at(3), granularity="1d", breakdown=True)
    points = tuple(
        HoldingsPoint(wallet=WALLET, timestamp=at(day), usd=Decimal(day),
                      breakdown=(TokenHolding(token=USDC.address, usd=Decimal(day)),),
                      provenance=Provenance(provider="allium"))
        for day in (2, 1))
    archive.record_page(query, "allium", Page(items=points), None)
    archive.complete_history(query, "allium")
    found = archive.lookup_history(query)
    assert found is not None
    # Newest first, as the provider gave them (one holdings order, live or archived).
    assert [p.timestamp for p in found] == [at(2), at(1)]  # type: ignore[union-attr]
    plain = HistoryQuery(capability=Capability.HOLDINGS_HISTORY, wallets=(WALLET,),
                         start=at(1), end=at(3), granularity="1h")
    assert archive.lookup_history(plain) is None


def test_clear_one_wallet_or_everything(archive: Archive) -> None:
    query = history_query(at(1), at(31))
    archive.record_page(query, "hist", Page(items=(change(at(3), 5),)), None)
    archive.complete_history(query, "hist")
    archive.add([entry(at(3), "1", "1"), answer(at(3), 1, at(2))])
    removed = archive.clear(WALLET)
    assert removed >= 4
    info = archive.info()
    assert info.counts["changes"] == 0
    assert info.counts["coverage"] == 0
    assert info.counts["sync_state"] == 0
    assert info.counts["ledger"] == 1  # the venue account is another wallet
    archive.clear()
    assert sum(archive.info().counts.values()) == 0


def test_info_reports_size_and_version(archive: Archive) -> None:
    archive.add([change(at(3), 5)])
    info = archive.info()
    assert info.schema_version == SCHEMA_VERSION == 5
    assert info.counts["changes"] == 1
    assert info.path == archive.storage.name
    if archive.path is not None:  # a file: its size on disk is known
        assert info.size is not None
        assert info.size > 0
        assert info.path.endswith("archive.sqlite")
