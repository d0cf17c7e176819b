"""``balance_history``: ERC-20 balance changes built from ``account/tokentx``.

Etherscan lists a wallet's ERC-20 transfers, oldest first with ``sort=asc``, between
``startblock`` and ``endblock``, ``offset`` at a time. The core's
:class:`~asof.transfers.RunningBalances` turns them into one
:class:`~asof.records.BalanceChange` per transaction and token, carrying the balance
after it. How a history is read:

1. The window ``[start, end)`` becomes blocks with the core's
   :func:`~asof.blocks.block_window`, asking ``block/getblocknobytime`` for the last
   block at or before a second. An open end is "now".
2. When the window has a start, the transfers before it (from genesis) are summed first,
   and the first page holds one opening record per token with a balance at the start.
   The history therefore proves every ERC-20 balance in the window, and no PRO
   endpoint is needed.
3. Each later page asks for ``offset`` transfers from the cursor's block. A full page
   (``offset`` rows, or 1,000, where a free key is capped) may end inside a block, so
   its last block is left for the next page; a block that fills a whole page is read
   alone, page by page, in pages of at most 1,000.

The cursor carries the wallet being read, the window's blocks, the next block and the
running balances, so any later call continues exactly.
"""

from __future__ import annotations

from datetime import UTC, datetime

import attrs

from asof.plugin import (
    BalanceChange,
    BlockWindow,
    Field,
    HistoryQuery,
    InputError,
    Page,
    Provenance,
    ProviderContext,
    RunningBalances,
    Token,
    Transfer,
    Wallet,
    block_window,
    pack_cursor,
    unpack_cursor,
)
from asof_etherscan.info import NAME
from asof_etherscan.request import block_at_or_before, call

__all__ = ["DEFAULT_OFFSET", "MAX_OFFSET", "history_page", "parse_transfers"]

#: Transfers asked per request unless the query's ``page_size`` says otherwise: the
#: free tier's maximum per request.
DEFAULT_OFFSET = 1000
#: The most Etherscan returns in one request (paid plans).
MAX_OFFSET = 10_000
#: The most it returns to a free key (from July 2026), whatever ``offset`` asks.
FREE_TIER_MAX = 1000
#: Beyond any block a chain will reach; only a bound for the window helper.
_NO_LIMIT = 2**62
_PREFIX = "es1."
_OWNER = "this Etherscan history"
SOURCE = "GET /v2/api account/tokentx"
OPENING_CAVEAT = "opening balance summed from every ERC-20 transfer before the window"


@attrs.frozen(kw_only=True)
class _State:
    wallet: int  # index into query.wallets
    window: BlockWindow
    next_block: int  # the first block not read yet (in or before the window)
    balances: dict[str, str]
    opened: bool  # the opening balances were given (or the window starts at genesis)

    def pack(self) -> str:
        return pack_cursor({
            "w": self.wallet, "before": self.window.before, "first": self.window.first,
            "last": self.window.last, "next": self.next_block, "bal": self.balances,
            "open": self.opened,
        }, prefix=_PREFIX)

    @classmethod
    def unpack(cls, text: str, wallets: int) -> _State:
        data = unpack_cursor(text, owner=_OWNER, prefix=_PREFIX)
        try:
            state = cls(
                wallet=int(data["w"]),
                window=BlockWindow(before=int(data["before"]), first=int(data["first"]),
                                   last=int(data["last"])),
                next_block=int(data["next"]), balances=dict(data["bal"]),
                opened=bool(data["open"]),
            )
        except (KeyError, TypeError, ValueError):
            raise InputError(f"not a cursor {_OWNER} wrote", field="cursor",
                             value=text) from None
        if not 0 <= state.wallet < wallets:
            raise InputError(f"not a cursor {_OWNER} wrote", field="cursor", value=text)
        return state


def parse_transfers(rows: Field | None, chain: str) -> list[Transfer]:
    """``account/tokentx`` rows as :class:`~asof.transfers.Transfer` records.

    Etherscan gives no log index; a transfer's position in the list stands in for it
    (a transaction's transfers are summed, so their order inside it does not matter).
    """
    transfers: list[Transfer] = []
    for position, row in enumerate([] if rows is None else rows.items()):
        try:
            token = Token(chain=chain, address=row["contractAddress"].as_str(),
                          standard="erc20", decimals=row["tokenDecimal"].as_int(),
                          symbol=row["tokenSymbol"].optional_str())
            transfers.append(Transfer(
                token=token,
                block=_count(row["blockNumber"]),
                index=_count(row["transactionIndex"]),
                log_index=position,
                transaction=row["hash"].as_str(),
                sender=row["from"].as_str().lower(),
                recipient=row["to"].as_str().lower(),
                value=row["value"].as_int(),
                timestamp=_time(row["timeStamp"]),
                block_hash=row["blockHash"].optional_str(),
            ))
        except InputError as exc:
            raise row.fail(str(exc)) from None
    return transfers


def _count(field: Field) -> int:
    number = field.as_int()
    if number < 0:
        raise field.fail(f"expected a non-negative integer, got {number}")
    return number


