"""The bulk forms of ``balance-at``, ``sync`` and ``series``: ``--input FILE``, many
wallets, ``--plan`` and ``--budget``.

An input file is CSV with a header row, or JSONL (one object a line); ``-`` reads
stdin. It is read lazily, so a file of any length streams. ``--plan`` prints what the
job would call (per provider: calls, declared credits, time at the rate limit) and
spends nothing; ``--budget CREDITS`` refuses, before any call, a plan that would spend
more (credits in each provider's own unit, summed).
"""

from __future__ import annotations

import csv
import io
import json
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from asof.bulk import BulkResult
from asof.chains import resolve_chain
from asof.cli.common import run_client
from asof.cli.output import Column, output, progress, stderr_console
from asof.cli.state import CliState
from asof.errors import AsofError, InputError
from asof.planner import Plan
from asof.records import Amount, BalanceAt, BlockRef, Wallet

if TYPE_CHECKING:
    from asof.client import AsyncClient

__all__ = ["balance_at_input", "plan_options", "read_rows", "series_bulk", "sync_many"]

F = TypeVar("F", bound=Callable[..., Any])

ANSWER_COLUMNS = ("balance", "raw", "decimals", "as_of", "as_of_time", "transaction",
                  "provider", "archived", "error")


def plan_options(func: F) -> F:
    """Add ``--plan`` and ``--budget CREDITS``."""
    func = click.option(
        "--budget", type=str, metavar="CREDITS",
        help="Refuse, before any call, a plan that would spend more than CREDITS "
        "(each provider's declared unit, summed).")(func)
    return click.option("--plan", "show_plan", is_flag=True,
                        help="Print the plan (calls, credits, time at the rate limits) "
                        "and spend nothing.")(func)


def _budget(text: str | None) -> Decimal | None:
    if text is None:
        return None
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        raise InputError(f"cannot read {text!r} as a number of credits", field="budget",
                         value=text) from None
    if not value.is_finite() or value < 0:
        raise InputError("the budget must be a non-negative number", field="budget",
                         value=text)
    return value


def settle_plan(state: CliState, plan: Plan, *, show: bool, budget: str | None) -> bool:
    """Print the plan for ``--plan`` (then the caller stops: returns ``True``), or
    refuse it for ``--budget``; ``False`` when the job may run."""
    limit = _budget(budget)
    if show:
        if state.format in ("json", "jsonl"):
            click.echo(json.dumps(plan.to_data(), indent=2 if state.format == "json" else None))
        else:
            for line in plan.lines():
                click.echo(line)
        if not plan.within(limit):
            raise click.ClickException(f"the plan would spend {plan.credits}, more than "
                                       f"--budget {limit}")
        return True
    if not plan.within(limit):
        raise click.ClickException(
            f"the plan would spend {plan.credits} ({plan.calls} call(s)), more than "
            f"--budget {limit}; nothing was spent (--plan shows it)")
    return False


# -- input files ------------------------------------------------------------------------


def _open(path: str) -> io.TextIOBase:
    if path == "-":
        return sys.stdin  # type: ignore[return-value]
    try:
        return open(path, encoding="utf-8", newline="")
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror or exc}", field="input",
                         value=path) from None


def read_rows(path: str, required: Sequence[str]) -> Iterator[dict[str, str]]:
    """The rows of a CSV (header row) or JSONL file, lazily, each a mapping of its
    columns; a file that lacks a ``required`` column is refused at once."""
    handle = _open(path)
    try:
        first = handle.readline()
        while first and not first.strip():
            first = handle.readline()
        if first.lstrip().startswith("{"):
            yield from _jsonl(first, handle, required, path)
        else:
            yield from _csv(first, handle, required, path)
    finally:
        if handle is not sys.stdin:
            handle.close()


def _check(columns: Sequence[str], required: Sequence[str], path: str) -> None:
    missing = [c for c in required if c not in columns]
    if missing:
        raise InputError(f"{path} has no column {', '.join(missing)} (it has "
                         f"{', '.join(columns) or 'none'})", field="input", value=path)


