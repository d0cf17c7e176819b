"""Shared machinery of the ``asof`` command line: state, output, errors, progress.

Every command module builds on these pieces:

- :class:`CliState` is the per-invocation state (``--config``, ``--verbose``, the
  selected ``--format`` and an optional client factory that tests inject);
  :data:`pass_state` hands it to a command.
- :func:`output_option` adds ``--format table|json|jsonl|csv`` to a command and stores
  the choice on the state; :func:`emit` (or :func:`output` for streaming) writes
  records or rows in that format to stdout.
- :func:`run_client` opens an :class:`~asof.client.AsyncClient` and runs one coroutine
  with it under a single ``anyio.run``; any error becomes one readable line on stderr and
  a non-zero exit code (see :data:`EXIT_CODES`).
- :func:`progress` shows a progress bar on stderr (only when stderr is a terminal).
- Parameter types for the arguments every command shares: :data:`WALLET`
  (``CHAIN:ADDRESS``), :data:`TIME`, :data:`POINT`, :data:`CHAIN`, :data:`CAPABILITY`,
  and :func:`time_range_options` for ``--from`` / ``--to``.

Output discipline: records and tables go to stdout, everything else (progress, logs,
errors) to stderr, so ``--format json`` and ``--format jsonl`` stay clean for pipes.
"""

from __future__ import annotations

import csv
import json
import logging
import sys
import traceback
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, contextmanager
from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import TYPE_CHECKING, Any, TypeVar, cast, overload

import anyio
import attrs
import click
from rich import box
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn
from rich.table import Table
from rich.text import Text

from asof import wire
from asof.chains import resolve_chain
from asof.errors import (
    AsofError,
    ConfigError,
    InputError,
    UnknownChain,
    UnknownProvider,
    UnknownToken,
)
from asof.points import format_time, parse_point, parse_time
from asof.records import Capability, Point, Wallet

if TYPE_CHECKING:
    from asof.client import AsyncClient

__all__ = [
    "CAPABILITY",
    "CHAIN",
    "EXIT_BROKEN_PIPE",
    "EXIT_CODES",
    "EXIT_FAILURE",
    "EXIT_INTERNAL",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_USAGE",
    "FORMATS",
    "POINT",
    "TIME",
    "WALLET",
    "CapabilityType",
    "ChainType",
    "CliState",
    "ClientFactory",
    "Column",
    "Output",
    "PointType",
    "ProgressHandle",
    "TimeType",
    "WalletType",
    "emit",
    "error_exit_code",
    "format_cell",
    "output",
    "output_option",
    "pass_state",
    "print_table",
    "progress",
    "report_error",
    "run_client",
    "stderr_console",
    "stdout_console",
    "time_range_options",
]

T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])

#: Success.
EXIT_OK = 0
#: A provider, route, plugin or archive failure: the input was fine, the answer failed.
EXIT_FAILURE = 1
#: Bad input: a usage error, an unknown chain or token, a bad address, time or config.
EXIT_USAGE = 2
#: An unexpected internal error (a bug); rerun with ``--verbose`` for the traceback.
EXIT_INTERNAL = 3
#: Interrupted (Ctrl-C).
EXIT_INTERRUPTED = 130
#: The reader of stdout went away (``asof ... | head``), as a shell reports SIGPIPE.
EXIT_BROKEN_PIPE = 141

#: Exit codes and what they mean, as documented in ``docs/cli.md``.
EXIT_CODES: Mapping[int, str] = {
    EXIT_OK: "success",
    EXIT_FAILURE: "a provider, route, plugin or archive failure",
    EXIT_USAGE: "bad input: usage, chain, wallet, token, time or configuration",
    EXIT_INTERNAL: "unexpected internal error (rerun with --verbose for the traceback)",
    EXIT_INTERRUPTED: "interrupted",
    EXIT_BROKEN_PIPE: "the reader of stdout went away (for example `| head`)",
}

#: The output formats every output command accepts.
FORMATS = ("table", "json", "jsonl", "csv")

#: Builds the client a command runs with; tests set one on :class:`CliState`.
ClientFactory = Callable[["CliState"], AbstractAsyncContextManager["AsyncClient"]]

