"""The strict answer reader: exact values, and errors naming provider and field path."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from asof.errors import ResponseError
from asof.strict import strict

BODY: dict[str, Any] = {
    "balanceRaw": "123456789012345678901234567890",
    "balance": Decimal("1.5"),
    "native": True,
    "asOf": {"slot": 7, "time": None},
    "data": [{"event_type": "deposit", "amount": "0.10"}, {"event_type": "", "amount": 1.5}],
}


def test_reads_exact_values() -> None:
    answer = strict("demo", BODY, "balance answer")
    assert answer["balanceRaw"].as_int() == 123456789012345678901234567890
    assert answer["balance"].as_decimal() == Decimal("1.5")
    assert answer["native"].as_bool() is True
    slot = answer["asOf"].get("slot")
    assert slot is not None
    assert slot.as_int() == 7
    assert answer["asOf"].get("time") is None
    assert answer["asOf"]["time"].is_null
    assert answer["asOf"].get("hash") is None
    rows = answer["data"].items()
    assert rows[0]["amount"].as_decimal() == Decimal("0.10")
    assert rows[1]["event_type"].optional_str() is None
    assert "data" in answer


@pytest.mark.parametrize(
    ("read", "path", "words"),
    [
        (lambda a: a["missing"], "missing", "is missing"),
        (lambda a: a["native"].as_int(), "native", "expected an integer"),
        (lambda a: a["data"].items()[1]["amount"].as_decimal(), "data[1].amount", "decimal"),
        (lambda a: a["data"].items()[1]["event_type"].as_str(), "data[1].event_type", "empty"),
        (lambda a: a["balance"].items(), "balance", "expected a list"),
        (lambda a: a["balanceRaw"]["x"], "balanceRaw", "expected an object"),
        (lambda a: a["asOf"]["slot"].as_bool(), "asOf.slot", "true or false"),
    ],
)
def test_errors_name_the_provider_and_the_path(read: Any, path: str, words: str) -> None:
    with pytest.raises(ResponseError) as caught:
        read(strict("demo", BODY, "balance answer"))
    error = caught.value
    assert error.provider == "demo"
    assert error.field == path
    assert f"balance answer does not match the provider's documents: {path}" in str(error)
    assert words in str(error)


def test_the_body_itself_is_named_body() -> None:
    with pytest.raises(ResponseError, match="body: expected an object, got a list") as caught:
        strict("demo", [], "answer")["x"]
    assert caught.value.field == "body"


@given(st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=5)
                    | st.decimals(allow_nan=False, allow_infinity=False),
                    lambda inner: st.lists(inner, max_size=3)
                    | st.dictionaries(st.text(max_size=3), inner, max_size=3), max_leaves=10))
def test_any_json_reads_or_raises_a_response_error(body: Any) -> None:
    answer = strict("demo", body)
    try:
        number = answer.as_int()
    except ResponseError:
        number = None
    if number is not None:
        assert type(number) is int
        assert not isinstance(body, bool | float)
    try:
        value = answer.as_decimal()
    except ResponseError:
        value = None
    if value is not None:
        assert isinstance(value, Decimal)
        assert value.is_finite()
    try:
        items = answer.items()
    except ResponseError:
        assert not isinstance(body, list)
    else:
        assert [item.value for item in items] == body
