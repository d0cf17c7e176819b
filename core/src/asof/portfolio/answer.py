"""How a portfolio is answered: from the archive where it proves it, by a provider that
serves ``portfolio_at`` directly, else derived by the core.

1. The archive, where a stored balance history from the wallet's beginning (or with
   opening balances) covers the point and its rules prove every token's balance.
2. The ``portfolio_at`` route: a provider with a native "every balance at T" call
   answers first (a decline or a retryable failure moves on).
3. Else the wallet's ``balance_history`` from its beginning up to the point: every
   token the history mentions, each balance by the as-of rule summed over token
   accounts; what the provider's declared scope leaves out is stated.
4. Else, where only ``balance_at`` is served (an exchange account such as Pacifica),
   each token asof's registry knows on that chain is asked, and the answer says that
   only those were asked.

Prices come from the ``price_at`` route (:func:`price_at`); each token is priced once
per moment, however many wallets hold it.
"""

from __future__ import annotations

from datetime import timedelta

import attrs

from asof.archive.coverage import ALL
from asof.chains import resolve_chain
from asof.errors import InvalidPoint, NoRoute, ProviderError, RetryableError
from asof.portfolio.derive import holdings_from_changes, named, scope_gaps
from asof.portfolio.records import Holding, Portfolio
from asof.portfolio.settings import PortfolioSettings
from asof.prices import Price, Valuation, valuation
from asof.queries import BalanceQuery, HistoryQuery, PortfolioQuery
from asof.records import Amount, BalanceChange, Capability, Point, Provenance, Token
from asof.router import ARCHIVE, Router
from asof.tokens import known_tokens

__all__ = ["PriceBook", "answer_portfolio", "price_at"]

_SOURCE = "balance_history from the wallet's beginning to the point"


async def answer_portfolio(router: Router, query: PortfolioQuery,
                           settings: PortfolioSettings, *, value: bool = False,
                           prices: PriceBook | None = None) -> Portfolio:
    """The portfolio of ``query``: direct, else derived; valued when ``value`` (or when
    the spam policy judges values); the spam policy applied and stated. A time after
    now is refused: what a wallet holds then is not known yet."""
    moment = query.point.time
    if moment is not None and moment > router.now():
        raise InvalidPoint("is in the future: what the wallet holds then is not known yet",
                           field="at", value=query.point.describe())
    portfolio = _from_archive(router, query)  # the archive first, where it proves it
    if portfolio is None:
        portfolio = await _direct(router, query)
    if portfolio is None:
        portfolio = await _derived(router, query)
    if value or settings.spam.needs_values:
        book = prices if prices is not None else PriceBook(router, settings.tolerance)
        portfolio = await book.value(portfolio)
    return settings.spam.apply(portfolio)


async def _direct(router: Router, query: PortfolioQuery) -> Portfolio | None:
    route = router.route(query.chain, Capability.PORTFOLIO_AT)
    direct: list[str] = []  # the direct providers before the first derived step
    for step in route.usable:
        if step.archive or step.support is None:
            continue
        if Capability.PORTFOLIO_AT in step.support.derived:
            break
        direct.append(step.provider)
    if not direct:
        return None
    try:
        _, answer = await router.ask(query.chain, Capability.PORTFOLIO_AT, "portfolio_at",
                                     Portfolio, providers=direct, query=query)
    except (NoRoute, RetryableError):
        return None
    portfolio: Portfolio = answer
    if not query.include_zero:
        portfolio = attrs.evolve(portfolio, holdings=tuple(
            h for h in portfolio.holdings if h.amount.raw != 0))
    return portfolio


async def _derived(router: Router, query: PortfolioQuery) -> Portfolio:
    history = router.route(query.chain, Capability.BALANCE_HISTORY)
    if any(not s.archive for s in history.usable):
        return await _from_history(router, query)
    balances = router.route(query.chain, Capability.BALANCE_AT)
    if any(not s.archive for s in balances.usable):
        return await _from_known_tokens(router, query)
    reasons = {s.provider: s.reason for route in (history, balances) for s in route.steps
               if not s.usable and not s.reason.startswith("does not serve")}
    if router.archive is not None:
        reasons[ARCHIVE] = ("holds no balance history of the wallet from its beginning "
                            "(or with opening balances) up to the point; `asof sync "
                            f"{query.wallet}` would supply it")
    raise NoRoute(f"no provider can answer portfolio_at on {query.chain}: none serves it "
                  "directly, nor a balance history or balance_at to derive it from",
                  reasons=sorted(reasons.items()))


def _from_archive(router: Router, query: PortfolioQuery) -> Portfolio | None:
    """The portfolio from the archive alone, where it proves it: a stored balance
    history covering the point from the wallet's beginning or with opening balances
    (so every token held is mentioned in it), and every token's balance proven by the
    archive's own rules (``lookup_balance``). ``None`` otherwise."""
    archive, point = router.archive, query.point
    coverage = getattr(archive, "coverage", None)
    if archive is None or not callable(coverage) or point.time is None:
        return None
    moment = point.time
    spans = [c for c in coverage(query.wallet)
             if c.capability is Capability.BALANCE_HISTORY and c.scope == ALL
             and c.end is not None and moment < c.end
             and (c.start is None or (c.start <= moment and c.history_scope is not None
                                      and c.history_scope.opening_balances))]
    for span in spans:
        items = archive.lookup_history(HistoryQuery(
            capability=Capability.BALANCE_HISTORY, wallets=(query.wallet,),
            start=span.start, end=min(moment + timedelta(seconds=1), span.end)))
        if items is None:
            continue
        tokens = {c.token.address: c.token for c in items
                  if isinstance(c, BalanceChange) and c.wallet == query.wallet}
        holdings: list[Holding] = []
        for token in (tokens[a] for a in sorted(tokens)):
            answer = archive.lookup_balance(BalanceQuery(wallet=query.wallet, token=token,
                                                         point=point))
            if answer is None:
                break  # a balance the archive cannot prove: ask a provider instead
            if answer.amount.raw != 0 or query.include_zero:
                accounts = sorted({c.token_account for c in items
                                   if isinstance(c, BalanceChange)
                                   and c.token.address == token.address
                                   and c.token_account is not None})
                holdings.append(Holding(wallet=query.wallet, token=named(answer.token),
                                        amount=answer.amount, as_of=answer.as_of,
                                        provenance=answer.provenance,
                                        token_accounts=tuple(accounts)))
        else:
            provenance = Provenance(provider=span.provider, derived=True, archived=True,
                                    source="the archive's stored balance history")
            return Portfolio(wallet=query.wallet, requested=point, holdings=tuple(holdings),
                             provenance=provenance,
                             may_miss=scope_gaps(span.history_scope, query.chain,
                                                 span.provider))
    return None


