"""A conformance suite every provider plugin's tests subclass.

Subclass :class:`ProviderConformance` in a test module (the class name must start with
``Test``), point it at the plugin and describe a few provider answers; pytest then runs
every check below against the plugin through a real :class:`~asof.AsyncClient`, its
transport and router, with HTTP answered by :class:`~asof.testing.mock.MockHTTP`::

    class TestMyConformance(ProviderConformance):
        plugin = asof_myprovider
        provider = "myprovider"

        def balance_cases(self):
            return [Case(query=..., replies=[Reply(json={...})])]

        def error_query(self):
            return BalanceQuery(...)

        def error_reply(self, status):
            return Reply(status=status, json={"error": f"failed with {status}"})

        def error_message(self, status):
            return f"failed with {status}"

The checks are also plain functions (``check_*``), usable on their own. Each raises
``AssertionError`` with a sentence saying what the plugin got wrong.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Iterable, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any, ClassVar

import attrs
import pytest

from asof.derive import at_or_before
from asof.errors import (
    AsofError,
    AuthenticationError,
    NoRoute,
    NotFoundError,
    ProviderError,
    ProviderRequestError,
    RateLimited,
    UpstreamError,
)
from asof.exact import to_raw
from asof.hookspecs import ASYNC_HOOKS, REQUIRED_HOOKS
from asof.provider import ProviderInfo
from asof.queries import BalanceQuery, HistoryQuery
from asof.records import (
    BalanceAt,
    BalanceChange,
    BlockRef,
    Capability,
    ChainSupport,
    HoldingsPoint,
    LedgerEntry,
    Page,
)
from asof.testing.client import FAKE_SECRET, FIXED_NOW, plugin_info
from asof.testing.mock import MockHTTP, Reply

__all__ = [
    "ERROR_CLASSES",
    "HISTORY_ITEM_TYPES",
    "MAX_PAGES",
    "Case",
    "ProviderConformance",
    "check_balance_answer",
    "check_error",
    "check_history_pages",
    "check_history_scope",
    "check_hooks",
    "check_provider_info",
    "check_requests",
    "check_supported_chains",
    "provider_error",
]

#: The error each status must raise.
ERROR_CLASSES: dict[int, type[ProviderError]] = {
    400: ProviderRequestError,
    401: AuthenticationError,
    404: NotFoundError,
    429: RateLimited,
    500: UpstreamError,
    502: UpstreamError,
    503: UpstreamError,
}
#: The item type of each history capability.
HISTORY_ITEM_TYPES: dict[Capability, type[Any]] = {
    Capability.BALANCE_HISTORY: BalanceChange,
    Capability.HOLDINGS_HISTORY: HoldingsPoint,
    Capability.ACCOUNT_LEDGER: LedgerEntry,
}
#: A history with more pages than this is taken as one that never ends.
MAX_PAGES = 200


@attrs.frozen(kw_only=True)
class Case:
    """A query and the provider's replies to it, served in order to whatever requests the
    plugin makes (the last reply repeats)."""

    query: BalanceQuery | HistoryQuery
    replies: Sequence[Reply]


# -- checks -------------------------------------------------------------------------


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
        assert cred.header.strip(), f"credential {cred.name!r} names no header"
        assert cred.name.isidentifier(), f"credential name {cred.name!r} is not an identifier"
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


def check_balance_answer(
    answer: object, query: BalanceQuery, name: str, *, now: datetime | None = None
) -> BalanceAt:
    """A :class:`BalanceAt` for ``query``: exact amounts, the as-of rule, provenance."""
    assert isinstance(answer, BalanceAt), f"balance_at gave {type(answer).__name__}"
    assert answer.wallet == query.wallet, f"answer is for {answer.wallet}, not {query.wallet}"
    assert answer.token.chain == query.token.chain, "answer's token is on another chain"
    assert answer.token.address == query.token.address, (
        f"answer is for token {answer.token.address}, not {query.token.address}"
    )
    assert answer.requested == query.point, "answer's requested point is not the query's"
    amount = answer.amount
    assert type(amount.raw) is int, f"amount.raw is {type(amount.raw).__name__}, not int"
    if amount.decimals is not None:
        assert isinstance(amount.value, Decimal), "amount.value is not a Decimal"
        assert to_raw(amount.value, amount.decimals) == amount.raw, "value and raw disagree"
    if answer.as_of is None:
        assert amount.raw == 0, "as_of is None (no activity) but the amount is not zero"
    else:
        _check_block(answer.as_of, query)
    _check_provenance(answer.provenance, name, now)
    return answer


def _check_block(block: BlockRef, query: BalanceQuery) -> None:
    assert isinstance(block, BlockRef), f"as_of is {type(block).__name__}, not BlockRef"
    point = query.point
    placeable = block.timestamp is not None if point.time is not None else block.number is not None
    if placeable:
        assert at_or_before(block, point), (
            f"as_of {block} lies after the requested point {point}: the as-of rule is broken"
        )


def _check_provenance(provenance: Any, name: str, now: datetime | None) -> None:
    assert provenance.provider == name, (
        f"provenance names {provenance.provider!r}, not {name!r}"
    )
    assert not provenance.archived, "a provider's own answer is marked archived"
    if now is not None and provenance.fetched_at is not None:
        assert provenance.fetched_at == now, "fetched_at does not come from ctx.now()"
    for caveat in provenance.caveats:
        assert isinstance(caveat, str), "a caveat in provenance is not text"
        assert caveat.strip(), "blank caveat in provenance"


def check_history_pages(
    pages: Sequence[Page[Any]], query: HistoryQuery, name: str, *, now: datetime | None = None
) -> None:
    """Pages of ``query``: the right item type, inside ``[start, end)``, each from
    ``name``; the last page's cursor is None and no cursor repeats."""
    assert pages, "no page was returned"
    kind = HISTORY_ITEM_TYPES[query.capability]
    cursors = [page.cursor for page in pages]
    assert cursors[-1] is None, f"the history did not end within {MAX_PAGES} pages"
    assert all(cursor is not None for cursor in cursors[:-1]), "a page before the last ended"
    assert all(isinstance(cursor, str) for cursor in cursors[:-1]), "a cursor is not a string"
    assert len(set(cursors[:-1])) == len(cursors) - 1, f"a cursor repeats: {cursors}"
    for page in pages:
        assert isinstance(page, Page), f"history_page gave {type(page).__name__}"
        for item in page.items:
            assert isinstance(item, kind), (
                f"{query.capability} item is {type(item).__name__}, not {kind.__name__}"
            )
            _check_provenance(item.provenance, name, now)
            when = _item_time(item)
            if when is not None:
                assert query.start is None or when >= query.start, f"item at {when} before start"
                assert query.end is None or when < query.end, f"item at {when} not before end"


