"""Failover and failback of a replicated volume between two nodes.

Two network namespaces on a veth (198.18.0.1 node A, 198.18.0.2 node B),
each with a `haven run` whose snap plane receives into that node's store.
The volume is a file system image (ext4, and XFS when mkfs.xfs is there),
loop-mounted to write files into it and unmounted before each snapshot so
every snapshot is of a clean file system.

A is primary and replicates to B. A writes once more, snapshots, and dies
before that snapshot leaves. B is promoted: its image has every file up
to the last replicated snapshot and not the last one. While both call
themselves primary, each refuses the other's snapshots (ROLE). A comes
back and is demoted with its image: a final snapshot keeps what it wrote
after its last snapshot (a demote whose image has not changed since makes
none). Reprotecting A from B is refused as diverged until the operator
forces it; A then keeps its own snapshots as data.diverged-*, and only the
chunks that changed travel. A planned failback (demote B, replicate,
promote A) brings B's writes home; the diverged snapshot still restores
A's lost file. Every image restored mounts and passes fsck.

The CLI runs as the snap plane's user (haven, else nobody): the store is
shared by both. Needs root, network namespaces and loop devices.
"""

import os
import pwd
import re
import shutil
import subprocess
import tempfile

import pytest

VOL = "data"
A, B, PORT = "198.18.0.1", "198.18.0.2", 7412


def run_user():
    for name in ("haven", "nobody"):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            pass
    pytest.skip("neither user haven nor nobody exists")


FS = {
    # name: (mkfs argv, image MiB, fsck argv)
    "ext4": (["mkfs.ext4", "-q", "-F", "-b", "4096"], 32,
             ["e2fsck", "-fn"]),
    "xfs": (["mkfs.xfs", "-q", "-f"], 320, ["xfs_repair", "-n"]),
}


@pytest.fixture(params=sorted(FS))
def nodes(request, netns, haven, haven_bin, workdir):
    fs = request.param
    mkfs, mib, fsck = FS[fs]
    if os.geteuid() != 0:
        pytest.skip("needs root (namespaces, loop mounts)")
    if shutil.which(mkfs[0]) is None or shutil.which(fsck[0]) is None:
        pytest.skip("%s or %s not installed" % (mkfs[0], fsck[0]))
    na, nb = netns.ns("fa"), netns.ns("fb")
    netns.link(na, nb, A + "/24", B + "/24")
    pw = run_user()
    top = tempfile.mkdtemp(prefix="hv-snapfo-")
    os.chmod(top, 0o711)
    psk = os.path.join(top, "psk")
    with open(psk, "wb") as f:
        f.write(os.urandom(32))
    os.chmod(psk, 0o600)
    os.chown(psk, pw.pw_uid, pw.pw_gid)
    mnt = os.path.join(top, "mnt")
    os.mkdir(mnt)
    n = {"fs": fs, "fsck": fsck, "psk": psk, "mnt": mnt, "bin": haven_bin,
         "pw": pw, "top": top, "ns": {"A": na, "B": nb},
         "ip": {"A": A, "B": B}, "daemon": {}}
    for node in ("A", "B"):
        d = os.path.join(top, node)
        os.mkdir(d)
        os.chown(d, pw.pw_uid, pw.pw_gid)
        n[node] = {"store": os.path.join(d, "store"),
                   "img": os.path.join(d, "vol.img")}

    def start(node):
        wd = os.path.join(str(workdir), node)
        os.makedirs(wd, exist_ok=True)
        cfg = ("haven:\n  state_dir: %s/state\n"
               "api:\n  socket: %s/haven.sock\n"
               "snap:\n  listen: %s:%d\n  store: %s\n  psk_file: %s\n"
               % (wd, wd, n["ip"][node], PORT, n[node]["store"], psk))
        n["daemon"][node] = haven(cfg, ns=n["ns"][node], name="node" + node)

    n["start"] = start
    # A's image: a fresh file system, owned by the CLI's user.
    img = n["A"]["img"]
    with open(img, "wb") as f:
        f.truncate(mib << 20)
    subprocess.run(mkfs + [img], check=True, capture_output=True)
    os.chown(img, pw.pw_uid, pw.pw_gid)
    yield n
    subprocess.run(["umount", mnt], capture_output=True)
    shutil.rmtree(top, ignore_errors=True)


def hsnap(n, node, *args, check=0, ns=False):
    """`haven snap ARGS --store <node's store>` as the plane's user."""
    pw = n["pw"]
    argv = ["setpriv", "--reuid=%d" % pw.pw_uid, "--regid=%d" % pw.pw_gid,
            "--clear-groups", n["bin"], "snap", args[0], "--store",
            n[node]["store"]] + [str(x) for x in args[1:]]
    if ns:
        argv = ["ip", "netns", "exec", n["ns"][node].name] + argv
    r = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    assert "Sanitizer" not in r.stderr and "runtime error" not in r.stderr, \
        r.stderr
    if check is not None:
        assert r.returncode == check, (args, r.returncode, r.stdout,
                                       r.stderr)
    return r


def send(n, frm, to, *extra, cmd="replicate", check=0):
    return hsnap(n, frm, cmd, "--to", "%s:%d" % (n["ip"][to], PORT),
                 "--psk-file", n["psk"], "--timeout", "10", *extra, VOL,
                 check=check, ns=True)


