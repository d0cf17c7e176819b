"""``asof history`` and ``asof holdings``: balance changes and USD holdings over a range.

Both take one or more ``CHAIN:WALLET`` arguments; wallets on different chains are asked
chain by chain (one history query covers one chain). Progress goes to stderr while
pages are fetched; records go to stdout in the ``--format`` chosen. ``asof history
--format jsonl`` writes the canonical JSON lines ``asof import`` reads back.

``asof holdings --plot FILE.png`` also draws the USD value over time, one line per
wallet (matplotlib, from the ``plot`` extra, imported only then, Agg backend).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from asof.cli.common import (
    WALLET,
    CliState,
    Column,
    Output,
    output,
    output_option,
    pass_state,
    progress,
    table_columns,
    time_range_options,
)
from asof.errors import InputError
from asof.exact import to_decimal
from asof.queries import HistoryQuery, by_chain
from asof.records import BalanceChange, Capability, HoldingsPoint, Wallet

if TYPE_CHECKING:
    from asof.client import AsyncClient

__all__ = ["COMMANDS", "history", "holdings", "plot_holdings", "require_matplotlib",
           "usd_text", "wallet_label"]

#: The granularities holdings providers take (Allium's set).
GRANULARITIES = ("15s", "1m", "5m", "1h", "1d")


def wallet_label(wallet: Wallet) -> str:
    """A short label for a wallet: ``chain:head…tail`` for long addresses."""
    address = wallet.address
    if len(address) > 14:
        address = f"{address[:6]}…{address[-4:]}"
    return f"{wallet.chain}:{address}"


async def _fetch(
    client: AsyncClient,
    state: CliState,
    queries: Sequence[HistoryQuery],
    out: Output,
    what: str,
    keep: Callable[[Any], None] | None = None,
) -> None:
    with progress(state, f"{what}: fetching") as bar:
        pages = 0
        for query in queries:
            async for provider, page in client.pages(query):
                pages += 1
                bar.update(description=f"{what} on {query.chain} from {provider}: "
                           f"page {pages}")
                for item in page.items:
                    out.write(item)
                    if keep is not None:
                        keep(item)
                bar.advance(len(page.items))


# ---------------------------------------------------------------------------- history


def _token_text(change: BalanceChange) -> str:
    return change.token.symbol or change.token.address


def _balance_text(change: BalanceChange) -> str:
    return str(change.balance)


HISTORY_COLUMNS: tuple[Column, ...] = (
    ("time", "block.timestamp"),
    ("wallet", "wallet"),
    ("token", _token_text),
    ("account", "token_account"),
    ("balance", _balance_text),
    ("block", "block.number"),
    ("transaction", "block.transaction"),
)


@click.command("history")
@click.argument("wallets", nargs=-1, required=True, type=WALLET)
@time_range_options(required=True)
@click.option(
    "--token", "tokens", multiple=True, metavar="TOKEN",
    help="Only changes of this token: a symbol (USDC, SOL, ETH), an address or mint, or "
         "'native'. Repeat for several.",
)
@output_option
@pass_state
def history(
    state: CliState,
    wallets: tuple[Wallet, ...],
    start: datetime,
    end: datetime,
    tokens: tuple[str, ...],
) -> None:
    """Every balance change of the wallets' tokens from --from (inclusive) to --to
    (exclusive).

    WALLETS are CHAIN:ADDRESS, for example solana:GQUtvPx89ZNCwmvQqFmH59bJcU8fW8siETpaxod7Aydz.
    Each row is the balance after a change, with the block (slot) and transaction it
    happened in. With --format jsonl the output is canonical records that
    `asof import` reads back.
    """
    from asof.cli.common import run_client

    async def run(client: AsyncClient) -> None:
        queries = client.history_queries(wallets, start=start, end=end, tokens=tokens)
        with output(state, columns=table_columns(state, HISTORY_COLUMNS)) as out:
            await _fetch(client, state, queries, out, "history")

    run_client(state, run)


# ---------------------------------------------------------------------------- holdings


def _tokens_count(point: HoldingsPoint) -> Any:
    return None if point.breakdown is None else len(point.breakdown)


def _largest(point: HoldingsPoint) -> Any:
    if not point.breakdown:
        return None
    top = max(point.breakdown, key=lambda h: h.usd)
    return f"{top.token} ({usd_text(top.usd)} USD)"


def usd_text(value: Decimal) -> str:
    """A USD value to the cent at least (``0.00``, ``1007030.20``), exact: digits beyond
    the cent are kept, never rounded away."""
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent > -2:
        value = value.quantize(Decimal("0.01"))
    return format(value, "f")


def _usd(point: HoldingsPoint) -> str:
    return usd_text(point.usd)


HOLDINGS_COLUMNS: tuple[Column, ...] = (
    ("time", "timestamp"),
    ("wallet", "wallet"),
    ("usd", _usd),
)
BREAKDOWN_COLUMNS: tuple[Column, ...] = (
    ("tokens", _tokens_count),
    ("largest", _largest),
)


def _decimal_option(
    _ctx: click.Context, param: click.Parameter, value: str | None
) -> Decimal | None:
    if value is None:
        return None
    try:
        amount = to_decimal(value, field=param.name or "value")
    except InputError:
        raise click.BadParameter(f"{value!r} is not a number") from None
    if amount < 0:
        raise click.BadParameter("must not be negative")
    return amount


def require_matplotlib() -> None:
    """Raise a usage error unless matplotlib can be imported (checked before any call
    is spent on a ``--plot``)."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise click.UsageError(
            "--plot needs matplotlib: install asof with the plot extra (pip install 'asof[plot]')"
        ) from None


