"""The strict reader for provider answers: one way for every plugin to read a body.

A body that breaks the provider's documented shape is a
:class:`~asof.errors.ResponseError` naming the provider, what was being read and the
field's path (``data[3].amount``), never a ``KeyError`` or a silently truncated number::

    answer = strict(NAME, body, "balance-at answer")
    raw = answer["balanceRaw"].as_int()
    decimals = answer["decimals"].as_int()
    balance = answer["balance"].as_decimal()          # a Decimal, exact; floats refused
    slot = answer["asOf"].get("slot")              # None when missing or null
    for row in answer["data"].items():             # each a Field: data[0], data[1], ...
        row["event_type"].as_str()

Numbers go through :mod:`asof.exact` (an int, a digit string or an integral
``Decimal`` for :meth:`Field.as_int`; a ``Decimal``, int or decimal string for
:meth:`Field.as_decimal`), so no float ever becomes an amount.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from asof.errors import InputError, ResponseError
from asof.exact import to_decimal, to_int

__all__ = ["Field", "strict"]


def strict(provider: str, body: Any, what: str = "answer") -> Field:
    """The root :class:`Field` of ``body``, an answer of ``provider`` described as
    ``what`` in error messages (for example ``"balance-at answer"``)."""
    return Field(provider, body, what=what)


_new_field = object.__new__


class Field:
    """One value inside a provider's answer, with the path it was read from."""

    __slots__ = ("_key", "_parent", "_path", "provider", "value", "what")

    def __init__(self, provider: str, value: Any, *, what: str = "answer", path: str = "") -> None:
        self.provider = provider
        self.value = value
        self.what = what
        self._path: str | None = path
        self._parent: Field | None = None
        self._key: str | int = ""

    @property
    def path(self) -> str:
        """Where this value is in the answer: ``items[3].token.address`` (``""`` for
        the answer itself). A member's path is only spelled out when it is asked for
        (an error names it), so reading a member costs no formatting."""
        path = self._path
        if path is None:
            assert self._parent is not None
            above, key = self._parent.path, self._key
            if isinstance(key, int):
                path = f"{above}[{key}]"
            elif above:
                path = f"{above}.{key}"
            else:
                path = key
            self._path = path
        return path

    def __repr__(self) -> str:
        return f"<Field {self.path or 'body'} of {self.provider} {self.what}>"

    # -- failing

    def fail(self, message: str) -> ResponseError:
        """The error for this field: ``<provider>: <what> does not match the provider's
        documents: <path>: <message>``, with ``field`` set to the path (``body`` for
        the answer itself). Raise it."""
        where = self.path or "body"
        return ResponseError(
            self.provider,
            f"{self.what} does not match the provider's documents: {where}: {message}",
            field=where,
        )

    # -- structure

    def _child(self, key: str | int, value: Any) -> Field:
        child = _new_field(Field)
        child.provider = self.provider
        child.value = value
        child.what = self.what
        child._path = None
        child._parent = self
        child._key = key
        return child

    def mapping(self) -> Mapping[str, Any]:
        """The value as a JSON object."""
        if type(self.value) is dict:  # what a JSON body holds: no ABC check needed
            return self.value
        if not isinstance(self.value, Mapping):
            raise self.fail(f"expected an object, got {_kind(self.value)}")
        return self.value

    def __getitem__(self, key: str) -> Field:
        """The member ``key`` of this object; missing is an error (null is kept)."""
        mapping = self.mapping()
        if key not in mapping:
            raise self._child(key, None).fail("is missing")
        return self._child(key, mapping[key])

    def get(self, key: str) -> Field | None:
        """The member ``key`` of this object, or ``None`` when it is missing or null."""
        mapping = self.mapping()
        value = mapping.get(key)
        return None if value is None else self._child(key, value)

    def at(self, key: str) -> Field:
        """The member ``key`` of this object, a null field when it is missing (to
        name it in an error about something absent)."""
        return self._child(key, self.mapping().get(key))

    def __contains__(self, key: str) -> bool:
        return key in self.mapping()

    def element(self, index: int) -> Field:
        """The element ``index`` of this list, a field (``path[index]``)."""
        if not isinstance(self.value, list):
            raise self.fail(f"expected a list, got {_kind(self.value)}")
        return self._child(index, self.value[index])

    def items(self) -> list[Field]:
        """The elements of this list, each a field (``path[0]``, ``path[1]``, ...)."""
        if not isinstance(self.value, list):
            raise self.fail(f"expected a list, got {_kind(self.value)}")
        return [self._child(index, item) for index, item in enumerate(self.value)]

    @property
    def is_null(self) -> bool:
        """Whether the value is JSON ``null``."""
        return self.value is None

    # -- scalars

    def as_int(self) -> int:
        """An exact integer (an int, a string of digits or an integral Decimal)."""
        if type(self.value) is int:
            return self.value
        try:
            return to_int(self.value, field="")  # the error below names the path
        except InputError:
            raise self.fail(f"expected an integer, got {_shown(self.value)}") from None

    def as_decimal(self, *, text: bool = False) -> Decimal:
        """An exact Decimal (a Decimal, an int or a decimal string; never a float).
        With ``text``, only a decimal string is accepted (for providers that document
        amounts as strings)."""
        if text and not isinstance(self.value, str):
            raise self.fail(f"expected a decimal string, got {_shown(self.value)}")
        try:
            return to_decimal(self.value, field="")  # the error below names the path
        except InputError:
            raise self.fail(f"expected a decimal number, got {_shown(self.value)}") from None

    def as_str(self, *, empty: bool = False) -> str:
        """A string; an empty one is an error unless ``empty``."""
        if not isinstance(self.value, str):
            raise self.fail(f"expected text, got {_shown(self.value)}")
        if not empty and not self.value.strip():
            raise self.fail("is empty")
        return self.value

    def as_bool(self) -> bool:
        """``true`` or ``false`` (not 0, 1 or a string)."""
        if not isinstance(self.value, bool):
            raise self.fail(f"expected true or false, got {_shown(self.value)}")
        return self.value

    def optional_int(self) -> int | None:
        """:meth:`as_int`, or ``None`` for null."""
        return None if self.value is None else self.as_int()

    def optional_str(self) -> str | None:
        """:meth:`as_str`, or ``None`` for null or empty text."""
        if self.value is None:
            return None
        text = self.as_str(empty=True)
        return text if text.strip() else None


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, list):
        return "a list"
    return type(value).__name__


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