async def _from_history(router: Router, query: PortfolioQuery) -> Portfolio:
    point = query.point
    end = None if point.time is None else point.time + timedelta(seconds=1)
    request = HistoryQuery(capability=Capability.BALANCE_HISTORY, wallets=(query.wallet,),
                           end=end)
    changes: list[BalanceChange] = []
    served: str | None = None
    async for name, page in router.pages(request):
        served = name
        changes.extend(item for item in page.items if isinstance(item, BalanceChange))
    archived = served == ARCHIVE
    provider = served or "unknown"
    if archived:
        provider = next((c.provenance.provider for c in changes), ARCHIVE)
    route = router.route(query.chain, Capability.BALANCE_HISTORY)
    support = next((s.support for s in route.steps
                    if s.provider == provider and s.support is not None), None)
    scope = None if support is None else support.history_scope
    provenance = Provenance(provider=provider, derived=True, archived=archived,
                            source=_SOURCE)
    holdings = holdings_from_changes(changes, query.wallet, point, provenance=provenance,
                                     include_zero=query.include_zero)
    return Portfolio(wallet=query.wallet, requested=point, holdings=holdings,
                     provenance=provenance,
                     may_miss=scope_gaps(scope, query.chain, provider))


async def _from_known_tokens(router: Router, query: PortfolioQuery) -> Portfolio:
    chain = resolve_chain(query.chain)
    tokens = known_tokens(chain.name)
    holdings: list[Holding] = []
    providers: set[str] = set()
    for token in tokens:
        answer = await router.balance_at(BalanceQuery(wallet=query.wallet, token=token,
                                                      point=query.point))
        providers.add(answer.provider)
        if answer.amount.raw == 0 and not query.include_zero:
            continue
        holdings.append(Holding(wallet=query.wallet, token=answer.token,
                                amount=answer.amount, as_of=answer.as_of,
                                provenance=answer.provenance))
    names = ", ".join(str(t) for t in tokens)
    if chain.venue:
        missed = (f"{chain.name} is an exchange account: its collateral balance ({names}) "
                  "is listed; open positions and other assets are not holdings here",)
    else:
        missed = (f"no balance history serves {chain.name}: only the tokens asof's "
                  f"registry knows were asked ({names}); any other token is missing",)
    return Portfolio(wallet=query.wallet, requested=query.point, holdings=tuple(holdings),
                     provenance=Provenance(provider=", ".join(sorted(providers)) or "none",
                                           source="balance_at per known token"),
                     may_miss=missed)


async def price_at(router: Router, token: Token, point: Point) -> tuple[Price | None, str]:
    """The price of ``token`` at a time ``point`` from its ``price_at`` route, or
    ``None`` and why there is none. A provider's failure is raised."""
    if point.time is None:
        return None, "a block or slot point has no time to price at; give a time"
    route = router.route(token.chain, Capability.PRICE_AT)
    if not any(not s.archive for s in route.usable):
        return None, f"no price provider serves {token.chain}"
    try:
        _, price = await router.ask(token.chain, Capability.PRICE_AT, "price_at", Price,
                                    token=token, point=point)
    except NoRoute as exc:
        heard = "; ".join(f"{name}: {reason}" for name, reason in exc.reasons) or str(exc)
        return None, f"no price of {token} at that moment ({heard})"
    return price, ""


class PriceBook:
    """Prices asked once per (token, moment), and the values they give."""

    def __init__(self, router: Router, tolerance: timedelta) -> None:
        self.router = router
        self.tolerance = tolerance
        self._seen: dict[tuple[str, str, Point], tuple[Price | None, str]] = {}

    async def price(self, token: Token, point: Point) -> tuple[Price | None, str]:
        """The price of ``token`` at ``point`` (asked at most once), or why none."""
        key = (token.chain, token.address, point)
        if key not in self._seen:
            try:
                self._seen[key] = await price_at(self.router, token, point)
            except ProviderError as exc:  # the amounts stand; only the value is missing
                self._seen[key] = (None, f"the price of {token} could not be read: {exc}")
        return self._seen[key]

    async def valuation(self, token: Token, amount: Amount, point: Point) -> Valuation:
        """The USD value of ``amount`` of ``token`` at ``point``."""
        price, why = await self.price(token, point)
        return valuation(amount, price, self.tolerance, missing=why)

    async def value(self, portfolio: Portfolio) -> Portfolio:
        """The portfolio with every holding valued at the portfolio's point."""
        valued: list[Holding] = []
        for holding in portfolio.holdings:
            found = await self.valuation(holding.token, holding.amount, portfolio.requested)
            valued.append(attrs.evolve(holding, valuation=found))
        return attrs.evolve(portfolio, holdings=tuple(valued))
