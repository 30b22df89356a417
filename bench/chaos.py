#!/usr/bin/python3
"""bench/chaos.py - a seeded chaos drill: the same fault schedule against
haven at its defaults, haven with per_try_timeout, HAProxy and nginx.

Three nginx backends (127.0.0.11-13:18080, one process each, so kill -9 and
SIGSTOP hit the whole server) sit behind all four proxies at once, each
proxy with its own 16 keep-alive clients (2 s timeout, one request every
--pace ms per client). A schedule drawn from the seed starts a fault every
2-4 s: kill -9 a backend (restarted 3 s later), SIGSTOP it (SIGCONT after
3 s), iptables DROP its address and port for 3 s, or reload every proxy;
never more than two backends faulted at once. Since the proxies share the
backends and the faults, every proxy sees exactly the same schedule at the
same instants. Each failed request (non-2xx, timeout, reset) is attributed
to the fault that started last before it.

Everything is loopback; iptables rules carry a comment naming this run and
are removed on exit, failure included; every stopped backend is continued
and every process killed. Without root (or iptables) the DROP faults are
replaced by SIGSTOP and the table says so.

    bench/chaos.py --seeds 1,2,3,4,5 --duration 60
    bench/chaos.py --seeds 7 --duration 15 --only haven --json out.json

Exit status: 0, or 1 when --assert-no-503 is given and haven at defaults
answered 503 while a backend was serving (the integration test's check).
"""
import argparse
import http.client
import json
import multiprocessing as mp
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

BACKENDS = ["127.0.0.11", "127.0.0.12", "127.0.0.13"]
BPORT = 18080
FAULT_S = 3.0
PROXIES = {  # name: port
    "haven": 18081,
    "haven-try": 18082,
    "haproxy": 18083,
    "nginx": 18084,
}
COMMENT = "haven-chaos-%d" % os.getpid()


def schedule(seed, duration):
    """[(t, kind, backend index or -1)], never two faulted backends more."""
    rng = random.Random(seed)
    out, busy_until = [], [0.0] * len(BACKENDS)
    t = rng.uniform(2, 4)
    while t < duration - FAULT_S:
        kind = rng.choice(["kill", "stop", "drop", "reload"])
        free = [i for i in range(len(BACKENDS)) if busy_until[i] <= t]
        faulted = len(BACKENDS) - len(free)
        if kind != "reload" and (faulted >= 2 or not free):
            kind = "reload"
        b = -1
        if kind != "reload":
            b = rng.choice(free)
            busy_until[b] = t + FAULT_S + 0.5
        out.append((round(t, 3), kind, b))
        t += rng.uniform(2, 4)
    return out


# ---- processes ---------------------------------------------------------


