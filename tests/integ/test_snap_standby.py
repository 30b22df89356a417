"""Standby images: a receiver keeps a file at each volume's newest snapshot
(`snap.standby`), so a failover promote has nothing left to write.

The site of test_snap_repl (sender and receiver namespaces, the receiver's
plane running unprivileged). The first snapshot received writes the whole
image; an incremental one writes only the chunks that changed, found by
comparing manifests (no byte of the image read). A write to the standby
image behind haven's back is noticed (its ctime moved): the next snapshot
is applied by hashing the image, and the damage is repaired. The apply
runs in a child of the plane after the session's OK. A promote --to the
standby image then writes nothing. The image is byte-identical
to the sender's at every step.
"""

import os
import random
import re
import subprocess

from havenlib.poll import wait_until
from test_snap_repl import CHUNK, NCHUNKS, PORT, RECEIVER, create, \
    make_image, replicate, site  # noqa: F401 (site is a fixture)


def same_bytes(a, b):
    with open(a, "rb") as f1, open(b, "rb") as f2:
        return f1.read() == f2.read()


def applied(h, r):
    """The replicate's OK says the standby image follows; wait for the
    plane's apply to end and return (written, kept) of its last one."""
    assert "standby image: being brought to it" in r.stdout, r.stdout

    def done():
        sb = h.api("GET", "/v1/snap").json["standby"][0]
        return sb if not sb["running"] and sb["current"] else None
    sb = wait_until(done, timeout=60, what="the standby apply")
    assert sb["last"]["result"] == "applied", sb
    assert sb["last"]["error"] == "", sb
    return sb["last"]["written"], sb["last"]["kept"]


def change(img, rng, chunks):
    with open(img, "r+b") as f:
        for c in chunks:
            f.seek(c * CHUNK + rng.randrange(CHUNK - 100))
            f.write(rng.randbytes(100))


def start_receiver(s, haven):
    """The receiver of the site with a standby image for vm1, in a
    directory its unprivileged plane can write."""
    pw = s["user"]
    sbdir = os.path.join(os.path.dirname(s["dst"]), "standby")
    os.mkdir(sbdir)
    os.chown(sbdir, pw.pw_uid, pw.pw_gid)
    standby = os.path.join(sbdir, "vm1.img")
    cfg = ("haven:\n  state_dir: %s/state\n"
           "api:\n  socket: %s/haven.sock\n"
           "snap:\n  listen: %s:%d\n  store: %s\n  psk_file: %s\n"
           "  standby:\n    - volume: vm1\n      image: %s\n"
           % (s["workdir"], s["workdir"], RECEIVER, PORT, s["dst"],
              s["psk"], standby))
    return haven(cfg, ns=s["b"], name="receiver"), standby


def promote(s, standby):
    pw = s["user"]
    return subprocess.run(["setpriv", "--reuid=%d" % pw.pw_uid,
                           "--regid=%d" % pw.pw_gid, "--clear-groups",
                           s["bin"], "snap", "promote", "--store", s["dst"],
                           "--to", standby, "vm1"],
                          capture_output=True, text=True, timeout=60)