_INPUT_ERRORS: tuple[type[BaseException], ...] = (
    InputError,
    ConfigError,
    UnknownChain,
    UnknownToken,
    UnknownProvider,
)


# ---------------------------------------------------------------------------- state


@attrs.define(kw_only=True)
class CliState:
    """What one ``asof`` invocation knows about itself.

    The main group fills ``config`` and ``verbose`` from its options; ``--format`` on a
    command fills ``format``. ``client_factory`` replaces the default client (an
    :class:`~asof.client.AsyncClient` built from ``config``): tests pass a state holding
    one as ``obj`` to ``CliRunner.invoke(cli, args, obj=state)``.
    """

    config: str | None = None
    verbose: bool = False
    format: str = "table"
    client_factory: ClientFactory | None = None

    def open_client(self) -> AbstractAsyncContextManager[AsyncClient]:
        """The client for this invocation, not yet entered."""
        if self.client_factory is not None:
            return self.client_factory(self)
        from asof.client import AsyncClient  # the HTTP stack loads only when needed

        return AsyncClient(self.config)


#: Decorator handing the :class:`CliState` to a command as its first argument.
pass_state = click.make_pass_decorator(CliState, ensure=True)


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


# ---------------------------------------------------------------------------- errors


def _unwrap(exc: BaseException) -> BaseException:
    """The single error inside (nested) exception groups, else ``exc``."""
    while isinstance(exc, BaseExceptionGroup) and len(exc.exceptions) == 1:
        exc = exc.exceptions[0]
    return exc


def _one_line(text: str) -> str:
    return " ".join(text.split())


def error_exit_code(exc: BaseException) -> int:
    """The exit code for an error (see :data:`EXIT_CODES`)."""
    exc = _unwrap(exc)
    if isinstance(exc, click.exceptions.Exit):
        return exc.exit_code
    if isinstance(exc, click.Abort | KeyboardInterrupt):
        return EXIT_INTERRUPTED
    if isinstance(exc, click.ClickException):
        return exc.exit_code
    if isinstance(exc, _INPUT_ERRORS):
        return EXIT_USAGE
    if isinstance(exc, AsofError):
        return EXIT_FAILURE
    return EXIT_INTERNAL


def _message(exc: BaseException) -> str:
    if isinstance(exc, click.UsageError):
        text = exc.format_message()
        if exc.ctx is not None:
            text += f" (see '{exc.ctx.command_path} --help')"
        return text
    if isinstance(exc, click.ClickException):
        return exc.format_message()
    if isinstance(exc, click.Abort | KeyboardInterrupt):
        return "interrupted"
    if isinstance(exc, AsofError):
        return str(exc) or type(exc).__name__
    detail = str(exc)
    return f"unexpected {type(exc).__name__}" + (f": {detail}" if detail else "")


def report_error(exc: BaseException, *, verbose: bool = False) -> int:
    """Write ``exc`` to stderr as one line, ``asof: error: ...``; return its exit code.

    With ``verbose`` the traceback of an error that is not a usage error comes first.
    Unexpected errors (not asof's, not click's) name their type and say how to see the
    traceback.
    """
    exc = _unwrap(exc)
    code = error_exit_code(exc)
    if isinstance(exc, click.exceptions.NoArgsIsHelpError):
        exc.show()  # a bare group or command shows its help, as click does
        return code
    internal = code == EXIT_INTERNAL
    if verbose and not isinstance(exc, click.ClickException | click.Abort | KeyboardInterrupt):
        click.echo("".join(traceback.format_exception(exc)).rstrip(), err=True)
    line = _one_line(_message(exc))
    if internal and not verbose:
        line += " (rerun with --verbose to see the traceback)"
    click.echo(f"asof: error: {line}", err=True)
    return code


# ---------------------------------------------------------------------------- client


