"""``python -m asof``: the ``asof`` command line, for environments without the script."""

from __future__ import annotations

from asof.cli import main

if __name__ == "__main__":
    main(prog_name="asof")
