"""Credentials in a query parameter or the URL path, secrets in a configured base URL,
the in-band error check and declared message fields.

Every test answers from an ``httpx.MockTransport`` and counts the requests the server
saw; nothing reaches the network.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
import stamina
from hypothesis import given, settings
from hypothesis import strategies as st

from asof.errors import (
    AuthenticationError,
    PluginError,
    RateLimited,
    UpstreamError,
)
from asof.provider import BodyError, Credential, ProviderInfo
from asof.secrets import Secret, url_secrets
from asof.transport import MockTransport, Request, Response, Transport

KEY = "ek_5ecret+/=val ue"
NODE_KEY = "a1B2c3D4e5F6g7H8i9J0kLmN"


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(autouse=True)
def no_backoff() -> Iterator[None]:
    with stamina.set_testing(True, attempts=1000, cap=True):
        yield


class Server:
    """Answers from a queue (the last reply repeats) and keeps every request."""

    def __init__(self, *bodies: tuple[int, Any]) -> None:
        self.bodies = list(bodies)
        self.requests: list[Request] = []

    def __call__(self, request: Request) -> Response:
        self.requests.append(request)
        status, body = self.bodies.pop(0) if len(self.bodies) > 1 else self.bodies[0]
        return Response(status, text=json.dumps(body))

    def transport(self, attempts: int = 3) -> Transport:
        return Transport(http_transport=MockTransport(self), attempts=attempts)


# ------------------------------------------------------------------- declarations


def test_a_credential_has_exactly_one_placement() -> None:
    with pytest.raises(ValueError, match="exactly one"):
        Credential()
    with pytest.raises(ValueError, match="exactly one"):
        Credential(header="X-Api-Key", query="apikey")
    with pytest.raises(ValueError, match="exactly one"):
        Credential(query="apikey", path=True)
    with pytest.raises(ValueError, match="empty"):
        Credential(query=" ")
    with pytest.raises(ValueError, match="must be required"):
        Credential(path=True, required=False)
    assert Credential(header="X-Api-Key").placement == "header X-Api-Key"
    assert Credential(query="apikey").placement == "query parameter apikey"
    assert Credential(path=True, name="key").placement == "URL path"
    assert Credential(path=True, name="key").placeholder == "{key}"


# ------------------------------------------------------------------- query parameter

QUERY_INFO = ProviderInfo(
    name="scan", title="Scan", base_url="https://api.scan.example/v2/api",
    credentials=(Credential(query="apikey"),),
)


@pytest.mark.anyio
async def test_a_query_credential_travels_in_every_request_and_never_shows(
    caplog: pytest.LogCaptureFixture,
) -> None:
    server = Server((200, {"status": "1", "result": "5"}), (401, {"message": f"bad {KEY}"}))
    async with server.transport(attempts=1) as transport:
        http = transport.session(QUERY_INFO, base_url=QUERY_INFO.base_url,
                                 credentials=[(QUERY_INFO.credentials[0], Secret(KEY))])
        with caplog.at_level(logging.DEBUG, logger="asof.http"):
            assert await http.get("", params={"module": "account", "apikey": "mine"}) == {
                "status": "1", "result": "5"}
            with pytest.raises(AuthenticationError) as caught:
                await http.get("", params={"module": "account"})
    assert len(server.requests) == 2
    for request in server.requests:
        assert request.url.params["apikey"] == KEY  # the plugin cannot override it
        assert request.url.params["module"] == "account"
        assert KEY not in request.headers.values()
    text = caplog.text + str(caught.value) + repr(caught.value) + repr(http)
    assert "apikey=***" in caplog.text
    assert KEY not in text
    assert "5ecret" not in text
    assert "bad ***" in str(caught.value)


# ------------------------------------------------------------------------ URL path

PATH_INFO = ProviderInfo(
    name="node", title="Node", base_url="https://eth.node.example/v2/{api_key}",
    credentials=(Credential(path=True),),
)


@pytest.mark.anyio
async def test_a_path_credential_is_put_in_the_base_url_and_redacted(
    caplog: pytest.LogCaptureFixture,
) -> None:
    server = Server((200, {"jsonrpc": "2.0", "id": 1, "result": "0x1"}),
                    (500, {"error": {"message": f"node {KEY} down"}}))
    async with server.transport(attempts=1) as transport:
        http = transport.session(PATH_INFO, base_url=PATH_INFO.base_url,
                                 credentials=[(PATH_INFO.credentials[0], Secret(KEY))])
        with caplog.at_level(logging.DEBUG, logger="asof.http"):
            await http.post("", json={"jsonrpc": "2.0", "id": 1, "method": "eth_blockNumber"})
            with pytest.raises(UpstreamError) as caught:
                await http.post("", json={})
    assert len(server.requests) == 2
    assert server.requests[0].url.path.startswith("/v2/")
    assert server.requests[0].url.raw_path.decode() != "/v2/{api_key}"
    text = caplog.text + str(caught.value) + repr(caught.value) + repr(http)
    assert "/v2/***" in caplog.text
    assert "5ecret" not in text


def test_a_path_credential_needs_its_placeholder() -> None:
    info = ProviderInfo(name="node", title="Node", base_url="https://eth.node.example/v2",
                        credentials=(Credential(path=True),))
    with pytest.raises(PluginError, match=r"no \{api_key\}"):
        Transport().session(info, base_url=info.base_url,
                            credentials=[(info.credentials[0], Secret(KEY))])


# ------------------------------------------------------------- configured base URL


def test_url_secrets_finds_keys_but_not_public_parts() -> None:
    url = f"https://user:pw-9@eth-mainnet.vendor.example/v2/{NODE_KEY}?api-key=zz9&chain=1"
    found = url_secrets(url, known=["https://eth-mainnet.vendor.example/v2"])
    assert NODE_KEY in found
    assert {"pw-9", "user"} <= set(found)
    assert "zz9" in found  # named like a key
    assert not {"v2", "1", "eth-mainnet"} & set(found)
    assert url_secrets("https://api.helius.xyz/v1") == []
    hex_id = "0123456789abcdef0123456789abcdef"
    assert url_secrets(f"https://mainnet.infura.example/v3/{hex_id}") == [hex_id]


@pytest.mark.anyio
async def test_a_key_inside_a_configured_base_url_is_redacted(
    caplog: pytest.LogCaptureFixture,
) -> None:
    info = ProviderInfo(name="rpc", title="RPC", base_url="http://127.0.0.1:8545")
    base = f"https://sol.vendor.example/{NODE_KEY}"
    server = Server((503, {"error": f"overloaded at /{NODE_KEY}"}))
    async with server.transport(attempts=2) as transport:
        http = transport.session(info, base_url=base)
        with caplog.at_level(logging.DEBUG, logger="asof.http"), \
                pytest.raises(UpstreamError) as caught:
            await http.post("", json={"method": "getSlot"})
    assert len(server.requests) == 2
    assert NODE_KEY in str(server.requests[0].url)  # it is sent...
    shown = caplog.text + str(caught.value) + repr(caught.value) + repr(http)
    assert NODE_KEY not in shown  # ...and never shown
    assert "sol.vendor.example/***" in caplog.text


# ----------------------------------------------------------------- in-band errors

RATE = {"status": "0", "message": "NOTOK", "result": "Max calls per sec rate limit reached"}
GOOD = {"status": "1", "message": "OK", "result": "42"}


def etherscan_check(body: Any) -> BodyError | None:
    """An Etherscan-style envelope check, as a plugin would write it."""
    if not isinstance(body, dict) or body.get("status") != "0":
        return None
    result = str(body.get("result", ""))
    if body.get("message") == "No transactions found":
        return None
    if "rate limit" in result.lower():
        return BodyError(error=RateLimited, message="rate limit exceeded", retry_after=1)
    if "api key" in result.lower():
        return BodyError(error=AuthenticationError, message="refused the credential")
    return BodyError(error=UpstreamError, message="reported an error")


SCAN = ProviderInfo(
    name="scan", title="Scan", base_url="https://api.scan.example/v2/api",
    credentials=(Credential(query="apikey"),), message_fields=("message", "result"),
    check_body=etherscan_check,
)


def scan_session(transport: Transport) -> Any:
    return transport.session(SCAN, base_url=SCAN.base_url,
                             credentials=[(SCAN.credentials[0], Secret(KEY))])


@pytest.mark.anyio
async def test_an_in_band_rate_limit_is_retried_by_the_transport() -> None:
    server = Server((200, RATE), (200, RATE), (200, GOOD))
    async with server.transport(attempts=3) as transport:
        assert await scan_session(transport).get("", params={"action": "balance"}) == GOOD
    assert len(server.requests) == 3  # two in-band refusals, then the answer


@pytest.mark.anyio
async def test_an_in_band_rate_limit_that_persists_is_a_rate_limited_error() -> None:
    server = Server((200, RATE))
    async with server.transport(attempts=3) as transport:
        with pytest.raises(RateLimited) as caught:
            await scan_session(transport).get("")
    assert len(server.requests) == 3
    error = caught.value
    assert error.provider == "scan"
    assert error.status == 200
    assert error.retry_after == 1
    assert error.provider_message == "NOTOK: Max calls per sec rate limit reached"
    assert "Max calls per sec" in str(error)


@pytest.mark.anyio
async def test_an_in_band_error_is_redacted_and_not_retried_when_final() -> None:
    refused = {"status": "0", "message": "NOTOK", "result": f"Invalid API Key {KEY}"}
    server = Server((200, refused))
    async with server.transport(attempts=3) as transport:
        with pytest.raises(AuthenticationError) as caught:
            await scan_session(transport).get("")
    assert len(server.requests) == 1
    assert "5ecret" not in str(caught.value) + repr(caught.value)
    assert caught.value.provider_message == "NOTOK: Invalid API Key ***"


@pytest.mark.anyio
async def test_an_empty_envelope_the_check_accepts_is_returned() -> None:
    empty = {"status": "0", "message": "No transactions found", "result": []}
    server = Server((200, empty))
    async with server.transport() as transport:
        assert await scan_session(transport).get("") == empty
    assert len(server.requests) == 1


@pytest.mark.anyio
async def test_message_fields_name_the_providers_words_on_an_http_error() -> None:
    server = Server((502, {"status": "0", "message": "NOTOK", "result": "upstream gone",
                           "error": "ignored"}))
    async with server.transport(attempts=1) as transport:
        with pytest.raises(UpstreamError) as caught:
            await scan_session(transport).get("")
    assert caught.value.provider_message == "NOTOK: upstream gone"


@pytest.mark.anyio
async def test_a_check_that_breaks_is_a_plugin_error() -> None:
    def broken(body: Any) -> BodyError | None:
        raise KeyError(KEY)

    info = ProviderInfo(name="scan", title="Scan", base_url="https://api.scan.example",
                        credentials=(Credential(query="apikey"),), check_body=broken)
    server = Server((200, GOOD))
    async with server.transport() as transport:
        http = transport.session(info, base_url=info.base_url,
                                 credentials=[(info.credentials[0], Secret(KEY))])
        with pytest.raises(PluginError, match="check_body raised KeyError") as caught:
            await http.get("")
    assert "5ecret" not in str(caught.value)
    assert len(server.requests) == 1


# ------------------------------------------------------------- the conformance kit


@pytest.mark.anyio
@pytest.mark.parametrize("info", [QUERY_INFO, PATH_INFO], ids=["query", "path"])
async def test_the_kit_accepts_a_declared_url_credential(info: ProviderInfo) -> None:
    from asof.testing.client import FAKE_SECRET
    from asof.testing.conformance import check_requests
    from asof.testing.mock import MockHTTP, Reply

    mock = MockHTTP().queue(Reply(json=GOOD))
    async with Transport(http_transport=mock.transport) as transport:
        http = transport.session(info, base_url=info.base_url,
                                 credentials=[(info.credentials[0], Secret(FAKE_SECRET))])
        await http.get("")
    check_requests(mock, info)  # declared: accepted
    header_only = ProviderInfo(name=info.name, title="x", base_url="https://x.example",
                               credentials=(Credential(header="X-Api-Key"),))
    with pytest.raises(AssertionError, match="in the URL"):
        check_requests(mock, header_only)  # undeclared: a leak


def test_cassette_filters_cover_url_keys_and_declared_query_names() -> None:
    from asof.testing.recording import recording_config, secret_values

    env = {"ASOF_NODE_BASE_URL": f"https://sol.vendor.example/{NODE_KEY}", "HOME": "/root"}
    assert secret_values(env) == [("<ASOF_NODE_BASE_URL:1>", NODE_KEY)]
    config = recording_config(env, query_parameters=["k3y"])
    names = [name for name, _ in config["filter_query_parameters"]]
    assert "k3y" in names
    assert "apikey" in names
    assert (("<ASOF_NODE_BASE_URL:1>", NODE_KEY)) in config["filter_sensitive_data"]


@settings(max_examples=60, deadline=None)
@given(key=st.text(alphabet="abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789",
                   min_size=16, max_size=40).filter(
    lambda k: any(c.isdigit() for c in k) and any(c.isalpha() for c in k)),
       placement=st.sampled_from(["path", "query-name", "userinfo"]))
def test_a_key_in_a_configured_base_url_never_shows(key: str, placement: str) -> None:
    url = {
        "path": f"https://rpc.vendor.example/v2/{key}",
        "query-name": f"https://rpc.vendor.example/?api-key={key}",
        "userinfo": f"https://user:{key}@rpc.vendor.example/",
    }[placement]
    info = ProviderInfo(name="rpc", title="RPC", base_url="https://rpc.vendor.example")
    http = Transport().session(info, base_url=url)
    assert key in url_secrets(url, known=[info.base_url])
    assert key not in repr(http)
    assert key not in http.redact(f"error at {url}/x?y=1")
