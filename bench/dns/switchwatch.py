#!/usr/bin/python3
"""switchwatch.py PHASE WANT: ask gdnsd (127.0.0.1:5304) and haven
(127.0.0.1:5305) for www.example.com A every 10 ms, alternating, and print
"PHASE SERVER SECONDS" for each once it has switched, counted from
this script's start (bench/dns.sh starts it right after the fault). Gives up
after 60 s and prints 60 for a server that never switched.

Switched: in phase "down", the answer is WANT (the backup) alone; in
phase "up", the answer holds WANT (the primary) again. gdnsd's multifo
answers every address that is up, so after failback it gives both; haven's
DR policy gives the primary alone."""
import sys
import time

import dns.message
import dns.query

phase, want = sys.argv[1], sys.argv[2]
servers = {"gdnsd": 5304, "haven": 5305}
t0 = time.monotonic()
done = {}
while len(done) < len(servers) and time.monotonic() - t0 < 60:
    for name, port in servers.items():
        if name in done:
            continue
        try:
            r = dns.query.udp(dns.message.make_query("www.example.com", "A"),
                              "127.0.0.1", port=port, timeout=0.2)
            got = sorted(rr.to_text() for s in r.answer for rr in s)
        except Exception:
            got = []
        if (got == [want]) if phase == "down" else (want in got):
            done[name] = time.monotonic() - t0
    time.sleep(0.01)
for name in servers:
    print(phase, name, f"{done.get(name, 60.0):.3f}")
