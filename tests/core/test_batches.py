"""``asof.batches``: lists of a bounded size, in order, read lazily."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from asof.batches import batches


@given(st.lists(st.integers()), st.integers(min_value=1, max_value=20))
def test_batches_keep_every_item_in_order_and_bound_each_list(items: list[int],
                                                               size: int) -> None:
    got = list(batches(items, size))
    assert [x for batch in got for x in batch] == items
    assert all(len(batch) == size for batch in got[:-1])
    assert all(1 <= len(batch) <= size for batch in got)
    assert len(got) == -(-len(items) // size)


def test_batches_read_only_what_is_asked_for() -> None:
    endless = itertools.count()
    first = next(batches(endless, 3))
    assert first == [0, 1, 2]
    assert next(endless) == 3  # nothing past the first list was read


def test_a_size_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        list(batches([1], 0))
