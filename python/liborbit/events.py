# SPDX-License-Identifier: MIT
"""An event bus over one ring of a fleet: topics and payloads, published and followed."""

import ctypes
import errno
from typing import TYPE_CHECKING, Any, NamedTuple, Optional, Tuple

from . import ids
from ._follow import Follower
from ._native import EventStruct, buffer_of, c_string, encode, handle_of, lib, timeout_ms
from .errors import check, error

if TYPE_CHECKING:
    from .fleet import Fleet


class Event(NamedTuple):
    """One event."""

    id: int
    """NetId64 of its frame: the publisher is ids.node(id)."""
    topic: str
    """The topic, decoded from UTF-8 (undecodable bytes as surrogate escapes)."""
    payload: bytes
    timestamp_ms: int
    """The publisher's Unix time in milliseconds."""

    @property
    def node(self) -> int:
        """The node that published the event."""
        return ids.node(self.id)


class Polled(NamedTuple):
    """What Events.poll returns: the event (None when no matching event is committed
    yet), the cursor to pass next time, and the events lost to lag on the way."""

    event: Optional[Event]
    cursor: int
    lagged: int


def _event(struct: EventStruct, buf: Any) -> Event:
    topic = ctypes.string_at(struct.topic, struct.topic_len).decode("utf-8", "surrogateescape")
    return Event(struct.id, topic, ctypes.string_at(buf, struct.len), struct.timestamp_ms)


def _topic(topic: "Optional[str | bytes]", call: str) -> Optional[bytes]:
    if topic is None:
        return None
    if isinstance(topic, str):
        topic = topic.encode("utf-8", "surrogateescape")
    return c_string(topic, call)


class Events:
    """Open it with Fleet.events(kind); close it (or leave the fleet) when done.

        bus.publish("job.done", b"token=3")
        for event in bus.follow(topic="job.done", timeout=5):
            print(event.topic, event.payload)

    Topics are 1 to 255 bytes (str as UTF-8). A cursor of a subscriber moves over the
    events of other topics too.
    """

    def __init__(self, fleet: "Fleet", kind: int) -> None:
        handle = ctypes.c_void_p()
        check(lib.orbit_events_open(fleet._handle, kind, ctypes.byref(handle)),
              "orbit_events_open")
        self._fleet = fleet
        self._handle_value: Optional[int] = handle_of(handle)
        # The payload of an event is smaller than its slot, so this buffer fits every
        # event of the ring; EMSGSIZE (a hostile frame's claim) retries at the size given.
        self._size = fleet.ring(kind).payload_max

    @property
    def _handle(self) -> int:
        if self._handle_value is None:
            raise ValueError("the event bus is closed")
        self._fleet._check_joined()
        return self._handle_value

    def publish(self, topic: "str | bytes", payload: "bytes | str" = b"") -> None:
        """Publishes one event (a str payload as UTF-8)."""
        data = encode(payload)
        check(lib.orbit_events_publish(self._handle, _topic(topic, "orbit_events_publish"),
                                       data, len(data)), "orbit_events_publish")

    @property
    def head(self) -> int:
        """The cursor that sees only later events."""
        return int(lib.orbit_events_head(self._handle))

    @property
    def oldest(self) -> int:
        """The cursor at the oldest event the ring retains."""
        return int(lib.orbit_events_oldest(self._handle))

    def poll(self, cursor: int, topic: "Optional[str | bytes]" = None) -> Polled:
        """The next event at or after cursor (of topic, or of any topic for None),
        without waiting: Polled(event, cursor after it, lagged), with event None when
        there is none yet (EAGAIN is not raised)."""
        position = ctypes.c_uint64(cursor)
        lagged = ctypes.c_uint64()
        struct = EventStruct()
        raw_topic = _topic(topic, "orbit_events_poll")
        size = self._size
        while True:
            buf = buffer_of(size)
            ret = lib.orbit_events_poll(self._handle, ctypes.byref(position), raw_topic,
                                        ctypes.byref(struct), buf, size, ctypes.byref(lagged))
            if ret == 0:
                return Polled(_event(struct, buf), position.value, lagged.value)
            if ret == -errno.EAGAIN:
                return Polled(None, position.value, lagged.value)
            if ret != -errno.EMSGSIZE:
                raise error(ret, "orbit_events_poll")
            size = struct.len

    def wait(self, cursor: int, timeout: Optional[float] = None) -> bool:
        """Sleeps until a poll at cursor has something to do: True, or False after
        timeout seconds (None: forever)."""
        ret = lib.orbit_events_wait(self._handle, cursor, timeout_ms(timeout))
        if ret == -errno.ETIMEDOUT:
            return False
        check(ret, "orbit_events_wait")
        return True

    def follow(self, cursor: Optional[int] = None, topic: "Optional[str | bytes]" = None,
               timeout: Optional[float] = None) -> "EventFollower":
        """Events of topic (None: all) from cursor (None: only events published from
        now on), blocking (``for``) or in asyncio (``async for``); see Follower.
        ``follower.cursor`` and ``follower.lagged`` tell where it is."""
        return EventFollower(self, self.head if cursor is None else cursor,
                             _topic(topic, "orbit_events_follow"), timeout)

    def fileno(self) -> int:
        """The bus's pollable descriptor (owned by the handle: never close it)."""
        return check(lib.orbit_events_fd(self._handle), "orbit_events_fd")

    def arm(self, cursor: int) -> None:
        """Clears the descriptor's readiness and arms it at cursor."""
        check(lib.orbit_events_arm(self._handle, cursor), "orbit_events_arm")

    def interrupt(self, on: bool = True) -> None:
        """While on, every wait and follow on this handle in this process, blocked or
        later, returns at once (a follower's iteration ends with interrupted True)."""
        check(lib.orbit_events_interrupt(self._handle, 1 if on else 0),
              "orbit_events_interrupt")

    def close(self) -> None:
        """Frees the handle; closing again does nothing. Published events stay."""
        if self._handle_value is not None:
            lib.orbit_events_close(self._handle_value)
            self._handle_value = None

    def __enter__(self) -> "Events":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    _free = close

    def __del__(self) -> None:
        self.close()


