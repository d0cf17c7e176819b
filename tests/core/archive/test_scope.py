"""History scopes: what a declaration covers, and the conformance check that records
agree with it."""

from __future__ import annotations

import attrs
import pytest

from asof.archive import Archive
from asof.archive.sqlite import dumps_scope, loads_scope
from asof.queries import HistoryQuery
from asof.records import Capability, ChainSupport, HistoryScope, Page
from asof.testing.conformance import check_history_scope
from asof.tokens import native_token, resolve_token

from .helpers import SOL, USDC, WALLET, at, change, covered

ETH = native_token("ethereum")
EUSDC = resolve_token("ethereum", "USDC")
QUERY = HistoryQuery(capability=Capability.BALANCE_HISTORY, wallets=(WALLET,), start=at(1),
                     end=at(9))


def support(scope: HistoryScope | None) -> ChainSupport:
    return ChainSupport(provider="hist", chain="solana",
                        capabilities=(Capability.BALANCE_HISTORY,), history_scope=scope)


def test_what_a_scope_covers() -> None:
    erc20 = HistoryScope(native=False, standards=("erc20",), opening_balances=True)
    assert erc20.covers(EUSDC)
    assert not erc20.covers(ETH)
    assert not erc20.covers(USDC)  # spl is not listed
    assert HistoryScope().covers(ETH)
    assert HistoryScope().covers(USDC)
    only = HistoryScope(native=False, standards=(), tokens=(USDC.address,))
    assert only.covers(USDC)
    assert not only.covers(SOL)
    assert erc20.describe() == "erc20 only, native excluded, with opening balances"
    assert HistoryScope(native=False).describe() == "every token, native excluded"


@pytest.mark.parametrize("scope", [
    None, HistoryScope(), HistoryScope(native=False, standards=("erc20",), tokens=None,
                                       token_accounts="changed", opening_balances=True),
    HistoryScope(native=False, standards=(), tokens=("a", "b")),
])
def test_scopes_round_trip_through_storage(scope: HistoryScope | None) -> None:
    assert loads_scope(dumps_scope(scope)) == scope


def test_coverage_proves_only_inside_its_declared_scope() -> None:
    erc = covered(None, at(9), history_scope=HistoryScope(native=False))
    assert erc.proves(USDC, mentioned=False)
    assert not erc.proves(SOL, mentioned=True)
    undeclared = covered(None, at(9), history_scope=None)
    assert not undeclared.proves(SOL, mentioned=False)  # never a zero it never mentioned
    assert undeclared.proves(SOL, mentioned=True)
    assert not covered(None, at(9), scope=USDC.address).proves(SOL, mentioned=True)


def test_the_conformance_check_refuses_records_outside_the_scope() -> None:
    native = Page(items=(change(at(2), 5, token=SOL, account=None),))
    no_native = support(HistoryScope(native=False))
    with pytest.raises(AssertionError, match="outside the declared history scope"):
        check_history_scope([native], QUERY, no_native)
    spl = Page(items=(change(at(2), 5),))
    with pytest.raises(AssertionError, match="outside"):
        check_history_scope([spl], QUERY, support(HistoryScope(standards=("erc20",))))
    check_history_scope([spl, native], QUERY, support(HistoryScope()))
    check_history_scope([spl, native], QUERY, support(None))  # undeclared passes


def test_the_conformance_check_wants_token_accounts_when_all_are_declared() -> None:
    bare = Page(items=(change(at(2), 5, account=None),))
    with pytest.raises(AssertionError, match="names no token account"):
        check_history_scope([bare], QUERY, support(HistoryScope(token_accounts="all")))
    check_history_scope([bare], QUERY, support(HistoryScope(token_accounts="changed")))


def test_a_scope_that_covers_nothing_is_refused() -> None:
    with pytest.raises(AssertionError, match="covers nothing"):
        check_history_scope([Page(items=())], QUERY,
                            support(HistoryScope(native=False, standards=())))


def test_a_history_of_a_token_outside_the_scope_is_not_read_back(archive: Archive) -> None:
    archive.add([covered(None, at(9), history_scope=HistoryScope(native=False)),
                 change(at(2), 5)])
    only_sol = HistoryQuery(capability=Capability.BALANCE_HISTORY, wallets=(WALLET,),
                            start=at(1), end=at(9), tokens=(SOL,))
    assert archive.lookup_history(only_sol) is None  # not "no SOL changes"
    only_usdc = attrs.evolve(only_sol, tokens=(USDC,))
    found = archive.lookup_history(only_usdc)
    assert found is not None
    assert len(found) == 1
