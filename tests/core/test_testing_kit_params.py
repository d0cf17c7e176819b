"""MockHTTP matching on query parameters, and the kit's client without a rate limit."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from asof.provider import RateLimit
from asof.testing.client import make_client
from asof.testing.mock import MockHTTP, Reply
from asof.transport import Transport


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def test_routes_match_on_query_parameters_most_specific_first() -> None:
    mock = (
        MockHTTP()
        .get("/v2/api", Reply(json={"result": "balance"}), params={"action": "balance"})
        .get("/v2/api", Reply(json={"result": "block"}),
             params={"action": "getblocknobytime", "closest": "before"})
        .get("/v2/api", Reply(json={"result": "any"}))
        .get("/v2/api", Reply(json={"result": "tagged"}),
             params={"action": "balance", "tag": 21900000})
    )

    async def ask(**params: Any) -> Any:
        async with Transport(http_transport=mock.transport) as transport:
            from asof.provider import ProviderInfo

            info = ProviderInfo(name="scan", title="Scan", base_url="https://scan.example")
            return await transport.session(info, base_url=info.base_url).get(
                "/v2/api", params=params)

    import anyio

    # Asked out of the order they were scripted in.
    assert anyio.run(lambda: ask(action="getblocknobytime", closest="before",
                                 timestamp=1))["result"] == "block"
    assert anyio.run(lambda: ask(action="balance", tag="21900000"))["result"] == "tagged"
    assert anyio.run(lambda: ask(action="balance", tag="latest"))["result"] == "balance"
    assert anyio.run(lambda: ask(action="getblocknobytime"))["result"] == "any"
    assert len(mock.requests) == 4


def test_no_reply_names_the_query() -> None:
    mock = MockHTTP().get("/a", Reply(json={}), params={"x": "1"})
    import anyio

    from asof.provider import ProviderInfo

    async def ask() -> Any:
        async with Transport(http_transport=mock.transport) as transport:
            info = ProviderInfo(name="scan", title="Scan", base_url="https://scan.example")
            return await transport.session(info, base_url=info.base_url).get(
                "/a", params={"x": "2"})

    with pytest.raises(AssertionError, match=r"no reply for GET /a\?x=2"):
        anyio.run(ask)


@pytest.mark.anyio
async def test_the_kits_client_has_no_rate_limit_unless_asked(tmp_path: Path) -> None:
    import asof_allium

    declared = asof_allium.provider_info().rate_limit
    assert declared == RateLimit(requests=1, per_seconds=1.0, note="base plan; unverified")
    async with make_client(asof_allium, config_dir=tmp_path / "a") as client:
        assert client.router.context("allium").http.rate_limit is None
    async with make_client(asof_allium, config_dir=tmp_path / "b", rate_limited=True) as client:
        assert client.router.context("allium").http.rate_limit == declared
