"""`haven snap` on directory trees (`create --tree DIR`, or a directory
given as the source).

A tree with hard links, symlinks (relative, absolute, dangling, to a
directory), user.* xattrs, odd names (spaces, a newline, UTF-8, leading
dashes), empty directories, a read-only directory, an empty file and a
5 MiB random file comes back from `restore` identical: content, type,
mode, mtime (ns), link targets, the grouping of hard links, xattrs, and
owners and trusted.* xattrs when run as root; a FIFO is left out with a
warning. A create reads only the files whose size, mtime, ctime or
inode differ from the parent snapshot's (a rewrite with the old mtime
put back is read). Restored by an unprivileged user, the same but owners and the
non-user.* xattrs. An incremental snapshot after inserting bytes in the
middle of the big file stores a few new chunks (content-defined
chunking), and `diff` names that one file. A flipped byte in a stored
chunk is found by `verify`, which names the file it belongs to; a
restore that needs it writes nothing. delete + gc free the tree's
chunks. A tree snapshot replicates to a peer and restores there (root
and namespaces needed for the unprivileged restore and the replication;
they skip without them).
"""

import hashlib
import os
import random
import re
import stat
import subprocess

import pytest

from test_snap_repl import (create as repl_create, listed, replicate,
                            root_of, site, snap as repl_snap)

MIB = 1 << 20
ODD = ["with space", "new\nline", "ünï-cödé ✓", "-leading-dash", "--rf",
       "back\\slash"]

assert site  # the replication fixture, used by test_tree_replicates


def snap(haven_bin, store, *args, check=None, timeout=60):
    r = subprocess.run([haven_bin, "snap", args[0], "--store", str(store)]
                       + [str(a) for a in args[1:]],
                       capture_output=True, text=True, timeout=timeout)
    if check is not None:
        assert r.returncode == check, (r.returncode, r.stdout, r.stderr)
    assert "Sanitizer" not in r.stderr and "runtime error" not in r.stderr, \
        r.stderr
    return r


def create(haven_bin, store, src, *extra, volume="t"):
    r = snap(haven_bin, store, "create", "--volume", volume, *extra, src,
             check=0)
    name = re.search(r"^snapshot (\S+)$", r.stdout, re.M).group(1)
    stats = dict(kv.split("=", 1) for kv in
                 r.stdout.strip().splitlines()[-1].split())
    return name, {k: (int(v) if v.isdigit() else v) for k, v in stats.items()}


def xattrs_supported(path):
    try:
        os.setxattr(path, "user.haven-probe", b"1")
        os.removexattr(path, "user.haven-probe")
        return True
    except OSError:
        return False


def make_tree(root, rng):
    """The tree of the module docstring; returns whether it has xattrs."""
    os.makedirs(root / "sub" / "deep")
    os.makedirs(root / "empty" / "nested-empty")
    (root / "big.bin").write_bytes(rng.randbytes(5 * MIB))
    (root / "empty-file").write_bytes(b"")
    (root / "sub" / "a.txt").write_bytes(b"hard linked\n")
    os.link(root / "sub" / "a.txt", root / "hl1")
    os.link(root / "sub" / "a.txt", root / "sub" / "deep" / "hl2")
    (root / "sub" / "deep" / "x.txt").write_bytes(b"x" * 70000)
    os.symlink("sub/a.txt", root / "link")
    os.symlink("/nonexistent/target", root / "dangling")
    os.symlink("sub", root / "dirlink")
    for i, n in enumerate(ODD):
        (root / n).write_bytes(n.encode() * (i + 1))
    os.makedirs(root / "ro-dir")
    (root / "ro-dir" / "inside").write_bytes(b"in a read-only dir")
    os.chmod(root / "sub" / "deep" / "x.txt", 0o600)
    os.chmod(root / "big.bin", 0o755)
    os.chmod(root / "sub", 0o2750)
    xa = xattrs_supported(root / "empty-file")
    if xa:
        os.setxattr(root / "big.bin", "user.checksum", b"abc\x00def")
        os.setxattr(root / "big.bin", "user.empty", b"")
        os.setxattr(root / "sub", "user.dir", b"on a directory")
        os.setxattr(root, "user.root", b"on the root")
    # Distinct mtimes with nanoseconds, directories last (their own
    # entries change them), the read-only directory after its file.
    t = 1_700_000_000_123_456_789
    for dirpath, dirs, files in os.walk(root, topdown=False):
        for n in files + dirs:
            t += 1_000_001_007
            os.utime(os.path.join(dirpath, n), ns=(t, t),
                     follow_symlinks=False)
    os.chmod(root / "ro-dir", 0o500)
    os.utime(root / "ro-dir", ns=(t - 5, t - 5))
    os.utime(root, ns=(t + 99, t + 99))
    return xa


