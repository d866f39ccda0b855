#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""liborbit from Python through ctypes, as a Python user would load it: by SONAME.

Joins a shared-memory fleet, writes request frames and reads them back, then exchanges
frames with a C process (echo-peer) in the same fleet: it answers each request on the next
ring kind, and this program checks every answer.

Usage: ctypes-consumer.py ECHO_PEER   (exit status 0 when every check passed)
"""

import ctypes
import errno
import os
import subprocess
import sys
import time

SONAME = "liborbit.so.1"
NODE = 1
PEER_NODE = 2
FLEET_SIZE = 4
REQUEST_KIND = 40
REPLY_KIND = REQUEST_KIND + 1
REQUEST_FRAME = 1
CAPACITY = 64
COUNT = 16
# Generous: the test may share two cores with every other suite.
DEADLINE_S = 60.0


class FleetOptions(ctypes.Structure):
    _fields_ = [
        ("size", ctypes.c_size_t),
        ("capacity", ctypes.c_uint32),
        ("payload_max", ctypes.c_uint32),
        ("mode", ctypes.c_uint32),
        ("flags", ctypes.c_uint32),
    ]


class Frame(ctypes.Structure):
    _fields_ = [
        ("id", ctypes.c_uint64),
        ("ver", ctypes.c_uint64),
        ("len", ctypes.c_uint32),
        ("kind", ctypes.c_uint8),
    ]


class CheckFailed(Exception):
    pass


def check(ok, what):
    if not ok:
        raise CheckFailed(what)


def load():
    """The library by SONAME, with a signature for every call used here."""
    lib = ctypes.CDLL(SONAME)
    fleet_p = ctypes.c_void_p
    ring_p = ctypes.c_void_p
    u64_p = ctypes.POINTER(ctypes.c_uint64)
    signatures = {
        "orbit_version": (ctypes.c_char_p, []),
        "orbit_id_kind": (ctypes.c_uint8, [ctypes.c_uint64]),
        "orbit_id_node": (ctypes.c_uint16, [ctypes.c_uint64]),
        "orbit_id_counter": (ctypes.c_uint64, [ctypes.c_uint64]),
        "orbit_fleet_join_shm": (
            ctypes.c_int,
            [ctypes.c_char_p, ctypes.c_uint16, ctypes.c_uint16,
             ctypes.POINTER(FleetOptions), ctypes.POINTER(fleet_p)],
        ),
        "orbit_fleet_leave": (None, [fleet_p]),
        "orbit_fleet_unlink": (ctypes.c_int, [fleet_p]),
        "orbit_fleet_ring": (
            ctypes.c_int, [fleet_p, ctypes.c_uint8, ctypes.POINTER(ring_p)]),
        "orbit_fleet_probe": (
            ctypes.c_int,
            [ctypes.c_char_p, ctypes.c_uint8, ctypes.POINTER(FleetOptions)],
        ),
        "orbit_ring_write": (
            ctypes.c_int,
            [ring_p, ctypes.c_uint8, ctypes.c_uint64, ctypes.c_void_p,
             ctypes.c_size_t, u64_p],
        ),
        "orbit_ring_read_at": (
            ctypes.c_int,
            [ring_p, ctypes.c_uint64, ctypes.POINTER(Frame), ctypes.c_void_p,
             ctypes.c_size_t],
        ),
        "orbit_ring_next": (
            ctypes.c_int,
            [ring_p, u64_p, ctypes.POINTER(Frame), ctypes.c_void_p,
             ctypes.c_size_t, u64_p],
        ),
        "orbit_ring_wait": (
            ctypes.c_int, [ring_p, ctypes.c_uint64, ctypes.c_int]),
        "orbit_ring_head": (ctypes.c_uint64, [ring_p]),
        "orbit_ring_payload_max": (ctypes.c_uint32, [ring_p]),
    }
    for name, (restype, argtypes) in signatures.items():
        function = getattr(lib, name)
        function.restype = restype
        function.argtypes = argtypes
    return lib


def loaded_from():
    """Where the dynamic loader found the library, from this process's mappings."""
    with open("/proc/self/maps") as maps:
        for line in maps:
            path = line.split()[-1]
            if os.path.basename(path).startswith(SONAME):
                return path
    return "?"


def options(capacity=0):
    opts = FleetOptions()
    opts.size = ctypes.sizeof(FleetOptions)
    opts.capacity = capacity
    return opts


def join(lib, name):
    fleet = ctypes.c_void_p()
    opts = options(CAPACITY)
    ret = lib.orbit_fleet_join_shm(name, NODE, FLEET_SIZE, ctypes.byref(opts),
                                   ctypes.byref(fleet))
    check(ret == 0, f"orbit_fleet_join_shm: {ret}")
    return fleet


def ring_of(lib, fleet, kind):
    ring = ctypes.c_void_p()
    ret = lib.orbit_fleet_ring(fleet, kind, ctypes.byref(ring))
    check(ret == 0, f"orbit_fleet_ring({kind}): {ret}")
    return ring


def request_payload(seq):
    return f"request {seq} from python".encode()


