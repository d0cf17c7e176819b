"""The Helius plugin's own rules: local checks before a call, and strict reading of a
``balance-at`` answer (a body that breaks the documented shape names the field)."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

import asof_helius
from asof.context import ProviderContext
from asof.errors import InputError, InvalidAddress, ResponseError
from asof.queries import BalanceQuery
from asof.records import (
    NATIVE_SOL_MINT,
    WRAPPED_SOL_MINT,
    Capability,
    Point,
    SupportStatus,
    Token,
    Wallet,
)
from asof_helius.parse import CAVEAT_SOL_PRECISION, CAVEATS, parse_balance_at
from asof_helius.plugin import CAVEAT_RATE_LIMIT, check_query

WALLET = "GQUtvPx89ZNCwmvQqFmH59bJcU8fW8siETpaxod7Aydz"
USDC = "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v"
NOW = datetime(2030, 1, 1, tzinfo=UTC)
SLOT = Point(block=313000000)
TIME = Point(time=datetime(2025, 1, 10, 19, 20, tzinfo=UTC))


def query(mint: str = USDC, point: Point = TIME, **token: Any) -> BalanceQuery:
    return BalanceQuery(
        wallet=Wallet(chain="solana", address=WALLET),
        token=Token(chain="solana", address=mint, **token),
        point=point,
    )


def answer(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "wallet": WALLET,
        "mint": USDC,
        "isNative": False,
        "balance": "284961463.392936",
        "balanceRaw": "284961463392936",
        "decimals": 6,
        "requested": {"time": 1736536800, "slot": None, "datetime": None},
        "asOf": {"slot": 313000000, "blockTime": 1736536794, "signature": "5Cyy7Mh9"},
    }
    body.update(changes)
    return body


def parse(body: Any, q: BalanceQuery | None = None) -> Any:
    q = q or query()
    sent: dict[str, Any] = {"mint": q.token.address}
    if q.point.block is not None:
        sent["slot"] = q.point.block
    else:
        sent["time"] = 1736536800
    return parse_balance_at(body, q, sent=sent, fetched_at=NOW)


class StubHTTP:
    """A ProviderHTTP that records calls and answers with one body."""

    def __init__(self, body: Any = None) -> None:
        self.body = body
        self.calls: list[tuple[str, dict[str, Any]]] = []

    async def get(self, path: str, *, params: Any = None) -> Any:
        self.calls.append((path, dict(params or {})))
        return self.body

    async def post(self, path: str, *, json: Any = None, params: Any = None) -> Any:
        raise AssertionError("Helius never POSTs")


def context(http: StubHTTP) -> ProviderContext:
    return ProviderContext(provider="helius", http=http, clock=lambda: NOW)


# -- declarations ---------------------------------------------------------------------


def test_provider_info_declares_key_cost_and_caveats():
    info = asof_helius.provider_info()
    assert info.name == "helius"
    assert info.base_url == "https://api.helius.xyz"
    (cred,) = info.credentials
    assert cred.header == "X-Api-Key"
    assert cred.name == "api_key"  # the core reads ASOF_HELIUS_API_KEY
    assert cred.env == ("HELIUS_API_KEY",)
    assert cred.required
    assert info.cost is not None
    assert (info.cost.amount, info.cost.unit, info.cost.per) == (Decimal(100), "credits", "call")
    assert info.caveats == (*CAVEATS, CAVEAT_RATE_LIMIT)
    assert any("undercount" in c for c in info.caveats)
    assert any("slot" in c and "drift" in c for c in info.caveats)
    assert any("2**53" in c for c in info.caveats)


def test_supported_chains_is_solana_balance_at_in_beta():
    (support,) = asof_helius.supported_chains()
    assert support.provider == "helius"
    assert support.chain == "solana"
    assert support.capabilities == (Capability.BALANCE_AT,)
    assert support.status is SupportStatus.BETA
    assert support.note is not None
    assert "beta" in support.note


# -- local checks ----------------------------------------------------------------------


@pytest.mark.anyio
async def test_time_point_sends_epoch_seconds_and_slot_point_sends_slot():
    http = StubHTTP(answer())
    await asof_helius.balance_at(context(http), query())
    http.body = answer(mint=NATIVE_SOL_MINT, isNative=True, balance="0.000284961",
                       balanceRaw="284961", decimals=9,
                       requested={"time": None, "slot": 313000000, "datetime": None})
    await asof_helius.balance_at(context(http), query(NATIVE_SOL_MINT, SLOT))
    assert http.calls == [
        (f"/v1/wallet/{WALLET}/balance-at", {"mint": USDC, "time": 1736536800}),
        (f"/v1/wallet/{WALLET}/balance-at", {"mint": NATIVE_SOL_MINT, "slot": 313000000}),
    ]


@pytest.mark.anyio
async def test_fractional_seconds_round_down():
    http = StubHTTP(answer())
    point = Point(time=datetime(2025, 1, 10, 19, 20, 0, 999999, tzinfo=UTC))
    await asof_helius.balance_at(context(http), query(point=point))
    assert http.calls[0][1]["time"] == 1736536800


@pytest.mark.anyio
async def test_evm_wallet_is_refused_before_any_call():
    http = StubHTTP(answer())
    evm = BalanceQuery(
        wallet=Wallet(chain="ethereum", address="0x" + "ab" * 20),
        token=Token(chain="ethereum", address="0x" + "cd" * 20),
        point=TIME,
    )
    with pytest.raises(InputError, match="solana only"):
        await asof_helius.balance_at(context(http), evm)
    assert http.calls == []


def test_venue_accounts_are_refused():
    venue = BalanceQuery(
        wallet=Wallet(chain="pacifica", address=WALLET),
        token=Token(chain="pacifica", address=USDC),
        point=TIME,
    )
    with pytest.raises(InputError) as caught:
        check_query(venue)
    assert caught.value.field == "chain"


def test_bad_addresses_never_reach_the_plugin():
    # The records validate base58 already; the plugin repeats the check on its input.
    with pytest.raises(InvalidAddress):
        Wallet(chain="solana", address="0OIl" * 10)
    with pytest.raises(InvalidAddress):
        Token(chain="solana", address="not-a-mint")


def test_native_standard_on_another_mint_is_refused():
    with pytest.raises(InputError, match="pseudo-mint"):
        check_query(query(WRAPPED_SOL_MINT, standard="native"))


def test_wrapped_sol_is_an_ordinary_token():
    assert check_query(query(WRAPPED_SOL_MINT)) == (WALLET, WRAPPED_SOL_MINT)
    assert len(NATIVE_SOL_MINT) == 43
    assert check_query(query(NATIVE_SOL_MINT)) == (WALLET, NATIVE_SOL_MINT)


# -- reading the answer ----------------------------------------------------------------


def test_answer_maps_exactly():
    result = parse(answer())
    assert result.amount.raw == 284961463392936
    assert result.amount.value == Decimal("284961463.392936")
    assert result.token.decimals == 6
    assert result.as_of.number == 313000000
    assert result.as_of.transaction == "5Cyy7Mh9"
    assert result.provenance.fetched_at == NOW
    assert result.provenance.echo == {"time": 1736536800, "slot": None, "datetime": None}


def test_trailing_zeros_trimmed_or_not_compare_equal():
    assert parse(answer(balance="1.5", balanceRaw="1500000")).amount.raw == 1500000
    assert parse(answer(balance="1.500000", balanceRaw="1500000")).amount.raw == 1500000


def test_null_block_time_is_kept_as_none():
    result = parse(answer(asOf={"slot": 312000000, "blockTime": None, "signature": "s"}))
    assert result.as_of.timestamp is None
    assert result.as_of.number == 312000000


def test_native_answer_fills_the_token():
    q = query(NATIVE_SOL_MINT, SLOT)
    body = answer(mint=NATIVE_SOL_MINT, isNative=True, balance="9007199.254740993",
                  balanceRaw="9007199254740993", decimals=9,
                  requested={"time": None, "slot": 313000000, "datetime": None})
    result = parse(body, q)
    assert result.token.standard == "native"
    assert result.token.symbol == "SOL"
    assert result.amount.raw == 2**53 + 1
    assert result.provenance.caveats == (CAVEAT_SOL_PRECISION,)


BROKEN = [
    ("body", ["not", "an", "object"]),
    ("balanceRaw", answer(balanceRaw=None)),
    ("balanceRaw", answer(balanceRaw="12.5")),
    ("balanceRaw", answer(balanceRaw="-1", balance="-0.000001")),
    ("balance", answer(balance=Decimal("284961463.392936"))),
    ("balance", answer(balance="284961463.392937")),
    ("balance", answer(balance="lots")),
    ("decimals", answer(decimals="six")),
    ("decimals", answer(decimals=300)),
    ("isNative", answer(isNative="false")),
    ("isNative", answer(isNative=True)),
    ("wallet", answer(wallet="5tzFkiKscXHK5ZXCGbXZxdw7gTjjD1mBwuoFbhUvuAi9")),
    ("mint", answer(mint=WRAPPED_SOL_MINT)),
    ("requested", answer(requested=None)),
    ("requested.time", answer(requested={"time": 1, "slot": None, "datetime": None})),
    ("asOf", answer(asOf="yesterday")),
    ("asOf", answer(asOf=None)),
    ("asOf", answer(asOf={"slot": 1, "blockTime": 1736536801, "signature": "s"})),
    ("asOf.slot", answer(asOf={"blockTime": 1, "signature": "s"})),
    ("asOf.signature", answer(asOf={"slot": 1, "blockTime": 1})),
    ("asOf.blockTime", answer(asOf={"slot": 1, "blockTime": "noon", "signature": "s"})),
]


@pytest.mark.parametrize(("field", "body"), BROKEN)
def test_malformed_answer_names_the_field(field, body):
    with pytest.raises(ResponseError) as caught:
        parse(copy.deepcopy(body))
    assert caught.value.field == field
    assert caught.value.provider == "helius"
    assert field in str(caught.value)


def test_missing_fields_are_named():
    for key in ("wallet", "mint", "isNative", "balance", "balanceRaw", "decimals",
                "requested", "asOf"):
        body = answer()
        del body[key]
        with pytest.raises(ResponseError) as caught:
            parse(body)
        assert caught.value.field == key
        assert "is missing" in str(caught.value)


def test_slot_answer_after_the_requested_slot_is_refused():
    body = answer(requested={"time": None, "slot": 313000000, "datetime": None},
                  asOf={"slot": 313000001, "blockTime": 1, "signature": "s"})
    with pytest.raises(ResponseError, match="after the requested point slot:313000000"):
        parse(body, query(point=SLOT))
