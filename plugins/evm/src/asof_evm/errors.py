"""The node's refusals that mean something particular to this plugin."""

from __future__ import annotations

from asof.plugin import NotFoundError, ProviderError

__all__ = ["PRUNED_WORDS", "RANGE_WORDS", "PrunedState", "is_pruned", "is_range_refusal"]

#: What nodes say when they no longer hold a block's state (geth, Erigon, Nethermind,
#: Besu, Reth and node vendors), lowercased.
PRUNED_WORDS = (
    "missing trie node",
    "historical state",
    "state not available",
    "state is not available",
    "state unavailable",
    "state histories haven't been fully indexed",
    "world state unavailable",
    "is pruned",
    "has been pruned",
    "pruned history",
    "header not found",
    "required historical state",
    "not an archive node",
    "archive node",
    "blockoutofrangeerror",  # anvil with --prune-history, for a block it has dropped
)

#: What nodes say when an ``eth_getLogs`` range is too large for them, lowercased.
RANGE_WORDS = (
    "query returned more than",
    "block range",
    "range is too large",
    "range too large",
    "range exceeds",
    "too many blocks",
    "too many results",
    "response size",
    "exceed maximum block range",
    "limit exceeded",
    "log response size exceeded",
    "query timeout exceeded",
    "max results",
    "exceeds the limit",
)


class PrunedState(NotFoundError):
    """The node no longer holds the state of the block asked for (it is not an archive
    node). ``block`` is that block."""

    def __init__(self, provider: str, block: int, cause: ProviderError) -> None:
        self.block = block
        super().__init__(
            provider,
            f"the node has no state for block {block} (it has been pruned): point the "
            "evm provider at an archive node (ASOF_EVM_BASE_URL, or [providers.evm.urls] "
            "for another chain)",
            provider_message=cause.provider_message,
            details=cause.details,
            field="point.block",
        )


def _said(error: ProviderError) -> str:
    return " ".join(filter(None, (error.provider_message, str(error)))).lower()


def is_pruned(error: ProviderError) -> bool:
    """Whether ``error`` is the node saying it has pruned the state asked for."""
    return any(word in _said(error) for word in PRUNED_WORDS)


def is_range_refusal(error: ProviderError) -> bool:
    """Whether ``error`` is the node refusing an ``eth_getLogs`` range as too large."""
    return any(word in _said(error) for word in RANGE_WORDS)
