# SPDX-License-Identifier: MIT
"""Fleets: a named group of processes and its rings, one per kind."""

import ctypes
import enum
import errno
import weakref
from typing import Any, Dict, List, NamedTuple, Optional

from ._native import FleetOptions, MemberStruct, buffer_of, c_string, encode, handle_of, lib
from .cache import Cache
from .contest import Guard
from .errors import ClaimBusy, check
from .events import Events
from .ring import Ring

KIND_CACHE = 200
KIND_EVENTS = 220
KIND_HEARTBEAT = 221
KIND_CONTEST = 222

# ORBIT_FLEET_OWNER in the options' flags: owner names the uid whose fleet to join.
_FLAG_OWNER = 0x1


class MemberState(enum.IntEnum):
    """ORBIT_MEMBER_*: what a heartbeat snapshot says of a node."""

    MISSING = 0
    ALIVE = 1
    STALE = 2


class Member(NamedTuple):
    """One node of a heartbeat snapshot."""

    node: int
    state: MemberState
    last_beat_ms: int
    """Unix ms of the node's newest beat; 0 when missing."""


class Options(NamedTuple):
    """The options of a fleet's ring, as probe reads them from its segment."""

    capacity: int
    payload_max: int
    mode: int
    stall_ms: int


def _options(capacity: int, payload_max: int, mode: int, stall_ms: int,
             owner: Optional[int]) -> FleetOptions:
    opts = FleetOptions()
    opts.size = ctypes.sizeof(FleetOptions)
    opts.capacity = capacity
    opts.payload_max = payload_max
    opts.mode = mode
    opts.stall_ms = stall_ms
    if owner is not None:
        opts.flags = _FLAG_OWNER
        opts.owner = owner
    return opts


def probe(name: str, kind: int) -> Options:
    """The options that join the existing segment of name's ring of kind
    (FileNotFoundError when there is none)."""
    opts = _options(0, 0, 0, 0, None)
    check(lib.orbit_fleet_probe(c_string(name, "orbit_fleet_probe"), kind, ctypes.byref(opts)),
          "orbit_fleet_probe", name)
    return Options(opts.capacity, opts.payload_max, opts.mode, opts.stall_ms)


