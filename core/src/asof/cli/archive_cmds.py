"""Commands for the embedded archive: ``sync``, ``series``, ``import``, ``export`` and
``archive info|clear``.

::

    asof sync CHAIN:WALLET [--from TIME] [--to TIME] [--token TOKEN ...] [--provider NAME]
    asof series CHAIN:WALLET TOKEN --from TIME --to TIME [--every 1d]
    asof import FILE [--format jsonl|csv] [--complete-from TIME] [--complete-to TIME]
    asof export [--format jsonl|csv] [--wallet CHAIN:WALLET] [--chain CHAIN] [--token TOKEN]
                [--kind KIND ...] [--provider NAME] [--from TIME] [--to TIME] [--output FILE]
    asof archive info
    asof archive clear [--wallet CHAIN:WALLET] [--yes]

``sync`` needs a provider; the others read and write the archive alone (no network).
Progress and notes go to stderr, records and tables to stdout.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any

import click

from asof.archive import Archive, Coverage, SeriesPoint, open_archive
from asof.archive.io import EXPORT_KINDS, export, import_file
from asof.archive.pull import PullReport, pull
from asof.chains import resolve_chain
from asof.cli.common import (
    CHAIN,
    TIME,
    WALLET,
    CliState,
    Column,
    emit,
    format_cell,
    output_option,
    pass_state,
    progress,
    run_client,
    time_range_options,
)
from asof.cli.portfolio_cmds import value_option, value_series
from asof.errors import ArchiveError
from asof.queries import HistoryQuery
from asof.records import Capability, Page, Wallet
from asof.tokens import resolve_token

if TYPE_CHECKING:
    from asof.client import AsyncClient

__all__ = ["COMMANDS", "archive", "export_cmd", "import_cmd", "series", "sync"]


def _note(text: str) -> None:
    click.echo(text, err=True)


@contextmanager
def _archive(state: CliState) -> Iterator[Archive]:
    """The archive of the configuration (``--config``), opened for one command."""
    from asof.config import load_config

    config = load_config(state.config)
    opened = open_archive(config)
    if opened is None:
        raise ArchiveError("the archive is disabled ([archive] enabled = false or "
                           "ASOF_ARCHIVE_ENABLED=false in the environment)")
    try:
        yield opened
    finally:
        opened.close()


def _when(value: datetime | None) -> str:
    return "the beginning" if value is None else format_cell(value)


# ---------------------------------------------------------------------------- sync


@click.command("sync", short_help="Pull a wallet's history into the archive, resumably.")
@click.argument("wallet", type=WALLET, metavar="CHAIN:WALLET")
@time_range_options()
@click.option("--token", "tokens", multiple=True, metavar="TOKEN",
              help="Only this token (repeat for several); default: every token.")
@click.option("--provider", metavar="NAME",
              help="The provider to pull from (default: the route's first).")
@click.option("--ledger", is_flag=True,
              help="Pull an exchange account's ledger (the default on venues such as "
              "pacifica).")
@click.option("--page-size", type=click.IntRange(min=1), metavar="N",
              help="Items per page to ask for (a hint).")
@click.option("--restart", is_flag=True,
              help="Forget an earlier run of the same range and start from the first page.")
@pass_state
def sync(
    state: CliState,
    wallet: Wallet,
    start: datetime | None,
    end: datetime | None,
    tokens: tuple[str, ...],
    provider: str | None,
    ledger: bool,
    page_size: int | None,
    restart: bool,
) -> None:
    """Pull the history of CHAIN:WALLET over [--from, --to) into the archive.

    Pages are stored one transaction each, with the cursor of the next page: stop it at
    any time (Ctrl-C) and run the same command again to continue from the last stored
    page. When the last page is in, the range is recorded as complete and balances
    inside it are answered from the archive. Only data older than the chain's finality
    horizon is kept.

    \b
    Examples:
      asof sync solana:GQUtvPx8...Aydz --from 2025-01-01 --to 2025-04-01
      asof sync solana:GQUtvPx8...Aydz --token USDC --from 2025-01-01 --to 2025-02-01
      asof sync pacifica:42trU9A5...
    """
    venue = resolve_chain(wallet.chain).venue
    capability = Capability.ACCOUNT_LEDGER if ledger or venue else Capability.BALANCE_HISTORY
    if tokens and capability is Capability.ACCOUNT_LEDGER:
        raise click.UsageError("--token applies to balance histories, not ledgers")
    query = HistoryQuery(
        capability=capability, wallets=(wallet,), start=start, end=end,
        tokens=tuple(resolve_token(wallet.chain, t) for t in tokens), page_size=page_size)

    async def run(client: AsyncClient) -> PullReport:
        archive = client.archive
        if isinstance(archive, Archive) and not restart:
            before = archive.sync_state(query)
            if before is not None and not before.done and before.cursor is not None:
                _note(f"resuming after page {before.pages} from {before.provider}")
        with progress(state, f"sync {wallet}") as bar:

            def on_page(name: str, page: Page[Any]) -> None:
                bar.update(description=f"sync {wallet} from {name}")
                bar.advance(len(page.items))

            return await pull(client, query, provider=provider, restart=restart,
                              on_page=on_page)

    report = run_client(state, run)
    span = f"{_when(start)} to {'now' if end is None else format_cell(end)}"
    if report.already_complete:
        _note(f"{wallet} {capability} from {span} is already complete in the archive "
              f"({report.total_items} items from {report.provider}); --restart to pull "
              "it again")
        return
    _note(f"synced {wallet} {capability} from {span}: {report.pages} page(s), "
          f"{report.items} item(s) from {report.provider} in this run "
          f"({report.total_pages} page(s), {report.total_items} item(s) in all); "
          "the range is complete in the archive")


# ---------------------------------------------------------------------------- series


def _series_row(point: SeriesPoint, symbol: str, unit: str) -> dict[str, Any]:
    amount = point.amount
    as_of = point.as_of
    return {
        "time": point.time,
        "balance": None if amount is None else
        (f"{amount} {symbol}".strip() if amount.value is not None else f"{amount.raw} raw"),
        "value": None if amount is None else amount.value,
        "raw": None if amount is None else str(amount.raw),
        "decimals": None if amount is None else amount.decimals,
        unit: None if as_of is None else as_of.number,
        "as_of": None if as_of is None else as_of.timestamp,
        "transaction": None if as_of is None else as_of.transaction,
        "provider": point.provider,
    }


@click.command("series", short_help="A wallet's balance on a time grid, from the archive.")
@click.argument("wallet", type=WALLET, metavar="CHAIN:WALLET")
@click.argument("token", metavar="TOKEN")
@time_range_options(required=True)
@click.option("--every", default="1d", show_default=True, metavar="STEP",
              help="Grid step: 1d, 1h, 15m, 30s, 2w or a number of seconds.")
@value_option
@output_option
@pass_state
def series(state: CliState, wallet: Wallet, token: str, start: datetime, end: datetime,
           every: str, value: str | None = None) -> None:
    """The balance of TOKEN held by CHAIN:WALLET at every grid point in [--from, --to).

    Points sit on boundaries of the step counted from 1970-01-01 UTC (midnight for 1d,
    the hour for 1h), like holdings histories. Each value is the balance after the last
    change at or before the point, from the archive alone: a point outside the ranges
    the archive holds completely is shown as "-", never as zero (run `asof sync` for
    that range first).

    \b
    Example:
      asof series solana:GQUtvPx8...Aydz USDC --from 2025-01-01 --to 2025-02-01
      asof series solana:GQUtvPx8...Aydz SOL --from 2025-03-01 --to 2025-03-02 --every 1h
    """
    resolved = resolve_token(wallet.chain, token)
    unit = resolve_chain(wallet.chain).point_unit
    with _archive(state) as store:
        known_token = store.token(wallet, resolved)
        points = store.series(wallet, known_token, start=start, end=end, every=every)
    symbol = known_token.symbol or ""
    rows = [_series_row(p, symbol, unit) for p in points]
    missing = sum(1 for p in points if p.amount is None)
    columns: list[Column] | None = None
    if state.format == "table":
        columns = [("time", "time"), ("balance", "balance"), ("raw", "raw"),
                   (f"as of {unit}", unit), ("as of", "as_of"), ("provider", "provider")]
    if value is not None:
        rows = value_series(state, known_token, points, rows)
        if columns is not None:
            columns += [("usd", "usd"), ("price", "price"), ("price time", "price time")]
    emit(state, rows, columns=columns)
    if missing:
        _note(f"note: {missing} of {len(points)} point(s) are outside what the archive "
              f"holds completely; run `asof sync {wallet} --from ... --to ...` for them")


# ---------------------------------------------------------------------------- import


@click.command("import", short_help="Load JSONL or CSV records into the archive.")
@click.argument("file", metavar="FILE")
@click.option("--format", "fmt", type=click.Choice(["jsonl", "csv"], case_sensitive=False),
              help="The file's format (default: csv for a .csv name, else jsonl).")
@click.option("--complete-from", type=TIME, metavar="TIME",
              help="With --complete-to: the file holds every change of its wallets from "
              "this time on (omit for 'since the beginning').")
@click.option("--complete-to", type=TIME, metavar="TIME",
              help="The end (exclusive) of the range the file holds completely.")
@pass_state
def import_cmd(state: CliState, file: str, fmt: str | None, complete_from: datetime | None,
               complete_to: datetime | None) -> None:
    """Load the records of FILE (``-`` for standard input) into the archive.

    FILE is JSONL (what `asof export` and `--format jsonl` write: one record per line
    with a "kind") or CSV (a "kind" column and one column per field). The import is one
    transaction: if any record is bad, nothing is stored and the error names the line
    and the field. Records already in the archive are skipped.

    Balances are answered from imported records only inside ranges known to be
    complete: "coverage" lines in the file, or --complete-from/--complete-to, which
    declare that the file holds every balance change (and ledger entry) of each wallet
    in it over that range.
    """
    if complete_from is not None and complete_to is None:
        raise click.UsageError("--complete-from needs --complete-to")
    complete = None if complete_to is None else (complete_from, complete_to)
    with _archive(state) as store:
        result = import_file(store, file, fmt=fmt, complete=complete)
    _note(f"imported {result.records} record(s) from {result.source} into {store.name} "
          f"({result.stored} new)")


# ---------------------------------------------------------------------------- export


@click.command("export", short_help="Write the archive's records as JSONL or CSV.")
@click.option("--format", "fmt", type=click.Choice(["jsonl", "csv"], case_sensitive=False),
              default="jsonl", show_default=True, help="Output format.")
@click.option("--wallet", type=WALLET, metavar="CHAIN:WALLET", help="Only this wallet.")
@click.option("--chain", type=CHAIN, help="Only this chain.")
@click.option("--token", metavar="TOKEN",
              help="Only this token (needs --wallet or --chain); leaves out coverage, "
              "ledgers and holdings.")
@click.option("--kind", "kinds", multiple=True, type=click.Choice(list(EXPORT_KINDS)),
              help="Only records of this kind (repeat for several).")
@click.option("--provider", metavar="NAME", help="Only records from this provider.")
@time_range_options()
@click.option("--output", "-o", "output_file", type=click.Path(dir_okay=False),
              help="Write to this file instead of standard output.")
@pass_state
def export_cmd(state: CliState, fmt: str, wallet: Wallet | None, chain: str | None,
               token: str | None, kinds: tuple[str, ...], provider: str | None,
               start: datetime | None, end: datetime | None,
               output_file: str | None) -> None:
    """Write the archive's records, coverage included, in the form `asof import` reads.

    Export and import move an archive between machines or keep a copy of it.
    """
    if token is not None and wallet is None and chain is None:
        raise click.UsageError("--token needs --wallet or --chain")
    filters: dict[str, Any] = {"wallet": wallet, "chain": chain, "provider": provider,
                               "start": start, "end": end}
    if token is not None:
        filters["token"] = resolve_token(wallet.chain if wallet else str(chain), token)
    with _archive(state) as store:
        if output_file is None:
            count = export(store, sys.stdout, fmt=fmt.lower(), kinds=kinds, **filters)
        else:
            with open(output_file, "w", encoding="utf-8", newline="") as out:
                count = export(store, out, fmt=fmt.lower(), kinds=kinds, **filters)
    _note(f"exported {count} record(s)" + (f" to {output_file}" if output_file else ""))


# ---------------------------------------------------------------------------- archive


def _coverage_row(item: Coverage) -> dict[str, Any]:
    if item.axis == "time":
        start: Any = item.start
        end: Any = item.end
    else:
        unit = resolve_chain(item.wallet.chain).point_unit
        start = None if item.start_block is None else f"{unit}:{item.start_block}"
        end = f"{unit}:{item.end_block}"
    return {"wallet": str(item.wallet), "capability": item.capability.value,
            "scope": "all tokens" if item.scope == "*" else item.scope,
            "provider": item.provider, "from": start if start is not None else "beginning",
            "to": end}


def _size(size: int | None) -> str:
    if size is None:
        return "in memory"
    value = float(size)
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} bytes"


@click.group("archive", short_help="Inspect or clear the archive.")
def archive() -> None:
    """The embedded archive: where it is, what it holds, and clearing it."""


@archive.command("info")
@output_option
@pass_state
def info(state: CliState) -> None:
    """Where the archive is, its size and schema, what it holds and which ranges are
    complete."""
    with _archive(state) as store:
        found = store.info()
    coverage = [_coverage_row(c) for c in found.coverage]
    syncs = [{"provider": s.provider, "pages": s.pages, "items": s.items,
              "state": "complete" if s.done else ("last page stored" if s.exhausted
                                                  else "interrupted (rerun to resume)"),
              "updated": s.updated, "query": key} for key, s in found.syncs]
    summary = {"path": found.path, "size": _size(found.size),
               "schema version": found.schema_version,
               **{name.replace("_", " "): n for name, n in found.counts.items()}}
    if state.format != "table":
        emit(state, {**summary, "coverage": coverage, "syncs": syncs})
        return
    emit(state, summary)
    if coverage:
        click.echo()
        emit(state, coverage, columns=[("wallet", "wallet"), ("history", "capability"),
                                       ("scope", "scope"), ("provider", "provider"),
                                       ("from", "from"), ("to", "to")])


@archive.command("clear")
@click.option("--wallet", type=WALLET, metavar="CHAIN:WALLET",
              help="Only this wallet's records, coverage and sync state.")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@pass_state
def clear(state: CliState, wallet: Wallet | None, yes: bool) -> None:
    """Delete everything in the archive (or one wallet's part of it).

    The file stays, empty; delete the file itself to remove the archive entirely.
    """
    with _archive(state) as store:
        what = f"everything about {wallet}" if wallet else "everything"
        if not yes and not click.confirm(f"Delete {what} in the archive {store.name}?",
                                         err=True):
            raise click.Abort()
        removed = store.clear(wallet)
    _note(f"removed {removed} row(s) from {store.name}")


#: The commands this module adds to the ``asof`` group.
COMMANDS: list[click.Command] = [sync, series, import_cmd, export_cmd, archive]
