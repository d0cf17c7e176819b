"""Output of the ``asof`` command line: formats, tables, progress, the stdout guard.

- :func:`output_option` adds ``--format table|json|jsonl|csv`` to a command and stores
  the choice on the :class:`~asof.cli.state.CliState`; :func:`emit` (or :func:`output`
  for streaming) writes records or rows in that format to stdout.
- :func:`progress` shows a progress bar on stderr (only when stderr is a terminal, and
  not while records stream to a terminal on stdout). The bar never redirects stdout:
  records go to the real stdout, so ``asof history ... > file`` fills the file while the
  bar draws.
- Everything written to stdout goes through :data:`STDOUT` (or :func:`pipe_guard`): when
  the reader goes away (``asof export | head -1``) the command ends with exit 141 and
  nothing more is written.

Output discipline: records and tables go to stdout, everything else (progress, logs,
errors) to stderr, so ``--format json`` and ``--format jsonl`` stay clean for pipes.
"""

from __future__ import annotations

import csv
import errno
import json
import logging
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import Any, TypeVar, cast, overload

import attrs
import click
from rich import box
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn
from rich.table import Table
from rich.text import Text

from asof import wire
from asof.cli.errors import broken_pipe_exit
from asof.cli.state import CliState
from asof.points import format_time

__all__ = [
    "FORMATS",
    "STDOUT",
    "Column",
    "GuardedStdout",
    "Output",
    "ProgressHandle",
    "emit",
    "format_cell",
    "output",
    "output_option",
    "pipe_guard",
    "print_table",
    "progress",
    "stderr_console",
    "stdout_console",
    "table_columns",
]

F = TypeVar("F", bound=Callable[..., Any])

#: The output formats every output command accepts.
FORMATS = ("table", "json", "jsonl", "csv")
#: The formats written record by record as they come.
STREAMING = ("jsonl", "csv")


# ---------------------------------------------------------------------------- stdout


def _closed_pipe(exc: OSError) -> bool:
    return isinstance(exc, BrokenPipeError) or exc.errno == errno.EPIPE


@contextmanager
def pipe_guard() -> Iterator[None]:
    """Turn a closed stdout inside the block into the command's exit 141."""
    try:
        yield
    except OSError as exc:
        if not _closed_pipe(exc):
            raise
        raise broken_pipe_exit() from None


class GuardedStdout:
    """A text stream onto whatever ``sys.stdout`` is at the time of each write (test
    runners swap it); a closed pipe ends the command with exit 141 (see
    :func:`asof.cli.errors.broken_pipe_exit`)."""

    def write(self, text: str) -> int:
        """Write ``text`` to stdout."""
        with pipe_guard():
            return sys.stdout.write(text)

    def flush(self) -> None:
        """Flush stdout."""
        with pipe_guard():
            sys.stdout.flush()


#: The guarded stdout that every command writes records to.
STDOUT = GuardedStdout()


# ---------------------------------------------------------------------------- formats


