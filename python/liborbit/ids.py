# SPDX-License-Identifier: MIT
"""NetId64: a 64-bit id [KIND:8][NODE:16][COUNTER:40], text form "kind:node:counter".

    >>> from liborbit import ids
    >>> ids.format(ids.make(12, 1, 7))
    '12:1:7'
"""

import ctypes

from ._native import c_string, lib
from .errors import check

# ORBIT_ID_STRLEN: the longest text form, "255:65535:1099511627775", and its NUL.
STRLEN = 24


def make(kind: int, node: int, counter: int) -> int:
    """The id of counter (truncated to 40 bits) in the ring of kind, written by node."""
    return int(lib.orbit_id_make(kind, node, counter))


def kind(id: int) -> int:
    """The ring kind of id."""
    return int(lib.orbit_id_kind(id))


def node(id: int) -> int:
    """The writer's node of id."""
    return int(lib.orbit_id_node(id))


def counter(id: int) -> int:
    """The ring counter of id (40 bits)."""
    return int(lib.orbit_id_counter(id))


def format(id: int) -> str:
    """The text form "kind:node:counter" of id."""
    buf = ctypes.create_string_buffer(STRLEN)
    length = check(lib.orbit_id_format(id, buf, STRLEN), "orbit_id_format")
    return buf.raw[:length].decode("ascii")


def parse(text: "str | bytes") -> int:
    """The id whose text form is text; liborbit.Error (EINVAL) when it is malformed,
    out of range or has trailing bytes."""
    value = ctypes.c_uint64()
    check(lib.orbit_id_parse(c_string(text, "orbit_id_parse"), ctypes.byref(value)),
          "orbit_id_parse")
    return value.value
