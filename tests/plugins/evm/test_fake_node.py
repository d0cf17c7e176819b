"""The evm plugin against a fake node (see ``fakenode.py``): a node that refuses
batches, pruned state in each client's words, refused ``eth_getLogs`` ranges, logs
without timestamps, the time search on a long chain and its cache. Request counts come
from the fake node's log."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

import asof_evm
from asof.errors import NoRoute, ProviderRequestError
from asof.queries import HistoryQuery
from asof.records import Capability, Point, Token, Wallet
from asof.tokens import native_token
from asof_evm.errors import PrunedState
from asof_evm.node import node_for
from tests.plugins.evm.fakenode import FakeNode

WALLET = Wallet(chain="ethereum", address="0x" + "11" * 20)
OTHER = "0x" + "22" * 20
TOKEN = Token(chain="ethereum", address="0x" + "cc" * 20, standard="erc20", decimals=6)
URL = "http://node.test:8545"


def client(factory: Any, node: FakeNode, config: str = "") -> Any:
    return factory(asof_evm, http_transport=node.transport, env={"ASOF_EVM_BASE_URL": URL},
                   config_text=config)


@pytest.mark.anyio
@pytest.mark.parametrize("how", ["error", "http400"])
async def test_a_node_that_refuses_batches_is_asked_call_by_call(
    asof_client_factory: Any, how: str
) -> None:
    node = FakeNode(batching=how)
    node.balances = {10: 5, 20: 7}
    async with client(asof_client_factory, node) as asof:
        first = await asof.balance_at(WALLET, native_token("ethereum"), Point(block=15))
        assert first.amount.raw == 5
        # chain check, the refused batch, then its two calls one by one
        assert [isinstance(b, list) for b in node.bodies] == [False, True, False, False]
        seen = len(node.bodies)
        second = await asof.balance_at(WALLET, native_token("ethereum"), Point(block=25))
        assert second.amount.raw == 7
        assert len(node.bodies) - seen == 2  # no batch tried again: two single calls
        assert not any(isinstance(b, list) for b in node.bodies[seen:])


PRUNED = [
    (-32000, "missing trie node 5a3b…9c (path ) state 0x5a3b…9c is not available"),  # geth
    (-32000, "historical state 0x1d2f… is not available"),  # geth, path-based state
    (-32000, "required historical state unavailable (reexec=128)"),  # geth
    (-32000, "state histories haven't been fully indexed yet"),  # geth 1.16
    (-32000, "Block 0x2a state not available"),  # erigon / reth style
    (-32000, "World state unavailable for block 0x2a"),  # besu
    (-32002, "state at block #42 is pruned"),  # reth
    (-32000, "missing trie node 00 (path 00)"),  # nethermind
]


@pytest.mark.anyio
@pytest.mark.parametrize(("code", "message"), PRUNED)
async def test_pruned_state_is_a_clear_error_naming_the_block(
    asof_client_factory: Any, code: int, message: str
) -> None:
    node = FakeNode(pruned_below=90, pruned_code=code, pruned_message=message)
    async with client(asof_client_factory, node) as asof:
        with pytest.raises(PrunedState) as caught:
            await asof.balance_at(WALLET, native_token("ethereum"), Point(block=42))
        recent = await asof.balance_at(WALLET, TOKEN, Point(block=95))
    error = caught.value
    assert error.block == 42
    assert "no state for block 42" in str(error)
    assert "archive node" in str(error)
    assert error.provider_message == message
    assert recent.amount.raw == 0


@pytest.mark.anyio
async def test_a_pruned_erc20_read_at_a_time_names_the_resolved_block(
    asof_client_factory: Any
) -> None:
    node = FakeNode(pruned_below=90)
    at = datetime.fromtimestamp(node.genesis + 12 * 30 + 5, UTC)
    async with client(asof_client_factory, node) as asof:
        with pytest.raises(PrunedState, match="block 30"):
            await asof.balance_at(WALLET, TOKEN, Point(time=at))


@pytest.mark.anyio
async def test_other_node_errors_keep_the_nodes_words(asof_client_factory: Any) -> None:
    node = FakeNode()
    async with client(asof_client_factory, node) as asof:
        found = node_for(asof.router.context("evm"), "ethereum")
        assert found is not None
        with pytest.raises(ProviderRequestError, match="does not exist/is not available"):
            await found.rpc.call("eth_unknown")


@pytest.mark.anyio
async def test_time_search_on_a_long_chain_is_short_and_cached(asof_client_factory: Any) -> None:
    node = FakeNode(blocks=2_000_000)
    node.balances = {1_000_000: 3}
    at = datetime.fromtimestamp(node.genesis + 12 * 1_234_567 + 7, UTC)
    async with client(asof_client_factory, node) as asof:
        answer = await asof.balance_at(WALLET, native_token("ethereum"), Point(time=at))
        first = len(node.bodies)
        again = await asof.balance_at(WALLET, native_token("ethereum"), Point(time=at))
        second = len(node.bodies) - first
    assert answer.read_at is not None
    assert answer.read_at.number == 1_234_567
    assert answer.amount.raw == 3
    assert again == answer
    # chain check, latest header, a few probes, one read
    assert first <= 8, node.methods
    # again: the latest header, the cached block's header (cached too), the read
    assert second <= 2, node.methods[first:]


def history_query(**kw: Any) -> HistoryQuery:
    return HistoryQuery(capability=Capability.BALANCE_HISTORY, wallets=(WALLET,),
                        tokens=(TOKEN,), **kw)


async def pages(asof: Any, query: HistoryQuery) -> list[Any]:
    out: list[Any] = []
    cursor = None
    while True:
        _, page = await asof.fetch_page(query, cursor, provider="evm")
        out.extend(page.items)
        if page.cursor is None:
            return out
        cursor = page.cursor


def with_transfers(node: FakeNode) -> None:
    me, token = WALLET.address, TOKEN.address
    node.transfers = [
        (5, 0, 0, token, OTHER, me, 100),
        (17, 1, 3, token, me, OTHER, 30),
        (17, 2, 4, token, OTHER, me, 1),
        (44, 0, 0, token, OTHER, me, 9),
        (44, 0, 1, token, OTHER, me, 1),
        (80, 3, 2, token, me, OTHER, 50),
    ]


EXPECTED = [(5, 100), (17, 70), (17, 71), (44, 81), (80, 31)]


@pytest.mark.anyio
@pytest.mark.parametrize(
    "error",
    [(-32005, "query returned more than 10000 results"),  # Infura
     (-32000, "block range is too large"),  # geth-based nodes
     (-32602, "Log response size exceeded. You can make eth_getLogs requests with up to a "
              "2K block range")],  # Alchemy
)
async def test_a_refused_log_range_is_shrunk(
    asof_client_factory: Any, error: tuple[int, str]
) -> None:
    node = FakeNode(max_log_range=7, range_error=error)
    with_transfers(node)
    async with client(asof_client_factory, node, "[providers.evm]\nlog_chunk = 64\n") as asof:
        records = await pages(asof, history_query())
    assert [(r.block.number, r.balance.raw) for r in records] == EXPECTED
    ranges = []
    for body in node.bodies:
        for item in body if isinstance(body, list) else [body]:
            if item["method"] == "eth_getLogs":
                spec = item["params"][0]
                ranges.append(int(spec["toBlock"], 16) - int(spec["fromBlock"], 16) + 1)
    assert ranges[0] == 64
    refused = [r for r in ranges if r > 7]
    assert len(refused) <= 2 * 4, ranges  # four halvings (two calls each), never again
    covered = sum(r for r in ranges if r <= 7) // 2
    assert covered == 100  # every block scanned exactly once (two calls per range)


@pytest.mark.anyio
async def test_logs_without_timestamps_read_the_headers(asof_client_factory: Any) -> None:
    node = FakeNode(log_timestamps=False)
    with_transfers(node)
    async with client(asof_client_factory, node) as asof:
        records = await pages(asof, history_query())
    assert [(r.block.number, r.balance.raw) for r in records] == EXPECTED
    assert all(r.block.timestamp == datetime.fromtimestamp(
        node.genesis + 12 * (r.block.number or 0), UTC) for r in records)
    assert "eth_getBlockByNumber" in node.methods


@pytest.mark.anyio
async def test_history_window_with_opening_balance(asof_client_factory: Any) -> None:
    node = FakeNode()
    with_transfers(node)
    start = datetime.fromtimestamp(node.genesis + 12 * 17, UTC)  # block 17 is the first
    end = datetime.fromtimestamp(node.genesis + 12 * 80, UTC)  # block 80 is outside
    async with client(asof_client_factory, node) as asof:
        records = await pages(asof, history_query(start=start, end=end))
    assert [(r.block.number, r.balance.raw) for r in records] == [
        (16, 100), (17, 70), (17, 71), (44, 81)]
    assert records[0].block.timestamp == start
    assert records[0].block.transaction is None


@pytest.mark.anyio
async def test_a_foreign_cursor_is_refused(asof_client_factory: Any) -> None:
    node = FakeNode()
    async with client(asof_client_factory, node) as asof:
        with pytest.raises(Exception, match="not a cursor evm wrote"):
            await asof.fetch_page(history_query(), "evm1:e30", provider="evm")


@pytest.mark.anyio
async def test_a_cursor_of_another_query_is_refused(asof_client_factory: Any) -> None:
    node = FakeNode(max_log_range=None)
    with_transfers(node)
    async with client(asof_client_factory, node, "[providers.evm]\nlog_chunk = 10\n") as asof:
        _, page = await asof.fetch_page(history_query(page_size=1), None, provider="evm")
        assert page.cursor is not None
        other = HistoryQuery(capability=Capability.BALANCE_HISTORY,
                             wallets=(Wallet(chain="ethereum", address=OTHER),),
                             tokens=(TOKEN,), page_size=1)
        with pytest.raises(Exception, match="belongs to another query"):
            await asof.fetch_page(other, page.cursor, provider="evm")


@pytest.mark.anyio
async def test_a_chain_without_a_node_is_declined(asof_client_factory: Any) -> None:
    node = FakeNode()
    async with client(asof_client_factory, node) as asof:
        base = Wallet(chain="base", address=WALLET.address)
        with pytest.raises(NoRoute, match="evm: declined"):
            await asof.balance_at(base, native_token("base"), Point(block=1))
    assert node.bodies == []
