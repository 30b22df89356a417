"""Continuous replication of a directory tree with inotify dirty sets
(`detect: inotify`).

Haven A (198.18.0.1) snapshots a tree every second and ships it to B
(198.18.0.2), a receiver. A watcher in A's snap plane records the paths
that change; each cycle re-reads only those and takes the rest from the
previous snapshot's index. While a writer creates, rewrites, renames,
deletes, chmods, links and sets xattrs in the tree, cycles keep using the
dirty set; once it stops, the next snapshot B acknowledged restores (from
B's store) to a tree identical to the source: content, types, modes,
mtimes, owners, link targets, hard-link groups, user.* xattrs.

An overflow: the plane is stopped (SIGSTOP) while more events than the
inotify queue holds pile up; the watcher then reports IN_Q_OVERFLOW, the
next cycle walks the whole tree and says why ("inotify queue overflow"),
the cycles after use the dirty set again, and the replica is still
identical. A reload keeps the watcher. With a 60 s interval and
`dirty_paths: 8`, three changed files start nothing and eight start a
cycle within seconds. `haven check` refuses detect: inotify on a file
source, with file:line:col.

Root and network namespaces are needed; without them the tests skip.
"""

import os
import random
import signal
import shutil
import subprocess
import tempfile
import threading
import time

import pytest

from havenlib.poll import wait_until
from test_snap_continuous import run_user
from test_snap_tree import walk

SENDER, RECEIVER, PORT = "198.18.0.1", "198.18.0.2", 7421


def chown_tree(root, pw):
    for dirpath, dirs, files in os.walk(root):
        for n in [dirpath] + [os.path.join(dirpath, x) for x in dirs + files]:
            os.lchown(n, pw.pw_uid, pw.pw_gid)


def make_tree(root):
    os.makedirs(os.path.join(root, "docs", "deep"))
    os.makedirs(os.path.join(root, "logs"))
    for i in range(60):
        with open(os.path.join(root, "docs", "f%03d.txt" % i), "w") as f:
            f.write("file %d\n" % i * (i + 1))
    with open(os.path.join(root, "docs", "deep", "big.bin"), "wb") as f:
        f.write(random.Random(1).randbytes(3 << 20))
    os.link(os.path.join(root, "docs", "f000.txt"),
            os.path.join(root, "logs", "hard"))
    os.symlink("../docs/f001.txt", os.path.join(root, "logs", "sym"))


class TreeWriter(threading.Thread):
    """Changes the tree a few times a second: every kind of change a
    watcher must see."""

    def __init__(self, root, pw):
        super().__init__(daemon=True)
        self.root, self.pw = root, pw
        self.stop = threading.Event()
        self.n = 0
        self.error = None

    def p(self, *parts):
        return os.path.join(self.root, *parts)

    def own(self, path):
        """The plane's user must read what it snapshots (modes 0600)."""
        os.lchown(path, self.pw.pw_uid, self.pw.pw_gid)

    def step(self, k, rng):
        with open(self.p("docs", "f%03d.txt" % rng.randrange(60)), "a") as f:
            f.write("append %d\n" % k)
        new = self.p("logs", "n%d" % k)
        with open(new, "w") as f:
            f.write("new %d\n" % k)
        self.own(new)
        if k % 3 == 0:
            os.rename(new, self.p("docs", "moved%d" % k))
        if k % 4 == 1 and os.path.exists(self.p("logs", "n%d" % (k - 1))):
            os.unlink(self.p("logs", "n%d" % (k - 1)))
        os.chmod(self.p("docs", "f%03d.txt" % (k % 60)),
                 0o600 if k % 2 else 0o644)
        d = self.p("logs", "d%d" % k)
        os.mkdir(d)
        with open(os.path.join(d, "inside"), "w") as f:
            f.write("x" * k)
        self.own(d)
        self.own(os.path.join(d, "inside"))
        if k % 5 == 0:
            os.rename(d, self.p("docs", "dir%d" % k))
        if k % 7 == 0:
            os.link(self.p("docs", "f002.txt"), self.p("logs", "l%d" % k))
        try:
            os.setxattr(self.p("docs", "f003.txt"), "user.k",
                        str(k).encode())
        except OSError:
            pass

    def run(self):
        rng = random.Random(7)
        try:
            while not self.stop.is_set():
                self.n += 1
                self.step(self.n, rng)
                self.stop.wait(0.15)
        except Exception as e:  # surfaced by the test
            self.error = e


