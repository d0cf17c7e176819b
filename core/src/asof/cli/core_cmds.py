"""Core commands: ``plugins``, ``chains``, ``route`` and ``balance-at``."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import click
from rich.text import Text

from asof.chains import known_chains, resolve_chain
from asof.cli.bulk_cmds import balance_at_input, plan_options
from asof.cli.cluster import cluster_options
from asof.cli.common import (
    CAPABILITY,
    CHAIN,
    EXIT_FAILURE,
    POINT,
    WALLET,
    CliState,
    emit,
    format_cell,
    output_option,
    pass_state,
    run_client,
    stderr_console,
    stdout_console,
)
from asof.cli.portfolio_cmds import valuation_view, value_option
from asof.errors import InputError
from asof.queries import BalanceQuery
from asof.records import BalanceAt, BlockRef, Capability, ChainSupport, Point, Token, Wallet
from asof.tokens import resolve_token

if TYPE_CHECKING:
    from asof.client import AsyncClient
    from asof.prices import Valuation
    from asof.router import Route
    from asof.verify import Verification

__all__ = ["COMMANDS", "balance_at", "chains", "plugins", "route"]


def _capabilities(values: Iterable[Capability]) -> list[str]:
    """Capability names in their canonical order, once each."""
    wanted = set(values)
    return [c.value for c in Capability if c in wanted]


def _joined(key: str) -> Any:
    def get(row: dict[str, Any]) -> str:
        value = row.get(key)
        if isinstance(value, list | tuple):
            return ", ".join(str(v) for v in value)
        return format_cell(value)

    return get


# ---------------------------------------------------------------------------- plugins


def _credential_state(client: AsyncClient, name: str) -> str | None:
    """``ok``, or what to set, for a loaded plugin's credentials (never their values)."""
    settings = client.router.settings.get(name)
    return None if settings is None else settings.credential_state()


def _contract(client: AsyncClient, name: str, state: str, error: str | None) -> list[str]:
    """The offline conformance checks' problems for one plugin (see
    :mod:`asof.testing.contract`); a plugin that did not load fails with its error."""
    from asof.testing.contract import check_plugin

    if state != "loaded":
        return [f"{state}: {error}" if error else state]
    plugin = client.plugin_set.pm.get_plugin(name)
    return check_plugin(plugin, name)


@click.command("plugins", short_help="List the provider plugins found, loaded or not, and why.")
@click.option("--check", is_flag=True,
              help="Run the conformance kit's offline checks on every installed plugin; "
              "exit 1 if one fails.")
@output_option
@pass_state
def plugins(state: CliState, check: bool) -> None:
    """List the provider plugins found: loaded or not, and why.

    Shows each plugin's distribution and version, its state (loaded, failed, invalid,
    blocked, not allowed, clash), the capabilities it serves, whether its credentials
    are set, and the error that stopped it from loading.

    With --check, runs the conformance kit's offline checks (declarations, hooks and
    their signatures, imports only from asof.plugin) on every installed plugin, sends
    no request, lists each plugin's problems, and exits 1 if any plugin fails (one that
    failed to load fails too; a blocked one is not checked).
    """
    if check:
        _check_plugins(state)
        return

    async def collect(client: AsyncClient) -> list[dict[str, Any]]:
        supports: dict[str, list[ChainSupport]] = {}
        for support in client.supported_chains():
            supports.setdefault(support.provider, []).append(support)
        rows = []
        for status in client.plugins():
            declared = supports.get(status.name, [])
            rows.append({
                "name": status.name,
                "distribution": status.distribution,
                "version": status.version,
                "state": status.state,
                "capabilities": _capabilities(c for s in declared for c in s.capabilities),
                "chains": sorted({s.chain for s in declared}),
                "credentials": _credential_state(client, status.name) if status.loaded else None,
                "module": status.module,
                "error": status.error,
            })
        return rows

    rows = run_client(state, collect)
    emit(state, rows, columns=[
        ("plugin", "name"),
        "distribution",
        "version",
        "state",
        ("capabilities", _joined("capabilities")),
        ("chains", lambda row: len(row["chains"]) or None),
        "credentials",
        "error",
    ])


def _check_plugins(state: CliState) -> None:
    async def collect(client: AsyncClient) -> list[dict[str, Any]]:
        rows = []
        for status in client.plugins():
            if status.state in ("blocked", "not allowed"):
                rows.append({"name": status.name, "distribution": status.distribution,
                             "check": "not checked", "problems": [status.error or status.state]})
                continue
            problems = _contract(client, status.name, status.state, status.error)
            rows.append({"name": status.name, "distribution": status.distribution,
                         "check": "fail" if problems else "pass", "problems": problems})
        return rows

    rows = run_client(state, collect)
    emit(state, rows, columns=[
        ("plugin", "name"),
        "distribution",
        "check",
        ("problems", lambda row: "; ".join(row["problems"]) or None),
    ])
    failed = [row["name"] for row in rows if row["check"] == "fail"]
    if failed:
        stderr_console().print(Text(f"{len(failed)} plugin(s) fail the contract: "
                                    f"{', '.join(failed)}"))
        raise click.exceptions.Exit(EXIT_FAILURE)


