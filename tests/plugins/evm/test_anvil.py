"""The evm plugin against a real node (anvil), every answer compared with the node's
own state at that block, read directly by the test.

Requests are counted by a transport that forwards to anvil and logs each request
(:class:`Counting`), so the declared cost per answer is a measured figure.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

import asof_evm
from asof.errors import ConfigError, InvalidPoint
from asof.queries import HistoryQuery
from asof.records import BalanceAt, BalanceChange, Capability, Point, Token, Wallet
from asof.tokens import native_token
from asof.transport import Request, Response, httpx
from asof_evm.errors import PrunedState
from tests.plugins.evm.anvil import Anvil
from tests.plugins.evm.conftest import GENESIS, JAN10, World
from tests.plugins.evm.fakenode import methods_of

pytestmark = pytest.mark.integration


class Counting(httpx.AsyncBaseTransport):
    """Forwards to the node and keeps each request's JSON-RPC body (the server's log)."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.bodies: list[Any] = []

    async def handle_async_request(self, request: Request) -> Response:
        self.bodies.append(json.loads(request.content))
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()

    @property
    def methods(self) -> list[str]:
        return methods_of(self.bodies)


def client(factory: Any, world: World, counting: Counting | None = None, **kw: Any) -> Any:
    return factory(asof_evm, env={"ASOF_EVM_BASE_URL": world.node.url},
                   http_transport=counting, **kw)


def eth() -> Token:
    return native_token("ethereum")


def erc20(address: str, decimals: int | None = 6) -> Token:
    return Token(chain="ethereum", address=address, standard="erc20", decimals=decimals)


def wallet(world: World) -> Wallet:
    return Wallet(chain="ethereum", address=world.wallet)


def truth(world: World, token: Token, block: int) -> int:
    if token.is_native:
        return world.node.eth_balance(world.wallet, block)
    return world.node.token_balance(token.address, world.wallet, block)


def blocks_to_check(world: World) -> list[int]:
    return [*range(0, 10), *range(10, world.latest, 37), world.latest - 1, world.latest]


# --------------------------------------------------------------------------- balance_at


@pytest.mark.anyio
async def test_every_answer_at_a_block_equals_the_nodes_state(
    world: World, asof_client_factory: Any
) -> None:
    tokens = [eth(), erc20(world.usdc), erc20(world.tst)]
    async with client(asof_client_factory, world) as asof:
        for block in blocks_to_check(world):
            for token in tokens:
                answer: BalanceAt = await asof.balance_at(wallet(world), token,
                                                          Point(block=block))
                expected = truth(world, token, block)
                assert answer.amount.raw == expected, (block, token.address, world.notes)
                assert answer.provider == "evm"
                # a node knows the block it read, not the wallet's last change
                assert answer.as_of is None
                if answer.read_at is not None:
                    assert answer.read_at.number == block
                    assert answer.read_at.timestamp == datetime.fromtimestamp(
                        world.node.timestamp(block), UTC)


def moments(world: World) -> Iterable[int]:
    for block in [*range(0, 9), world.latest - 1, world.latest]:
        ts = world.node.timestamp(block)
        yield from (ts - 1, ts, ts + 1)
    yield from (GENESIS - 5, JAN10 - 5, JAN10 + 3600)


@pytest.mark.anyio
async def test_every_answer_at_a_time_equals_the_state_of_the_last_block_at_or_before(
    world: World, asof_client_factory: Any
) -> None:
    tokens = [eth(), erc20(world.usdc)]
    stamps = {b: world.node.timestamp(b) for b in range(world.latest + 1)}
    async with client(asof_client_factory, world) as asof:
        for second in moments(world):
            block = max((b for b, ts in stamps.items() if ts <= second), default=None)
            at = datetime.fromtimestamp(second, UTC)
            for token in tokens:
                answer = await asof.balance_at(wallet(world), token, Point(time=at))
                if block is None:
                    assert answer.amount.raw == 0
                    assert answer.as_of is None
                    continue
                assert answer.amount.raw == truth(world, token, block), (second, block)
                assert answer.read_at is not None
                assert answer.read_at.number == block
                assert answer.provenance.resolved == Point(block=block)


@pytest.mark.anyio
async def test_equal_timestamps_resolve_to_the_last_block_of_them(
    world: World, asof_client_factory: Any
) -> None:
    assert world.node.timestamp(4) == world.node.timestamp(5)
    at = datetime.fromtimestamp(world.node.timestamp(5), UTC)
    async with client(asof_client_factory, world) as asof:
        answer = await asof.balance_at(wallet(world), erc20(world.usdc), Point(time=at))
    assert answer.read_at is not None
    assert answer.read_at.number == 5
    assert answer.amount.raw == world.node.token_balance(world.usdc, world.wallet, 5)


