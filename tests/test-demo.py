#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""orbit demo and orbit bench, run as a user runs them, their output parsed.

The demo's worker processes must all show up with a load and a beat read from
shared memory, the job must have been claimed, and the fleet's segments must be
gone afterwards. The benchmark's JSON must carry every figure, each a positive
number (speed is never asserted: this may run on two busy cores). Bad arguments
must fail with a message and the usage exit status.

Usage: test-demo.py ORBIT   (unittest's summary; exit status 0 when all pass)
"""

import json
import os
import re
import subprocess
import sys
import unittest

ORBIT = None
SHM = "/dev/shm"
UID = os.geteuid()
RUN_TIMEOUT_S = 300  # generous: the suite may share two cores with every other test
EXIT_ERROR = 1
EXIT_USAGE = 2
WORKERS = 2
ANSI = re.compile(r"\x1b\[")

TITLE = re.compile(r"^ liborbit demo: fleet (\S+), (\d+) workers, ([\d.]+) s of (\d+) s$")
# NODE PID LOAD BAR JOBS LAST-BEAT EVENTS JOB; the bar is ASCII off a terminal.
ROW = re.compile(r"^\s+(\d+)\s+(\d+)\s+(\d+)%\s+([#.]{12})\s+(\d+)\s+(\S+)( stale)?\s+(\d+)"
                 r"(?:\s+(.*))?$")
JOB = re.compile(r'^ job\s+"nightly-report" (?:held by node (\d+)(?:, token (\d+))?|free); '
                 r"(\d+) claims, (\d+) hand-offs$")
SUMMARY = re.compile(r"^ stopped (\d+) workers; orbit_fleet_unlink removed the fleet's (\d+) "
                     r"segments$")
TOKENS = re.compile(r"^ fencing tokens grew with every one of the (\d+) claims: (yes|NO)$")


def segment_names(fleet):
    """Names in /dev/shm of the fleet's ring segments: orbit-{fleet}-{kind}-{uid}."""
    pattern = re.compile(r"orbit-%s-(\d+)-%d\Z" % (re.escape(fleet), UID))
    return sorted(n for n in os.listdir(SHM) if pattern.match(n))


def run(*args):
    return subprocess.run([ORBIT] + list(args), stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=RUN_TIMEOUT_S)


def age_ms(text):
    """The tool's short age ("350ms", "1.2s") in milliseconds."""
    m = re.fullmatch(r"(\d+)ms", text)
    if m:
        return int(m.group(1))
    m = re.fullmatch(r"(\d+)\.(\d)s", text)
    if m:
        return int(m.group(1)) * 1000 + int(m.group(2)) * 100
    raise AssertionError("not a short age: %r" % text)


class DemoTest(unittest.TestCase):
    def setUp(self):
        self.fleets = []

    def tearDown(self):
        for fleet in self.fleets:
            for name in segment_names(fleet):
                os.unlink(os.path.join(SHM, name))

    def assert_usage_error(self, args, words):
        r = run(*args)
        self.assertEqual(r.returncode, EXIT_USAGE, (args, r.stdout, r.stderr))
        self.assertEqual(r.stdout, "", args)
        self.assertRegex(r.stderr, r"^orbit: %s: .*%s" % (args[0], words), args)

    def test_text_off_a_terminal(self):
        """The default fleet name, one table at the end, every worker in it."""
        r = run("demo", "--workers", str(WORKERS), "--seconds", "2")
        lines = r.stdout.splitlines()
        titles = [TITLE.match(line) for line in lines if TITLE.match(line)]
        self.assertEqual(len(titles), 1, r.stdout)
        fleet = titles[0].group(1)
        self.fleets.append(fleet)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(r.stderr, "")
        self.assertIsNone(ANSI.search(r.stdout), "escape codes off a terminal")
        self.assertRegex(fleet, r"^demo-\d+$")
        self.assertEqual(int(titles[0].group(2)), WORKERS)
        self.assertEqual(titles[0].group(4), "2")

        rows = {}
        for line in lines:
            m = ROW.match(line)
            if m:
                rows[int(m.group(1))] = m
        self.assertEqual(sorted(rows), list(range(1, WORKERS + 1)), r.stdout)
        pids = set()
        for node, m in rows.items():
            pid, load, bar = int(m.group(2)), int(m.group(3)), m.group(4)
            self.assertGreater(pid, 0)
            pids.add(pid)
            self.assertLessEqual(load, 100)
            self.assertEqual(bar.count("#"), (load * 12 + 50) // 100, m.group(0))
            # A beat was read; recent on any machine that is not stalled for seconds.
            self.assertLess(age_ms(m.group(6)), 10000, m.group(0))
        self.assertEqual(len(pids), WORKERS, "one process per worker")

        job = [JOB.match(line) for line in lines if JOB.match(line)]
        self.assertEqual(len(job), 1, r.stdout)
        claims, handoffs = int(job[0].group(3)), int(job[0].group(4))
        self.assertGreaterEqual(claims, 1, "the job was held by someone")
        self.assertLess(handoffs, claims)
        if job[0].group(1):
            self.assertIn(int(job[0].group(1)), rows)

        summary = [SUMMARY.match(line) for line in lines if SUMMARY.match(line)]
        self.assertEqual(len(summary), 1, r.stdout)
        self.assertEqual(int(summary[0].group(1)), WORKERS)
        self.assertGreaterEqual(int(summary[0].group(2)), 1)
        tokens = [TOKENS.match(line) for line in lines if TOKENS.match(line)]
        if claims > 1:
            self.assertEqual(tokens[0].group(2), "yes", r.stdout)
        self.assertEqual(segment_names(fleet), [], "the demo removes its segments")

    def test_json(self):
        fleet = "test-demo-%d" % os.getpid()
        self.fleets.append(fleet)
        r = run("demo", "--workers", str(WORKERS), "--seconds", "2", "--fleet", fleet, "--json")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        doc = json.loads(r.stdout)
        self.assertEqual(doc["fleet"], fleet)
        self.assertEqual(doc["workers"], WORKERS)
        self.assertGreaterEqual(doc["elapsed_ms"], 2000)
        self.assertEqual([n["node"] for n in doc["nodes"]], list(range(1, WORKERS + 1)))
        for node in doc["nodes"]:
            self.assertIn(node["state"], ("alive", "stale"), node)
            self.assertIsNotNone(node["beat_age_ms"], node)
            self.assertGreater(node["pid"], 0)
            self.assertTrue(0 <= node["load_pct"] <= 100, node)
            self.assertIn(node["job"], ("idle", "holding", "busy", "resting"), node)
            self.assertEqual(node["token"] is None, node["job"] != "holding", node)
        job = doc["job"]
        self.assertEqual(job["label"], "nightly-report")
        self.assertGreaterEqual(job["claims"], 1)
        self.assertTrue(job["tokens_rising"])
        self.assertEqual(doc["events"]["job.claimed"], job["claims"])
        self.assertGreaterEqual(doc["events"]["total"], job["claims"])
        self.assertGreaterEqual(doc["segments_removed"], 1)
        self.assertEqual(segment_names(fleet), [])

    def test_bad_arguments(self):
        self.assert_usage_error(["demo", "--workers", "0"], "--workers")
        self.assert_usage_error(["demo", "--workers", "33"], "--workers")
        self.assert_usage_error(["demo", "--seconds", "-1"], "--seconds")
        self.assert_usage_error(["demo", "--seconds", "2s"], "--seconds")
        self.assert_usage_error(["demo", "--fleet", ".hidden"], "fleet name")
        self.assert_usage_error(["demo", "extra"], "no arguments")
        self.assert_usage_error(["demo", "--frobnicate"], "unknown option")
        self.assert_usage_error(["bench", "extra"], "no arguments")
        self.assert_usage_error(["bench", "--frobnicate"], "unknown option")

    def test_refuses_an_existing_fleet(self):
        fleet = "test-demo-taken-%d" % os.getpid()
        self.fleets.append(fleet)
        planted = os.path.join(SHM, "orbit-%s-221-%d" % (fleet, UID))
        with open(planted, "wb"):
            pass
        r = run("demo", "--seconds", "1", "--fleet", fleet)
        self.assertEqual(r.returncode, EXIT_ERROR, r.stdout + r.stderr)
        self.assertRegex(r.stderr, r"^orbit: demo: fleet %s exists already" % fleet)
        self.assertEqual(segment_names(fleet), [os.path.basename(planted)],
                         "someone else's fleet is left alone")

    def test_help(self):
        for command in ("demo", "bench"):
            r = run(command, "--help")
            self.assertEqual(r.returncode, 0)
            self.assertTrue(r.stdout.startswith("Usage: orbit %s" % command), r.stdout)


class BenchTest(unittest.TestCase):
    TRANSPORTS = ["orbit", "pipe", "socket", "mqueue", "redis"]
    ALWAYS = ["orbit", "pipe", "socket", "mqueue"]  # redis only where installed
    BATCHED = "orbit-batched"  # liborbit's batch calls: throughput only

    def test_quick_json(self):
        proc = subprocess.Popen([ORBIT, "bench", "--quick", "--json"], stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        out, err = proc.communicate(timeout=RUN_TIMEOUT_S)
        self.assertEqual(proc.returncode, 0, out + err)
        doc = json.loads(out)
        self.assertEqual(doc["run"], "quick")
        self.assertRegex(doc["liborbit"], r"^\d+\.\d+\.\d+$")
        machine = doc["machine"]
        for key in ("cpu", "kernel"):
            self.assertIsInstance(machine[key], str)
        self.assertGreaterEqual(machine["cpus_usable"], 1)
        self.assertGreaterEqual(machine["cpus_online"], machine["cpus_usable"])
        for key in ("load_start", "load_end"):
            self.assertEqual(len(machine[key]), 3)
        pinned = machine["cpus_usable"] >= 2
        self.assertEqual(len(doc["cpus"]), 2 if pinned else 0)
        if pinned:
            self.assertGreater(doc["cacheline_ns"], 0)

        latency = {(f["transport"], f["mode"], f["bytes"]): f for f in doc["latency"]}
        self.assertEqual(set(latency), {(t, m, b) for t in self.TRANSPORTS
                                        for m in ("spin", "block") for b in (64, 256)})
        throughput = {(f["transport"], f["mode"], f["bytes"]): f for f in doc["throughput"]}
        self.assertEqual(set(throughput), {(t, m, b) for t in self.TRANSPORTS + [self.BATCHED]
                                           for m in ("spin", "block") for b in (64, 256)})

        measured = self.ALWAYS + (["redis"] if doc["redis"] else [])
        for (t, mode, size), f in latency.items():
            spins = mode == "spin" and (t == "redis" or not pinned)
            if t in measured and not spins:
                self.assertGreater(f["one_way_ns"], 0, f)
                self.assertGreater(f["orbit_speedup"], 0, f)
                self.assertNotIn("error", f)
            else:
                self.assertIsNone(f["one_way_ns"], f)
                self.assertIn("skipped", f)
        for (t, mode, size), f in throughput.items():
            spins = mode == "spin" and (t == "redis" or not pinned)
            if t not in measured + [self.BATCHED] or spins:
                self.assertIsNone(f["messages_per_s"], f)
                continue
            self.assertGreater(f["messages_per_s"], 0, f)
            self.assertAlmostEqual(f["mb_per_s"], f["messages_per_s"] * size / 1e6,
                                   delta=f["mb_per_s"] * 1e-9)
        for f in doc["latency"] + doc["throughput"]:
            self.assertIsInstance(f["rough"], bool)
            self.assertIsInstance(f["samples"], int)
            if f["transport"] == "orbit" and f.get("skipped") is None:
                self.assertEqual(f["orbit_speedup"], 1, f)
        # Its rings are in fleets named bench-PID-N.
        prefix = "orbit-bench-%d-" % proc.pid
        self.assertFalse([n for n in os.listdir(SHM) if n.startswith(prefix)],
                         "the benchmark removes its fleets")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    ORBIT = sys.argv.pop(1)
    unittest.main()
