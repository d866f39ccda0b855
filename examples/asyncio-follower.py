#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Follow one ring of a fleet from an asyncio program, printing each frame as it comes.

    asyncio-follower.py FLEET KIND [--node N] [--size N] [--from COUNTER]
                        [--count N] [--idle SECONDS]

The follower sleeps in the event loop, not in a thread: the ring's descriptor is watched
with loop.add_reader and polls readable once a frame is at the cursor. Other tasks (here a
once-a-second status line) run meanwhile. Ctrl-C or SIGTERM stops it cleanly.

Try it beside the orbit tool:  orbit demo --fleet demo &  asyncio-follower.py demo 220
"""

import argparse
import asyncio
import signal
import sys

import liborbit


async def follow(ring: liborbit.Ring, cursor: int, count: int, idle: float) -> int:
    """Prints frames from cursor on; returns how many, after count frames (0: no limit)
    or when none came for idle seconds (0: wait forever)."""
    # One follower keeps the cursor and the count of frames lost to wraparound. Under
    # `async for` it reads what is there, then arms the ring's descriptor at its cursor
    # and awaits readability; iteration ends after `timeout` seconds without a frame.
    follower = ring.follow(cursor, timeout=idle or None)
    seen = 0
    async for frame in follower:
        seen += 1
        print(f"{liborbit.ids.format(frame.id)} kind={frame.kind} ver={frame.ver} "
              f"len={len(frame.payload)} {frame.payload!r}", flush=True)
        if follower.lost:
            print(f"({follower.lost} frames lost to wraparound so far)", flush=True)
        if seen == count:
            break
    return seen


async def status(ring: liborbit.Ring) -> None:
    """Something else the loop does while the follower sleeps."""
    while True:
        await asyncio.sleep(1)
        print(f"# head of ring {ring.kind}: {ring.head}", file=sys.stderr, flush=True)


async def main(args: argparse.Namespace) -> int:
    # Join as a node of the fleet; the ring's segment is attached (or created) with the
    # options it already has, which probe reads, so any capacity or payload size works.
    try:
        options = liborbit.probe(args.fleet, args.kind)
    except FileNotFoundError:
        options = liborbit.Options(0, 0, 0, 0)
    with liborbit.Fleet(args.fleet, node=args.node, size=args.size,
                        capacity=options.capacity, payload_max=options.payload_max,
                        mode=options.mode) as fleet:
        ring = fleet.ring(args.kind)
        cursor = ring.head if args.start is None else args.start
        following = asyncio.create_task(follow(ring, cursor, args.count, args.idle))
        # Stop on Ctrl-C and SIGTERM by cancelling the follower: the await on the
        # descriptor ends, and leaving the `with` block leaves the fleet.
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, following.cancel)
        reporter = asyncio.create_task(status(ring))
        try:
            seen = await following
        except asyncio.CancelledError:
            seen = -1
        finally:
            reporter.cancel()
    if seen >= 0:
        print(f"# {seen} frames", file=sys.stderr)
    return 0


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Follow a liborbit ring with asyncio.")
    parser.add_argument("fleet", help="fleet name")
    parser.add_argument("kind", type=int, help="ring kind, 0 to 255")
    parser.add_argument("--node", type=int, default=0, help="our node number (default 0)")
    parser.add_argument("--size", type=int, default=16, help="fleet size (default 16)")
    parser.add_argument("--from", dest="start", type=int, default=None,
                        help="first counter to read (default: the head, new frames only)")
    parser.add_argument("--count", type=int, default=0, help="stop after N frames")
    parser.add_argument("--idle", type=float, default=0,
                        help="stop after SECONDS without a frame (default: never)")
    return parser.parse_args()


if __name__ == "__main__":
    sys.exit(asyncio.run(main(parse())))