# ---------------------------------------------------------------------------- chains


def _support_row(support: ChainSupport) -> dict[str, Any]:
    return {
        "chain": support.chain,
        "provider": support.provider,
        "capabilities": [c.value for c in support.capabilities],
        "derived": [c.value for c in support.derived],
        "status": support.status.value,
        "cost": str(support.cost) if support.cost is not None else None,
        "preference": support.preference,
        "note": support.note,
    }


def _marked_capabilities(row: dict[str, Any]) -> str:
    derived = set(row.get("derived") or ())
    return ", ".join(f"{c} (derived)" if c in derived else c for c in row["capabilities"])


@click.command("chains", short_help="List the chains and capabilities each provider serves.")
@click.option("--refresh", is_flag=True,
              help="Fetch the providers' live chain listings first (costs calls).")
@click.option("--all", "show_all", is_flag=True,
              help="Also list the chains asof knows that no installed provider serves.")
@output_option
@pass_state
def chains(state: CliState, refresh: bool, show_all: bool) -> None:
    """List the chains the installed providers serve: one row per chain and provider,
    with capabilities, status (supported / beta) and cost per call."""

    async def collect(client: AsyncClient) -> tuple[list[ChainSupport], dict[str, str]]:
        outcome = await client.refresh_chains() if refresh else {}
        return client.supported_chains(), outcome

    supports, outcome = run_client(state, collect)
    if refresh:
        err = stderr_console()
        if not outcome:
            err.print(Text("no installed provider publishes a live chain listing"))
        for provider, what in sorted(outcome.items()):
            err.print(Text(f"{provider}: {what}"))
    rows = [_support_row(s) for s in sorted(supports, key=lambda s: (s.chain, s.provider))]
    if show_all:
        served = {row["chain"] for row in rows}
        rows += [
            {"chain": c.name, "provider": None, "capabilities": [], "derived": [],
             "status": None, "cost": None, "preference": None, "note": "no provider installed"}
            for c in known_chains() if c.name not in served
        ]
        rows.sort(key=lambda row: (row["chain"], row["provider"] or ""))
    emit(state, rows, columns=[
        "chain",
        "provider",
        ("capabilities", _marked_capabilities),
        "status",
        "cost",
        "note",
    ])


# ---------------------------------------------------------------------------- route


def _route_rows(found: Route) -> list[dict[str, Any]]:
    rows = []
    order = 0
    for step in found.steps:
        if step.usable:
            order += 1
        support = step.support
        rows.append({
            "order": order if step.usable else None,
            "provider": step.provider,
            "archive": step.archive,
            "usable": step.usable,
            "status": support.status.value if support is not None else None,
            "cost": str(support.cost) if support is not None and support.cost else None,
            "reason": step.reason,
        })
    return rows


@click.command(
    "route", short_help="Explain who answers a capability on a chain, in order."
)
@click.argument("chain", type=CHAIN)
@click.argument("capability", type=CAPABILITY)
@click.option("--wallet", "wallet", default=None, metavar="ADDRESS",
              help="With --token and --at: explain one balance question, including "
              "whether the archive can answer it and why not.")
@click.option("--token", "token", default=None, metavar="TOKEN",
              help="The token of the question (symbol, address or mint).")
@click.option("--at", "at", type=POINT, default=None,
              help="The moment of the question (a time, slot:N or block:N).")
@output_option
@pass_state
def route(state: CliState, chain: str, capability: Capability, wallet: str | None,
          token: str | None, at: Point | None) -> None:
    """Explain which providers answer CAPABILITY on CHAIN, in the order they are tried,
    and why each other one cannot (for example a missing API key, and which variable
    to set). The archive is a step of its own, tried first.

    CAPABILITY is one of balance_at, balance_history, holdings_history, account_ledger,
    portfolio_at, price_at.
    With --wallet, --token and --at (balance_at only) the archive's step says whether
    it can answer that very question and, if not, why: the coverage it lacks, a
    declared history scope that leaves the token out, or a point newer than the
    chain's finality horizon.

    \b
    Examples:
      asof route solana balance_at
      asof route solana balance_at --wallet GQUtvPx8...Aydz --token USDC --at 2025-04-10
    """
    question = _question(chain, capability, wallet, token, at)

    async def collect(client: AsyncClient) -> Route:
        if question is not None:
            return client.router.route_for(question)
        return client.route(chain, capability)

    found = run_client(state, collect)
    rows = _route_rows(found)
    archive = any(row["usable"] and row["archive"] for row in rows)
    first = next((row["provider"] for row in rows
                  if row["usable"] and not row["archive"]), None)
    if state.format == "json":
        doc: dict[str, Any] = {"chain": found.chain, "capability": found.capability.value,
                               "archive": archive, "answers": first, "steps": rows}
        if question is not None:
            doc["question"] = {"wallet": str(question.wallet),
                               "token": question.token.address,
                               "at": question.point.describe()}
        emit(state, doc)
        return
    if state.format != "table":
        emit(state, rows)  # every field: order, provider, usable, status, cost, reason
        return
    emit(state, rows, columns=[
        ("#", "order"),
        "provider",
        ("usable", lambda row: "yes" if row["usable"] else "no"),
        "reason",
    ])
    stdout_console().print(Text(_route_summary(found, archive, first, question)))


