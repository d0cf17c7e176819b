"""Commands for the embedded archive: ``sync``, ``series``, ``import``, ``export`` and
``archive info|clear``.

::

    asof sync CHAIN:WALLET... | --input FILE [--from TIME] [--to TIME] [--token TOKEN ...]
              [--provider NAME] [--plan] [--budget CREDITS]
    asof series CHAIN:WALLET TOKEN | --input FILE --from TIME --to TIME [--every 1d]
                [--sync] [--plan] [--budget CREDITS] [--workers N | --cluster ADDRESS]
    asof import FILE [--format jsonl|csv] [--complete-from TIME] [--complete-to TIME]
    asof export [--format jsonl|csv] [--wallet CHAIN:WALLET] [--chain CHAIN] [--token TOKEN]
                [--kind KIND ...] [--provider NAME] [--from TIME] [--to TIME] [--output FILE]
    asof archive info
    asof archive check
    asof archive clear [--wallet CHAIN:WALLET] [--yes]
    asof archive copy SOURCE DEST

``sync`` (and ``series --sync``) need a provider; the others read and write the archive
alone (no network).
A damaged archive file is reported as damaged, with where it is and how to move it
aside; ``archive check`` runs SQLite's integrity check on it.
Progress and notes go to stderr, records and tables to stdout.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from asof.archive import Archive, ArchiveSettings, Coverage, SeriesPoint, open_archive
from asof.archive.integrity import check_integrity
from asof.archive.io import EXPORT_KINDS, export, import_file
from asof.archive.pull import PullReport, pull
from asof.archive.series import grid
from asof.archive.settings import archive_settings, damaged_error
from asof.chains import resolve_chain
from asof.cli.bulk_cmds import (
    pairs_from,
    plan_options,
    series_bulk,
    series_cells,
    sync_many,
    wallets_from,
)
from asof.cli.cluster import cluster_options
from asof.cli.common import (
    CHAIN,
    EXIT_FAILURE,
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
from asof.cli.output import pipe_guard
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


@click.command("sync", short_help="Pull wallets' histories into the archive, resumably.")
@click.argument("wallets", type=WALLET, metavar="CHAIN:WALLET...", nargs=-1)
@click.option("--input", "input_file", metavar="FILE",
              help="Sync the wallets of FILE (CSV with a header, or JSONL; column wallet).")
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
@plan_options
@cluster_options
@output_option
@pass_state
def sync(
    state: CliState,
    wallets: tuple[Wallet, ...],
    input_file: str | None,
    start: datetime | None,
    end: datetime | None,
    tokens: tuple[str, ...],
    provider: str | None,
    ledger: bool,
    page_size: int | None,
    restart: bool,
    show_plan: bool,
    budget: str | None,
    cluster: str | None,
    workers: int | None,
) -> None:
    """Pull the history of each CHAIN:WALLET over [--from, --to) into the archive.

    Without --from the pull starts at the beginning of the wallet's history, which is
    what proves balances (a window proves nothing about balances before its first
    change). Many wallets (or --input FILE) are one planned job: pulls of up to the
    provider's wallet limit (15 for Allium); --plan prints the pulls and spends
    nothing, --budget CREDITS refuses a plan that would spend more. --workers N (a
    local Dask cluster) or --cluster tcp://HOST:PORT runs the pulls on a cluster's
    workers, which share the archive and the rate budget the configuration names.

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
      asof sync solana:GQUtvPx8...Aydz solana:9WzDXwBb...AWWM --token USDC
      asof sync --input wallets.csv --plan
    """
    if input_file is not None:
        wallets = (*wallets, *wallets_from(input_file))
    if not wallets:
        raise click.UsageError("give CHAIN:WALLET... or --input FILE")
    many = cluster is not None or workers is not None
    if many or len(wallets) > 1 or input_file is not None or show_plan or budget is not None:
        if ledger or page_size is not None or restart:
            raise click.UsageError("--ledger, --page-size and --restart apply to one wallet")
        sync_many(state, list(dict.fromkeys(wallets)), start=start, end=end, tokens=tokens,
                  provider=provider, show_plan=show_plan, budget=budget,
                  cluster=cluster, workers=workers)
        return
    wallet = wallets[0]
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

            def on_wait() -> None:
                bar.update(description=f"sync {wallet}: waiting for another process "
                           "pulling it")

            return await pull(client, query, provider=provider, restart=restart,
                              on_page=on_page, on_wait=on_wait)

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
    return {"time": point.time,
            **series_cells(point.amount, point.as_of, point.provider, symbol, unit)}


@click.command("series", short_help="Balances on a time grid, from the archive (--sync: "
               "pulling what is missing).")
@click.argument("wallet", type=WALLET, metavar="CHAIN:WALLET", required=False)
@click.argument("token", metavar="TOKEN", required=False)
@click.option("--input", "input_file", metavar="FILE",
              help="The (wallet, token) pairs of FILE (CSV with a header, or JSONL; columns "
              "wallet, token), each a series; rows then begin with wallet and token.")
@time_range_options(required=True)
@click.option("--every", default="1d", show_default=True, metavar="STEP",
              help="Grid step: 1d, 1h, 15m, 30s, 2w or a number of seconds.")
@click.option("--sync", "pull_first", is_flag=True,
              help="First pull what the archive does not prove, as planned: history pulls "
              "of up to the provider's wallet limit, or point calls where no history "
              "provider serves the chain.")
@plan_options
@cluster_options
@value_option
@output_option
@pass_state
def series(state: CliState, wallet: Wallet | None, token: str | None, input_file: str | None,
           start: datetime, end: datetime, every: str, pull_first: bool, show_plan: bool,
           budget: str | None, cluster: str | None = None, workers: int | None = None,
           value: str | None = None) -> None:
    """The balance of TOKEN held by CHAIN:WALLET at every grid point in [--from, --to).

    Points sit on boundaries of the step counted from 1970-01-01 UTC (midnight for 1d,
    the hour for 1h), like holdings histories. Each value is the balance after the last
    change at or before the point. Without --sync it comes from the archive alone: a
    point the archive does not prove is shown as "-", never as zero. With --sync the
    missing points are got first, with the fewest paid calls the planner finds
    (--plan prints that plan and spends nothing; --budget CREDITS refuses a plan that
    would spend more). --workers N (a local Dask cluster) or --cluster tcp://HOST:PORT
    runs the --sync job on a cluster's workers, which share the archive and the rate
    budget the configuration names; the rows are those of one process, in its order.

    \b
    Example:
      asof series solana:GQUtvPx8...Aydz USDC --from 2025-01-01 --to 2025-02-01
      asof series solana:GQUtvPx8...Aydz SOL --from 2025-03-01 --to 2025-03-02 --every 1h
      asof series --input pairs.csv --from 2025-01-01 --to 2026-01-01 --sync --format csv
      asof series --input pairs.csv --from 2025-01-01 --to 2026-01-01 --sync --workers 4
    """
    if input_file is not None:
        if wallet is not None or token is not None:
            raise click.UsageError("give CHAIN:WALLET TOKEN or --input FILE, not both")
        pairs = pairs_from(input_file)
    elif wallet is None or token is None:
        raise click.UsageError("give CHAIN:WALLET TOKEN, or --input FILE")
    else:
        pairs = [(wallet, token)]
    if (cluster is not None or workers is not None) and not (pull_first or show_plan):
        raise click.UsageError("--cluster and --workers run the --sync job on a cluster; "
                               "without --sync the archive alone answers (add --sync)")
    times = grid(start, end, every)  # a bad range or step is refused before anything else
    with_pair = input_file is not None
    if not with_pair and not pull_first and not show_plan and budget is None:
        _series_one(state, pairs[0][0], pairs[0][1], start, end, every, value)
        return
    if value is not None:
        raise click.UsageError("--value usd values the series of one CHAIN:WALLET TOKEN "
                               "from the archive; give it without --input, --sync, --plan "
                               "or --budget")

    def archive_rows() -> Iterator[dict[str, Any]]:
        with _archive(state) as store:
            for who, what in pairs:
                known = store.token(who, resolve_token(who.chain, what))
                unit = resolve_chain(who.chain).point_unit
                for point in store.series(who, known, start=start, end=end, every=every):
                    row: dict[str, Any] = {"wallet": str(who), "token": what}
                    row.update(_series_row(point, known.symbol or "", unit))
                    yield row

    missing = series_bulk(state, pairs, start=start, end=end, every=every,
                          sync=pull_first, show_plan=show_plan, budget=budget,
                          with_pair=with_pair, archive_rows=archive_rows,
                          cluster=cluster, workers=workers)
    if missing:
        _missing_note(missing, len(times) * len(pairs), pairs, pull_first)


def _missing_note(missing: int, total: int, pairs: list[tuple[Wallet, str]],
                  pulled: bool) -> None:
    if pulled:
        _note(f"note: {missing} of {total} point(s) could not be answered; see their "
              "error column")
        return
    who = str(pairs[0][0]) if len(pairs) == 1 else "WALLET..."
    _note(f"note: {missing} of {total} point(s) are outside what the archive proves; "
          "add --sync to pull "
          f"what is missing, or run `asof sync {who}` (from the beginning of the history, "
          "which is what proves balances) first")


def _series_one(state: CliState, wallet: Wallet, token: str, start: datetime,
                end: datetime, every: str, value: str | None) -> None:
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
        _missing_note(missing, len(points), [(wallet, token)], False)


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
            with pipe_guard():
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


@click.group("archive", short_help="Inspect, check, clear or copy the archive.")
def archive() -> None:
    """The archive: where it is, what it holds, checking, clearing and copying it."""


def _settings(state: CliState) -> ArchiveSettings:
    from asof.config import load_config

    return archive_settings(load_config(state.config))


def _quick_check(settings: ArchiveSettings) -> None:
    if settings.url or settings.path == ":memory:" or not Path(settings.path).exists():
        return
    problems = check_integrity(settings.path, quick=True)
    if problems:
        raise damaged_error(settings.path, ArchiveError("; ".join(problems[:3])))


@archive.command("info")
@output_option
@pass_state
def info(state: CliState) -> None:
    """Where the archive is, its size and schema, what it holds and which ranges are
    complete. SQLite's quick check runs first: a damaged file fails with exit 1."""
    _quick_check(_settings(state))
    with _archive(state) as store:
        found = store.info()
        about = store.storage.about()
    coverage = [_coverage_row(c) for c in found.coverage]
    syncs = [{"provider": s.provider, "pages": s.pages, "items": s.items,
              "state": "complete" if s.done else ("last page stored" if s.exhausted
                                                  else "interrupted (rerun to resume)"),
              "updated": s.updated, "query": key} for key, s in found.syncs]
    where = "path" if about.get("backend") == "sqlite" else "url"
    summary = {"backend": about.get("backend"), "server": about.get("server"),
               where: found.path, "size": _size(found.size),
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


@archive.command("check")
@pass_state
def check(state: CliState) -> None:
    """Run SQLite's integrity check on the archive file (read-only); exit 1 when it
    finds damage, with how to move the file aside."""
    settings = _settings(state)
    if settings.url:
        raise ArchiveError("asof archive check runs SQLite's integrity check; a PostgreSQL "
                           "archive is checked with the server's own tools (amcheck)")
    if settings.path == ":memory:":
        _note("the archive is in memory: there is no file to check")
        return
    if not Path(settings.path).exists():
        _note(f"there is no archive file at {settings.path} yet")
        return
    problems = check_integrity(settings.path)
    if problems:
        for problem in problems:
            _note(f"damaged: {problem}")
        raise damaged_error(settings.path, ArchiveError(problems[0]))
    _note(f"{settings.path}: SQLite's integrity check found no damage")


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
        if not yes and not _interactive():
            raise click.UsageError(
                f"refusing to delete {what} in the archive {store.name} without asking: "
                "there is no terminal to ask on; pass --yes to confirm")
        if not yes and not click.confirm(f"Delete {what} in the archive {store.name}?",
                                         err=True):
            _note("nothing deleted")
            raise click.exceptions.Exit(EXIT_FAILURE)
        removed = store.clear(wallet)
    _note(f"removed {removed} row(s) from {store.name}")


def _interactive() -> bool:
    try:
        return sys.stdin.isatty()
    except (AttributeError, ValueError):
        return False
@archive.command("copy")
@click.argument("source", metavar="SOURCE")
@click.argument("dest", metavar="DEST")
@click.option("--batch", type=click.IntRange(min=1), default=5000, show_default=True,
              metavar="N", help="Rows per destination transaction.")
@pass_state
def copy_cmd(state: CliState, source: str, dest: str, batch: int) -> None:
    """Copy every record, coverage range and sync state of the archive SOURCE into DEST.

    SOURCE and DEST are postgresql://USER@HOST:PORT/DB URLs, sqlite:///PATH URLs or file
    paths; DEST is created (or migrated) when needed and may already hold records.
    Rows are written in batches, one transaction each: an interrupted copy is resumed
    by running it again. At the end the counts of both sides are compared.

    \b
    Example:
      asof archive copy ~/.local/share/asof/archive.sqlite postgresql://me@db:5432/asof
    """
    from datetime import UTC

    from asof.archive.copy import copy_archive, total
    from asof.archive.settings import open_storage

    origin = open_storage(source)
    try:
        target = open_storage(dest)
        try:
            with progress(state, f"copy to {target.name}", total=total(origin)) as bar:
                report = copy_archive(origin, target, now=datetime.now(UTC), batch=batch,
                                      on_batch=bar.advance)
        finally:
            target.close()
    finally:
        origin.close()
    counts = ", ".join(f"{n} {k.replace('_', ' ')}" for k, n in report.source.items())
    _note(f"copied {sum(report.read.values())} row(s) from {origin.name} to {target.name} "
          f"({report.stored} record(s) new or replaced); {target.name} holds at least "
          f"the source's {counts}")


#: The commands this module adds to the ``asof`` group.
COMMANDS: list[click.Command] = [sync, series, import_cmd, export_cmd, archive]
