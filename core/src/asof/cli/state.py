"""The per-invocation state of the ``asof`` command line.

:class:`CliState` holds ``--config``, ``--verbose``, the selected ``--format`` and an
optional client factory that tests inject; :data:`pass_state` hands it to a command.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING

import attrs
import click

if TYPE_CHECKING:
    from asof.client import AsyncClient

__all__ = ["CliState", "ClientFactory", "pass_state"]

#: Builds the client a command runs with; tests set one on :class:`CliState`.
ClientFactory = Callable[["CliState"], AbstractAsyncContextManager["AsyncClient"]]

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
