"""Splitting items into lists of a bounded size, read lazily: what a bulk job plans at a
time, what a copy stores in one transaction, the wallets one history request takes."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from typing import TypeVar

__all__ = ["batches"]

T = TypeVar("T")


def batches(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """``items`` in lists of ``size`` (the last one shorter), each read only when it is
    asked for."""
    if size < 1:
        raise ValueError(f"size must be at least 1, not {size!r}")
    it = iter(items)
    while batch := list(itertools.islice(it, size)):
        yield batch
