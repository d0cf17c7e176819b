"""Pulling a history into the archive page by page, resumably (``asof sync``).

The pages come from the router's one paging loop (:meth:`asof.router.Router.follow`),
which stores each page's final items and the cursor of the next page in one archive
transaction and records the range complete after the last page. A run that is
killed or interrupted loses at most the page in flight; the next run of the same query
reads the stored cursor and continues from there with the same provider. When the last
page is in, the query's range is recorded as covered.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

import attrs

from asof.archive.claims import DEFAULT_SECONDS, pull_claim
from asof.archive.store import Archive
from asof.errors import ArchiveError
from asof.queries import HistoryQuery
from asof.records import Page

__all__ = ["PageSource", "PullReport", "pull"]


class PageSource(Protocol):
    """What :func:`pull` needs of a client: its archive and its router."""

    archive: Any
    router: Any


@attrs.frozen(kw_only=True)
class PullReport:
    """What one run of :func:`pull` did."""

    provider: str | None  #: who gave the pages (``None`` when nothing was fetched)
    pages: int  #: pages fetched in this run
    items: int  #: items received in this run (fresh ones are not stored)
    resumed: bool  #: this run continued an interrupted one
    already_complete: bool  #: the range was complete before this run; nothing fetched
    total_pages: int  #: pages of this query stored over every run
    total_items: int  #: items of this query received over every run


async def pull(
    client: PageSource,
    query: HistoryQuery,
    *,
    provider: str | None = None,
    restart: bool = False,
    on_page: Callable[[str, Page[Any]], None] | None = None,
    claim_seconds: float = DEFAULT_SECONDS,
    on_wait: Callable[[], None] | None = None,
) -> PullReport:
    """Fetch every page of ``query`` into the client's archive.

    ``provider`` picks the provider of a fresh run (an interrupted run always resumes
    with its own); ``restart`` forgets any earlier run and fetches from the first page.
    ``on_page`` is called after each page is stored (progress). While it runs, the
    pull holds the archive's claim on ``query`` (see :mod:`asof.archive.claims`,
    ``claim_seconds`` its expiry): another process pulling the same query waits
    (``on_wait`` is called when this one must), then finds it complete.
    """
    archive = client.archive
    if not isinstance(archive, Archive):
        raise ArchiveError("the archive is disabled: enable it ([archive] enabled = true, "
                           "or unset ASOF_ARCHIVE_ENABLED) to sync")
    async with pull_claim(archive.storage, query, seconds=claim_seconds,
                          on_wait=on_wait) as renew:
        return await _pull(client, archive, query, provider, restart, on_page, renew)


async def _pull(client: PageSource, archive: Archive, query: HistoryQuery,
                provider: str | None, restart: bool,
                on_page: Callable[[str, Page[Any]], None] | None,
                renew: Callable[[], None]) -> PullReport:
    if restart:
        archive.forget_sync(query)
    state = archive.sync_state(query)
    cursor: str | None = None
    resumed = False
    if state is not None and state.done:
        return PullReport(provider=state.provider, pages=0, items=0, resumed=False,
                          already_complete=True, total_pages=state.pages,
                          total_items=state.items)
    if state is not None and state.exhausted:
        archive.complete_history(query, state.provider)
        return PullReport(provider=state.provider, pages=0, items=0, resumed=True,
                          already_complete=False, total_pages=state.pages,
                          total_items=state.items)
    if state is not None and state.cursor is not None:
        cursor, provider, resumed = state.cursor, state.provider, True
    pages = items = 0
    name: str | None = None
    # renew the claim before paying for each page: stop if another process took it over
    async for name, page in client.router.follow(query, cursor, provider=provider,
                                                 before_page=renew):
        pages += 1
        items += len(page.items)
        if on_page is not None:
            on_page(name, page)
        renew()  # before the next page
    final = archive.sync_state(query)
    return PullReport(provider=name, pages=pages, items=items, resumed=resumed,
                      already_complete=False,
                      total_pages=final.pages if final else pages,
                      total_items=final.items if final else items)
