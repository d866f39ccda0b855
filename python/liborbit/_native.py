# SPDX-License-Identifier: MIT
"""The C library through ctypes: structs that mirror <orbit.h> and a declared
signature (restype and argtypes) for every call the package makes."""

import ctypes
import errno
from typing import Any, Dict, List, Optional, Tuple

from .errors import error

SONAME = "liborbit.so.1"


class FleetOptions(ctypes.Structure):
    """orbit_fleet_options_t. ORBIT_FLEET_OPTIONS_INIT is a macro, so whoever
    fills one sets size = ctypes.sizeof(FleetOptions) by hand."""

    _fields_ = [
        ("size", ctypes.c_size_t),
        ("capacity", ctypes.c_uint32),
        ("payload_max", ctypes.c_uint32),
        ("mode", ctypes.c_uint32),
        ("flags", ctypes.c_uint32),
        ("stall_ms", ctypes.c_uint32),
        ("owner", ctypes.c_uint32),
    ]


class FrameStruct(ctypes.Structure):
    """orbit_frame_t."""

    _fields_ = [
        ("id", ctypes.c_uint64),
        ("ver", ctypes.c_uint64),
        ("len", ctypes.c_uint32),
        ("kind", ctypes.c_uint8),
    ]


class MsgStruct(ctypes.Structure):
    """orbit_msg_t: one frame of a batch to write."""

    _fields_ = [
        ("payload", ctypes.c_void_p),
        ("len", ctypes.c_size_t),
        ("ver", ctypes.c_uint64),
        ("kind", ctypes.c_uint8),
    ]


class EventStruct(ctypes.Structure):
    """orbit_event_t."""

    _fields_ = [
        ("id", ctypes.c_uint64),
        ("timestamp_ms", ctypes.c_uint64),
        ("topic_len", ctypes.c_uint32),
        ("len", ctypes.c_uint32),
        ("topic", ctypes.c_char * 256),
    ]


class MemberStruct(ctypes.Structure):
    """orbit_member_t."""

    _fields_ = [
        ("node", ctypes.c_uint16),
        ("state", ctypes.c_uint8),
        ("last_beat_ms", ctypes.c_uint64),
    ]


_handle = ctypes.c_void_p
_handle_p = ctypes.POINTER(ctypes.c_void_p)
_u64_p = ctypes.POINTER(ctypes.c_uint64)
_u16_p = ctypes.POINTER(ctypes.c_uint16)
_size_p = ctypes.POINTER(ctypes.c_size_t)
_frame_p = ctypes.POINTER(FrameStruct)
_event_p = ctypes.POINTER(EventStruct)
_options_p = ctypes.POINTER(FleetOptions)
_c_int, _u8, _u16, _u32, _u64 = (ctypes.c_int, ctypes.c_uint8, ctypes.c_uint16,
                                  ctypes.c_uint32, ctypes.c_uint64)
_str, _buf, _size = ctypes.c_char_p, ctypes.c_void_p, ctypes.c_size_t