def check_history_scope(pages: Sequence[Page[Any]], query: HistoryQuery,
                        support: ChainSupport) -> None:
    """The records of a balance history agree with the declared
    :class:`~asof.records.HistoryScope`: no record of a token the scope leaves out (the
    native coin, another standard, an unlisted token), a token account on every Solana
    token record when every token account is declared, and a scope that covers
    something. An undeclared scope passes (the archive treats it conservatively)."""
    scope = support.history_scope
    if scope is None or query.capability is not Capability.BALANCE_HISTORY:
        return
    assert scope.tokens or scope.native or scope.standards is None or scope.standards, (
        f"{support.provider} declares a history scope on {support.chain} that covers nothing")
    solana = support.chain == "solana"
    for page in pages:
        for item in page.items:
            if not isinstance(item, BalanceChange):
                continue
            token = item.token
            assert scope.covers(token), (
                f"a {token.standard} record of {token.address} is outside the declared "
                f"history scope ({scope.describe()})")
            if solana and scope.token_accounts == "all" and not token.is_native:
                assert item.token_account, (
                    f"a record of {token.address} names no token account, but every "
                    "token account is declared")


def _item_time(item: Any) -> datetime | None:
    if isinstance(item, BalanceChange):
        return item.block.timestamp
    if isinstance(item, HoldingsPoint):
        return item.timestamp
    if isinstance(item, LedgerEntry):
        return item.time
    return None


