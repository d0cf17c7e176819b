"""The node connection of one answer: the core's JSON-RPC helper, and Solana's own codes.

Calls go through :class:`asof.jsonrpc.JsonRpc` over the HTTP session the core built
(``ctx.http``), batched where the node accepts batches. The Solana-specific JSON-RPC
error codes are refined here into messages that say what to do; everything else keeps
the core helper's mapping.
"""

from __future__ import annotations

import contextlib
import weakref
from collections.abc import Sequence
from typing import Any

from asof.context import ProviderContext
from asof.errors import NotFoundError, ProviderError, ProviderRequestError, UpstreamError
from asof.jsonrpc import Call, JsonRpc, rpc_code

__all__ = ["COMMITMENT", "PAGE_LIMIT", "Node"]

#: Every read asks for finalized data, so an answer cannot be rolled back.
COMMITMENT = "finalized"
#: ``getSignaturesForAddress`` returns at most this many signatures per call.
PAGE_LIMIT = 1000

# Solana node error codes (agave's rpc custom errors) that mean "this node lacks the
# history asked for": block not available, slot skipped, long-term storage missing,
# transaction history not available.
_HISTORY_CODES = {
    -32004: "the node has no block for that slot",
    -32007: "the slot was skipped or is missing because of a ledger jump",
    -32009: "the slot is skipped or missing in long-term storage",
    -32011: "the node keeps no transaction history",
}
_ADVICE = "; ask an archival endpoint (ASOF_SOLANA_BASE_URL)"


# HTTP sessions whose node refused a batch: later answers over them ask call by call
# from the start instead of spending a request on a batch each time.
_REFUSED: weakref.WeakSet[object] = weakref.WeakSet()


class Node:
    """JSON-RPC calls to the node for one answer, counted by method."""

    def __init__(self, ctx: ProviderContext) -> None:
        self.provider = ctx.provider
        self._http = ctx.http
        self.rpc = JsonRpc(ctx.http, ctx.provider, batch=not _refused(ctx.http))
        #: calls made so far, by method (a batch counts each of its calls)
        self.calls: dict[str, int] = {}

    @property
    def requests(self) -> int:
        """HTTP requests sent so far (a batch is one)."""
        return self.rpc.requests

    async def call(self, method: str, params: Sequence[Any]) -> Any:
        """The result of one call."""
        self._count(method)
        try:
            return await self.rpc.call(method, params)
        except ProviderError as error:
            refined = self._refine(error, method)
            if refined is error:
                raise
            raise refined from error

    async def batch(self, calls: Sequence[Call]) -> list[Any]:
        """The results of ``calls`` in order, in one request where the node allows it."""
        for method, _ in calls:
            self._count(method)
        try:
            return await self.rpc.batch(calls)
        except ProviderError as error:
            refined = self._refine(error, error.field or "batch")
            if refined is error:
                raise
            raise refined from error
        finally:
            if not self.rpc.batching:
                _remember_refusal(self._http)

    def _count(self, method: str) -> None:
        self.calls[method] = self.calls.get(method, 0) + 1

    def _refine(self, error: ProviderError, method: str) -> ProviderError:
        code = rpc_code(error)
        if code not in _HISTORY_CODES:
            return error
        kind = NotFoundError if code == -32011 else (
            UpstreamError if code == -32004 else ProviderRequestError)
        return kind(self.provider, f"{method}: {_HISTORY_CODES[code]}{_ADVICE} "
                    f"(JSON-RPC {code})", provider_message=error.provider_message,
                    details=error.details, field=error.field)


def _refused(http: object) -> bool:
    try:
        return http in _REFUSED
    except TypeError:  # a session that cannot be weakly referenced: never remembered
        return False


def _remember_refusal(http: object) -> None:
    with contextlib.suppress(TypeError):  # see _refused
        _REFUSED.add(http)
