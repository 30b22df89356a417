"""Sealed snapshot stores (`haven snap init --key-file`).

Chunks are encrypted at rest (XChaCha20-Poly1305) and their IDs keyed
(BLAKE2b): no plaintext and no SHA-256 of it appears in the store, yet the
round trip is byte-identical and unchanged chunks still deduplicate. A
wrong key is refused when the store opens, a flipped byte in a sealed
chunk is found by verify, and replication works between stores with the
same key and is refused, with a reason, into a plain store. The receiver
is a `haven run` on loopback whose snap plane runs unprivileged.
"""

import hashlib
import os
import pwd
import random
import re
import shutil
import subprocess
import tempfile

import pytest

CHUNK = 65536
PORT = 7413
MARK = b"haven-sealed-plaintext-marker!"


def run_user():
    for name in ("haven", "nobody"):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            pass
    pytest.skip("neither user haven nor nobody exists")


def snap(haven_bin, store, *args, check=0):
    r = subprocess.run([haven_bin, "snap", args[0], "--store", str(store)]
                       + [str(x) for x in args[1:]],
                       capture_output=True, text=True, timeout=120)
    assert "Sanitizer" not in r.stderr and "runtime error" not in r.stderr, \
        r.stderr
    if check is not None:
        assert r.returncode == check, (args, r.returncode, r.stdout,
                                       r.stderr)
    return r


def keyfile(path, key=None):
    with open(path, "wb") as f:
        f.write(key or os.urandom(32))
    os.chmod(path, 0o600)
    return path


def image(path, seed):
    rng = random.Random(seed)
    with open(path, "wb") as f:
        for i in range(64):
            # Every chunk carries the marker, half of them twice over.
            f.write(MARK + rng.randbytes(CHUNK - len(MARK)) if i % 2 else
                    (MARK * (CHUNK // len(MARK) + 1))[:CHUNK])
    return path


def sha(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def chunk_files(store):
    out = []
    for d, _, files in os.walk(os.path.join(store, "chunks")):
        out += [os.path.join(d, f) for f in files]
    return out


def test_sealed_store_round_trip(haven_bin, workdir):
    key = keyfile(str(workdir / "k"))
    store = workdir / "s"
    r = snap(haven_bin, store, "init", "--key-file", key)
    assert "sealed" in r.stdout
    snap(haven_bin, store, "init", "--key-file", key, check=1)
    img = image(str(workdir / "a.img"), 1)
    r = snap(haven_bin, store, "create", "--volume", "v", img)
    name = re.search(r"^snapshot (\S+)$", r.stdout, re.M).group(1)
    # 32 distinct random chunks + 1 repeated one.
    files = chunk_files(store)
    assert len(files) == 33
    plain_ids = set()
    with open(img, "rb") as f:
        while True:
            b = f.read(CHUNK)
            if not b:
                break
            plain_ids.add(hashlib.sha256(b).hexdigest())
    for p in files:
        assert os.path.basename(p) not in plain_ids
        with open(p, "rb") as f:
            assert MARK not in f.read()
    mf = (store / "snapshots" / name.replace("/", os.sep)).read_text()
    assert re.search(r"^ids keyed-[0-9a-f]{16}$", mf, re.M), mf
    out = workdir / "out.img"
    snap(haven_bin, store, "restore", name, out)
    assert sha(out) == sha(img)
    assert "0 damaged chunks" in snap(haven_bin, store, "verify").stdout
    # An incremental create stores only what changed.
    with open(img, "r+b") as f:
        f.seek(5 * CHUNK + 100)
        f.write(b"changed")
    snap(haven_bin, store, "create", "--volume", "v", img)
    assert len(chunk_files(store)) == 34

    # A flipped byte in a sealed chunk: verify names it (exit 3).
    victim = sorted(files)[0]
    with open(victim, "r+b") as f:
        f.seek(40)
        b = f.read(1)
        f.seek(40)
        f.write(bytes([b[0] ^ 1]))
    r = snap(haven_bin, store, "verify", check=3)
    assert os.path.basename(victim) in r.stdout

    # Another key in the key file: refused at open.
    keyfile(key)
    r = snap(haven_bin, store, "list", check=1)
    assert "another key" in r.stderr
    os.chmod(key, 0o644)
    r = snap(haven_bin, store, "list", check=1)
    assert "cannot be read" in r.stderr


@pytest.fixture
def receiver(haven, haven_bin, workdir):
    if os.geteuid() != 0:
        pytest.skip("needs root (the plane drops to an unprivileged user)")
    pw = run_user()
    top = tempfile.mkdtemp(prefix="hv-snapseal-")
    os.chmod(top, 0o711)
    key = os.urandom(32)

    def start(sealed, same_key=True):
        d = os.path.join(top, "dst%d" % len(os.listdir(top)))
        os.mkdir(d)
        os.chown(d, pw.pw_uid, pw.pw_gid)
        psk = keyfile(os.path.join(d, "psk"), b"p" * 32)
        kf = keyfile(os.path.join(d, "key"),
                     key if same_key else os.urandom(32))
        for p in (psk, kf):
            os.chown(p, pw.pw_uid, pw.pw_gid)
        store = os.path.join(d, "store")
        argv = [haven_bin, "snap", "init", "--store", store]
        if sealed:
            argv += ["--key-file", kf]
        subprocess.run(["setpriv", "--reuid=%d" % pw.pw_uid,
                        "--regid=%d" % pw.pw_gid, "--clear-groups"] + argv,
                       check=True, capture_output=True)
        wd = os.path.join(str(workdir), os.path.basename(d))
        os.makedirs(wd)
        cfg = ("haven:\n  state_dir: %s/state\n"
               "api:\n  socket: %s/haven.sock\n"
               "snap:\n  listen: 127.0.0.1:%d\n  store: %s\n"
               "  psk_file: %s\n" % (wd, wd, PORT, store, psk))
        h = haven(cfg, name=os.path.basename(d))
        return h, store, psk

    yield start, key
    shutil.rmtree(top, ignore_errors=True)


def test_sealed_replication(haven_bin, workdir, receiver):
    start, key = receiver
    kf = keyfile(str(workdir / "k"), key)
    src = workdir / "src"
    snap(haven_bin, src, "init", "--key-file", kf)
    img = image(str(workdir / "a.img"), 2)
    r = snap(haven_bin, src, "create", "--volume", "v", img)
    name = re.search(r"^snapshot (\S+)$", r.stdout, re.M).group(1)

    def replicate(psk, check):
        return snap(haven_bin, src, "replicate", "--to",
                    "127.0.0.1:%d" % PORT, "--psk-file", psk, "--timeout",
                    "10", "v", check=check)

    # Same key: the snapshot arrives sealed and restores.
    h, dst, psk = start(sealed=True)
    r = replicate(psk, 0)
    assert "published" in r.stdout
    out = workdir / "out.img"
    snap(haven_bin, dst, "restore", name, out)
    assert sha(out) == sha(img)
    for p in chunk_files(dst):
        with open(p, "rb") as f:
            assert MARK not in f.read()
    h.stop()
    # A plain receiver, or one with another key: refused, nothing stored.
    for sealed in (False, True):
        h, dst, psk = start(sealed=sealed, same_key=False)
        r = replicate(psk, 1)
        assert "must share a key" in r.stderr, r.stderr
        assert chunk_files(dst) == []
        h.stop()
