"""Reading the balance history endpoint's answer with the core's strict reader.

Both revisions answer ``{"success": true, "data": [...]}``; the newer one adds
``next_cursor`` and ``has_more``. Every entry carries decimal strings (``amount``,
``balance``, ``pending_balance``), an ``event_type`` and ``created_at`` in milliseconds.

A non-success HTTP status never reaches this module: the core's transport raises it.
A success status whose body says ``"success": false`` is the provider refusing the
request in its own words, and becomes :class:`~asof.errors.ProviderRequestError`
(asking again unchanged would get the same answer) carrying the provider's message,
unless the body's ``code`` names an HTTP status (then that status's error class) or is
the provider's documented "account not found" (then
:class:`~asof.errors.NotFoundError`). Anything else that breaks the documented shape is
a :class:`~asof.errors.ResponseError` naming the field.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import attrs

from asof.plugin import (
    Field,
    NotFoundError,
    ProviderError,
    ProviderRequestError,
    error_for_status,
    strict,
)
from asof_pacifica.info import NAME

__all__ = ["Answer", "Row", "read_answer", "time_of"]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
#: The provider's business code for an account it does not know.
_ACCOUNT_NOT_FOUND = 1


@attrs.frozen(kw_only=True)
class Row:
    """One entry of the answer, read exactly."""

    ms: int  #: ``created_at``, milliseconds since the epoch
    event_type: str
    amount: Decimal
    balance: Decimal
    pending_balance: Decimal | None


@attrs.frozen(kw_only=True)
class Answer:
    """One page of the answer. ``paged_by_cursor`` says the answer came from the newer
    revision (it had ``next_cursor`` or ``has_more``)."""

    rows: tuple[Row, ...]
    paged_by_cursor: bool
    has_more: bool = False
    next_cursor: str | None = None


def time_of(ms: int) -> datetime:
    """The UTC moment of ``ms`` milliseconds since the epoch, without a float."""
    return _EPOCH + timedelta(milliseconds=ms)


def read_answer(body: Any) -> Answer:
    """The rows and paging facts of one answer; raises as the module says."""
    answer = strict(NAME, body, "balance history answer")
    if answer.mapping().get("success") is False:
        raise _refusal(answer.mapping())
    data = answer.get("data")
    items = [] if data is None else data.items()
    rows = tuple(_row(item) for item in items)
    for index in range(1, len(rows)):
        if rows[index].ms > rows[index - 1].ms:
            raise items[index]["created_at"].fail("entries are not listed newest first")
    if "next_cursor" not in answer and "has_more" not in answer:
        return Answer(rows=rows, paged_by_cursor=False)
    cursor_field = answer.get("next_cursor")
    next_cursor = None if cursor_field is None else cursor_field.as_str(empty=True)
    more = answer.get("has_more")
    has_more = bool(next_cursor) if more is None else more.as_bool()
    if has_more and not next_cursor:
        raise answer.at("next_cursor").fail("has_more is true but next_cursor is empty")
    return Answer(rows=rows, paged_by_cursor=True, has_more=has_more, next_cursor=next_cursor)


def _refusal(body: Mapping[str, Any]) -> ProviderError:
    """The typed error for a body that says ``"success": false``."""
    said = body.get("error") or body.get("message")
    message = str(said) if said else "the provider answered success: false without a message"
    code = body.get("code")
    cls: type[ProviderError] = ProviderRequestError
    words = "refused the request"
    if type(code) is int and 400 <= code <= 599:
        cls, words = error_for_status(code)
    elif type(code) is int and code == _ACCOUNT_NOT_FOUND:
        cls, words = NotFoundError, "does not know the account"
    details = {"code": code} if code is not None else None
    return cls(NAME, f"{words} (success: false)", provider_message=message, details=details)


def _row(item: Field) -> Row:
    event_type = item["event_type"].as_str()
    pending = item.get("pending_balance")
    return Row(
        ms=item["created_at"].as_int(),
        event_type=event_type,
        amount=item["amount"].as_decimal(),
        balance=item["balance"].as_decimal(),
        pending_balance=None if pending is None else pending.as_decimal(),
    )