# name -> (restype, argtypes). A forgotten restype would make a 64-bit result an int
# and truncate it, so every call is listed, getters included.
SIGNATURES: Dict[str, Tuple[Any, List[Any]]] = {
    "orbit_version": (_str, []),
    "orbit_id_make": (_u64, [_u8, _u16, _u64]),
    "orbit_id_kind": (_u8, [_u64]),
    "orbit_id_node": (_u16, [_u64]),
    "orbit_id_counter": (_u64, [_u64]),
    "orbit_id_format": (_c_int, [_u64, ctypes.c_char_p, _size]),
    "orbit_id_parse": (_c_int, [_str, _u64_p]),
    "orbit_fleet_join": (_c_int, [_str, _u16, _u16, _options_p, _handle_p]),
    "orbit_fleet_join_shm": (_c_int, [_str, _u16, _u16, _options_p, _handle_p]),
    "orbit_fleet_leave": (None, [_handle]),
    "orbit_fleet_unlink": (_c_int, [_handle]),
    "orbit_fleet_name": (_str, [_handle]),
    "orbit_fleet_node": (_u16, [_handle]),
    "orbit_fleet_size": (_u16, [_handle]),
    "orbit_fleet_is_shared": (_c_int, [_handle]),
    "orbit_fleet_ring": (_c_int, [_handle, _u8, _handle_p]),
    "orbit_fleet_probe": (_c_int, [_str, _u8, _options_p]),
    "orbit_ring_write": (_c_int, [_handle, _u8, _u64, _buf, _size, _u64_p]),
    "orbit_ring_read": (_c_int, [_handle, _u64, _frame_p, _buf, _size]),
    "orbit_ring_read_head": (_c_int, [_handle, _frame_p, _buf, _size]),
    "orbit_ring_read_at": (_c_int, [_handle, _u64, _frame_p, _buf, _size]),
    "orbit_ring_next": (_c_int, [_handle, _u64_p, _frame_p, _buf, _size, _u64_p]),
    "orbit_ring_wait": (_c_int, [_handle, _u64, _c_int]),
    "orbit_ring_head": (_u64, [_handle]),
    "orbit_ring_kind": (_u8, [_handle]),
    "orbit_ring_capacity": (_u32, [_handle]),
    "orbit_ring_payload_max": (_u32, [_handle]),
    "orbit_ring_reset": (_c_int, [_handle]),
    "orbit_ring_fd": (_c_int, [_handle]),
    "orbit_ring_arm": (_c_int, [_handle, _u64]),
    "orbit_ring_follow": (_c_int, [_handle, _u64_p, _frame_p, _buf, _size, _u64_p, _c_int]),
    "orbit_ring_interrupt": (_c_int, [_handle, _c_int]),
    "orbit_ring_write_batch": (_c_int, [_handle, ctypes.POINTER(MsgStruct), _size, _u64_p]),
    "orbit_ring_next_batch": (_c_int, [_handle, _u64_p, _frame_p, _buf, _size, _size, _u64_p]),
    "orbit_value_store": (_c_int, [_handle, _u8, _buf, _size]),
    "orbit_value_load": (_c_int, [_handle, _u8, _buf, _size]),
    "orbit_cache_open": (_c_int, [_handle, _u8, _handle_p]),
    "orbit_cache_close": (None, [_handle]),
    "orbit_cache_put": (_c_int, [_handle, _buf, _size, _buf, _size, _u64]),
    "orbit_cache_get": (_c_int, [_handle, _buf, _size, _buf, _size, _size_p]),
    "orbit_cache_delete": (_c_int, [_handle, _buf, _size]),
    "orbit_cache_reset": (_c_int, [_handle, _buf, _size]),
    "orbit_events_open": (_c_int, [_handle, _u8, _handle_p]),
    "orbit_events_close": (None, [_handle]),
    "orbit_events_publish": (_c_int, [_handle, _str, _buf, _size]),
    "orbit_events_head": (_u64, [_handle]),
    "orbit_events_oldest": (_u64, [_handle]),
    "orbit_events_poll": (_c_int, [_handle, _u64_p, _str, _event_p, _buf, _size, _u64_p]),
    "orbit_events_wait": (_c_int, [_handle, _u64, _c_int]),
    "orbit_events_fd": (_c_int, [_handle]),
    "orbit_events_arm": (_c_int, [_handle, _u64]),
    "orbit_events_follow": (_c_int,
                            [_handle, _u64_p, _str, _event_p, _buf, _size, _u64_p, _c_int]),
    "orbit_events_interrupt": (_c_int, [_handle, _c_int]),
    "orbit_contest_claim": (_c_int, [_handle, _u8, _str, _str, _u64, _handle_p, _u16_p]),
    "orbit_contest_holder": (_c_int, [_handle, _u8, _str, _u16_p]),
    "orbit_guard_renew": (_c_int, [_handle, _u64]),
    "orbit_guard_token": (_u64, [_handle]),
    "orbit_guard_release": (_c_int, [_handle]),
    "orbit_heartbeat": (_c_int, [_handle]),
    "orbit_heartbeat_snapshot": (_c_int, [_handle, _u64, ctypes.POINTER(MemberStruct), _size]),
}


class _Missing:
    """Stands in for a call the loaded library does not export (an older liborbit1):
    calling it returns -ENOSYS, which the caller raises as any other error, instead of
    the import failing."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __call__(self, *args: Any) -> int:
        return -errno.ENOSYS


class Library:
    """The loaded liborbit.so.1, one attribute per call in SIGNATURES."""

    def __init__(self, soname: str = SONAME) -> None:
        self.cdll = ctypes.CDLL(soname)
        for name, (restype, argtypes) in SIGNATURES.items():
            try:
                function = getattr(self.cdll, name)
            except AttributeError:
                setattr(self, name, _Missing(name))
                continue
            function.restype = restype
            function.argtypes = argtypes
            setattr(self, name, function)

    def __getattr__(self, name: str) -> Any:
        raise AttributeError(f"{name}: not a liborbit call this package declares")


lib = Library()


def handle_of(pointer: ctypes.c_void_p) -> int:
    """The address a successful call stored in an out-handle (never NULL then)."""
    assert pointer.value is not None
    return pointer.value


def buffer_of(size: int) -> Any:
    """A writable buffer of at least one byte (so its address is never NULL)."""
    return ctypes.create_string_buffer(max(size, 1))


def encode(data: "bytes | bytearray | memoryview | str") -> bytes:
    """A payload, key, topic or label as the C calls take it: str as UTF-8, any
    bytes-like object as its bytes."""
    if isinstance(data, str):
        return data.encode("utf-8")
    return bytes(data)


def c_string(text: "bytes | str", call: str) -> bytes:
    """text as a NUL-terminated C string argument of call: a NUL inside would cut it
    short without the C side knowing, so it is refused as the C call refuses a
    malformed argument, with EINVAL."""
    raw = encode(text)
    if b"\0" in raw:
        raise error(-errno.EINVAL, call + " (NUL inside a string)")
    return raw


def timeout_ms(timeout: Optional[float]) -> int:
    """Seconds (None = forever) as the C calls' milliseconds (-1 = forever)."""
    if timeout is None:
        return -1
    if timeout <= 0:
        return 0
    return min(int(timeout * 1000 + 0.999), 2**31 - 1)
