"""Reading the balance history endpoint's answer, exactly and strictly.

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
    InputError,
    NotFoundError,
    ProviderError,
    ProviderRequestError,
    ResponseError,
    error_for_status,
    to_decimal,
    to_int,
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
    if not isinstance(body, Mapping):
        raise _shape(f"expected a JSON object, got {type(body).__name__}")
    if body.get("success") is False:
        raise _refusal(body)
    data = body.get("data")
    if data is None:
        data = []
    if not isinstance(data, list):
        raise _shape(f"expected a list, got {type(data).__name__}", field="data")
    rows = tuple(_row(item, index) for index, item in enumerate(data))
    for index in range(1, len(rows)):
        if rows[index].ms > rows[index - 1].ms:
            raise _shape("entries are not listed newest first", field=f"data[{index}].created_at")
    if "next_cursor" not in body and "has_more" not in body:
        return Answer(rows=rows, paged_by_cursor=False)
    next_cursor = body.get("next_cursor")
    if next_cursor is not None and not isinstance(next_cursor, str):
        raise _shape(f"expected text, got {next_cursor!r}", field="next_cursor")
    has_more = body.get("has_more")
    if has_more is None:
        has_more = bool(next_cursor)
    if not isinstance(has_more, bool):
        raise _shape(f"expected true or false, got {has_more!r}", field="has_more")
    if has_more and not next_cursor:
        raise _shape("has_more is true but next_cursor is empty", field="next_cursor")
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


def _row(item: Any, index: int) -> Row:
    where = f"data[{index}]"
    if not isinstance(item, Mapping):
        raise _shape(f"expected an object, got {type(item).__name__}", field=where)
    try:
        event_type = item["event_type"]
        if not isinstance(event_type, str) or not event_type:
            raise InputError(f"expected a type name, got {event_type!r}",
                             field=f"{where}.event_type")
        pending = item.get("pending_balance")
        return Row(
            ms=to_int(item["created_at"], field=f"{where}.created_at"),
            event_type=event_type,
            amount=to_decimal(item["amount"], field=f"{where}.amount"),
            balance=to_decimal(item["balance"], field=f"{where}.balance"),
            pending_balance=None if pending is None
            else to_decimal(pending, field=f"{where}.pending_balance"),
        )
    except KeyError as missing:
        raise _shape("is missing", field=f"{where}.{missing.args[0]}") from None
    except InputError as bad:
        raise _shape(str(bad).partition(": ")[2] or str(bad), field=bad.field) from None


def _shape(message: str, *, field: str | None = None) -> ResponseError:
    text = f"{field}: {message}" if field else message
    return ResponseError(NAME, f"balance history answer does not match the documents: {text}",
                         field=field)