class Rig:
    def __init__(self, tmp, haven_bin, only, use_iptables):
        self.tmp, self.haven_bin, self.only = tmp, haven_bin, only
        self.use_iptables = use_iptables
        self.backends = [None] * len(BACKENDS)
        self.stopped = set()
        self.procs = {}

    def path(self, *p):
        return os.path.join(self.tmp, *p)

    def backend_start(self, i):
        conf = self.path("b%d.conf" % i)
        with open(conf, "w") as f:
            f.write("""daemon off; master_process off; worker_processes 1;
pid %s; error_log %s;
events { worker_connections 4096; }
http { access_log off; keepalive_requests 1000000;
  client_body_temp_path %s; proxy_temp_path %s; fastcgi_temp_path %s;
  uwsgi_temp_path %s; scgi_temp_path %s;
  server { listen %s:%d; location / { return 200 "b%d\\n"; } } }
""" % ((self.path("b%d.pid" % i), self.path("b%d.err" % i)) +
       (self.tmp,) * 5 + (BACKENDS[i], BPORT, i + 1)))
        self.backends[i] = subprocess.Popen(
            ["nginx", "-p", self.tmp, "-e", self.path("b%d.err" % i),
             "-c", conf], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_port(BACKENDS[i], BPORT)

    def haven_start(self, name, extra):
        d = self.path(name)
        os.makedirs(d + "/state", exist_ok=True)
        servers = "\n".join(
            "        - { name: b%d, address: %s:%d }" % (i + 1, a, BPORT)
            for i, a in enumerate(BACKENDS))
        with open(d + "/haven.yaml", "w") as f:
            f.write("""haven: { node: chaos, state_dir: %s/state, log_level: warn }
api: { socket: %s/haven.sock }
health:
  checks:
    - { name: http, type: http, path: /, expect_status: [200] }
lb:
  workers: 1
  listeners:
    - { name: web, bind: 127.0.0.1:%d, mode: http, pool: be, access_log: false }
  pools:
    - name: be
      health_check: http
%s      servers:
%s
""" % (d, d, PROXIES[name], extra, servers))
        log = open(d + "/haven.log", "w")
        self.procs[name] = subprocess.Popen(
            [self.haven_bin, "run", "-c", d + "/haven.yaml"],
            stdout=log, stderr=log)

    def haproxy_start(self):
        servers = "\n".join(
            "  server b%d %s:%d check inter 1s fall 2 rise 2" % (i + 1, a, BPORT)
            for i, a in enumerate(BACKENDS))
        cfg = self.path("haproxy.cfg")
        with open(cfg, "w") as f:
            f.write("""global
  nbthread 1
  maxconn 8000
defaults
  mode http
  timeout connect 2s
  timeout client 30s
  timeout server 30s
  retries 3
  option redispatch
  retry-on all-retryable-errors
  option http-keep-alive
frontend fe
  bind 127.0.0.1:%d
  default_backend be
backend be
  balance roundrobin
  http-reuse always
  option httpchk GET /
%s
""" % (PROXIES["haproxy"], servers))
        self.procs["haproxy"] = subprocess.Popen(
            ["haproxy", "-W", "-f", cfg], stdout=subprocess.DEVNULL,
            stderr=open(self.path("haproxy.log"), "w"))

    def nginx_start(self):
        servers = " ".join("server %s:%d max_fails=1;" % (a, BPORT)
                           for a in BACKENDS)
        cfg = self.path("nginx-proxy.conf")
        with open(cfg, "w") as f:
            f.write("""daemon off; worker_processes 1;
pid %s; error_log %s;
events { worker_connections 8192; }
http { access_log off; keepalive_requests 1000000;
  client_body_temp_path %s; proxy_temp_path %s; fastcgi_temp_path %s;
  uwsgi_temp_path %s; scgi_temp_path %s;
  upstream be { %s keepalive 64; }
  server { listen 127.0.0.1:%d; location / { proxy_pass http://be;
    proxy_http_version 1.1; proxy_set_header Connection "";
    proxy_connect_timeout 2s; proxy_next_upstream error timeout; } } }
""" % ((self.path("ngp.pid"), self.path("ngp.err")) + (self.tmp,) * 5 +
       (servers, PROXIES["nginx"])))
        self.procs["nginx"] = subprocess.Popen(
            ["nginx", "-p", self.tmp, "-e", self.path("ngp.err"), "-c", cfg],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def start(self):
        for i in range(len(BACKENDS)):
            self.backend_start(i)
        if "haven" in self.only:
            self.haven_start("haven", "")
        if "haven-try" in self.only:
            self.haven_start("haven-try", "      per_try_timeout: 500ms\n")
        if "haproxy" in self.only:
            self.haproxy_start()
        if "nginx" in self.only:
            self.nginx_start()
        for name in self.only:
            wait_ok(PROXIES[name], name)

    # faults
    def kill(self, i):
        self.backends[i].send_signal(signal.SIGKILL)
        self.backends[i].wait()

    def stop(self, i):
        self.backends[i].send_signal(signal.SIGSTOP)
        self.stopped.add(i)

    def cont(self, i):
        self.backends[i].send_signal(signal.SIGCONT)
        self.stopped.discard(i)

    def iptables(self, op, i):
        subprocess.run(["iptables", "-w", op, "INPUT", "-p", "tcp", "-d",
                        BACKENDS[i], "--dport", str(BPORT), "-m", "comment",
                        "--comment", COMMENT, "-j", "DROP"], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def reload(self):
        sig = {"haven": signal.SIGHUP, "haven-try": signal.SIGHUP,
               "haproxy": signal.SIGUSR2, "nginx": signal.SIGHUP}
        for name, p in self.procs.items():
            p.send_signal(sig[name])

    def cleanup(self):
        for i in list(self.stopped):
            self.cont(i)
        out = subprocess.run(["iptables", "-w", "-S", "INPUT"],
                             capture_output=True, text=True).stdout \
            if self.use_iptables else ""
        for line in out.splitlines():
            if COMMENT in line and line.startswith("-A "):
                subprocess.run(["iptables", "-w", "-D"] + line.split()[1:],
                               stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
        for p in list(self.procs.values()) + [b for b in self.backends if b]:
            if p.poll() is None:
                p.terminate()
        deadline = time.monotonic() + 5
        for p in list(self.procs.values()) + [b for b in self.backends if b]:
            try:
                p.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


def wait_port(host, port, limit=10.0):
    end = time.monotonic() + limit
    while time.monotonic() < end:
        try:
            socket.create_connection((host, port), 0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("nothing listens on %s:%d" % (host, port))


def wait_ok(port, name, limit=20.0):
    """Until the proxy answers 200 through each backend."""
    end, seen = time.monotonic() + limit, set()
    while time.monotonic() < end and len(seen) < len(BACKENDS):
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            c.request("GET", "/")
            r = c.getresponse()
            body = r.read()
            if r.status == 200:
                seen.add(body)
            c.close()
        except OSError:
            pass
        time.sleep(0.05)
    if len(seen) < len(BACKENDS):
        raise RuntimeError("%s not serving through every backend" % name)


# ---- load --------------------------------------------------------------


def client_thread(port, t0, end, pace, out):
    conn = None
    while True:
        start = time.monotonic()
        if start >= end:
            break
        try:
            if conn is None:
                conn = http.client.HTTPConnection("127.0.0.1", port,
                                                  timeout=2)
            conn.request("GET", "/")
            r = conn.getresponse()
            r.read()
            res = r.status
            if r.will_close:
                conn.close()
                conn = None
        except socket.timeout:
            res = "timeout"
        except ConnectionRefusedError:
            res = "refused"
        except (ConnectionResetError, BrokenPipeError,
                http.client.RemoteDisconnected):
            res = "reset"
        except (OSError, http.client.HTTPException):
            res = "other"
        if res != 200:
            out.append((round(start - t0, 3), res))
            if conn is not None:
                conn.close()
                conn = None
        else:
            out.append(None)
        left = pace - (time.monotonic() - start)
        if left > 0:
            time.sleep(left)
    if conn is not None:
        conn.close()


def client_proc(port, t0, end, pace, nclients, q):
    per = [[] for _ in range(nclients)]
    ths = [threading.Thread(target=client_thread,
                            args=(port, t0, end, pace, per[i]))
           for i in range(nclients)]
    for t in ths:
        t.start()
    for t in ths:
        t.join()
    ok, fails = 0, []
    for lst in per:
        for x in lst:
            if x is None:
                ok += 1
            else:
                fails.append(x)
    q.put((port, ok, fails))


# ---- one run -----------------------------------------------------------


def run_seed(args, seed):
    sched = schedule(seed, args.duration)
    use_ipt = os.geteuid() == 0 and shutil.which("iptables") is not None
    tmp = tempfile.mkdtemp(prefix="haven-chaos.")
    rig = Rig(tmp, args.haven_bin, args.only, use_ipt)
    timers = []
    try:
        rig.start()
        t0 = time.monotonic() + 0.5
        end = t0 + args.duration
        q = mp.Queue()
        ps = [mp.Process(target=client_proc,
                         args=(PROXIES[n], t0, end, args.pace / 1000.0,
                               args.clients, q)) for n in args.only]
        for p in ps:
            p.start()
        applied = []
        for (t, kind, b) in sched:
            while time.monotonic() < t0 + t:
                run_timers(timers, time.monotonic())
                time.sleep(max(0, min(0.01, t0 + t - time.monotonic())))
            run_timers(timers, t0 + t)
            if kind == "drop" and not use_ipt:
                kind = "stop"
            applied.append((t, kind, b))
            if kind == "kill":
                rig.kill(b)
                timers.append((t0 + t + FAULT_S, rig.backend_start, b))
            elif kind == "stop":
                rig.stop(b)
                timers.append((t0 + t + FAULT_S, rig.cont, b))
            elif kind == "drop":
                rig.iptables("-I", b)
                timers.append((t0 + t + FAULT_S,
                               lambda i: rig.iptables("-D", i), b))
            else:
                rig.reload()
            run_timers(timers, time.monotonic())
        while time.monotonic() < end:
            run_timers(timers, time.monotonic())
            time.sleep(0.01)
        run_timers(timers, float("inf"))
        res = {}
        for _ in ps:
            port, ok, fails = q.get(timeout=30)
            name = [n for n in args.only if PROXIES[n] == port][0]
            res[name] = (ok, fails)
        for p in ps:
            p.join()
        return applied, res, use_ipt
    finally:
        for p in ps if "ps" in locals() else []:
            if p.is_alive():
                p.terminate()
        for (_, fn, i) in timers:
            try:
                fn(i)
            except Exception:
                pass
        rig.cleanup()
        if args.keep:
            print("kept", tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def run_timers(timers, now):
    for tm in sorted(timers, key=lambda x: x[0]):
        if tm[0] <= now:
            timers.remove(tm)
            tm[1](tm[2])


def attribute(sched, t):
    last = None
    for f in sched:
        if f[0] <= t:
            last = f
    if last is None:
        return "none"
    return last[1] if last[2] < 0 else "%s b%d" % (last[1], last[2] + 1)


def report(seed, sched, res, use_ipt):
    kinds = {}
    for f in sched:
        kinds[f[1]] = kinds.get(f[1], 0) + 1
    print("\nseed %d: %s%s" % (seed, ", ".join(
        "%s %d" % kv for kv in sorted(kinds.items())),
        "" if use_ipt else " (no root/iptables: drop replaced by stop)"))
    print("  schedule: " + " ".join(
        "%.1f:%s%s" % (t, k, "" if b < 0 else "/b%d" % (b + 1))
        for t, k, b in sched))
    hdr = "  %-10s %8s %8s %7s %7s %8s %6s %6s %6s %6s" % (
        "proxy", "requests", "ok", "non2xx", "errors", "failed%",
        "503", "502", "504", "vs_hap")
    print(hdr)
    hap = None
    if "haproxy" in res:
        hap = len(res["haproxy"][1])
    rows = {}
    for name in ["haven", "haven-try", "haproxy", "nginx"]:
        if name not in res:
            continue
        ok, fails = res[name]
        total = ok + len(fails)
        non2xx = sum(1 for _, r in fails if isinstance(r, int))
        errors = len(fails) - non2xx
        codes = {c: sum(1 for _, r in fails if r == c) for c in (503, 502, 504)}
        ratio = "-" if not hap else "%.2f" % (len(fails) / hap)
        if hap == 0:
            ratio = "0/0" if not fails else "inf"
        print("  %-10s %8d %8d %7d %7d %7.3f%% %6d %6d %6d %6s" % (
            name, total, ok, non2xx, errors,
            100.0 * len(fails) / max(total, 1), codes[503], codes[502],
            codes[504], ratio))
        by = {}
        for t, r in fails:
            k = attribute(sched, t)
            by[k] = by.get(k, 0) + 1
        if by:
            print("  %-10s   failures after: %s" % ("", ", ".join(
                "%s=%d" % kv for kv in sorted(by.items(), key=lambda x: -x[1]))))
        rows[name] = {"requests": total, "ok": ok, "non2xx": non2xx,
                      "errors": errors, "failed": len(fails),
                      "503": codes[503], "502": codes[502], "504": codes[504],
                      "by_fault": by,
                      "fails": [[t, r] for t, r in fails]}
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", default="1", help="comma-separated seeds")
    ap.add_argument("--duration", type=float, default=60.0)
    ap.add_argument("--clients", type=int, default=16)
    ap.add_argument("--pace", type=float, default=20.0,
                    help="ms between a client's requests")
    ap.add_argument("--only", default="haven,haven-try,haproxy,nginx")
    ap.add_argument("--haven-bin", default=os.environ.get("HAVEN_BIN", ""))
    ap.add_argument("--json", help="write results here")
    ap.add_argument("--keep", action="store_true", help="keep the temp dir")
    ap.add_argument("--assert-no-503", action="store_true")
    args = ap.parse_args()
    args.only = [n for n in args.only.split(",") if n]
    for n in args.only:
        if n not in PROXIES:
            ap.error("unknown proxy %s" % n)
    if not args.haven_bin:
        repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        args.haven_bin = os.path.join(repo, "build", "haven")
    need = ["nginx"] + (["haproxy"] if "haproxy" in args.only else [])
    for p in need:
        if shutil.which(p) is None:
            print("missing %s: apt-get install -y nginx-light haproxy" % p)
            return 2
    if any(n.startswith("haven") for n in args.only) and \
            not os.access(args.haven_bin, os.X_OK):
        print("no haven binary at %s: build first or set HAVEN_BIN"
              % args.haven_bin)
        return 2
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(130))
    allres, bad = {}, False
    for seed in [int(s) for s in args.seeds.split(",")]:
        sched, res, use_ipt = run_seed(args, seed)
        rows = report(seed, sched, res, use_ipt)
        allres[seed] = {"schedule": sched, "iptables": use_ipt,
                        "proxies": rows}
        if args.assert_no_503 and rows.get("haven", {}).get("503", 0) > 0:
            bad = True
    if args.json:
        with open(args.json, "w") as f:
            json.dump(allres, f, indent=1)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
