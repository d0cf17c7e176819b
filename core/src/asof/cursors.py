"""Opaque page cursors for plugins: small JSON states packed as base64url text.

A plugin whose paging needs more than the provider's own cursor (several batches, an
offset and a tie count, ...) keeps that state in the cursor it hands out, so that any
later call, even in another process, can continue. ``pack_cursor`` writes it;
``unpack_cursor`` reads it back and refuses anything else with
:class:`~asof.errors.InputError` (field ``cursor``). What the state holds, and its
validation, stays the plugin's.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from typing import Any

from asof.errors import InputError

__all__ = ["foreign_cursor", "pack_cursor", "unpack_cursor"]


def pack_cursor(state: Mapping[str, Any], *, prefix: str = "") -> str:
    """``state`` (JSON data) as opaque cursor text starting with ``prefix``."""
    raw = json.dumps(state, separators=(",", ":"), sort_keys=True).encode()
    return prefix + base64.urlsafe_b64encode(raw).decode().rstrip("=")


def unpack_cursor(text: object, *, owner: str, prefix: str = "") -> dict[str, Any]:
    """The state :func:`pack_cursor` wrote into ``text``.

    Text without ``prefix``, or that does not decode to a JSON object, is refused with
    an :class:`~asof.errors.InputError` saying it is not a cursor ``owner`` wrote.
    """
    if not isinstance(text, str) or not text.startswith(prefix):
        raise foreign_cursor(text, owner)
    body = text[len(prefix):]
    try:
        data = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    except (binascii.Error, ValueError):
        raise foreign_cursor(text, owner) from None
    if not isinstance(data, dict):
        raise foreign_cursor(text, owner)
    return data


def foreign_cursor(text: object, owner: str) -> InputError:
    """The error for a cursor ``owner`` did not write."""
    return InputError(f"not a cursor {owner} wrote", field="cursor", value=text)
