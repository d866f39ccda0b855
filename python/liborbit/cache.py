# SPDX-License-Identifier: MIT
"""A key/value cache over one ring of a fleet, mapping-like."""

import ctypes
import errno
from typing import TYPE_CHECKING, Optional, TypeVar, Union

from ._native import buffer_of, encode, handle_of, lib
from .errors import check, error

if TYPE_CHECKING:
    from .fleet import Fleet

Key = Union[bytes, bytearray, memoryview, str]
D = TypeVar("D")


class Cache:
    """Keys and values are bytes; str keys and values are stored as UTF-8, and values
    always come back as bytes.

        cache["load"] = "42"
        cache.put(b"session", b"...", ttl_ms=5000)
        cache["load"]             # b"42"; KeyError on a miss
        cache.get("gone", None)   # None on a miss
        del cache["load"]
        cache.reset("sess")       # every key starting with "sess"

    Open it with Fleet.cache(kind); close it (or leave the fleet) when done. A cache
    holds what its ring holds: at most capacity entries, and 13 + len(key) +
    len(value) must fit the ring's payload_max. A handle may be shared by threads.
    """

    def __init__(self, fleet: "Fleet", kind: int) -> None:
        handle = ctypes.c_void_p()
        check(lib.orbit_cache_open(fleet._handle, kind, ctypes.byref(handle)),
              "orbit_cache_open")
        self._fleet = fleet
        self._handle_value: Optional[int] = handle_of(handle)
        # Values fit a slot with their 13-byte header, so this buffer almost always
        # does; a larger one (another process's bigger ring, say) is retried at its size.
        self._size = fleet.ring(kind).payload_max

    @property
    def _handle(self) -> int:
        if self._handle_value is None:
            raise ValueError("the cache is closed")
        self._fleet._check_joined()
        return self._handle_value

    def __getitem__(self, key: Key) -> bytes:
        """The value of key; KeyError on a miss (never put, deleted, reset, expired or
        overwritten)."""
        raw = encode(key)
        size = self._size
        length = ctypes.c_size_t()
        while True:
            buf = buffer_of(size)
            ret = lib.orbit_cache_get(self._handle, raw, len(raw), buf, size,
                                      ctypes.byref(length))
            if ret == 0:
                return ctypes.string_at(buf, length.value)
            if ret == -errno.ENOENT:
                raise KeyError(key)
            if ret != -errno.EMSGSIZE:
                raise error(ret, "orbit_cache_get")
            size = length.value

    def get(self, key: Key, default: Optional[D] = None) -> Union[bytes, D, None]:
        """The value of key, or default on a miss."""
        try:
            return self[key]
        except KeyError:
            return default

    def __contains__(self, key: object) -> bool:
        if not isinstance(key, (bytes, bytearray, memoryview, str)):
            return False
        return self.get(key) is not None

    def put(self, key: Key, value: Key, ttl_ms: int = 0) -> None:
        """Stores value under key, expiring after ttl_ms milliseconds (0: never)."""
        raw_key, raw_value = encode(key), encode(value)
        check(lib.orbit_cache_put(self._handle, raw_key, len(raw_key), raw_value,
                                  len(raw_value), ttl_ms), "orbit_cache_put")

    def __setitem__(self, key: Key, value: Key) -> None:
        """put(key, value) without expiry."""
        self.put(key, value)

    def __delitem__(self, key: Key) -> None:
        """Deletes key. Unlike a dict, a key that is not there raises nothing: the
        delete is a frame written whatever the cache holds (checking first would race
        with the other processes)."""
        raw = encode(key)
        check(lib.orbit_cache_delete(self._handle, raw, len(raw)), "orbit_cache_delete")

    def reset(self, prefix: Key = b"") -> None:
        """Deletes every key starting with prefix (all keys for an empty prefix)."""
        raw = encode(prefix)
        check(lib.orbit_cache_reset(self._handle, raw, len(raw)), "orbit_cache_reset")

    def close(self) -> None:
        """Frees the handle; closing again does nothing. The cache's frames stay."""
        if self._handle_value is not None:
            lib.orbit_cache_close(self._handle_value)
            self._handle_value = None

    def __enter__(self) -> "Cache":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    _free = close

    def __del__(self) -> None:
        self.close()