@pytest.fixture
def site(request, netns, haven, haven_bin, workdir):
    """A and B as the docstring says; request.param may set A's volume's
    interval and add keys to it (extra)."""
    param = getattr(request, "param", {})
    if os.geteuid() != 0:
        pytest.skip("needs root (network namespaces)")
    a, b = netns.ns("twpri"), netns.ns("twrep")
    netns.link(a, b, SENDER + "/24", RECEIVER + "/24")
    pw = run_user()
    top = tempfile.mkdtemp(prefix="hv-snaptw-")
    os.chmod(top, 0o711)
    dirs = {}
    for d in ("src", "dst"):
        dirs[d] = os.path.join(top, d)
        os.mkdir(dirs[d])
        os.chown(dirs[d], pw.pw_uid, pw.pw_gid)
    tree = os.path.join(top, "tree")
    os.mkdir(tree)
    make_tree(tree)
    chown_tree(tree, pw)
    psk = os.path.join(top, "psk")
    with open(psk, "wb") as f:
        f.write(os.urandom(32))
    os.chmod(psk, 0o600)
    os.chown(psk, pw.pw_uid, pw.pw_gid)
    w = str(workdir)
    cfg_b = ("haven:\n  state_dir: %s/state-b\n"
             "api:\n  socket: %s/b.sock\n"
             "snap:\n  listen: %s:%d\n  store: %s\n  psk_file: %s\n"
             % (w, w, RECEIVER, PORT, dirs["dst"], psk))
    hb = haven(cfg_b, ns=b, name="replica")
    cfg_a = ("haven:\n  state_dir: %s/state-a\n"
             "api:\n  socket: %s/a.sock\n"
             "snap:\n  store: %s\n  psk_file: %s\n"
             "  volumes:\n"
             "    - name: t1\n      source: %s\n      interval: %s\n"
             "      detect: inotify\n"
             "      keep: 50\n      peers: [\"%s:%d\"]\n"
             "      cycle_timeout: 60s\n%s"
             % (w, w, dirs["src"], psk, tree, param.get("interval", "1s"),
                RECEIVER, PORT, param.get("extra", "")))
    ha = haven(cfg_a, ns=a, name="primary")
    yield {"ha": ha, "hb": hb, "tree": tree, "dst": dirs["dst"],
           "bin": haven_bin, "workdir": w, "pw": pw, "top": top}
    shutil.rmtree(top, ignore_errors=True)


def vol(h):
    return h.api("GET", "/v1/snap").json["continuous"][0]


class Cycles:
    """Every snapshot the API reported, as {id: (detect, note, dirty)}."""

    def __init__(self, h):
        self.h, self.seen = h, {}

    def poll(self):
        v = vol(self.h)
        if v["last_id"]:
            self.seen.setdefault(v["last_id"], (v["last_detect"],
                                                v["last_detect_note"],
                                                v["last_dirty_paths"]))
        return v

    def wait(self, pred, what, timeout=30):
        def step():
            self.poll()
            return pred(self.seen)
        wait_until(step, timeout=timeout, interval=0.05, what=what)

    def used(self, detect):
        return [k for k, c in self.seen.items() if c[0] == detect]


