"""The plugin's opaque cursor: where a ledger walk stands between two pages.

The cursor says which revision of the endpoint is being followed (the provider's own
``next_cursor``, or an ``offset`` for the older revision), which of the query's accounts
is being read, and the time and tie count of the last entry seen, so that the next page
numbers entries that share a millisecond with it consistently.

It is written as ``pf1.`` and base64url JSON; anything else is refused as not a cursor
this plugin wrote.
"""

from __future__ import annotations

from typing import Any

import attrs

from asof.plugin import foreign_cursor, pack_cursor, unpack_cursor

__all__ = ["State", "decode", "encode"]

_PREFIX = "pf1."
_OWNER = "the pacifica plugin"


@attrs.frozen(kw_only=True)
class State:
    """Where a walk stands. ``token`` set means the newer revision's cursor paging;
    otherwise ``offset`` entries of the older revision's listing have been read."""

    wallet: int = 0  #: index of the account in the query's wallets
    offset: int = 0
    token: str | None = None
    last_ms: int | None = None  #: ``created_at`` of the last entry seen
    tie: int = 0  #: entries seen before it with that same ``created_at``


def encode(state: State) -> str:
    """The opaque text of ``state``."""
    data: dict[str, Any] = {"w": state.wallet}
    if state.token is not None:
        data["c"] = state.token
    else:
        data["o"] = state.offset
    if state.last_ms is not None:
        data["t"] = state.last_ms
        data["k"] = state.tie
    return pack_cursor(data, prefix=_PREFIX)


def decode(text: str) -> State:
    """The state an :func:`encode` text stands for; :class:`~asof.errors.InputError`
    for any other text."""
    data = unpack_cursor(text, owner=_OWNER, prefix=_PREFIX)
    if set(data) - {"w", "o", "c", "t", "k"}:
        raise _foreign(text)
    ints = {key: data[key] for key in ("w", "o", "t", "k") if key in data}
    if any(type(value) is not int or value < 0 for value in ints.values()):
        raise _foreign(text)
    token = data.get("c")
    if (token is None) == ("o" not in data) or (token is not None and not isinstance(token, str)):
        raise _foreign(text)
    return State(
        wallet=ints.get("w", 0),
        offset=ints.get("o", 0),
        token=token,
        last_ms=ints.get("t"),
        tie=ints.get("k", 0),
    )


def _foreign(text: object) -> Exception:
    return foreign_cursor(text, _OWNER)
