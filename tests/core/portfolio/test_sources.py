"""Where a portfolio comes from on other routes: an exchange account's collateral, an
EVM wallet's history from a history provider (with a scope that excludes the native
coin, which the answer says), a provider answering portfolio_at directly."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import anyio
import pytest

import asof_pacifica
from asof import hookimpl
from asof.client import AsyncClient
from asof.context import ProviderContext
from asof.errors import NoRoute
from asof.portfolio import Holding, Portfolio
from asof.provider import ProviderInfo
from asof.queries import HistoryQuery, PortfolioQuery
from asof.records import (
    Amount,
    BalanceChange,
    BlockRef,
    Capability,
    ChainSupport,
    HistoryItem,
    HistoryScope,
    Page,
    Provenance,
    Token,
    Wallet,
)
from asof.testing.client import make_client
from asof.testing.mock import MockHTTP, Reply
from asof.tokens import resolve_token
from tests.core.archive.world import config_file, frozen

EVM = Wallet(chain="ethereum", address="0xd8da6bf26964af9d7eed9e03e53415d37aa96045")
USDC_ETH = resolve_token("ethereum", "USDC")
ODD = Token(chain="ethereum", address="0x" + "12" * 20, standard="erc20", decimals=0)
T0 = datetime(2025, 1, 1, tzinfo=UTC)


class EvmHistory:
    """ERC-20 balance history over a list of (time, token, balance), paged two at a
    time, with a scope that excludes the native coin (as a Transfer-log history does)."""

    name = "fakeevm"

    def __init__(self, moves: list[tuple[datetime, Token, int]]) -> None:
        self.moves = moves
        self.calls = 0

    @hookimpl
    def provider_info(self) -> ProviderInfo:
        return ProviderInfo(name=self.name, title="Fake EVM history",
                            base_url="https://fakeevm.invalid")

    @hookimpl
    def supported_chains(self) -> Iterable[ChainSupport]:
        return [ChainSupport(provider=self.name, chain="ethereum",
                             capabilities=(Capability.BALANCE_HISTORY,),
                             history_scope=HistoryScope(native=False, standards=("erc20",)))]

    @hookimpl
    async def history_page(self, ctx: ProviderContext, query: HistoryQuery,
                           cursor: str | None) -> Page[HistoryItem] | None:
        self.calls += 1
        inside = [m for m in self.moves if query.end is None or m[0] < query.end]
        start = int(cursor or 0)
        items = tuple(
            BalanceChange(wallet=EVM, token=token, token_account=None,
                          balance=Amount(raw=raw, decimals=token.decimals),
                          block=BlockRef(number=1000 + i, timestamp=when),
                          provenance=Provenance(provider=self.name))
            for i, (when, token, raw) in enumerate(inside) if start <= i < start + 2)
        following = str(start + 2) if start + 2 < len(inside) else None
        return Page(items=items, cursor=following)


def evm_client(plugin: object, tmp_path: Path) -> AsyncClient:
    return make_client(plugin, config_dir=tmp_path)


def test_an_evm_portfolio_comes_from_the_history_and_says_what_it_misses(
        tmp_path: Path) -> None:
    moves = [(T0 + timedelta(days=d), token, raw) for d, token, raw in (
        (1, USDC_ETH, 2**70), (2, ODD, 3), (3, USDC_ETH, 2**70 + 1), (4, ODD, 0),
        (5, ODD, 9), (40, USDC_ETH, 1))]
    plugin = EvmHistory(moves)
    at = T0 + timedelta(days=10)
    # the truth, from the moves alone: the last balance of each token at or before `at`
    truth: dict[str, int] = {}
    for when, token, raw in moves:
        if when <= at:
            truth[token.address] = raw

    async def go() -> None:
        async with evm_client(plugin, tmp_path) as c:
            (found,) = await c.portfolio(EVM, at=at)
        assert {h.token.address: h.amount.raw for h in found.holdings} == truth
        assert found.provenance.provider == "fakeevm"
        assert found.provenance.derived
        assert any("excludes the native coin" in line for line in found.may_miss)
        assert plugin.calls == 3  # every page of the history up to the point

    anyio.run(go)


def test_an_exchange_account_contributes_its_collateral(tmp_path: Path) -> None:
    t0 = 1716200000000
    events = [  # newest first, as Pacifica lists them
        {"amount": "-10.000000", "balance": "89.750000", "pending_balance": "0",
         "event_type": "withdraw", "created_at": t0 + 3 * 60_000},
        {"amount": "100.000000", "balance": "100.000000", "pending_balance": "0",
         "event_type": "deposit", "created_at": t0},
    ]
    mock = MockHTTP().get("/api/v1/account/balance/history",
                          Reply(json={"success": True, "data": events}))
    account = "pacifica:42trU9A5Hs7WcKnJ3mRtYpXvQz8LbEdGfN2aPuVwCx6M"

    async def go() -> None:
        async with make_client(asof_pacifica, config_dir=tmp_path,
                               http_transport=mock.transport) as c:
            (found,) = await c.portfolio(account, at=datetime.fromtimestamp(
                t0 / 1000 + 120, UTC))
        (holding,) = found.holdings
        assert holding.token.symbol == "USDC"
        assert holding.amount == Amount(raw=100_000_000, decimals=6)
        assert holding.provenance.provider == "pacifica"
        assert "exchange account" in found.may_miss[0]

    anyio.run(go)


class Direct:
    """A provider with a native "all balances at T" call, and a history it never needs."""

    name = "direct"

    def __init__(self) -> None:
        self.asked: list[PortfolioQuery] = []

    @hookimpl
    def provider_info(self) -> ProviderInfo:
        return ProviderInfo(name=self.name, title="Direct", base_url="https://d.invalid")

    @hookimpl
    def supported_chains(self) -> Iterable[ChainSupport]:
        return [ChainSupport(provider=self.name, chain="ethereum",
                             capabilities=(Capability.PORTFOLIO_AT,))]

    @hookimpl
    async def portfolio_at(self, ctx: ProviderContext, query: PortfolioQuery
                           ) -> Portfolio | None:
        self.asked.append(query)
        prov = Provenance(provider=self.name, source="GET /all-balances")
        held = [Holding(wallet=query.wallet, token=t, amount=Amount(raw=r, decimals=6),
                        as_of=None, provenance=prov) for t, r in ((USDC_ETH, 5), (ODD, 0))]
        return Portfolio(wallet=query.wallet, requested=query.point, holdings=tuple(held),
                         provenance=prov, may_miss=("accounts closed before today",))


def test_a_direct_provider_answers_first(tmp_path: Path) -> None:
    direct, history = Direct(), EvmHistory([(T0, ODD, 1)])

    async def go() -> None:
        async with AsyncClient(config_file(tmp_path, archive=None),
                               plugins={"direct": direct, "fakeevm": history},
                               archive=False, clock=frozen(T0)) as c:
            route = c.route("ethereum", "portfolio_at").explain()
            (found,) = await c.portfolio(EVM, at=T0)
        assert route.splitlines()[1] == "  1. direct: direct, supported"
        assert "fakeevm: derived from its history" in route
        assert [h.token.address for h in found.holdings] == [USDC_ETH.address]  # no zero
        assert found.may_miss == ("accounts closed before today",)
        assert history.calls == 0
        assert len(direct.asked) == 1

    anyio.run(go)


def test_no_route_is_one_typed_error(tmp_path: Path) -> None:
    async def go() -> None:
        async with AsyncClient(config_file(tmp_path, archive=None), plugins={},
                               archive=False) as c:
            with pytest.raises(NoRoute, match="portfolio_at on ethereum"):
                await c.portfolio(EVM, at=T0)

    anyio.run(go)


def test_value_must_be_usd(tmp_path: Path) -> None:
    from asof.errors import InputError

    async def go() -> None:
        async with AsyncClient(config_file(tmp_path, archive=None), plugins={},
                               archive=False) as c:
            with pytest.raises(InputError, match="usd"):
                await c.portfolio(EVM, at=T0, value="eur")

    anyio.run(go)


def test_unpriced_when_no_price_provider(tmp_path: Path) -> None:
    plugin = EvmHistory([(T0, USDC_ETH, 7)])

    async def go() -> None:
        async with evm_client(plugin, tmp_path) as c:
            (found,) = await c.portfolio(EVM, at=T0 + timedelta(days=1), value="usd")
        (holding,) = found.holdings
        assert holding.valuation is not None
        assert holding.valuation.value is None
        assert holding.valuation.note == "no price provider serves ethereum"
        assert holding.amount.value == Decimal("0.000007")

    anyio.run(go)


def test_configuration_can_prefer_the_history_to_a_direct_provider(tmp_path: Path) -> None:
    direct, history = Direct(), EvmHistory([(T0, ODD, 1)])
    text = '[routes]\n"ethereum.portfolio_at" = ["fakeevm"]\n'

    async def go() -> None:
        async with AsyncClient(config_file(tmp_path, archive=None, text=text),
                               plugins={"direct": direct, "fakeevm": history},
                               archive=False, clock=frozen(T0 + timedelta(days=30))) as c:
            route = c.route("ethereum", "portfolio_at").explain()
            (found,) = await c.portfolio(EVM, at=T0 + timedelta(days=1))
        assert route.splitlines()[1].startswith("  1. fakeevm: derived from its history")
        assert {h.token.address: h.amount.raw for h in found.holdings} == {ODD.address: 1}
        assert direct.asked == []
        assert history.calls == 1

    anyio.run(go)
