"""Canned HTTP answers for tests, served through ``httpx.MockTransport``.

:class:`MockHTTP` answers requests by method, path and (optionally) query parameters, or,
for conformance checks, any request in turn, and keeps every request it saw, so a test
can assert what was sent::

    mock = MockHTTP()
    mock.add("GET", "/v1/wallet/W/balance-at", Reply(json={...}))
    async with AsyncClient(plugins={"helius": asof_helius}, http_transport=mock.transport,
                           env={"ASOF_HELIUS_API_KEY": "k"}) as client:
        ...
    assert mock.requests[0].url.params["slot"] == "313000000"

Replies queued for one route are served in order and the last one keeps answering, so a
retried request sees the same failure again. A request nothing answers raises
``AssertionError`` naming it (the transport does not turn it into a provider error).

For an API with one endpoint whose query says what is asked (Etherscan's
``?module=account&action=balance``), give ``params``: a route answers only requests
whose query holds every one of them, and the route naming the most parameters wins, so
replies need not be scripted in call order::

    mock.get("/v2/api", Reply(json=balance), params={"action": "balance"})
    mock.get("/v2/api", Reply(json=block), params={"action": "getblocknobytime"})
"""

from __future__ import annotations

import json as jsonlib
import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import attrs

from asof.transport import MockTransport, Request, Response

__all__ = ["MockHTTP", "Reply"]

_NO_JSON = object()
_DECIMAL_MARK = re.compile(r'"@asof-decimal:([^"@]+)@"')


@attrs.frozen(kw_only=True)
class Reply:
    """One canned answer: status, a JSON body (``Decimal`` values are written as exact
    JSON numbers) or raw ``text``, and headers such as ``Retry-After``."""

    status: int = 200
    json: Any = attrs.field(default=_NO_JSON, hash=False)
    text: str | None = None
    headers: Mapping[str, str] = attrs.field(factory=dict, hash=False)

    def body(self) -> bytes:
        """The body's bytes."""
        if self.text is not None:
            return self.text.encode()
        if self.json is _NO_JSON:
            return b""
        return dumps(self.json).encode()

    def response(self, request: Request) -> Response:
        """The ``httpx`` response for ``request``."""
        headers = dict(self.headers)
        if self.text is None and self.json is not _NO_JSON:
            headers.setdefault("Content-Type", "application/json")
        return Response(self.status, headers=headers, content=self.body(), request=request)


def dumps(value: Any) -> str:
    """JSON text in which every ``Decimal`` is an exact JSON number (never a float)."""

    def mark(item: Any) -> Any:
        if isinstance(item, Decimal):
            return f"@asof-decimal:{item}@"
        if isinstance(item, Mapping):
            return {key: mark(val) for key, val in item.items()}
        if isinstance(item, list | tuple):
            return [mark(val) for val in item]
        return item

    return _DECIMAL_MARK.sub(r"\1", jsonlib.dumps(mark(value)))


class MockHTTP:
    """Answers HTTP requests from canned :class:`Reply` objects and records them.

    ``add(method, path, *replies, params=None)`` answers requests to one path (the URL's
    path) whose query holds every one of ``params`` (values compared as text; ``None``
    matches any query); ``queue(*replies)`` answers every other request in turn.
    ``transport`` is the ``httpx.MockTransport`` to hand to a client; ``requests`` lists
    what was sent.
    """

    def __init__(self) -> None:
        self._routes: dict[tuple[str, str, tuple[tuple[str, str], ...]], list[Reply]] = {}
        self._queue: list[Reply] = []
        #: Every request seen, in order.
        self.requests: list[Request] = []

    def add(
        self, method: str, path: str, *replies: Reply, params: Mapping[str, Any] | None = None
    ) -> MockHTTP:
        """Answer ``method path`` (with ``params`` in its query, when given) with
        ``replies`` in order (the last one repeats)."""
        if not replies:
            raise ValueError("give at least one reply")
        wanted = tuple(sorted((str(k), str(v)) for k, v in (params or {}).items()))
        self._routes.setdefault((method.upper(), path, wanted), []).extend(replies)
        return self

    def get(
        self, path: str, *replies: Reply, params: Mapping[str, Any] | None = None
    ) -> MockHTTP:
        """Shorthand for ``add("GET", path, ...)``."""
        return self.add("GET", path, *replies, params=params)

    def post(
        self, path: str, *replies: Reply, params: Mapping[str, Any] | None = None
    ) -> MockHTTP:
        """Shorthand for ``add("POST", path, ...)``."""
        return self.add("POST", path, *replies, params=params)

    def queue(self, *replies: Reply) -> MockHTTP:
        """Answer any request no route matches with ``replies`` in order (the last one
        repeats)."""
        if not replies:
            raise ValueError("give at least one reply")
        self._queue.extend(replies)
        return self

    def handler(self, request: Request) -> Response:
        """The ``MockTransport`` handler: find the reply and record the request."""
        self.requests.append(request)
        replies = self._route(request) or self._queue
        if not replies:
            raise AssertionError(
                f"MockHTTP has no reply for {request.method} {request.url.path}"
                + (f"?{request.url.query.decode()}" if request.url.query else "")
            )
        reply = replies.pop(0) if len(replies) > 1 else replies[0]
        return reply.response(request)

    def _route(self, request: Request) -> list[Reply] | None:
        """The replies of the matching route that names the most query parameters."""
        query = request.url.params
        best: list[Reply] | None = None
        named = -1
        for (method, path, wanted), replies in self._routes.items():
            if method != request.method or path != request.url.path or len(wanted) <= named:
                continue
            if all(query.get(key) == value for key, value in wanted):
                best, named = replies, len(wanted)
        return best

    @property
    def transport(self) -> MockTransport:
        """A fresh ``httpx.MockTransport`` served by this mock."""
        return MockTransport(self.handler)

    @property
    def last(self) -> Request:
        """The last request seen."""
        if not self.requests:
            raise AssertionError("MockHTTP has seen no request")
        return self.requests[-1]