@pytest.mark.anyio
async def test_zero_before_the_contract_exists(world: World, asof_client_factory: Any) -> None:
    async with client(asof_client_factory, world) as asof:
        answer = await asof.balance_at(wallet(world), erc20(world.tst), Point(block=0))
    assert answer.amount.raw == 0
    assert answer.as_of is None
    assert answer.read_at is None
    assert any("did not exist at block 0" in c for c in answer.provenance.caveats)


@pytest.mark.anyio
async def test_unknown_decimals_are_read_from_the_token(
    world: World, asof_client_factory: Any
) -> None:
    async with client(asof_client_factory, world) as asof:
        answer = await asof.balance_at(wallet(world), erc20(world.tst, decimals=None),
                                       Point(block=7))
    assert answer.amount.decimals == 6
    assert answer.token.decimals == 6
    assert answer.amount.raw == world.node.token_balance(world.tst, world.wallet, 7)


@pytest.mark.anyio
async def test_a_block_the_node_does_not_have_yet_is_an_invalid_point(
    world: World, asof_client_factory: Any
) -> None:
    async with client(asof_client_factory, world) as asof:
        with pytest.raises(InvalidPoint, match=f"no block {world.latest + 1000}"):
            await asof.balance_at(wallet(world), eth(), Point(block=world.latest + 1000))


# --------------------------------------------------------------------------- costs


@pytest.mark.anyio
async def test_requests_per_answer(world: World, asof_client_factory: Any) -> None:
    counting = Counting()
    async with client(asof_client_factory, world, counting) as asof:
        await asof.balance_at(wallet(world), eth(), Point(block=5))
        assert counting.methods == ["eth_chainId", "eth_getBlockByNumber", "eth_getBalance"]
        assert len(counting.bodies) == 2  # the chain check once, then one batch
        before = len(counting.bodies)
        await asof.balance_at(wallet(world), erc20(world.usdc), Point(block=6))
        assert len(counting.bodies) - before == 1  # declared: 1 request per answer at a block
        before = len(counting.bodies)
        at = datetime.fromtimestamp(JAN10 + 3600, UTC)
        await asof.balance_at(wallet(world), erc20(world.usdc), Point(time=at))
        time_requests = len(counting.bodies) - before
    # latest header, the search, one read: within 2 log2(blocks) + 3
    assert time_requests <= 2 * (world.latest + 1).bit_length() + 3, time_requests


@pytest.mark.anyio
async def test_the_chain_is_checked_once_per_session(
    world: World, asof_client_factory: Any
) -> None:
    counting = Counting()
    async with client(asof_client_factory, world, counting) as asof:
        for block in range(4):
            await asof.balance_at(wallet(world), eth(), Point(block=block))
    assert counting.methods.count("eth_chainId") == 1


@pytest.mark.anyio
async def test_a_node_of_another_chain_is_refused(world: World, asof_client_factory: Any) -> None:
    config = f'[providers.evm.urls]\nbase = "{world.node.url}"\n'
    async with asof_client_factory(asof_evm, config_text=config) as asof:
        base = Wallet(chain="base", address=world.wallet)
        with pytest.raises(ConfigError, match=r"answers chain id 1, but base is eip155:8453"):
            await asof.balance_at(base, native_token("base"), Point(block=1))


@pytest.mark.anyio
async def test_other_chains_use_their_configured_url(
    world: World, asof_client_factory: Any
) -> None:
    node = Anvil(chain_id=8453, genesis=GENESIS)
    try:
        node.mine(GENESIS + 10)
        config = f'[providers.evm.urls]\nbase = "{node.url}"\n'
        async with asof_client_factory(asof_evm, config_text=config) as asof:
            base = Wallet(chain="base", address=world.wallet)
            answer = await asof.balance_at(base, native_token("base"), Point(block=1))
            assert answer.amount.raw == node.eth_balance(world.wallet, 1)
            # a chain with no configured node is declared, and declined when asked
            polygon = Wallet(chain="polygon", address=world.wallet)
            route = asof.route("polygon", "balance_at")
            assert "evm" in [s.provider for s in route.usable]
            with pytest.raises(Exception, match="no provider could answer"):
                await asof.balance_at(polygon, native_token("polygon"), Point(block=1))
    finally:
        node.stop()


# --------------------------------------------------------------------------- pruned


@pytest.mark.anyio
async def test_a_pruned_node_says_so_naming_the_block(asof_client_factory: Any) -> None:
    node = Anvil(genesis=GENESIS, extra=("--prune-history", "3"))
    try:
        for i in range(12):
            node.mine(GENESIS + 12 * (i + 1))
        async with asof_client_factory(
            asof_evm, env={"ASOF_EVM_BASE_URL": node.url}
        ) as asof:
            who = Wallet(chain="ethereum", address=node.accounts()[0])
            recent = await asof.balance_at(who, eth(), Point(block=node.block_number()))
            assert recent.amount.raw == node.eth_balance(who.address, node.block_number())
            with pytest.raises(PrunedState) as caught:
                await asof.balance_at(who, eth(), Point(block=2))
    finally:
        node.stop()
    error = caught.value
    assert error.block == 2
    assert "block 2" in str(error)
    assert "archive node" in str(error)
    assert "BlockOutOfRangeError" in (error.provider_message or "")


