"""Commands registered by the main CLI group (filled in by their owners)."""

from __future__ import annotations

import click

COMMANDS: list[click.Command] = []
