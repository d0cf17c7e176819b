"""Asking Etherscan: one GET of ``/v2/api`` per question, and the ``result`` it returns.

The key is added by the core (the ``apikey`` query credential); ``chainid``,
``module`` and ``action`` are added here. Error envelopes never reach this module:
the in-band check (:func:`asof_etherscan.envelope.check_body`) has raised them.
"""

from __future__ import annotations

from typing import Any

from asof.plugin import Field, InputError, ProviderContext, strict
from asof_etherscan.envelope import is_empty
from asof_etherscan.info import CHAIN_IDS, NAME, PATH

__all__ = ["block_at_or_before", "call", "chain_id"]


def chain_id(chain: str) -> int:
    """Etherscan's ``chainid`` for an asof chain name."""
    try:
        return CHAIN_IDS[chain]
    except KeyError:
        raise InputError(f"Etherscan does not serve {chain}", field="chain",
                         value=chain) from None


async def call(ctx: ProviderContext, chain: str, module: str, action: str,
               **params: Any) -> Field | None:
    """``GET /v2/api?chainid=..&module=..&action=..&<params>``: the envelope's
    ``result`` for the strict reader, or ``None`` for Etherscan's "nothing found"
    answers (``None`` parameters are left out)."""
    body = await ctx.http.get(PATH, params={
        "chainid": chain_id(chain), "module": module, "action": action, **params,
    })
    if is_empty(body):
        return None
    answer = strict(NAME, body, f"{module}/{action} answer")
    if answer["status"].as_str() != "1":
        raise answer["status"].fail("expected \"1\" in a success answer")
    return answer["result"]


async def block_at_or_before(ctx: ProviderContext, chain: str, seconds: int) -> int | None:
    """The last block stamped at or before epoch second ``seconds``
    (``block/getblocknobytime`` with ``closest=before``); ``None`` when there is none."""
    result = await call(ctx, chain, "block", "getblocknobytime",
                        timestamp=seconds, closest="before")
    return None if result is None else result.as_int()
