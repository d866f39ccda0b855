#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The orbit command-line tool, run as a user runs it, on fleets tool-fixture makes.

Every command is pointed at a fleet the test created and its output is parsed (JSON
where the command has it, the text form too), then compared with what was written.
Bad arguments, missing fleets and live fleets must fail with a message and the
documented exit status. Every test removes the segments of its fleets.

Usage: test-tool.py ORBIT TOOL_FIXTURE   (unittest's summary; exit status 0 when all pass)
"""

import json
import os
import pwd
import queue
import re
import signal
import struct
import subprocess
import sys
import threading
import time
import unittest

ORBIT = None
FIXTURE = None
SHM = "/dev/shm"
UID = os.geteuid()
# Generous bounds: the suite may share two cores with every other test.
RUN_TIMEOUT_S = 120
FOLLOW_TIMEOUT_MS = 60000
EXIT_ERROR = 1
EXIT_USAGE = 2

COMMANDS = ["ls", "stat", "dump", "tail", "events", "cache", "members", "holder", "publish",
            "write", "rm", "demo", "bench"]


def segment_names(fleet):
    """Names in /dev/shm of the fleet's ring segments: orbit-{fleet}-{kind}-{uid}."""
    pattern = re.compile(r"orbit-%s-(\d+)-%d\Z" % (re.escape(fleet), UID))
    return sorted(n for n in os.listdir(SHM) if pattern.match(n))


def table_names(fleet):
    """Names in /dev/shm of the fleet's lease table: orbit-{fleet}-leases|subjects-{uid}."""
    pattern = re.compile(r"orbit-%s-(leases|subjects|bells)-%d\Z" % (re.escape(fleet), UID))
    return sorted(n for n in os.listdir(SHM) if pattern.match(n))


def segment_kinds(fleet):
    return sorted(int(re.match(r".*-(\d+)-\d+\Z", n).group(1)) for n in segment_names(fleet))


def json_bytes(text):
    """The bytes a JSON string of the tool stands for: UTF-8, other bytes as U+DC80..DCFF."""
    return text.encode("utf-8", "surrogateescape")


def unescape(text):
    """Inverts the tool's escaped text: \\\\, \\n, \\r, \\t and \\xNN."""
    out = bytearray()
    i = 0
    while i < len(text):
        c = text[i]
        if c != "\\":
            out += c.encode("ascii")
            i += 1
            continue
        e = text[i + 1]
        if e == "x":
            out.append(int(text[i + 2:i + 4], 16))
            i += 4
        else:
            out += {"\\": b"\\", "n": b"\n", "r": b"\r", "t": b"\t"}[e]
            i += 2
    return bytes(out)


class LineReader:
    """Reads a child's stdout lines on a thread, so a test can wait for one with a timeout."""

    def __init__(self, proc):
        self.lines = queue.Queue()
        self.thread = threading.Thread(target=self._pump, args=(proc.stdout,), daemon=True)
        self.thread.start()

    def _pump(self, stream):
        for line in stream:
            self.lines.put(line)
        self.lines.put(None)

    def get(self, timeout):
        try:
            return self.lines.get(timeout=timeout)
        except queue.Empty:
            return None

    def rest(self):
        self.thread.join(RUN_TIMEOUT_S)
        out = []
        while not self.lines.empty():
            line = self.lines.get()
            if line is not None:
                out.append(line)
        return out


class ToolTest(unittest.TestCase):
    serial = 0

    def setUp(self):
        ToolTest.serial += 1
        self.fleet = "tooltest-%d-%d" % (os.getpid(), ToolTest.serial)
        self.fleets = [self.fleet]
        self.children = []

    def tearDown(self):
        for proc in self.children:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
        for fleet in self.fleets:
            for name in segment_names(fleet) + table_names(fleet):
                os.unlink(os.path.join(SHM, name))

    def run_tool(self, *args, status=0):
        proc = subprocess.run([ORBIT, *args], capture_output=True, timeout=RUN_TIMEOUT_S)
        if status is not None:
            self.assertEqual(proc.returncode, status,
                             "orbit %s: %r" % (" ".join(map(str, args)), proc.stderr))
        return proc.stdout.decode(), proc.stderr.decode()

    def tool_json(self, *args):
        out, _ = self.run_tool(*args)
        return json.loads(out)

    def tool_json_lines(self, *args):
        out, _ = self.run_tool(*args)
        return [json.loads(line) for line in out.splitlines()]

    def fixture(self, *args):
        subprocess.run([FIXTURE, *map(str, args)], check=True, timeout=RUN_TIMEOUT_S)

    def held_fixture(self, *args):
        """Runs the fixture and keeps its process, whose node is then alive, until tearDown."""
        proc = subprocess.Popen([FIXTURE, "--hold", *map(str, args)], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, text=True)
        self.children.append(proc)
        self.assertEqual(proc.stdout.readline(), "held\n")
        return proc

    def spawn(self, program, *args):
        proc = subprocess.Popen([program, *map(str, args)], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        self.children.append(proc)
        return proc

    def write_frames(self, kind, count, capacity=None, payload_max=None):
        opts = []
        if capacity:
            opts += ["--capacity", capacity]
        if payload_max:
            opts += ["--payload-max", payload_max]
        self.fixture(*opts, "write", self.fleet, kind, count)

    def assert_usage_error(self, *args, message):
        out, err = self.run_tool(*args, status=EXIT_USAGE)
        self.assertEqual(out, "")
        self.assertTrue(err.startswith("orbit: "), err)
        self.assertIn(message, err)
        self.assertIn("--help", err)


class GeneralTest(ToolTest):
    def test_help_lists_every_command(self):
        out, _ = self.run_tool("--help")
        table = out.split("Commands:\n")[1].split("\n\n")[0]
        listed = [line.split()[0] for line in table.splitlines()]
        self.assertEqual(listed, COMMANDS)

    def test_every_command_has_help(self):
        for command in COMMANDS:
            out, err = self.run_tool(command, "--help")
            self.assertTrue(out.startswith("Usage: orbit " + command), command)
            self.assertEqual(err, "")

    def test_version(self):
        out, _ = self.run_tool("--version")
        self.assertRegex(out, r"\Aorbit \d+\.\d+\.\d+ \(liborbit \d+\.\d+\.\d+\)\n\Z")
        self.assertEqual(self.run_tool("-V")[0], out)

    def test_help_command(self):
        self.assertEqual(self.run_tool("help")[0], self.run_tool("--help")[0])
        for command in COMMANDS:
            self.assertEqual(self.run_tool("help", command)[0],
                             self.run_tool(command, "--help")[0])
        _, err = self.run_tool("help", "frobnicate", status=EXIT_USAGE)
        self.assertIn("unknown command 'frobnicate'", err)

    def test_no_command_and_unknown_command(self):
        _, err = self.run_tool(status=EXIT_USAGE)
        self.assertIn("Usage: orbit", err)
        out, err = self.run_tool("frobnicate", status=EXIT_USAGE)
        self.assertEqual(out, "")
        self.assertIn("orbit: unknown command 'frobnicate'", err)

    def test_bad_arguments(self):
        f = self.fleet
        cases = [
            (["ls", "a", "b"], "too many arguments"),
            (["ls", ".hidden"], "is not a fleet name"),
            (["ls", "--bogus"], "unknown option --bogus"),
            (["stat", f], "wants FLEET and KIND"),
            (["stat", f, "256"], "a kind is a number from 0 to 255"),
            (["stat", f, "x"], "a kind is a number from 0 to 255"),
            (["dump", f, "7", "--from", "-1"], "--from wants a number"),
            (["dump", f, "7", "-q"], "unknown option -q"),
            (["tail", f, "7", "--count"], "option --count needs a value"),
            (["tail", f, "7", "--count", "1x"], "--count wants a number"),
            (["tail", f, "7", "--timeout-ms", " 5"], "--timeout-ms wants a number"),
            (["events", f, ""], "a topic is 1 to 255 bytes"),
            (["events", f, "t", "extra"], "wants FLEET and an optional TOPIC"),
            (["cache", f, "frob", "k"], "'frob' is not get, put or del"),
            (["cache", f, "put", "k"], "put wants KEY and VALUE"),
            (["cache", f, "get", "k", "v"], "wants only KEY after get or del"),
            (["cache", f, "put", "", "v"], "a key is at least 1 byte"),
            (["cache", "--ttl-ms", "5", f, "get", "k"], "--ttl-ms is for put"),
            (["cache", "--node", "65535", f, "put", "k", "v"], "--node wants a number"),
            (["members", f, "--size", "0"], "--size is at least 1"),
            (["members", f, "--size", "65536"], "--size wants a number"),
            (["holder", f, "9"], "wants FLEET, SUBJECT_KIND and LABEL"),
            (["holder", f, "9", ""], "a label is 1 to 255 bytes"),
            (["rm"], "wants FLEET"),
            (["rm", f, "--window-ms", "soon"], "--window-ms wants a number"),
        ]
        for args, message in cases:
            with self.subTest(args=args):
                self.assert_usage_error(*args, message=message)
        self.assertEqual(segment_names(f), [])

    def test_missing_fleet(self):
        f = self.fleet
        for args in (["ls", f], ["stat", f, "7"], ["dump", f, "7"],
                     ["tail", f, "7", "--timeout-ms", "100"], ["events", f, "--no-follow"],
                     ["cache", f, "get", "k"], ["cache", f, "del", "k"], ["members", f],
                     ["holder", f, "1", "job"], ["rm", f]):
            with self.subTest(args=args):
                out, err = self.run_tool(*args, status=EXIT_ERROR)
                self.assertEqual(out, "")
                self.assertEqual(err, "orbit: no fleet %s\n" % f)
        # Looking is not creating.
        self.assertEqual(segment_names(f), [])


class RingTest(ToolTest):
    def test_ls(self):
        self.write_frames(7, 12, capacity=8)
        self.write_frames(9, 3, capacity=16, payload_max=100)
        self.fixture("--node", 2, "beat", self.fleet)
        # A fleet name with '-' and digits: names are split from the right.
        other = self.fleet + "-5-3"
        self.fleets.append(other)
        self.fixture("--capacity", 2, "write", other, 5, 1)

        rows = self.tool_json("ls", "--json", self.fleet)
        self.assertEqual([(r["fleet"], r["kind"]) for r in rows],
                         [(self.fleet, 7), (self.fleet, 9), (self.fleet, 221)])
        by_kind = {r["kind"]: r for r in rows}
        expect = {
            7: dict(layout=1, capacity=8, payload_max=256, head=12, oldest=4,
                    bytes=128 + 8 * 320),
            9: dict(layout=2, capacity=16, payload_max=100, head=3, oldest=0,
                    bytes=64 + 16 * 192),
            221: dict(layout=1, capacity=1024, payload_max=256, head=1, oldest=0,
                      bytes=128 + 1024 * 320),
        }
        for kind, fields in expect.items():
            row = by_kind[kind]
            for key, value in fields.items():
                self.assertEqual(row[key], value, (kind, key))
            st = os.stat(os.path.join(SHM, "orbit-%s-%d-%d" % (self.fleet, kind, UID)))
            self.assertEqual(row["bytes"], st.st_size)
            self.assertEqual(row["uid"], UID)
            self.assertEqual(row["mode"], "0600")
            # Rings of one fleet with three geometries: which would a new ring take?
            self.assertEqual(row["status"], "mixed")
            self.assertIn("disagree", row["error"])
        # Only heartbeat (and events, contest) frames carry their write time.
        self.assertIsNone(by_kind[7]["last_write_age_ms"])
        self.assertIsNone(by_kind[9]["last_write_age_ms"])
        self.assertLess(abs(by_kind[221]["last_write_age_ms"]), 600000)

        everything = self.tool_json("ls", "--json")
        mine = [(r["fleet"], r["kind"]) for r in everything if r["fleet"] in self.fleets]
        self.assertEqual(mine, sorted(mine))
        self.assertIn((other, 5), mine)
        self.assertEqual(len(mine), 4)

        out, _ = self.run_tool("ls", self.fleet)
        lines = out.splitlines()
        self.assertEqual(lines[0].split(), ["FLEET", "KIND", "LAYOUT", "CAPACITY", "PAYLOAD",
                                            "HEAD", "BYTES", "OWNER", "MODE", "LAST-WRITE",
                                            "STATUS"])
        cells = [line.split() for line in lines[1:]]
        self.assertEqual([c[:7] for c in cells], [
            [self.fleet, "7", "1", "8", "256", "12", "2688"],
            [self.fleet, "9", "2", "16", "100", "3", "3136"],
            [self.fleet, "221", "1", "1024", "256", "1", "327808"]])
        self.assertEqual([c[8:] for c in cells[:2]], [["0600", "-", "mixed"]] * 2)
        (row,) = self.tool_json("ls", "--json", other)
        self.assertEqual((row["status"], row["error"]), ("ok", None))

    def test_ls_reports_unreadable_segments(self):
        self.write_frames(7, 1, capacity=8)
        path = os.path.join(SHM, "orbit-%s-%d-%d" % (self.fleet, 3, UID))
        with open(path, "wb") as f:
            f.write(b"\xab" * 4096)
        os.chmod(path, 0o600)
        zeros = os.path.join(SHM, "orbit-%s-%d-%d" % (self.fleet, 4, UID))
        with open(zeros, "wb") as f:
            f.write(bytes(4096))
        os.chmod(zeros, 0o600)
        self.write_frames(8, 1, capacity=8)
        os.chmod(os.path.join(SHM, "orbit-%s-%d-%d" % (self.fleet, 8, UID)), 0o666)

        rows = self.tool_json("ls", "--json", self.fleet)
        status = {r["kind"]: r["status"] for r in rows}
        self.assertEqual(status, {3: "bad-header", 4: "creating", 7: "ok", 8: "bad-mode"})
        for row in rows:
            if row["kind"] in (3, 4, 8):
                self.assertIsNone(row["head"])
                self.assertIsInstance(row["error"], str)
        self.assertEqual([r["bytes"] for r in rows], [4096, 4096, 2688, 2688])
        # ls reads only: the segment being created is left for its creator to format.
        with open(zeros, "rb") as f:
            self.assertEqual(f.read(), bytes(4096))
        _, err = self.run_tool("stat", self.fleet, "3", status=EXIT_ERROR)
        self.assertIn("not a liborbit ring of this kind", err)
        # The error names the file, its owner and mode, for the operator to look at.
        self.assertIn("  %s: owner %s (uid %d), mode 0600, 4096 bytes\n" %
                      (path, pwd.getpwuid(UID).pw_name, UID), err)

    def test_stat(self):
        self.write_frames(7, 12, capacity=8)
        info = self.tool_json("stat", "--json", self.fleet, "7")
        self.assertEqual((info["fleet"], info["kind"], info["layout"], info["capacity"],
                          info["payload_max"], info["head"], info["oldest"], info["bytes"],
                          info["uid"], info["mode"]),
                         (self.fleet, 7, 1, 8, 256, 12, 4, 2688, UID, "0600"))
        out, _ = self.run_tool("stat", self.fleet, "7")
        fields = dict(line.split(None, 1) for line in out.splitlines())
        self.assertEqual(fields["layout"], "1")
        self.assertEqual(fields["head"], "12")
        self.assertEqual(fields["oldest"], "4")
        self.assertEqual(fields["bytes"], "2688")
        self.assertEqual(fields["last_write"], "-")
        _, err = self.run_tool("stat", self.fleet, "8", status=EXIT_ERROR)
        self.assertEqual(err, "orbit: fleet %s has no ring of kind 8\n" % self.fleet)
        self.assertEqual(segment_kinds(self.fleet), [7])

    def test_dump(self):
        self.write_frames(7, 12, capacity=8)
        frames = self.tool_json_lines("dump", "--json", self.fleet, "7")
        self.assertEqual([f["counter"] for f in frames], list(range(4, 12)))
        for f in frames:
            n = f["counter"]
            self.assertEqual(f, {"id": "7:0:%d" % n, "node": 0, "counter": n, "kind": 1,
                                 "ver": n, "len": len("frame %d" % n),
                                 "payload": "frame %d" % n})

        lines = self.tool_json_lines("dump", "--json", "--hex", "--from", "1", self.fleet, "7")
        self.assertEqual(lines[0], {"lost": 3, "first": 1, "last": 3, "reason": "overwritten"})
        self.assertEqual([bytes.fromhex(f["payload"]) for f in lines[1:]],
                         [b"frame %d" % n for n in range(4, 12)])

        out, _ = self.run_tool("dump", "--from", "0", self.fleet, "7")
        lines = out.splitlines()
        self.assertEqual(lines[0], "-- 4 frames lost (counters 0..3, overwritten) --")
        for n, line in zip(range(4, 12), lines[1:]):
            self.assertEqual(line, "7:0:%d kind=1 ver=%d len=%d frame %d" %
                             (n, n, len("frame %d" % n), n))
        self.assertEqual(len(lines), 9)
        self.assertEqual(self.tool_json_lines("dump", "--json", "--from", "12", self.fleet,
                                              "7"), [])

    def test_dump_shows_bytes_exactly(self):
        key, value = b"k\\1", b'say "hi"\n\t\xff\x01\xc3\xa9'
        self.run_tool("cache", "--create", "--node", "6", self.fleet, "put", key, value)
        expect = struct.pack("<BHHQ", 1, len(key), len(value), 0) + key + value
        (frame,) = self.tool_json_lines("dump", "--json", self.fleet, "200")
        self.assertEqual(frame["id"], "200:6:0")
        self.assertEqual((frame["kind"], frame["ver"], frame["len"]), (1, 0, len(expect)))
        self.assertEqual(json_bytes(frame["payload"]), expect)
        (frame,) = self.tool_json_lines("dump", "--json", "--hex", self.fleet, "200")
        self.assertEqual(bytes.fromhex(frame["payload"]), expect)
        out, _ = self.run_tool("dump", self.fleet, "200")
        self.assertTrue(out.startswith("200:6:0 kind=1 ver=0 len=%d " % len(expect)))
        self.assertEqual(unescape(out.split(" ", 4)[4][:-1]), expect)


class FollowTest(ToolTest):
    def wait_for_line(self, reader, prod, deadline_s=60):
        """Calls prod() until the child prints a line; returns the line."""
        end = time.monotonic() + deadline_s
        while time.monotonic() < end:
            prod()
            line = reader.get(timeout=0.2)
            if line is not None:
                return line
        self.fail("no output from the follower")

    def test_tail_follows_new_frames(self):
        self.write_frames(7, 1, capacity=4)
        tail = self.spawn(ORBIT, "tail", "--json", "--count", 3, "--timeout-ms",
                          FOLLOW_TIMEOUT_MS, self.fleet, 7)
        writer = self.spawn(FIXTURE, "--interval-ms", 50, "write", self.fleet, 7, 1200)
        out, err = tail.communicate(timeout=RUN_TIMEOUT_S)
        writer.kill()
        self.assertEqual(tail.returncode, 0, err)
        frames = [json.loads(line) for line in out.splitlines()]
        counters = [f["counter"] for f in frames]
        self.assertEqual(len(counters), 3)
        self.assertGreaterEqual(counters[0], 1)  # only frames written after the start
        self.assertEqual(counters, list(range(counters[0], counters[0] + 3)))
        for f in frames:
            self.assertEqual(f["payload"], "frame %d" % f["counter"])

    def test_tail_from_a_counter(self):
        self.write_frames(7, 6, capacity=4)
        # Counters 0 and 1 are gone a lap ago; 2..5 are retained; 6 is waited for.
        tail = self.spawn(ORBIT, "tail", "--json", "--from", 0, "--count", 5, "--timeout-ms",
                          FOLLOW_TIMEOUT_MS, self.fleet, 7)
        reader = LineReader(tail)
        got = [json.loads(reader.get(timeout=RUN_TIMEOUT_S)) for _ in range(5)]
        self.assertEqual(got[0], {"lost": 2})
        self.assertEqual([f["counter"] for f in got[1:]], [2, 3, 4, 5])
        self.run_tool("write", self.fleet, "7", "six")
        frame = json.loads(reader.get(timeout=RUN_TIMEOUT_S))
        self.assertEqual((frame["counter"], frame["payload"]), (6, "six"))
        self.assertEqual(tail.wait(timeout=RUN_TIMEOUT_S), 0)

    def test_tail_reports_lost_frames(self):
        self.write_frames(7, 1, capacity=4)
        tail = self.spawn(ORBIT, "tail", "--json", "--count", 5, "--timeout-ms",
                          FOLLOW_TIMEOUT_MS, self.fleet, 7)
        reader = LineReader(tail)
        lines = [self.wait_for_line(reader, lambda: self.write_frames(7, 1))]
        # Stopped, the follower falls a lap and more behind; resumed, it must say so.
        os.kill(tail.pid, signal.SIGSTOP)
        try:
            self.write_frames(7, 12)
        finally:
            os.kill(tail.pid, signal.SIGCONT)
        self.assertEqual(tail.wait(timeout=RUN_TIMEOUT_S), 0, tail.stderr.read())
        lines += reader.rest()
        records = [json.loads(line) for line in lines]
        frames = [r["counter"] for r in records if "counter" in r]
        lost = sum(r["lost"] for r in records if "lost" in r)
        self.assertEqual(len(frames), 5)
        self.assertEqual(frames, sorted(frames))
        self.assertGreater(lost, 0)
        # Every counter from the first frame shown to the last is shown or counted lost.
        self.assertEqual(frames[-1] - frames[0] + 1, len(frames) + lost)

    def test_tail_stops_on_signals(self):
        self.write_frames(7, 1, capacity=4)
        for sig in (signal.SIGINT, signal.SIGTERM):
            with self.subTest(signal=sig):
                tail = self.spawn(ORBIT, "tail", self.fleet, 7)
                reader = LineReader(tail)
                line = self.wait_for_line(reader, lambda: self.write_frames(7, 1))
                self.assertRegex(line, r"^7:0:\d+ kind=1 ver=\d+ len=\d+ frame \d+\n$")
                tail.send_signal(sig)
                self.assertEqual(tail.wait(timeout=RUN_TIMEOUT_S), 0)

    def test_tail_timeout(self):
        self.write_frames(7, 1, capacity=4)
        out, _ = self.run_tool("tail", "--timeout-ms", "200", self.fleet, "7")
        self.assertEqual(out, "")
        out, err = self.run_tool("tail", "--timeout-ms", "200", "--count", "1", self.fleet,
                                 "7", status=EXIT_ERROR)
        self.assertEqual(err, "orbit: timed out after 0 of 1 frames\n")

    def test_events(self):
        self.fixture("--node", 2, "publish", self.fleet, "jobs", 'job "1"', 3)
        self.fixture("--node", 3, "publish", self.fleet, "other", "x\ty", 2)
        events = self.tool_json_lines("events", "--json", "--no-follow", self.fleet)
        self.assertEqual([(e["counter"], e["node"], e["topic"], e["payload"]) for e in events],
                         [(n, 2, "jobs", 'job "1"') for n in range(3)] +
                         [(n, 3, "other", "x\ty") for n in range(3, 5)])
        now = time.time() * 1000
        for e in events:
            self.assertEqual(e["id"], "220:%d:%d" % (e["node"], e["counter"]))
            self.assertLess(abs(now - e["timestamp_ms"]), 600000)
        jobs = self.tool_json_lines("events", "--json", "--no-follow", self.fleet, "jobs")
        self.assertEqual([e["counter"] for e in jobs], [0, 1, 2])

        out, _ = self.run_tool("events", "--no-follow", self.fleet, "other")
        lines = out.splitlines()
        self.assertEqual(len(lines), 2)
        for n, line in zip((3, 4), lines):
            self.assertRegex(line, r"^220:3:%d \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z "
                             r"other: x\\ty$" % n)

    def test_events_need_an_events_ring(self):
        self.write_frames(7, 1)
        _, err = self.run_tool("events", "--no-follow", self.fleet, status=EXIT_ERROR)
        self.assertEqual(err, "orbit: fleet %s has no ring of kind 220 (events)\n" % self.fleet)
        self.assertEqual(segment_kinds(self.fleet), [7])

    def test_events_retained_then_followed(self):
        self.fixture("--node", 1, "publish", self.fleet, "jobs", "old", 2)
        events = self.spawn(ORBIT, "events", "--json", "--count", 4, "--timeout-ms",
                            FOLLOW_TIMEOUT_MS, self.fleet, "jobs")
        publisher = self.spawn(FIXTURE, "--node", 4, "--interval-ms", 50, "publish",
                               self.fleet, "jobs", "new", 1200)
        out, err = events.communicate(timeout=RUN_TIMEOUT_S)
        publisher.kill()
        self.assertEqual(events.returncode, 0, err)
        got = [json.loads(line) for line in out.splitlines()]
        self.assertEqual([(e["node"], e["payload"]) for e in got[:2]], [(1, "old")] * 2)
        self.assertEqual([(e["node"], e["payload"]) for e in got[2:]], [(4, "new")] * 2)
        self.assertEqual([e["counter"] for e in got], [0, 1, 2, 3])


class SubstrateTest(ToolTest):
    def test_cache(self):
        value = b'a "quoted"\\value\n\xc3\xa9\xff'
        # put makes a fleet only when asked to.
        _, err = self.run_tool("cache", self.fleet, "put", "key", value, status=EXIT_ERROR)
        self.assertEqual(err, "orbit: no fleet %s\n" % self.fleet)
        self.assertEqual(segment_names(self.fleet), [])
        self.run_tool("cache", "--create", self.fleet, "put", "key", value)
        self.assertEqual(segment_kinds(self.fleet), [200])
        got = self.tool_json("cache", "--json", self.fleet, "get", "key")
        self.assertEqual((got["fleet"], got["key"], got["len"]), (self.fleet, "key", len(value)))
        self.assertEqual(json_bytes(got["value"]), value)
        out, _ = self.run_tool("cache", self.fleet, "get", "key")
        self.assertEqual(unescape(out[:-1]), value)
        out, _ = self.run_tool("cache", "--hex", self.fleet, "get", "key")
        self.assertEqual(bytes.fromhex(out), value)

        self.run_tool("cache", self.fleet, "del", "key")
        _, err = self.run_tool("cache", self.fleet, "get", "key", status=EXIT_ERROR)
        self.assertEqual(err, "orbit: no key key in the cache of fleet %s\n" % self.fleet)

        self.run_tool("cache", "--ttl-ms", "1", self.fleet, "put", "brief", "v")
        time.sleep(0.05)
        self.run_tool("cache", self.fleet, "get", "brief", status=EXIT_ERROR)

        _, err = self.run_tool("cache", self.fleet, "put", "big", "v" * 300, status=EXIT_ERROR)
        self.assertIn("do not fit", err)

    def test_cache_reads_without_creating(self):
        self.write_frames(7, 1)
        _, err = self.run_tool("cache", self.fleet, "get", "key", status=EXIT_ERROR)
        self.assertIn("no key key", err)
        self.run_tool("cache", self.fleet, "del", "key")
        self.assertEqual(segment_kinds(self.fleet), [7])

    def test_members(self):
        self.held_fixture("--node", 1, "beat", self.fleet)
        node4 = self.held_fixture("--node", 4, "beat", self.fleet)
        members = self.tool_json("members", "--json", "--max-age-ms", "600000", self.fleet)
        self.assertEqual([(m["node"], m["state"]) for m in members],
                         [(0, "missing"), (1, "alive"), (2, "missing"), (3, "missing"),
                          (4, "alive")])
        now = time.time() * 1000
        for m in members:
            if m["state"] == "missing":
                self.assertIsNone(m["last_beat_ms"])
                self.assertIsNone(m["age_ms"])
            else:
                self.assertLess(abs(now - m["last_beat_ms"]), 600000)
                self.assertGreaterEqual(m["age_ms"], 0)
        members = self.tool_json("members", "--json", "--size", "8", self.fleet)
        self.assertEqual(len(members), 8)
        time.sleep(0.05)
        members = self.tool_json("members", "--json", "--max-age-ms", "0", self.fleet)
        self.assertEqual([m["state"] for m in members if m["node"] in (1, 4)], ["stale"] * 2)

        out, _ = self.run_tool("members", "--max-age-ms", "600000", self.fleet)
        rows = [line.split() for line in out.splitlines()]
        self.assertEqual(rows[0], ["NODE", "STATE", "LAST-BEAT"])
        self.assertEqual([r[:2] for r in rows[1:]],
                         [["0", "missing"], ["1", "alive"], ["2", "missing"],
                          ["3", "missing"], ["4", "alive"]])
        self.assertEqual(rows[1][2], "-")
        self.assertRegex(rows[2][2], r"^\d+(ms|\.\ds|m\d\ds)$")

        # A node whose process is gone is stale, however fresh its last beat.
        node4.communicate(timeout=RUN_TIMEOUT_S)
        members = self.tool_json("members", "--json", "--max-age-ms", "600000", self.fleet)
        self.assertEqual([m["state"] for m in members if m["node"] in (1, 4)],
                         ["alive", "stale"])

    def test_members_without_heartbeats(self):
        self.write_frames(7, 1)
        self.assertEqual(self.tool_json("members", "--json", self.fleet), [])
        members = self.tool_json("members", "--json", "--size", "2", self.fleet)
        self.assertEqual([m["state"] for m in members], ["missing", "missing"])
        self.assertEqual(segment_kinds(self.fleet), [7])
        # Standard output stays the (empty) table; standard error says why.
        out, err = self.run_tool("members", self.fleet)
        self.assertEqual(out, "NODE  STATE  LAST-BEAT\n")
        self.assertIn("fleet %s has no heartbeat ring (kind 221)" % self.fleet, err)

    def test_members_none_alive(self):
        self.fixture("--node", 1, "beat", self.fleet)
        out, err = self.run_tool("members", "--max-age-ms", "600000", self.fleet)
        self.assertIn("stale", out)
        self.assertEqual(err, "orbit: no node of fleet %s is alive: the processes of the nodes "
                              "that beat are gone\n" % self.fleet)
        self.held_fixture("--node", 2, "beat", self.fleet)
        time.sleep(0.01)
        out, err = self.run_tool("members", "--max-age-ms", "0", self.fleet)
        self.assertRegex(err, r"no node of fleet %s is alive: the newest beat is \S+ old, "
                              r"more than --max-age-ms 0" % re.escape(self.fleet))
        _, err = self.run_tool("members", "--max-age-ms", "600000", self.fleet)
        self.assertEqual(err, "")

    def test_holder(self):
        # The holder lives until its standard input ends: a lease ends with its process.
        holder = self.held_fixture("--node", 3, "claim", self.fleet, 9, "leader", 600000)
        out, _ = self.run_tool("holder", self.fleet, "9", "leader")
        self.assertEqual(out, "3\n")
        self.assertEqual(self.tool_json("holder", "--json", self.fleet, "9", "leader"),
                         {"fleet": self.fleet, "subject_kind": 9, "label": "leader",
                          "holder": 3})
        out, _ = self.run_tool("holder", self.fleet, "10", "leader")
        self.assertEqual(out, "nobody\n")
        # Labels are bytes; the JSON stays valid whatever they hold.
        got = self.tool_json("holder", "--json", self.fleet, "9", b"l\xffbel\x01")
        self.assertEqual(json_bytes(got["label"]), b"l\xffbel\x01")
        self.assertIsNone(got["holder"])
        holder.stdin.close()
        self.assertEqual(holder.wait(timeout=RUN_TIMEOUT_S), 0)
        out, _ = self.run_tool("holder", self.fleet, "9", "leader")
        self.assertEqual(out, "nobody\n")

    def test_holder_without_contest(self):
        self.write_frames(7, 1)
        out, _ = self.run_tool("holder", self.fleet, "9", "leader")
        self.assertEqual(out, "nobody\n")
        self.assertEqual(segment_kinds(self.fleet), [7])


class RemoveTest(ToolTest):
    def test_rm_refuses_a_live_fleet(self):
        self.write_frames(7, 1)
        self.held_fixture("--node", 2, "beat", self.fleet)
        out, err = self.run_tool("rm", "--window-ms", "600000", self.fleet, status=EXIT_ERROR)
        self.assertEqual(out, "")
        self.assertIn("orbit: fleet %s is live" % self.fleet, err)
        self.assertRegex(err, r"node 2 beat \d+(ms|\.\ds|m\d\ds) ago")
        self.assertIn("--force", err)
        self.assertEqual(segment_kinds(self.fleet), [7, 221])

        count = len(segment_names(self.fleet) + table_names(self.fleet))
        out, _ = self.run_tool("rm", "--force", self.fleet)
        self.assertEqual(out, "removed %d segments of fleet %s\n" % (count, self.fleet))
        self.assertEqual(table_names(self.fleet), [])
        self.assertEqual(segment_names(self.fleet), [])
        _, err = self.run_tool("rm", self.fleet, status=EXIT_ERROR)
        self.assertEqual(err, "orbit: no fleet %s\n" % self.fleet)

    def test_rm_removes_a_quiet_fleet(self):
        self.fixture("--node", 2, "beat", self.fleet)
        self.write_frames(7, 1)
        time.sleep(0.05)
        count = len(segment_names(self.fleet) + table_names(self.fleet))
        out, _ = self.run_tool("rm", "--window-ms", "0", self.fleet)
        self.assertEqual(out, "removed %d segments of fleet %s\n" % (count, self.fleet))
        self.assertEqual(segment_names(self.fleet), [])

    def test_rm_leaves_other_fleets(self):
        other = self.fleet + "-x"
        self.fleets.append(other)
        self.write_frames(7, 1)
        self.fixture("write", other, 7, 1)
        self.run_tool("rm", self.fleet)
        self.assertEqual(segment_names(self.fleet), [])
        self.assertEqual(segment_kinds(other), [7])



class WriteTest(ToolTest):
    """publish and write: a shell script's way into a fleet."""

    def test_publish(self):
        _, err = self.run_tool("publish", self.fleet, "jobs", "x", status=EXIT_ERROR)
        self.assertEqual(err, "orbit: no fleet %s\n" % self.fleet)
        self.assertEqual(segment_names(self.fleet), [])
        self.run_tool("publish", "--create", "--node", "3", self.fleet, "jobs", 'job "1"')
        payload = b"a\0b\xff caf\xc3\xa9\n"
        proc = subprocess.run([ORBIT, "publish", self.fleet, "jobs", "-"], input=payload,
                              capture_output=True, timeout=RUN_TIMEOUT_S)
        self.assertEqual((proc.returncode, proc.stdout, proc.stderr), (0, b"", b""))
        self.run_tool("publish", self.fleet, "empty")
        events = self.tool_json_lines("events", "--json", "--no-follow", self.fleet)
        self.assertEqual([(e["node"], e["topic"], json_bytes(e["payload"])) for e in events],
                         [(3, "jobs", b'job "1"'), (0, "jobs", payload), (0, "empty", b"")])
        _, err = self.run_tool("publish", self.fleet, "jobs", "x" * 300, status=EXIT_ERROR)
        self.assertIn("300 bytes do not fit a frame of ring 220", err)
        self.assertEqual(len(self.tool_json_lines("events", "--json", "--no-follow",
                                                  self.fleet)), 3)

    def test_write(self):
        self.write_frames(9, 1, capacity=64, payload_max=100)
        out, _ = self.run_tool("write", "--frame-kind", "3", "--ver", "77", "--node", "5",
                               self.fleet, "7", "hello")
        self.assertEqual(out, "7:5:0\n")
        (frame,) = self.tool_json_lines("dump", "--json", self.fleet, "7")
        self.assertEqual((frame["id"], frame["kind"], frame["ver"], frame["payload"]),
                         ("7:5:0", 3, 77, "hello"))
        # The new ring took the fleet's options, not the defaults.
        got = self.tool_json("stat", "--json", self.fleet, "7")
        self.assertEqual((got["capacity"], got["payload_max"]), (64, 100))
        _, err = self.run_tool("write", self.fleet, "7", "y" * 101, status=EXIT_ERROR)
        self.assertIn("101 bytes do not fit a frame of ring 7 of fleet %s (100 bytes)" %
                      self.fleet, err)
        self.assertEqual(self.tool_json("stat", "--json", self.fleet, "7")["head"], 1)
        proc = subprocess.run([ORBIT, "write", self.fleet, "7", "-"], input=b"\x00\x01\xfe",
                              capture_output=True, timeout=RUN_TIMEOUT_S)
        self.assertEqual(proc.stdout, b"7:0:1\n")
        frames = self.tool_json_lines("dump", "--json", "--hex", self.fleet, "7")
        self.assertEqual(frames[1]["payload"], "0001fe")

    def test_write_refuses_what_it_must_not_make(self):
        _, err = self.run_tool("write", self.fleet, "7", "x", status=EXIT_ERROR)
        self.assertEqual(err, "orbit: no fleet %s\n" % self.fleet)
        self.assertEqual(segment_names(self.fleet), [])
        self.assert_usage_error("write", self.fleet, "256", "x",
                                message="a kind is a number from 0 to 255")
        self.assert_usage_error("write", "--frame-kind", "256", self.fleet, "7",
                                message="--frame-kind")
        self.assert_usage_error("publish", "--ver", "1", self.fleet, "t", message="--ver")
        self.assert_usage_error("publish", self.fleet, "", message="a topic is 1 to 255 bytes")

NOBODY = 65534


def as_nobody():
    os.setgroups([])
    os.setgid(NOBODY)
    os.setuid(NOBODY)


def needs_root(test):
    """Planting another user's segments needs root; CI runs the suite as root."""
    return unittest.skipUnless(os.geteuid() == 0, "needs root to act as another user")(test)


class HostileTest(ToolTest):
    """Anyone can create any name in /dev/shm and write any bytes into a frame."""

    NAMES = [b"x\nforged  7  1  1024  256  0  327808  root  0600  -  ok\nx",
             b"\x1b]0;pwned\x07\x1b[31mred", b"caf\xc3\xa9\xff"]

    def setUp(self):
        super().setUp()
        self.planted = []
        for i, name in enumerate(self.NAMES):
            fleet = self.fleet.encode() + b"-" + name
            path = b"%s/orbit-%s-%d-%d" % (SHM.encode(), fleet, i, UID)
            with open(path, "wb") as f:
                f.write(b"\0" * 64)
            self.planted.append((fleet, path))

    def tearDown(self):
        for _, path in self.planted:
            os.unlink(path)
        super().tearDown()

    def ls_rows(self):
        proc = subprocess.run([ORBIT, "ls"], capture_output=True, timeout=RUN_TIMEOUT_S)
        self.assertEqual(proc.returncode, 0)
        return proc.stdout

    def test_ls_escapes_names(self):
        out = self.ls_rows()
        # No control byte of a name reaches the terminal; every row is one of ours.
        self.assertFalse(any(b < 0x20 and b != 0x0a for b in out), out)
        self.assertTrue(all(b < 0x80 for b in out), out)
        lines = out.decode().splitlines()
        rows = self.tool_json("ls", "--json")
        # The forged row is not a row: it is inside the escaped name of one.
        self.assertFalse([line for line in lines if line.startswith("forged")])
        for fleet, _ in self.planted:
            self.assertEqual(sum(1 for line in lines
                                 if line.startswith(unescape_prefix(fleet))), 1, fleet)
        got = {json_bytes(r["fleet"]): r for r in rows}
        for fleet, _ in self.planted:
            self.assertEqual(got[fleet]["status"], "bad-name")

    def test_frames_escaped_in_text_exact_in_json(self):
        payload = b"\x1b[2J\x1b]0;t\x07\r\n\xff caf\xc3\xa9"
        self.run_tool("cache", "--create", self.fleet, "put", "k", payload)
        out = subprocess.run([ORBIT, "dump", self.fleet, "200"], capture_output=True,
                             timeout=RUN_TIMEOUT_S).stdout
        self.assertFalse(any(b < 0x20 and b != 0x0a for b in out), out)
        self.assertEqual(out.count(b"\n"), 1)
        (frame,) = self.tool_json_lines("dump", "--json", self.fleet, "200")
        self.assertTrue(json_bytes(frame["payload"]).endswith(payload))
        raw = subprocess.run([ORBIT, "cache", "--json", self.fleet, "get", "k"],
                             capture_output=True, timeout=RUN_TIMEOUT_S).stdout
        # Text stays text, once: "café" as UTF-8, the lone 0xff as \udcff.
        self.assertIn(b"caf\xc3\xa9", raw)
        self.assertIn(b"\\udcff", raw)
        self.assertEqual(json_bytes(json.loads(raw)["value"]), payload)


def unescape_prefix(fleet):
    """How the tool's text shows a name: the escaping tool_escape applies."""
    out = ""
    for b in fleet:
        if b == 0x5c:
            out += "\\\\"
        elif b in (0x0a, 0x0d, 0x09):
            out += {0x0a: "\\n", 0x0d: "\\r", 0x09: "\\t"}[b]
        elif 0x20 <= b < 0x7f:
            out += chr(b)
        else:
            out += "\\x%02x" % b
    return out


class OwnerTest(ToolTest):
    """What belongs to whom: rm, --owner, ls --all and the hints, with a second user."""

    def plant_as_nobody(self, kind):
        path = os.path.join(SHM, "orbit-%s-%d-%d" % (self.fleet, kind, UID))
        pid = os.fork()
        if pid == 0:
            try:
                as_nobody()
                with open(path, "wb") as f:
                    f.write(b"\0" * 128)
                os._exit(0)
            except BaseException:
                os._exit(1)
        self.assertEqual(os.waitpid(pid, 0)[1], 0)
        self.addCleanup(lambda: os.path.exists(path) and os.unlink(path))
        return path

    def nobody_fleet(self, fleet, kind):
        """A ring of nobody's fleet: made as ours, then given to nobody with its name.

        (Running the fixture as nobody would need the build tree to be readable by
        nobody, which a package build's private directory is not.)"""
        self.fixture("write", fleet, kind, 1)
        ours = os.path.join(SHM, "orbit-%s-%d-%d" % (fleet, kind, UID))
        path = os.path.join(SHM, "orbit-%s-%d-%d" % (fleet, kind, NOBODY))
        os.rename(ours, path)
        os.chown(path, NOBODY, NOBODY)
        self.addCleanup(lambda: os.path.exists(path) and os.unlink(path))
        for name in table_names(fleet):
            os.unlink(os.path.join(SHM, name))
        return path

    @needs_root
    def test_rm_leaves_a_squatted_segment(self):
        self.write_frames(7, 1)
        ours = sorted(os.path.join(SHM, n) for n in segment_names(self.fleet) +
                      table_names(self.fleet))
        planted = self.plant_as_nobody(8)
        out, err = self.run_tool("rm", self.fleet, status=EXIT_ERROR)
        lines = out.splitlines()
        self.assertEqual(lines[0], "removed %d segments of fleet %s" % (len(ours), self.fleet))
        self.assertEqual(sorted(line.strip() for line in lines[1:]), ours)
        self.assertIn("left 1 segment of fleet %s in place" % self.fleet, err)
        self.assertIn("%s: owned by nobody (uid %d), not by the fleet's owner" % (planted, NOBODY),
                      err)
        self.assertIn("--squatted-by nobody", err)
        self.assertTrue(os.path.exists(planted))
        self.assertEqual(segment_kinds(self.fleet), [8])
        # Asked explicitly, with the squatter's name: it goes.
        out, _ = self.run_tool("rm", "--squatted-by", "nobody", self.fleet)
        self.assertEqual(out, "removed 1 segment of fleet %s\n" % self.fleet)
        self.assertFalse(os.path.exists(planted))

    @needs_root
    def test_another_users_fleet(self):
        theirs = self.nobody_fleet(self.fleet, 7)
        _, err = self.run_tool("ls", self.fleet, status=EXIT_ERROR)
        self.assertTrue(err.startswith("orbit: no fleet %s\n" % self.fleet), err)
        self.assertIn("nobody (uid %d) has one: %s, owner %d, mode 0600" % (NOBODY, theirs, NOBODY),
                      err)
        self.assertIn("'orbit --owner %d ...'" % NOBODY, err)
        rows = [r for r in self.tool_json("ls", "--all", "--json") if r["fleet"] == self.fleet]
        self.assertEqual([(r["kind"], r["uid"], r["name_uid"]) for r in rows], [(7, NOBODY, NOBODY)])
        # The probe reads its header; its mode keeps everyone else from joining it.
        self.assertEqual((rows[0]["capacity"], rows[0]["payload_max"]), (1024, 256))
        self.assertEqual((rows[0]["head"], rows[0]["status"]), (None, "no-access"))
        (row,) = self.tool_json("--owner", "nobody", "ls", "--json", self.fleet)
        self.assertEqual((row["kind"], row["uid"]), (7, NOBODY))
        # Nothing of ours is touched, and theirs goes only when named.
        _, err = self.run_tool("rm", self.fleet, status=EXIT_ERROR)
        self.assertTrue(os.path.exists(theirs))
        self.run_tool("--owner", "nobody", "rm", "--force", self.fleet)
        self.assertFalse(os.path.exists(theirs))

    def test_owner_option_errors(self):
        _, err = self.run_tool("--owner", "no-such-user-x", "ls", status=EXIT_USAGE)
        self.assertEqual(err, "orbit: --owner: no user 'no-such-user-x'\n")
        _, err = self.run_tool("--owner", status=EXIT_USAGE)
        self.assertEqual(err, "orbit: --owner wants a USER\n")


class NewRingTest(ToolTest):
    """A ring the tool creates in an existing fleet takes the fleet's options."""

    def test_cache_put_takes_the_fleets_geometry(self):
        self.write_frames(7, 1, capacity=64, payload_max=100)
        self.run_tool("cache", self.fleet, "put", "k", "v")
        got = self.tool_json("stat", "--json", self.fleet, "200")
        self.assertEqual((got["capacity"], got["payload_max"]), (64, 100))
        # The application's own cache opens it: same options as its other rings.
        self.assertEqual(self.run_tool("cache", self.fleet, "get", "k")[0], "v\n")

    def test_cache_put_refuses_a_mixed_fleet(self):
        self.write_frames(7, 1, capacity=64)
        self.write_frames(8, 1, capacity=128)
        _, err = self.run_tool("cache", self.fleet, "put", "k", "v", status=EXIT_ERROR)
        self.assertIn("disagree on capacity or payload size", err)
        self.assertEqual(segment_kinds(self.fleet), [7, 8])

if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit(__doc__.strip().splitlines()[-1])
    ORBIT, FIXTURE = sys.argv[1], sys.argv[2]
    unittest.main(argv=sys.argv[:1] + sys.argv[3:], verbosity=2)
