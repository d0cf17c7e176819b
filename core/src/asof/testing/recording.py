"""Cassette settings for vcrpy / pytest-recording that keep secrets out of cassettes.

:func:`recording_config` is what the ``vcr_config`` fixture returns:

- the credential headers asof plugins use (``X-Api-Key``, ``X-API-KEY``, ``PF-API-KEY``,
  ``api-key``, ``Authorization``; vcrpy matches header names case-insensitively) and
  the same names as query parameters (matched exactly, so each spelling is listed),
  plus the query parameter of every credential an installed plugin declares with
  ``Credential(query=...)``, are replaced by ``<redacted>`` before anything is written;
- compressed responses are decoded first, so a key echoed inside a gzip or brotli body
  can still be found, and every credential-looking environment variable's value is
  replaced by its name wherever it appears, URLs included (``filter_sensitive_data``);
  so is every key-like part of a URL in a ``*_URL`` variable (a node vendor's key in
  ``ASOF_<PROVIDER>_BASE_URL``), which also covers credentials sent in the URL path;
- requests match on method, URL (query included) and body, with JSON bodies compared
  parsed and JSON-RPC ``id`` fields ignored (matcher :data:`JSON_BODY_MATCHER`).

Record mode stays pytest-recording's default, ``none``: tests never reach the network
unless a maintainer passes ``--record-mode``.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Mapping
from functools import cache
from typing import Any

from asof.secrets import url_secrets

__all__ = [
    "JSON_BODY_MATCHER",
    "REDACTED",
    "SECRET_HEADERS",
    "SECRET_QUERY_PARAMETERS",
    "declared_query_parameters",
    "json_body",
    "recording_config",
    "secret_values",
]

#: What a filtered header or query parameter is replaced with.
REDACTED = "<redacted>"
#: Header names whose values never reach a cassette (case-insensitive).
SECRET_HEADERS = ("X-Api-Key", "PF-API-KEY", "api-key", "Authorization")
#: Query parameter names whose values never reach a cassette (exact spellings).
SECRET_QUERY_PARAMETERS = (
    "api-key", "api_key", "apikey", "apiKey",
    "X-Api-Key", "X-API-KEY", "x-api-key",
    "PF-API-KEY", "pf-api-key",
    "Authorization", "authorization",
    "access_token", "token",
)
#: The name :func:`json_body` is registered under with vcrpy.
JSON_BODY_MATCHER = "asof_json_body"

_SECRET_ENV = re.compile(r"(^|_)(KEY|TOKEN|SECRET|PASSWORD)$")


def secret_values(env: Mapping[str, str]) -> list[tuple[str, str]]:
    """``(placeholder, value)`` for every credential-looking variable in ``env`` (names
    ending in ``_API_KEY``, ``_KEY``, ``_TOKEN``, ``_SECRET`` or ``_PASSWORD``, values of
    at least 8 characters) and every key-like part of a URL held in a variable whose
    name ends in ``_URL`` (see :func:`asof.secrets.url_secrets`), longest value first."""
    found = [
        (f"<{name}>", value)
        for name, value in env.items()
        if _SECRET_ENV.search(name.upper()) and len(value) >= 8
    ]
    for name, value in env.items():
        if name.upper().endswith("_URL"):
            parts = [part for part in url_secrets(value) if len(part) >= 8]
            found.extend((f"<{name}:{n}>", part) for n, part in enumerate(parts, 1))
    return sorted(found, key=lambda pair: -len(pair[1]))


@cache
def declared_query_parameters() -> tuple[str, ...]:
    """The query parameter of every ``Credential(query=...)`` an installed plugin
    declares (plugins that fail to load are skipped)."""
    from asof.config import Config
    from asof.plugins import load_plugins

    names: list[str] = []
    for info in load_plugins(Config()).infos.values():
        names.extend(c.query for c in info.credentials if c.query is not None)
    return tuple(dict.fromkeys(names))


def recording_config(
    env: Mapping[str, str] | None = None, *, query_parameters: Iterable[str] | None = None
) -> dict[str, Any]:
    """The ``vcr_config`` asof's pytest plugin gives every test (see module docs).

    ``env`` (default ``os.environ``) is searched for credential values to hide;
    ``query_parameters`` are filtered besides :data:`SECRET_QUERY_PARAMETERS` (default:
    :func:`declared_query_parameters`).
    """
    extra = declared_query_parameters() if query_parameters is None else tuple(query_parameters)
    queries = dict.fromkeys((*SECRET_QUERY_PARAMETERS, *extra))
    return {
        "filter_headers": [(name, REDACTED) for name in SECRET_HEADERS],
        "filter_query_parameters": [(name, REDACTED) for name in queries],
        "filter_sensitive_data": secret_values(os.environ if env is None else env),
        "decode_compressed_response": True,
        "match_on": ("method", "scheme", "host", "port", "path", "query", JSON_BODY_MATCHER),
    }


def json_body(r1: Any, r2: Any) -> None:
    """vcrpy matcher: bodies are equal as parsed JSON (ignoring JSON-RPC ``id``), or
    byte for byte when either is not JSON. Raises ``AssertionError`` when they differ."""
    b1, b2 = _body_bytes(r1.body), _body_bytes(r2.body)
    if b1 == b2:
        return
    p1, p2 = _parsed(b1), _parsed(b2)
    if p1 is _NOT_JSON or p2 is _NOT_JSON or _without_rpc_ids(p1) != _without_rpc_ids(p2):
        raise AssertionError(f"bodies differ: {b1[:200]!r} != {b2[:200]!r}")


_NOT_JSON = object()


def _body_bytes(body: Any) -> bytes:
    if body is None:
        return b""
    if isinstance(body, str):
        return body.encode()
    return bytes(body)


def _parsed(body: bytes) -> Any:
    if not body:
        return None
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return _NOT_JSON


def _without_rpc_ids(value: Any) -> Any:
    if isinstance(value, list):
        return [_without_rpc_ids(item) for item in value]
    if isinstance(value, dict) and "jsonrpc" in value:
        return {key: item for key, item in value.items() if key != "id"}
    return value
