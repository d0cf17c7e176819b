"""Loading provider plugins from the ``asof`` entry-point group, one at a time.

Every plugin, first-party or not, is a module registered under the ``asof`` entry-point
group; the entry point's name is the provider's name. Loading is fault-isolated:

- a plugin blocked (or not allowed) by the configuration is not imported at all;
- a plugin whose import raises is reported with the error, and the rest keep working;
- a name declared by more than one distribution is a clash: the conventional
  distribution ``asof-<name>`` keeps it if it is one of them, every other is refused;
  with no conventional one, none is loaded;
- a plugin whose hooks break the contract (unknown hook, wrong arguments, sync where
  async is required, missing required hook, ``provider_info`` naming another provider)
  is refused with the reason.

Each :class:`PluginSet` owns its own pluggy manager: there is no global one.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable, Iterable, Mapping
from importlib.metadata import EntryPoint, entry_points
from typing import Any

import attrs
import pluggy

from asof import hookspecs
from asof.config import Config
from asof.errors import PluginError
from asof.provider import ProviderInfo
from asof.records import ChainSupport

__all__ = ["GROUP", "PluginSet", "PluginStatus", "installed_provider_names", "load_plugins"]

#: The entry-point group plugins register under.
GROUP = "asof"

log = logging.getLogger("asof.plugins")

_SPEC_NAMES = frozenset(
    name for name in dir(hookspecs) if hasattr(getattr(hookspecs, name), "asof_spec")
)


@attrs.frozen(kw_only=True)
class PluginStatus:
    """What became of one plugin: ``loaded``, ``failed`` (import raised), ``invalid``
    (broke the hook contract), ``blocked`` / ``not allowed`` (by configuration) or
    ``clash`` (name declared by several distributions)."""

    name: str
    state: str
    distribution: str | None = None
    version: str | None = None
    module: str | None = None
    error: str | None = None

    @property
    def loaded(self) -> bool:
        """Whether the plugin is registered and usable."""
        return self.state == "loaded"


@attrs.define
class PluginSet:
    """The plugins of one client: its pluggy manager, statuses and declarations."""

    pm: pluggy.PluginManager
    statuses: list[PluginStatus] = attrs.field(factory=list)
    infos: dict[str, ProviderInfo] = attrs.field(factory=dict)
    declared: dict[str, tuple[ChainSupport, ...]] = attrs.field(factory=dict)

    def names(self) -> list[str]:
        """Names of the loaded plugins, sorted."""
        return sorted(self.infos)

    def status(self, name: str) -> PluginStatus | None:
        """The status recorded for ``name``, if any."""
        return next((s for s in self.statuses if s.name == name), None)

    def impl(self, name: str, hook: str) -> Callable[..., Any] | None:
        """The named plugin's implementation of ``hook``, or ``None``."""
        plugin = self.pm.get_plugin(name)
        if plugin is None:
            return None
        caller = getattr(self.pm.hook, hook)
        for impl in caller.get_hookimpls():
            if impl.plugin is plugin:
                function: Callable[..., Any] = impl.function
                return function
        return None


def _new_manager() -> pluggy.PluginManager:
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    return pm


def installed_provider_names() -> set[str]:
    """The names of every ``asof`` entry point installed in this environment (loaded or
    not)."""
    return {ep.name for ep in entry_points(group=GROUP)}


def load_plugins(
    config: Config,
    *,
    explicit: Mapping[str, object] | None = None,
    discovered: Iterable[EntryPoint] | None = None,
) -> PluginSet:
    """Load and validate plugins.

    With ``explicit`` (name to module or object), exactly those are registered and no
    entry point is read: tests and embedding applications use this. Otherwise the
    ``asof`` entry points are loaded (``discovered`` replaces the machine's list).
    Allow and block lists from ``config`` apply either way.
    """
    plugins = PluginSet(pm=_new_manager())
    if explicit is not None:
        for name, obj in explicit.items():
            if _filtered(plugins, config, name, None, None):
                continue
            _register(plugins, name, obj, None, None, getattr(obj, "__name__", None))
        plugins.pm.check_pending()
        return plugins

    eps = list(entry_points(group=GROUP) if discovered is None else discovered)
    by_name: dict[str, list[EntryPoint]] = {}
    for ep in eps:
        by_name.setdefault(ep.name, []).append(ep)
    for name in sorted(by_name):
        candidates = by_name[name]
        chosen = candidates[0]
        if len(candidates) > 1:
            chosen_or_none = _resolve_clash(plugins, name, candidates)
            if chosen_or_none is None:
                continue
            chosen = chosen_or_none
        dist, version = _dist_of(chosen)
        if _filtered(plugins, config, name, dist, version):
            continue
        try:
            obj = chosen.load()
        except Exception as exc:  # a broken plugin must not take the others down
            log.warning("plugin %s failed to import: %s", name, exc)
            plugins.statuses.append(PluginStatus(
                name=name, state="failed", distribution=dist, version=version,
                module=chosen.value, error=f"{type(exc).__name__}: {exc}",
            ))
            continue
        _register(plugins, name, obj, dist, version, chosen.value)
    # Every registered plugin was checked hook by hook above; this is pluggy's own
    # last word that no implementation is left without a specification.
    plugins.pm.check_pending()
    return plugins


