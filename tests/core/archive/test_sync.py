"""Pulling a history into the archive: a run killed in the middle resumes where it
stopped and loses nothing; a finished range is not fetched again."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest

from asof.archive import Archive
from asof.archive.pull import PullReport, pull
from asof.client import AsyncClient
from asof.errors import ArchiveError, PluginError
from asof.records import Page

from .helpers import at, balance_query, change, clock, history_query
from .history_plugin import HistoryProvider

QUERY = history_query(at(1), at(31))


def run(path: Path, plugin: HistoryProvider, *, restart: bool = False) -> PullReport:
    async def main() -> PullReport:
        archive = Archive(path, clock=clock())
        async with AsyncClient(plugins={plugin.name: plugin}, env={"HOME": str(path.parent)},
                               archive=archive) as client:
            return await pull(client, QUERY, restart=restart)

    return anyio.run(main)


def stored(path: Path) -> tuple[int, int]:
    with Archive(path, clock=clock()) as archive:
        info = archive.info()
        return info.counts["changes"], info.counts["coverage"]


@pytest.mark.parametrize("failure", [RuntimeError("connection lost"), KeyboardInterrupt()])
def test_a_killed_sync_resumes_from_the_last_stored_page(
    tmp_path: Path, failure: BaseException
) -> None:
    path = tmp_path / "a.sqlite"
    first = HistoryProvider(pages=5, fail_at=3, failure=failure)
    with pytest.raises((PluginError, KeyboardInterrupt)):
        run(path, first)
    assert first.cursors == [None, "1", "2", "3"]
    assert stored(path) == (3, 0)  # pages 0-2 kept, no coverage yet
    with Archive(path, clock=clock()) as archive:
        state = archive.sync_state(QUERY)
        assert state is not None
        assert (state.cursor, state.pages, state.done) == ("3", 3, False)
        assert archive.lookup_balance(balance_query(at(3))) is None  # not complete

    second = HistoryProvider(pages=5)
    report = run(path, second)
    assert second.cursors == ["3", "4"]  # continued, did not start over
    assert report.resumed
    assert (report.pages, report.total_pages, report.total_items) == (2, 5, 5)
    assert stored(path) == (5, 1)
    with Archive(path, clock=clock()) as archive:
        found = archive.lookup_balance(balance_query(at(30)))
        assert found is not None
        assert found.amount.raw == 500
        assert found.provenance.provider == "fakehist"


def test_a_complete_range_is_not_fetched_again_unless_restarted(tmp_path: Path) -> None:
    path = tmp_path / "a.sqlite"
    assert run(path, HistoryProvider(pages=2)).pages == 2
    again = HistoryProvider(pages=2)
    report = run(path, again)
    assert report.already_complete
    assert again.cursors == []
    restarted = HistoryProvider(pages=2)
    report = run(path, restarted, restart=True)
    assert restarted.cursors == [None, "1"]
    assert not report.already_complete
    assert stored(path) == (2, 1)


def test_killed_after_the_last_page_only_records_coverage(tmp_path: Path) -> None:
    path = tmp_path / "a.sqlite"
    with Archive(path, clock=clock()) as archive:
        archive.record_page(QUERY, "fakehist", Page(items=(change(at(2), 1),), cursor=None),
                            None)
    plugin = HistoryProvider()
    report = run(path, plugin)
    assert plugin.cursors == []
    assert report.resumed
    assert stored(path) == (1, 1)


def test_sync_needs_an_archive(tmp_path: Path) -> None:
    async def main() -> None:
        plugin = HistoryProvider()
        async with AsyncClient(plugins={plugin.name: plugin}, env={"HOME": str(tmp_path)},
                               archive=False) as client:
            await pull(client, QUERY)

    with pytest.raises(ArchiveError, match="disabled"):
        anyio.run(main)
