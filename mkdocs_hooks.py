"""MkDocs hooks for the documentation site (``hooks:`` in ``mkdocs.yml``).

The docstrings use Sphinx cross-reference roles (``:class:`~asof.errors.RateLimited```),
which mkdocstrings renders as text. This hook turns each into plain code showing the
name the role would show: the last part after ``~``, else the whole path.
"""

from __future__ import annotations

import re
from typing import Any

_ROLE = re.compile(
    r":(?:class|func|meth|mod|attr|data|exc|obj|const):\s*<code>(~?)([\w.]+)(\(\))?</code>"
)


def _shown(match: re.Match[str]) -> str:
    short, path, call = match.group(1), match.group(2), match.group(3) or ""
    name = path.rsplit(".", 1)[-1] if short else path
    return f"<code>{name}{call}</code>"


def on_page_content(html: str, **_: Any) -> str:
    """Replace the roles left in rendered docstrings."""
    return _ROLE.sub(_shown, html)
