"""Error handling of the ``asof`` command line: exit codes and the one-line report.

Every error a command meets ends in :func:`report_error`: one line on stderr,
``asof: error: ...``, and an exit code from :data:`EXIT_CODES` (see ``docs/cli.md``).
A reader of stdout that goes away (``asof ... | head``) ends the command with
:data:`EXIT_BROKEN_PIPE` through :func:`broken_pipe_exit`, raised from the output path
itself (click would otherwise turn the ``BrokenPipeError`` into its own exit 1).
"""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Mapping

import click

from asof.errors import (
    AsofError,
    ConfigError,
    InputError,
    UnknownChain,
    UnknownProvider,
    UnknownToken,
)

__all__ = [
    "EXIT_BROKEN_PIPE",
    "EXIT_CODES",
    "EXIT_FAILURE",
    "EXIT_INTERNAL",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_USAGE",
    "broken_pipe_exit",
    "error_exit_code",
    "report_error",
    "silence_stdout",
    "unwrap",
]

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



_INPUT_ERRORS: tuple[type[BaseException], ...] = (
    InputError,
    ConfigError,
    UnknownChain,
    UnknownToken,
    UnknownProvider,
)




def unwrap(exc: BaseException) -> BaseException:
    """The single error inside (nested) exception groups, else ``exc``."""
    while isinstance(exc, BaseExceptionGroup) and len(exc.exceptions) == 1:
        exc = exc.exceptions[0]
    return exc


def _one_line(text: str) -> str:
    return " ".join(text.split())


def error_exit_code(exc: BaseException) -> int:
    """The exit code for an error (see :data:`EXIT_CODES`)."""
    exc = unwrap(exc)
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
    exc = unwrap(exc)
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



def silence_stdout() -> None:
    """Point file descriptor 1 at the null device, so that nothing more written (the
    interpreter's final flush included) meets the closed pipe."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass


def broken_pipe_exit() -> click.exceptions.Exit:
    """The reader of stdout went away: silence stdout and return the exit to raise
    (``raise broken_pipe_exit() from None``), which ends the command with 141."""
    silence_stdout()
    return click.exceptions.Exit(EXIT_BROKEN_PIPE)
