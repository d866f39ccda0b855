# SPDX-License-Identifier: MIT
"""liborbit from Python: lock-free rings of small frames in POSIX shared memory,
shared by sibling processes, and the substrates on them (cache, events, contest,
heartbeats), through ctypes over liborbit.so.1.

    import liborbit

    with liborbit.Fleet("workers", node=1, size=4) as fleet:
        ring = fleet.ring(12)
        ring.write(b"hello", ver=1)
        for frame in ring.follow(0, timeout=1.0):
            print(frame.node, frame.ver, frame.payload)

Failures raise liborbit.Error, an OSError with errno set that is also the built-in
OSError subclass for that errno (FileNotFoundError for ENOENT, and so on); a busy
contest claim raises ClaimBusy. See orbit(7) for the model and the C manual pages
for each call's exact behaviour.
"""

from . import ids
from ._follow import Follower
from ._native import SONAME, lib
from .cache import Cache
from .contest import Guard
from .errors import ClaimBusy, Error
from .events import Event, EventFollower, Events, Polled
from .fleet import (KIND_CACHE, KIND_CONTEST, KIND_EVENTS, KIND_HEARTBEAT, Fleet, Member,
                    MemberState, Options, probe)
from .ring import Batch, Frame, Next, Ring, RingFollower

__all__ = [
    "SONAME", "KIND_CACHE", "KIND_CONTEST", "KIND_EVENTS", "KIND_HEARTBEAT",
    "Batch", "Cache", "ClaimBusy", "Error", "Event", "EventFollower", "Events", "Fleet",
    "Follower", "Frame", "Guard", "Member", "MemberState", "Next", "Options", "Polled",
    "Ring", "RingFollower", "ids", "probe", "version",
]

__version__ = "1.5.0"


def version() -> str:
    """The version of the loaded liborbit.so.1, such as "1.5.0"."""
    return str(lib.orbit_version().decode("ascii"))
