"""JSON-RPC 2.0 over a provider's HTTP session, for plugins that talk to chain nodes.

A :class:`JsonRpc` wraps the :class:`~asof.context.ProviderHTTP` the core hands a
plugin (``ctx.http``), so retries, rate limits, timeouts, credentials and redaction stay
the transport's. It adds what every node protocol needs:

- single calls (:meth:`JsonRpc.call`) and batches (:meth:`JsonRpc.batch`, a list
  body), with ids that depend only on the request (``1`` for a single call, ``1..n``
  inside each batch), so recorded answers replay whatever was asked before;
- a fallback to single calls when the node refuses batching: it answers a batch with
  an error object or anything but a list, or with an HTTP 4xx status that is not about
  credentials or rate. After one refusal the helper stops batching for its lifetime.
  Calls missing from a batch answer (some nodes cap the batch size) are asked singly;
- JSON-RPC error objects turned into :mod:`asof.errors`, carrying the node's own
  message, the method as ``field`` and ``{"code", "message", "data", "method"}`` as
  ``details`` (see :func:`rpc_error`). Rate-limit codes become
  :class:`~asof.errors.RateLimited`.

Error code map (JSON-RPC 2.0 and EIP-1474)::

    -32700 parse error, -32600 invalid request,        ProviderRequestError
    -32601 method not found, -32602 invalid params,
    -32003 transaction rejected, -32004 not supported,
    3 execution reverted, other -32000..-32099
    -32001 resource not found                          NotFoundError
    -32603 internal error, -32002 unavailable          UpstreamError
    -32005 limit exceeded, 429, -32429, -32097,        RateLimited
    or a message saying "rate limit" / "too many requests"

A plugin refines a node-specific meaning (for example pruned state) by catching
:class:`~asof.errors.ProviderError` and reading :func:`rpc_code` and
``provider_message``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from asof.context import ProviderHTTP
from asof.errors import (
    NotFoundError,
    ProviderError,
    ProviderRequestError,
    RateLimited,
    ResponseError,
    UpstreamError,
)

__all__ = ["Call", "JsonRpc", "rpc_code", "rpc_error"]

Call = tuple[str, Sequence[Any] | Mapping[str, Any]]
"""One call: the method name and its params (a list, or an object)."""

_RATE_CODES = frozenset({-32005, -32097, -32429, 429})
_RATE_WORDS = ("rate limit", "rate-limit", "ratelimit", "too many requests")
_UPSTREAM_CODES = frozenset({-32603, -32002})


def rpc_error(provider: str, method: str, error: Any) -> ProviderError:
    """The typed error for the JSON-RPC error object ``error`` answering ``method``."""
    if not isinstance(error, Mapping):
        return ResponseError(
            provider, f"{method} answered an error that is not an object: {error!r}",
            field=method,
        )
    code = error.get("code")
    message = error.get("message")
    text = str(message).strip() if message is not None else ""
    details = {"code": code, "message": text, "data": error.get("data"), "method": method}
    said = text or "no message"
    kind: type[ProviderError]
    lowered = text.lower()
    if (type(code) is int and code in _RATE_CODES) or any(w in lowered for w in _RATE_WORDS):
        return RateLimited(
            provider, f"{method}: rate limit exceeded (JSON-RPC {code})",
            provider_message=said, details=details, field=method,
        )
    if code == -32001:
        kind, words = NotFoundError, "found nothing"
    elif type(code) is int and code in _UPSTREAM_CODES:
        kind, words = UpstreamError, "failed inside the node"
    elif code == -32601:
        kind, words = ProviderRequestError, "method not found"
    elif code == -32602:
        kind, words = ProviderRequestError, "invalid params"
    else:
        kind, words = ProviderRequestError, "refused the call"
    return kind(
        provider, f"{method}: {words} (JSON-RPC {code})",
        provider_message=said, details=details, field=method,
    )


def rpc_code(error: BaseException) -> int | None:
    """The JSON-RPC error code an error from :class:`JsonRpc` carries, if any."""
    details = getattr(error, "details", None)
    if isinstance(details, Mapping):
        code = details.get("code")
        if type(code) is int:
            return code
    return None


class JsonRpc:
    """JSON-RPC 2.0 calls over ``http`` (a plugin's ``ctx.http``).

    ``provider`` names the provider in errors; ``path`` is the endpoint relative to the
    provider's base URL (``""`` for the base URL itself); ``batch`` says whether to try
    batches at all; ``max_batch`` caps the calls per batch request. ``requests`` counts
    the HTTP requests sent, for cost measurements.
    """

    def __init__(
        self,
        http: ProviderHTTP,
        provider: str,
        *,
        path: str = "",
        batch: bool = True,
        max_batch: int = 100,
    ) -> None:
        if max_batch < 1:
            raise ValueError(f"max_batch must be positive, not {max_batch!r}")
        self.http = http
        self.provider = provider
        self.path = path
        self.batching = batch
        self.max_batch = max_batch
        self.requests = 0

    async def call(self, method: str, params: Sequence[Any] | Mapping[str, Any] = ()) -> Any:
        """The ``result`` of one call; a JSON-RPC error raises as the module says."""
        return self._result(method, await self._single(method, params))

    async def batch(self, calls: Sequence[Call]) -> list[Any]:
        """The results of ``calls``, in order; the first call that failed raises."""
        settled = await self.batch_settled(calls)
        for item in settled:
            if isinstance(item, ProviderError):
                raise item
        return settled

    async def batch_settled(self, calls: Sequence[Call]) -> list[Any]:
        """The result of each of ``calls``, in order, or the typed error it got.

        Errors of the whole request (transport, credentials, rate) raise.
        """
        results: list[Any] = []
        for start in range(0, len(calls), self.max_batch):
            results.extend(await self._chunk(calls[start:start + self.max_batch]))
        return results

    # -- internals

    async def _chunk(self, calls: Sequence[Call]) -> list[Any]:
        if not self.batching or len(calls) == 1:
            return [await self._settle(method, params) for method, params in calls]
        body = [
            {"jsonrpc": "2.0", "id": index, "method": method, "params": _params(params)}
            for index, (method, params) in enumerate(calls, start=1)
        ]
        self.requests += 1
        try:
            answer = await self.http.post(self.path, json=body)
        except (ProviderRequestError, NotFoundError):
            answer = None  # an HTTP 4xx for a batch: the node does not take batches
        if not isinstance(answer, list):
            self.batching = False
            return [await self._settle(method, params) for method, params in calls]
        by_id: dict[int, Any] = {}
        for item in answer:
            if isinstance(item, Mapping) and type(item.get("id")) is int:
                by_id[item["id"]] = item
        out: list[Any] = []
        for index, (method, params) in enumerate(calls, start=1):
            if index in by_id:
                out.append(self._settled(method, by_id[index]))
            else:
                out.append(await self._settle(method, params))
        return out

    async def _single(self, method: str, params: Sequence[Any] | Mapping[str, Any]) -> Any:
        body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": _params(params)}
        self.requests += 1
        answer = await self.http.post(self.path, json=body)
        if isinstance(answer, list) and len(answer) == 1:
            answer = answer[0]
        return answer

    async def _settle(self, method: str, params: Sequence[Any] | Mapping[str, Any]) -> Any:
        return self._settled(method, await self._single(method, params))

    def _settled(self, method: str, answer: Any) -> Any:
        """The result, or the call's own error (a rate limit still raises)."""
        try:
            return self._result(method, answer)
        except RateLimited:
            raise
        except ProviderError as error:
            return error

    def _result(self, method: str, answer: Any) -> Any:
        if not isinstance(answer, Mapping):
            raise ResponseError(
                self.provider,
                f"{method} answered {type(answer).__name__}, not a JSON-RPC response object",
                field=method,
            )
        if answer.get("error") is not None:
            raise rpc_error(self.provider, method, answer["error"])
        if "result" not in answer:
            raise ResponseError(
                self.provider, f"{method} answered neither a result nor an error", field=method
            )
        return answer["result"]


def _params(params: Sequence[Any] | Mapping[str, Any]) -> Any:
    return dict(params) if isinstance(params, Mapping) else list(params)