def run_client(state: CliState, fn: Callable[[AsyncClient], Awaitable[T]]) -> T:
    """Open the client, await ``fn(client)`` inside one ``anyio.run`` and return its value.

    Any error (an :class:`~asof.errors.AsofError` or an unexpected one) is reported as
    one line on stderr and ends the command with its exit code (see :data:`EXIT_CODES`);
    Ctrl-C ends it with 130.
    """

    async def _main() -> T:
        async with state.open_client() as client:
            return await fn(client)

    try:
        return anyio.run(_main)
    except (click.exceptions.Exit, click.ClickException, click.Abort, BrokenPipeError):
        raise
    except KeyboardInterrupt:
        raise click.Abort() from None
    except Exception as exc:
        inner = _unwrap(exc)
        if isinstance(inner, click.exceptions.Exit | click.ClickException | click.Abort
                      | BrokenPipeError):
            raise inner from None
        raise click.exceptions.Exit(report_error(inner, verbose=state.verbose)) from None


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

    # -- writing
    def write(self, item: Any) -> None:
        """Write one record (an attrs record) or row (a mapping)."""
        self.count += 1
        if self.format == "jsonl":
            self._line(self._jsonl(item))
        elif self.format == "csv" and self.columns is not None:
            if self._csv is None:
                self._csv = csv.writer(sys.stdout, lineterminator="\n")
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
        sys.stdout.flush()

    # -- helpers
    @staticmethod
    def _line(text: str) -> None:
        sys.stdout.write(text + "\n")

    @staticmethod
    def _jsonl(item: Any) -> str:
        if _is_record(item) and type(item) in wire.KINDS.values():
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
        writer = csv.writer(sys.stdout, lineterminator="\n")
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
        console.print(renderable)
        return
    with console.capture() as captured:
        console.print(renderable)
    lines = [line.rstrip() for line in captured.get().splitlines()]
    while lines and not lines[0]:
        lines.pop(0)
    sys.stdout.write("".join(line + "\n" for line in lines))


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
    ``--verbose``), so pipes and captured output stay clean.
    """
    console = stderr_console()
    log = logging.getLogger("asof.cli")
    if not console.is_terminal:
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
    )
    with bar:
        task = bar.add_task(description, total=total)
        handle = ProgressHandle(bar, task, description)
        handle.total = total
        yield handle
    log.debug("%s: %d done", handle.description, handle.completed)


# ---------------------------------------------------------------------------- logging


class _CliLogHandler(logging.Handler):
    """Writes to whatever ``sys.stderr`` is at the time (test runners swap it)."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            sys.stderr.write(self.format(record) + "\n")
            sys.stderr.flush()
        except Exception:
            self.handleError(record)


#: Loggers the command line shows: asof's own, and the retry library's (whose warning
#: on each scheduled retry would otherwise reach stderr bare, through logging's
#: last-resort handler).
_LOGGERS = ("asof", "stamina")


def configure_logging(verbose: bool) -> Callable[[], None]:
    """Send the log to stderr: DEBUG with ``verbose``; else asof's warnings only.

    Called again while configured (``--verbose`` given after the command), it turns the
    same handlers up instead of adding more. Returns the function that undoes it.
    Secrets are redacted by the transport before anything is logged.
    """
    undo_all = [_configure_logger(name, verbose) for name in _LOGGERS]

    def undo() -> None:
        for each in reversed(undo_all):
            each()

    return undo


def _configure_logger(name: str, verbose: bool) -> Callable[[], None]:
    logger = logging.getLogger(name)
    existing = next((h for h in logger.handlers if isinstance(h, _CliLogHandler)), None)
    handler = existing or _CliLogHandler()
    saved_level, saved_format, saved_logger_level = (
        handler.level, handler.formatter, logger.level)
    if verbose:
        handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
        )
        handler.setLevel(logging.DEBUG)
        logger.setLevel(logging.DEBUG)
    elif existing is None:
        handler.setFormatter(logging.Formatter("asof: %(levelname)s: %(message)s"))
        # Retries are routine: only asof's own warnings are shown without --verbose.
        handler.setLevel(logging.WARNING if name == "asof" else logging.CRITICAL + 1)
    if existing is None:
        logger.addHandler(handler)

    def undo() -> None:
        if existing is None:
            logger.removeHandler(handler)
        else:
            handler.setLevel(saved_level)
            handler.setFormatter(saved_format)
        logger.setLevel(saved_logger_level)

    return undo