class Fleet:
    """A joined fleet: node ``node`` of ``size`` nodes of the fleet ``name``.

        with liborbit.Fleet("workers", node=1, size=4) as fleet:
            fleet.ring(12).write(b"hello")

    shared=True joins the fleet in POSIX shared memory, shared by the processes that
    join the same name; shared=False makes a process-local fleet with the same
    interface. The options take effect for rings this join creates and must match the
    segments it attaches to: capacity (slots per ring, a power of two; 0 = 1024),
    payload_max (0 or 256 = layout 1, other values layout 2), mode (of new segments:
    0 = 0o600, 0o640, 0o660), stall_ms (0 = 200) and owner (a uid: join the fleet of
    that user, who shares our group, instead of our own).

    Leaving (leave(), close(), the end of a with block, or garbage collection) closes
    the caches, event buses and guards opened through the fleet first; its rings are
    invalid afterwards.
    """

    def __init__(self, name: str, node: int = 0, size: int = 1, *, shared: bool = True,
                 capacity: int = 0, payload_max: int = 0, mode: int = 0, stall_ms: int = 0,
                 owner: Optional[int] = None) -> None:
        self._handle_value: Optional[int] = None
        call = "orbit_fleet_join_shm" if shared else "orbit_fleet_join"
        opts = _options(capacity, payload_max, mode, stall_ms, owner)
        handle = ctypes.c_void_p()
        check(getattr(lib, call)(c_string(name, call), node, size, ctypes.byref(opts),
                                 ctypes.byref(handle)), call, name)
        self._handle_value = handle_of(handle)
        self._rings: Dict[int, Ring] = {}
        self._children: "weakref.WeakSet[Any]" = weakref.WeakSet()

    @property
    def _joined(self) -> bool:
        return self._handle_value is not None

    def _check_joined(self) -> None:
        if self._handle_value is None:
            raise ValueError("the fleet has been left")

    @property
    def _handle(self) -> int:
        self._check_joined()
        assert self._handle_value is not None
        return self._handle_value

    @property
    def name(self) -> str:
        """The fleet's name."""
        return str(lib.orbit_fleet_name(self._handle).decode("utf-8"))

    @property
    def node(self) -> int:
        """This handle's node number."""
        return int(lib.orbit_fleet_node(self._handle))

    @property
    def size(self) -> int:
        """The number of nodes, 0 to size - 1."""
        return int(lib.orbit_fleet_size(self._handle))

    @property
    def shared(self) -> bool:
        """Whether the fleet lives in shared memory (not process-local)."""
        return bool(lib.orbit_fleet_is_shared(self._handle))

    def ring(self, kind: int) -> Ring:
        """The ring of kind (0 to 255), opened or created on first use."""
        ring = self._rings.get(kind)
        if ring is None:
            handle = ctypes.c_void_p()
            check(lib.orbit_fleet_ring(self._handle, kind, ctypes.byref(handle)),
                  "orbit_fleet_ring")
            ring = self._rings.setdefault(kind, Ring(self, handle_of(handle)))
        return ring

    def cache(self, kind: int = KIND_CACHE) -> Cache:
        """A new handle on the cache in the ring of kind."""
        cache = Cache(self, kind)
        self._children.add(cache)
        return cache

    def events(self, kind: int = KIND_EVENTS) -> Events:
        """A new handle on the event bus in the ring of kind."""
        events = Events(self, kind)
        self._children.add(events)
        return events

    def claim(self, kind: int, label: "str | bytes", owner: "str | bytes" = "",
              ttl_ms: int = 10000) -> Guard:
        """A lease on the subject (kind, label) for ttl_ms, or ClaimBusy (EBUSY, with
        .holder) when a valid lease holds it; owner is a free-form name published with
        the claim. Use the guard as a context manager to release it."""
        guard = ctypes.c_void_p()
        holder = ctypes.c_uint16()
        ret = lib.orbit_contest_claim(self._handle, kind, c_string(label, "orbit_contest_claim"),
                                      c_string(owner, "orbit_contest_claim"), ttl_ms,
                                      ctypes.byref(guard), ctypes.byref(holder))
        text = label if isinstance(label, str) else label.decode("utf-8", "replace")
        if ret == -errno.EBUSY:
            raise ClaimBusy(holder.value, text)
        check(ret, "orbit_contest_claim")
        claimed = Guard(self, handle_of(guard), text)
        self._children.add(claimed)
        return claimed

    def holder(self, kind: int, label: "str | bytes") -> Optional[int]:
        """The node holding the subject (kind, label), or None when nobody holds it."""
        node = ctypes.c_uint16()
        ret = lib.orbit_contest_holder(self._handle, kind,
                                       c_string(label, "orbit_contest_holder"),
                                       ctypes.byref(node))
        if ret == -errno.ENOENT:
            return None
        check(ret, "orbit_contest_holder")
        return node.value

    def heartbeat(self) -> None:
        """One beat of this node."""
        check(lib.orbit_heartbeat(self._handle), "orbit_heartbeat")

    def members(self, max_age_ms: int) -> List[Member]:
        """Every node 0..size-1: alive when its newest beat is at most max_age_ms old
        (and its processes are not all gone), stale when older, missing when none."""
        count = self.size
        members = (MemberStruct * count)()
        filled = check(lib.orbit_heartbeat_snapshot(self._handle, max_age_ms, members, count),
                       "orbit_heartbeat_snapshot")
        return [Member(m.node, MemberState(m.state), m.last_beat_ms) for m in members[:filled]]

    def store(self, kind: int, value: "bytes | str") -> None:
        """Stores a typed value (its bytes) in the ring of kind."""
        data = encode(value)
        check(lib.orbit_value_store(self._handle, kind, data, len(data)), "orbit_value_store")

    def load(self, kind: int, size: int) -> bytes:
        """The newest typed value of the ring of kind, which must be size bytes long
        (an Error with EMSGSIZE otherwise; FileNotFoundError when there is none)."""
        buf = buffer_of(size)
        check(lib.orbit_value_load(self._handle, kind, buf, size), "orbit_value_load")
        return bytes(buf.raw[:size])

    def unlink(self) -> int:
        """Removes the names of all this fleet's segments; returns the number of ring
        segments removed. Processes that have them mapped keep them."""
        return check(lib.orbit_fleet_unlink(self._handle), "orbit_fleet_unlink")

    def leave(self) -> None:
        """Closes what was opened through the fleet, then leaves it; leaving again does
        nothing. Shared memory is left as it is."""
        if self._handle_value is None:
            return
        for child in list(self._children):
            child._free()
        lib.orbit_fleet_leave(self._handle_value)
        self._handle_value = None
        self._rings.clear()

    close = leave

    def __enter__(self) -> "Fleet":
        return self

    def __exit__(self, *exc: object) -> None:
        self.leave()

    def __del__(self) -> None:
        if getattr(self, "_handle_value", None) is not None:
            self.leave()

    def __repr__(self) -> str:
        if self._handle_value is None:
            return "<liborbit.Fleet (left)>"
        where = "shm" if self.shared else "local"
        return f"<liborbit.Fleet {self.name!r} node {self.node}/{self.size} {where}>"
