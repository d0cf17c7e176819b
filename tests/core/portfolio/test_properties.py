"""Property tests: a derived portfolio equals the model's truth for any history and
moment; the spam settings and the DefiLlama reader refuse bad input with typed errors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from asof.errors import AsofError, ConfigError, ResponseError
from asof.portfolio import portfolio_settings
from asof.portfolio.derive import holdings_from_changes
from asof.prices import Price
from asof.records import Amount, BalanceChange, BlockRef, Point, Provenance, Token, Wallet
from asof_defillama.parse import parse_price

W = Wallet(chain="solana", address="GQUtvPx89ZNCwmvQqFmH59bJcU8fW8siETpaxod7Aydz")
MINTS = [Token(chain="solana", address=a, standard="spl", decimals=6) for a in (
    "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v",
    "DezXAZ8z7PnrnRJjz3wXBoRgixCa6xjnB7YaB1pPB263",
    "Es9vMFrzaCERmJfrF4H2FYD4KCoNkY11McCe8BenwNYB")]
ACCOUNTS = [f"TokenAccount{c}111111111111111111111111111111" for c in "ABCD"]
T0 = datetime(2025, 1, 1, tzinfo=UTC)
PROV = Provenance(provider="model", derived=True)

changes_strategy = st.lists(st.tuples(st.integers(0, 2), st.integers(0, 3),
                                      st.integers(0, 10_000), st.integers(0, 2**100)),
                            max_size=30)


@settings(max_examples=80, deadline=None)
@given(moves=changes_strategy, probe=st.integers(0, 10_001))
def test_derived_portfolio_is_the_model(moves: list[tuple[int, int, int, int]],
                                        probe: int) -> None:
    # each (mint, account, second, balance) sets that account's balance at that second
    changes = [BalanceChange(wallet=W, token=MINTS[m], token_account=ACCOUNTS[a],
                             balance=Amount(raw=raw, decimals=6),
                             block=BlockRef(number=s, index=n,
                                            timestamp=T0 + timedelta(seconds=s)),
                             provenance=PROV)
               for n, (m, a, s, raw) in enumerate(moves)]
    point = Point(time=T0 + timedelta(seconds=probe))
    # the model: replay in (second, order) and keep each account's last balance
    last: dict[tuple[str, str], int] = {}
    for _, (m, a, s, raw) in sorted(enumerate(moves), key=lambda e: (e[1][2], e[0])):
        if s <= probe:
            last[(MINTS[m].address, ACCOUNTS[a])] = raw
    truth: dict[str, int] = {}
    for (mint, _), raw in last.items():
        truth[mint] = truth.get(mint, 0) + raw
    found = holdings_from_changes(changes, W, point, provenance=PROV)
    assert {h.token.address: h.amount.raw for h in found} == \
        {m: r for m, r in truth.items() if r}


@settings(max_examples=80, deadline=None)
@given(body=st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=5)
                         | st.decimals(allow_nan=True),
                         lambda inner: st.lists(inner, max_size=3)
                         | st.dictionaries(st.sampled_from(
                             ["coins", "coingecko:solana", "price", "timestamp",
                              "confidence", "symbol"]), inner, max_size=4),
                         max_leaves=12))
def test_the_price_reader_refuses_with_a_typed_error(body: Any) -> None:
    token = Token(chain="solana", address="So11111111111111111111111111111111111111111")
    try:
        found = parse_price(body, token, "coingecko:solana", T0, fetched_at=T0,
                            search_width="1h")
    except ResponseError:
        return
    assert found is None or (isinstance(found, Price) and isinstance(found.usd, Decimal))


@pytest.mark.parametrize(("table", "message"), [
    ({"colour": 1}, "unknown key 'colour'"),
    ({"price_tolerance": "soon"}, "price_tolerance"),
    ({"price_tolerance": "0h"}, "price_tolerance"),
    ({"min_value_usd": 1.5}, "min_value_usd"),
    ({"allow": "solana:x"}, "allow: expected a list"),
])
def test_bad_portfolio_settings_are_config_errors(table: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        portfolio_settings(table)


def test_settings_read_every_key() -> None:
    found = portfolio_settings({"allow": ["a"], "deny": ["b"], "min_value_usd": "2.5",
                                "price_tolerance": "30m"})
    assert found.tolerance == timedelta(minutes=30)
    assert found.spam.describe() == ("allow list of 1 tokens; deny list of 1 tokens; "
                                     "minimum value 2.5 USD (tokens without a value are kept)")
    assert portfolio_settings({}).spam.active is False


def test_a_bad_portfolio_table_is_one_line_on_the_command_line(tmp_path: Any) -> None:
    from click.testing import CliRunner

    from asof.cli.app import cli

    config = tmp_path / "asof.toml"
    config.write_text('[asof]\nallow = []\n[archive]\nenabled = false\n'
                      '[portfolio]\nprice_tolerance = "forever"\n')
    result = CliRunner().invoke(cli, ["--config", str(config), "portfolio",
                                      f"{W}", "--at", "2025-03-01"])
    assert result.exit_code != 0
    assert "price_tolerance" in result.stderr
    assert "Traceback" not in result.output
    assert isinstance(ConfigError("x"), AsofError)


EXAMPLE_CONFIG = str(Path(__file__).resolve().parents[3] / "examples" / "asof.toml")


@settings(max_examples=40, deadline=None)
@given(wallet=st.one_of(st.text(max_size=60),
                        st.from_regex(r"\Asolana:[1-9A-HJ-NP-Za-km-z]{0,50}\Z")),
       at=st.one_of(st.text(max_size=30), st.from_regex(r"\A(slot:)?-?[0-9]{1,25}\Z")))
def test_the_command_never_shows_a_traceback(wallet: str, at: str) -> None:
    from click.testing import CliRunner

    from asof.cli.app import cli

    # the offline example: no plugin loads, nothing is sent anywhere
    result = CliRunner().invoke(cli, ["--config", EXAMPLE_CONFIG, "portfolio", "--at", at,
                                      "--", wallet])
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    if result.exit_code != 0:
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