def check_requests(mock: MockHTTP, info: ProviderInfo) -> None:
    """At least one request went out, every declared credential travelled in its header
    and none in a URL."""
    assert mock.requests, "the plugin sent no request"
    for request in mock.requests:
        assert FAKE_SECRET not in str(request.url), f"a credential is in the URL {request.url}"
        for cred in info.credentials:
            if cred.required:
                assert request.headers.get(cred.header) == f"{cred.prefix}{FAKE_SECRET}", (
                    f"credential {cred.name} was not sent in the {cred.header} header"
                )


def provider_error(exc: BaseException) -> ProviderError:
    """The provider error behind ``exc`` (a router's :class:`NoRoute` chains it)."""
    if isinstance(exc, NoRoute) and isinstance(exc.__cause__, ProviderError):
        return exc.__cause__
    assert isinstance(exc, ProviderError), f"raised {type(exc).__name__}: {exc}"
    return exc


def check_error(
    exc: BaseException, status: int, name: str, *, message: str | None, reply: Reply
) -> ProviderError:
    """The typed error for ``status``: class, provider, status, retryability, the
    provider's own message kept, Retry-After read, and no credential in the text."""
    error = provider_error(exc)
    expected = ERROR_CLASSES.get(status, UpstreamError if status >= 500 else ProviderError)
    assert isinstance(error, expected), (
        f"HTTP {status} raised {type(error).__name__}, expected {expected.__name__}"
    )
    assert error.provider == name, f"error names provider {error.provider!r}, not {name!r}"
    assert error.status == status, f"error carries status {error.status}, not {status}"
    assert error.retryable == (status == 429 or status >= 500), (
        f"HTTP {status} error has retryable={error.retryable}"
    )
    if message is not None:
        assert message in str(error), (
            f"the provider's message {message!r} is lost: {str(error)!r}"
        )
    retry_after = {k.lower(): v for k, v in reply.headers.items()}.get("retry-after")
    if isinstance(error, RateLimited) and retry_after is not None and retry_after.isdigit():
        assert error.retry_after == float(retry_after), (
            f"Retry-After {retry_after} read as {error.retry_after}"
        )
    assert FAKE_SECRET not in str(error), "the credential leaks into the error message"
    assert FAKE_SECRET not in repr(error), "the credential leaks into the error's repr"
    return error


# -- the suite ----------------------------------------------------------------------


