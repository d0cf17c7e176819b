"""The ERC-20 history against a model chain (the fake node), for random transfers,
windows, page sizes, log range sizes and node range caps: every record's balance is
the model's balance after that transaction, and the last record of each block is the
model's balance at the end of that block."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import anyio
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import asof_evm
from asof.queries import HistoryQuery
from asof.records import Capability, Token, Wallet
from asof.testing.client import make_client
from tests.plugins.evm.fakenode import FakeNode

ME = "0x" + "11" * 20
PEOPLE = [ME, "0x" + "22" * 20, "0x" + "33" * 20]
TOKENS = [Token(chain="ethereum", address="0x" + c * 40, standard="erc20", decimals=6)
          for c in "ab"]
BLOCKS = 60


@st.composite
def chains(draw: st.DrawFn) -> list[tuple[int, int, int, str, str, str, int]]:
    transfers = []
    held = {t.address: 0 for t in TOKENS}
    index_in: dict[int, int] = {}
    for block in sorted(draw(st.lists(st.integers(1, BLOCKS - 1), max_size=12))):
        token = draw(st.sampled_from(TOKENS)).address
        # drawn in chain order: a transfer joins the block's last transaction or a new one
        index = index_in.get(block, 0) + draw(st.integers(0, 1))
        index_in[block] = index
        sender, to = draw(st.sampled_from(PEOPLE)), draw(st.sampled_from(PEOPLE))
        value = draw(st.integers(0, 1000))
        if sender == ME:
            value = min(value, held[token])
        held[token] += (value if to == ME else 0) - (value if sender == ME else 0)
        transfers.append((block, index, len(transfers), token, sender, to, value))
    return transfers


def model(node: FakeNode, token: str, block: int, upto_index: int | None = None) -> int:
    value = 0
    for b, i, _, t, sender, to, amount in node.transfers:
        if t == token and (b < block or (b == block and (upto_index is None or i <= upto_index))):
            value += (amount if to == ME else 0) - (amount if sender == ME else 0)
    return value


@given(chains(), st.integers(0, BLOCKS), st.integers(1, BLOCKS + 5),
       st.one_of(st.none(), st.integers(1, 4)), st.integers(1, 20),
       st.one_of(st.none(), st.integers(1, 10)))
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_history_follows_the_model(
    transfers: Any, first: int, length: int, page_size: int | None, chunk: int,
    cap: int | None,
) -> None:
    node = FakeNode(blocks=BLOCKS, max_log_range=cap,
                    range_error=(-32000, "block range is too large"))
    node.transfers = transfers  # drawn in chain order, log indexes counting up
    start = datetime.fromtimestamp(node.genesis + node.pace * first, UTC)
    end = datetime.fromtimestamp(node.genesis + node.pace * (first + length), UTC)
    query = HistoryQuery(capability=Capability.BALANCE_HISTORY,
                         wallets=(Wallet(chain="ethereum", address=ME),), start=start,
                         end=end, tokens=tuple(TOKENS), page_size=page_size)

    async def pull() -> list[Any]:
        records: list[Any] = []
        async with make_client(asof_evm, config_dir=Path("/tmp") / "asof-evm-model",
                               http_transport=node.transport,
                               env={"ASOF_EVM_BASE_URL": "http://node.test"},
                               config_text=f"[providers.evm]\nlog_chunk = {chunk}\n") as c:
            cursor = None
            for _ in range(500):
                _, page = await c.fetch_page(query, cursor, provider="evm")
                records.extend(page.items)
                if page.cursor is None:
                    return records
                cursor = page.cursor
        raise AssertionError("the history did not end")

    records = anyio.run(pull)
    last = min(first + length - 1, BLOCKS - 1)
    for token in TOKENS:
        mine = [r for r in records if r.token.address == token.address]
        opening = [r for r in mine if r.block.transaction is None]
        held = model(node, token.address, first - 1) if first > 0 else 0
        assert [r.balance.raw for r in opening] == ([held] if held else [])
        for record in mine:
            if record.block.transaction is None:
                continue
            assert first <= record.block.number <= last
            assert record.balance.raw == model(node, token.address, record.block.number,
                                               record.block.index)
        changed = [b for b in range(first, last + 1)
                   if model(node, token.address, b) != model(node, token.address, b - 1)]
        seen = sorted({r.block.number for r in mine if r.block.transaction is not None})
        assert set(changed) <= set(seen)