def _question(chain: str, capability: Capability, wallet: str | None, token: str | None,
              at: Point | None) -> BalanceQuery | None:
    if wallet is None and token is None and at is None:
        return None
    if wallet is None or token is None or at is None:
        raise click.UsageError("give --wallet, --token and --at together")
    if capability is not Capability.BALANCE_AT:
        raise click.UsageError("--wallet, --token and --at explain a balance_at question")
    try:
        who = Wallet.parse(wallet) if ":" in wallet else Wallet.parse(wallet, chain=chain)
        return BalanceQuery(wallet=who, token=resolve_token(who.chain, token), point=at)
    except InputError as exc:
        raise click.BadParameter(str(exc)) from None


def _route_summary(found: Route, archive: bool, first: str | None,
                   question: BalanceQuery | None = None) -> str:
    if question is not None:
        asked = f"{question.wallet} {question.token} at {question.point.describe()}"
        if archive:
            return f"the archive answers {asked}"
        if first is not None:
            return f"the archive cannot prove {asked}; {first} answers it"
        return f"nothing can answer {asked}: the archive cannot prove it and no provider " \
            "is usable"
    what = f"{found.capability} on {found.chain}"
    if first is None and not archive:
        return f"no provider can answer {what}"
    if first is None:
        return f"only the archive can answer {what}, where its coverage proves the answer"
    if archive:
        return (f"the archive answers {what} where its coverage proves the answer, "
                f"otherwise {first}")
    return f"{first} answers {what}"


# ---------------------------------------------------------------------------- balance-at


def _as_of_text(answer: BalanceAt) -> str:
    unit = resolve_chain(answer.wallet.chain).point_unit
    if answer.as_of is None:
        if answer.read_at is not None:
            return (f"state read at {_ref_text(answer.read_at, unit)} "
                    "(the last change is not known)")
        return "no activity at or before the point (zero)"
    return _ref_text(answer.as_of, unit)


def _ref_text(ref: BlockRef, unit: str) -> str:
    bits = []
    if ref.number is not None:
        bits.append(f"{unit} {ref.number}")
    if ref.timestamp is not None:
        bits.append(format_cell(ref.timestamp))
    if ref.transaction is not None:
        bits.append(f"tx {ref.transaction}" + (f" #{ref.index}" if ref.index is not None else ""))
    if ref.hash is not None:
        bits.append(f"hash {ref.hash}")
    return ", ".join(bits) or "(the provider gave no block reference)"


def balance_view(answer: BalanceAt) -> dict[str, Any]:
    """The fields of a balance answer as a person reads them (the table form)."""
    token = answer.token
    value = answer.amount.value
    symbol = token.symbol or ""
    amount = (f"{answer.amount} {symbol}".strip() if value is not None
              else f"{answer.amount.raw} base units (decimals unknown)")
    unit = resolve_chain(answer.wallet.chain).point_unit
    prov = answer.provenance
    view: dict[str, Any] = {
        "wallet": str(answer.wallet),
        "token": f"{token.symbol} {token.address}" if token.symbol else token.address,
        "standard": token.standard,
        "amount": amount,
        "raw": str(answer.amount.raw),
        "decimals": answer.amount.decimals,
        "requested": answer.requested.describe(unit),
        "as of": _as_of_text(answer),
        "provider": prov.provider,
        "answer": "derived from history" if prov.derived else "direct",
        "archived": "yes" if prov.archived else "no",
    }
    if prov.resolved is not None:
        view["resolved to"] = prov.resolved.describe(unit)
    if prov.source:
        view["source"] = prov.source
    if prov.fetched_at is not None:
        view["fetched at"] = prov.fetched_at
    for number, caveat in enumerate(prov.caveats, 1):
        view["caveat" if len(prov.caveats) == 1 else f"caveat {number}"] = caveat
    return view