# --------------------------------------------------------------------------- history


async def history(asof: Any, query: HistoryQuery) -> tuple[list[BalanceChange], int]:
    records: list[BalanceChange] = []
    pages = 0
    cursor = None
    while True:
        _, page = await asof.fetch_page(query, cursor, provider="evm")
        pages += 1
        records.extend(page.items)
        if page.cursor is None:
            return records, pages
        cursor = page.cursor


def changes_by_state(world: World, token: Token, first: int, last: int) -> list[tuple[int, int]]:
    """(block, balance) for each block in first..last where the node's own balance
    differs from the block before: the naive model of a balance history."""
    out = []
    for block in range(first, last + 1):
        now = truth(world, token, block)
        if block == 0 or now != truth(world, token, block - 1):
            out.append((block, now))
    return out


def last_per_block(records: list[BalanceChange]) -> list[tuple[int, int]]:
    """(block, balance after the block's last change): records come one per
    transaction, the node's state one per block."""
    last: dict[int, int] = {}
    for record in records:
        last[record.block.number or 0] = record.balance.raw
    return sorted(last.items())


@pytest.mark.anyio
@pytest.mark.parametrize(("page_size", "chunk"), [(None, 2000), (1, 3), (2, 1)])
async def test_history_matches_the_nodes_state(
    world: World, asof_client_factory: Any, page_size: int | None, chunk: int
) -> None:
    usdc, tst = erc20(world.usdc), erc20(world.tst)
    start = datetime.fromtimestamp(GENESIS + 250, UTC)  # after block 2, before block 3
    end = datetime.fromtimestamp(world.node.timestamp(world.latest), UTC) + timedelta(seconds=1)
    query = HistoryQuery(capability=Capability.BALANCE_HISTORY, wallets=(wallet(world),),
                         start=start, end=end, tokens=(usdc, tst), page_size=page_size)
    async with client(asof_client_factory, world,
                      config_text=f"[providers.evm]\nlog_chunk = {chunk}\n") as asof:
        records, pages = await history(asof, query)
    if page_size is not None:
        assert pages > 1
    for token in (usdc, tst):
        mine = [r for r in records if r.token.address == token.address]
        # opening: the balance at the block before the window (block 2), only if held
        assert all(r.block.number != 2 for r in mine)  # nothing held at block 2
        assert last_per_block(mine) == changes_by_state(world, token, 3, world.latest)
        for record in mine:
            assert record.block.timestamp == datetime.fromtimestamp(
                world.node.timestamp(record.block.number or 0), UTC)
            assert record.provenance.provider == "evm"
    blocks = [(r.block.number, r.block.index) for r in records]
    assert blocks == sorted(blocks)
    # block 5 holds two of W's USDC transactions: 40 out, then 3 + 4 in one transaction
    in_five = [r.balance.raw for r in records
               if r.block.number == 5 and r.token.address == usdc.address]
    assert in_five == [210 * 10**6, 217 * 10**6]


@pytest.mark.anyio
async def test_history_opens_with_the_balance_at_the_window_start(
    world: World, asof_client_factory: Any
) -> None:
    usdc = erc20(world.usdc)
    start = datetime.fromtimestamp(JAN10, UTC)  # block 6 is the first inside
    end = datetime.fromtimestamp(JAN10 + 43_201, UTC)
    query = HistoryQuery(capability=Capability.BALANCE_HISTORY, wallets=(wallet(world),),
                         start=start, end=end, tokens=(usdc,))
    async with client(asof_client_factory, world) as asof:
        records, _ = await history(asof, query)
    opening, *changes = records
    assert opening.block.number == 5
    assert opening.block.transaction is None
    assert opening.block.timestamp == start
    assert opening.balance.raw == world.node.token_balance(world.usdc, world.wallet, 5)
    assert last_per_block(changes) == changes_by_state(world, usdc, 6, 7)


@pytest.mark.anyio
async def test_history_declines_what_it_does_not_cover(
    world: World, asof_client_factory: Any
) -> None:
    async with client(asof_client_factory, world) as asof:
        for tokens in ((), (eth(),)):
            query = HistoryQuery(capability=Capability.BALANCE_HISTORY,
                                 wallets=(wallet(world),), tokens=tokens)
            with pytest.raises(Exception, match="declined"):
                await asof.fetch_page(query, None, provider="evm")
