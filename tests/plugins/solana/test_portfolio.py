"""The Solana node's portfolio_at against a model world's true balances.

A wallet holds SOL, one mint in two token accounts, a Token-2022 mint only in a third
account that is not the associated one, and a mint in an account it closed before
today. Every expected amount comes from replaying the world
(:meth:`World.true_token`, :meth:`World.true_lamports`), never from the plugin.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from click.testing import CliRunner

import asof_solana
from asof.cli.app import cli
from asof.cli.common import CliState
from asof.records import NATIVE_SOL_MINT, Point
from asof.testing.client import make_client
from asof_solana.portfolio import MISSED_CLOSED
from tests.plugins.solana.conftest import NO_RATE_LIMIT
from tests.plugins.solana.fakenode import (
    GENESIS_TIME,
    TOKEN_2022_PROGRAM,
    FakeNode,
    World,
    address,
)

pytestmark = pytest.mark.anyio

AT = datetime(2025, 3, 1, tzinfo=UTC)
SLOT_AT = (int(AT.timestamp()) - GENESIS_TIME) * 2  # the fake's block time: slot // 2


def world() -> tuple[World, dict[str, str]]:
    w = World()
    me, other = address("me"), address("other")
    usdc, pyusd, gone = w.mint("usdc", 6), w.mint("pyusd", 6, TOKEN_2022_PROGRAM), \
        w.mint("gone", 2)
    main, extra, side, old = (address(f"me-{n}") for n in ("main", "extra", "side", "old"))
    src = address("other-usdc")
    s = SLOT_AT - 1000
    w.tx(s, other, ("sol", other, 9 * 10**11), ("sol", me, 3 * 10**9))
    w.tx(s + 1, other, ("open", src, usdc, other), ("tok", src, 10**12),
         ("open", address("other-py"), pyusd, other), ("tok", address("other-py"), 10**9),
         ("open", address("other-gone"), gone, other), ("tok", address("other-gone"), 500))
    w.tx(s + 2, me, ("open", main, usdc, me), ("open", extra, usdc, me),
         ("open", side, pyusd, me), ("open", old, gone, me))
    w.tx(s + 3, other, ("tok", src, -5_000_000), ("tok", main, 5_000_000))
    w.tx(s + 4, other, ("tok", src, -2_500_001), ("tok", extra, 2_500_001))
    w.tx(s + 5, other, ("tok", address("other-py"), -777), ("tok", side, 777))
    w.tx(s + 6, other, ("tok", address("other-gone"), -42), ("tok", old, 42))
    w.tx(SLOT_AT, other, ("tok", src, -1), ("tok", main, 1))  # at the point: counts
    w.tx(SLOT_AT + 2, other, ("tok", src, -9), ("tok", main, 9))  # after it: does not
    w.tx(SLOT_AT + 10, me, ("tok", old, -42), ("tok", address("other-gone"), 42))
    w.tx(SLOT_AT + 11, me, ("close", old))  # closed after the point, before today
    return w, {"me": me, "usdc": usdc, "pyusd": pyusd, "gone": gone}


def truth(w: World, names: dict[str, str], point: Point) -> dict[str, int]:
    found = {NATIVE_SOL_MINT: w.true_lamports(names["me"], point)}
    for mint in (names["usdc"], names["pyusd"], names["gone"]):
        found[mint] = w.true_token(names["me"], mint, point)
    return found


async def test_every_token_of_todays_accounts_exactly(tmp_path: Any) -> None:
    w, names = world()
    node = FakeNode(w, tip=SLOT_AT + 5000)
    point = Point(time=AT)
    async with make_client(asof_solana, config_dir=tmp_path, env=NO_RATE_LIMIT,
                           http_transport=node.transport()) as client:
        (found,) = await client.portfolio(f"solana:{names['me']}", at=AT)
    expected = truth(w, names, point)
    got = {h.token.address: h.amount.raw for h in found.holdings}
    # every token in an account that exists today, exactly as the model says
    assert got == {m: r for m, r in expected.items() if m != names["gone"]}
    assert got[names["pyusd"]] == 777  # held only in a non-associated Token-2022 account
    assert got[names["usdc"]] == 7_500_002  # two accounts summed, the change at T counted
    # the account closed before today is missed, and the answer says so
    assert expected[names["gone"]] == 42
    assert found.may_miss == (MISSED_CLOSED,)
    assert found.provenance.provider == "solana"
    by = {h.token.address: h for h in found.holdings}
    assert by[names["pyusd"]].token.standard == "token-2022"
    assert len(by[names["usdc"]].token_accounts) == 2
    assert by[NATIVE_SOL_MINT].token.symbol == "SOL"


def test_the_command_lists_them(tmp_path: Any) -> None:
    w, names = world()
    node = FakeNode(w, tip=SLOT_AT + 5000)

    def factory(_state: CliState) -> Any:
        return make_client(asof_solana, config_dir=tmp_path, env=NO_RATE_LIMIT,
                           http_transport=node.transport())

    result = CliRunner().invoke(
        cli, ["portfolio", f"solana:{names['me']}", "--at", "2025-03-01", "--format", "json"],
        obj=CliState(client_factory=factory))
    assert result.exit_code == 0, result.output
    (doc,) = json.loads(result.stdout)
    expected = truth(w, names, Point(time=AT))
    assert {h["token"]["address"]: int(h["amount"]["raw"]) for h in doc["holdings"]} == \
        {m: r for m, r in expected.items() if m != names["gone"]}
    assert doc["may_miss"] == [MISSED_CLOSED]
    table = CliRunner().invoke(cli, ["portfolio", f"solana:{names['me']}", "--at",
                                     "2025-03-01"], obj=CliState(client_factory=factory))
    assert table.exit_code == 0, table.output
    assert "may miss: tokens held at the point only in token accounts closed" in table.stderr


async def test_the_archive_answers_before_the_node_where_it_proves_it(tmp_path: Any) -> None:
    from asof.archive import Archive
    from asof.archive.coverage import Coverage
    from asof.records import (
        Amount,
        BalanceChange,
        BlockRef,
        Capability,
        HistoryScope,
        Provenance,
        Token,
        Wallet,
    )

    w, names = world()
    node = FakeNode(w, tip=SLOT_AT + 5000)
    me = Wallet(chain="solana", address=names["me"])
    usdc = Token(chain="solana", address=names["usdc"], standard="spl", decimals=6)
    archive = Archive(tmp_path / "a.sqlite")
    archive.add([
        Coverage(capability=Capability.BALANCE_HISTORY, provider="stored", wallet=me,
                 start=None, end=datetime(2025, 4, 1, tzinfo=UTC),
                 history_scope=HistoryScope()),
        BalanceChange(wallet=me, token=usdc, token_account=address("me-main"),
                      balance=Amount(raw=11, decimals=6),
                      block=BlockRef(number=5, timestamp=datetime(2025, 2, 1, tzinfo=UTC)),
                      provenance=Provenance(provider="stored")),
    ])
    from asof.client import AsyncClient
    from asof.testing.client import FIXED_NOW
    from tests.core.archive.world import config_file

    async with AsyncClient(config_file(tmp_path, archive=None),
                           plugins={"solana": asof_solana}, env=NO_RATE_LIMIT,
                           http_transport=node.transport(), archive=archive,
                           clock=lambda: FIXED_NOW) as client:
        (found,) = await client.portfolio(me, at=AT)
    assert node.log == []  # nothing asked of the node
    assert [(h.token.address, h.amount.raw) for h in found.holdings] == [(usdc.address, 11)]
    assert found.provenance.archived
    assert found.provenance.provider == "stored"