# ---------------------------------------------------------------------------- params


class WalletType(click.ParamType[Wallet]):
    """``CHAIN:ADDRESS`` (or CAIP-10) read into a :class:`~asof.records.Wallet`.

    With ``default_chain`` a bare address is accepted too.
    """

    name = "CHAIN:WALLET"

    def __init__(self, default_chain: str | None = None) -> None:
        self.default_chain = default_chain

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> Wallet:
        if isinstance(value, Wallet):
            return value
        text = str(value).strip()
        try:
            if self.default_chain is not None and ":" not in text:
                return Wallet(chain=self.default_chain, address=text)
            return Wallet.parse(text)
        except AsofError as exc:
            self.fail(_strip_field(exc), param, ctx)


class TimeType(click.ParamType[datetime]):
    """A time in any form :func:`asof.points.parse_time` reads, as aware UTC."""

    name = "TIME"

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> datetime:
        if isinstance(value, datetime):
            return parse_time(value)
        try:
            return parse_time(str(value), field=_param_name(param, "time"))
        except AsofError as exc:
            self.fail(_strip_field(exc), param, ctx)


class PointType(click.ParamType[Point]):
    """A time, or ``slot:N`` / ``block:N``, read by :func:`asof.points.parse_point`."""

    name = "POINT"

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> Point:
        if isinstance(value, Point):
            return value
        try:
            return parse_point(str(value), field=_param_name(param, "at"))
        except AsofError as exc:
            self.fail(_strip_field(exc), param, ctx)


class ChainType(click.ParamType[str]):
    """A chain name, alias or CAIP-2 id, converted to the canonical name."""

    name = "CHAIN"

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> str:
        try:
            return resolve_chain(str(value)).name
        except AsofError as exc:
            self.fail(str(exc), param, ctx)


class CapabilityType(click.ParamType[Capability]):
    """A capability (``balance_at``, ``balance-history``, ...)."""

    name = "CAPABILITY"

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> Capability:
        if isinstance(value, Capability):
            return value
        text = str(value).strip().lower().replace("-", "_")
        try:
            return Capability(text)
        except ValueError:
            names = ", ".join(c.value for c in Capability)
            self.fail(f"unknown capability {value!r}; use one of {names}", param, ctx)

    def shell_complete(self, ctx: click.Context, param: click.Parameter,
                       incomplete: str) -> list[Any]:
        from click.shell_completion import CompletionItem

        return [CompletionItem(c.value) for c in Capability if c.value.startswith(incomplete)]


def _param_name(param: click.Parameter | None, default: str) -> str:
    return (param.name or default) if param is not None else default


def _strip_field(exc: AsofError) -> str:
    """The message without the ``field: `` prefix click already shows."""
    text = str(exc)
    field = getattr(exc, "field", None)
    if field and text.startswith(f"{field}: "):
        return text[len(field) + 2:]
    return text


#: ``CHAIN:ADDRESS`` -> :class:`~asof.records.Wallet`.
WALLET = WalletType()
#: A time -> aware UTC :class:`~datetime.datetime`.
TIME = TimeType()
#: A time or ``slot:N`` / ``block:N`` -> :class:`~asof.records.Point`.
POINT = PointType()
#: A chain spelling -> its canonical name.
CHAIN = ChainType()
#: A capability name -> :class:`~asof.records.Capability`.
CAPABILITY = CapabilityType()


def time_range_options(
    *, required: bool = False, start_help: str | None = None, end_help: str | None = None
) -> Callable[[F], F]:
    """Add ``--from`` and ``--to`` (passed as ``start`` and ``end``, aware UTC datetimes
    or ``None``). The range is start-inclusive, end-exclusive."""

    def decorator(func: F) -> F:
        func = click.option(
            "--to", "end", type=TIME, required=required,
            help=end_help or "End of the range (exclusive): a time or date, UTC unless an "
            "offset is given.",
        )(func)
        return click.option(
            "--from", "start", type=TIME, required=required,
            help=start_help or "Start of the range (inclusive): a time or date, UTC unless "
            "an offset is given.",
        )(func)

    return decorator
