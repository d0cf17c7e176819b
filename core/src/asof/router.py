"""The router: which provider answers a (chain, capability), and in what order.

A route is the ordered list of providers the router will try. It is built from every
loaded plugin's chain declarations (``supported_chains``, or the cached answer of
``discover_chains`` after a refresh) and ordered by, in turn:

1. the archive (a step of its own, :attr:`RouteStep.archive`), which answers first
   wherever its coverage proves the answer (see :mod:`asof.archive.rules`), for every
   capability;
2. the deployment's preference for the chain (``[routes]`` in the configuration,
   ``"chain.capability"`` before ``"chain"``);
3. each declaration's ``preference`` (higher first; direct answers declare higher than
   derived ones);
4. the provider's name.

Providers missing a required credential stay on the route, marked unusable with the
reason, so that :meth:`Route.explain` says what to set. Exactly one provider is awaited
per attempt (async hooks are never broadcast); a :class:`~asof.errors.RetryableError`
moves on to the next provider, any other error is raised at once.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Callable, Collection, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple, Protocol, cast

import anyio
import attrs

from asof.ahead import Ahead, ask_ahead
from asof.blocktimes import BlockTimes, MemoryBlockTimes
from asof.chains import resolve_chain
from asof.config import Config, default_cache_dir
from asof.context import ProviderContext
from asof.errors import (
    AsofError,
    NoRoute,
    PluginError,
    ProviderError,
    RateLimited,
    RetryableError,
    UnknownProvider,
)
from asof.plugins import PluginSet
from asof.queries import BalanceQuery, HistoryQuery
from asof.records import BalanceAt, Capability, ChainSupport, HistoryItem, HistoryScope, Page
from asof.transport import Transport
from asof.wire import from_data, to_data

__all__ = ["ARCHIVE", "ArchiveLike", "Route", "RouteStep", "Router"]

log = logging.getLogger("asof.router")

#: The name the archive's route step carries.
ARCHIVE = "archive"


class _Fetched(NamedTuple):
    """A page as a provider gave it, before it is recorded."""

    name: str
    page: Page[Any]
    scope: HistoryScope | None  # the provider's declared history scope on this chain


class ArchiveLike(Protocol):
    """What the router asks of the archive (see :mod:`asof.archive`)."""

    def lookup_balance(self, query: BalanceQuery) -> BalanceAt | None:
        """A stored or derivable answer, or ``None`` when the archive does not cover it."""
        ...

    def record_balance(self, answer: BalanceAt, *, exact: bool | None = None) -> None:
        """Keep a provider's answer (the archive decides whether it is final);
        ``exact`` is the provider's declared ``balance_at_exact``."""
        ...

    def explain_balance(self, query: BalanceQuery) -> tuple[bool, list[str]]:
        """Whether the archive answers ``query`` and why (or why not), one line each."""
        ...

    def lookup_history(self, query: HistoryQuery) -> Sequence[HistoryItem] | None:
        """The stored history when the archive covers the whole query, else ``None``."""
        ...

    def record_page(
        self, query: HistoryQuery, provider: str, page: Page[Any], cursor: str | None,
        *, scope: HistoryScope | None = None,
    ) -> None:
        """Keep one fetched page; ``cursor`` is the one the page was fetched with and
        ``scope`` what the provider declared its history covers."""
        ...

    def complete_history(self, query: HistoryQuery, provider: str, *,
                         scope: HistoryScope | None = None) -> None:
        """Mark the query's range as fully fetched from ``provider``."""
        ...

    def block_times(self, provider: str) -> BlockTimes:
        """Where ``provider``'s settled block times are kept (the router gives an archive
        without it in-memory ones)."""
        ...


@attrs.frozen(kw_only=True)
class RouteStep:
    """One provider on a route: whether it can be tried, and why or why not."""

    provider: str
    usable: bool
    reason: str
    support: ChainSupport | None = None
    archive: bool = False  #: this step is the archive, not a provider


