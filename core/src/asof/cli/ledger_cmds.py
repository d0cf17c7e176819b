"""``asof ledger``: an exchange account's balance events, and their reconciliation.

::

    asof ledger pacifica:ACCOUNT [--from TIME] [--to TIME] [--type TYPE ...] [--check]

Entries are written in the provider's order (Pacifica: newest first). ``--check``
reads the ledger and lists every break instead (see :mod:`asof.reconcile`): a pair of
consecutive events whose balances do not differ by the later event's amount; it exits
with 1 when there is any. Event types the provider's documents do not list are kept
and counted in a note on stderr.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import TYPE_CHECKING, Any

import click

from asof.cli.common import (
    EXIT_FAILURE,
    WALLET,
    CliState,
    Column,
    emit,
    format_cell,
    output,
    output_option,
    pass_state,
    progress,
    run_client,
    table_columns,
    time_range_options,
)
from asof.reconcile import Break, reconcile
from asof.records import LedgerEntry, Wallet

if TYPE_CHECKING:
    from asof.client import AsyncClient

__all__ = ["COMMANDS", "ledger"]

ENTRY_COLUMNS: list[Column] = [
    ("time", "time"),
    ("type", lambda e: e.event_type if e.known_type else f"{e.event_type} (undocumented)"),
    ("amount", "amount"),
    ("balance", "balance"),
    ("pending", "pending_balance"),
]

BREAK_COLUMNS: list[Column] = [
    ("before", lambda r: f"{format_cell(r['before_time'])} {r['before_type']}"),
    ("balance before", "before_balance"),
    ("after", lambda r: f"{format_cell(r['after_time'])} {r['after_type']}"),
    ("amount", "after_amount"),
    ("balance after", "after_balance"),
    ("expected", "expected"),
    ("off by", "difference"),
]


def break_row(found: Break) -> dict[str, Any]:
    """One break as a flat row: the two events around it and the mismatch."""
    before, after = found.before, found.after
    return {
        "account": str(after.account),
        "before_time": before.time,
        "before_type": before.event_type,
        "before_balance": before.balance,
        "after_time": after.time,
        "after_type": after.event_type,
        "after_amount": after.amount,
        "after_balance": after.balance,
        "expected": found.expected,
        "difference": found.difference,
    }


def _note(text: str) -> None:
    click.echo(text, err=True)


def _note_unknown(unknown: Counter[str]) -> None:
    if unknown:
        kinds = ", ".join(f"{kind} ({count})" for kind, count in sorted(unknown.items()))
        _note(f"note: kept events of types the provider does not document: {kinds}")


@click.command("ledger")
@click.argument("account", type=WALLET, metavar="CHAIN:ACCOUNT")
@time_range_options()
@click.option(
    "--type", "event_types", multiple=True, metavar="TYPE",
    help="Only events of this type (repeat for several), e.g. deposit, withdraw, trade.",
)
@click.option(
    "--check", is_flag=True,
    help="Reconcile instead of listing: show every pair of consecutive events whose "
    "balances do not differ by the later amount; exit 1 when there is any.",
)
@output_option
@pass_state
def ledger(
    state: CliState,
    account: Wallet,
    start: datetime | None,
    end: datetime | None,
    event_types: tuple[str, ...],
    check: bool,
) -> None:
    """An exchange account's balance events in the provider's order, or their reconciliation.

    The range is --from (inclusive) to --to (exclusive); without them, the whole ledger.
    The provider may have no time filter (Pacifica has none): a range is then read from
    the newest event back to its start, so an old range costs every page after it.
    Event types the provider does not document are kept and counted on stderr.

    \b
    Examples:
      asof ledger pacifica:42trU9A5Hs7WcKnJ3mRtYpXvQz8LbEdGfN2aPuVwCx6M --from 2025-01-01
      asof ledger pacifica:42trU9A5Hs7WcKnJ3mRtYpXvQz8LbEdGfN2aPuVwCx6M --type funding
      asof ledger pacifica:42trU9A5Hs7WcKnJ3mRtYpXvQz8LbEdGfN2aPuVwCx6M --check
    """
    if check and event_types:
        raise click.UsageError("--check reconciles the whole ledger; drop --type")
    unknown: Counter[str] = Counter()

    async def listing(client: AsyncClient) -> None:
        with progress(state, "reading the ledger") as bar, \
                output(state, columns=table_columns(state, ENTRY_COLUMNS)) as out:
            async for entry in client.ledger(account, start=start, end=end,
                                             event_types=event_types):
                if not entry.known_type:
                    unknown[entry.event_type] += 1
                out.write(entry)
                bar.advance()

    async def collect(client: AsyncClient) -> list[LedgerEntry]:
        entries: list[LedgerEntry] = []
        with progress(state, "reading the ledger") as bar:
            async for entry in client.ledger(account, start=start, end=end):
                if not entry.known_type:
                    unknown[entry.event_type] += 1
                entries.append(entry)
                bar.advance()
        return entries

    if not check:
        run_client(state, listing)
        _note_unknown(unknown)
        return
    entries = run_client(state, collect)
    _note_unknown(unknown)
    breaks = reconcile(entries)
    emit(state, [break_row(found) for found in breaks], columns=BREAK_COLUMNS)
    if breaks:
        _note(f"{len(breaks)} break(s) in {len(entries)} events of {account}")
        raise click.exceptions.Exit(EXIT_FAILURE)
    _note(f"the ledger of {account} reconciles: {len(entries)} events checked")


COMMANDS: list[click.Command] = [ledger]
