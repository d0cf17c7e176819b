"""A JSON body reads to the same values whichever reader reads it: the quick reader of
UTF-8 bodies gives exactly what the standard library gives (integers exact, other
numbers ``Decimal``, the last of repeated keys), and anything it refuses is read, or
refused, by the standard library as before."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import anyio
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from asof.errors import UnreadableResponse
from asof.provider import ProviderInfo
from asof.transport import MockTransport, Request, Response, Transport

BASE = "https://api.demo.example"
INFO = ProviderInfo(name="demo", title="Demo", base_url=BASE)


def _read(content: bytes, content_type: str = "application/json") -> Any:
    def handler(request: Request) -> Response:
        return Response(200, content=content, headers={"Content-Type": content_type})

    async def main() -> Any:
        transport = Transport(http_transport=MockTransport(handler), attempts=1)
        async with transport:
            return await transport.session(INFO, base_url=BASE).get("x")

    return anyio.run(main)


def _standard(text: str) -> Any:
    return json.loads(text, parse_float=Decimal)


_numbers = st.one_of(
    st.integers(min_value=-(10**40), max_value=10**40),
    st.decimals(allow_nan=False, allow_infinity=False).map(lambda d: format(d, "f")),
    st.sampled_from(["0.0", "-0", "1e400", "-2.5E-3", "1.10", "123456789012345678901.5"]),
)
_scalars = st.one_of(st.none(), st.booleans(), st.text(), _numbers)
_values = st.recursive(
    _scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4),
                            st.dictionaries(st.text(max_size=5), inner, max_size=4)),
    max_leaves=20,
)


def _dump(value: Any) -> str:
    """JSON text of ``value``; strings standing for numbers are written as numbers."""
    if isinstance(value, str) and value and (value[0].isdigit() or value[0] == "-"):
        try:
            Decimal(value)
        except ArithmeticError:
            return json.dumps(value)
        return value
    if isinstance(value, list):
        return "[" + ", ".join(_dump(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(k)}: {_dump(v)}" for k, v in value.items()) + "}"
    return json.dumps(value)


@settings(max_examples=60, deadline=None)
@given(_values)
def test_any_json_reads_as_the_standard_library_reads_it(value: Any) -> None:
    text = _dump(value)
    expected = _standard(text)
    found = _read(text.encode())
    assert found == expected
    assert repr(found) == repr(expected)  # the same types too (int, Decimal, bool)


@pytest.mark.parametrize("text", [
    '{"a": 1, "a": 2}',  # the last of repeated keys
    '"\\ud800"',  # a lone surrogate: the quick reader refuses it, the standard one reads it
    '\ufeff{"bom": true}',  # a byte order mark
    '  [1, 2.50, 30000000000000000000000000]  ',
])
def test_edge_cases_read_as_before(text: str) -> None:
    try:
        expected: Any = _standard(text)
    except ValueError:
        with pytest.raises(UnreadableResponse):
            _read(text.encode())
        return
    assert _read(text.encode()) == expected


@pytest.mark.parametrize("kind", ["application/json; charset=latin-1",
                                  "application/json; Charset=ISO-8859-1"])
def test_a_declared_charset_other_than_utf8_is_honoured(kind: str) -> None:
    body = '{"name": "café"}'.encode("latin-1")
    assert _read(body, kind) == {"name": "café"}


@pytest.mark.parametrize("kind", ["application/json", "application/json; charset=UTF-8",
                                  "text/plain"])
def test_utf8_or_no_charset_reads_the_bytes_as_utf8(kind: str) -> None:
    assert _read('{"name": "café ✓"}'.encode(), kind) == {"name": "café ✓"}


@pytest.mark.parametrize("body", [b"NaN", b'{"x": Infinity}', b"[1,]", b'{"a": 1'])
def test_what_is_not_json_is_refused_as_before(body: bytes) -> None:
    with pytest.raises(UnreadableResponse, match="cut short or not JSON"):
        _read(body)


def test_an_empty_body_reads_as_none() -> None:
    assert _read(b"  \n") is None
