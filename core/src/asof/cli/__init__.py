"""The ``asof`` command line (click + rich).

The console script ``asof`` calls :func:`main`. The command group lives in
:mod:`asof.cli.app`; shared helpers for command modules in :mod:`asof.cli.common`.
Importing this package loads no command module, so ``asof.cli.common`` can be imported
by the command modules themselves.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = ["main"]


def main(args: Sequence[str] | None = None, **extra: Any) -> Any:
    """Run the ``asof`` command line and exit with its code (see ``docs/cli.md``).

    ``args`` defaults to ``sys.argv[1:]``; ``extra`` goes to click (``obj`` may be a
    :class:`~asof.cli.common.CliState`, ``standalone_mode=False`` returns the exit code
    instead of exiting).
    """
    from asof.cli.app import main as _main

    return _main(args, **extra)
