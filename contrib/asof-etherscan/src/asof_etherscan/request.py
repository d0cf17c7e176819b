"""Asking Etherscan: one GET of ``/v2/api`` per question, and the ``result`` it returns.

The key is added by the core (the ``apikey`` query credential); ``chainid``,
``module`` and ``action`` are added here. Error envelopes never reach this module:
the in-band check (:func:`asof_etherscan.envelope.check_body`) has raised them.
"""

from __future__ import annotations

from typing import Any

from asof.context import ProviderContext
from asof.errors import InputError, ResponseError
from asof.exact import to_int
from asof_etherscan.envelope import is_empty
from asof_etherscan.info import CHAIN_IDS, NAME, PATH

__all__ = ["block_at_or_before", "call", "chain_id", "raw_int"]


def chain_id(chain: str) -> int:
    """Etherscan's ``chainid`` for an asof chain name."""
    try:
        return CHAIN_IDS[chain]
    except KeyError:
        raise InputError(f"Etherscan does not serve {chain}", field="chain",
                         value=chain) from None


async def call(ctx: ProviderContext, chain: str, module: str, action: str,
               **params: Any) -> Any:
    """``GET /v2/api?chainid=..&module=..&action=..&<params>``: the envelope's
    ``result``, or ``None`` for Etherscan's "nothing found" answers."""
    body = await ctx.http.get(PATH, params={
        "chainid": chain_id(chain), "module": module, "action": action, **params,
    })
    if is_empty(body):
        return None
    if not isinstance(body, dict) or body.get("status") != "1" or "result" not in body:
        raise ResponseError(NAME, f"{module}/{action} answered without status 1 and a "
                            "result", field="status")
    return body["result"]


def raw_int(value: Any, field: str) -> int:
    """A non-negative integer from one of Etherscan's decimal strings."""
    try:
        number = to_int(value, field=field)
    except InputError as exc:
        raise ResponseError(NAME, str(exc), field=field) from None
    if number < 0:
        raise ResponseError(NAME, f"{field} is negative: {number}", field=field)
    return number


async def block_at_or_before(ctx: ProviderContext, chain: str, seconds: int) -> int | None:
    """The last block stamped at or before epoch second ``seconds``
    (``block/getblocknobytime`` with ``closest=before``); ``None`` when there is none."""
    result = await call(ctx, chain, "block", "getblocknobytime",
                        timestamp=seconds, closest="before")
    return None if result is None else raw_int(result, "result")
