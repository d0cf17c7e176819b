"""The Solana node plugin's answers against a model world's true balances.

The fake node (:mod:`tests.plugins.solana.fakenode`) answers through
``httpx.MockTransport`` here; ``test_integration.py`` runs the same node on a real
loopback server. Every expected balance comes from replaying the world's operations
(:meth:`World.true_token`, :meth:`World.true_lamports`), never from the plugin; request
counts come from the node's own log.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import asof_solana
from asof.errors import (
    AsofError,
    InvalidPoint,
    NoRoute,
    NotFoundError,
    ProviderRequestError,
    ResponseError,
)
from asof.records import NATIVE_SOL_MINT, BalanceAt, Point, Token, Wallet
from asof.testing.client import FIXED_NOW
from asof_solana.balance import CAVEAT_BLOCK_TIME, CAVEAT_CLOSED_ACCOUNTS
from asof_solana.plugin import COST
from tests.plugins.solana.conftest import NO_RATE_LIMIT
from tests.plugins.solana.fakenode import TOKEN_2022_PROGRAM, FakeNode, World, address, utc

pytestmark = pytest.mark.anyio

SLOTS = (0, 50, 99, 100, 101, 102, 103, 109, 110, 119, 120, 121, 150, 199, 200, 201, 450,
         799, 800, 899, 900, 5000)


async def ask(factory: Any, node: FakeNode, wallet: str, mint: str, point: Point,
              decimals: int | None = None) -> BalanceAt:
    token = Token(chain="solana", address=mint, decimals=decimals,
                  standard="native" if mint == NATIVE_SOL_MINT else "unknown")
    async with factory(asof_solana, http_transport=node.transport(),
                       env=NO_RATE_LIMIT) as client:
        answer: BalanceAt = await client.balance_at(Wallet(chain="solana", address=wallet),
                                                    token, point)
    return answer


def check_truth(world: World, answer: BalanceAt, wallet: str, mint: str, point: Point,
                watched: list[str]) -> None:
    if mint == NATIVE_SOL_MINT:
        assert answer.amount.raw == world.true_lamports(wallet, point), point
        assert answer.amount.decimals == 9
    else:
        assert answer.amount.raw == world.true_token(wallet, mint, point), point
    last = world.last_touch(watched, point)
    if last is None:
        assert answer.as_of is None, point
        assert answer.amount.raw == 0
    else:
        assert answer.as_of is not None, point
        assert answer.as_of.transaction == last.signature, point
        assert answer.as_of.number == last.slot


@pytest.mark.parametrize("slot", SLOTS)
async def test_token_sums_every_token_account_at_slots(
    asof_client_factory: Any, demo: tuple[World, dict[str, str]], slot: int
) -> None:
    world, names = demo
    node = FakeNode(world)
    point = Point(block=slot)
    answer = await ask(asof_client_factory, node, names["alice"], names["usdc"], point)
    check_truth(world, answer, names["alice"], names["usdc"], point,
                [names["main"], names["extra"]])
    assert answer.amount.decimals == 6
    assert answer.token.standard == "spl"
    assert answer.provider == "solana"
    assert CAVEAT_CLOSED_ACCOUNTS in answer.provenance.caveats
    assert CAVEAT_BLOCK_TIME not in answer.provenance.caveats


async def test_two_accounts_are_summed_where_one_alone_undercounts(
    asof_client_factory: Any, demo: tuple[World, dict[str, str]]
) -> None:
    world, names = demo
    point = Point(block=800)
    answer = await ask(asof_client_factory, FakeNode(world), names["alice"], names["usdc"],
                       point)
    main = 7_250_000
    extra = 1_000_000 + 1200
    assert answer.amount.raw == main + extra == world.true_token(names["alice"],
                                                                 names["usdc"], point)
    assert str(answer.amount) == "8.2512"
    reads = {r["account"]: r["amount"] for r in answer.provenance.echo["reads"]}
    assert reads == {names["main"]: str(main), names["extra"]: str(extra)}


@pytest.mark.parametrize("slot", SLOTS)
async def test_native_sol_from_lamport_post_balances(
    asof_client_factory: Any, demo: tuple[World, dict[str, str]], slot: int
) -> None:
    world, names = demo
    point = Point(block=slot)
    answer = await ask(asof_client_factory, FakeNode(world), names["alice"], NATIVE_SOL_MINT,
                       point)
    check_truth(world, answer, names["alice"], NATIVE_SOL_MINT, point, [names["alice"]])
    assert answer.token.symbol == "SOL"
    assert answer.token.is_native


async def test_time_points_take_the_last_slot_of_the_second(
    asof_client_factory: Any, demo: tuple[World, dict[str, str]]
) -> None:
    world, names = demo
    node = FakeNode(world)
    # slots 120 and 121 share a block time: a time point on it sees slot 121 as well
    moment = utc(world.block_time(121) or 0)
    assert world.block_time(120) == world.block_time(121)
    for at in (moment - timedelta(seconds=1), moment, moment + timedelta(seconds=1),
               utc(world.block_time(450) or 0), utc(10)):
        point = Point(time=at)
        answer = await ask(asof_client_factory, node, names["alice"], names["usdc"], point)
        check_truth(world, answer, names["alice"], names["usdc"], point,
                    [names["main"], names["extra"]])
        assert CAVEAT_BLOCK_TIME in answer.provenance.caveats
        if answer.as_of is not None:
            assert answer.as_of.timestamp is not None
            assert answer.as_of.timestamp <= at


async def test_same_slot_order_comes_from_the_block_not_the_listing(
    asof_client_factory: Any, demo: tuple[World, dict[str, str]]
) -> None:
    world, names = demo
    for order in ("block", "signature"):
        node = FakeNode(world, slot_order=order)
        point = Point(block=120)
        answer = await ask(asof_client_factory, node, names["alice"], names["usdc"], point)
        assert answer.amount.raw == 7_250_000 == world.true_token(names["alice"],
                                                                  names["usdc"], point)
        assert answer.as_of is not None
        assert answer.as_of.index == 1
        assert node.calls("getBlock") == 1


async def test_pagination_past_one_thousand_signatures(
    asof_client_factory: Any, demo: tuple[World, dict[str, str]]
) -> None:
    world, names = demo
    node = FakeNode(world)
    point = Point(block=150)  # the extra account has 1,200 newer signatures
    answer = await ask(asof_client_factory, node, names["alice"], names["usdc"], point)
    assert answer.amount.raw == world.true_token(names["alice"], names["usdc"], point)
    assert answer.amount.raw == 7_250_000 + 1_000_000
    # accounts, one batch of first pages, the extra account's second page, the block of
    # slot 120 (two of the main account's transactions), one batch of transactions
    assert node.calls("getSignaturesForAddress") == 3
    assert node.log == [["getTokenAccountsByOwner"], ["getSignaturesForAddress"] * 2,
                        ["getSignaturesForAddress"], ["getBlock"], ["getTransaction"] * 2]
    assert answer.provenance.echo["requests"] == 5


async def test_a_slot_split_across_pages_is_read_whole(asof_client_factory: Any) -> None:
    world = World()
    owner, funder = address("owner"), address("funder")
    mint = world.mint("split", 0)
    account, source = address("split-account"), address("split-source")
    world.tx(1, funder, ("open", source, mint, funder), ("tok", source, 10**6))
    world.tx(2, owner, ("open", account, mint, owner))
    # 999 single transactions, then slot 2000 holds three: positions 1000-1002 newest first
    world.tx(1000, funder, ("tok", source, -5), ("tok", account, 5))
    for n in range(3):
        world.tx(2000, funder, ("tok", source, -(n + 1)), ("tok", account, n + 1))
    for n in range(999):
        world.tx(3000 + n, funder, ("tok", source, -1), ("tok", account, 1))
    node = FakeNode(world, slot_order="signature")
    point = Point(block=2999)
    answer = await ask(asof_client_factory, node, owner, mint, point)
    assert answer.amount.raw == world.true_token(owner, mint, point) == 11
    assert answer.as_of is not None
    assert answer.as_of.number == 2000
    assert answer.as_of.index == 2
    assert node.calls("getSignaturesForAddress") == 2
    assert node.calls("getBlock") == 1


async def test_no_activity_before_the_point_is_zero_without_as_of(
    asof_client_factory: Any, demo: tuple[World, dict[str, str]]
) -> None:
    world, names = demo
    node = FakeNode(world)
    for mint in (names["usdc"], NATIVE_SOL_MINT):
        answer = await ask(asof_client_factory, node, names["alice"], mint, Point(block=99))
        assert answer.amount.raw == 0
        assert answer.as_of is None


async def test_a_wallet_without_token_accounts_is_zero_and_says_why(
    asof_client_factory: Any, demo: tuple[World, dict[str, str]]
) -> None:
    world, names = demo
    node = FakeNode(world)
    answer = await ask(asof_client_factory, node, address("nobody"), names["usdc"],
                       Point(block=800), decimals=6)
    assert answer.amount.raw == 0
    assert answer.amount.decimals == 6
    assert answer.as_of is None
    assert CAVEAT_CLOSED_ACCOUNTS in answer.provenance.caveats
    assert node.requests == 1


def two_account_world() -> tuple[World, str, str]:
    """A wallet with two token accounts of one mint and no two of its transactions in
    one slot."""
    world = World()
    gina, bank = address("gina"), address("bank")
    mint = world.mint("two", 3)
    reserve, one, two = address("reserve"), address("gina-one"), address("gina-two")
    world.tx(1, bank, ("sol", bank, 10**12), ("sol", gina, 10**10))
    world.tx(2, bank, ("open", reserve, mint, bank), ("tok", reserve, 10**9))
    world.tx(3, gina, ("open", one, mint, gina), ("open", two, mint, gina))
    for slot in range(10, 40, 3):
        world.tx(slot, bank, ("tok", reserve, -slot), ("tok", one, slot))
        world.tx(slot + 1, bank, ("tok", reserve, -2 * slot), ("tok", two, 2 * slot))
    return world, gina, mint


async def test_declared_cost_is_the_measured_request_count(asof_client_factory: Any) -> None:
    world, gina, mint = two_account_world()
    for slot in (5, 20, 33, 100):
        node = FakeNode(world)
        point = Point(block=slot)
        answer = await ask(asof_client_factory, node, gina, mint, point)
        assert answer.amount.raw == world.true_token(gina, mint, point)
        # getTokenAccountsByOwner, one batch of both first pages, one batch of transactions
        assert node.requests == int(COST.amount) == 3, node.log
    assert COST.unit == "requests"
    assert COST.per == "answer"
    node = FakeNode(world)
    await ask(asof_client_factory, node, gina, NATIVE_SOL_MINT, Point(block=50))
    # the node's finalized slot travels in the same batch as the first page
    assert node.log == [["getSignaturesForAddress", "getSlot"], ["getTransaction"]]


async def test_a_node_refusing_batches_is_asked_singly(asof_client_factory: Any) -> None:
    world, gina, mint = two_account_world()
    node = FakeNode(world, batching=False)
    point = Point(block=33)
    answer = await ask(asof_client_factory, node, gina, mint, point)
    assert answer.amount.raw == world.true_token(gina, mint, point)
    # accounts, the refused batch, two single pages, two single transactions (after one
    # refusal the helper stops batching)
    assert node.requests == 6, node.log
    assert node.log[1] == ["getSignaturesForAddress"] * 2
    assert node.calls("getTransaction") == 2


async def test_a_refused_batch_is_remembered_for_the_clients_next_answers(
    asof_client_factory: Any,
) -> None:
    world, gina, mint = two_account_world()
    node = FakeNode(world, batching=False)
    wallet, token = Wallet(chain="solana", address=gina), Token(chain="solana", address=mint)
    async with asof_client_factory(asof_solana, http_transport=node.transport(),
                                   env=NO_RATE_LIMIT) as client:
        for slot in (20, 33):
            before = node.requests
            answer = await client.balance_at(wallet, token, Point(block=slot))
            assert answer.amount.raw == world.true_token(gina, mint, Point(block=slot))
            assert node.requests - before == answer.provenance.echo["requests"]
    # the first answer spent one request on the refused batch; the second asked singly
    assert [len(request) for request in node.log] == [1, 2, 1, 1, 1, 1] + [1] * 5


async def test_an_account_that_changed_owner_counts_only_while_owned(
    asof_client_factory: Any,
) -> None:
    world = World()
    carol, dave = address("carol"), address("dave")
    mint = world.mint("owned", 2)
    account, other = address("carol-to-dave"), address("dave-own")
    world.tx(10, carol, ("open", account, mint, carol), ("tok", account, 500))
    world.tx(11, dave, ("open", other, mint, dave), ("tok", other, 7))
    world.tx(20, carol, ("owner", account, dave))
    world.tx(30, dave, ("tok", account, -100), ("tok", other, 100))
    node = FakeNode(world)
    for slot in (5, 10, 11, 19, 20, 25, 30, 40):
        point = Point(block=slot)
        answer = await ask(asof_client_factory, node, dave, mint, point)
        assert answer.amount.raw == world.true_token(dave, mint, point), slot


async def test_a_closed_token_account_is_the_stated_limit(asof_client_factory: Any) -> None:
    world = World()
    erin = address("erin")
    mint = world.mint("closing", 0)
    kept, closed = address("erin-kept"), address("erin-closed")
    world.tx(10, erin, ("open", kept, mint, erin), ("tok", kept, 3))
    world.tx(11, erin, ("open", closed, mint, erin), ("tok", closed, 4))
    world.tx(20, erin, ("tok", closed, -4), ("tok", kept, 4))
    world.tx(21, erin, ("close", closed))
    node = FakeNode(world)
    after = await ask(asof_client_factory, node, erin, mint, Point(block=30))
    assert after.amount.raw == world.true_token(erin, mint, Point(block=30)) == 7
    before = await ask(asof_client_factory, node, erin, mint, Point(block=15))
    # the truth is 7 (3 + 4); the closed account is not found, and the caveat says so
    assert world.true_token(erin, mint, Point(block=15)) == 7
    assert before.amount.raw == 3
    assert CAVEAT_CLOSED_ACCOUNTS in before.provenance.caveats


async def test_token_2022_accounts_are_read_alike(asof_client_factory: Any) -> None:
    world = World()
    hal = address("hal")
    mint = world.mint("t22", 9, program=TOKEN_2022_PROGRAM)
    one, two = address("hal-t22-one"), address("hal-t22-two")
    world.tx(3, hal, ("open", one, mint, hal), ("tok", one, 4 * 10**9))
    world.tx(3, hal, ("open", two, mint, hal), ("tok", two, 10**9 + 1))
    answer = await ask(asof_client_factory, FakeNode(world), hal, mint, Point(block=3))
    assert answer.amount.raw == world.true_token(hal, mint, Point(block=3)) == 5 * 10**9 + 1
    assert answer.token.standard == "token-2022"
    assert answer.as_of is not None
    assert answer.as_of.index == 1


async def test_loaded_addresses_and_big_lamport_values_are_exact(
    asof_client_factory: Any,
) -> None:
    world = World()
    whale, payer = address("whale"), address("payer")
    big = 2**63 + 12345  # far beyond 2**53: a float would round it
    world.tx(5, payer, ("sol", whale, big), loaded=(whale,))
    node = FakeNode(world)
    answer = await ask(asof_client_factory, node, whale, NATIVE_SOL_MINT, Point(block=5))
    assert answer.amount.raw == big == world.true_lamports(whale, Point(block=5))


async def test_failed_transactions_still_charge_the_fee(asof_client_factory: Any) -> None:
    world = World()
    frank, bank = address("frank"), address("bank")
    world.tx(1, bank, ("sol", frank, 10**9))
    world.tx(2, frank, ("sol", frank, -500), ("sol", bank, 500), failed=True)
    answer = await ask(asof_client_factory, FakeNode(world), frank, NATIVE_SOL_MINT,
                       Point(block=2))
    assert answer.amount.raw == 10**9 - 5000 == world.true_lamports(frank, Point(block=2))


async def test_a_listing_without_block_times_asks_the_block_time(
    asof_client_factory: Any, demo: tuple[World, dict[str, str]]
) -> None:
    world, names = demo
    node = FakeNode(world)
    listing = node.rpc_get_signatures_for_address

    def without_times(*params: Any) -> Any:
        return [{**item, "blockTime": None} for item in listing(*params)]

    node.overrides["getSignaturesForAddress"] = without_times
    point = Point(time=utc(world.block_time(110) or 0))
    answer = await ask(asof_client_factory, node, names["alice"], NATIVE_SOL_MINT, point)
    assert answer.amount.raw == world.true_lamports(names["alice"], point)
    assert answer.as_of is not None
    assert answer.as_of.number == 103
    assert answer.as_of.timestamp == utc(world.block_time(103) or 0)
    # one getBlockTime per slot the walk had to place: 900, 120 and 103
    assert node.calls("getBlockTime") == 3


async def test_a_slot_after_the_finalized_tip_is_refused(
    asof_client_factory: Any, demo: tuple[World, dict[str, str]]
) -> None:
    world, names = demo
    node = FakeNode(world, tip=900)
    for mint in (names["usdc"], NATIVE_SOL_MINT):
        at_tip = await ask(asof_client_factory, node, names["alice"], mint, Point(block=900))
        assert at_tip.amount.raw == (world.true_token(names["alice"], mint, Point(block=900))
                                     if mint != NATIVE_SOL_MINT else
                                     world.true_lamports(names["alice"], Point(block=900)))
        with pytest.raises(InvalidPoint) as caught:
            await ask(asof_client_factory, node, names["alice"], mint, Point(block=901))
        assert "latest finalized slot 900" in str(caught.value)


async def test_a_time_is_answered_only_when_the_node_has_finalized_past_it(
    asof_client_factory: Any, demo: tuple[World, dict[str, str]]
) -> None:
    world, names = demo
    node = FakeNode(world, tip=1000)  # alice's last transaction is at slot 900
    tip_time = utc(world.block_time(1000) or 0)
    # a listed transaction after the point proves it final: no getBlockTime
    early = Point(time=utc(world.block_time(850) or 0))
    answer = await ask(asof_client_factory, node, names["alice"], NATIVE_SOL_MINT, early)
    assert answer.amount.raw == world.true_lamports(names["alice"], early)
    assert node.calls("getBlockTime") == 0
    # nothing listed after the point: the finalized slot's block time must be after it
    late = Point(time=tip_time - timedelta(seconds=1))
    for mint in (NATIVE_SOL_MINT, names["usdc"]):
        before = node.calls("getBlockTime")
        answer = await ask(asof_client_factory, node, names["alice"], mint, late)
        assert answer.amount.raw == (world.true_lamports(names["alice"], late)
                                     if mint == NATIVE_SOL_MINT else
                                     world.true_token(names["alice"], mint, late))
        assert node.calls("getBlockTime") == before + 1
        with pytest.raises(InvalidPoint) as caught:
            await ask(asof_client_factory, node, names["alice"], mint, Point(time=tip_time))
        assert "latest finalized block (slot 1000" in str(caught.value)


async def test_a_future_time_is_refused_before_any_request(
    asof_client_factory: Any, demo: tuple[World, dict[str, str]]
) -> None:
    world, names = demo
    node = FakeNode(world)
    with pytest.raises(InvalidPoint) as caught:
        await ask(asof_client_factory, node, names["alice"], names["usdc"],
                  Point(time=FIXED_NOW + timedelta(seconds=1)))
    assert "future" in str(caught.value)
    assert node.requests == 0


# -- errors ---------------------------------------------------------------------------


async def test_an_unknown_mint_is_the_nodes_invalid_params(asof_client_factory: Any,
                                                           demo: Any) -> None:
    world, names = demo
    with pytest.raises(ProviderRequestError) as caught:
        await ask(asof_client_factory, FakeNode(world), names["alice"], address("no-mint"),
                  Point(block=5))
    assert "could not find mint" in str(caught.value)
    assert "getTokenAccountsByOwner" in str(caught.value)


async def test_a_transaction_the_node_lost_is_not_found(asof_client_factory: Any,
                                                        demo: Any) -> None:
    world, names = demo
    node = FakeNode(world)
    node.by_signature = {}
    with pytest.raises((NotFoundError, NoRoute)) as caught:
        await ask(asof_client_factory, node, names["alice"], NATIVE_SOL_MINT, Point(block=800))
    assert "archival endpoint" in str(caught.value)


async def test_a_transaction_without_recorded_token_balances_is_refused(
    asof_client_factory: Any, demo: Any
) -> None:
    world, names = demo
    node = FakeNode(world)
    for found in node.by_signature.values():
        del found["meta"]["preTokenBalances"], found["meta"]["postTokenBalances"]
    with pytest.raises(NotFoundError) as caught:
        await ask(asof_client_factory, node, names["alice"], names["usdc"], Point(block=800))
    assert "recorded no token balances" in str(caught.value)
    # native SOL needs no token balances
    native = await ask(asof_client_factory, node, names["alice"], NATIVE_SOL_MINT,
                       Point(block=800))
    assert native.amount.raw == world.true_lamports(names["alice"], Point(block=800))


async def test_a_listing_out_of_order_is_a_response_error(asof_client_factory: Any,
                                                          demo: Any) -> None:
    world, names = demo
    node = FakeNode(world)
    listing = node._listing
    node._listing = lambda account: list(reversed(listing(account)))  # type: ignore[method-assign]
    with pytest.raises(ResponseError) as caught:
        await ask(asof_client_factory, node, names["alice"], NATIVE_SOL_MINT, Point(block=800))
    assert "newest first" in str(caught.value)


async def test_ledger_history_codes_say_what_to_do(asof_client_factory: Any,
                                                   demo: Any) -> None:
    world, names = demo
    node = FakeNode(world)

    def no_history(*_: Any) -> Any:
        from tests.plugins.solana.fakenode import RpcError

        raise RpcError(-32011, "Transaction history is not available from this node")

    node.overrides["getSignaturesForAddress"] = no_history
    with pytest.raises(AsofError) as caught:
        await ask(asof_client_factory, node, names["alice"], NATIVE_SOL_MINT, Point(block=800))
    assert "archival endpoint" in str(caught.value)
    assert "Transaction history is not available" in str(caught.value)


# -- properties -----------------------------------------------------------------------

_PEOPLE = [address(f"p{n}") for n in range(3)]


@st.composite
def worlds(draw: st.DrawFn) -> tuple[World, str, list[str]]:
    world = World()
    mint = world.mint("prop", draw(st.integers(0, 9)))
    holder = _PEOPLE[0]
    accounts = [address(f"acct{n}") for n in range(draw(st.integers(1, 3)))]
    reserve = address("reserve")
    world.tx(1, _PEOPLE[2], ("open", reserve, mint, _PEOPLE[2]), ("tok", reserve, 10**30))
    opened: list[str] = []
    balances: dict[str, int] = {}
    for _ in range(draw(st.integers(1, 25))):
        slot = draw(st.integers(2, 40))
        kind = draw(st.sampled_from(["open", "in", "out", "sol", "owner"]))
        if kind == "open" or not opened:
            closed = [a for a in accounts if a not in opened]
            if not closed:
                continue
            account = closed[0]
            world.tx(slot if not opened else max(slot, _last(world)), holder,
                     ("open", account, mint, holder))
            opened.append(account)
            balances[account] = 0
            continue
        account = draw(st.sampled_from(opened))
        at = max(slot, _last(world))
        if kind == "in":
            amount = draw(st.integers(1, 10**20))
            world.tx(at, _PEOPLE[2], ("tok", reserve, -amount), ("tok", account, amount))
            balances[account] += amount
        elif kind == "out" and balances[account]:
            amount = draw(st.integers(1, balances[account]))
            world.tx(at, holder, ("tok", account, -amount), ("tok", reserve, amount))
            balances[account] -= amount
        elif kind == "sol":
            world.tx(at, _PEOPLE[1], ("sol", holder, draw(st.integers(1, 10**12))))
        elif kind == "owner" and draw(st.booleans()):
            world.tx(at, holder, ("owner", account, _PEOPLE[1]))
            world.tx(at + 1, _PEOPLE[1], ("owner", account, holder))
    return world, mint, accounts


def _last(world: World) -> int:
    return max(t.slot for t in world.txs)


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(built=worlds(), slot=st.integers(0, 50), order=st.sampled_from(["block", "signature"]),
       by_time=st.booleans())
async def test_any_world_any_point_matches_the_replay(
    asof_client_factory: Any, built: tuple[World, str, list[str]], slot: int, order: str,
    by_time: bool,
) -> None:
    world, mint, accounts = built
    node = FakeNode(world, slot_order=order)
    # a time point falls on the second of a slot, which the slot before or after may share
    point = Point(time=utc(world.block_time(slot) or 0)) if by_time else Point(block=slot)
    holder = _PEOPLE[0]
    answer = await ask(asof_client_factory, node, holder, mint, point)
    check_truth(world, answer, holder, mint, point, accounts)
    native = await ask(asof_client_factory, node, holder, NATIVE_SOL_MINT, point)
    check_truth(world, native, holder, NATIVE_SOL_MINT, point, [holder])
