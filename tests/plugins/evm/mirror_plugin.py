"""A second provider for ethereum ``balance_at`` that lives only in the tests, to check
``--verify``: it answers with :data:`ANSWER` (set by the test), at the block asked."""

from __future__ import annotations

from collections.abc import Iterable

from asof import hookimpl
from asof.context import ProviderContext
from asof.provider import ProviderInfo
from asof.queries import BalanceQuery
from asof.records import Amount, BalanceAt, BlockRef, Capability, ChainSupport, Provenance

NAME = "mirror"
#: the raw amount the next answers carry
ANSWER: dict[str, int] = {"raw": 0}


@hookimpl
def provider_info() -> ProviderInfo:
    return ProviderInfo(name=NAME, title="Mirror (tests)", base_url="https://mirror.invalid")


@hookimpl
def supported_chains() -> Iterable[ChainSupport]:
    return [ChainSupport(provider=NAME, chain="ethereum", capabilities=(Capability.BALANCE_AT,),
                         preference=-1)]


@hookimpl
async def balance_at(ctx: ProviderContext, query: BalanceQuery) -> BalanceAt | None:
    return BalanceAt(
        wallet=query.wallet, token=query.token,
        amount=Amount(raw=ANSWER["raw"], decimals=query.token.decimals),
        requested=query.point, as_of=BlockRef(number=query.point.block),
        provenance=Provenance(provider=NAME, source="memory"),
    )
