# SPDX-License-Identifier: MIT
"""The loop shared by ring and event followers: blocking iteration through a C follow
call, and asyncio iteration through the handle's pollable descriptor."""

import asyncio
import errno
import time
from typing import Any, Generic, Optional, Tuple, TypeVar

from ._native import timeout_ms
from .errors import error

T = TypeVar("T")


class Follower(Generic[T]):
    """Items from a cursor on, in order, sleeping while there is none.

    Iterate with ``for`` (the blocking C follow call, which releases the GIL) or with
    ``async for`` (the handle's descriptor in the running asyncio loop). Iteration ends,
    and can be taken up again later with the same follower, when no item came within
    ``timeout`` seconds (None: never), or, for ``for``, when the handle is interrupted
    (``interrupted`` is then True). Nothing committed yet (EAGAIN) never raises.
    ``cursor`` is the next counter to read; ``skipped`` counts what was lost to
    wraparound (or to dead writers) on the way.

    Use one follower per handle at a time for ``async for``: arming the descriptor at
    one cursor replaces the arming at another.
    """

    def __init__(self, cursor: int, timeout: Optional[float]) -> None:
        self.cursor = cursor
        self.timeout = timeout
        self.skipped = 0
        self.interrupted = False

    # What a subclass provides: the C calls, on its own cursor and buffer.
    def _follow(self, wait_ms: int) -> Tuple[int, Optional[T]]:
        """The follow call: (0, item), or (negative errno, None)."""
        raise NotImplementedError

    def _next(self) -> Tuple[int, Optional[T]]:
        """The non-blocking next/poll call: (0, item), or (negative errno, None)."""
        raise NotImplementedError

    def _grow(self) -> None:
        """Make the buffer as large as the item the last call reported (EMSGSIZE)."""
        raise NotImplementedError

    def _fd(self) -> int:
        raise NotImplementedError

    def _arm(self) -> int:
        raise NotImplementedError

    # The C names of the follow, next (or poll) and arm calls, for error messages.
    _calls: Tuple[str, str, str] = ("", "", "")

    def __iter__(self) -> "Follower[T]":
        return self

    def __next__(self) -> T:
        deadline = None if self.timeout is None else time.monotonic() + self.timeout
        while True:
            left = None if deadline is None else max(deadline - time.monotonic(), 0.0)
            ret, item = self._follow(timeout_ms(left))
            if ret == 0:
                assert item is not None
                return item
            if ret == -errno.EMSGSIZE:
                self._grow()
            elif ret == -errno.ETIMEDOUT or (ret == -errno.EAGAIN and left == 0):
                raise StopIteration
            elif ret == -errno.ECANCELED:
                self.interrupted = True
                raise StopIteration
            elif ret not in (-errno.EINTR, -errno.EAGAIN):
                raise error(ret, self._calls[0])
            # EINTR: back in Python, which runs the signal's handler (KeyboardInterrupt
            # for SIGINT) before this loop goes on. EAGAIN with time left: nothing yet.

    def __aiter__(self) -> "Follower[T]":
        return self

    async def __anext__(self) -> T:
        loop = asyncio.get_running_loop()
        deadline = None if self.timeout is None else loop.time() + self.timeout
        while True:
            ret, item = self._next()
            if ret == 0:
                assert item is not None
                return item
            if ret == -errno.EMSGSIZE:
                self._grow()
                continue
            if ret != -errno.EAGAIN:
                raise error(ret, self._calls[1])
            # Arming after the EAGAIN makes the descriptor readable at once if an item
            # was committed in between, so no wake-up is lost; a spurious one only
            # brings us back here.
            ret = self._arm()
            if ret < 0:
                raise error(ret, self._calls[2])
            left = None if deadline is None else deadline - loop.time()
            if left is not None and left <= 0:
                raise StopAsyncIteration
            if not await _readable(loop, self._fd(), left):
                raise StopAsyncIteration


async def _readable(loop: asyncio.AbstractEventLoop, fd: int, timeout: Optional[float]) -> bool:
    """Whether fd polled readable within timeout seconds (None: forever)."""
    ready: "asyncio.Future[None]" = loop.create_future()

    def wake(*_: Any) -> None:
        if not ready.done():
            ready.set_result(None)

    # The descriptor is level-triggered: watch it only while waiting, or the loop
    # would call wake() over and over while the consumer works on items.
    loop.add_reader(fd, wake)
    try:
        await asyncio.wait_for(ready, timeout)
        return True
    except asyncio.TimeoutError:
        return False
    finally:
        loop.remove_reader(fd)