class EventFollower(Follower[Event]):
    """Events from a cursor on; see Follower. ``lagged`` counts events lost to lag."""

    _calls = ("orbit_events_follow", "orbit_events_poll", "orbit_events_arm")

    def __init__(self, events: Events, cursor: int, topic: Optional[bytes],
                 timeout: Optional[float]) -> None:
        super().__init__(cursor, timeout)
        self._events = events
        self._topic = topic
        self._size = events._size
        self._buf = buffer_of(self._size)
        self._struct = EventStruct()

    @property
    def lagged(self) -> int:
        """Events lost to lag since the follower began."""
        return self.skipped

    def _call(self, call: Any, *wait: int) -> Tuple[int, Optional[Event]]:
        position = ctypes.c_uint64(self.cursor)
        lagged = ctypes.c_uint64()
        ret = call(self._events._handle, ctypes.byref(position), self._topic,
                   ctypes.byref(self._struct), self._buf, self._size, ctypes.byref(lagged),
                   *wait)
        self.cursor = position.value
        self.skipped += lagged.value
        return ret, (_event(self._struct, self._buf) if ret == 0 else None)

    def _follow(self, wait_ms: int) -> Tuple[int, Optional[Event]]:
        return self._call(lib.orbit_events_follow, wait_ms)

    def _next(self) -> Tuple[int, Optional[Event]]:
        return self._call(lib.orbit_events_poll)

    def _grow(self) -> None:
        self._size = self._struct.len
        self._buf = buffer_of(self._size)

    def _fd(self) -> int:
        return self._events.fileno()

    def _arm(self) -> int:
        return int(lib.orbit_events_arm(self._events._handle, self.cursor))
