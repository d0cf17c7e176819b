"""Shared machinery of the ``asof`` command line: running a command's client, logging.

- :func:`run_client` opens an :class:`~asof.client.AsyncClient` and runs one coroutine
  with it under a single ``anyio.run``; any error becomes one readable line on stderr and
  a non-zero exit code (see :data:`~asof.cli.errors.EXIT_CODES`).
- :func:`configure_logging` sends the log to stderr (``--verbose``: DEBUG).

The other pieces live in their own modules and are re-exported here for command
modules: :mod:`asof.cli.state` (:class:`CliState`), :mod:`asof.cli.output` (formats,
tables, progress, the stdout guard), :mod:`asof.cli.params` (parameter types) and
:mod:`asof.cli.errors` (exit codes and the one-line error report).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TypeVar

import anyio
import click

from asof.cli.errors import (
    EXIT_BROKEN_PIPE,
    EXIT_CODES,
    EXIT_FAILURE,
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    broken_pipe_exit,
    error_exit_code,
    report_error,
    unwrap,
)
from asof.cli.output import (
    FORMATS,
    Column,
    Output,
    ProgressHandle,
    emit,
    format_cell,
    output,
    output_option,
    print_table,
    progress,
    stderr_console,
    stdout_console,
    table_columns,
)
from asof.cli.params import (
    CAPABILITY,
    CHAIN,
    POINT,
    TIME,
    WALLET,
    CapabilityType,
    ChainType,
    PointType,
    TimeType,
    WalletType,
    time_range_options,
)
from asof.cli.state import ClientFactory, CliState, pass_state

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
    "configure_logging",
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
    "table_columns",
    "time_range_options",
]

T = TypeVar("T")


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
    except (click.exceptions.Exit, click.ClickException, click.Abort):
        raise
    except BrokenPipeError:
        raise broken_pipe_exit() from None
    except KeyboardInterrupt:
        raise click.Abort() from None
    except Exception as exc:
        inner = unwrap(exc)
        if isinstance(inner, click.exceptions.Exit | click.ClickException | click.Abort):
            raise inner from None
        if isinstance(inner, BrokenPipeError):
            raise broken_pipe_exit() from None
        raise click.exceptions.Exit(report_error(inner, verbose=state.verbose)) from None


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

