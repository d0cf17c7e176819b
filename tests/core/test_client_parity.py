"""The Python clients do what the command line does: wallets on several chains are asked
chain by chain; and ``asof.Client`` takes ``AsyncClient``'s explicit arguments."""

from __future__ import annotations

import inspect
from collections.abc import Iterable
from datetime import UTC, datetime
from decimal import Decimal

import pytest

import asof
from asof import hookimpl
from asof.blocking import Client
from asof.client import AsyncClient
from asof.context import ProviderContext
from asof.errors import InputError
from asof.provider import ProviderInfo
from asof.queries import HistoryQuery
from asof.records import (
    Amount,
    BalanceChange,
    BlockRef,
    Capability,
    ChainSupport,
    HistoryItem,
    HoldingsPoint,
    Page,
    Provenance,
    Token,
    Wallet,
)
from asof.tokens import resolve_token

SOL = Wallet(chain="solana", address="GQUtvPx89ZNCwmvQqFmH59bJcU8fW8siETpaxod7Aydz")
ETH = Wallet(chain="ethereum", address="0xd8da6bf26964af9d7eed9e03e53415d37aa96045")
ETH_2 = Wallet(chain="ethereum", address="0x8e0e6fbaf18f209916bb7c5960a70d6bb5760938")


class TwoChains:
    """Balance and holdings histories on Solana and Ethereum; keeps every query."""

    name = "twochains"

    def __init__(self, wallet_limit: int = 15) -> None:
        self.queries: list[HistoryQuery] = []
        self.wallet_limit = wallet_limit

    @hookimpl
    def provider_info(self) -> ProviderInfo:
        return ProviderInfo(name=self.name, title="Two chains", base_url="https://two.invalid")

    @hookimpl
    def supported_chains(self) -> Iterable[ChainSupport]:
        caps = (Capability.BALANCE_HISTORY, Capability.HOLDINGS_HISTORY)
        return [ChainSupport(provider=self.name, chain=c, capabilities=caps,
                             history_wallets=self.wallet_limit)
                for c in ("solana", "ethereum")]

    @hookimpl
    async def history_page(self, ctx: ProviderContext, query: HistoryQuery,
                           cursor: str | None) -> Page[HistoryItem] | None:
        self.queries.append(query)
        when = datetime(2025, 3, 1, tzinfo=UTC)
        provenance = Provenance(provider=self.name)
        items: list[HistoryItem] = []
        for wallet in query.wallets:
            if query.capability is Capability.BALANCE_HISTORY:
                token = resolve_token(wallet.chain, "USDC")
                items.append(BalanceChange(
                    wallet=wallet, token=token, token_account=None,
                    balance=Amount(raw=5, decimals=token.decimals),
                    block=BlockRef(number=1, timestamp=when), provenance=provenance))
            else:
                items.append(HoldingsPoint(wallet=wallet, timestamp=when, usd=Decimal(1),
                                           breakdown=None, provenance=provenance))
        return Page(items=tuple(items), cursor=None)


def test_history_splits_wallets_per_chain_like_the_cli() -> None:
    plugin = TwoChains()
    with Client(plugins={"twochains": plugin}, env={}, archive=False) as client:
        found = list(client.history([SOL, ETH, ETH_2, SOL], start="2025-03-01",
                                    end="2025-03-02", tokens=["USDC"]))
    assert [c.wallet for c in found] == [SOL, ETH, ETH_2]
    assert [(q.chain, q.wallets) for q in plugin.queries] == [
        ("solana", (SOL,)), ("ethereum", (ETH, ETH_2))]
    assert [q.tokens[0].chain for q in plugin.queries] == ["solana", "ethereum"]  # per chain


def test_history_of_more_wallets_than_the_provider_takes_streams_batch_by_batch() -> None:
    """Five wallets at a limit of two are three queries, asked one after another: the
    first batch's records arrive before the next batch is asked (no first page of
    every batch before the first record)."""
    wallets = [ETH, ETH_2, *(Wallet(chain="ethereum", address=f"0x{n:040x}")
                             for n in range(1, 4))]
    plugin = TwoChains(wallet_limit=2)
    with Client(plugins={"twochains": plugin}, env={}, archive=False) as client:
        assert [q.wallets for q in client.history_queries(wallets, tokens=["USDC"])] == [
            tuple(wallets[:2]), tuple(wallets[2:4]), tuple(wallets[4:])]
        stream = iter(client.history(wallets, start="2025-03-01", end="2025-03-02",
                                     tokens=["USDC"]))
        first = next(stream)
        assert first.wallet == wallets[0]
        assert len(plugin.queries) == 1  # only the first batch asked so far
        rest = list(stream)
    assert [c.wallet for c in [first, *rest]] == wallets
    assert [q.wallets for q in plugin.queries] == [
        tuple(wallets[:2]), tuple(wallets[2:4]), tuple(wallets[4:])]


def test_holdings_splits_wallets_per_chain_like_the_cli() -> None:
    plugin = TwoChains()
    with Client(plugins={"twochains": plugin}, env={}, archive=False) as client:
        found = list(client.holdings([ETH, SOL], start="2025-03-01", end="2025-03-02",
                                     granularity="1h"))
    assert [p.wallet for p in found] == [ETH, SOL]
    assert [q.chain for q in plugin.queries] == ["ethereum", "solana"]


def test_a_token_object_on_a_chain_without_wallets_is_refused() -> None:
    plugin = TwoChains()
    base_usdc = Token(chain="base", address="0x833589fcd6edb6e08f4c7c32d4f71b54bda02913")
    with Client(plugins={"twochains": plugin}, env={}, archive=False) as client, \
            pytest.raises(InputError) as caught:
        list(client.history([SOL], tokens=[base_usdc]))
    assert caught.value.field == "tokens"
    assert plugin.queries == []


def test_client_has_the_async_clients_explicit_signature() -> None:
    sync_params = inspect.signature(Client.__init__).parameters
    async_params = inspect.signature(AsyncClient.__init__).parameters
    assert list(sync_params) == list(async_params)
    for name, param in async_params.items():
        assert sync_params[name].kind == param.kind, name
        assert sync_params[name].default == param.default, name
    with pytest.raises(TypeError, match="confg"):
        Client(confg="x.toml")  # type: ignore[call-arg]


def test_the_error_classes_users_catch_are_exported() -> None:
    for name in ("ArchiveError", "ProviderTimeout", "TransportError", "UnreadableResponse"):
        assert name in asof.__all__
        assert getattr(asof, name) is getattr(asof.errors, name)


def test_the_blocking_client_module_says_what_it_is() -> None:
    import importlib.util

    assert importlib.util.find_spec("asof.blocking") is not None
    assert importlib.util.find_spec("asof.sync") is None  # `asof sync` is the archive command
    assert asof.Client.__module__ == "asof.blocking"


def test_the_cli_helpers_live_in_one_module_per_concern() -> None:
    from asof.cli import common, errors, output, params, state

    assert common.CliState is state.CliState
    assert common.emit is output.emit
    assert common.WALLET is params.WALLET
    assert common.report_error is errors.report_error
    for module in (common, errors, output, params, state):
        source = inspect.getsource(module)
        assert len(source.splitlines()) < 600, module.__name__
