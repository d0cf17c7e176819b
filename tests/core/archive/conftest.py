"""Fixtures for the archive tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from asof.archive import Archive

from .helpers import clock


@pytest.fixture
def archive(tmp_path: Path) -> Iterator[Archive]:
    """A fresh archive file whose clock says 2025-06-01."""
    with Archive(tmp_path / "archive.sqlite", clock=clock()) as opened:
        yield opened
