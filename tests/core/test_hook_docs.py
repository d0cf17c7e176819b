"""Every hook is documented in docs/plugins.md with its real signature, and nothing else
is documented as a hook."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

from asof import hookspecs

DOC = Path(__file__).resolve().parents[2] / "docs" / "plugins.md"
HEADING = re.compile(r"^### `(?P<async>async )?(?P<name>\w+)\((?P<args>[^)]*)\)", re.MULTILINE)


def specs() -> dict[str, inspect.Signature]:
    return {
        name: inspect.signature(fn)
        for name, fn in vars(hookspecs).items()
        if callable(fn) and hasattr(fn, "asof_spec")
    }


def documented() -> dict[str, tuple[bool, list[str]]]:
    found = {}
    for match in HEADING.finditer(DOC.read_text(encoding="utf-8")):
        args = [a.strip() for a in match["args"].split(",") if a.strip()]
        found[match["name"]] = (bool(match["async"]), args)
    return found


def test_every_hook_is_documented_with_its_signature() -> None:
    docs = documented()
    hooks = specs()
    assert set(hooks) <= set(docs), f"undocumented hooks: {sorted(set(hooks) - set(docs))}"
    for name, signature in hooks.items():
        is_async, args = docs[name]
        assert is_async == (name in hookspecs.ASYNC_HOOKS), name
        assert args == list(signature.parameters), name


def test_no_hook_is_documented_that_does_not_exist() -> None:
    hooks = specs()
    hook_like = {n for n in documented() if n in hooks or n.endswith(("_at", "_page", "_chains",
                                                                      "_info"))}
    assert hook_like <= set(hooks)
