# SPDX-License-Identifier: MIT
"""The installed liborbit module as a Python user meets it: a shared fleet, a frame written
and read back, the cache, the contest, and frames exchanged with a C process (echo-peer)
that it follows as they come. Prints where the module and the library came from.

Usage: python3 python-smoke.py ECHO_PEER   (exit status 0 when every check passed)
"""

import os
import subprocess
import sys

import liborbit

REQUEST_KIND = 40
COUNT = 4


def loaded_library() -> str:
    with open("/proc/self/maps") as maps:
        for line in maps:
            path = line.split()[-1]
            if os.path.basename(path).startswith(liborbit.SONAME):
                return os.path.realpath(path)
    return "?"


def main() -> int:
    name = f"python-smoke-{os.getpid()}"
    with liborbit.Fleet(name, node=1, size=4, capacity=64) as fleet:
        try:
            ring = fleet.ring(12)
            frame_id = ring.write(b"hello", frame_kind=1, ver=7)
            assert ring.read(frame_id).payload == b"hello"
            cache = fleet.cache()
            cache["key"] = "value"
            assert cache["key"] == b"value" and cache.get("missing") is None
            with fleet.claim(1, "smoke", "python-smoke", ttl_ms=10000) as guard:
                assert guard.token > 0 and fleet.holder(1, "smoke") == 1

            requests = fleet.ring(REQUEST_KIND)
            replies = fleet.ring(REQUEST_KIND + 1)
            for seq in range(COUNT):
                requests.write(b"request %d" % seq, frame_kind=1, ver=seq)
            with subprocess.Popen([sys.argv[1], name, str(REQUEST_KIND), "2", "1",
                                   str(COUNT)]) as peer:
                got = [(f.ver, f.payload) for _, f in zip(range(COUNT),
                                                          replies.follow(0, timeout=60))]
                assert peer.wait(60) == 0
            assert got == [(seq, b"echo:request %d" % seq) for seq in range(COUNT)], got
        finally:
            fleet.unlink()
    print(f"module {liborbit.__file__}")
    print(f"library {loaded_library()}")
    print(f"ok: liborbit {liborbit.version()} from Python, {COUNT} frames each way with echo-peer")
    return 0


if __name__ == "__main__":
    sys.exit(main())