def test_standby_image_follows_and_promotes(site, haven):
    s = site
    h, standby = start_receiver(s, haven)
    img = make_image(s, seed=5)
    rng = random.Random(5)

    create(s, img)
    r, st = replicate(s)
    assert applied(h, r) == (NCHUNKS, 0)
    assert same_bytes(standby, img)

    # 1 %: only those chunks are written, by manifest comparison.
    changed = rng.sample(range(NCHUNKS), NCHUNKS // 100)
    change(img, rng, changed)
    create(s, img)
    r, st = replicate(s)
    assert applied(h, r) == (len(changed), NCHUNKS - len(changed))
    assert same_bytes(standby, img)
    api = h.api("GET", "/v1/snap").json
    assert api["last_session"]["standby"] == \
        "standby image: being brought to it", api
    sb = api["standby"][0]
    assert len(api["standby"]) == 1 and sb["volume"] == "vm1", api
    assert (sb["image"], sb["snapshot"], sb["intact"], sb["current"],
            sb["running"], sb["failures"]) == (
        standby, api["roles"]["vm1"]["head"], True, True, False, 0), sb
    # one at the start (nothing to apply yet), then one per snapshot
    assert sb["applies"] == 3, sb
    out = subprocess.run([s["bin"], "status", "-s", h.socket],
                         capture_output=True, text=True, timeout=30).stdout
    assert "standby vm1 -> %s: at the head" % standby in out, out

    # Damage behind haven's back: the record no longer holds (ctime), the
    # image is hashed, and the damaged chunk is written back too.
    applies = h.api("GET", "/v1/snap").json["standby"][0]["applies"]
    with open(standby, "r+b") as f:
        f.seek(3 * CHUNK + 5)
        f.write(b"garbage")
    sb = h.api("GET", "/v1/snap").json["standby"][0]
    assert (sb["intact"], sb["current"]) == (False, False), sb
    more = [c for c in rng.sample(range(NCHUNKS), 4) if c != 3]
    change(img, rng, more)
    create(s, img)
    r, st = replicate(s)
    assert applied(h, r) == (len(more) + 1, NCHUNKS - len(more) - 1)
    sb = h.api("GET", "/v1/snap").json["standby"][0]
    assert sb["applies"] == applies + 1 and sb["failures"] == 0, sb
    assert same_bytes(standby, img)

    # Failover: the standby image is already the head.
    h.stop()
    r = promote(s, standby)
    assert r.returncode == 0, (r.stdout, r.stderr)
    assert "delta: kept %d chunks, wrote 0 (the standby image was at the " \
        "snapshot already)" % NCHUNKS in r.stdout, r.stdout
    assert "role=primary" in r.stdout
    assert same_bytes(standby, img)


def test_standby_config_errors(haven_bin, workdir):
    psk = workdir / "psk"
    psk.write_bytes(os.urandom(32))
    os.chmod(psk, 0o600)
    for body, want in (
            ("  standby:\n    - volume: v\n      image: /x\n",
             "only a receiver"),
            ("  listen: 127.0.0.1:7499\n  standby:\n    - volume: v\n"
             "      image: rel.img\n", "image: want an absolute path"),
            ("  listen: 127.0.0.1:7499\n  standby:\n    - volume: v\n"
             "      image: /a\n    - volume: v\n      image: /b\n",
             "volume v is listed twice"),
            ("  listen: 127.0.0.1:7499\n  standby:\n    - volume: v\n",
             "image")):
        cfg = workdir / "haven.yaml"
        head = "" if "listen" not in body else \
            "  store: %s/st\n  psk_file: %s\n" % (workdir, psk)
        cfg.write_text("snap:\n%s%s" % (head, body))
        r = subprocess.run([haven_bin, "check", "-c", str(cfg)],
                           capture_output=True, text=True, timeout=30)
        assert r.returncode != 0, body
        assert want in r.stderr, (body, r.stderr)
        assert re.search(r"haven\.yaml:\d+:\d+", r.stderr), r.stderr


def test_promote_right_after_a_snapshot_arrives(site, haven):
    """A promote that races the plane's apply: whichever takes the
    standby lock first, the promoted image is the snapshot's, and an
    apply that comes second leaves a primary's image alone."""
    s = site
    h, standby = start_receiver(s, haven)
    img = make_image(s, seed=6)
    create(s, img)
    replicate(s)
    r = promote(s, standby)
    assert r.returncode == 0, (r.stdout, r.stderr)

    def settled():
        sb = h.api("GET", "/v1/snap").json["standby"][0]
        return sb if not sb["running"] and sb["applies"] >= 2 else None
    sb = wait_until(settled, timeout=60, what="the apply to end")
    assert sb["failures"] == 0, sb
    # The apply either ran first (the promote then wrote nothing) or
    # found the volume primary and left the image alone.
    assert sb["last"]["result"] in ("applied", "nothing to apply"), sb
    assert same_bytes(standby, img)
