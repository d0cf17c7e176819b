"""Whatever Etherscan answers, the plugin's readers either accept it or raise asof's
typed errors: the in-band check never raises, and a malformed transfer list is a
ResponseError naming the field."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from asof.plugin import BodyError, ResponseError, strict
from asof_etherscan.envelope import check_body
from asof_etherscan.history import parse_transfers

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=12)
    | st.decimals(allow_nan=False, allow_infinity=False, places=3),
    lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
ENVELOPE = st.fixed_dictionaries(
    {"status": st.sampled_from(["0", "1", 0, None, "2"])},
    optional={"message": st.sampled_from(["NOTOK", "OK", "No transactions found"]) | JSON,
              "result": JSON | st.text(max_size=60)},
)
ROW_KEYS = ("blockNumber", "timeStamp", "hash", "from", "to", "contractAddress", "value",
            "tokenDecimal", "tokenSymbol", "transactionIndex", "blockHash")
VALUE = (st.text(alphabet="0123456789abcdefx", min_size=1, max_size=12)
         | st.integers(-5, 10**20).map(str) | st.integers(-5, 10**20) | JSON)
ADDRESS = st.sampled_from(["0xa0b86991c6218b36c1d19d4a2e9eb0ce3606eb48",
                           "0x1111111111111111111111111111111111111111"]) | VALUE
ROW = st.fixed_dictionaries(
    {key: ADDRESS if key == "contractAddress" else VALUE for key in ROW_KEYS}
) | st.dictionaries(
    st.sampled_from(ROW_KEYS), VALUE, max_size=len(ROW_KEYS))


@settings(max_examples=200, deadline=None)
@given(body=ENVELOPE | JSON)
def test_the_in_band_check_never_raises(body):
    found = check_body(body)
    assert found is None or isinstance(found, BodyError)
    if isinstance(body, dict) and body.get("status") == "0" and found is not None:
        assert found.provider_message is None or isinstance(found.provider_message, str)


@settings(max_examples=300, deadline=None)
@given(rows=st.lists(ROW, max_size=3) | JSON)
def test_a_transfer_list_is_read_or_refused_with_a_named_field(rows):
    try:
        transfers = parse_transfers(strict("etherscan", rows, "tokentx answer"), "ethereum")
    except ResponseError as exc:
        field = exc.field
        transfers = []
        assert field, "a refusal names the field"
    assert all(t.value >= 0 and t.block >= 0 and t.index >= 0 for t in transfers)
    assert all(t.token.decimals is None or 0 <= t.token.decimals <= 255 for t in transfers)
    assert all(not isinstance(t.value, Decimal) for t in transfers)


def test_an_impossible_time_or_a_negative_block_names_its_field():
    row = {"blockNumber": "1", "timeStamp": "1700000000", "hash": "0x01", "from": "0x1",
           "to": "0x2", "contractAddress": "0xa0b86991c6218b36c1d19d4a2e9eb0ce3606eb48",
           "value": "5", "tokenDecimal": "6", "tokenSymbol": "USDC",
           "transactionIndex": "0", "blockHash": None}
    for key, bad in (("timeStamp", "99999999999999"), ("blockNumber", "-1"),
                     ("transactionIndex", "-2")):
        with pytest.raises(ResponseError) as caught:
            parse_transfers(strict("etherscan", [{**row, key: bad}], "tokentx answer"),
                            "ethereum")
        assert caught.value.field == f"[0].{key}"
    assert len(parse_transfers(strict("etherscan", [row], "tokentx answer"), "ethereum")) == 1
