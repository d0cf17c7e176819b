"""Paging asks for the next page while the current one is stored and handed on: pages
still arrive in order, each is stored before it is handed on, an error of the next
page comes after the current one, and a reader that stops early loses nothing stored.
"""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest

from asof.archive import Archive
from asof.client import AsyncClient
from asof.errors import PluginError

from .helpers import WALLET, at, clock, history_query
from .history_plugin import HistoryProvider

QUERY = history_query(at(1), at(31))


def _client(path: Path, plugin: HistoryProvider) -> tuple[AsyncClient, Archive]:
    archive = Archive(path, clock=clock())
    client = AsyncClient(plugins={plugin.name: plugin}, env={"HOME": str(path.parent)},
                         archive=archive)
    return client, archive


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_pages_come_in_order_each_stored_before_it_is_handed_on(
    tmp_path: Path, backend: str
) -> None:
    plugin = HistoryProvider(pages=4)
    seen: list[tuple[int, int, int]] = []  # (raw, pages stored, pages asked for)

    async def main() -> None:
        client, archive = _client(tmp_path / "a.sqlite", plugin)
        async with client:
            async for _, page in client.router.follow(QUERY):
                state = archive.sync_state(QUERY)
                assert state is not None
                seen.append((page.items[0].balance.raw, state.pages, len(plugin.cursors)))

    anyio.run(main, backend=backend)
    # under asyncio the next page has been asked for when a page is handed on (the
    # last has no next); under trio paging goes one page after the other
    ahead = 1 if backend == "asyncio" else 0
    assert seen == [(100, 1, 1 + ahead), (200, 2, 2 + ahead), (300, 3, 3 + ahead),
                    (400, 4, 4)]
    assert plugin.cursors == [None, "1", "2", "3"]


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_an_error_of_the_next_page_comes_after_the_current_page(
    tmp_path: Path, backend: str
) -> None:
    plugin = HistoryProvider(pages=5, fail_at=2)
    got: list[int] = []

    async def main() -> None:
        client, _ = _client(tmp_path / "a.sqlite", plugin)
        async with client:
            async for change in client.history(WALLET, start=at(1), end=at(31)):
                got.append(change.balance.raw)

    with pytest.raises(PluginError, match="connection lost"):
        anyio.run(main, backend=backend)
    assert got == [100, 200]  # both pages before the failing one were handed on
    with Archive(tmp_path / "a.sqlite", clock=clock()) as archive:
        assert archive.info().counts["changes"] == 2  # and both were stored


def test_a_reader_that_stops_early_keeps_what_was_stored(tmp_path: Path) -> None:
    plugin = HistoryProvider(pages=5)
    path = tmp_path / "a.sqlite"

    async def main() -> list[int]:
        client, _ = _client(path, plugin)
        got: list[int] = []
        async with client:
            stream = client.history(WALLET, start=at(1), end=at(31))
            async for change in stream:
                got.append(change.balance.raw)
                if len(got) == 2:
                    break
            await stream.aclose()
        return got

    assert anyio.run(main, backend="asyncio") == [100, 200]
    assert plugin.cursors == [None, "1", "2"]  # page 3 was asked for ahead, then dropped
    with Archive(path, clock=clock()) as archive:
        state = archive.sync_state(QUERY)
        assert state is not None
        assert (state.pages, state.cursor, state.done) == (2, "2", False)
        assert archive.info().counts["changes"] == 2