def settled_replica(s, cyc):
    """Wait for a snapshot taken after the tree stopped changing that B
    acknowledged; restore it from B's store and return its walk."""
    t_stop = time.time()

    def acked():
        v = cyc.poll()
        p = v["peers"][0]
        return (v["last_time_ms"] / 1000.0 > t_stop + 0.05 and
                p["acked_id"] == v["last_id"] and v["last_id"])
    wait_until(acked, timeout=30, interval=0.1,
               what="a snapshot after the writer stopped, acknowledged")
    name = vol(s["ha"])["last_id"]
    out = os.path.join(s["top"], "restored-%s" % name)
    r = subprocess.run([s["bin"], "snap", "restore", "--store", s["dst"],
                        "t1/" + name, out], capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0, r.stderr
    return name, walk(out)


def test_tree_continuous_uses_dirty_sets(site):
    s = site
    cyc = Cycles(s["ha"])
    # The first cycle walks everything: the watcher has no history.
    cyc.wait(lambda seen: len(seen) >= 1, "a first snapshot")
    first = list(cyc.seen.values())[0]
    assert first[0] == "walk" and first[1] == "watcher started", first
    writer = TreeWriter(s["tree"], s["pw"])
    writer.start()
    try:
        cyc.wait(lambda seen: len([c for c in seen.values()
                                   if c[0] == "inotify" and c[2] > 0]) >= 4,
                 "four cycles from a non-empty dirty set", timeout=40)
    finally:
        writer.stop.set()
        writer.join()
    assert writer.error is None, writer.error
    name, got = settled_replica(s, cyc)
    want = walk(s["tree"])
    assert got[1] == want[1], "hard-link groups differ"
    assert got[0] == want[0], sorted(
        k for k in set(got[0]) | set(want[0])
        if got[0].get(k) != want[0].get(k))[:20]
    assert cyc.seen[name][0] == "inotify", cyc.seen[name]
    v = vol(s["ha"])
    assert v["detect"] == "inotify" and v["watch"]["running"], v
    assert v["watch"]["overflows"] == 0, v["watch"]
    # Every cycle after the first used the dirty set.
    walks = cyc.used("walk")
    assert len(walks) == 1, cyc.seen
    print("%d snapshots, %d from dirty sets (writer made %d rounds); "
          "dirty paths per cycle %s" % (
              len(cyc.seen), len(cyc.used("inotify")), writer.n,
              sorted(c[2] for c in cyc.seen.values())))
    out = subprocess.run([s["bin"], "status", "-s", s["ha"].socket],
                         capture_output=True, text=True, timeout=10).stdout
    assert "inotify watching" in out and "last snapshot: dirty set" in out, \
        out

    # A reload that leaves the volume's source and detect alone keeps its
    # watcher: no "watcher started" walk after it (a cycle the reload
    # killed leaves nothing to base the set on: at most one such walk).
    h = s["ha"]
    with open(h.config) as f:
        text = f.read()
    with open(h.config, "w") as f:
        f.write(text.replace("keep: 50", "keep: 51"))
    n = len(cyc.seen)
    r = h.api("POST", "/v1/reload")
    assert r.status == 200 and r.json["ok"] is True, r.json
    cyc.wait(lambda seen: len(seen) >= n + 3, "three cycles after a reload")
    after = list(cyc.seen.values())[n:]
    assert ("walk", "watcher started", 0) not in after, after
    assert sum(c[0] == "walk" for c in after) <= 1, after
    assert after[-1][0] == "inotify", after


def test_tree_overflow_walks_everything(site):
    s = site
    h = s["ha"]
    cyc = Cycles(h)
    cyc.wait(lambda seen: len(cyc.used("inotify")) >= 1,
             "a cycle from the dirty set")
    with open("/proc/sys/fs/inotify/max_queued_events") as f:
        qmax = int(f.read())
    if qmax > 100000:
        pytest.skip("max_queued_events %d: too many events to make" % qmax)
    pid = h.plane_pid("snap")
    assert pid is not None
    # The plane cannot read its queue while stopped: more events than
    # it holds overflow it. A cycle running meanwhile goes on.
    many = os.path.join(s["tree"], "many")
    watches = vol(h)["watch"]["watches"]
    os.mkdir(many)
    wait_until(lambda: vol(h)["watch"]["watches"] > watches, timeout=10,
               what="the new directory watched")
    os.kill(pid, signal.SIGSTOP)
    try:
        for i in range(qmax // 2 + 1000):
            with open(os.path.join(many, "m%05d" % i), "w"):
                pass  # IN_CREATE and IN_CLOSE_WRITE
    finally:
        os.kill(pid, signal.SIGCONT)
    chown_tree(s["tree"], s["pw"])
    wait_until(lambda: vol(h)["watch"]["overflows"] >= 1, timeout=10,
               what="the overflow counted")
    cyc.wait(lambda seen: any(c == ("walk", "inotify queue overflow", 0)
                              for c in seen.values()),
             "a full walk for the overflow")
    n_after = len(cyc.seen)
    cyc.wait(lambda seen: len(seen) >= n_after + 2, "two cycles more")
    tail = list(cyc.seen.values())[n_after:]
    assert all(c[0] == "inotify" for c in tail), cyc.seen
    with open(os.path.join(many, "m00000"), "w") as f:
        f.write("after the overflow\n")
    name, got = settled_replica(s, cyc)
    want = walk(s["tree"])
    assert got == want
    assert h.metric("haven_snap_watch_overflows_total", volume="t1") >= 1
    print("snapshots %r" % list(cyc.seen.values()))


@pytest.mark.parametrize("site", [{"interval": "60s",
                                   "extra": "      dirty_paths: 8\n"}],
                         indirect=True)
def test_tree_dirty_paths_trigger(site):
    """With a 60 s interval, 8 changed paths start a cycle at once; 3 do
    not."""
    s = site
    h = s["ha"]
    cyc = Cycles(h)
    cyc.wait(lambda seen: len(seen) >= 1, "the first snapshot")
    for i in range(3):
        with open(os.path.join(s["tree"], "docs", "f%03d.txt" % i), "a") as f:
            f.write("a few\n")
    time.sleep(1.5)  # a cycle, if one were wrongly started, is quick
    cyc.poll()
    assert len(cyc.seen) == 1, cyc.seen
    assert vol(h)["watch"]["dirty"] == 3, vol(h)["watch"]
    t0 = time.time()
    for i in range(3, 8):
        with open(os.path.join(s["tree"], "docs", "f%03d.txt" % i), "a") as f:
            f.write("enough\n")
    cyc.wait(lambda seen: len(seen) >= 2, "a cycle started by dirty_paths",
             timeout=10)
    took = time.time() - t0
    second = list(cyc.seen.values())[1]
    assert second == ("inotify", "", 8), second
    v = vol(h)
    assert v["early_cycles"] == 1 and v["dirty_paths_trigger"] == 8, v
    print("a cycle %.2f s after the 8th dirty path (interval 60 s)" % took)
    assert took < 5, took


def test_check_refuses_inotify_on_a_file(haven_bin, workdir):
    img = os.path.join(str(workdir), "disk.img")
    with open(img, "wb") as f:
        f.write(b"\0" * 4096)
    psk = os.path.join(str(workdir), "psk")
    with open(psk, "wb") as f:
        f.write(os.urandom(32))
    os.chmod(psk, 0o600)
    cfg = os.path.join(str(workdir), "haven.yaml")
    with open(cfg, "w") as f:
        f.write("snap:\n  store: %s/store\n  psk_file: %s\n"
                "  volumes:\n"
                "    - name: v\n      source: %s\n"
                "      detect: inotify\n"
                "      dirty_paths: 10\n"
                "    - name: w\n      source: %s\n"
                "      detect: rescan\n"
                "      dirty_paths: 10\n" % (workdir, psk, img, img))
    r = subprocess.run([haven_bin, "check", "-c", cfg], capture_output=True,
                       text=True, timeout=10)
    assert r.returncode == 1, r
    assert "%s:7:15: " % cfg in r.stderr and \
        "detect: inotify needs a directory source" in r.stderr, r.stderr
    assert "%s:12:20: " % cfg in r.stderr and \
        "dirty_paths needs detect: auto or inotify" in r.stderr, r.stderr
