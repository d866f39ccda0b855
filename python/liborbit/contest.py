# SPDX-License-Identifier: MIT
"""Contest guards: a lease on a subject, held by at most one fleet handle at a time."""

from typing import TYPE_CHECKING, Optional

from ._native import lib
from .errors import check

if TYPE_CHECKING:
    from .fleet import Fleet


class Guard:
    """A held lease, from Fleet.claim. As a context manager it releases on exit:

        with fleet.claim(1, "nightly-report", "worker-3", ttl_ms=5000) as guard:
            run(guard.token)
            guard.renew(5000)

    A guard that is never released holds the subject until its lease expires or its
    process ends; one that is garbage-collected is released then.
    """

    def __init__(self, fleet: "Fleet", handle: int, label: str) -> None:
        self._fleet = fleet
        self._handle_value: Optional[int] = handle
        self.label = label

    @property
    def _handle(self) -> int:
        if self._handle_value is None:
            raise ValueError("the guard is released")
        self._fleet._check_joined()
        return self._handle_value

    @property
    def token(self) -> int:
        """The fencing token: larger for every later holder of the subject."""
        return int(lib.orbit_guard_token(self._handle))

    def renew(self, ttl_ms: int) -> None:
        """Extends the lease to ttl_ms from now; an Error when it was lost meanwhile
        (expired and claimed by another)."""
        check(lib.orbit_guard_renew(self._handle, ttl_ms), "orbit_guard_renew")

    def release(self) -> None:
        """Ends the lease and frees the guard; releasing again does nothing."""
        handle, self._handle_value = self._handle_value, None
        if handle is not None:
            check(lib.orbit_guard_release(handle), "orbit_guard_release")

    def __enter__(self) -> "Guard":
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()

    def _free(self) -> None:
        """Releases without raising: for leaving the fleet and for garbage collection,
        where a lease already lost is no news to anyone."""
        handle, self._handle_value = self._handle_value, None
        if handle is not None:
            lib.orbit_guard_release(handle)

    def __del__(self) -> None:
        self._free()

    def __repr__(self) -> str:
        state = "released" if self._handle_value is None else f"token={self.token}"
        return f"<liborbit.Guard {self.label!r} {state}>"