def write_files(n, img, names):
    """Mount img, write a file per name (its content derived from it)."""
    subprocess.run(["mount", "-o", "loop", img, n["mnt"]], check=True)
    try:
        for name in names:
            with open(os.path.join(n["mnt"], name), "wb") as f:
                f.write((name * 4096).encode()[:1 << 20])
    finally:
        subprocess.run(["umount", n["mnt"]], check=True)


def files_in(n, img):
    """fsck img (read-only), mount it, return {name: intact?}."""
    r = subprocess.run(n["fsck"] + [img], capture_output=True, text=True)
    assert r.returncode == 0, (n["fsck"], r.stdout, r.stderr)
    subprocess.run(["mount", "-o", "loop,ro", img, n["mnt"]], check=True)
    try:
        out = {}
        for name in os.listdir(n["mnt"]):
            p = os.path.join(n["mnt"], name)
            if os.path.isfile(p):
                with open(p, "rb") as f:
                    out[name] = f.read() == (name * 4096).encode()[:1 << 20]
        return out
    finally:
        subprocess.run(["umount", n["mnt"]], check=True)


def create(n, node):
    r = hsnap(n, node, "create", "--volume", VOL, n[node]["img"])
    return re.search(r"^snapshot %s/(\S+)$" % VOL, r.stdout, re.M).group(1)


def role(n, node):
    r = hsnap(n, node, "role", VOL)
    return r.stdout.splitlines()[1].split()[1]


def stats(r):
    m = re.search(r"chunks=(\d+) wanted=(\d+) of=(\d+)", r.stdout)
    return dict(zip(("chunks", "wanted", "of"), map(int, m.groups())))


def test_failover_then_failback(nodes):
    n = nodes
    n["start"]("A")
    n["start"]("B")
    img_a, img_b = n["A"]["img"], n["B"]["img"]

    # A is primary; two snapshots reach B.
    write_files(n, img_a, ["one", "two"])
    create(n, "A")
    send(n, "A", "B")
    write_files(n, img_a, ["three"])
    create(n, "A")
    send(n, "A", "B")
    assert (role(n, "A"), role(n, "B")) == ("primary", "replica")
    # A B-side create is refused: it is a replica there.
    r = hsnap(n, "B", "create", "--volume", VOL, img_a, check=1)
    assert "is a replica on this node" in r.stderr
    # A writes "lost" and snapshots it, then dies before replicating.
    write_files(n, img_a, ["lost"])
    create(n, "A")
    n["daemon"]["A"].stop()

    # Failover: B promotes its newest complete snapshot into its image.
    r = hsnap(n, "B", "promote", "--to", img_b, VOL)
    assert "promoted %s: primary here" % VOL in r.stdout, r.stdout
    assert files_in(n, img_b) == {"one": True, "two": True, "three": True}
    write_files(n, img_b, ["four"])
    create(n, "B")
    assert role(n, "B") == "primary"

    # A returns, still primary: each side refuses the other (exit 8).
    n["start"]("A")
    r = send(n, "B", "A", cmd="reprotect", check=8)
    assert "primary on the receiver" in r.stderr, r.stderr
    r = send(n, "A", "B", check=8)

    # The operator demotes A with its image (a final snapshot), then
    # reprotects: refused as diverged (exit 7) until forced.
    write_files(n, img_a, ["unsaved"])   # after A's last snapshot
    r = hsnap(n, "A", "demote", "--from", img_a, VOL)
    assert "final snapshot %s/" % VOL in r.stdout, r.stdout
    r = send(n, "B", "A", cmd="reprotect", check=7)
    assert "diverged" in r.stderr, r.stderr
    r = send(n, "B", "A", "--force-diverged", cmd="reprotect")
    assert "kept as %s.diverged-" % VOL in r.stdout, r.stdout
    st = stats(r)
    print("%s reprotect after divergence: %d of %d chunks sent back"
          % (n["fs"], st["wanted"], st["of"]))
    # Only what B changed travels back: its files, the metadata blocks.
    assert 0 < st["wanted"] <= st["of"] // 4, st
    lst = hsnap(n, "A", "list").stdout
    aside = re.findall(r"^(%s\.diverged-\d+)\s+(\S+)" % VOL, lst, re.M)
    assert len(aside) == 2, lst   # "lost" and the demote's final one
    # A replica of B now: B's next snapshot fast-forwards A.
    write_files(n, img_b, ["five"])
    create(n, "B")
    r = send(n, "B", "A", cmd="reprotect")
    assert "published" in r.stdout

    # Planned failback: demote B with its image (unchanged since its last
    # snapshot: no final one), ship, promote A.
    r = hsnap(n, "B", "demote", "--from", img_b, VOL)
    assert "no final snapshot" in r.stdout and "final=-" in r.stdout, \
        r.stdout
    send(n, "B", "A")
    hsnap(n, "A", "promote", "--to", img_a, VOL)
    assert (role(n, "A"), role(n, "B")) == ("primary", "replica")
    assert files_in(n, img_a) == {"one": True, "two": True, "three": True,
                                  "four": True, "five": True}
    # A's own last write is not lost: its diverged snapshot has it.
    lost_img = os.path.join(n["top"], "A", "lost.img")
    hsnap(n, "A", "restore", "%s/%s" % aside[-1], lost_img)
    got = files_in(n, lost_img)
    assert got["lost"] is True and got["unsaved"] is True, got
    # And A replicates to B again.
    write_files(n, img_a, ["six"])
    create(n, "A")
    send(n, "A", "B")
    assert role(n, "B") == "replica"
