"""The evm plugin's time search with an archive: the settled block times it reads are
kept in the archive (SQLite and PostgreSQL), a later session answering the same moment
reads fewer headers, and a block that is not settled (too near the node's latest, or
newer than the chain's finality horizon) is never stored.

Header requests are counted from the request log of a transport forwarding to anvil;
stored block times are compared with the node's own headers, read directly.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from asof.archive import Archive
from asof.blocktimes import BlockTime
from asof.records import Point, Token
from asof.testing.postgres import PostgresServer
from asof_evm.node import SETTLED_DEPTH
from tests.plugins.evm.conftest import JAN10, World
from tests.plugins.evm.test_anvil import Counting, client, erc20, eth, truth, wallet

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def pg() -> Iterator[PostgresServer]:
    server = PostgresServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(params=["sqlite", "postgres"])
def location(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Where an archive lives: an SQLite file, or a new PostgreSQL database."""
    if request.param == "sqlite":
        return str(tmp_path / "archive.sqlite")
    server: PostgresServer = request.getfixturevalue("pg")
    return server.database()


def headers_read(counting: Counting) -> list[int | str]:
    """The blocks whose headers were requested (``"latest"`` for the latest), in order."""
    found: list[int | str] = []
    for body in counting.bodies:
        for item in body if isinstance(body, list) else [body]:
            if item["method"] == "eth_getBlockByNumber":
                tag = item["params"][0]
                found.append(tag if tag == "latest" else int(tag, 16))
    return found


def stored(location: str) -> list[BlockTime]:
    with Archive(location) as archive, archive.storage.read() as reader:
        return reader.block_times("evm", "ethereum")


def node_header(world: World, number: int) -> BlockTime:
    found = world.node.call("eth_getBlockByNumber", hex(number), False)
    return BlockTime(number=number, timestamp=int(found["timestamp"], 16), hash=found["hash"])


async def answer_at(factory: Any, world: World, location: str, second: int,
                    token: Token | None = None, **archive: Any) -> tuple[int, Counting, int]:
    """One session with the archive at ``location``: the balance of ``token`` (USDC)
    at ``second``, the block it was read at, and the request log."""
    counting = Counting()
    at = datetime.fromtimestamp(second, UTC)
    token = token or erc20(world.usdc)
    async with client(factory, world, counting, archive=Archive(location, **archive)) as asof:
        found = await asof.balance_at(wallet(world), token, Point(time=at))
    assert found.provider == "evm"
    assert found.read_at is not None
    assert found.read_at.number is not None
    return found.amount.raw, counting, found.read_at.number


@pytest.mark.anyio
async def test_a_second_session_reads_fewer_headers(
    world: World, asof_client_factory: Any, location: str
) -> None:
    second = JAN10 + 1  # block 6 is stamped at midnight, block 7 at noon
    raw, first, block = await answer_at(asof_client_factory, world, location, second)
    assert block == 6
    assert raw == truth(world, erc20(world.usdc), 6)
    searched = headers_read(first)
    assert searched[0] == "latest", searched
    assert {6, 7} <= set(searched), searched

    # another question at the same moment (the USDC answer itself is now archived)
    raw_eth, again, block_again = await answer_at(asof_client_factory, world, location,
                                                  second, eth())
    assert block_again == 6
    assert raw_eth == truth(world, eth(), 6)
    # blocks 6 and 7 are stored and adjacent: only the latest header is read
    assert headers_read(again) == ["latest"]
    assert len(headers_read(again)) < len(searched)

    # the archive holds the block times the search read, as the node has them
    kept = stored(location)
    assert {6, 7} <= {b.number for b in kept}
    assert all(b.number <= world.latest - SETTLED_DEPTH for b in kept)
    assert kept == [node_header(world, b.number) for b in kept]
    assert {b.number for b in kept} == {n for n in searched
                                        if n != "latest" and n <= world.latest - SETTLED_DEPTH}


@pytest.mark.anyio
async def test_blocks_near_the_latest_are_never_stored(
    world: World, asof_client_factory: Any, location: str
) -> None:
    recent = world.latest - 5
    second = world.node.timestamp(recent) - 1  # resolves below the 5th-newest block
    raw, counting, block = await answer_at(asof_client_factory, world, location, second)
    assert raw == truth(world, erc20(world.usdc), block)
    shallow = [n for n in headers_read(counting)
               if n != "latest" and n > world.latest - SETTLED_DEPTH]
    assert shallow, "the search read no block near the latest; the test shows nothing"
    assert all(b.number <= world.latest - SETTLED_DEPTH for b in stored(location))


@pytest.mark.anyio
async def test_blocks_newer_than_the_finality_horizon_are_never_stored(
    world: World, asof_client_factory: Any, location: str
) -> None:
    """With the archive's clock 900 s (ethereum's horizon) after block 100, blocks
    stamped after block 100 are not final, however deep below the latest they are."""
    cut = world.node.timestamp(100)
    now = datetime.fromtimestamp(cut, UTC) + timedelta(seconds=900)
    second = world.node.timestamp(200) + 1
    raw, counting, block = await answer_at(asof_client_factory, world, location, second,
                                           clock=lambda: now)
    assert block == 200
    assert raw == truth(world, erc20(world.usdc), 200)
    read = [n for n in headers_read(counting) if n != "latest"]
    assert any(world.node.timestamp(n) > cut and n <= world.latest - SETTLED_DEPTH
               for n in read), read
    kept = stored(location)
    assert all(b.timestamp <= cut for b in kept), kept
    assert kept == [node_header(world, b.number) for b in kept]