def walk(root):
    """Everything restore promises to keep, keyed by relative path."""
    out, inodes = {}, {}
    for dirpath, dirs, files in os.walk(root):
        for n in [""] + dirs + files if dirpath == str(root) else dirs + files:
            p = os.path.join(dirpath, n) if n else dirpath
            rel = os.path.relpath(p, root)
            st = os.lstat(p)
            rec = {"mode": stat.S_IMODE(st.st_mode),
                   "type": stat.S_IFMT(st.st_mode)}
            if not stat.S_ISLNK(st.st_mode):
                rec["mtime"] = st.st_mtime_ns
                rec["xattrs"] = {k: os.getxattr(p, k) for k in
                                 sorted(os.listxattr(p))
                                 if k.startswith("user.")}
            else:
                rec["mtime"] = st.st_mtime_ns
                rec["target"] = os.readlink(p)
            if os.geteuid() == 0:
                rec["owner"] = (st.st_uid, st.st_gid)
            if stat.S_ISREG(st.st_mode):
                with open(p, "rb") as f:
                    rec["sha"] = hashlib.sha256(f.read()).hexdigest()
                if st.st_nlink > 1:
                    inodes.setdefault(st.st_ino, []).append(rel)
            out[rel] = rec
    groups = sorted(sorted(v) for v in inodes.values())
    return out, groups


def test_tree_round_trip(haven_bin, workdir):
    rng = random.Random(1)
    src, store = workdir / "src", workdir / "store"
    xa = make_tree(src, rng)
    if xa and os.geteuid() == 0:
        os.setxattr(src / "empty-file", "trusted.haven", b"root only")
    name, st = create(haven_bin, store, src, "--tree")
    assert st["size"] > 5 * MIB and st["new"] >= 5 * MIB // (256 << 10), st
    out = workdir / "out"
    r = snap(haven_bin, store, "restore", name, out, check=0)
    assert "restored %s to %s" % (name, out) in r.stdout
    want, got = walk(src), walk(out)
    assert sorted(got[0]) == sorted(want[0])
    for k in want[0]:
        assert got[0][k] == want[0][k], (k, got[0][k], want[0][k])
    assert got[1] == want[1] == [["hl1", "sub/a.txt", "sub/deep/hl2"]]
    if xa:
        assert got[0]["big.bin"]["xattrs"]["user.checksum"] == b"abc\0def"
        assert got[0]["."]["xattrs"] == {"user.root": b"on the root"}
        if os.geteuid() == 0:   # other namespaces as root
            assert os.getxattr(out / "empty-file", "trusted.haven") == \
                b"root only"
    # Nothing left beside the target.
    assert sorted(p.name for p in workdir.iterdir()) == \
        ["out", "src", "store"]

    # A directory as the source is a tree too; a second snapshot of the
    # same tree stores nothing new but the index's chunks, if even those.
    name2, st2 = create(haven_bin, store, src)
    assert st2["new"] <= 1, st2
    r = snap(haven_bin, store, "diff", name, name2, check=0)
    assert "# 0 added, 0 removed, 0 changed, 0 metadata only" in r.stdout

    # An existing, non-empty target is refused and left alone; an empty
    # directory is replaced; a tree has no raw image to export.
    r = snap(haven_bin, store, "restore", name, out, check=1)
    assert "exists and is not empty" in r.stderr
    assert walk(out)[0] == got[0]
    empty = workdir / "empty-target"
    empty.mkdir()
    snap(haven_bin, store, "restore", name2, empty, check=0)
    assert walk(empty)[0] == want[0]
    r = snap(haven_bin, store, "export", name, workdir / "x.raw", check=1)
    assert "no raw image" in r.stderr
    r = snap(haven_bin, store, "create", "--volume", "t", "--tree",
             src / "big.bin", check=1)
    assert "not a directory" in r.stderr
    snap(haven_bin, store, "verify", check=0)
    r = snap(haven_bin, store, "list", check=0)
    assert name.split("/")[1] in r.stdout

    # A FIFO is left out, and said so.
    os.mkfifo(src / "fifo")
    r = snap(haven_bin, store, "create", "--volume", "t", src, check=0)
    assert "1 sockets, FIFOs, device nodes" in r.stderr
    name3 = re.search(r"^snapshot (\S+)$", r.stdout, re.M).group(1)
    snap(haven_bin, store, "restore", name3, workdir / "out3", check=0)
    assert not os.path.lexists(workdir / "out3" / "fifo")