@attrs.frozen(kw_only=True)
class Route:
    """The ordered providers for one (chain, capability)."""

    chain: str
    capability: Capability
    steps: tuple[RouteStep, ...]

    @property
    def usable(self) -> tuple[RouteStep, ...]:
        """The steps the router will try, in order."""
        return tuple(step for step in self.steps if step.usable)

    def explain(self) -> str:
        """A few lines saying who answers and why each other provider does not."""
        lines = [f"route for {self.chain} {self.capability}:"]
        order = 0
        for step in self.steps:
            if step.usable:
                order += 1
                lines.append(f"  {order}. {step.provider}: {step.reason}")
            else:
                lines.append(f"  -  {step.provider}: {step.reason}")
        if not self.usable:
            lines.append("  no provider can answer")
        return "\n".join(lines)


class Router:
    """Picks providers and calls them. One router per client."""

    def __init__(
        self,
        *,
        plugins: PluginSet,
        config: Config,
        transport: Transport,
        archive: ArchiveLike | None = None,
        clock: Callable[[], datetime] | None = None,
        cache_dir: Path | None = None,
    ) -> None:
        self.plugins = plugins
        self.config = config
        self.transport = transport
        self.archive = archive
        self._clock = clock
        self._cache_dir = cache_dir or default_cache_dir(config.env) / "chains"
        self._contexts: dict[str, ProviderContext] = {}
        #: Each loaded provider's settings, resolved once (shared with the transport).
        self.settings = {name: config.provider_settings(info)
                         for name, info in plugins.infos.items()}
        self._missing = {name: s.missing for name, s in self.settings.items()
                         if s.missing is not None}
        self._table = self._build_table()
        self._routes: dict[tuple[str, Capability | str], Route] = {}
        self._pulls: dict[HistoryQuery, anyio.Lock] = {}

    def now(self) -> datetime:
        """The current UTC time as this router's clock says."""
        return self._clock() if self._clock is not None else datetime.now(UTC)

    # -- the table --------------------------------------------------------------------

    def _declared(self, name: str) -> tuple[ChainSupport, ...]:
        cached = self._read_cache(name)
        return cached if cached is not None else self.plugins.declared.get(name, ())

    def _cache_file(self, name: str) -> Path:
        return self._cache_dir / f"{name}.json"

    def _read_cache(self, name: str) -> tuple[ChainSupport, ...] | None:
        path = self._cache_file(name)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return tuple(from_data(ChainSupport, item) for item in data["chains"])
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError, AsofError) as exc:
            log.warning("ignoring unreadable chain cache %s: %s", path, exc)
            return None

    def _build_table(self) -> dict[tuple[str, Capability], list[ChainSupport]]:
        self._declarations = {name: self._declared(name) for name in self.plugins.names()}
        table: dict[tuple[str, Capability], list[ChainSupport]] = {}
        for declared in self._declarations.values():
            for support in declared:
                for capability in support.capabilities:
                    table.setdefault((support.chain, capability), []).append(support)
        return table

    def supported(self) -> list[ChainSupport]:
        """Every chain declaration of every loaded plugin, sorted by chain then provider."""
        found = [s for declared in self._declarations.values() for s in declared]
        return sorted(found, key=lambda s: (s.chain, s.provider))

    async def refresh_chains(self) -> dict[str, str]:
        """Ask every plugin that implements ``discover_chains`` for its live listing and
        cache it. Returns, per provider, what happened."""
        outcome: dict[str, str] = {}
        for name in self.plugins.names():
            impl = self.plugins.impl(name, "discover_chains")
            if impl is None:
                continue
            if name in self._missing:
                outcome[name] = f"skipped: {self._missing[name]}"
                continue
            try:
                found = list(await impl(ctx=self.context(name)))
            except ProviderError as exc:
                outcome[name] = f"failed: {exc}"
                continue
            valid = [s for s in found if isinstance(s, ChainSupport) and s.provider == name]
            self._cache_dir.mkdir(parents=True, exist_ok=True)
            payload = {"provider": name, "chains": to_data(valid)}
            self._cache_file(name).write_text(json.dumps(payload, indent=1), encoding="utf-8")
            outcome[name] = f"{len(valid)} chain declarations cached"
        self._table = self._build_table()
        self._routes.clear()
        return outcome

    # -- routes -----------------------------------------------------------------------

    def route(self, chain: str, capability: Capability | str) -> Route:
        """The ordered providers for ``chain`` and ``capability``, with reasons (built
        once per pair; :meth:`refresh_chains` rebuilds them)."""
        key = (chain, capability)
        found = self._routes.get(key)
        if found is None:
            found = self._routes[key] = self._build_route(chain, capability)
        return found

    def _build_route(self, chain: str, capability: Capability | str) -> Route:
        chain_name = resolve_chain(chain).name
        cap = Capability(capability)
        preferred = self.config.route_preference(chain_name, cap.value)
        serving = list(self._table.get((chain_name, cap), []))
        if cap is Capability.PORTFOLIO_AT:
            serving.extend(self._portfolio_sources(chain_name, serving))

        def order(support: ChainSupport) -> tuple[int, int, int, str]:
            name = support.provider
            rank = preferred.index(name) if name in preferred else len(preferred)
            derived = 1 if cap in support.derived else 0
            return (rank, derived, -support.preference, support.provider)

        steps: list[RouteStep] = []
        if self.archive is not None:
            steps.append(RouteStep(provider=ARCHIVE, usable=True, archive=True,
                                   reason="answers first where its coverage proves the "
                                   "answer"))
        for support in sorted(serving, key=order):
            name = support.provider
            if name in self._missing:
                steps.append(RouteStep(provider=name, usable=False, reason=self._missing[name],
                                       support=support))
                continue
            bits = ["derived from its history" if cap in support.derived else "direct"]
            if cap is Capability.BALANCE_AT and not support.balance_at_exact:
                bits.append("may undercount a token held in several token accounts")
            bits.append(str(support.status))
            if support.provider in preferred:
                bits.append("preferred by configuration")
            cost = support.cost or self.plugins.infos[name].cost
            if cost is not None:
                bits.append(str(cost))
            steps.append(RouteStep(provider=name, usable=True, reason=", ".join(bits),
                                   support=support))
        listed = {s.provider for s in steps}
        for name in self.plugins.names():
            if name not in listed:
                steps.append(RouteStep(provider=name, usable=False,
                                       reason=f"does not serve {cap} on {chain_name}"))
        for status in self.plugins.statuses:
            if not status.loaded and status.name not in listed:
                steps.append(RouteStep(provider=status.name, usable=False,
                                       reason=f"{status.state}: {status.error}"))
        return Route(chain=chain_name, capability=cap, steps=tuple(steps))

    def _portfolio_sources(self, chain: str, direct: Sequence[ChainSupport]
                           ) -> list[ChainSupport]:
        """Where the core derives a portfolio (see :mod:`asof.portfolio.answer`): the
        chain's ``balance_history`` providers, else its ``balance_at`` ones, each marked
        as deriving ``portfolio_at``."""
        named = {s.provider for s in direct}
        for source in (Capability.BALANCE_HISTORY, Capability.BALANCE_AT):
            found = [attrs.evolve(s, derived=(*s.derived, Capability.PORTFOLIO_AT))
                     for s in self._table.get((chain, source), []) if s.provider not in named]
            if found:
                return found
        return []

    # -- calling providers ------------------------------------------------------------

    def context(self, name: str) -> ProviderContext:
        """The provider's context: its HTTP session, options and clock (built once)."""
        if name not in self._contexts:
            settings = self.settings[name]
            session = self.transport.session_for(settings)
            extra: dict[str, Any] = {}
            if self._clock is not None:
                extra["clock"] = self._clock
            extra["block_times"] = self._block_times(name)
            if settings.info.chain_urls:
                extra["chain_http"] = {
                    chain: self.transport.session_for(settings, base_url=url)
                    for chain, url in settings.chain_urls.items()
                }
            self._contexts[name] = ProviderContext(
                provider=name,
                http=session,
                options=settings.options,
                network=settings.network,
                log=logging.getLogger(f"asof.provider.{name}"),
                **extra,
            )
        return self._contexts[name]

    def _block_times(self, name: str) -> BlockTimes:
        """The provider's block times: in the archive when one is enabled, else in
        memory for this router's lifetime."""
        in_archive = getattr(self.archive, "block_times", None)
        if in_archive is not None:
            return cast(BlockTimes, in_archive(name))
        return MemoryBlockTimes(clock=self._clock)

    def _providers(self, chain: str, capability: Capability) -> tuple[Route, list[str]]:
        route = self.route(chain, capability)
        names = [s.provider for s in route.usable if not s.archive]
        return route, names

    def _support(self, route: Route, name: str) -> ChainSupport | None:
        return next((s.support for s in route.steps if s.provider == name and not s.archive),
                    None)

    def route_for(self, query: BalanceQuery) -> Route:
        """The route of one balance question: the archive step says whether the archive
        can answer it and why not (coverage, scope, finality)."""
        route = self.route(query.chain, Capability.BALANCE_AT)
        explain = getattr(self.archive, "explain_balance", None)
        if explain is None:
            return route
        answers, lines = explain(query)
        reason = ("answers: " if answers else "cannot answer: ") + "; ".join(lines)
        steps = tuple(attrs.evolve(s, usable=answers, reason=reason) if s.archive else s
                      for s in route.steps)
        return attrs.evolve(route, steps=steps)

    async def _first_answer(
        self,
        route: Route,
        names: Sequence[str],
        hook: str,
        expected: type[Any],
        *,
        failover: bool = True,
        **arguments: Any,
    ) -> tuple[str, Any]:
        """Await ``hook`` of each provider in turn until one answers.

        A retryable failure moves on (when ``failover``), a decline (``None``) moves on,
        any other asof error is raised at once and any other exception becomes a
        :class:`~asof.errors.PluginError`.
        """
        reasons: list[tuple[str, str]] = []
        last: ProviderError | None = None
        waited_for: str | None = None  # a rate-limited direct provider
        for name in names:
            if waited_for is not None and self._derived_unasked(route, name):
                reasons.append((name, f"derived; not asked in place of the rate-limited "
                                f"{waited_for} (name it in [routes] to allow that)"))
                continue
            impl = self.plugins.impl(name, hook)
            if impl is None:
                reasons.append((name, f"declares {route.capability} but does not implement {hook}"))
                continue
            try:
                answer = await impl(ctx=self.context(name), **arguments)
            except RetryableError as exc:
                if not failover:
                    raise
                log.info("%s failed (%s); trying the next provider", name, exc)
                reasons.append((name, str(exc)))
                last = exc
                if isinstance(exc, RateLimited) and not self._derived(route, name):
                    waited_for = name
                continue
            except AsofError:
                raise
            except Exception as exc:
                raise PluginError(name, f"{hook} raised {type(exc).__name__}: {exc}") from exc
            if answer is None:
                reasons.append((name, "declined this query"))
                continue
            if not isinstance(answer, expected):
                raise PluginError(name, f"{hook} returned {type(answer).__name__}")
            return name, answer
        raise self._no_route(route, reasons, last)

    def _derived(self, route: Route, name: str) -> bool:
        support = self._support(route, name)
        return support is not None and route.capability in support.derived

    def _derived_unasked(self, route: Route, name: str) -> bool:
        """A derived provider is not asked in place of a rate-limited direct one (it is
        slower, often by orders of magnitude) unless the deployment prefers it."""
        preferred = self.config.route_preference(route.chain, route.capability.value)
        return self._derived(route, name) and name not in preferred

    def _no_route(
        self, route: Route, reasons: list[tuple[str, str]], last: ProviderError | None
    ) -> AsofError:
        failed = [r for r in reasons
                  if r[1] != "declined this query" and not r[1].startswith("derived; not asked")]
        if last is not None and len(failed) == 1:
            return last
        skipped = [(s.provider, s.reason) for s in route.steps
                   if not s.usable and not s.reason.startswith("does not serve")]
        error = NoRoute(f"no provider could answer {route.capability} on {route.chain}",
                        reasons=[*reasons, *skipped])
        error.__cause__ = last
        return error

    async def ask(self, chain: str, capability: Capability, hook: str, expected: type[Any],
                  *, providers: Sequence[str] | None = None, **arguments: Any
                  ) -> tuple[str, Any]:
        """Await ``hook`` of the providers on the route of (``chain``, ``capability``), the
        archive step aside (only ``providers`` among them, when given), until one
        answers; the provider's name and its answer. Raises
        :class:`~asof.errors.NoRoute` when none does."""
        route, names = self._providers(chain, capability)
        if providers is not None:
            names = [name for name in names if name in providers]
        return await self._first_answer(route, names, hook, expected, **arguments)

    async def balance_at(
        self, query: BalanceQuery, *, exclude: Collection[str] = ()
    ) -> BalanceAt:
        """Answer a balance query by its route: the archive where it proves the answer,
        else the first provider that can. With no provider left, the error says what
        the archive is missing and which ``asof sync`` would supply it.

        ``exclude`` names providers not to ask (``archive`` among them skips the
        archive); an answer got with ``exclude`` (a second opinion) is not archived.
        """
        route, names = self._providers(query.chain, Capability.BALANCE_AT)
        names = [name for name in names if name not in exclude]
        use_archive = self.archive is not None and ARCHIVE not in exclude
        if use_archive and any(s.archive for s in route.usable):
            assert self.archive is not None
            stored = self.archive.lookup_balance(query)
            if stored is not None:
                return stored
        if use_archive and not exclude and names:
            through = await self._through_history(route, names[0], query)
            if through is not None:
                return through
        try:
            name, answer = await self._first_answer(route, names, "balance_at", BalanceAt,
                                                    query=query)
        except NoRoute as exc:
            if not use_archive:
                raise
            error = NoRoute(f"no provider could answer {route.capability} on {route.chain}",
                            reasons=[*exc.reasons, (ARCHIVE, self._archive_gap(query))])
            raise error from exc.__cause__
        if self.archive is not None and not exclude:
            support = self._support(route, name)
            self.archive.record_balance(
                answer, exact=None if support is None else support.balance_at_exact)
        return cast(BalanceAt, answer)

    async def _through_history(self, route: Route, name: str,
                               query: BalanceQuery) -> BalanceAt | None:
        """When the provider to ask derives ``balance_at`` from its history, pull the
        wallet's history of the token (from the beginning, once, resumably) into the
        archive and answer from it: later points are look-ups, not another read of
        the whole history. ``None`` when that does not apply or does not prove the
        point (the provider is then asked as usual)."""
        if not self._derived(route, name) or not hasattr(self.archive, "sync_state"):
            return None
        archive: Any = self.archive
        history = HistoryQuery(capability=Capability.BALANCE_HISTORY,
                               wallets=(query.wallet,), tokens=(query.token,))
        lock = self._pulls.setdefault(history, anyio.Lock())
        async with lock:  # concurrent points of one wallet wait for one pull
            stored = archive.lookup_balance(query)
            if stored is not None:
                return cast(BalanceAt, stored)
            state = archive.sync_state(history)
            if state is not None and (state.done or state.provider != name):
                return None
            cursor = None if state is None else state.cursor
            try:
                async for _ in self.follow(history, cursor, provider=name):
                    pass
            except ProviderError as exc:
                log.info("%s: pulling the history for %s failed (%s)", name, query, exc)
                return None
        return cast(BalanceAt | None, archive.lookup_balance(query))

    def _archive_gap(self, query: BalanceQuery) -> str:
        explain = getattr(self.archive, "explain_balance", None)
        lines = ["it does not prove this balance"] if explain is None else explain(query)[1]
        wallet = query.wallet
        return ("; ".join(lines) + f"; `asof sync {wallet}` (from the beginning of its "
                "history, with a provider whose declared scope includes "
                f"{query.token}) would supply it")

    async def fetch_page(
        self, query: HistoryQuery, cursor: str | None = None, *, provider: str | None = None
    ) -> tuple[str, Page[Any]]:
        """One page of a history from ``provider`` (or the first on the route that
        answers), recorded in the archive. Returns the provider's name and the page."""
        fetched = await self._fetch(query, cursor, provider)
        self._record(query, cursor, fetched)
        return fetched.name, fetched.page

    async def _fetch(self, query: HistoryQuery, cursor: str | None,
                     provider: str | None) -> _Fetched:
        """One page of a history, not yet recorded."""
        if provider is not None and provider not in self.plugins.infos:
            raise UnknownProvider(provider)
        route, names = self._providers(query.chain, query.capability)
        if provider is not None:
            names = [provider]
        name, page = await self._first_answer(
            route, names, "history_page", Page, failover=provider is None,
            query=query, cursor=cursor,
        )
        support = self._support(route, name)
        return _Fetched(name, cast(Page[Any], page),
                        None if support is None else support.history_scope)

    def _record(self, query: HistoryQuery, cursor: str | None, fetched: _Fetched) -> None:
        if self.archive is not None:
            self.archive.record_page(query, fetched.name, fetched.page, cursor,
                                     scope=fetched.scope)

    async def pages(self, query: HistoryQuery) -> AsyncIterator[tuple[str, Page[Any]]]:
        """Every page of a history: from the archive when it covers the query, else
        from one provider, following its cursors to the end (:meth:`follow`)."""
        if self.archive is not None:
            stored = self.archive.lookup_history(query)
            if stored is not None:
                yield ARCHIVE, Page(items=tuple(stored), cursor=None)
                return
        async for name, page in self.follow(query):
            yield name, page

    async def follow(
        self, query: HistoryQuery, cursor: str | None = None, *, provider: str | None = None,
        before_page: Callable[[], None] | None = None,
    ) -> AsyncIterator[tuple[str, Page[Any]]]:
        """The one paging loop: fetch the page at ``cursor`` (the first when ``None``)
        and every page after it from one provider, each recorded in the archive with
        the cursor of the next (:meth:`fetch_page`), and record the range complete
        after the last. ``asof sync`` resumes by passing a stored cursor and provider.

        A provider that hands back a cursor it already gave is stopped with a
        :class:`~asof.errors.PluginError` (what was stored stays; a sync resumes from
        the last stored page). ``before_page`` runs before each page is paid for (a
        pull renews its claim there, and stops if another process took it over).

        The next page is asked for as soon as a page's cursor is known, before that
        page is recorded and yielded (:func:`asof.ahead.ask_ahead`), so the provider
        prepares it meanwhile; pages are still recorded and yielded in order, and an
        error of the next page is raised after this one is yielded. A caller that
        stops early drops the page asked for ahead (its request may have been paid).
        """
        seen: set[str] = set() if cursor is None else {cursor}
        if before_page is not None:
            before_page()
        fetched = await self._fetch(query, cursor, provider)
        ahead: Ahead[_Fetched] | None = None
        try:
            while True:
                following = fetched.page.cursor
                try:
                    if following is not None and following not in seen:
                        # The next page is asked for before this one is stored and
                        # handed on: the provider works on it meanwhile.
                        if before_page is not None:
                            before_page()
                        ahead = await ask_ahead(self._fetch(query, following, fetched.name))
                finally:
                    self._record(query, cursor, fetched)  # whatever happens, it is paid
                yield fetched.name, fetched.page
                if following is None:
                    break
                if ahead is None:
                    raise PluginError(fetched.name, f"returned the cursor {following!r} "
                                      "twice; stopping (a sync resumes from the last "
                                      "stored page)")
                seen.add(following)
                cursor, pending, ahead = following, ahead, None
                fetched = await pending
        finally:
            if ahead is not None:
                ahead.discard()
        name = fetched.name
        if self.archive is not None:
            self.archive.complete_history(query, name)