def write_requests(lib, ring):
    """Writes the requests, each read back at the counter its id names."""
    buf = ctypes.create_string_buffer(lib.orbit_ring_payload_max(ring))
    for seq in range(COUNT):
        payload = request_payload(seq)
        frame_id = ctypes.c_uint64()
        ret = lib.orbit_ring_write(ring, REQUEST_FRAME, seq, payload, len(payload),
                                   ctypes.byref(frame_id))
        check(ret == 0, f"orbit_ring_write {seq}: {ret}")
        check(lib.orbit_id_kind(frame_id.value) == REQUEST_KIND, "id kind")
        check(lib.orbit_id_node(frame_id.value) == NODE, "id node")
        counter = lib.orbit_id_counter(frame_id.value)
        check(counter == seq, f"request {seq} at counter {counter}")

        frame = Frame()
        ret = lib.orbit_ring_read_at(ring, counter, ctypes.byref(frame), buf,
                                     ctypes.sizeof(buf))
        check(ret == 0, f"orbit_ring_read_at {counter}: {ret}")
        check(frame.id == frame_id.value and frame.ver == seq
              and frame.kind == REQUEST_FRAME, f"frame fields of request {seq}")
        check(buf.raw[:frame.len] == payload, f"payload of request {seq}")
    check(lib.orbit_ring_head(ring) == COUNT, "head after the requests")


def next_reply(lib, ring, cursor, frame, buf, peer, deadline):
    """0 with the next reply in frame and buf, sleeping in orbit_ring_wait until it comes."""
    lost = ctypes.c_uint64()
    while True:
        ret = lib.orbit_ring_next(ring, ctypes.byref(cursor), ctypes.byref(frame), buf,
                                  ctypes.sizeof(buf), ctypes.byref(lost))
        if ret != -errno.EAGAIN:
            check(lost.value == 0, f"{lost.value} replies lost")
            return ret
        check(peer.poll() in (None, 0), f"echo-peer exited with status {peer.returncode}")
        check(time.monotonic() < deadline, "no reply before the deadline")
        ret = lib.orbit_ring_wait(ring, cursor.value, 100)
        check(ret in (0, -errno.ETIMEDOUT), f"orbit_ring_wait: {ret}")


def read_replies(lib, ring, peer):
    buf = ctypes.create_string_buffer(lib.orbit_ring_payload_max(ring))
    deadline = time.monotonic() + DEADLINE_S
    cursor = ctypes.c_uint64(0)
    frame = Frame()
    for seq in range(COUNT):
        ret = next_reply(lib, ring, cursor, frame, buf, peer, deadline)
        check(ret == 0, f"orbit_ring_next: {ret}")
        check(lib.orbit_id_node(frame.id) == PEER_NODE, "reply written by the peer")
        check(frame.ver == seq and frame.kind == REQUEST_FRAME, f"fields of reply {seq}")
        check(buf.raw[:frame.len] == b"echo:" + request_payload(seq), f"reply {seq}")


def exchange(lib, peer_program, name):
    fleet = join(lib, name)
    try:
        requests = ring_of(lib, fleet, REQUEST_KIND)
        replies = ring_of(lib, fleet, REPLY_KIND)

        probed = options()
        ret = lib.orbit_fleet_probe(name, REQUEST_KIND, ctypes.byref(probed))
        check(ret == 0, f"orbit_fleet_probe: {ret}")
        check((probed.capacity, probed.payload_max, probed.mode) == (CAPACITY, 256, 0o600),
              "probed options")

        write_requests(lib, requests)
        with subprocess.Popen([peer_program, name.decode(), str(REQUEST_KIND),
                               str(PEER_NODE), str(NODE), str(COUNT)]) as peer:
            try:
                read_replies(lib, replies, peer)
                status = peer.wait(timeout=DEADLINE_S)
            finally:
                if peer.poll() is None:
                    peer.kill()
            check(status == 0, f"echo-peer exited with status {status}")
    finally:
        removed = lib.orbit_fleet_unlink(fleet)
        lib.orbit_fleet_leave(fleet)
    check(removed == 2, f"orbit_fleet_unlink removed {removed} segments")


def main():
    if len(sys.argv) != 2:
        print(f"usage: {sys.argv[0]} ECHO_PEER", file=sys.stderr)
        return 2
    lib = load()
    print(f"loaded {SONAME} from {loaded_from()}, version {lib.orbit_version().decode()}")
    try:
        check(ctypes.sizeof(Frame) == 24, "sizeof(orbit_frame_t)")
        check(ctypes.sizeof(FleetOptions) == ctypes.sizeof(ctypes.c_size_t) + 16,
              "sizeof(orbit_fleet_options_t)")
        exchange(lib, sys.argv[1], f"consumer-py-{os.getpid()}".encode())
    except CheckFailed as failure:
        print(f"FAIL: {failure}", file=sys.stderr)
        return 1
    print(f"ok: {COUNT} frames each way between Python and echo-peer")
    return 0


if __name__ == "__main__":
    sys.exit(main())
