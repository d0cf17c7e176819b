"""Portfolios against a model world whose truth is known.

The provider is the real Allium plugin talking to the fake server of
:mod:`tests.core.archive.world`, which answers as Allium's document says; each true
balance comes from the model's transactions alone (every token account summed).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import anyio
import pytest
from click.testing import CliRunner

from asof.cli.app import cli
from asof.cli.common import CliState
from asof.client import AsyncClient
from asof.records import Token, Wallet
from tests.core.archive.test_truth import W, make_client
from tests.core.archive.world import SOL, USDC, World

ACCOUNT_1 = "TokenAccountA111111111111111111111111111111"
ACCOUNT_2 = "TokenAccountB111111111111111111111111111111"
ACCOUNT_3 = "TokenAccountC111111111111111111111111111111"  # not the associated account
BONK = Token(chain="solana", address="DezXAZ8z7PnrnRJjz3wXBoRgixCa6xjnB7YaB1pPB263",
             standard="spl", decimals=5)
GONE = Token(chain="solana", address="9n4nbM75f5Ui33ZbPYXn59EwSgE8CGsHtAeTH5YFeJ9E",
             standard="spl", decimals=6)
AT = datetime(2025, 3, 1, tzinfo=UTC)


def day(n: int, month: int = 2, hour: int = 12) -> datetime:
    return datetime(2025, month, n, hour, tzinfo=UTC)


def world() -> World:
    """SOL; USDC across two token accounts; BONK only in a third account; a token sold
    to zero before the point; changes after the point that must not count."""
    w = World()
    w.add(W, SOL, str(W.address), day(1), 5_000_000_000)
    w.add(W, SOL, str(W.address), day(20), 4_250_000_001)
    w.add(W, USDC, ACCOUNT_1, day(2), 100_000_000)
    w.add(W, USDC, ACCOUNT_2, day(3), 7_500_000)
    w.add(W, USDC, ACCOUNT_1, day(10), 60_000_000)
    w.add(W, BONK, ACCOUNT_3, day(5), 123_456_789_012)
    w.add(W, GONE, ACCOUNT_3.replace("C", "D"), day(6), 42)
    w.add(W, GONE, ACCOUNT_3.replace("C", "D"), day(7), 0)
    w.add(W, USDC, ACCOUNT_2, day(1, month=3, hour=0), 1)  # exactly at the point: counts
    w.add(W, USDC, ACCOUNT_2, day(2, month=3), 999_000_000)  # after the point
    w.add(W, BONK, ACCOUNT_3, day(3, month=3), 0)  # after the point
    return w


def truth(w: World, at: datetime) -> dict[str, int]:
    """Every token the model says the wallet held at ``at``: address -> raw amount."""
    tokens = {tx.token.address: tx.token for tx in w.txs if tx.wallet == W}
    held = {address: w.truth(W, token, at) for address, token in tokens.items()}
    return {address: raw for address, raw in held.items() if raw}


def client(w: World, tmp_path: Path) -> AsyncClient:
    return make_client(w, tmp_path, ["allium"])


def test_the_portfolio_is_the_truth(tmp_path: Path) -> None:
    w = world()

    async def go() -> None:
        async with client(w, tmp_path) as c:
            (found,) = await c.portfolio(str(W), at="2025-03-01")
        got = {h.token.address: h.amount.raw for h in found.holdings}
        assert got == truth(w, AT)
        assert BONK.address in got  # held only in a non-associated token account
        assert GONE.address not in got  # zero at the point
        by = {h.token.address: h for h in found.holdings}
        assert by[USDC.address].token_accounts == (ACCOUNT_1, ACCOUNT_2)
        assert by[USDC.address].amount.decimals == 6
        assert by[USDC.address].token.symbol == "USDC"
        assert by[SOL.address].token.symbol == "SOL"
        assert all(h.provenance.provider == "allium" and h.provenance.derived
                   for h in found.holdings)
        assert found.may_miss == ()  # Allium's scope covers native and SPL tokens

    anyio.run(go)


def test_include_zero_lists_tokens_that_went_to_zero(tmp_path: Path) -> None:
    w = world()

    async def go() -> None:
        async with client(w, tmp_path) as c:
            (found,) = await c.portfolio([W], at=AT, include_zero=True)
        zero = {h.token.address: h.amount.raw for h in found.holdings if h.amount.raw == 0}
        assert zero == {GONE.address: 0}

    anyio.run(go)


@pytest.mark.parametrize("when", ["2025-02-04", "2025-02-06T12:00:00Z", "2025-03-05"])
def test_every_moment_matches_the_model(tmp_path: Path, when: str) -> None:
    w = world()
    moment = datetime.fromisoformat(when.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)

    async def go() -> None:
        async with client(w, tmp_path) as c:
            (found,) = await c.portfolio(W, at=when)
        assert {h.token.address: h.amount.raw for h in found.holdings} == truth(w, moment)

    anyio.run(go)


@pytest.mark.parametrize("fmt", ["json", "jsonl", "csv", "table"])
def test_the_command_lists_every_token_exactly(tmp_path: Path, fmt: str) -> None:
    w = world()
    result = CliRunner().invoke(
        cli, ["portfolio", str(W), "--at", "2025-03-01", "--format", fmt],
        obj=CliState(client_factory=lambda _state: client(w, tmp_path)))
    assert result.exit_code == 0, result.output
    expected = truth(w, AT)
    if fmt == "json":
        (doc,) = json.loads(result.stdout)
        got = {h["token"]["address"]: int(h["amount"]["raw"]) for h in doc["holdings"]}
        assert got == expected
        assert doc["wallet"] == str(W)
    elif fmt == "jsonl":
        (line,) = result.stdout.splitlines()
        doc = json.loads(line)
        assert {h["token"]["address"]: int(h["amount"]["raw"])
                for h in doc["holdings"]} == expected
    else:
        for address, raw in expected.items():
            row = next(line for line in result.stdout.splitlines() if address in line)
            assert str(raw) in row


def test_two_wallets_two_portfolios(tmp_path: Path) -> None:
    w = world()
    other = Wallet(chain="solana", address="9WzDXwBbmkg8ZTbNMqUxvQRAyrZzDsGYdLVL9zYtAWWM")
    w.add(other, USDC, "TokenAccountE111111111111111111111111111111", day(4), 5)

    async def go() -> None:
        async with client(w, tmp_path) as c:
            first, second = await c.portfolio([W, other], at=AT)
        assert first.wallet == W
        assert second.wallet == other
        assert {h.token.address: h.amount.raw for h in second.holdings} == {USDC.address: 5}

    anyio.run(go)


def test_a_second_portfolio_comes_from_the_archive_unchanged(tmp_path: Path) -> None:
    from asof.archive import Archive
    from tests.core.archive.test_truth import NOW
    from tests.core.archive.world import frozen

    w = world()

    async def go() -> None:
        archive = Archive(tmp_path / "a.sqlite", clock=frozen(NOW))
        async with make_client(w, tmp_path, ["allium"], archive=archive) as c:
            (live,) = await c.portfolio(W, at=AT)
            calls = w.calls("/api/")
            (stored,) = await c.portfolio(W, at=AT)
            (earlier,) = await c.portfolio(W, at="2025-02-04")
        assert w.calls("/api/") == calls  # both later answers from the archive
        assert calls > 0
        assert {h.token.address: h.amount.raw for h in stored.holdings} == truth(w, AT)
        assert {h.token.address: h.amount.raw for h in earlier.holdings} == \
            truth(w, datetime(2025, 2, 4, tzinfo=UTC))
        assert stored.provenance.archived
        assert not live.provenance.archived
        assert [h.token.address for h in stored.holdings] == \
            [h.token.address for h in live.holdings]

    anyio.run(go)


def test_the_offline_example_against_its_own_records() -> None:
    examples = Path(__file__).resolve().parents[3] / "examples"
    wallet = "solana:ExampLeWa11et1111111111111111111111111111111"
    last: dict[tuple[str, str], tuple[str, int]] = {}
    for line in (examples / "example-wallet.jsonl").read_text().splitlines():
        record = json.loads(line)
        if record["kind"] == "balance_change" and record["block"]["timestamp"] <= \
                "2025-03-01T00:00:00Z":
            key = (record["token"]["address"], record["token_account"])
            stamp = record["block"]["timestamp"]
            if key not in last or stamp >= last[key][0]:
                last[key] = (stamp, int(record["balance"]["raw"]))
    expected: dict[str, int] = {}
    for (address, _), (_, raw) in last.items():
        expected[address] = expected.get(address, 0) + raw
    result = CliRunner().invoke(cli, ["--config", str(examples / "asof.toml"), "portfolio",
                                      wallet, "--at", "2025-03-01", "--format", "json"])
    assert result.exit_code == 0, result.output
    (doc,) = json.loads(result.stdout)
    assert {h["token"]["address"]: int(h["amount"]["raw"]) for h in doc["holdings"]} == \
        {a: r for a, r in expected.items() if r}


def test_a_slot_point_matches_the_model_and_a_future_time_is_refused(tmp_path: Path) -> None:
    from asof.errors import InvalidPoint

    w = world()
    slot = 300_000_000 + int((AT - datetime(2025, 1, 1, tzinfo=UTC)).total_seconds())

    async def go() -> None:
        async with client(w, tmp_path) as c:
            (found,) = await c.portfolio(W, at=f"slot:{slot}")
            assert {h.token.address: h.amount.raw for h in found.holdings} == truth(w, AT)
            with pytest.raises(InvalidPoint, match="future"):
                await c.portfolio(W, at="2025-07-01")  # the clock says 2025-06-01

    anyio.run(go)


def test_the_sync_client_has_the_same_portfolio(tmp_path: Path) -> None:
    import inspect

    import asof
    from asof.blocking import Client
    from asof.testing.client import credential_env, load_plugin, plugin_info
    from asof.transport import MockTransport
    from tests.core.archive.test_truth import NOW
    from tests.core.archive.world import config_file, frozen

    assert inspect.signature(Client.portfolio).parameters.keys() == \
        inspect.signature(AsyncClient.portfolio).parameters.keys()
    w = world()
    allium = load_plugin("allium")
    with Client(config_file(tmp_path, archive=None), http_transport=MockTransport(w.handler),
                plugins={"allium": allium}, env=credential_env(plugin_info(allium)),
                archive=False, clock=frozen(NOW)) as client:
        (found,) = client.portfolio(W, at=AT)
        frame = client.portfolio(W, at=AT).to_pandas()
        changes = client.history(W, end=AT).to_pandas()
    assert isinstance(found, asof.Portfolio)
    assert {h.token.address: h.amount.raw for h in found.holdings} == truth(w, AT)
    assert dict(zip(frame["token.address"], (int(v) for v in frame["amount.raw"]),
                    strict=True)) == truth(w, AT)
    assert len(changes) == sum(1 for tx in w.txs if tx.time < AT)
    assert "<table>" in found._repr_html_()