def _csv(first: str, handle: Any, required: Sequence[str],
         path: str) -> Iterator[dict[str, str]]:
    header = next(csv.reader([first]), [])
    header = [h.strip() for h in header]
    _check(header, required, path)
    for row in csv.reader(handle):
        if not any(cell.strip() for cell in row):
            continue
        yield {k: (row[i] if i < len(row) else "") for i, k in enumerate(header)}


def _jsonl(first: str, handle: Any, required: Sequence[str],
           path: str) -> Iterator[dict[str, str]]:
    seen = False
    for number, line in enumerate(_lines(first, handle), 1):
        if not line.strip():
            continue
        try:
            data = json.loads(line, parse_float=Decimal)
        except ValueError as exc:
            raise InputError(f"{path} line {number} is not JSON: {exc}", field="input",
                             value=path) from None
        if not isinstance(data, dict):
            raise InputError(f"{path} line {number} is not a JSON object", field="input",
                             value=path)
        if not seen:
            _check(list(data), required, path)
            seen = True
        yield {str(k): "" if v is None else str(v) for k, v in data.items()}


def _lines(first: str, handle: Any) -> Iterator[str]:
    yield first
    yield from handle


# -- balance-at --input -----------------------------------------------------------------


def _answer_cells(answer: BalanceAt | None, error: str | None) -> dict[str, Any]:
    if answer is None:
        return {**dict.fromkeys(ANSWER_COLUMNS[:-1]), "error": error}
    symbol = answer.token.symbol or ""
    value = answer.amount.value
    as_of = answer.as_of or answer.read_at
    return {
        "balance": f"{answer.amount} {symbol}".strip() if value is not None
        else f"{answer.amount.raw} raw",
        "raw": str(answer.amount.raw), "decimals": answer.amount.decimals,
        "as_of": None if as_of is None else as_of.number,
        "as_of_time": None if as_of is None else as_of.timestamp,
        "transaction": None if as_of is None else as_of.transaction,
        "provider": answer.provider, "archived": answer.provenance.archived,
        "error": None,
    }


def _columns(names: Sequence[str]) -> list[Column]:
    return [(name, _cell(name)) for name in names]


def _cell(name: str) -> Callable[[Any], Any]:
    return lambda row: row.get(name)


def balance_at_input(state: CliState, path: str, *, show_plan: bool,
                     budget: str | None, cluster: str | None = None,
                     workers: int | None = None) -> None:
    """``asof balance-at --input FILE``: one output row per input row, in order, the
    input's columns first; exit 1 at the end when any row failed."""
    required = ("wallet", "token", "at")
    header = list(next(iter(read_rows(path, required)), {}).keys()) or list(required)
    names = header + [c for c in ANSWER_COLUMNS if c not in header]
    failed = 0

    async def run(client: AsyncClient) -> None:
        nonlocal failed
        plan = client.plan_balance_at_many(read_rows(path, required)) \
            if show_plan or budget is not None else None
        if plan is not None and settle_plan(state, plan, show=show_plan, budget=budget):
            return
        if cluster is not None or workers is not None:
            failed = await _on_cluster(state, client, path, names, cluster, workers, plan)
            return
        with output(state, columns=_columns(names)) as out, \
                progress(state, f"balance-at {Path(path).name}") as bar:
            async for result in client.balance_at_many(read_rows(path, required),
                                                       ordered=True):
                row = dict(result.given)
                row.update(_answer_cells(result.answer, _error_text(result)))
                if result.error is not None:
                    failed += 1
                out.write(row)
                bar.advance()

    run_client(state, run)
    if failed:
        stderr_console().print(f"{failed} row(s) failed; see their error column")
        raise SystemExit(1)


