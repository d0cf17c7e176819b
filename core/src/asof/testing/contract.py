"""The plugin contract, checked offline: declarations, hooks, signatures and imports.

Nothing here sends a request or needs pytest, so the same checks serve a plugin's own
test suite (through :class:`~asof.testing.conformance.ProviderConformance`), asof's
contract tests over every installed plugin, and ``asof plugins --check``.

:func:`check_plugin` runs them all on one plugin and returns the problems found, one
sentence each; each ``check_*`` function raises ``AssertionError`` with that sentence.
A plugin keeps the contract when:

- its entry-point name equals ``provider_info().name`` and every ``ChainSupport``'s
  ``provider`` (:func:`check_provider_info`, :func:`check_supported_chains`);
- the required hooks exist, async hooks are ``async def`` and sync ones are not, each
  declared capability has its hook (:func:`check_hooks`), and every hook is marked with
  asof's ``hookimpl`` and takes only its hookspec's arguments, in the hookspec's order
  (:func:`check_hook_signatures`);
- it declares a documented rate limit (or a caveat saying the provider publishes none),
  and a cost per call on ``ProviderInfo`` or on every ``ChainSupport`` (``1 request
  per call`` when no price is documented); each credential has an environment variable name
  (:func:`check_declarations`);
- its modules import nothing of asof except :mod:`asof.plugin` (:func:`check_imports`).
"""

from __future__ import annotations

import ast
import importlib.util
import inspect
import re
from collections.abc import Iterable
from decimal import Decimal
from pathlib import Path
from typing import Any

from asof import hookspecs
from asof.hookspecs import ASYNC_HOOKS, REQUIRED_HOOKS
from asof.provider import ProviderInfo
from asof.records import (
    BalanceChange,
    Capability,
    ChainSupport,
    HoldingsPoint,
    LedgerEntry,
)
from asof.testing.client import plugin_info

__all__ = [
    "ALLOWED_IMPORT",
    "HISTORY_ITEM_TYPES",
    "check_declarations",
    "check_hook_signatures",
    "check_hooks",
    "check_imports",
    "check_plugin",
    "check_provider_info",
    "check_supported_chains",
    "foreign_imports",
]

#: The one asof module a plugin may import.
ALLOWED_IMPORT = "asof.plugin"
#: The item type of each history capability.
HISTORY_ITEM_TYPES: dict[Capability, type[Any]] = {
    Capability.BALANCE_HISTORY: BalanceChange,
    Capability.HOLDINGS_HISTORY: HoldingsPoint,
    Capability.ACCOUNT_LEDGER: LedgerEntry,
}
_MARK = f"{hookspecs.PROJECT}_impl"


def check_provider_info(plugin: object, name: str) -> ProviderInfo:
    """``provider_info()`` is a well-formed :class:`ProviderInfo` named ``name``."""
    info = plugin_info(plugin)
    assert info.name == name, f"provider_info().name is {info.name!r}, expected {name!r}"
    assert re.fullmatch(r"[a-z][a-z0-9_-]*", info.name), (
        f"provider name {info.name!r} must be lowercase letters, digits, '_' or '-'"
    )
    assert info.title.strip(), "provider_info().title is empty"
    for url in (info.base_url, *info.networks.values()):
        assert url.startswith(("https://", "http://")), f"base URL {url!r} is not an HTTP URL"
        assert not url.endswith("/"), f"base URL {url!r} ends in '/'"
    for cred in info.credentials:
        assert cred.name.isidentifier(), f"credential name {cred.name!r} is not an identifier"
        if cred.path:
            for url in (info.base_url, *info.networks.values()):
                assert cred.placeholder in url, (
                    f"credential {cred.name!r} goes in the URL path, but {url!r} has no "
                    f"{cred.placeholder}"
                )
        for env in cred.env:
            assert re.fullmatch(r"[A-Z][A-Z0-9_]*", env), (
                f"credential environment variable {env!r} is not UPPER_SNAKE_CASE"
            )
    if info.cost is not None:
        assert isinstance(info.cost.amount, Decimal), "cost amount must be a Decimal"
        assert info.cost.amount >= 0, "cost amount is negative"
    if info.rate_limit is not None:
        assert info.rate_limit.requests > 0, "rate limit requests must be positive"
        assert info.rate_limit.per_seconds > 0, "rate limit period must be positive"
    assert info.timeout > 0, "timeout must be positive"
    assert all(isinstance(c, str) and c.strip() for c in info.caveats), "blank caveat"
    names = [option.name for option in info.options]
    assert len(names) == len(set(names)), f"options declared twice: {names}"
    return info


