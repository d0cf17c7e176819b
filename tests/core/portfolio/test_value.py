"""Values at the moment against a model of prices: each holding is valued at the price
in force at the point, never at today's, and a token without a price there has none.

The price server answers as DefiLlama's coins API documents
(``/prices/historical/{timestamp}/{coin}?searchWidth=``): the data point nearest the
timestamp within the search width, or an empty ``coins`` object.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import anyio
from click.testing import CliRunner

from asof.cli.app import cli
from asof.cli.common import CliState
from asof.client import AsyncClient
from asof.portfolio import SpamPolicy
from asof.portfolio.spam import DenyList, MinimumValue
from asof.testing.client import credential_env, load_plugin, plugin_info
from asof.transport import MockTransport, Request, Response
from tests.core.archive.test_truth import NOW, W
from tests.core.archive.world import SOL, USDC, World, config_file, frozen

from .test_truth import AT, BONK, truth, world

#: coin -> [(time, price)]: the model's prices. Today's prices differ on purpose.
PRICES: dict[str, list[tuple[datetime, Decimal]]] = {
    "coingecko:solana": [(AT - timedelta(minutes=3), Decimal("141.25")),
                         (AT + timedelta(hours=5), Decimal("150")),
                         (NOW, Decimal("999"))],
    f"solana:{USDC.address}": [(AT + timedelta(seconds=40), Decimal("0.99991")),
                               (NOW, Decimal("1.5"))],
    # BONK's only price is today's: no price at the point
    f"solana:{BONK.address}": [(NOW, Decimal("0.00002"))],
}
WIDTHS = {"1h": timedelta(hours=1)}


class Prices:
    """A fake DefiLlama coins API over :data:`PRICES`; logs every request path."""

    def __init__(self) -> None:
        self.log: list[str] = []

    def answer(self, request: Request) -> Response:
        self.log.append(request.url.path)
        _, _, _, stamp, coin = request.url.path.split("/", 4)
        moment = datetime.fromtimestamp(int(stamp), UTC)
        width = WIDTHS[request.url.params["searchWidth"]]
        near = [(abs(t - moment), t, p) for t, p in PRICES.get(coin, [])
                if abs(t - moment) <= width]
        if not near:
            return Response(200, json={"coins": {}})
        _, when, price = min(near)
        # numbers written as JSON numbers, digit for digit (no float on either side)
        body = (f'{{"coins": {{"{coin}": {{"price": {price}, "symbol": "X", '
                f'"timestamp": {int(when.timestamp())}, "confidence": 0.99}}}}}}')
        return Response(200, content=body.encode(),
                        headers={"content-type": "application/json"})


def in_force(coin: str, at: datetime) -> Decimal | None:
    """The model's price nearest ``at`` within an hour."""
    near = [(abs(t - at), p) for t, p in PRICES[coin] if abs(t - at) <= timedelta(hours=1)]
    return min(near)[1] if near else None


def make(w: World, prices: Prices, tmp_path: Path, text: str = "") -> AsyncClient:
    plugins = {name: load_plugin(name) for name in ("allium", "defillama")}

    def handler(request: Request) -> Response:
        if request.url.host == "coins.llama.fi":
            return prices.answer(request)
        return w.handler(request)

    return AsyncClient(config_file(tmp_path, archive=None, text=text),
                       http_transport=MockTransport(handler), plugins=plugins,
                       env=credential_env(plugin_info(plugins["allium"])), archive=False,
                       clock=frozen(NOW))


def test_each_holding_is_valued_at_the_price_in_force_then(tmp_path: Path) -> None:
    w, prices = world(), Prices()

    async def go() -> None:
        async with make(w, prices, tmp_path) as c:
            (found,) = await c.portfolio(W, at=AT, value="usd")
        held = truth(w, AT)
        by = {h.token.address: h for h in found.holdings}
        assert set(by) == set(held)
        for coin, token in (("coingecko:solana", SOL), (f"solana:{USDC.address}", USDC)):
            price = in_force(coin, AT)
            assert price is not None
            valued = by[token.address].valuation
            assert valued is not None
            assert valued.value == Decimal(held[token.address]).scaleb(-(token.decimals or 0)) \
                * price
            assert valued.price is not None
            assert valued.price.provenance.provider == "defillama"
            assert valued.price.time != NOW
        bonk = by[BONK.address].valuation
        assert bonk is not None
        assert bonk.value is None
        assert bonk.note is not None
        assert "no price" in bonk.note
        # one request per token, however the holdings are grouped
        assert len(prices.log) == 3

    anyio.run(go)


def test_spam_policy_is_off_by_default_and_stated_when_applied(tmp_path: Path) -> None:
    w, prices = world(), Prices()

    async def go() -> None:
        async with make(w, prices, tmp_path) as c:
            (plain,) = await c.portfolio(W, at=AT)
            policy = SpamPolicy((DenyList(frozenset({BONK.address})),
                                 MinimumValue(Decimal("100"))))
            (filtered,) = await c.portfolio(W, at=AT, spam=policy)
        assert plain.spam_policy is None
        assert plain.hidden == ()
        assert {h.token.address for h in filtered.holdings} == {SOL.address}
        assert set(filtered.hidden) == {BONK.address, USDC.address}  # USDC: ~60.5 USD
        assert filtered.spam_policy is not None
        assert "deny list" in filtered.spam_policy
        assert "minimum value 100 USD" in filtered.spam_policy

    anyio.run(go)