async def _on_cluster(state: CliState, client: AsyncClient, path: str, names: list[str],
                      cluster: str | None, workers: int | None, plan: Plan | None) -> int:
    """``balance-at --input`` on a Dask cluster: planned here, run on the workers, the
    rows written in input order as they arrive; the number of failed rows."""
    import anyio.to_thread

    from asof import distributed
    from asof.cli.cluster import dask_client

    rows = list(read_rows(path, ("wallet", "token", "at")))
    plan = plan or client.plan_balance_at_many(rows)
    deployment = distributed.Deployment.here(state.config)

    def job() -> int:
        failed = 0
        with dask_client(cluster, workers) as dask, \
                output(state, columns=_columns(names)) as out, \
                progress(state, f"balance-at {Path(path).name}", total=len(rows)) as bar:
            results = distributed.balance_at_many(dask, rows, deployment=deployment,
                                                  plan=plan)
            for done in in_order(results, bar.advance):
                row = dict(done.given)
                row.update(_answer_cells(done.answer, _error_text(done)))
                failed += done.error is not None
                out.write(row)
        return failed

    return await anyio.to_thread.run_sync(job)


def in_order(results: Iterable[BulkResult], arrived: Callable[[], Any]) -> Iterator[BulkResult]:
    """``results`` that arrive in any order (a cluster's), in index order from 0;
    ``arrived`` is called as each one arrives (a progress bar's advance)."""
    waiting: dict[int, BulkResult] = {}
    following = 0
    for result in results:
        waiting[result.index] = result
        arrived()
        while following in waiting:
            yield waiting.pop(following)
            following += 1


def _error_text(result: BulkResult) -> str | None:
    return None if result.error is None else str(result.error)


# -- sync WALLET... / --input --------------------------------------------------------------


def sync_many(state: CliState, wallets: Sequence[Wallet], *, start: datetime | None,
              end: datetime | None, tokens: Sequence[str], provider: str | None,
              show_plan: bool, budget: str | None, cluster: str | None = None,
              workers: int | None = None) -> None:
    """``asof sync W1 W2 ...`` / ``--input``: one planned job, pulls of the history
    provider's wallet limit, resumable; a line per pull on stderr."""
    from asof.tokens import resolve_token

    venues = [w for w in wallets if resolve_chain(w.chain).venue]
    if venues:
        raise click.UsageError(f"{venues[0]} is an exchange account: sync it alone "
                               "(its ledger is pulled per account)")
    toks = [resolve_token(c, t) for c in dict.fromkeys(w.chain for w in wallets)
            for t in tokens]

    async def run(client: AsyncClient) -> None:
        plan = client.bulk.plan_sync(wallets, tokens=toks, end=end)
        if settle_plan(state, plan, show=show_plan, budget=budget):
            return
        note = stderr_console()
        for chain, why in plan.unanswerable.items():
            note.print(f"cannot sync the {chain} wallets: {why}")
        if cluster is not None or workers is not None:
            await _sync_on_cluster(state, wallets, plan, start, end, cluster, workers)
            if plan.unanswerable:
                raise SystemExit(1)
            return
        with progress(state, "sync", total=len(plan.pulls)) as bar:
            async for task, report in client.bulk.sync(wallets, start=start, end=end,
                                                       tokens=toks, provider=provider,
                                                       plan=plan):
                bar.advance()
                state_text = ("already complete" if report.already_complete else
                              f"{report.pages} page(s), {report.items} item(s) in this run")
                note.print(f"synced {len(task.wallets)} {task.chain} wallet(s) from "
                           f"{report.provider}: {state_text}")
        if plan.unanswerable:
            raise SystemExit(1)

    run_client(state, run)


async def _sync_on_cluster(state: CliState, wallets: Sequence[Wallet], plan: Plan,
                           start: datetime | None, end: datetime | None,
                           cluster: str | None, workers: int | None) -> None:
    """``sync`` on a Dask cluster: one task per pull of ``plan``; a line per pull."""
    import anyio.to_thread

    from asof import distributed
    from asof.cli.cluster import dask_client

    deployment = distributed.Deployment.here(state.config)
    note = stderr_console()

    def job() -> int:
        failed = 0
        with dask_client(cluster, workers) as dask, \
                progress(state, "sync", total=len(plan.pulls)) as bar:
            for task, report in distributed.sync(dask, wallets, start=start, end=end,
                                                 deployment=deployment, plan=plan):
                bar.advance()
                if isinstance(report, AsofError):
                    failed += 1
                    note.print(f"could not sync {len(task.wallets)} {task.chain} "
                               f"wallet(s): {report}")
                    continue
                state_text = ("already complete" if report.already_complete else
                              f"{report.pages} page(s), {report.items} item(s) in this run")
                note.print(f"synced {len(task.wallets)} {task.chain} wallet(s) from "
                           f"{report.provider}: {state_text}")
        return failed

    if await anyio.to_thread.run_sync(job):
        raise SystemExit(1)