def _dist_of(ep: EntryPoint) -> tuple[str | None, str | None]:
    dist = ep.dist
    if dist is None:
        return None, None
    return dist.name, dist.version


def _resolve_clash(
    plugins: PluginSet, name: str, candidates: list[EntryPoint]
) -> EntryPoint | None:
    conventional = [ep for ep in candidates if _dist_of(ep)[0] in (f"asof-{name}", f"asof_{name}")]
    keep = conventional[0] if len(conventional) == 1 else None
    for ep in candidates:
        if ep is keep:
            continue
        dist, version = _dist_of(ep)
        others = ", ".join(sorted(str(_dist_of(o)[0]) for o in candidates if o is not ep))
        plugins.statuses.append(PluginStatus(
            name=name, state="clash", distribution=dist, version=version, module=ep.value,
            error=f"the name {name!r} is also declared by {others}; "
            + (f"kept asof-{name}" if keep else "none of them is loaded"),
        ))
    return keep


def _filtered(
    plugins: PluginSet, config: Config, name: str, dist: str | None, version: str | None
) -> bool:
    if name in config.block:
        plugins.statuses.append(PluginStatus(name=name, state="blocked", distribution=dist,
                                             version=version, error="blocked by configuration"))
        return True
    if config.allow is not None and name not in config.allow:
        plugins.statuses.append(PluginStatus(name=name, state="not allowed", distribution=dist,
                                             version=version,
                                             error="not in the configuration's allow list"))
        return True
    return False


def _register(
    plugins: PluginSet, name: str, obj: object, dist: str | None, version: str | None,
    module: str | None,
) -> None:
    try:
        _check_hooks(name, obj)
        plugins.pm.register(obj, name=name)
    except (PluginError, pluggy.PluginValidationError, ValueError) as exc:
        plugins.statuses.append(PluginStatus(name=name, state="invalid", distribution=dist,
                                             version=version, module=module, error=str(exc)))
        return
    try:
        info, declared = _declarations(plugins, name)
    except Exception as exc:
        plugins.pm.unregister(name=name)
        plugins.statuses.append(PluginStatus(name=name, state="invalid", distribution=dist,
                                             version=version, module=module,
                                             error=f"{type(exc).__name__}: {exc}"))
        return
    plugins.infos[name] = info
    plugins.declared[name] = declared
    plugins.statuses.append(PluginStatus(name=name, state="loaded", distribution=dist,
                                         version=version, module=module))


def _check_hooks(name: str, obj: object) -> None:
    found: set[str] = set()
    for attr in dir(obj):
        function = getattr(obj, attr, None)
        if not callable(function) or not hasattr(function, f"{hookspecs.PROJECT}_impl"):
            continue
        if attr not in _SPEC_NAMES:
            raise PluginError(name, f"implements {attr!r}, which is not an asof hook")
        is_async = inspect.iscoroutinefunction(function)
        if attr in hookspecs.ASYNC_HOOKS and not is_async:
            raise PluginError(name, f"hook {attr!r} must be 'async def'")
        if attr not in hookspecs.ASYNC_HOOKS and is_async:
            raise PluginError(name, f"hook {attr!r} must be a plain 'def', not async")
        found.add(attr)
    missing = hookspecs.REQUIRED_HOOKS - found
    if missing:
        raise PluginError(name, f"does not implement required hook(s) {', '.join(sorted(missing))}")


def _declarations(plugins: PluginSet, name: str) -> tuple[ProviderInfo, tuple[ChainSupport, ...]]:
    info_fn = plugins.impl(name, "provider_info")
    chains_fn = plugins.impl(name, "supported_chains")
    assert info_fn is not None
    assert chains_fn is not None
    info = info_fn()
    if not isinstance(info, ProviderInfo):
        raise PluginError(name, f"provider_info returned {type(info).__name__}, not ProviderInfo")
    if info.name != name:
        raise PluginError(
            name, f"provider_info names {info.name!r}, but the entry point is {name!r}"
        )
    declared = tuple(chains_fn())
    for support in declared:
        if not isinstance(support, ChainSupport):
            raise PluginError(name, f"supported_chains yielded {type(support).__name__}")
        if support.provider != name:
            raise PluginError(name, f"supported_chains names provider {support.provider!r}")
    return info, declared