def _time(field: Field) -> datetime:
    seconds = _count(field)
    try:
        return datetime.fromtimestamp(seconds, tz=UTC)
    except (ValueError, OverflowError, OSError):
        raise field.fail(f"{seconds} is not a time in epoch seconds") from None


async def _window(ctx: ProviderContext, query: HistoryQuery) -> BlockWindow:
    now = ctx.now()
    end = now if query.end is None or query.end > now else query.end

    async def last_at_or_before(seconds: int) -> int | None:
        return await block_at_or_before(ctx, query.chain, seconds)

    return await block_window(query.start, end, last_at_or_before, latest=_NO_LIMIT)


async def _fetch(ctx: ProviderContext, query: HistoryQuery, wallet: Wallet, first: int,
                 last: int, offset: int, page: int = 1) -> list[Transfer]:
    contract = query.tokens[0].address if len(query.tokens) == 1 else None
    rows = await call(ctx, query.chain, "account", "tokentx", address=wallet.address,
                      contractaddress=contract, startblock=first, endblock=last,
                      page=page, offset=offset, sort="asc")
    return parse_transfers(rows, query.chain)


def _wanted(query: HistoryQuery, transfers: list[Transfer]) -> list[Transfer]:
    if not query.tokens:
        return transfers
    addresses = {t.address for t in query.tokens}
    return [t for t in transfers if t.token.address in addresses]


def _full(count: int, offset: int) -> bool:
    """Whether a page may have stopped short of the range: it holds ``offset`` rows, or
    :data:`FREE_TIER_MAX` (a free key may be capped there whatever ``offset`` asks)."""
    return count >= min(offset, FREE_TIER_MAX)


async def _chunk(ctx: ProviderContext, query: HistoryQuery, wallet: Wallet, first: int,
                 last: int, offset: int) -> tuple[list[Transfer], int | None]:
    """Transfers from block ``first`` that end at a block boundary, and the next block to
    read (``None`` when ``last`` was reached)."""
    transfers = await _fetch(ctx, query, wallet, first, last, offset)
    if not _full(len(transfers), offset):
        return _wanted(query, transfers), None
    edge = transfers[-1].block
    kept = [t for t in transfers if t.block < edge]
    if kept:
        return _wanted(query, kept), edge
    # One block fills a whole page: read that block alone, page by page, with pages no
    # larger than any cap, so that page numbers count the rows actually returned.
    step, page, whole = min(offset, FREE_TIER_MAX), 1, []
    while True:
        batch = await _fetch(ctx, query, wallet, edge, edge, step, page)
        whole.extend(batch)
        if len(batch) < step:
            break
        page += 1
    return _wanted(query, whole), (edge + 1 if edge < last else None)


async def _opening(ctx: ProviderContext, query: HistoryQuery, wallet: Wallet,
                   window: BlockWindow, offset: int, provenance: Provenance,
                   ) -> tuple[list[BalanceChange], RunningBalances]:
    """Sum every transfer before the window; one record per token held at its start."""
    running = RunningBalances(wallet, NAME)
    tokens: dict[str, Token] = {}
    block: int | None = 0
    while block is not None and window.before >= 0:
        transfers, block = await _chunk(ctx, query, wallet, block, window.before, offset)
        tokens.update((t.token.address, t.token) for t in transfers)
        running.apply(transfers, provenance=provenance)
    held = [(tokens[a], raw) for a, raw in sorted(running.balances.items())]
    opening = attrs.evolve(provenance, derived=True, caveats=(OPENING_CAVEAT,))
    records = running.opening(held, before=window.before, start=query.start,
                              provenance=opening)
    return records, running


async def history_page(ctx: ProviderContext, query: HistoryQuery,
                       cursor: str | None) -> Page[BalanceChange]:
    """One page of the ERC-20 balance changes of ``query.wallets`` in ``[start, end)``."""
    offset = min(query.page_size or DEFAULT_OFFSET, MAX_OFFSET)
    provenance = Provenance(provider=NAME, source=SOURCE, fetched_at=ctx.now())
    if cursor is None:
        window = await _window(ctx, query)
        state = _State(wallet=0, window=window, next_block=window.first, balances={},
                       opened=query.start is None or window.before < 0)
    else:
        state = _State.unpack(cursor, len(query.wallets))
    wallet = query.wallets[state.wallet]
    window = state.window
    records: list[BalanceChange] = []
    next_state = state
    if not state.opened:
        records, running = await _opening(ctx, query, wallet, window, offset, provenance)
        next_state = attrs.evolve(state, balances=running.state(), opened=True)
        done = window.empty
    elif window.empty:
        done = True
    else:
        running = RunningBalances.from_state(wallet, NAME, state.balances)
        transfers, after = await _chunk(ctx, query, wallet, state.next_block, window.last,
                                        offset)
        records = running.apply(transfers, provenance=provenance)
        done = after is None
        if after is not None:
            next_state = attrs.evolve(state, balances=running.state(), next_block=after)
    if done:
        if state.wallet + 1 == len(query.wallets):
            return Page(items=tuple(records), cursor=None)
        next_state = _State(wallet=state.wallet + 1, window=window, next_block=window.first,
                            balances={}, opened=query.start is None or window.before < 0)
    return Page(items=tuple(records), cursor=next_state.pack())
