"""The async client: the one object an application talks to.

::

    import asof

    async with asof.AsyncClient() as client:
        answer = await client.balance_at(
            "solana:GQUtvPx89ZNCwmvQqFmH59bJcU8fW8siETpaxod7Aydz", "USDC", at="2025-01-10"
        )
        print(answer.amount.value, answer.as_of, answer.provenance.provider)

A client loads its configuration and plugins once, owns one shared HTTP client (through
:class:`~asof.transport.Transport`) and one router, and opens the archive when the
configuration enables it. :class:`asof.Client` is the same API, synchronous.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar, cast

from asof.archive.pull import PullReport
from asof.bulk import Bulk, BulkResult, QueryLike
from asof.config import Config, load_config
from asof.errors import InputError, NoRoute, ProviderError
from asof.frames import AsyncStream, Results
from asof.planner import Plan, Pull, history_batches
from asof.plugins import PluginSet, PluginStatus, installed_provider_names, load_plugins
from asof.points import PointLike, TimeLike, parse_point, parse_time
from asof.queries import BalanceQuery, HistoryQuery, by_chain
from asof.records import (
    Amount,
    BalanceAt,
    BalanceChange,
    Capability,
    ChainSupport,
    HoldingsPoint,
    LedgerEntry,
    Page,
    Token,
    Wallet,
)
from asof.router import ARCHIVE, ArchiveLike, Route, Router
from asof.tokens import resolve_token
from asof.transport import Transport
from asof.verify import Verification

if TYPE_CHECKING:
    from asof.portfolio import Portfolio, SpamPolicy
    from asof.prices import Price, Valuation

__all__ = ["AsyncClient", "WalletLike"]

log = logging.getLogger("asof.client")

WalletLike = str | Wallet
ItemT = TypeVar("ItemT")


def _wallet(value: WalletLike, chain: str | None, field: str = "wallet") -> Wallet:
    if isinstance(value, Wallet):
        return value
    if not isinstance(value, str):
        raise InputError(f"expected CHAIN:ADDRESS or a Wallet, got {type(value).__name__}",
                         field=field, value=value)
    return Wallet.parse(value, chain=chain)


def _wallets(values: WalletLike | Iterable[WalletLike], chain: str | None) -> tuple[Wallet, ...]:
    if isinstance(values, str | Wallet):
        values = [values]
    return tuple(_wallet(v, chain, "wallets") for v in values)


def _tokens_on(chain: str, tokens: Sequence[str | Token]) -> tuple[Token, ...]:
    """The tokens that apply on ``chain``: text read there, Token objects of that chain."""
    if isinstance(tokens, str | Token):
        tokens = [tokens]
    return tuple(
        resolve_token(chain, t) for t in tokens
        if not isinstance(t, Token) or t.chain == chain
    )


class AsyncClient:
    """Answers balance questions across every installed provider.

    ``config`` is a :class:`~asof.config.Config`, a path to a TOML file, or ``None`` to
    read ``ASOF_CONFIG`` or the per-user default. ``plugins`` replaces entry-point
    discovery with explicit plugins (name to module); ``http_transport`` replaces the
    network (tests pass an ``httpx.MockTransport``); ``env`` replaces ``os.environ``
    for configuration; ``archive`` is an archive object, ``False`` to disable it, or
    ``None``/``True`` to follow the configuration; ``clock`` replaces the current time.
    """

    def __init__(
        self,
        config: Config | str | Path | None = None,
        *,
        http_transport: Any = None,
        plugins: Mapping[str, object] | None = None,
        env: Mapping[str, str] | None = None,
        archive: ArchiveLike | bool | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.config = config if isinstance(config, Config) else load_config(config, env=env)
        self.plugin_set: PluginSet = load_plugins(self.config, explicit=plugins)
        # a table must name a provider this process loaded, or one installed here (a
        # program that passes ``plugins=`` may share a configuration with the CLI)
        self.config.check_provider_tables(
            {s.name for s in self.plugin_set.statuses} | installed_provider_names())
        self.transport = Transport.from_config(self.config, http_transport=http_transport)
        self.archive = self._open_archive(archive, clock)
        self.router = Router(
            plugins=self.plugin_set,
            config=self.config,
            transport=self.transport,
            archive=self.archive,
            clock=clock,
        )
        self._bulk: Bulk | None = None

    def _open_archive(
        self, archive: ArchiveLike | bool | None, clock: Callable[[], datetime] | None
    ) -> ArchiveLike | None:
        if archive is False:
            return None
        if archive is not None and archive is not True:
            return archive
        from asof.archive import open_archive

        return cast(ArchiveLike | None, open_archive(self.config, clock=clock))

    # -- lifecycle --------------------------------------------------------------------

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the shared HTTP client and the archive."""
        await self.transport.aclose()
        close = getattr(self.archive, "close", None)
        if callable(close):
            close()

    # -- what is installed ------------------------------------------------------------

    def plugins(self) -> list[PluginStatus]:
        """Every plugin found, loaded or not, with the reason when not."""
        return sorted(self.plugin_set.statuses, key=lambda s: (s.name, s.state))

    def supported_chains(self) -> list[ChainSupport]:
        """Every chain and capability the loaded plugins declare."""
        return self.router.supported()

    def route(self, chain: str, capability: Capability | str) -> Route:
        """The providers that would answer, in order, and why each other does not."""
        return self.router.route(chain, capability)

    async def refresh_chains(self) -> dict[str, str]:
        """Fetch and cache the live chain listings of providers that publish one."""
        return await self.router.refresh_chains()

    # -- questions --------------------------------------------------------------------

    async def balance_at(
        self,
        wallet: WalletLike,
        token: str | Token,
        at: PointLike,
        *,
        chain: str | None = None,
    ) -> BalanceAt:
        """A wallet's balance of one token as of a point.

        ``wallet`` is ``CHAIN:ADDRESS`` (or a bare address with ``chain``), ``token`` a
        symbol from the built-in registry, an address or mint, or a :class:`Token`;
        ``at`` a time in any form :func:`asof.parse_time` reads, ``slot:N`` /
        ``block:N``, or a :class:`~asof.records.Point`.
        """
        who = _wallet(wallet, chain)
        what = resolve_token(who.chain, token)
        point = parse_point(at, field="at")
        return await self.router.balance_at(BalanceQuery(wallet=who, token=what, point=point))

    async def verify_balance(
        self,
        wallet: WalletLike,
        token: str | Token,
        at: PointLike,
        *,
        chain: str | None = None,
    ) -> Verification:
        """:meth:`balance_at`, then the same question asked of a second provider that
        serves it (neither the first answer's provider nor the archive), compared.

        When no second provider can answer, the verification carries the reason
        instead of a second answer; the second answer is never archived.
        """
        who = _wallet(wallet, chain)
        what = resolve_token(who.chain, token)
        query = BalanceQuery(wallet=who, token=what, point=parse_point(at, field="at"))
        answer = await self.router.balance_at(query)
        try:
            check = await self.router.balance_at(
                query, exclude=(answer.provider, ARCHIVE))
        except (NoRoute, ProviderError) as exc:
            return Verification(answer=answer, check=None, reason=str(exc))
        return Verification(answer=answer, check=check)

    async def pages(self, query: HistoryQuery) -> AsyncIterator[tuple[str, Page[Any]]]:
        """Every page of a history query with the name of the provider that gave it."""
        async for name, page in self.router.pages(query):
            yield name, page

    async def fetch_page(
        self, query: HistoryQuery, cursor: str | None = None, *, provider: str | None = None
    ) -> tuple[str, Page[Any]]:
        """One page of a history query (``asof sync`` pages with this)."""
        return await self.router.fetch_page(query, cursor, provider=provider)

    async def _items_of(
        self, queries: Sequence[HistoryQuery], kind: type[ItemT]
    ) -> AsyncIterator[ItemT]:
        """The items of type ``kind`` of every page of each query in turn."""
        for query in queries:
            async for _, page in self.router.pages(query):
                for item in page.items:
                    if isinstance(item, kind):
                        yield item

    def history(
        self,
        wallets: WalletLike | Sequence[WalletLike],
        *,
        start: TimeLike | None = None,
        end: TimeLike | None = None,
        tokens: Sequence[str | Token] = (),
        chain: str | None = None,
        page_size: int | None = None,
    ) -> AsyncStream[BalanceChange]:
        """Every balance change of the wallets' tokens in ``[start, end)``.

        Wallets on several chains are asked chain by chain, in order of first
        appearance, as ``asof history`` does, and more wallets than the provider takes
        at once in batches, one after another (:meth:`history_queries`); ``tokens``
        given as text (a symbol, an address) are read on each chain, :class:`Token`
        objects apply to their own chain.
        """
        queries = self.history_queries(wallets, start=start, end=end, tokens=tokens,
                                       chain=chain, page_size=page_size)
        return AsyncStream(self._items_of(queries, BalanceChange))

    def history_queries(
        self,
        wallets: WalletLike | Sequence[WalletLike],
        *,
        start: TimeLike | None = None,
        end: TimeLike | None = None,
        tokens: Sequence[str | Token] = (),
        chain: str | None = None,
        page_size: int | None = None,
    ) -> list[HistoryQuery]:
        """The queries :meth:`history` reads, in order: chain by chain, and on each
        chain in batches of the wallet limit of the provider that serves it (15 for
        Allium), so that records stream batch after batch (newest first within a
        batch) rather than after a first page of every batch."""
        who = _wallets(wallets, chain)
        groups = by_chain(who)
        for token in [tokens] if isinstance(tokens, Token) else tokens:
            if isinstance(token, Token) and token.chain not in groups:
                raise InputError(f"token {token} is on {token.chain}, where no wallet is",
                                 field="tokens", value=token)
        first = None if start is None else parse_time(start, field="start")
        last = None if end is None else parse_time(end, field="end")
        return [
            HistoryQuery(
                capability=Capability.BALANCE_HISTORY,
                wallets=batch,
                start=first,
                end=last,
                tokens=_tokens_on(name, tokens),
                page_size=page_size,
            )
            for name, group in groups.items()
            for batch in history_batches(self.router, name, group)
        ]

    def holdings(
        self,
        wallets: WalletLike | Sequence[WalletLike],
        *,
        start: TimeLike,
        end: TimeLike,
        granularity: str,
        breakdown: bool = False,
        min_liquidity: Decimal | int | str | None = None,
        chain: str | None = None,
    ) -> AsyncStream[HoldingsPoint]:
        """The USD value of the wallets' holdings on a time grid; wallets on several
        chains are asked chain by chain, as ``asof holdings`` does."""
        from asof.exact import to_decimal

        who = _wallets(wallets, chain)
        first, last = parse_time(start, field="start"), parse_time(end, field="end")
        floor = None if min_liquidity is None else to_decimal(min_liquidity,
                                                              field="min_liquidity")
        queries = [
            HistoryQuery(
                capability=Capability.HOLDINGS_HISTORY,
                wallets=group,
                start=first,
                end=last,
                granularity=granularity,
                breakdown=breakdown,
                min_liquidity=floor,
            )
            for group in by_chain(who).values()
        ]
        return AsyncStream(self._items_of(queries, HoldingsPoint))

    def ledger(
        self,
        account: WalletLike,
        *,
        start: TimeLike | None = None,
        end: TimeLike | None = None,
        event_types: Sequence[str] = (),
        chain: str | None = None,
    ) -> AsyncStream[LedgerEntry]:
        """The balance events of an exchange account in ``[start, end)``."""
        query = HistoryQuery(
            capability=Capability.ACCOUNT_LEDGER,
            wallets=(_wallet(account, chain, "account"),),
            start=None if start is None else parse_time(start, field="start"),
            end=None if end is None else parse_time(end, field="end"),
            event_types=tuple(event_types),
        )
        return AsyncStream(self._items_of([query], LedgerEntry))

    # -- portfolios and prices (asof.portfolio) ------------------------------------------

    async def portfolio(
        self,
        wallets: WalletLike | Sequence[WalletLike],
        *,
        at: PointLike,
        chain: str | None = None,
        include_zero: bool = False,
        value: str | None = None,
        spam: SpamPolicy | None = None,
    ) -> Results[Portfolio]:
        """Every token each wallet held as of ``at``, one :class:`~asof.portfolio.Portfolio`
        per wallet (see ``docs/portfolio.md``).

        ``include_zero`` adds tokens held before whose balance is zero at the point;
        ``value="usd"`` values each holding at its price at the point (never today's);
        ``spam`` replaces the configured spam policy (``[portfolio]``; none by default).
        """
        from asof.portfolio.answer import PriceBook, answer_portfolio
        from asof.portfolio.settings import portfolio_settings
        from asof.queries import PortfolioQuery

        if value not in (None, "usd"):
            raise InputError("the only currency is usd", field="value", value=value)
        settings = portfolio_settings(self.config.portfolio)
        if spam is not None:
            import attrs

            settings = attrs.evolve(settings, spam=spam)
        point = parse_point(at, field="at")
        book = PriceBook(self.router, settings.tolerance)
        found = []
        for who in _wallets(wallets, chain):
            query = PortfolioQuery(wallet=who, point=point, include_zero=include_zero)
            found.append(await answer_portfolio(self.router, query, settings,
                                                value=value is not None, prices=book))
        return Results(found)

    async def price_at(self, token: str | Token, at: PointLike, *, chain: str | None = None
                       ) -> Price | None:
        """``token``'s USD price at the time ``at`` from the ``price_at`` route, or
        ``None`` when no provider has one (``chain`` is needed for a symbol)."""
        from asof.portfolio.answer import price_at

        what = token if isinstance(token, Token) else resolve_token(chain or "", token) \
            if chain else None
        if what is None:
            raise InputError("give a Token, or a symbol or address with chain=",
                             field="token", value=token)
        price, _ = await price_at(self.router, what, parse_point(at, field="at"))
        return price

    async def value(self, answer: BalanceAt) -> Valuation:
        """The USD value of a balance answer at its requested moment: its amount times
        the price at that moment, or no value and why."""
        return await self.value_at(answer.token, answer.amount, answer.requested)

    async def value_at(self, token: Token, amount: Amount, at: PointLike) -> Valuation:
        """The USD value of ``amount`` of ``token`` at ``at``: the amount times the
        price at that moment (within ``[portfolio] price_tolerance``), or no value and
        why."""
        from asof.portfolio.answer import PriceBook
        from asof.portfolio.settings import portfolio_settings

        book = PriceBook(self.router, portfolio_settings(self.config.portfolio).tolerance)
        return await book.valuation(token, amount, parse_point(at, field="at"))

    # -- many questions (see asof.bulk and asof.planner) ------------------------------

    @property
    def bulk(self) -> Bulk:
        """The bulk engine behind :meth:`balance_at_many`, :meth:`series` and
        :meth:`sync` (it shares answers in flight between them)."""
        if self._bulk is None:
            self._bulk = Bulk(self)
        return self._bulk

    async def balance_at_many(
        self, queries: Iterable[QueryLike], *, ordered: bool = False
    ) -> AsyncIterator[BulkResult]:
        """Answer many balance questions, each result as it completes (in input order
        with ``ordered``).

        ``queries`` is any iterable (read lazily) of ``(wallet, token, at)`` tuples,
        mappings with those keys, or :class:`~asof.queries.BalanceQuery` objects. Each
        :class:`~asof.bulk.BulkResult` carries the answer or the typed error of its row;
        a failed row does not stop the batch. Identical questions are asked once,
        archived answers are not asked again, and each provider's rate limit paces the
        calls. :meth:`plan_balance_at_many` shows the calls first.
        """
        async for result in self.bulk.balance_at_many(queries, ordered=ordered):
            yield result

    def plan_balance_at_many(self, queries: Iterable[QueryLike]) -> Plan:
        """The calls :meth:`balance_at_many` would make, and their declared cost."""
        return self.bulk.plan_many(queries)

    async def series(
        self,
        wallets: WalletLike | Sequence[WalletLike],
        tokens: str | Token | Sequence[str | Token],
        *,
        start: TimeLike | None = None,
        end: TimeLike | None = None,
        every: str | int | timedelta | None = None,
        points: Sequence[TimeLike] | None = None,
        chain: str | None = None,
    ) -> AsyncIterator[BulkResult]:
        """Every wallet's balance of every token at each point of a grid (``every``
        from ``start`` to ``end``, default ``1d``) or at the given ``points``, planned
        (:mod:`asof.planner`): history pulls in batches of the provider's wallet limit
        where they cost less, then archive look-ups; elsewhere a walk of point calls in
        which each answer fills the points it proves. Streamed wallet by wallet."""
        async for result in self.bulk.series(
                _wallets(wallets, chain), _token_list(tokens), start=start, end=end,
                every=every, points=points):
            yield result

    def plan_series(
        self,
        wallets: WalletLike | Sequence[WalletLike],
        tokens: str | Token | Sequence[str | Token],
        *,
        start: TimeLike | None = None,
        end: TimeLike | None = None,
        every: str | int | timedelta | None = None,
        points: Sequence[TimeLike] | None = None,
        chain: str | None = None,
    ) -> Plan:
        """The calls :meth:`series` would make, and their declared cost."""
        return self.bulk.plan_series(_wallets(wallets, chain), _token_list(tokens),
                                     start=start, end=end, every=every, points=points)

    async def sync(
        self,
        wallets: WalletLike | Sequence[WalletLike],
        *,
        start: TimeLike | None = None,
        end: TimeLike | None = None,
        tokens: Sequence[str | Token] = (),
        provider: str | None = None,
        chain: str | None = None,
    ) -> AsyncIterator[tuple[Pull, PullReport]]:
        """Pull the wallets' balance histories into the archive (from the beginning
        unless ``start``), in pulls of the provider's wallet limit, resumably: run it
        again after an interruption and each pull continues from its last stored
        page. Yields each pull and its report as it completes."""
        who = _wallets(wallets, chain)
        toks = _tokens_for(who, tokens)
        first = None if start is None else parse_time(start, field="start")
        last = None if end is None else parse_time(end, field="end")
        async for item in self.bulk.sync(who, start=first, end=last, tokens=toks,
                                         provider=provider):
            yield item

    def plan_sync(
        self,
        wallets: WalletLike | Sequence[WalletLike],
        *,
        end: TimeLike | None = None,
        tokens: Sequence[str | Token] = (),
        chain: str | None = None,
    ) -> Plan:
        """The pulls :meth:`sync` would make, and their declared cost."""
        who = _wallets(wallets, chain)
        toks = _tokens_for(who, tokens)
        return self.bulk.plan_sync(
            who, tokens=toks, end=None if end is None else parse_time(end, field="end"))


def _token_list(tokens: str | Token | Sequence[str | Token]) -> list[str | Token]:
    return [tokens] if isinstance(tokens, str | Token) else list(tokens)


def _tokens_for(wallets: Sequence[Wallet], tokens: Sequence[str | Token]) -> list[Token]:
    """``tokens`` resolved on each chain of ``wallets`` (Token objects on their own)."""
    return [t for chain in dict.fromkeys(w.chain for w in wallets)
            for t in _tokens_on(chain, tokens)]