@click.command("balance-at")
@click.argument("wallet", type=WALLET, metavar="CHAIN:WALLET", required=False)
@click.argument("token", metavar="TOKEN", required=False)
@click.option("--at", "at", type=POINT,
              help="The moment: a time or date (UTC unless an offset is given), epoch "
              "seconds, or slot:N / block:N.")
@click.option("--verify", is_flag=True,
              help="Ask a second provider that serves the question and report whether it "
              "agrees (exit status 1 when it differs).")
@click.option("--input", "input_file", metavar="FILE",
              help="Answer every row of FILE (CSV with a header, or JSONL; columns wallet, "
              "token, at; - for stdin): one output row per input row, its columns first.")
@plan_options
@cluster_options
@value_option
@output_option
@pass_state
def balance_at(state: CliState, wallet: Wallet | None, token: str | None, at: Point | None,
               verify: bool, input_file: str | None, show_plan: bool,
               budget: str | None, cluster: str | None, workers: int | None,
               value: str | None = None) -> None:
    """A wallet's balance of one token as of a moment; with --input, of every row of
    a file.

    TOKEN is an address or mint, or a symbol from the built-in registry (the native
    coin such as SOL or ETH, USDC, USDT). The answer is the balance after the last
    block or slot at or before the point; a wallet with no activity by then has a zero
    balance.

    \b
    Examples:
      asof balance-at solana:GQUtvPx89ZNCwmvQqFmH59bJcU8fW8siETpaxod7Aydz USDC --at 2025-01-10
      asof balance-at solana:GQUtvPx89ZNCwmvQqFmH59bJcU8fW8siETpaxod7Aydz SOL --at slot:313000000
      asof balance-at eth:0xd8dA6BF26964aF9D7eEd9e03E53415D37aA96045 ETH --at 2025-01-10T12:00+02:00
      asof balance-at eth:0xd8dA6BF26964aF9D7eEd9e03E53415D37aA96045 ETH --at 2025-01-10 --verify
      asof balance-at --input questions.csv --format csv > answers.csv
      asof balance-at --input questions.csv --plan

    With --input, identical rows are asked once, archived answers are not asked again
    and every provider is kept inside its rate limit; a failed row carries an error
    column and the exit status is 1 at the end. --plan prints the calls it would make
    and spends nothing; --budget CREDITS refuses a plan that would spend more.
    --workers N (a local Dask cluster) or --cluster tcp://HOST:PORT (a running
    scheduler) runs the job on a cluster's workers, which share the archive and the
    rate budget the configuration names (see docs/scale-out.md).
    """
    if input_file is not None:
        if wallet is not None or token is not None or at is not None or verify or value:
            raise click.UsageError("--input reads wallet, token and at from the file; give "
                                   "no CHAIN:WALLET, TOKEN, --at, --verify or --value "
                                   "with it")
        balance_at_input(state, input_file, show_plan=show_plan, budget=budget,
                         cluster=cluster, workers=workers)
        return
    if cluster is not None or workers is not None:
        raise click.UsageError("--cluster and --workers run an --input job")
    if wallet is None or token is None or at is None:
        raise click.UsageError("give CHAIN:WALLET TOKEN --at POINT, or --input FILE")
    if show_plan or budget is not None:
        raise click.UsageError("--plan and --budget apply to --input")
    resolved = resolve_token(wallet.chain, token)
    if verify:
        if value is not None:
            raise click.UsageError("--verify and --value are asked one at a time")
        _verified(state, wallet, resolved, at)
        return

    async def ask(client: AsyncClient) -> tuple[BalanceAt, Valuation | None]:
        found = await client.balance_at(wallet, resolved, at)
        return found, None if value is None else await client.value(found)

    answer, valued = run_client(state, ask)
    if state.format == "table":
        emit(state, {**balance_view(answer), **valuation_view(valued)})
    elif valued is not None:
        emit(state, {"balance": answer, "valuation": valued})
    else:
        emit(state, answer)


def _verified(state: CliState, wallet: Wallet, token: Token, at: Point) -> None:
    """``balance-at --verify``: the answer, a second provider's, and the verdict."""

    async def ask(client: AsyncClient) -> Verification:
        return await client.verify_balance(wallet, token, at)

    found = run_client(state, ask)
    verdict = found.describe()
    if state.format == "table":
        view = balance_view(found.answer)
        if found.check is not None:
            view["verified by"] = f"{found.check.provider}: {_as_of_text(found.check)}"
        view["verification"] = verdict
        emit(state, view)
    else:
        emit(state, [found.answer] if found.check is None else [found.answer, found.check])
        stderr_console().print(Text(verdict))
    if found.agree is False:
        raise SystemExit(1)


#: The commands this module adds to the ``asof`` group.
COMMANDS: list[click.Command] = [plugins, chains, route, balance_at]
