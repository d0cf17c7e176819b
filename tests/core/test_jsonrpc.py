"""The JSON-RPC helper: single calls, batches, the batch fallback and error mapping.

Every test answers from an ``httpx.MockTransport`` standing for a node; the node's log
of requests is what the call counts are asserted from.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest
import stamina
from hypothesis import given, settings
from hypothesis import strategies as st

from asof.errors import (
    AuthenticationError,
    NotFoundError,
    ProviderError,
    ProviderRequestError,
    RateLimited,
    ResponseError,
    UpstreamError,
)
from asof.jsonrpc import JsonRpc, rpc_code, rpc_error
from asof.provider import ProviderInfo
from asof.transport import MockTransport, Request, Response, Transport

BASE = "http://127.0.0.1:8545"
INFO = ProviderInfo(name="node", title="Node", base_url=BASE)


class Node:
    """A fake node: ``answer(call)`` gives each call's response object; batches are
    answered item by item unless ``batching`` is off, in which case ``refusal`` is
    sent for a list body."""

    def __init__(
        self,
        answer: Callable[[dict[str, Any]], dict[str, Any]],
        *,
        refusal: Response | None = None,
    ) -> None:
        self.answer = answer
        self.refusal = refusal
        self.bodies: list[Any] = []

    def __call__(self, request: Request) -> Response:
        body = json.loads(request.content)
        self.bodies.append(body)
        if isinstance(body, list):
            if self.refusal is not None:
                return self.refusal
            return Response(200, text=json.dumps([self.answer(item) for item in body]))
        return Response(200, text=json.dumps(self.answer(body)))

    def rpc(self, **kw: Any) -> JsonRpc:
        transport = Transport(http_transport=MockTransport(self), attempts=1)
        return JsonRpc(transport.session(INFO, base_url=BASE), "node", **kw)


def echo(call: dict[str, Any]) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": call["id"], "result": [call["method"], call["params"]]}


@pytest.fixture(autouse=True)
def no_backoff() -> Iterator[None]:
    with stamina.set_testing(True, attempts=1):
        yield


@pytest.mark.anyio
async def test_single_call_sends_a_deterministic_body() -> None:
    node = Node(echo)
    rpc = node.rpc()
    assert await rpc.call("eth_chainId") == ["eth_chainId", []]
    assert await rpc.call("eth_getBalance", ["0xab", "0x10"]) == [
        "eth_getBalance", ["0xab", "0x10"]
    ]
    assert node.bodies == [
        {"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []},
        {"jsonrpc": "2.0", "id": 1, "method": "eth_getBalance", "params": ["0xab", "0x10"]},
    ]
    assert rpc.requests == 2


@pytest.mark.anyio
async def test_numbers_in_results_stay_exact() -> None:
    node = Node(lambda c: {"jsonrpc": "2.0", "id": c["id"], "result": {"a": 2**200, "b": 0.1}})
    result = await node.rpc().call("x")
    assert result == {"a": 2**200, "b": Decimal("0.1")}


@pytest.mark.anyio
async def test_batch_is_one_request_with_ids_in_order() -> None:
    node = Node(echo)
    rpc = node.rpc()
    calls = [("m", [i]) for i in range(5)]
    assert await rpc.batch(calls) == [["m", [i]] for i in range(5)]
    assert len(node.bodies) == 1
    assert [item["id"] for item in node.bodies[0]] == [1, 2, 3, 4, 5]
    assert rpc.requests == 1


@pytest.mark.anyio
async def test_batch_answers_out_of_order_are_matched_by_id() -> None:
    def reversed_node(request: Request) -> Response:
        body = json.loads(request.content)
        return Response(200, text=json.dumps([echo(item) for item in reversed(body)]))

    transport = Transport(http_transport=MockTransport(reversed_node), attempts=1)
    rpc = JsonRpc(transport.session(INFO, base_url=BASE), "node")
    assert await rpc.batch([("a", []), ("b", []), ("c", [])]) == [
        ["a", []], ["b", []], ["c", []]
    ]


@pytest.mark.anyio
async def test_batches_are_cut_at_max_batch() -> None:
    node = Node(echo)
    rpc = node.rpc(max_batch=2)
    assert len(await rpc.batch([("m", [i]) for i in range(5)])) == 5
    assert [len(b) if isinstance(b, list) else 1 for b in node.bodies] == [2, 2, 1]


REFUSALS = {
    "error object": Response(200, text=json.dumps(
        {"jsonrpc": "2.0", "id": None, "error": {"code": -32600, "message": "batch disabled"}})),
    "not a list": Response(200, text=json.dumps({"ok": True})),
    "http 400": Response(400, text="batch requests are not supported"),
    "http 405": Response(405, text="method not allowed"),
    "http 413": Response(413, text="too large"),
}


@pytest.mark.anyio
@pytest.mark.parametrize("how", sorted(REFUSALS))
async def test_a_node_that_refuses_batches_gets_single_calls(how: str) -> None:
    node = Node(echo, refusal=REFUSALS[how])
    rpc = node.rpc()
    calls = [("m", [i]) for i in range(3)]
    assert await rpc.batch(calls) == [["m", [i]] for i in range(3)]
    assert rpc.batching is False
    # one refused batch, then three single calls; later batches go singly at once
    assert [isinstance(b, list) for b in node.bodies] == [True, False, False, False]
    assert await rpc.batch(calls) == [["m", [i]] for i in range(3)]
    assert len(node.bodies) == 7
    assert rpc.requests == 7


@pytest.mark.anyio
async def test_calls_missing_from_a_batch_answer_are_asked_singly() -> None:
    def capped(request: Request) -> Response:
        body = json.loads(request.content)
        if isinstance(body, list):
            return Response(200, text=json.dumps([echo(item) for item in body[:2]]))
        return Response(200, text=json.dumps(echo(body)))

    seen: list[Any] = []
    transport = Transport(
        http_transport=MockTransport(lambda r: (seen.append(r), capped(r))[1]), attempts=1
    )
    rpc = JsonRpc(transport.session(INFO, base_url=BASE), "node")
    assert await rpc.batch([("m", [i]) for i in range(4)]) == [["m", [i]] for i in range(4)]
    assert len(seen) == 3
    assert rpc.batching is True


@pytest.mark.anyio
async def test_credential_refusal_of_a_batch_is_not_a_batch_refusal() -> None:
    node = Node(echo, refusal=Response(401, text=json.dumps({"error": "bad key"})))
    with pytest.raises(AuthenticationError, match="bad key"):
        await node.rpc().batch([("a", []), ("b", [])])
    assert len(node.bodies) == 1


def failing(code: int, message: str, data: Any = None) -> Callable[[dict[str, Any]], Any]:
    def answer(call: dict[str, Any]) -> dict[str, Any]:
        error: dict[str, Any] = {"code": code, "message": message}
        if data is not None:
            error["data"] = data
        return {"jsonrpc": "2.0", "id": call["id"], "error": error}
    return answer


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("code", "message", "kind"),
    [
        (-32700, "parse error", ProviderRequestError),
        (-32600, "invalid request", ProviderRequestError),
        (-32601, "the method eth_foo does not exist/is not available", ProviderRequestError),
        (-32602, "invalid argument 0: hex string has odd length", ProviderRequestError),
        (-32603, "internal error", UpstreamError),
        (-32000, "missing trie node abc", ProviderRequestError),
        (-32001, "resource not found", NotFoundError),
        (-32002, "resource unavailable", UpstreamError),
        (-32005, "daily request count exceeded, request rate limited", RateLimited),
        (429, "Too Many Requests", RateLimited),
        (-32000, "Your app has exceeded its compute units per second capacity: rate limit",
         RateLimited),
        (3, "execution reverted", ProviderRequestError),
    ],
)
async def test_error_objects_map_to_typed_errors(
    code: int, message: str, kind: type[ProviderError]
) -> None:
    node = Node(failing(code, message, data="0xdead"))
    with pytest.raises(kind) as caught:
        await node.rpc().call("eth_getBalance", ["0x1", "latest"])
    error = caught.value
    assert type(error) is kind
    assert error.provider_message == message
    assert message in str(error)
    assert "eth_getBalance" in str(error)
    assert error.field == "eth_getBalance"
    assert rpc_code(error) == code
    assert error.details["data"] == "0xdead"


@pytest.mark.anyio
async def test_a_failed_item_of_a_batch_raises_or_is_settled() -> None:
    def some_fail(call: dict[str, Any]) -> dict[str, Any]:
        if call["params"] == [1]:
            return failing(-32000, "header not found")(call)
        return echo(call)

    node = Node(some_fail)
    rpc = node.rpc()
    calls = [("m", [0]), ("m", [1]), ("m", [2])]
    settled = await rpc.batch_settled(calls)
    assert settled[0] == ["m", [0]]
    assert settled[2] == ["m", [2]]
    assert isinstance(settled[1], ProviderRequestError)
    assert settled[1].provider_message == "header not found"
    with pytest.raises(ProviderRequestError, match="header not found"):
        await rpc.batch(calls)


@pytest.mark.anyio
async def test_a_rate_limited_item_raises_even_when_settled() -> None:
    node = Node(failing(-32005, "limit exceeded"))
    with pytest.raises(RateLimited):
        await node.rpc().batch_settled([("a", []), ("b", [])])


@pytest.mark.anyio
@pytest.mark.parametrize(
    "answer",
    [[], "text", {"jsonrpc": "2.0", "id": 1}, {"jsonrpc": "2.0", "id": 1, "error": "boom"}],
)
async def test_malformed_answers_are_response_errors(answer: Any) -> None:
    transport = Transport(
        http_transport=MockTransport(lambda r: Response(200, text=json.dumps(answer))),
        attempts=1,
    )
    rpc = JsonRpc(transport.session(INFO, base_url=BASE), "node")
    with pytest.raises(ResponseError):
        await rpc.call("m")


@given(
    code=st.one_of(st.integers(-(2**40), 2**40), st.none(), st.text(max_size=5)),
    message=st.one_of(st.text(max_size=40), st.none(), st.integers()),
)
@settings(max_examples=200, deadline=None)
def test_rpc_error_always_gives_a_provider_error(code: Any, message: Any) -> None:
    error = rpc_error("node", "m", {"code": code, "message": message})
    assert isinstance(error, ProviderError)
    assert error.field == "m"
    assert str(error).startswith("node: m")


def test_max_batch_must_be_positive() -> None:
    node = Node(echo)
    transport = Transport(http_transport=MockTransport(node), attempts=1)
    with pytest.raises(ValueError, match="max_batch"):
        JsonRpc(transport.session(INFO, base_url=BASE), "node", max_batch=0)
