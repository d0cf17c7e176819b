"""Opaque plugin cursors: what is packed comes back; anything else is refused."""

import pytest

from asof.cursors import pack_cursor, unpack_cursor
from asof.errors import InputError


def test_round_trip_with_and_without_prefix() -> None:
    state = {"w": 2, "c": "provider/cursor+with=odd chars", "b": [None, ["x", 3]]}
    assert unpack_cursor(pack_cursor(state), owner="x") == state
    text = pack_cursor(state, prefix="pf1.")
    assert text.startswith("pf1.")
    assert "=" not in text
    assert unpack_cursor(text, owner="x", prefix="pf1.") == state


@pytest.mark.parametrize("text", ["", "pf2.e30", "pf1.!!!", "pf1." + "W10", 5, None])
def test_foreign_text_is_refused(text: object) -> None:
    with pytest.raises(InputError, match="not a cursor the test plugin wrote") as info:
        unpack_cursor(text, owner="the test plugin", prefix="pf1.")
    assert info.value.field == "cursor"
