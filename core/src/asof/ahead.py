"""Asking for the next page of a history while the current one is stored and handed on.

A provider takes a while to answer a page, and asof takes a while to store one. Paging
one after the other, each waits for the other. :func:`ask_ahead` starts the request for
the next page, waits only until that request has been written to the provider (or has
ended without reaching it), and returns: the provider works on the page while the
caller stores and hands on the current one, then awaits the :class:`Ahead`.

The moment is told by the transport: every request a provider session sends in the
context of the work started here calls the context's :func:`on_written` callback once
its body has been written, or at once when it must first wait, for its rate-limit
turn or to be tried again (the provider is not working on it then, and the caller
need not wait). Work that sends nothing through a provider session (a cached answer,
a plugin with its own client) simply runs to its end first.

Under asyncio the work runs as a task of its own. Under any other event loop (trio)
it is not started until awaited, so paging stays one page after the other there.
Whatever the loop, the work's outcome (its value or its error) is met where it is
awaited, exactly as if it had been awaited there in the first place, and
:meth:`Ahead.discard` ends work that is no longer wanted.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Callable, Coroutine, Generator
from typing import Any, Generic, TypeVar

__all__ = ["Ahead", "ask_ahead", "on_written"]

T = TypeVar("T")

_WRITTEN: contextvars.ContextVar[Callable[[], None] | None] = contextvars.ContextVar(
    "asof_request_written", default=None)


def on_written() -> Callable[[], None] | None:
    """The callback to call once a request of the current context has been written,
    if an :func:`ask_ahead` is waiting for it (the transport calls it)."""
    return _WRITTEN.get()


class Ahead(Generic[T]):
    """Work started ahead of need; await it for its value (or its error)."""

    def __init__(self, work: Coroutine[Any, Any, T], task: asyncio.Task[T] | None) -> None:
        self._work = work
        self._task = task
        self._awaited = False

    def __await__(self) -> Generator[Any, None, T]:
        self._awaited = True
        if self._task is None:
            return (yield from self._work.__await__())
        return (yield from self._task.__await__())

    def discard(self) -> None:
        """End the work unawaited: the task is cancelled (a request in flight is
        dropped), work not started is closed, and an error it ended with is dropped."""
        if self._awaited:
            return
        self._awaited = True
        task = self._task
        if task is None:
            self._work.close()
        elif not task.done():
            task.cancel()
        elif not task.cancelled():
            task.exception()  # looked at, so that asyncio does not log it


async def ask_ahead(work: Coroutine[Any, Any, T]) -> Ahead[T]:
    """Start ``work`` and return once its first request has been written to the
    provider (or waits for its turn or a retry), or once it has ended, whichever comes
    first (under asyncio; elsewhere the work is started when awaited)."""
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:  # another event loop (trio)
        return Ahead(work, None)
    written: asyncio.Future[None] = loop.create_future()

    def mark() -> None:
        if not written.done():
            written.set_result(None)

    context = contextvars.copy_context()
    context.run(_WRITTEN.set, mark)
    task = loop.create_task(work, context=context)
    try:
        await asyncio.wait((task, written), return_when=asyncio.FIRST_COMPLETED)
    except BaseException:
        task.cancel()
        raise
    finally:
        written.cancel()
    return Ahead(work, task)
