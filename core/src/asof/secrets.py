"""Secrets that never show themselves, and the redactor that scrubs them from text.

A :class:`Secret` wraps a credential (an API key, a token). Its ``repr`` and ``str`` are
masked, so it can sit inside records, logs and tracebacks without leaking; only
:meth:`Secret.reveal` gives the value back, and only the transport calls it, to put
the value in a request header.

A :class:`Redactor` knows a set of secret values and replaces every occurrence of any
of them in a piece of text, also where some or all of its characters are
percent-encoded (as when a provider echoes a key back from a URL or a form). The
transport passes every error message, log line and ``repr`` it produces through one, so
a provider that echoes a key back in an error body does not leak it either.
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

__all__ = ["MASK", "Redactor", "Secret", "url_secrets"]

MASK = "***"
"""What a redacted secret is replaced with."""


_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~")


def _flexible(value: str) -> str:
    """A pattern matching ``value`` with any of its characters percent-encoded (and a
    space written as ``+``), as it may appear when echoed back inside a URL or form."""
    parts: list[str] = []
    for char in value:
        if char in _UNRESERVED:
            parts.append(re.escape(char))
            continue
        encoded = "".join(
            "%" + "".join(f"[{d.upper()}{d.lower()}]" if d.isalpha() else d for d in f"{b:02X}")
            for b in char.encode("utf-8")
        )
        options = [re.escape(char), encoded]
        if char == " ":
            options.append(r"\+")
        parts.append("(?:" + "|".join(options) + ")")
    return "".join(parts)


_SECRET_NAME = re.compile(r"key|token|secret|auth|pass|sig", re.IGNORECASE)
_KEY_LIKE = re.compile(r"[A-Za-z0-9_\-.~]{16,}")


def _key_like(text: str) -> bool:
    """Whether a URL part looks like a key: 16 or more URL-safe characters with both
    letters and digits (node vendors' keys and project ids), or 32 or more of any."""
    if not _KEY_LIKE.fullmatch(text):
        return False
    has_digit = any(c.isdigit() for c in text)
    has_alpha = any(c.isalpha() for c in text)
    return len(text) >= 32 or (has_digit and has_alpha)


def url_secrets(url: str, *, known: Iterable[str] = ()) -> list[str]:
    """The parts of ``url`` that are (or look like) secrets, to redact wherever the URL
    shows: the user name and password, the value of every query parameter whose name
    says key, token, secret, auth, pass or sig, and every path segment, host label or
    other query value that looks like a key (see :func:`_key_like`).

    Parts that also appear in one of the ``known`` URLs (the provider's declared base
    URLs, which are public) are not secrets and are left out. Used for a base URL a
    deployment configures (``ASOF_<PROVIDER>_BASE_URL``), where node vendors put keys.
    """
    public: set[str] = set()
    for other in known:
        public.update(_url_parts(other))
    parts = urlsplit(url)
    found: list[str] = []
    for value in (parts.username, parts.password):
        if value:
            found.append(unquote(value))
    for name, value in parse_qsl(parts.query, keep_blank_values=False):
        if value and (_SECRET_NAME.search(name) or _key_like(value)):
            found.append(value)
    for part in _url_parts(url, query=False):
        if _key_like(part):
            found.append(part)
    return [value for value in dict.fromkeys(found) if value not in public]


def _url_parts(url: str, *, query: bool = True) -> list[str]:
    parts = urlsplit(url)
    pieces = [unquote(p) for p in parts.path.split("/") if p]
    pieces += (parts.hostname or "").split(".")
    if query:
        pieces += [value for _, value in parse_qsl(parts.query)]
    return [p for p in pieces if p]


class Secret:
    """A credential whose value is hidden from ``repr``, ``str`` and formatting.

    Two secrets are equal when their values are equal (compared in constant time).
    """

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        if not isinstance(value, str):
            raise TypeError(f"a secret's value must be a str, not {type(value).__name__}")
        self._value = value

    def reveal(self) -> str:
        """The secret's value. Call it only where the value must be sent."""
        return self._value

    def __repr__(self) -> str:
        return f"Secret({MASK!r})"

    def __str__(self) -> str:
        return MASK

    def __format__(self, format_spec: str) -> str:
        return format(MASK, format_spec)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Secret):
            return NotImplemented
        return hmac.compare_digest(self._value.encode(), other._value.encode())

    def __hash__(self) -> int:
        return hash((Secret, self._value))

    def __bool__(self) -> bool:
        return bool(self._value)

    def __copy__(self) -> Secret:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> Secret:
        return self

    def __reduce__(self) -> Any:
        raise TypeError("a Secret cannot be pickled")


class Redactor:
    """Replaces every known secret value in text with ``***``.

    Secrets are added with :meth:`add`; :meth:`redact` scrubs a string and
    :meth:`redact_data` a JSON-like structure (dicts, lists, strings). A value is found
    raw or with any of its characters percent-encoded. Longer values are replaced first,
    so a secret that contains another is masked whole. Empty values are ignored.
    """

    __slots__ = ("_pattern", "_values")

    def __init__(self, secrets: Iterable[Secret | str] = ()) -> None:
        self._values: set[str] = set()
        self._pattern: re.Pattern[str] | None = None
        for secret in secrets:
            self.add(secret)

    def add(self, secret: Secret | str) -> None:
        """Remember a secret (or a plain string to treat as one)."""
        value = secret.reveal() if isinstance(secret, Secret) else secret
        if not isinstance(value, str):
            raise TypeError(f"cannot redact a {type(value).__name__}")
        if value and value not in self._values:
            self._values.add(value)
            self._pattern = None

    def redact(self, text: str) -> str:
        """``text`` with every known secret replaced by ``***``."""
        if not self._values or not text:
            return text
        if self._pattern is None:
            alternatives = sorted(self._values, key=len, reverse=True)
            self._pattern = re.compile("|".join(_flexible(v) for v in alternatives))
        return self._pattern.sub(MASK, text)

    def redact_data(self, value: Any) -> Any:
        """A copy of a JSON-like value with every string (keys included) redacted."""
        if isinstance(value, str):
            return self.redact(value)
        if isinstance(value, Mapping):
            return {self.redact_data(k): self.redact_data(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return type(value)(self.redact_data(v) for v in value)
        return value

    def __repr__(self) -> str:
        return f"<Redactor of {len(self._values)} secret(s)>"