def _dollars(value: float, places: int) -> str:
    """A tick label: ``$1,234.50``, ``-$0.02``, never ``$-0.02``."""
    text = f"${abs(value):,.{places}f}"
    return text if value >= 0 or text == f"${0:,.{places}f}" else "-" + text


def plot_holdings(
    points: Sequence[HoldingsPoint],
    path: str | Path,
    *,
    wallets: Sequence[Wallet] | None = None,
    title: str | None = None,
) -> Any:
    """Draw the USD value of each wallet over time into a PNG at ``path``.

    One line per wallet (in ``wallets`` order when given, else in order of first
    appearance; a wallet without points still gets its legend entry), dates on the x
    axis, dollars on the y axis. Returns the matplotlib ``Figure``. USD values become
    floats here only to be drawn. Needs the ``plot`` extra (matplotlib).
    """
    require_matplotlib()
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.dates import AutoDateLocator, ConciseDateFormatter, date2num
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter

    order = list(wallets) if wallets is not None else []
    series: dict[Wallet, list[HoldingsPoint]] = {w: [] for w in order}
    for point in points:
        series.setdefault(point.wallet, []).append(point)

    figure = Figure(figsize=(10, 5.5), layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    for wallet, found in series.items():
        found.sort(key=lambda p: p.timestamp)
        stamps = [p.timestamp for p in found]
        times = date2num(stamps) if found else []  # type: ignore[no-untyped-call]
        values = [float(p.usd) for p in found]  # drawing only
        marker = "." if len(found) < 60 else None
        axes.plot(times, values, label=wallet_label(wallet), marker=marker)
    axes.xaxis_date(tz="UTC")
    locator = AutoDateLocator(tz="UTC")  # type: ignore[no-untyped-call]
    axes.xaxis.set_major_locator(locator)
    axes.xaxis.set_major_formatter(
        ConciseDateFormatter(locator, tz="UTC")  # type: ignore[no-untyped-call]
    )
    largest = max((abs(p.usd) for p in points), default=Decimal(0))
    places = 0 if largest >= 100 else 2  # cents matter on a small wallet's axis
    axes.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: _dollars(v, places)))
    if all(p.usd >= 0 for p in points):
        axes.set_ylim(bottom=0)  # holdings are never negative: no axis below zero
    axes.set_xlabel("time (UTC)")
    axes.set_ylabel("holdings (USD)")
    axes.set_title(title or "Holdings in USD")
    axes.grid(True, alpha=0.3)
    if series:
        axes.legend(loc="best", fontsize="small")
    figure.savefig(str(path), dpi=120, format="png")
    return figure


@click.command("holdings")
@click.argument("wallets", nargs=-1, required=True, type=WALLET)
@time_range_options(required=True)
@click.option(
    "--granularity", "-g", required=True, metavar="G",
    help=f"Grid step: one of {', '.join(GRANULARITIES)}. The finest allowed depends on "
         "the range (see docs/providers/allium.md).",
)
@click.option("--breakdown", is_flag=True, help="Include the USD value per token.")
@click.option(
    "--min-liquidity", type=str, default=None, metavar="USD", callback=_decimal_option,
    help="Leave out tokens whose market liquidity is below this many USD.",
)
@click.option(
    "--plot", "plot_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
    metavar="FILE.png", help="Also draw the USD value over time, one line per wallet.",
)
@output_option
@pass_state
def holdings(
    state: CliState,
    wallets: tuple[Wallet, ...],
    start: datetime,
    end: datetime,
    granularity: str,
    breakdown: bool,
    min_liquidity: Decimal | None,
    plot_path: Path | None,
) -> None:
    """The USD value of the wallets' holdings on a time grid, newest first.

    WALLETS are CHAIN:ADDRESS. A wallet with no holdings shows as zero. With --plot the
    values are also drawn into a PNG.
    """
    from asof.cli.common import run_client

    queries = [
        HistoryQuery(
            capability=Capability.HOLDINGS_HISTORY,
            wallets=group,
            start=start,
            end=end,
            granularity=granularity.strip().lower(),
            breakdown=breakdown,
            min_liquidity=min_liquidity,
        )
        for group in by_chain(wallets).values()
    ]
    if plot_path is not None:
        require_matplotlib()  # before any paid call
    columns = HOLDINGS_COLUMNS + (BREAKDOWN_COLUMNS if breakdown else ())
    kept: list[HoldingsPoint] = []

    async def run(client: AsyncClient) -> None:
        with output(state, columns=table_columns(state, columns)) as out:
            await _fetch(client, state, queries, out, "holdings",
                         kept.append if plot_path is not None else None)

    run_client(state, run)
    if plot_path is not None:
        title = (f"Holdings in USD, {_day(start)} to {_day(end)} ({granularity})")
        plot_holdings(kept, plot_path, wallets=list(dict.fromkeys(wallets)), title=title)
        click.echo(f"asof: plot written to {plot_path}", err=True)


def _day(moment: datetime) -> str:
    text = moment.isoformat().replace("+00:00", "Z")
    return text[:10] if text.endswith("T00:00:00Z") else text


COMMANDS: list[click.Command] = [history, holdings]
