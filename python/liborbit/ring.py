# SPDX-License-Identifier: MIT
"""Rings: bounded sequences of frames, one per kind of a fleet."""

import ctypes
import errno
from typing import TYPE_CHECKING, Any, Iterable, List, NamedTuple, Optional, Tuple

from . import ids
from ._follow import Follower
from ._native import FrameStruct, MsgStruct, buffer_of, encode, lib, timeout_ms
from .errors import check, error

if TYPE_CHECKING:
    from .fleet import Fleet


class Frame(NamedTuple):
    """One frame of a ring."""

    id: int
    """NetId64: the ring's kind, the writer's node and the frame's counter."""
    kind: int
    """The frame (message-class) kind the writer chose; not the ring's kind."""
    ver: int
    """The writer's version, tick or time."""
    payload: bytes

    @property
    def node(self) -> int:
        """The node that wrote the frame."""
        return ids.node(self.id)

    @property
    def counter(self) -> int:
        """The frame's position in the ring."""
        return ids.counter(self.id)


class Batch(NamedTuple):
    """What Ring.next_batch returns: the frames (empty when nothing newer is
    committed), the cursor to pass next time, and the frames lost on the way."""

    frames: List[Frame]
    cursor: int
    lost: int


class Next(NamedTuple):
    """What Ring.next returns: the frame (None when nothing newer is committed), the
    cursor to pass next time, and the frames skipped (lost to wraparound or to dead
    writers) on the way."""

    frame: Optional[Frame]
    cursor: int
    lost: int


def _frame(struct: FrameStruct, buf: Any) -> Frame:
    return Frame(struct.id, struct.kind, struct.ver, ctypes.string_at(buf, struct.len))


