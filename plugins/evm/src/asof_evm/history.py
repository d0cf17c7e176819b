"""``balance_history`` for ERC-20 tokens, from ``Transfer`` logs over chunked
``eth_getLogs`` ranges.

The first page resolves the window ``[start, end)`` to blocks (``end`` open: the latest
block at that moment, fixed for every later page), reads each token's opening balance
with ``balanceOf`` at the block before the window, and returns a record for each token
that holds one. Every page then scans block ranges: two ``eth_getLogs`` calls per range
(transfers from the wallet, and to it, for every token asked for) in one batch, then the
headers of the blocks with logs for their timestamps when the logs do not carry
``blockTimestamp``. A range the node refuses as too large is halved (down to one block)
and the size grows back after each success, staying below the smallest size refused.
The page's state (next block, range size, running balances) travels in its cursor.
Records come in chain order (block, transaction index); a page never splits a block.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from asof.plugin import (
    BalanceChange,
    Call,
    Capability,
    HistoryQuery,
    InputError,
    Page,
    Provenance,
    ProviderContext,
    ProviderError,
    ResponseError,
    RunningBalances,
    Token,
    Transfer,
    block_window,
    cut_at_block,
    pack_cursor,
    unpack_cursor,
)
from asof_evm.abi import TRANSFER_TOPIC, address_topic, data_bytes, quantity, topic_address, uint256
from asof_evm.errors import is_range_refusal
from asof_evm.info import LOG_CHUNK, NAME
from asof_evm.node import Node, node_for, with_decimals

__all__ = ["history_page"]

_PREFIX = "evm1:"
#: Log ranges scanned at most per page, so that a quiet window still returns pages.
_RANGES_PER_PAGE = 8
_DEFAULT_PAGE = 500


async def history_page(
    ctx: ProviderContext, query: HistoryQuery, cursor: str | None
) -> Page[BalanceChange] | None:
    """One page of ERC-20 balance changes; ``None`` (declined) for another capability,
    several wallets, no tokens, the native coin, or a chain without a node."""
    if query.capability is not Capability.BALANCE_HISTORY or len(query.wallets) != 1:
        return None
    tokens = query.tokens
    if not tokens or any(t.is_native for t in tokens):
        ctx.log.info("the evm history covers named ERC-20 tokens only")
        return None
    node = node_for(ctx, query.chain)
    if node is None:
        return None
    await node.check_chain()
    wallet = query.wallets[0]
    provenance = Provenance(provider=NAME, source="eth_getLogs Transfer", fetched_at=ctx.now())
    records: list[BalanceChange] = []
    if cursor is None:
        latest = await node.latest()

        async def last_at(second: int) -> int | None:
            return await node.last_at_or_before(second, latest)

        window = await block_window(query.start, query.end, last_at, latest=latest.number)
        running = RunningBalances(wallet, NAME)
        decimals = {t.address: await node.decimals(t.address)
                    for t in tokens if t.decimals is None}
        opening = await _opening(node, tokens, wallet.address, window.before)
        records.extend(running.opening(
            [(_token(t, decimals), raw) for t, raw in zip(tokens, opening, strict=True)],
            before=window.before, start=query.start, provenance=provenance,
        ))
        state: dict[str, Any] = {"next": window.first, "last": window.last,
                                 "chunk": int(ctx.options.get("log_chunk", LOG_CHUNK)),
                                 "dec": decimals, "of": _asked(query)}
    else:
        state = _read_cursor(cursor)
        if state.get("of") != _asked(query):
            raise InputError("this cursor belongs to another query (wallet, tokens or "
                             "window differ)", field="cursor", value=cursor)
        running = RunningBalances.from_state(wallet, NAME, state["bal"])
    by_address = {t.address: _token(t, state["dec"]) for t in tokens}
    size = query.page_size or _DEFAULT_PAGE
    limit = max(1, int(ctx.options.get("log_chunk", LOG_CHUNK)))
    for _ in range(_RANGES_PER_PAGE):
        if state["next"] > state["last"] or len(records) >= size:
            break
        low = state["next"]
        high, transfers = await _scan(node, by_address, wallet.address, low, state)
        before = running.state()
        changes = running.apply(transfers, provenance=provenance)
        page, rest = cut_at_block(changes, max(1, size - len(records)))
        if rest:  # stop before the block that does not fit; scan it again next page
            boundary = rest[0].block.number or low
            running = RunningBalances.from_state(wallet, NAME, before)
            page = running.apply([t for t in transfers if t.block < boundary],
                                 provenance=provenance)
            records.extend(page)
            state["next"] = boundary
            break
        records.extend(page)
        state["next"] = high + 1
        ceiling = state.get("ceiling")
        grown = min(limit, state["chunk"] * 2)
        state["chunk"] = grown if type(ceiling) is not int else min(grown, ceiling - 1)
    if state["next"] > state["last"]:
        return Page(items=tuple(records), cursor=None)
    state["bal"] = running.state()
    return Page(items=tuple(records), cursor=pack_cursor(state, prefix=_PREFIX))


def _asked(query: HistoryQuery) -> list[str]:
    """What a cursor is bound to: the chain, the wallet, the tokens and the window."""
    bounds = [str(query.start), str(query.end)]
    return [query.chain, query.wallets[0].address, *sorted(t.address for t in query.tokens),
            *bounds]


def _token(token: Token, decimals: Mapping[str, Any]) -> Token:
    found = decimals.get(token.address)
    return with_decimals(token, found if type(found) is int else None)


async def _opening(node: Node, tokens: Sequence[Token], owner: str, before: int) -> list[int]:
    if before < 0:
        return [0 for _ in tokens]
    results = await node.read(
        [node.balance_of_call(t.address, owner, before) for t in tokens], before)
    out: list[int] = []
    for token, answer in zip(tokens, results, strict=True):
        raw = await node.token_balance(answer, token.address, before, "balanceOf")
        out.append(raw or 0)
    return out


async def _scan(
    node: Node, tokens: Mapping[str, Token], owner: str, low: int, state: dict[str, Any]
) -> tuple[int, list[Transfer]]:
    """The transfers of blocks ``low..high`` to or from ``owner``; shrinks the range
    while the node refuses it."""
    me = address_topic(owner)
    while True:
        high = min(state["last"], low + max(1, state["chunk"]) - 1)
        base: dict[str, Any] = {"fromBlock": hex(low), "toBlock": hex(high),
                                "address": sorted(tokens)}
        calls: list[Call] = [("eth_getLogs", [{**base, "topics": [TRANSFER_TOPIC, me]}]),
                 ("eth_getLogs", [{**base, "topics": [TRANSFER_TOPIC, None, me]}])]
        try:
            sent, received = await node.rpc.batch(calls)
        except ProviderError as error:
            if high > low and is_range_refusal(error):
                state["ceiling"] = high - low + 1  # refused: never ask that many again
                state["chunk"] = max(1, (high - low + 1) // 2)
                continue
            raise
        break
    logs: dict[tuple[int, int], Mapping[str, Any]] = {}
    for answer in (sent, received):
        if not isinstance(answer, list):
            raise _shape("eth_getLogs", f"expected a list of logs, got {answer!r}")
        for item in answer:
            if not isinstance(item, Mapping):
                raise _shape("eth_getLogs", f"expected a log object, got {item!r}")
            if item.get("removed") is True:
                continue
            topics = item.get("topics")
            if not isinstance(topics, list) or len(topics) != 3:
                continue  # ERC-721 transfers carry the token id as a fourth topic
            key = (quantity(NAME, item.get("blockNumber"), "log.blockNumber"),
                   quantity(NAME, item.get("logIndex"), "log.logIndex"))
            logs[key] = item
    stamps = await _timestamps(node, logs.values())
    transfers: list[Transfer] = []
    for (block, log_index), item in sorted(logs.items()):
        address = str(item.get("address", "")).lower()
        token = tokens.get(address)
        if token is None:
            raise _shape("log.address", f"a log from {address}, which was not asked for")
        topics = item["topics"]
        transfers.append(Transfer(
            token=token, block=block,
            index=quantity(NAME, item.get("transactionIndex"), "log.transactionIndex"),
            log_index=log_index,
            transaction=str(item.get("transactionHash")),
            sender=topic_address(NAME, topics[1], "log.topics[1]"),
            recipient=topic_address(NAME, topics[2], "log.topics[2]"),
            value=uint256(NAME, data_bytes(NAME, item.get("data"), "log.data"), "log.data"),
            timestamp=datetime.fromtimestamp(stamps[block], UTC),
            block_hash=item.get("blockHash") if isinstance(item.get("blockHash"), str) else None,
        ))
    return high, transfers


async def _timestamps(node: Node, logs: Any) -> dict[int, int]:
    stamps: dict[int, int] = {}
    missing: set[int] = set()
    for item in logs:
        block = quantity(NAME, item.get("blockNumber"), "log.blockNumber")
        if item.get("blockTimestamp") is not None:
            stamps[block] = quantity(NAME, item["blockTimestamp"], "log.blockTimestamp")
        else:
            missing.add(block)
    missing -= set(stamps)
    if missing:
        ordered = sorted(missing)
        answers = await node.rpc.batch([node.header_call(n) for n in ordered])
        for number, answer in zip(ordered, answers, strict=True):
            header = node.header_of(answer, f"block {number}")
            if header is None:
                raise _shape("eth_getBlockByNumber", f"the node has no block {number}")
            stamps[number] = header.timestamp
    return stamps


def _read_cursor(cursor: str) -> dict[str, Any]:
    state = unpack_cursor(cursor, owner=NAME, prefix=_PREFIX)
    for key in ("next", "last", "chunk"):
        if type(state.get(key)) is not int or state[key] < 0:
            raise InputError(f"not a cursor {NAME} wrote", field="cursor", value=cursor)
    if not isinstance(state.get("bal"), dict) or not isinstance(state.get("dec"), dict):
        raise InputError(f"not a cursor {NAME} wrote", field="cursor", value=cursor)
    return state


def _shape(field: str, message: str) -> ProviderError:
    return ResponseError(NAME, message, field=field)
