#!/usr/bin/python3
"""vipprobe.py - who answers a virtual IP, and when it stopped answering.

ping says that a VIP answered, not which node did, so a failover test
cannot see a dual-serve window or a flapping address. This tool has two
halves over UDP:

  serve  runs on each node: answers every datagram with the node's name
         and the datagram's sequence number. It binds the wildcard
         address, so it answers on the VIP exactly while the node's kernel
         holds it (and the network routes it there);
  probe  runs on the client: sends a numbered datagram every INTERVAL for
         DURATION seconds (bounded: it stops by itself) and records each
         reply's node and arrival time, then prints one JSON object:

    sent, answered          datagrams sent and answered
    by_node                 answers per node
    max_gap_ms              the longest time without any answer, between
                            the first and the last answer (the outage a
                            client saw)
    switches                how many times the answering node changed
    switch_times_ms         when, relative to the start
    first_answer_ms         per node, its first answer (relative)
    last_gap_start_ms       where the longest gap began

    --mark FILE: the probe notes when FILE appears (a script touches it as
    it injects a fault); the summary then adds recovery_ms, from the mark
    to the first answer after it, and fault_gap_ms, the gap the mark fell
    into.

Usage:
  vipprobe.py serve --name n1 [--port 7007]
  vipprobe.py probe --to 198.19.0.100 [--port 7007] [--interval 0.005]
                    [--duration 10] [--mark FILE]
"""

import argparse
import json
import os
import select
import socket
import sys
import time


def serve(args):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", args.port))
    name = args.name.encode()
    while True:
        data, peer = s.recvfrom(256)
        try:
            s.sendto(name + b" " + data[:32], peer)
        except OSError:
            pass


def probe(args):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setblocking(False)
    t0 = time.monotonic()
    end = t0 + args.duration
    nxt = t0
    seq = 0
    sent = {}
    answers = []  # (recv_rel_ms, node, seq)
    mark_ms = None
    while True:
        now = time.monotonic()
        if now >= end:
            break
        if now >= nxt:
            seq += 1
            sent[seq] = now
            try:
                s.sendto(b"%d" % seq, (args.to, args.port))
            except OSError:
                pass  # no route for a moment: counted as unanswered
            nxt += args.interval
            if nxt < now:
                nxt = now + args.interval
        if mark_ms is None and args.mark and os.path.exists(args.mark):
            mark_ms = (now - t0) * 1000.0
        r, _, _ = select.select([s], [], [], max(0.0, nxt - time.monotonic()))
        if not r:
            continue
        while True:
            try:
                data, _ = s.recvfrom(256)
            except BlockingIOError:
                break
            except OSError:
                break
            parts = data.split(b" ", 1)
            if len(parts) != 2:
                continue
            try:
                q = int(parts[1])
            except ValueError:
                continue
            answers.append(((time.monotonic() - t0) * 1000.0,
                            parts[0].decode(errors="replace"), q))
    by_node, first = {}, {}
    switches, switch_times = 0, []
    max_gap, gap_start = 0.0, None
    prev = None
    for t, node, _ in answers:
        by_node[node] = by_node.get(node, 0) + 1
        first.setdefault(node, round(t, 1))
        if prev is not None:
            if node != prev[1]:
                switches += 1
                switch_times.append(round(t, 1))
            if t - prev[0] > max_gap:
                max_gap, gap_start = t - prev[0], prev[0]
        prev = (t, node)
    out = {
        "sent": seq,
        "answered": len(answers),
        "by_node": by_node,
        "max_gap_ms": round(max_gap, 1),
        "last_gap_start_ms": None if gap_start is None else round(gap_start, 1),
        "switches": switches,
        "switch_times_ms": switch_times,
        "first_answer_ms": first,
    }
    if mark_ms is not None:
        # The gap the fault fell into: from the last answer before the
        # mark to the first one after it.
        out["mark_ms"] = round(mark_ms, 1)
        before = [t for t, _, _ in answers if t <= mark_ms]
        after = [t for t, _, _ in answers if t > mark_ms]
        out["recovery_ms"] = round(after[0] - mark_ms, 1) if after else None
        out["fault_gap_ms"] = (round(after[0] - before[-1], 1)
                               if after and before else None)
    json.dump(out, sys.stdout)
    sys.stdout.write("\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    a = sub.add_parser("serve")
    a.add_argument("--name", required=True)
    a.add_argument("--port", type=int, default=7007)
    b = sub.add_parser("probe")
    b.add_argument("--to", required=True)
    b.add_argument("--port", type=int, default=7007)
    b.add_argument("--interval", type=float, default=0.005)
    b.add_argument("--duration", type=float, default=10.0)
    b.add_argument("--mark")
    args = ap.parse_args()
    if args.cmd == "serve":
        serve(args)
    else:
        if not 0.001 <= args.interval <= 1.0 or not 0 < args.duration <= 600:
            ap.error("interval 1 ms..1 s, duration up to 600 s")
        probe(args)


if __name__ == "__main__":
    main()