def check_supported_chains(plugin: object, name: str) -> list[ChainSupport]:
    """``supported_chains()`` gives :class:`ChainSupport` records of this provider, each
    chain once, each with at least one capability."""
    declare = getattr(plugin, "supported_chains", None)
    assert callable(declare), "the plugin has no supported_chains hook"
    records = list(declare())
    assert records, "supported_chains() declares no chain"
    chains: list[str] = []
    for record in records:
        assert isinstance(record, ChainSupport), (
            f"supported_chains() gave {type(record).__name__}, not ChainSupport"
        )
        assert record.provider == name, (
            f"ChainSupport for {record.chain} names provider {record.provider!r}, not {name!r}"
        )
        assert record.capabilities or record.derived, f"{record.chain} declares no capability"
        chains.append(record.chain)
    assert len(chains) == len(set(chains)), f"a chain is declared twice: {chains}"
    return records


def check_hooks(plugin: object, records: Iterable[ChainSupport]) -> None:
    """The required hooks exist, async hooks are coroutines, sync hooks are not, and each
    declared capability has the hook that serves it."""
    for hook in REQUIRED_HOOKS:
        assert callable(getattr(plugin, hook, None)), f"required hook {hook} is missing"
    for hook in ASYNC_HOOKS:
        impl = getattr(plugin, hook, None)
        if impl is not None:
            assert inspect.iscoroutinefunction(impl), f"hook {hook} must be async def"
    for hook in REQUIRED_HOOKS:
        assert not inspect.iscoroutinefunction(getattr(plugin, hook)), f"{hook} must be sync"
    served = {cap for r in records for cap in (*r.capabilities, *r.derived)}
    if Capability.BALANCE_AT in served:
        assert getattr(plugin, "balance_at", None) is not None, (
            "balance_at is declared but the balance_at hook is missing"
        )
    if served & set(HISTORY_ITEM_TYPES):
        assert getattr(plugin, "history_page", None) is not None, (
            "a history capability is declared but the history_page hook is missing"
        )


def check_hook_signatures(plugin: object) -> None:
    """Every hook implementation carries asof's ``hookimpl`` mark and takes only
    arguments its hookspec declares, in the hookspec's order."""
    for name in sorted({*REQUIRED_HOOKS, *ASYNC_HOOKS}):
        impl = getattr(plugin, name, None)
        if impl is None:
            continue
        assert hasattr(impl, _MARK), (
            f"hook {name} is not marked with asof's hookimpl (from asof.plugin import hookimpl)"
        )
        spec = list(inspect.signature(getattr(hookspecs, name)).parameters)
        params = list(inspect.signature(impl).parameters)
        unknown = [p for p in params if p not in spec]
        assert not unknown, (
            f"hook {name} takes {', '.join(unknown)}, which its hookspec "
            f"{name}({', '.join(spec)}) does not give"
        )
        assert params == [p for p in spec if p in params], (
            f"hook {name}({', '.join(params)}) lists its arguments in another order than "
            f"the hookspec {name}({', '.join(spec)})"
        )


def check_declarations(info: ProviderInfo, records: Iterable[ChainSupport]) -> None:
    """A documented rate limit, a cost per call (on ``ProviderInfo`` or on every
    ``ChainSupport``) and an environment variable for every credential. A provider that
    publishes no rate limit says so in a caveat that mentions "rate limit"."""
    for check in _declaration_checks(info, list(records)):
        check()