def test_tree_restore_unprivileged(haven_bin, workdir):
    """Not root: no chown, user.* xattrs only; the rest as above."""
    if os.geteuid() != 0:
        pytest.skip("needs root to run a restore as nobody")
    import pwd
    import shutil
    nobody = pwd.getpwnam("nobody")
    src, store = workdir / "src", workdir / "store"
    xa = make_tree(src, random.Random(5))
    if xa:
        os.setxattr(src / "empty-file", "trusted.haven", b"root only")
    name, _ = create(haven_bin, store, src, "--tree")
    # nobody's own copy of the store, and a directory to restore into.
    top = workdir / "nobody"
    top.mkdir()
    shutil.copytree(store, top / "store")
    for d, dirs, files in os.walk(top):
        for n in [d] + [os.path.join(d, x) for x in dirs + files]:
            os.chown(n, nobody.pw_uid, nobody.pw_gid)
    os.chmod(workdir, 0o755)
    r = subprocess.run(
        ["setpriv", "--reuid=%d" % nobody.pw_uid,
         "--regid=%d" % nobody.pw_gid, "--clear-groups", haven_bin, "snap",
         "restore", "--store", str(top / "store"), name, str(top / "out")],
        capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, (r.stdout, r.stderr)
    want, got = walk(src)[0], walk(top / "out")[0]
    assert sorted(got) == sorted(want)
    for k in want:
        assert got[k]["owner"] == (nobody.pw_uid, nobody.pw_gid), k
        for f in ("mode", "mtime", "sha", "target", "xattrs"):
            assert got[k].get(f) == want[k].get(f), (k, f)
    assert walk(top / "out")[1] == walk(src)[1]
    if xa:
        assert "trusted.haven" not in os.listxattr(top / "out" / "empty-file")


def test_tree_incremental_insert(haven_bin, workdir):
    rng = random.Random(2)
    src, store = workdir / "src", workdir / "store"
    make_tree(src, rng)
    base, st = create(haven_bin, store, src, "--tree")
    assert st["read"] == st["size"], st
    # Unchanged files (path, size, mtime, ctime, inode as the parent has
    # them) are not even read.
    _, st = create(haven_bin, store, src, "--tree")
    assert st["read"] == 0 and st["new"] == 0, st
    base, st = create(haven_bin, store, src, "--tree")
    big = src / "big.bin"
    data = big.read_bytes()
    mtime = os.stat(big).st_mtime_ns
    with open(big, "r+b") as f:      # in place: the directory is unchanged
        f.write(data[:len(data) // 2] + rng.randbytes(1000) +
                data[len(data) // 2:])
    os.utime(big, ns=(mtime + 1, mtime + 1))
    inc, st = create(haven_bin, store, src, "--tree")
    # Only big.bin is read; the chunk with the insert, maybe its
    # neighbour, and the index are new.
    assert st["read"] == len(data) + 1000, st
    assert 1 <= st["new"] <= 4, st
    assert st["new_bytes"] < 1 * MIB, st
    r = snap(haven_bin, store, "diff", base, inc, check=0)
    lines = [ln for ln in r.stdout.splitlines() if not ln.startswith("#")]
    assert lines == ["changed big.bin"], r.stdout
    assert "# 0 added, 0 removed, 1 changed, 0 metadata only" in r.stdout

    # Renames and metadata show up by path, odd names escaped.
    os.chmod(src / "empty-file", 0o640)
    os.rename(src / "new\nline", src / "renamed")
    third, _ = create(haven_bin, store, src, "--tree")
    r = snap(haven_bin, store, "diff", inc, third, check=0)
    body = r.stdout.splitlines()
    assert "removed new\\nline" in body and "added renamed" in body
    assert "meta empty-file" in body and "meta ." in body, r.stdout

    # Same size, old mtime put back: the ctime still tells.
    x = src / "sub" / "deep" / "x.txt"
    st_x = os.stat(x)
    x.write_bytes(b"y" * st_x.st_size)
    os.utime(x, ns=(st_x.st_atime_ns, st_x.st_mtime_ns))
    fourth, st = create(haven_bin, store, src, "--tree")
    assert st["read"] == st_x.st_size, st
    r = snap(haven_bin, store, "diff", third, fourth, check=0)
    assert "changed sub/deep/x.txt" in r.stdout.splitlines(), r.stdout

    out = workdir / "out"
    snap(haven_bin, store, "restore", inc, out, check=0)
    assert (out / "big.bin").read_bytes() == big.read_bytes()
    assert walk(out)[0]["big.bin"] == walk(src)[0]["big.bin"]


def manifest_lines(store, name):
    vol, sid = name.split("/")
    return (store / "snapshots" / vol / sid).read_text().split("\n")


def test_tree_bit_rot_names_the_file(haven_bin, workdir):
    rng = random.Random(3)
    src, store = workdir / "src", workdir / "store"
    make_tree(src, rng)
    name, _ = create(haven_bin, store, src, "--tree")
    lines = manifest_lines(store, name)
    nindex = int(next(ln for ln in lines if ln.startswith("index "))[6:])
    n = int(next(ln for ln in lines if ln.startswith("chunks "))[7:])
    ids = lines[lines.index("chunks %d" % n) + 1:][:n]
    # Data chunks follow the files in path order: "--rf",
    # "-leading-dash" and "back\\slash" (one chunk each), then big.bin.
    victim = ids[nindex + 3 + 3]
    path = store / "chunks" / victim[:2] / victim
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x40
    path.write_bytes(bytes(data))

    r = snap(haven_bin, store, "verify", check=3)
    assert "damaged chunk %s" % victim in r.stdout
    assert "file big.bin (data chunk 4 of" in r.stdout, r.stdout
    assert "DAMAGED " + name in r.stdout
    out = workdir / "out"
    r = snap(haven_bin, store, "restore", name, out, check=3)
    assert "big.bin" in r.stderr and victim in r.stderr
    assert sorted(p.name for p in workdir.iterdir()) == ["src", "store"]

    # The index itself damaged: named as such; restore refuses.
    path.write_bytes(bytes(data[:len(data) // 2]) + b"x" +
                     bytes(data[len(data) // 2 + 1:]))
    ipath = store / "chunks" / ids[0][:2] / ids[0]
    idata = bytearray(ipath.read_bytes())
    idata[-3] ^= 0x01
    ipath.write_bytes(bytes(idata))
    r = snap(haven_bin, store, "verify", name, check=3)
    assert "tree index chunk 0" in r.stdout, r.stdout
    snap(haven_bin, store, "restore", name, out, check=3)
    assert not out.exists()

    # delete + gc: every chunk of the tree goes.
    snap(haven_bin, store, "delete", name, check=0)
    r = snap(haven_bin, store, "gc", check=0)
    assert "deleted=%d" % len(set(ids)) in r.stdout, r.stdout
    assert not any(f for _, _, fs in os.walk(store / "chunks") for f in fs)


def test_tree_replicates(site):
    s = site
    s["start"]()
    src = os.path.join(s["workdir"], "tree")
    from pathlib import Path
    make_tree(Path(src), random.Random(4))
    first = repl_create(s, src)
    r, st = replicate(s)
    assert st["chunks"] == st["wanted"] > 20
    assert listed(s, s["dst"]) == [first]
    assert root_of(s, s["dst"], first) == root_of(s, s["src"], first)
    out = os.path.join(s["workdir"], "restored")
    repl_snap(s, s["dst"], "restore", "vm1/" + first, out)
    assert walk(out) == walk(src)
    # A small change sends a few chunks.
    with open(os.path.join(src, "sub", "deep", "x.txt"), "ab") as f:
        f.write(b"more")
    second = repl_create(s, src)
    r, st = replicate(s)
    assert 1 <= st["chunks"] <= 4, st
    assert listed(s, s["dst"]) == [first, second]
