"""The ``asof`` command group: global options, command registration, error handling.

Global options: ``--config PATH`` (else ``ASOF_CONFIG``, else the per-user default) and
``--verbose`` (a debug log on stderr; with it, errors also show their traceback). Each
command module contributes ``COMMANDS``; errors anywhere become one line on stderr and
an exit code from :data:`asof.cli.errors.EXIT_CODES`.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

import click

import asof
from asof.cli import archive_cmds, core_cmds, history_cmds, ledger_cmds, portfolio_cmds
from asof.cli.common import configure_logging
from asof.cli.errors import EXIT_BROKEN_PIPE, EXIT_INTERNAL, EXIT_OK, report_error, silence_stdout
from asof.cli.state import CliState

__all__ = ["AsofGroup", "cli", "main"]

#: Every module that contributes commands, in the order they are listed in ``--help``.
COMMAND_MODULES = (core_cmds, history_cmds, ledger_cmds, archive_cmds, portfolio_cmds)


class AsofGroup(click.Group):
    """A click group that turns every error into one stderr line and an exit code.

    Invoked with ``standalone_mode=True`` (the default, as the console script and
    ``CliRunner`` do) it exits with the code; otherwise it returns it.
    """

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        state = extra.pop("obj", None)
        if state is None:
            state = CliState()
        if not isinstance(state, CliState):
            raise TypeError(f"obj must be a CliState, got {type(state).__name__}")
        try:
            result = super().main(
                args, prog_name or "asof", complete_var, standalone_mode=False, obj=state,
                **extra,
            )
            code = result if isinstance(result, int) and not isinstance(result, bool) else EXIT_OK
        except SystemExit:
            raise
        except BrokenPipeError:
            code = _broken_pipe()
        except BaseException as exc:  # the one place every error ends up
            if isinstance(exc, GeneratorExit):
                raise
            try:
                code = report_error(exc, verbose=state.verbose)
            except BrokenPipeError:
                code = EXIT_INTERNAL
        if standalone_mode:
            sys.exit(code)
        return code


def _broken_pipe() -> int:
    """The reader went away (``asof ... | head``): stop quietly."""
    silence_stdout()
    return EXIT_BROKEN_PIPE


@click.group(
    cls=AsofGroup,
    name="asof",
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.option(
    "--config",
    "config",
    type=click.Path(dir_okay=False),
    envvar="ASOF_CONFIG",
    show_envvar=True,
    help="Configuration file (TOML). Default: ASOF_CONFIG, else the per-user file.",
)
@click.option("-v", "--verbose", is_flag=True, help="Debug log on stderr; tracebacks on errors.")
@click.version_option(asof.__version__, "--version", prog_name="asof")
@click.pass_context
def cli(ctx: click.Context, config: str | None, verbose: bool) -> None:
    """What did this wallet or exchange account hold, as of a given moment?

    \b
    Examples:
      asof plugins
      asof chains
      asof route solana balance_at
      asof balance-at solana:WALLET USDC --at 2025-01-10
    """
    state = ctx.ensure_object(CliState)
    if config is not None:
        state.config = config
    state.verbose = state.verbose or verbose
    ctx.call_on_close(configure_logging(state.verbose))


def _late_verbose(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    """``--verbose`` given after the command name works as it does before it."""
    if value:
        state = ctx.ensure_object(CliState)
        state.verbose = True
        ctx.call_on_close(configure_logging(True))


def _add_verbose(command: click.Command) -> None:
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            _add_verbose(sub)
    taken = {opt for param in command.params for opt in getattr(param, "opts", ())}
    names = [opt for opt in ("-v", "--verbose") if opt not in taken]
    if "--verbose" not in names or any(p.name == "verbose" for p in command.params):
        return
    command.params.append(click.Option(
        [*names, "verbose"], is_flag=True, expose_value=False, callback=_late_verbose,
        help="Debug log on stderr; tracebacks on errors (same as asof --verbose).",
    ))


def _register() -> None:
    seen: dict[str, str] = {}
    for module in COMMAND_MODULES:
        for command in module.COMMANDS:
            name = command.name or ""
            if name in seen:
                raise RuntimeError(
                    f"command {name!r} is defined by both {seen[name]} and {module.__name__}"
                )
            seen[name] = module.__name__
            _add_verbose(command)
            cli.add_command(command)


_register()


def main(args: Sequence[str] | None = None, **extra: Any) -> Any:
    """Run the command line (the ``asof`` console script)."""
    return cli.main(args, **extra)