def test_configured_policy_and_the_command_line(tmp_path: Path) -> None:
    w, prices = world(), Prices()
    text = f'[portfolio]\ndeny = ["solana:{BONK.address}"]\n'
    result = CliRunner().invoke(
        cli, ["portfolio", str(W), "--at", "2025-03-01", "--value", "usd", "--format",
              "json"],
        obj=CliState(client_factory=lambda _s: make(w, prices, tmp_path, text)))
    assert result.exit_code == 0, result.output
    (doc,) = json.loads(result.stdout)
    assert doc["hidden"] == [BONK.address]
    assert "deny list of 1 tokens" in doc["spam_policy"]
    usdc = next(h for h in doc["holdings"] if h["token"]["address"] == USDC.address)
    assert Decimal(usdc["valuation"]["value"]) == Decimal(truth(w, AT)[USDC.address]) \
        .scaleb(-6) * Decimal("0.99991")


def test_balance_at_with_value(tmp_path: Path) -> None:
    w, prices = world(), Prices()
    result = CliRunner().invoke(
        cli, ["balance-at", str(W), "USDC", "--at", "2025-03-01", "--value", "usd"],
        obj=CliState(client_factory=lambda _s: make(w, prices, tmp_path)))
    assert result.exit_code == 0, result.output
    expected = Decimal(truth(w, AT)[USDC.address]).scaleb(-6) * Decimal("0.99991")
    line = next(line for line in result.stdout.splitlines() if line.startswith("usd"))
    assert line.split()[1] == format(expected, "f")


def test_allium_holdings_are_labelled_as_its_own_valuation(tmp_path: Path) -> None:
    w, prices = world(), Prices()

    async def go() -> None:
        async with make(w, prices, tmp_path) as c:
            points = [p async for p in c.holdings(W, start="2025-02-01", end="2025-02-03",
                                                  granularity="1d")]
        assert points
        for point in points:
            assert any("Allium's own valuation" in c for c in point.provenance.caveats)
        assert prices.log == []  # asof's prices are not mixed into the provider's series

    anyio.run(go)


def test_series_points_are_each_valued_at_their_own_moment(tmp_path: Path) -> None:
    from asof.archive import Archive
    from asof.testing.client import load_plugin
    from tests.core.archive.helpers import at, change, clock, covered

    config = tmp_path / "asof.toml"
    config.write_text('[asof]\nattempts = 1\n[archive]\npath = "archive.sqlite"\n')
    with Archive(tmp_path / "archive.sqlite", clock=clock()) as archive:
        archive.add([covered(at(2), at(31)), change(at(3), 1_500_000), change(at(5), 2)])
    # USDC's model price moves every day; one data point 10 minutes after each midnight
    daily = {at(d): Decimal(f"0.99{d}") for d in range(1, 7)}
    log: list[str] = []

    def handler(request: Request) -> Response:
        log.append(request.url.path)
        moment = datetime.fromtimestamp(int(request.url.path.split("/")[3]), UTC)
        coin = request.url.path.split("/", 4)[4]
        price = daily.get(moment)
        if price is None:
            return Response(200, json={"coins": {}})
        stamp = int((moment + timedelta(minutes=10)).timestamp())
        body = f'{{"coins": {{"{coin}": {{"price": {price}, "timestamp": {stamp}}}}}}}'
        return Response(200, content=body.encode(),
                        headers={"content-type": "application/json"})

    def factory(_state: CliState) -> AsyncClient:
        return AsyncClient(config, http_transport=MockTransport(handler),
                           plugins={"defillama": load_plugin("defillama")}, archive=False)

    result = CliRunner().invoke(
        cli, ["--config", str(config), "series", str(W), "USDC", "--from", "2025-03-01",
              "--to", "2025-03-06", "--value", "usd", "--format", "json"],
        obj=CliState(config=str(config), client_factory=factory))
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    raws = [None, 0, 1_500_000, 1_500_000, 2]
    assert [None if r["raw"] is None else int(r["raw"]) for r in data] == raws
    for day_, (row, raw) in enumerate(zip(data, raws, strict=True), start=1):
        if raw is None:
            assert row.get("usd") is None  # not covered: no amount, no value
            continue
        assert Decimal(row["usd"]) == Decimal(raw).scaleb(-6) * daily[at(day_)]
        assert row["price time"].startswith(f"2025-03-0{day_}T00:10:00")
    assert len(log) == 4  # the uncovered point is not priced


def test_a_price_provider_failure_leaves_the_amounts_and_says_why(tmp_path: Path) -> None:
    w = world()

    class Down(Prices):
        def answer(self, request: Request) -> Response:
            self.log.append(request.url.path)
            return Response(500, json={"message": "internal error"})

    prices = Down()

    async def go() -> None:
        async with make(w, prices, tmp_path) as c:
            (found,) = await c.portfolio(W, at=AT, value="usd")
        assert {h.token.address: h.amount.raw for h in found.holdings} == truth(w, AT)
        for holding in found.holdings:
            assert holding.valuation is not None
            assert holding.valuation.value is None
            assert holding.valuation.note is not None
            assert "could not be read" in holding.valuation.note

    anyio.run(go)
