#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The liborbit Python package against the library it finds (the build tree's, through
LD_LIBRARY_PATH and PYTHONPATH set by meson, or the installed one).

Usage: test_liborbit.py ECHO_PEER [unittest arguments]
ECHO_PEER is tests/consumers/echo-peer: the C process that answers each frame on ring K
with "echo:" and its payload on ring K + 1.
"""

import asyncio
import ctypes
import errno
import os
import signal
import subprocess
import sys
import threading
import time
import unittest
from typing import List, Optional

import liborbit
from liborbit import ids
from liborbit._native import EventStruct, FleetOptions, FrameStruct, MemberStruct

ECHO_PEER = ""
# Generous: the suites may share two cores with every other test.
DEADLINE_S = 60.0
_names = 0


def fleet_name() -> str:
    """A fleet name of this process that no other test uses."""
    global _names
    _names += 1
    return f"py-{os.getpid()}-{_names}"


class FleetTest(unittest.TestCase):
    """A fresh shared fleet per test, node 1 of 4, unlinked and left afterwards."""

    capacity = 64

    def setUp(self) -> None:
        self.name = fleet_name()
        self.fleet = liborbit.Fleet(self.name, node=1, size=4, capacity=self.capacity)
        self.addCleanup(self._remove)

    def _remove(self) -> None:
        if self.fleet._joined:
            self.fleet.unlink()
            self.fleet.leave()


class TestStructs(unittest.TestCase):
    def test_sizes_match_the_header(self) -> None:
        pointer = ctypes.sizeof(ctypes.c_size_t)
        self.assertEqual(ctypes.sizeof(FrameStruct), 24)
        self.assertEqual(ctypes.sizeof(EventStruct), 280)
        self.assertEqual(ctypes.sizeof(MemberStruct), 16)
        self.assertEqual(ctypes.sizeof(FleetOptions), pointer + 24)
        self.assertEqual(FleetOptions.owner.offset, pointer + 20)

    def test_version(self) -> None:
        self.assertEqual(liborbit.version(), liborbit.__version__)


class TestIds(unittest.TestCase):
    def test_fields_round_trip_without_truncation(self) -> None:
        value = ids.make(255, 65535, 2**40 - 1)
        self.assertEqual(value, 2**64 - 1)
        self.assertEqual((ids.kind(value), ids.node(value), ids.counter(value)),
                         (255, 65535, 2**40 - 1))
        self.assertEqual(ids.format(value), "255:65535:1099511627775")
        self.assertEqual(len(ids.format(value)) + 1, ids.STRLEN)
        self.assertEqual(ids.parse("255:65535:1099511627775"), value)
        self.assertEqual(ids.parse(b"12:1:7"), ids.make(12, 1, 7))
        self.assertEqual(ids.counter(ids.make(1, 2, 2**40 + 5)), 5)

    def test_malformed_text_is_einval(self) -> None:
        for text in ["", "1:2", "1:2:3:4", "256:0:0", "01:2:3", "1:2:3 ", "1:2:3\0"]:
            with self.subTest(text=text), self.assertRaises(liborbit.Error) as caught:
                ids.parse(text)
            self.assertEqual(caught.exception.errno, errno.EINVAL)


class TestErrors(FleetTest):
    def test_bad_fleet_name_is_einval(self) -> None:
        for name in ["bad/name", "", ".dot", "x" * 201, "nul\0inside"]:
            with self.subTest(name=name), self.assertRaises(OSError) as caught:
                liborbit.Fleet(name)
            self.assertEqual(caught.exception.errno, errno.EINVAL)
            self.assertIsInstance(caught.exception, liborbit.Error)

    def test_never_written_is_file_not_found(self) -> None:
        ring = self.fleet.ring(12)
        with self.assertRaises(FileNotFoundError) as caught:
            ring.read_at(5)
        self.assertIsInstance(caught.exception, liborbit.Error)
        self.assertEqual(caught.exception.errno, errno.ENOENT)
        self.assertIn("orbit_ring_read_at", str(caught.exception))

    def test_payload_over_payload_max_is_emsgsize(self) -> None:
        ring = self.fleet.ring(12)
        with self.assertRaises(liborbit.Error) as caught:
            ring.write(b"x" * (ring.payload_max + 1))
        self.assertEqual(caught.exception.errno, errno.EMSGSIZE)
        self.assertEqual(ring.head, 0)

    def test_options_that_differ_from_the_segment_are_refused(self) -> None:
        self.fleet.ring(12)
        with liborbit.Fleet(self.name, node=2, size=4, capacity=128) as other:
            with self.assertRaises(liborbit.Error) as caught:
                other.ring(12)
            self.assertEqual(caught.exception.errno, errno.EPROTO)

    def test_owner_flag_reaches_the_library(self) -> None:
        # Our own uid as owner: joining the fleet of the user we are.
        with liborbit.Fleet(self.name, node=2, size=4, capacity=self.capacity,
                            owner=os.geteuid()) as same:
            same.ring(12).write(b"from the owner join")
        self.assertEqual(self.fleet.ring(12).read_at(0).payload, b"from the owner join")


class TestFleet(FleetTest):
    def test_properties(self) -> None:
        self.assertEqual(self.fleet.name, self.name)
        self.assertEqual((self.fleet.node, self.fleet.size), (1, 4))
        self.assertTrue(self.fleet.shared)

    def test_process_local_fleet(self) -> None:
        with liborbit.Fleet("local", node=0, size=2, shared=False, capacity=8) as local:
            self.assertFalse(local.shared)
            ring = local.ring(3)
            self.assertEqual(ring.capacity, 8)
            ring.write(b"local")
            self.assertEqual(ring.read_head().payload, b"local")
        with self.assertRaises(FileNotFoundError):
            liborbit.probe("local", 3)

    def test_leave_invalidates_rings_and_substrates(self) -> None:
        ring = self.fleet.ring(12)
        cache = self.fleet.cache()
        self.fleet.unlink()
        self.fleet.leave()
        self.fleet.leave()
        with self.assertRaises(ValueError):
            ring.write(b"after leave")
        with self.assertRaises(ValueError):
            cache["key"]

    def test_unlink_counts_ring_segments(self) -> None:
        for kind in (1, 2, 3):
            self.fleet.ring(kind)
        self.assertEqual(self.fleet.unlink(), 3)
        self.assertEqual(self.fleet.unlink(), 0)

    def test_probe_and_layout_2(self) -> None:
        with liborbit.Fleet(self.name + "-l2", node=0, size=2, capacity=16, payload_max=1000,
                            mode=0o640) as wide:
            try:
                ring = wide.ring(9)
                self.assertEqual((ring.capacity, ring.payload_max, ring.kind), (16, 1000, 9))
                payload = bytes(range(256)) * 3
                ring.write(payload, frame_kind=2, ver=7)
                frame = ring.read_head()
                self.assertEqual((frame.payload, frame.kind, frame.ver), (payload, 2, 7))
                options = liborbit.probe(self.name + "-l2", 9)
                self.assertEqual((options.capacity, options.payload_max, options.mode),
                                 (16, 1000, 0o640))
            finally:
                wide.unlink()

    def test_typed_values(self) -> None:
        self.fleet.store(30, b"\x01\x02\x03\x04")
        self.assertEqual(self.fleet.load(30, 4), b"\x01\x02\x03\x04")
        with self.assertRaises(liborbit.Error) as caught:
            self.fleet.load(30, 8)
        self.assertEqual(caught.exception.errno, errno.EMSGSIZE)
        with self.assertRaises(FileNotFoundError):
            self.fleet.load(31, 4)


class TestRing(FleetTest):
    capacity = 8

    def test_write_and_read_every_way(self) -> None:
        ring = self.fleet.ring(12)
        self.assertEqual((ring.kind, ring.capacity, ring.payload_max, ring.head), (12, 8, 256, 0))
        first = ring.write(b"one", frame_kind=1, ver=10)
        second = ring.write("two", frame_kind=2, ver=2**64 - 1)
        self.assertEqual((ids.kind(second), ids.node(second), ids.counter(second)), (12, 1, 1))
        self.assertEqual(ring.read(first), liborbit.Frame(first, 1, 10, b"one"))
        self.assertEqual(ring.read_at(1).ver, 2**64 - 1)
        head = ring.read_head()
        self.assertEqual((head.payload, head.node, head.counter), (b"two", 1, 1))
        self.assertEqual(ring.head, 2)

    def test_next_never_raises_on_nothing_new(self) -> None:
        ring = self.fleet.ring(12)
        self.assertEqual(ring.next(0), liborbit.Next(None, 0, 0))
        ring.write(b"a")
        frame, cursor, lost = ring.next(0)
        self.assertEqual((frame.payload if frame else None, cursor, lost), (b"a", 1, 0))
        self.assertEqual(ring.next(cursor), liborbit.Next(None, 1, 0))

    def test_batches_write_and_read_many_frames_per_call(self) -> None:
        ring = self.fleet.ring(12)
        self.assertEqual(ring.next_batch(0), liborbit.Batch([], 0, 0))
        written, first = ring.write_batch([b"a", "b", b""], frame_kind=4, ver=9)
        self.assertEqual((written, ids.counter(first), ids.node(first)), (3, 0, 1))
        frames, cursor, lost = ring.next_batch(0, count=2)
        self.assertEqual([f.payload for f in frames], [b"a", b"b"])
        self.assertEqual((frames[1].kind, frames[1].ver, frames[1].counter), (4, 9, 1))
        self.assertEqual((cursor, lost), (2, 0))
        frames, cursor, lost = ring.next_batch(cursor)
        self.assertEqual(([f.payload for f in frames], cursor, lost), ([b""], 3, 0))
        # One lap at most, all checked before anything is written.
        self.assertEqual(ring.write_batch([b"x"] * 20)[0], ring.capacity)
        with self.assertRaises(OSError) as raised:
            ring.write_batch([b"ok", b"y" * 300])
        self.assertEqual(raised.exception.errno, errno.EMSGSIZE)
        self.assertEqual(ring.head, 3 + ring.capacity)
        frames, cursor, lost = ring.next_batch(0, count=100)
        self.assertEqual((len(frames), cursor, lost), (ring.capacity, 3 + ring.capacity, 3))

    def test_wraparound_is_counted_lost(self) -> None:
        ring = self.fleet.ring(12)
        for seq in range(20):
            ring.write(b"%d" % seq, ver=seq)
        frame, cursor, lost = ring.next(0)
        assert frame is not None
        self.assertEqual((frame.ver, frame.payload, cursor, lost), (12, b"12", 13, 12))
        with self.assertRaises(FileNotFoundError):
            ring.read_at(3)

    def test_wait_times_out_and_wakes(self) -> None:
        ring = self.fleet.ring(12)
        self.assertFalse(ring.wait(0, timeout=0.01))
        ring.write(b"x")
        self.assertTrue(ring.wait(0, timeout=0))


class TestCache(FleetTest):
    def test_mapping(self) -> None:
        cache = self.fleet.cache()
        cache["load"] = "42"
        cache[b"bin\xff"] = b"\x00\x01"
        self.assertEqual(cache["load"], b"42")
        self.assertEqual(cache[b"load"], b"42")
        self.assertEqual(cache["bin\udcff".encode("utf-8", "surrogateescape")], b"\x00\x01")
        self.assertIn("load", cache)
        self.assertNotIn("missing", cache)
        with self.assertRaises(KeyError):
            cache["missing"]
        self.assertEqual(cache.get("missing", b"default"), b"default")
        self.assertIsNone(cache.get("missing"))
        del cache["load"]
        with self.assertRaises(KeyError):
            cache["load"]
        del cache["never there"]

    def test_other_handle_sees_puts_and_reset(self) -> None:
        writer = self.fleet.cache()
        with liborbit.Fleet(self.name, node=2, size=4, capacity=self.capacity) as other:
            reader = other.cache()
            writer.put("session.1", "a")
            writer.put("session.2", "b")
            writer.put("keep", "c")
            self.assertEqual(reader["session.2"], b"b")
            writer.reset("session.")
            self.assertIsNone(reader.get("session.1"))
            self.assertEqual(reader["keep"], b"c")
            writer.reset()
            self.assertIsNone(reader.get("keep"))

    def test_ttl_expires(self) -> None:
        cache = self.fleet.cache()
        cache.put("brief", "v", ttl_ms=20)
        cache.put("long", "v", ttl_ms=60000)
        deadline = time.monotonic() + DEADLINE_S
        # Expiry is a matter of the clock, not of another process: poll for it.
        while cache.get("brief") is not None and time.monotonic() < deadline:
            time.sleep(0.01)
        self.assertIsNone(cache.get("brief"))
        self.assertEqual(cache["long"], b"v")

    def test_too_large_is_emsgsize(self) -> None:
        cache = self.fleet.cache()
        with self.assertRaises(liborbit.Error) as caught:
            cache["k"] = b"v" * 243
        self.assertEqual(caught.exception.errno, errno.EMSGSIZE)
        cache["k"] = b"v" * 242
        self.assertEqual(len(cache["k"]), 242)


class TestEvents(FleetTest):
    def test_publish_poll_with_topics(self) -> None:
        bus = self.fleet.events()
        self.assertEqual((bus.head, bus.oldest), (0, 0))
        self.assertEqual(bus.poll(0), liborbit.Polled(None, 0, 0))
        bus.publish("job.done", b"token=1")
        bus.publish(b"load.high", "100%")
        bus.publish("job.done", b"token=2")
        event, cursor, lagged = bus.poll(0, topic="job.done")
        assert event is not None
        self.assertEqual((event.topic, event.payload, event.node, cursor, lagged),
                         ("job.done", b"token=1", 1, 1, 0))
        event, cursor, _ = bus.poll(cursor, topic="job.done")
        assert event is not None
        self.assertEqual((event.payload, cursor), (b"token=2", 3))
        self.assertGreater(event.timestamp_ms, 1_600_000_000_000)
        self.assertEqual(bus.head, 3)

    def test_bad_topic_is_einval(self) -> None:
        bus = self.fleet.events()
        for topic in ["", "t" * 256]:
            with self.subTest(length=len(topic)), self.assertRaises(liborbit.Error) as caught:
                bus.publish(topic, b"")
            self.assertEqual(caught.exception.errno, errno.EINVAL)


class TestContest(FleetTest):
    def test_claim_busy_release(self) -> None:
        with self.fleet.claim(1, "nightly", "py", ttl_ms=60000) as guard:
            first = guard.token
            self.assertEqual(self.fleet.holder(1, "nightly"), 1)
            with liborbit.Fleet(self.name, node=3, size=4, capacity=self.capacity) as other:
                with self.assertRaises(liborbit.ClaimBusy) as caught:
                    other.claim(1, "nightly", "other", ttl_ms=1000)
                self.assertEqual(caught.exception.holder, 1)
                self.assertEqual(caught.exception.errno, errno.EBUSY)
                self.assertIsInstance(caught.exception, OSError)
            guard.renew(60000)
        self.assertIsNone(self.fleet.holder(1, "nightly"))
        with self.fleet.claim(1, "nightly", ttl_ms=1000) as again:
            self.assertGreater(again.token, first)
        guard.release()

    def test_zero_ttl_is_einval(self) -> None:
        with self.assertRaises(liborbit.Error) as caught:
            self.fleet.claim(1, "job", ttl_ms=0)
        self.assertEqual(caught.exception.errno, errno.EINVAL)


class TestHeartbeat(FleetTest):
    def test_members(self) -> None:
        self.fleet.heartbeat()
        members = self.fleet.members(60000)
        self.assertEqual([m.node for m in members], [0, 1, 2, 3])
        self.assertEqual([m.state for m in members],
                         [liborbit.MemberState.MISSING, liborbit.MemberState.ALIVE,
                          liborbit.MemberState.MISSING, liborbit.MemberState.MISSING])
        self.assertGreater(members[1].last_beat_ms, 1_600_000_000_000)
        self.assertEqual(members[0].last_beat_ms, 0)


REQUEST_KIND = 40
COUNT = 16


def request(seq: int) -> bytes:
    return f"request {seq} from python".encode()


class TestWithCPeer(FleetTest):
    """Frames both ways between this process and echo-peer, a C process of the fleet."""

    def start_peer(self) -> subprocess.Popen:  # type: ignore[type-arg]
        self.requests = self.fleet.ring(REQUEST_KIND)
        self.replies = self.fleet.ring(REQUEST_KIND + 1)
        peer = subprocess.Popen([ECHO_PEER, self.name, str(REQUEST_KIND), "2", "1", str(COUNT)])
        self.addCleanup(self._stop, peer)
        return peer

    def _stop(self, peer: subprocess.Popen) -> None:  # type: ignore[type-arg]
        if peer.poll() is None:
            peer.kill()
        peer.wait()

    def check_reply(self, frame: Optional[liborbit.Frame], seq: int) -> None:
        self.assertIsNotNone(frame, f"no reply {seq}")
        assert frame is not None
        self.assertEqual((frame.node, frame.kind, frame.ver, frame.payload),
                         (2, 1, seq, b"echo:" + request(seq)))

    def test_exchange_with_next_and_wait(self) -> None:
        peer = self.start_peer()
        for seq in range(COUNT):
            self.requests.write(request(seq), frame_kind=1, ver=seq)
        cursor = 0
        deadline = time.monotonic() + DEADLINE_S
        for seq in range(COUNT):
            while True:
                frame, cursor, lost = self.replies.next(cursor)
                self.assertEqual(lost, 0)
                if frame is not None:
                    break
                self.assertIsNone(peer.poll(), "echo-peer exited early")
                self.assertLess(time.monotonic(), deadline)
                self.replies.wait(cursor, timeout=0.1)
            self.check_reply(frame, seq)
        self.assertEqual(peer.wait(DEADLINE_S), 0)

    def test_follow_wakes_on_each_c_write(self) -> None:
        peer = self.start_peer()
        follower = self.replies.follow(0, timeout=DEADLINE_S)
        for seq in range(COUNT):
            # One request at a time: the follower is asleep when the answer comes.
            self.requests.write(request(seq), frame_kind=1, ver=seq)
            self.check_reply(next(follower, None), seq)
        self.assertEqual((follower.cursor, follower.lost), (COUNT, 0))
        self.assertEqual(peer.wait(DEADLINE_S), 0)

    def test_async_for_wakes_through_the_descriptor(self) -> None:
        peer = self.start_peer()

        async def exchange() -> List[liborbit.Frame]:
            frames: List[liborbit.Frame] = []
            self.requests.write(request(0), frame_kind=1, ver=0)
            async for frame in self.replies.follow(0, timeout=DEADLINE_S):
                frames.append(frame)
                if len(frames) == COUNT:
                    break
                self.requests.write(request(len(frames)), frame_kind=1, ver=len(frames))
            return frames

        frames = asyncio.run(exchange())
        self.assertEqual(len(frames), COUNT)
        for seq, frame in enumerate(frames):
            self.check_reply(frame, seq)
        self.assertEqual(peer.wait(DEADLINE_S), 0)


class TestFollow(FleetTest):
    def test_timeout_ends_iteration(self) -> None:
        ring = self.fleet.ring(12)
        ring.write(b"before")
        start = time.monotonic()
        follower = ring.follow(ring.head, timeout=0.2)
        self.assertEqual(list(follower), [])
        self.assertGreaterEqual(time.monotonic() - start, 0.19)
        self.assertEqual(follower.cursor, 1)
        self.assertFalse(follower.interrupted)
        ring.write(b"after")
        self.assertEqual([f.payload for f in follower], [b"after"])

    def test_no_wait_drains_without_raising(self) -> None:
        ring = self.fleet.ring(12)
        self.assertEqual(list(ring.follow(0, timeout=0)), [])
        for seq in range(5):
            ring.write(b"", ver=seq)
        self.assertEqual([f.ver for f in ring.follow(2, timeout=0)], [2, 3, 4])

    def test_interrupt_from_another_thread(self) -> None:
        ring = self.fleet.ring(12)
        follower = ring.follow(0)
        started = threading.Event()
        got: List[liborbit.Frame] = []

        def follow() -> None:
            started.set()
            got.extend(follower)

        thread = threading.Thread(target=follow)
        thread.start()
        started.wait()
        # Sticky: whether the thread is asleep in the call yet or not, it returns.
        ring.interrupt()
        thread.join(DEADLINE_S)
        self.assertFalse(thread.is_alive())
        self.assertTrue(follower.interrupted)
        self.assertEqual(got, [])
        with self.assertRaises(liborbit.Error) as caught:
            ring.wait(ring.head, timeout=DEADLINE_S)
        self.assertEqual(caught.exception.errno, errno.ECANCELED)
        ring.interrupt(False)
        ring.write(b"later")
        self.assertEqual(next(ring.follow(0, timeout=DEADLINE_S)).payload, b"later")

    def test_signal_reaches_python_during_follow(self) -> None:
        ring = self.fleet.ring(12)

        class Stop(Exception):
            pass

        fired: List[int] = []

        def handler(signum: int, frame: object) -> None:
            if not fired:
                fired.append(signum)
                raise Stop

        previous = signal.signal(signal.SIGUSR1, handler)
        self.addCleanup(signal.signal, signal.SIGUSR1, previous)
        done = threading.Event()
        main = threading.get_ident()

        def poke() -> None:
            # Repeated: a signal that lands just before the call starts sleeping would
            # otherwise leave it asleep. The handler raises for the first one only.
            while not done.wait(0.05):
                signal.pthread_kill(main, signal.SIGUSR1)

        poker = threading.Thread(target=poke)
        poker.start()
        try:
            with self.assertRaises(Stop):
                for _ in ring.follow(0, timeout=DEADLINE_S):
                    pass
        finally:
            done.set()
            poker.join()

    def test_async_timeout_ends_iteration(self) -> None:
        ring = self.fleet.ring(12)

        async def follow() -> List[liborbit.Frame]:
            return [frame async for frame in ring.follow(0, timeout=0.1)]

        start = time.monotonic()
        self.assertEqual(asyncio.run(follow()), [])
        self.assertGreaterEqual(time.monotonic() - start, 0.09)


class TestEventFollow(FleetTest):
    def test_blocking_with_topic_filter(self) -> None:
        bus = self.fleet.events()
        follower = bus.follow(topic="wanted", timeout=DEADLINE_S)
        publisher = liborbit.Fleet(self.name, node=2, size=4, capacity=self.capacity)
        self.addCleanup(publisher.leave)
        other_bus = publisher.events()

        def publish() -> None:
            other_bus.publish("other", b"skip")
            other_bus.publish("wanted", b"take")

        thread = threading.Thread(target=publish)
        thread.start()
        event = next(follower)
        thread.join()
        self.assertEqual((event.topic, event.payload, event.node), ("wanted", b"take", 2))
        self.assertEqual((follower.cursor, follower.lagged), (2, 0))

    def test_async_for(self) -> None:
        bus = self.fleet.events()

        async def follow() -> List[liborbit.Event]:
            loop = asyncio.get_running_loop()
            loop.call_later(0.02, bus.publish, "tick", b"1")
            loop.call_later(0.04, bus.publish, "tock", b"x")
            loop.call_later(0.06, bus.publish, "tick", b"2")
            events = []
            async for event in bus.follow(0, topic="tick", timeout=DEADLINE_S):
                events.append(event)
                if len(events) == 2:
                    break
            return events

        events = asyncio.run(follow())
        self.assertEqual([e.payload for e in events], [b"1", b"2"])

    def test_interrupt(self) -> None:
        bus = self.fleet.events()
        bus.interrupt()
        follower = bus.follow(timeout=DEADLINE_S)
        self.assertEqual(list(follower), [])
        self.assertTrue(follower.interrupted)
        bus.interrupt(False)
        bus.publish("t", b"p")
        self.assertEqual([e.payload for e in bus.follow(0, timeout=0)], [b"p"])


EXAMPLE = os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, os.pardir,
                       "examples", "asyncio-follower.py")


class TestExample(FleetTest):
    def test_asyncio_follower_prints_frames(self) -> None:
        ring = self.fleet.ring(12)
        for seq in range(3):
            ring.write(b"old %d" % seq, frame_kind=1, ver=seq)
        # From counter 2: one frame already there, two written while it follows.
        with subprocess.Popen([sys.executable, EXAMPLE, self.name, "12", "--size", "4",
                               "--from", "2", "--count", "3", "--idle", str(DEADLINE_S)],
                              stdout=subprocess.PIPE, text=True) as example:
            ring.write(b"new 3", frame_kind=1, ver=3)
            ring.write(b"new 4", frame_kind=1, ver=4)
            out, _ = example.communicate(timeout=DEADLINE_S)
        self.assertEqual(example.returncode, 0)
        self.assertEqual(out.splitlines(), [
            "12:1:2 kind=1 ver=2 len=5 b'old 2'",
            "12:1:3 kind=1 ver=3 len=5 b'new 3'",
            "12:1:4 kind=1 ver=4 len=5 b'new 4'",
        ])


if __name__ == "__main__":
    if len(sys.argv) < 2:
        print(f"usage: {sys.argv[0]} ECHO_PEER [unittest arguments]", file=sys.stderr)
        sys.exit(2)
    ECHO_PEER = sys.argv.pop(1)
    unittest.main(verbosity=2)
