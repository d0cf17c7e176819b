"""The plugin's ABI and hex readers: exact round trips, and anything else a node might
send refused as a ResponseError naming the field (never another exception)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from asof.errors import ResponseError
from asof_evm.abi import (
    address_topic,
    balance_of_data,
    data_bytes,
    quantity,
    to_quantity,
    topic_address,
    uint256,
)

addresses = st.binary(min_size=20, max_size=20).map(lambda b: "0x" + b.hex())
junk = st.one_of(st.text(max_size=70), st.integers(), st.none(), st.booleans(),
                 st.lists(st.integers(), max_size=3), st.binary(max_size=5))


@given(st.integers(0, 2**256 - 1))
def test_quantities_round_trip(value: int) -> None:
    assert quantity("evm", to_quantity(value), "x") == value


@given(st.integers(0, 2**256 - 1))
def test_words_decode_exactly(value: int) -> None:
    data = data_bytes("evm", "0x" + f"{value:064x}" + "ff" * 32, "x")
    assert uint256("evm", data, "x") == value


@given(addresses)
def test_address_topics_round_trip(address: str) -> None:
    assert topic_address("evm", address_topic(address), "t") == address
    assert balance_of_data(address).endswith(address[2:])
    assert len(balance_of_data(address)) == 2 + 8 + 64


@given(junk)
@settings(max_examples=300)
def test_junk_is_a_response_error_naming_the_field(value: Any) -> None:
    fields: list[str | None] = []
    for read in (lambda v: quantity("evm", v, "f"), lambda v: data_bytes("evm", v, "f"),
                 lambda v: topic_address("evm", v, "f")):
        try:
            read(value)
        except ResponseError as error:
            fields.append(error.field)
    assert set(fields) <= {"f"}


def test_short_words_and_dirty_topics_are_refused() -> None:
    with pytest.raises(ResponseError, match="32-byte word"):
        uint256("evm", b"\x01" * 31, "balanceOf")
    with pytest.raises(ResponseError, match="address topic"):
        topic_address("evm", "0x" + "11" * 32, "topics[1]")
    with pytest.raises(ResponseError, match="hex quantity"):
        quantity("evm", "0x", "number")