# -- series --input / --sync -------------------------------------------------------------


def series_cells(amount: Amount | None, as_of: BlockRef | None, provider: str | None,
                 symbol: str, unit: str) -> dict[str, Any]:
    """The answer columns of a series row (``asof series``, from the archive or not)."""
    return {
        "balance": None if amount is None else
        (f"{amount} {symbol}".strip() if amount.value is not None else f"{amount.raw} raw"),
        "value": None if amount is None else amount.value,
        "raw": None if amount is None else str(amount.raw),
        "decimals": None if amount is None else amount.decimals,
        unit: None if as_of is None else as_of.number,
        "as_of": None if as_of is None else as_of.timestamp,
        "transaction": None if as_of is None else as_of.transaction,
        "provider": provider,
    }


def _answer_series_cells(answer: BalanceAt | None, unit: str) -> dict[str, Any]:
    if answer is None:
        return series_cells(None, None, None, "", unit)
    return series_cells(answer.amount, answer.as_of, answer.provider,
                        answer.token.symbol or "", unit)


def series_bulk(state: CliState, pairs: Sequence[tuple[Wallet, str]], *, start: datetime,
                end: datetime, every: str, sync: bool, show_plan: bool,
                budget: str | None, with_pair: bool,
                archive_rows: Callable[[], Iterator[dict[str, Any]]],
                cluster: str | None = None, workers: int | None = None) -> int:
    """``asof series`` for many (wallet, token) pairs. With ``sync`` the planned job
    (pulls or walks) fills what the archive does not prove, in this process or on a
    Dask cluster (``cluster``/``workers``, the same rows in the same order); without it
    the archive alone answers (``archive_rows``). Returns how many points stayed
    unknown."""
    groups: dict[str, list[Wallet]] = {}
    for wallet, token in pairs:
        groups.setdefault(token, [])
        if wallet not in groups[token]:
            groups[token].append(wallet)
    missing = 0

    async def run(client: AsyncClient) -> None:
        nonlocal missing
        plans = {token: client.plan_series(ws, token, start=start, end=end, every=every)
                 for token, ws in groups.items()}
        if show_plan or budget is not None:
            merged = _merge(list(plans.values()))
            if settle_plan(state, merged, show=show_plan, budget=budget):
                missing = -1
                return
        if not sync:
            return
        names = _series_names(pairs, with_pair)
        total = sum(p.questions for p in plans.values())
        if cluster is not None or workers is not None:
            missing = await _series_on_cluster(state, groups, plans, names, total,
                                               with_pair, cluster, workers,
                                               start=start, end=end, every=every)
            return
        with output(state, columns=_columns(names)) as out, \
                progress(state, "series", total=total) as bar:
            for token, ws in groups.items():
                async for result in client.bulk.series(ws, [token], start=start, end=end,
                                                       every=every, plan=plans[token]):
                    missing += _write_series_result(out, result, token, with_pair)
                    bar.advance()

    run_client(state, run)
    if missing == -1 or sync:
        return max(missing, 0)
    return _write_archive_rows(state, pairs, with_pair, archive_rows)


def _write_series_result(out: Any, result: BulkResult, token: str, with_pair: bool) -> int:
    """Write one point of a series; 1 when it stayed unknown, else 0."""
    assert result.query is not None
    unit = resolve_chain(result.query.chain).point_unit
    row: dict[str, Any] = {}
    if with_pair:
        row.update(wallet=str(result.query.wallet), token=token)
    row["time"] = result.query.point.time
    row.update(_answer_series_cells(result.answer, unit))
    if result.answer is None:
        row["error"] = _error_text(result)
    out.write(row)
    return result.answer is None