def _declaration_checks(info: ProviderInfo, records: list[ChainSupport]) -> list[Any]:
    def rate_limit() -> None:
        assert info.rate_limit is not None or any("rate limit" in c for c in info.caveats), (
            "provider_info() declares no rate_limit (state the provider's documented "
            "limit, or say in a caveat that it publishes none)"
        )

    def cost() -> None:
        if info.cost is None:
            uncosted = sorted(r.chain for r in records if r.cost is None)
            assert not uncosted, (
                f"no cost per call on provider_info() nor on the ChainSupport of "
                f"{', '.join(uncosted)}"
            )

    def environment() -> None:
        for cred in info.credentials:
            assert cred.env, (
                f"credential {cred.name} names no environment variable (env=(...)); "
                f"ASOF_{info.name.upper()}_{cred.name.upper()} alone is hard to discover"
            )

    return [rate_limit, cost, environment]


def _module_files(plugin: object) -> list[Path]:
    name = getattr(plugin, "__name__", None)
    if not isinstance(name, str):  # an object, not a module: its files are unknown
        return []
    root = name.partition(".")[0]
    spec = importlib.util.find_spec(root)
    if spec is None or spec.origin is None:
        return []
    origin = Path(spec.origin)
    if spec.submodule_search_locations:
        found: list[Path] = []
        for location in spec.submodule_search_locations:
            found.extend(sorted(Path(location).rglob("*.py")))
        return found
    return [origin] if origin.suffix == ".py" else []


def foreign_imports(path: Path) -> list[str]:
    """``line: module`` for every import of asof in ``path`` other than
    :data:`ALLOWED_IMPORT` (``import asof``, ``from asof import x`` and
    ``from asof.records import x`` all count)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: list[str] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Import | ast.ImportFrom):
            continue
        modules: list[str] = []
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif node.level == 0 and node.module:
            modules = [node.module]
        for module in modules:
            if (module == "asof" or module.startswith("asof.")) and module != ALLOWED_IMPORT:
                found.append(f"{node.lineno}: {module}")
    return found


def check_imports(plugin: object) -> None:
    """The plugin's modules import nothing of asof except :mod:`asof.plugin`."""
    problems: list[str] = []
    for path in _module_files(plugin):
        problems.extend(f"{path.name}:{where}" for where in foreign_imports(path))
    assert not problems, (
        f"imports from outside {ALLOWED_IMPORT}: {'; '.join(problems)}"
    )


def check_plugin(plugin: object, name: str) -> list[str]:
    """Every offline check on ``plugin`` registered as ``name``: the problems found,
    one sentence each (empty when it keeps the contract)."""
    problems: list[str] = []
    info: ProviderInfo | None = None
    records: list[ChainSupport] = []
    try:
        info = check_provider_info(plugin, name)
    except AssertionError as exc:
        problems.append(_sentence(exc))
    try:
        records = check_supported_chains(plugin, name)
    except AssertionError as exc:
        problems.append(_sentence(exc))
        records = _declared_anyway(plugin)
    checks: list[Any] = [
        lambda: check_hooks(plugin, records),
        lambda: check_hook_signatures(plugin),
        lambda: check_imports(plugin),
    ]
    if info is not None:
        checks.extend(_declaration_checks(info, records))
    for check in checks:
        try:
            check()
        except AssertionError as exc:
            problems.append(_sentence(exc))
    return problems


def _declared_anyway(plugin: object) -> list[ChainSupport]:
    """The well-typed records of a ``supported_chains()`` that failed its check, so the
    other checks still see them."""
    declare: Any = getattr(plugin, "supported_chains", None)
    try:
        return [r for r in declare() if isinstance(r, ChainSupport)]
    except Exception:
        return []


def _sentence(exc: AssertionError) -> str:
    """The check's own sentence, without what pytest's assertion rewriting appends."""
    return str(exc).split("\n", 1)[0]