def _store_format(ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
    if value is not None:
        ctx.ensure_object(CliState).format = value.lower()


@overload
def output_option(func: F, /) -> F: ...


@overload
def output_option(*, default: str = "table") -> Callable[[F], F]: ...


def output_option(func: F | None = None, /, *, default: str = "table") -> F | Callable[[F], F]:
    """Add ``--format table|json|jsonl|csv`` to a command.

    Use as ``@output_option`` or ``@output_option(default="jsonl")``. The value is not
    passed to the command: it is stored on the :class:`CliState`, where :func:`emit`
    reads it (and a command may look at ``state.format``).
    """
    decorator = click.option(
        "--format",
        "output_format",
        type=click.Choice(FORMATS, case_sensitive=False),
        default=default,
        show_default=True,
        expose_value=False,
        callback=_store_format,
        help="Output format: a table, one JSON document, JSON lines or CSV.",
    )
    if func is not None:
        return decorator(func)
    return cast(Callable[[F], F], decorator)


# ---------------------------------------------------------------------------- output


def stdout_console() -> Console:
    """A rich console on stdout; wide enough that nothing is cut when piped."""
    console = Console(file=sys.stdout, highlight=False, soft_wrap=False)
    if not console.is_terminal:
        console = Console(file=sys.stdout, highlight=False, soft_wrap=False, width=10_000)
    return console


def stderr_console() -> Console:
    """A rich console on stderr, for progress and notes."""
    return Console(file=sys.stderr, highlight=False)


#: A table or CSV column: a key of the record's flat form (:func:`asof.wire.flatten`)
#: or of a row mapping, used as its own header; or ``(header, key)``; or
#: ``(header, function)`` where the function receives the record or row itself.
Column = str | tuple[str, str | Callable[[Any], Any]]


def _is_record(item: object) -> bool:
    return attrs.has(type(item))


def _has_kind(item: object) -> bool:
    """Whether ``item`` is a canonical record with a JSONL kind (``asof import`` reads it)."""
    return _is_record(item) and type(item) in wire.KINDS.values()


def _is_single(data: object) -> bool:
    return _is_record(data) or isinstance(data, Mapping)


def _jsonable(value: Any) -> Any:
    """Plain JSON data for a row value, following the wire rules (Decimals as text)."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime):
        return format_time(value)
    if isinstance(value, Enum):
        return value.value
    if _is_record(value):
        return wire.to_data(value)
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_jsonable(v) for v in value]
    return str(value)


def _item_data(item: Any) -> Any:
    return wire.to_data(item) if _is_record(item) else _jsonable(item)


def _flat(item: Any) -> dict[str, Any]:
    if _is_record(item):
        return wire.flatten(item)
    if isinstance(item, Mapping):
        return {str(k): v for k, v in item.items()}
    return {"value": item}


def format_cell(value: Any, *, empty: str = "") -> str:
    """A value as the text of one table or CSV cell (exact: Decimals in plain notation)."""
    if value is None:
        return empty
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime):
        return format_time(value)
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, str):
        return value
    if _is_record(value) and "__str__" in vars(type(value)):
        return str(value)  # Wallet, Token, Amount, Point, Cost say themselves
    if _is_record(value) or isinstance(value, Mapping | list | tuple):
        return json.dumps(_jsonable(value), separators=(",", ":"), ensure_ascii=False)
    return str(value)


class Output:
    """Writes records or rows to stdout in one format; get one from :func:`output`.

    ``jsonl`` lines (and ``csv`` rows, when the columns are given) are written as they
    come, so long histories stream; ``table``, ``json`` and ``csv`` without columns are
    written when the block ends.
    """

    def __init__(
        self,
        fmt: str,
        *,
        columns: Sequence[Column] | None = None,
        title: str | None = None,
        single: bool = False,
    ) -> None:
        if fmt not in FORMATS:
            raise click.UsageError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
        self.format = fmt
        self.columns = tuple(columns) if columns is not None else None
        self.title = title
        self.single = single
        self.count = 0
        self._items: list[Any] = []
        self._csv: Any = None
        self._header: list[str] = []

    # -- writing
    def write(self, item: Any) -> None:
        """Write one record (an attrs record) or row (a mapping)."""
        self.count += 1
        if self.format == "jsonl":
            self._line(self._jsonl(item))
        elif self.format == "csv" and self.columns is None and _has_kind(item) \
                and not self._items:
            # A canonical record: the dotted columns `asof import` reads back, streamed.
            if self._csv is None:
                self._csv = csv.writer(STDOUT, lineterminator="\n")
                self._header = ["kind", *wire.csv_columns(type(item))]
                self._csv.writerow(self._header)
            row = wire.to_csv_row(item)
            self._csv.writerow([row.get(column, "") for column in self._header])
        elif self.format == "csv" and self.columns is not None:
            if self._csv is None:
                self._csv = csv.writer(STDOUT, lineterminator="\n")
                self._csv.writerow([header for header, _ in self._specs()])
            self._csv.writerow([format_cell(v) for v in self._values(item)])
        else:
            self._items.append(item)

    def write_all(self, items: Iterable[Any]) -> None:
        """Write every item of ``items``."""
        for item in items:
            self.write(item)

    def close(self) -> None:
        """Write what was held back (a table, a JSON document, unstreamed CSV)."""
        if self.format == "json":
            if self.single and len(self._items) == 1:
                data: Any = _item_data(self._items[0])
            else:
                data = [_item_data(item) for item in self._items]
            self._line(json.dumps(data, indent=2, ensure_ascii=False))
        elif self.format == "csv" and self.columns is None:
            self._write_flat_csv()
        elif self.format == "table":
            self._write_table()
        STDOUT.flush()

    # -- helpers
    @staticmethod
    def _line(text: str) -> None:
        STDOUT.write(text + "\n")

    @staticmethod
    def _jsonl(item: Any) -> str:
        if _has_kind(item):
            return wire.dumps_line(item)
        return json.dumps(_item_data(item), separators=(",", ":"), ensure_ascii=False)

    def _specs(self) -> list[tuple[str, str | Callable[[Any], Any]]]:
        assert self.columns is not None
        return [(c, c) if isinstance(c, str) else c for c in self.columns]

    def _values(self, item: Any) -> list[Any]:
        flat: dict[str, Any] | None = None
        values: list[Any] = []
        for _, key in self._specs():
            if callable(key):
                values.append(key(item))
            else:
                if flat is None:
                    flat = _flat(item)
                values.append(flat.get(key))
        return values

    def _flat_rows(self) -> tuple[list[str], list[dict[str, Any]]]:
        rows = [_flat(item) for item in self._items]
        keys: dict[str, None] = {}
        for row in rows:
            keys.update(dict.fromkeys(row))
        # A parent key that is always empty while its children exist (``as_of`` when
        # some answers have no block) carries nothing: drop it.
        names = [
            key for key in keys
            if not (
                any(other.startswith(key + ".") for other in keys)
                and all(row.get(key) is None for row in rows)
            )
        ]
        return names, rows

    def _write_flat_csv(self) -> None:
        names, rows = self._flat_rows()
        writer = csv.writer(STDOUT, lineterminator="\n")
        if names:
            writer.writerow(names)
        for row in rows:
            writer.writerow([format_cell(row.get(name)) for name in names])

    def _write_table(self) -> None:
        if self.single and len(self._items) == 1 and self.columns is None:
            item = self._items[0]
            table = Table(box=None, show_header=False, title=self.title, pad_edge=False)
            table.add_column("field", style="bold", no_wrap=True)
            table.add_column("value", overflow="fold")
            for key, value in _flat(item).items():
                table.add_row(Text(key), Text(format_cell(value, empty="-")))
            print_table(table)
            return
        if self.columns is not None:
            headers = [header for header, _ in self._specs()]
            body = [self._values(item) for item in self._items]
        else:
            headers, rows = self._flat_rows()
            body = [[row.get(name) for name in headers] for row in rows]
        if not body:
            stderr_console().print(Text("(nothing to show)", style="dim"))
            return
        table = Table(box=box.SIMPLE_HEAD, title=self.title, show_edge=False, pad_edge=False)
        for header in headers:
            table.add_column(header, overflow="fold")
        for values in body:
            table.add_row(*(_cell_text(v) for v in values))
        print_table(table)


def print_table(renderable: Any) -> None:
    """Print a rich table (or any renderable) on stdout.

    On a terminal it is drawn to the terminal's width; piped, nothing is wrapped or cut
    and trailing blanks are trimmed.
    """
    console = stdout_console()
    if console.is_terminal:
        with pipe_guard():
            console.print(renderable)
        return
    with console.capture() as captured:
        console.print(renderable)
    lines = [line.rstrip() for line in captured.get().splitlines()]
    while lines and not lines[0]:
        lines.pop(0)
    STDOUT.write("".join(line + "\n" for line in lines))


def _cell_text(value: Any) -> Text:
    if isinstance(value, Text):
        return value
    return Text(format_cell(value, empty="-"))


@contextmanager
def output(
    state: CliState,
    *,
    columns: Sequence[Column] | None = None,
    title: str | None = None,
    single: bool = False,
) -> Iterator[Output]:
    """Stream records or rows to stdout in the state's format::

        with output(state, columns=[...]) as out:
            async for change in client.history(...):
                out.write(change)

    Held-back output (a table, a JSON document) is written when the block ends without
    an error.
    """
    out = Output(state.format, columns=columns, title=title, single=single)
    yield out
    out.close()


def table_columns(state: CliState, columns: Sequence[Column]) -> Sequence[Column] | None:
    """``columns`` for a table; ``None`` for the other formats, so that records are
    written whole (CSV in the canonical dotted columns ``asof import`` reads back)."""
    return columns if state.format == "table" else None


def emit(
    state: CliState,
    records_or_rows: Any,
    *,
    columns: Sequence[Column] | None = None,
    title: str | None = None,
) -> None:
    """Write records or rows to stdout in the format chosen with ``--format``.

    ``records_or_rows`` is one record (an attrs record such as
    :class:`~asof.records.BalanceAt`) or row (a mapping), or an iterable of them.

    - ``table``: a rich table of ``columns`` (see :data:`Column`); without columns,
      every field of the flat form. A single item without columns is shown vertically.
    - ``json``: one JSON document: the item itself, or a list.
    - ``jsonl``: one line per item; records with a JSONL kind are written by
      :func:`asof.wire.dumps_line` (the form ``asof import`` reads).
    - ``csv``: a header and one row per item: ``columns`` if given, else the flat form of
      :func:`asof.wire.flatten`.
    """
    single = _is_single(records_or_rows)
    items: Iterable[Any] = [records_or_rows] if single else records_or_rows
    with output(state, columns=columns, title=title, single=single) as out:
        out.write_all(items)


# ---------------------------------------------------------------------------- progress
class ProgressHandle:
    """Counts work done; shown as a bar on stderr when stderr is a terminal."""

    def __init__(self, progress: Progress | None, task: Any, description: str) -> None:
        self._progress = progress
        self._task = task
        self.description = description
        self.completed = 0
        self.total: int | None = None

    def advance(self, n: int = 1) -> None:
        """Count ``n`` more units of work done."""
        self.completed += n
        if self._progress is not None:
            self._progress.advance(self._task, n)

    def update(self, *, total: int | None = None, description: str | None = None) -> None:
        """Set the expected total or change the description."""
        if total is not None:
            self.total = total
        if description is not None:
            self.description = description
        if self._progress is not None:
            self._progress.update(self._task, total=self.total, description=self.description)


@contextmanager
def progress(
    state: CliState, description: str, *, total: int | None = None
) -> Iterator[ProgressHandle]:
    """A progress bar on stderr for the block; ``.advance(n=1)`` counts work done.

    When stderr is not a terminal nothing is drawn (a debug log line sums it up with
    ``--verbose``), so pipes and captured output stay clean; nor while records stream
    (jsonl, csv) to a terminal on stdout, where the bar would draw over them. The bar
    never redirects stdout or stderr: records reach the real stdout (a file, a pipe).
    """
    console = stderr_console()
    log = logging.getLogger("asof.cli")
    if not console.is_terminal or (state.format in STREAMING and _stdout_is_terminal()):
        handle = ProgressHandle(None, None, description)
        handle.total = total
        yield handle
        log.debug("%s: %d done", handle.description, handle.completed)
        return
    bar = Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        console=console,
        transient=True,
        redirect_stdout=False,
        redirect_stderr=False,
    )
    with bar:
        task = bar.add_task(description, total=total)
        handle = ProgressHandle(bar, task, description)
        handle.total = total
        yield handle
    log.debug("%s: %d done", handle.description, handle.completed)



def _stdout_is_terminal() -> bool:
    try:
        return sys.stdout.isatty()
    except (AttributeError, ValueError):
        return False