class Ring:
    """The fleet's ring of one kind; get it with Fleet.ring(kind). It stays valid until
    its fleet leaves. Every method may be called from any thread."""

    def __init__(self, fleet: "Fleet", handle: int) -> None:
        self._fleet = fleet
        self._handle_value = handle
        self._kind = int(lib.orbit_ring_kind(handle))

    @property
    def _handle(self) -> int:
        self._fleet._check_joined()
        return self._handle_value

    @property
    def kind(self) -> int:
        """The ring's kind, 0 to 255."""
        return self._kind

    @property
    def capacity(self) -> int:
        """Slots: the ring keeps its last capacity frames."""
        return int(lib.orbit_ring_capacity(self._handle))

    @property
    def payload_max(self) -> int:
        """The largest payload a frame may carry."""
        return int(lib.orbit_ring_payload_max(self._handle))

    @property
    def head(self) -> int:
        """Counters taken so far: the cursor that sees only later frames."""
        return int(lib.orbit_ring_head(self._handle))

    def write(self, payload: "bytes | str" = b"", *, frame_kind: int = 0, ver: int = 0) -> int:
        """Writes one frame (str payloads as UTF-8) and returns its id."""
        data = encode(payload)
        frame_id = ctypes.c_uint64()
        check(lib.orbit_ring_write(self._handle, frame_kind, ver, data, len(data),
                                   ctypes.byref(frame_id)), "orbit_ring_write")
        return frame_id.value

    def write_batch(self, payloads: "Iterable[bytes | str]", *, frame_kind: int = 0,
                    ver: int = 0) -> Tuple[int, int]:
        """Writes the payloads as consecutive frames with one claim (at most capacity of
        them) and returns (frames written, id of the first). All are checked first: an
        invalid one raises and writes nothing."""
        data = [encode(payload) for payload in payloads]
        msgs = (MsgStruct * max(len(data), 1))()
        for msg, payload in zip(msgs, data):
            msg.payload = ctypes.cast(ctypes.c_char_p(payload), ctypes.c_void_p)
            msg.len, msg.ver, msg.kind = len(payload), ver, frame_kind
        first = ctypes.c_uint64()
        written = check(lib.orbit_ring_write_batch(self._handle, msgs, len(data),
                                                   ctypes.byref(first)),
                        "orbit_ring_write_batch")
        return written, first.value

    def next_batch(self, cursor: int, count: int = 64) -> Batch:
        """Up to count committed frames from cursor, without waiting, as next() would
        return them one by one: Batch(frames, cursor after them, frames lost); frames is
        empty when there is nothing newer (EAGAIN is not raised)."""
        position = ctypes.c_uint64(cursor)
        lost = ctypes.c_uint64()
        stride = self.payload_max
        structs = (FrameStruct * max(count, 1))()
        bufs = buffer_of(stride * count)
        ret = lib.orbit_ring_next_batch(self._handle, ctypes.byref(position), structs, bufs,
                                        stride, count, ctypes.byref(lost))
        if ret == -errno.EAGAIN:
            return Batch([], position.value, lost.value)
        check(ret, "orbit_ring_next_batch")
        base = ctypes.addressof(bufs)
        frames = [Frame(s.id, s.kind, s.ver, ctypes.string_at(base + i * stride, s.len))
                  for i, s in enumerate(structs[:ret])]
        return Batch(frames, position.value, lost.value)

    def _read(self, call: str, *args: Any) -> Frame:
        struct = FrameStruct()
        size = self.payload_max
        while True:
            buf = buffer_of(size)
            ret = getattr(lib, call)(self._handle, *args, ctypes.byref(struct), buf, size)
            if ret != -errno.EMSGSIZE:
                check(ret, call)
                return _frame(struct, buf)
            size = struct.len

    def read(self, id: int) -> Frame:
        """The frame of id. FileNotFoundError (ENOENT): never written, overwritten, or
        an id of another kind; BlockingIOError (EAGAIN): being written."""
        return self._read("orbit_ring_read", id)

    def read_head(self) -> Frame:
        """The newest committed frame; errors as read."""
        return self._read("orbit_ring_read_head")

    def read_at(self, counter: int) -> Frame:
        """The frame at counter; errors as read."""
        return self._read("orbit_ring_read_at", counter)

    def next(self, cursor: int) -> Next:
        """The first committed frame at or after cursor, without waiting: Next(frame,
        cursor after it, frames lost), or Next(None, cursor, lost) when there is none
        yet (EAGAIN is not raised)."""
        position = ctypes.c_uint64(cursor)
        lost = ctypes.c_uint64()
        struct = FrameStruct()
        size = self.payload_max
        while True:
            buf = buffer_of(size)
            ret = lib.orbit_ring_next(self._handle, ctypes.byref(position), ctypes.byref(struct),
                                      buf, size, ctypes.byref(lost))
            if ret == 0:
                return Next(_frame(struct, buf), position.value, lost.value)
            if ret == -errno.EAGAIN:
                return Next(None, position.value, lost.value)
            if ret != -errno.EMSGSIZE:
                raise error(ret, "orbit_ring_next")
            size = struct.len

    def wait(self, cursor: int, timeout: Optional[float] = None) -> bool:
        """Sleeps until the head passes cursor: True, or False after timeout seconds
        (None: forever). InterruptedError (EINTR) on a signal."""
        ret = lib.orbit_ring_wait(self._handle, cursor, timeout_ms(timeout))
        if ret == -errno.ETIMEDOUT:
            return False
        check(ret, "orbit_ring_wait")
        return True

    def follow(self, cursor: int = 0, timeout: Optional[float] = None) -> "RingFollower":
        """Frames from cursor on, blocking (``for``) or in asyncio (``async for``); see
        Follower. ``follower.cursor`` and ``follower.lost`` tell where it is."""
        return RingFollower(self, cursor, timeout)

    def fileno(self) -> int:
        """The ring's pollable descriptor (owned by the ring: never close it). It polls
        readable once armed (arm) and a frame is at the armed cursor."""
        return check(lib.orbit_ring_fd(self._handle), "orbit_ring_fd")

    def arm(self, cursor: int) -> None:
        """Clears the descriptor's readiness and arms it at cursor."""
        check(lib.orbit_ring_arm(self._handle, cursor), "orbit_ring_arm")

    def interrupt(self, on: bool = True) -> None:
        """While on, every wait and follow on this ring in this process, blocked or
        later, returns at once (a follower's iteration ends with interrupted True)."""
        check(lib.orbit_ring_interrupt(self._handle, 1 if on else 0), "orbit_ring_interrupt")

    def reset(self) -> None:
        """Clears the ring (the owner's boot-time clear: nothing, in any process, may
        use the ring meanwhile)."""
        check(lib.orbit_ring_reset(self._handle), "orbit_ring_reset")

    def __repr__(self) -> str:
        return f"<liborbit.Ring kind={self._kind} of {self._fleet!r}>"


class RingFollower(Follower[Frame]):
    """Frames of a ring from a cursor on; see Follower. ``lost`` counts frames skipped."""

    _calls = ("orbit_ring_follow", "orbit_ring_next", "orbit_ring_arm")

    def __init__(self, ring: Ring, cursor: int, timeout: Optional[float]) -> None:
        super().__init__(cursor, timeout)
        self._ring = ring
        self._size = ring.payload_max
        self._buf = buffer_of(self._size)
        self._struct = FrameStruct()

    @property
    def lost(self) -> int:
        """Frames lost to wraparound or to dead writers since the follower began."""
        return self.skipped

    def _call(self, call: Any, *wait: int) -> Tuple[int, Optional[Frame]]:
        position = ctypes.c_uint64(self.cursor)
        lost = ctypes.c_uint64()
        ret = call(self._ring._handle, ctypes.byref(position), ctypes.byref(self._struct),
                   self._buf, self._size, ctypes.byref(lost), *wait)
        self.cursor = position.value
        self.skipped += lost.value
        return ret, (_frame(self._struct, self._buf) if ret == 0 else None)

    def _follow(self, wait_ms: int) -> Tuple[int, Optional[Frame]]:
        return self._call(lib.orbit_ring_follow, wait_ms)

    def _next(self) -> Tuple[int, Optional[Frame]]:
        return self._call(lib.orbit_ring_next)

    def _grow(self) -> None:
        self._size = self._struct.len
        self._buf = buffer_of(self._size)

    def _fd(self) -> int:
        return self._ring.fileno()

    def _arm(self) -> int:
        return int(lib.orbit_ring_arm(self._ring._handle, self.cursor))