class ProviderConformance:
    """Checks every provider plugin passes. Subclass it as ``Test...``, set
    :attr:`plugin` and :attr:`provider`, and override the methods that describe your
    provider's answers (see the module docstring).

    Async checks run under anyio's pytest plugin (``@pytest.mark.anyio``) and use the
    ``asof_client_factory`` fixture of asof's pytest plugin.
    """

    #: The plugin module (or object) with the hook implementations.
    plugin: ClassVar[object]
    #: Its provider name (the entry-point name).
    provider: ClassVar[str]
    #: The statuses the error checks run through.
    error_statuses: ClassVar[tuple[int, ...]] = (400, 401, 404, 429, 500, 502)

    def balance_cases(self) -> Sequence[Case]:
        """Balance queries with the provider's replies; required when the plugin
        declares ``balance_at``."""
        return ()

    def history_cases(self) -> Sequence[Case]:
        """History queries with every page's reply, in order; required when the plugin
        declares a history capability."""
        return ()

    def error_query(self) -> BalanceQuery | HistoryQuery:
        """A query that reaches the provider (the error checks answer it with errors)."""
        for case in (*self.balance_cases(), *self.history_cases()):
            return case.query
        raise NotImplementedError("override error_query() or give balance or history cases")

    def error_reply(self, status: int) -> Reply:
        """The provider's error answer for ``status``, in its documented shape."""
        headers = {"Retry-After": "2"} if status == 429 else {}
        return Reply(status=status, json={"error": f"conformance {status}"}, headers=headers)

    def error_message(self, status: int) -> str | None:
        """The provider's own words that the error must keep (None: do not check)."""
        return f"conformance {status}"

    # -- declarations ---------------------------------------------------------------

    def test_provider_info(self) -> None:
        """provider_info() is well formed and named like the plugin."""
        check_provider_info(self.plugin, self.provider)

    def test_supported_chains(self) -> None:
        """supported_chains() gives this provider's ChainSupport records."""
        check_supported_chains(self.plugin, self.provider)

    def test_hooks(self) -> None:
        """Hooks exist for every declared capability, sync or async as required."""
        check_hooks(self.plugin, check_supported_chains(self.plugin, self.provider))

    def _served(self) -> set[Capability]:
        records = check_supported_chains(self.plugin, self.provider)
        return {cap for r in records for cap in (*r.capabilities, *r.derived)}

    # -- answers --------------------------------------------------------------------

    @pytest.mark.anyio
    async def test_balance_answers(self, asof_client_factory: Any) -> None:
        """Each balance case answers with an exact, well-sourced BalanceAt."""
        cases = list(self.balance_cases())
        if Capability.BALANCE_AT not in self._served():
            assert not cases, "balance cases given, but balance_at is not declared"
            return
        assert cases, "balance_at is declared: give balance_cases()"
        info = plugin_info(self.plugin)
        for case in cases:
            assert isinstance(case.query, BalanceQuery), "a balance case needs a BalanceQuery"
            mock = MockHTTP().queue(*case.replies)
            async with asof_client_factory(self.plugin, http_transport=mock.transport) as client:
                answer = await client.balance_at(case.query.wallet, case.query.token,
                                                 case.query.point)
            check_balance_answer(answer, case.query, self.provider, now=FIXED_NOW)
            check_requests(mock, info)

    @pytest.mark.anyio
    async def test_history_pages_terminate(self, asof_client_factory: Any) -> None:
        """Each history case pages to an end, with the right item types."""
        cases = list(self.history_cases())
        history = self._served() & set(HISTORY_ITEM_TYPES)
        if not history:
            assert not cases, "history cases given, but no history capability is declared"
            return
        assert {c.query.capability for c in cases if isinstance(c.query, HistoryQuery)} >= (
            history
        ), f"give a history case for each declared capability: {sorted(history)}"
        info = plugin_info(self.plugin)
        for case in cases:
            assert isinstance(case.query, HistoryQuery), "a history case needs a HistoryQuery"
            mock = MockHTTP().queue(*case.replies)
            pages: list[Page[Any]] = []
            async with asof_client_factory(self.plugin, http_transport=mock.transport) as client:
                cursor: str | None = None
                seen: set[str] = set()
                for _ in range(MAX_PAGES):
                    name, page = await client.fetch_page(case.query, cursor,
                                                         provider=self.provider)
                    assert name == self.provider, f"page came from {name!r}"
                    pages.append(page)
                    if page.cursor is None or page.cursor in seen:
                        break
                    seen.add(page.cursor)
                    cursor = page.cursor
            check_history_pages(pages, case.query, self.provider, now=FIXED_NOW)
            for support in check_supported_chains(self.plugin, self.provider):
                if support.chain == case.query.chain and \
                        case.query.capability in support.capabilities:
                    check_history_scope(pages, case.query, support)
            check_requests(mock, info)

    # -- errors ---------------------------------------------------------------------

    def pytest_generate_tests(self, metafunc: pytest.Metafunc) -> None:
        """Run the error check once per status in :attr:`error_statuses`."""
        if "error_status" in metafunc.fixturenames:
            metafunc.parametrize("error_status", self.error_statuses)

    @pytest.mark.anyio
    async def test_error_mapping(self, asof_client_factory: Any, error_status: int) -> None:
        """An error status becomes its typed error, keeping the provider's words."""
        reply = self.error_reply(error_status)
        assert reply.status == error_status, (
            f"error_reply({error_status}) has status {reply.status}"
        )
        mock = MockHTTP().queue(reply)
        async with asof_client_factory(self.plugin, http_transport=mock.transport) as client:
            with pytest.raises(AsofError) as caught:
                await _ask(client, self.error_query(), self.provider)
        check_error(caught.value, error_status, self.provider,
                    message=self.error_message(error_status), reply=reply)
        check_requests(mock, plugin_info(self.plugin))


async def _ask(client: Any, query: BalanceQuery | HistoryQuery, provider: str) -> object:
    if isinstance(query, BalanceQuery):
        return await client.balance_at(query.wallet, query.token, query.point)
    return await client.fetch_page(query, None, provider=provider)