async def _series_on_cluster(state: CliState, groups: dict[str, list[Wallet]],
                             plans: dict[str, Plan], names: list[str], total: int,
                             with_pair: bool, cluster: str | None, workers: int | None,
                             **span: Any) -> int:
    """``series --sync`` on a Dask cluster: each token's series as planned here, run on
    the workers, its rows written in the one-process order as they arrive; the number
    of points that stayed unknown."""
    import anyio.to_thread

    from asof import distributed
    from asof.cli.cluster import dask_client

    deployment = distributed.Deployment.here(state.config)

    def job() -> int:
        missing = 0
        with dask_client(cluster, workers) as dask, \
                output(state, columns=_columns(names)) as out, \
                progress(state, "series", total=total) as bar:
            for token, ws in groups.items():
                results = distributed.series(dask, ws, token, deployment=deployment,
                                             plan=plans[token], **span)
                for result in in_order(results, bar.advance):
                    missing += _write_series_result(out, result, token, with_pair)
        return missing

    return await anyio.to_thread.run_sync(job)


def _series_names(pairs: Sequence[tuple[Wallet, str]], with_pair: bool) -> list[str]:
    units = list(dict.fromkeys(resolve_chain(w.chain).point_unit for w, _ in pairs))
    head = ["wallet", "token"] if with_pair else []
    return [*head, "time", "balance", "value", "raw", "decimals", *units, "as_of",
            "transaction", "provider", "error"]


def _write_archive_rows(state: CliState, pairs: Sequence[tuple[Wallet, str]],
                        with_pair: bool,
                        archive_rows: Callable[[], Iterator[dict[str, Any]]]) -> int:
    missing = 0
    with output(state, columns=_columns(_series_names(pairs, with_pair))) as out:
        for row in archive_rows():
            if row.get("balance") is None:
                missing += 1
            out.write(row)
    return missing


def _merge(plans: Sequence[Plan]) -> Plan:
    if len(plans) == 1:
        return plans[0]
    from asof.planner import Spend

    spend: dict[str, Spend] = {}
    for plan in plans:
        for s in plan.spend:
            if s.provider in spend:
                old = spend[s.provider]
                s = Spend(provider=s.provider, calls=old.calls + s.calls,
                          credits=old.credits + s.credits, unit=s.unit,
                          seconds=old.seconds + s.seconds,
                          at_least=old.at_least or s.at_least)
            spend[s.provider] = s
    return Plan(
        questions=sum(p.questions for p in plans), distinct=sum(p.distinct for p in plans),
        archived=sum(p.archived for p in plans),
        pulls=tuple(t for p in plans for t in p.pulls),
        points=tuple(t for p in plans for t in p.points), spend=tuple(spend.values()),
        unanswerable={k: v for p in plans for k, v in p.unanswerable.items()},
        unanswerable_count=sum(p.unanswerable_count for p in plans))


def pairs_from(path: str) -> list[tuple[Wallet, str]]:
    """The (wallet, token) pairs of a ``series --input`` file."""
    found: list[tuple[Wallet, str]] = []
    for number, row in enumerate(read_rows(path, ("wallet", "token")), 1):
        try:
            wallet = Wallet.parse(row["wallet"].strip())
        except InputError as exc:
            raise InputError(f"{path} row {number}: {exc}", field="wallet",
                             value=row["wallet"]) from None
        found.append((wallet, row["token"].strip()))
    return list(dict.fromkeys(found))


def wallets_from(path: str) -> list[Wallet]:
    """The wallets of a ``sync --input`` file (column ``wallet``)."""
    found: list[Wallet] = []
    for number, row in enumerate(read_rows(path, ("wallet",)), 1):
        try:
            found.append(Wallet.parse(row["wallet"].strip()))
        except InputError as exc:
            raise InputError(f"{path} row {number}: {exc}", field="wallet",
                             value=row["wallet"]) from None
    return list(dict.fromkeys(found))
