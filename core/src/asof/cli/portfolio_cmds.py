"""The ``portfolio`` command, and the ``--value usd`` rows shared with ``balance-at``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from asof.cli.common import (
    POINT,
    WALLET,
    CliState,
    Column,
    emit,
    format_cell,
    output_option,
    pass_state,
    run_client,
)
from asof.frames import rows
from asof.records import Point, Token, Wallet

if TYPE_CHECKING:
    from collections.abc import Sequence

    from asof.archive.series import SeriesPoint
    from asof.client import AsyncClient
    from asof.portfolio import Holding, Portfolio
    from asof.prices import Valuation

__all__ = ["COMMANDS", "portfolio", "valuation_view", "value_option"]

#: ``--value usd``: add each amount's value at the moment, at the price at that moment.
value_option = click.option(
    "--value", "value", type=click.Choice(["usd"], case_sensitive=False), default=None,
    help="Add the value at the moment: the amount at T times the price at T (never "
    "today's price); a token without a price at T has no value and says why.")


def valuation_view(valued: Valuation | None) -> dict[str, Any]:
    """The value columns of a valuation as a person reads them."""
    if valued is None:
        return {}
    price = valued.price
    view: dict[str, Any] = {
        "usd": "-" if valued.value is None else format_cell(valued.value),
        "price": None if price is None else format_cell(price.usd),
        "price time": None if price is None else price.time,
        "price source": None if price is None else price.provenance.provider,
    }
    if valued.note:
        view["no value"] = valued.note
    return view


def value_series(state: CliState, token: Token, points: Sequence[SeriesPoint],
                 rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Series rows with each point valued at the price at that point's time (a point
    the archive does not cover has no amount and so no value)."""

    async def price_all(client: AsyncClient) -> list[Valuation | None]:
        return [None if p.amount is None else await client.value_at(token, p.amount, p.time)
                for p in points]

    valued = run_client(state, price_all)
    return [{**row, **valuation_view(found)} for row, found in zip(rows, valued, strict=True)]


def _amount(holding: Holding) -> str:
    if holding.amount.value is None:
        return f"{holding.amount.raw} base units (decimals unknown)"
    return f"{holding.amount} {holding.token.symbol or ''}".strip()


def _row(portfolio: Portfolio, holding: Holding, valued: bool) -> dict[str, Any]:
    token = holding.token
    row: dict[str, Any] = {
        "wallet": str(portfolio.wallet),
        "symbol": token.symbol or "?",
        "address": token.address,
        "amount": _amount(holding),
        "raw": str(holding.amount.raw),
        "decimals": holding.amount.decimals,
        "accounts": len(holding.token_accounts) or None,
        "provider": holding.provenance.provider
        + (" (archive)" if holding.provenance.archived else ""),
        "answer": "derived from history" if holding.provenance.derived else "direct",
    }
    if valued:
        row.update({k: v for k, v in valuation_view(holding.valuation).items()
                    if k != "no value"})
    return row


_COLUMNS: list[Column] = [("token", "symbol"), ("address", "address"), ("amount", "amount"),
                          ("raw", "raw"), ("accounts", "accounts"), ("provider", "provider")]
_VALUE_COLUMNS: list[Column] = [("usd", "usd"), ("price", "price"),
                                ("price time", "price time")]


def _notes(portfolio: Portfolio, valued: bool) -> list[str]:
    notes = [f"{portfolio.wallet}: may miss: {line}" for line in portfolio.may_miss]
    if portfolio.spam_policy:
        notes.append(f"{portfolio.wallet}: spam policy applied ({portfolio.spam_policy}); "
                     f"{len(portfolio.hidden)} token(s) hidden")
    if valued:
        for holding in portfolio.holdings:
            if holding.valuation is not None and holding.valuation.note:
                notes.append(f"{portfolio.wallet}: {holding.token}: no value: "
                             f"{holding.valuation.note}")
    return notes


@click.command("portfolio", short_help="Every token the wallets held at a moment.")
@click.argument("wallets", type=WALLET, nargs=-1, required=True, metavar="CHAIN:WALLET...")
@click.option("--at", "at", type=POINT, required=True,
              help="The moment: a time or date (UTC unless an offset is given), epoch "
              "seconds, or slot:N / block:N.")
@click.option("--include-zero", is_flag=True,
              help="Also list tokens held before whose balance is zero at the moment.")
@value_option
@output_option
@pass_state
def portfolio(state: CliState, wallets: tuple[Wallet, ...], at: Point, include_zero: bool,
              value: str | None) -> None:
    """Every token each wallet held as of a moment, with exact amounts and provenance.

    Tokens are found from a provider that answers a whole portfolio, else from the
    wallet's balance history from its beginning (the archive's where it proves it);
    an exchange account lists its collateral. What the answer may have missed, and the
    spam policy applied ([portfolio] in the configuration), are stated on stderr in
    table and CSV form and inside each record in JSON and JSONL.

    \b
    Examples:
      asof portfolio solana:GQUtvPx89ZNCwmvQqFmH59bJcU8fW8siETpaxod7Aydz --at 2025-03-01
      asof portfolio solana:GQUt...Aydz eth:0xd8dA...6045 --at 2025-12-31 --value usd
    """

    async def ask(client: AsyncClient) -> Any:
        return await client.portfolio(list(wallets), at=at, include_zero=include_zero,
                                      value=value)

    found = run_client(state, ask)
    valued = value is not None
    if state.format == "table":
        for held in found:  # one table per wallet, titled with it
            emit(state, [_row(held, h, valued) for h in held.holdings], columns=_COLUMNS
                 + (_VALUE_COLUMNS if valued else []), title=str(held.wallet))
    elif state.format == "csv":
        emit(state, rows(found))
    else:
        emit(state, list(found))
    if state.format in ("table", "csv"):
        for portfolio_ in found:
            for line in _notes(portfolio_, valued):
                click.echo(f"note: {line}", err=True)


#: The commands this module adds to the ``asof`` group.
COMMANDS: list[click.Command] = [portfolio]
