"""Builders shared by the archive tests: a fixed clock, wallets, tokens and records."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from asof.archive import Coverage, Record
from asof.archive.io import dumps_record
from asof.queries import BalanceQuery, HistoryQuery
from asof.records import (
    Amount,
    BalanceAt,
    BalanceChange,
    BlockRef,
    Capability,
    HistoryScope,
    LedgerEntry,
    Point,
    Provenance,
    Token,
    Wallet,
)
from asof.tokens import native_token, resolve_token

#: "Now" for every archive test: far after the data, so everything is final.
NOW = datetime(2025, 6, 1, tzinfo=UTC)

WALLET = Wallet(chain="solana", address="GQUtvPx89ZNCwmvQqFmH59bJcU8fW8siETpaxod7Aydz")
OTHER = Wallet(chain="solana", address="ExampLeWa11et1111111111111111111111111111111")
USDC: Token = resolve_token("solana", "USDC")
SOL: Token = native_token("solana")
ACCOUNT_A = "TokenAccountA111111111111111111111111111111"
ACCOUNT_B = "TokenAccountB111111111111111111111111111111"
VENUE = Wallet(chain="pacifica", address="GQUtvPx89ZNCwmvQqFmH59bJcU8fW8siETpaxod7Aydz")


def clock(now: datetime = NOW) -> Callable[[], datetime]:
    """A clock stuck at ``now``."""
    return lambda: now


def at(day: int, hour: int = 0, minute: int = 0, second: int = 0, month: int = 3) -> datetime:
    """A moment in 2025 (March by default), UTC."""
    return datetime(2025, month, day, hour, minute, second, tzinfo=UTC)


def change(
    when: datetime,
    raw: int,
    *,
    wallet: Wallet = WALLET,
    token: Token = USDC,
    account: str | None = ACCOUNT_A,
    slot: int | None = None,
    index: int = 0,
    provider: str = "hist",
) -> BalanceChange:
    """A balance change; the slot defaults to one per second since 2025-01-01."""
    if slot is None:
        slot = 1_000_000 + int((when - datetime(2025, 1, 1, tzinfo=UTC)).total_seconds())
    return BalanceChange(
        wallet=wallet, token=token, token_account=account,
        balance=Amount(raw=raw, decimals=token.decimals),
        block=BlockRef(number=slot, timestamp=when, transaction=f"tx{slot}-{index}",
                       index=index),
        provenance=Provenance(provider=provider, source="test"),
    )


#: The scope of a history of every token and token account, with opening balances.
FULL = HistoryScope(opening_balances=True)


def covered(start: datetime | None, end: datetime, *, wallet: Wallet = WALLET,
            scope: str = "*", provider: str = "hist",
            capability: Capability = Capability.BALANCE_HISTORY,
            history_scope: HistoryScope | None = FULL) -> Coverage:
    """Coverage of a time range (a balance history of declared ``history_scope``)."""
    return Coverage(capability=capability, provider=provider, wallet=wallet, scope=scope,
                    start=start, end=end,
                    history_scope=history_scope
                    if capability is Capability.BALANCE_HISTORY else None)


def balance_query(point: datetime | int, *, wallet: Wallet = WALLET,
                  token: Token = USDC) -> BalanceQuery:
    """A balance query at a time, or at a slot when ``point`` is an int."""
    p = Point(block=point) if isinstance(point, int) else Point(time=point)
    return BalanceQuery(wallet=wallet, token=token, point=p)


def history_query(start: datetime | None, end: datetime | None, *,
                  wallets: tuple[Wallet, ...] = (WALLET,), tokens: tuple[Token, ...] = (),
                  capability: Capability = Capability.BALANCE_HISTORY) -> HistoryQuery:
    """A history query."""
    return HistoryQuery(capability=capability, wallets=wallets, start=start, end=end,
                        tokens=tokens)


def answer(point: datetime, raw: int, as_of: datetime | None, *, token: Token = USDC,
           provider: str = "direct", wallet: Wallet = WALLET) -> BalanceAt:
    """A provider's balance-at answer."""
    return BalanceAt(
        wallet=wallet, token=token, amount=Amount(raw=raw, decimals=token.decimals),
        requested=Point(time=point),
        as_of=None if as_of is None else BlockRef(number=7, timestamp=as_of,
                                                  transaction="sig"),
        provenance=Provenance(provider=provider, source="GET /balance-at",
                              fetched_at=NOW - timedelta(days=1)),
    )


def entry(when: datetime, amount: str, balance: str, *, account: Wallet = VENUE,
          kind: str = "deposit", provider: str = "ledger", sequence: int | None = None,
          ) -> LedgerEntry:
    """A ledger entry of an exchange account."""
    return LedgerEntry(account=account, time=when, event_type=kind, amount=Decimal(amount),
                       balance=Decimal(balance), pending_balance=Decimal(0), known_type=True,
                       provenance=Provenance(provider=provider), sequence=sequence)


def lines_of(*records: Record) -> str:
    """JSONL text of records (coverage included)."""
    return "".join(dumps_record(r) + "\n" for r in records)
