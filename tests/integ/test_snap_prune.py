"""`haven snap prune`: retention by --keep-last, --keep-hourly and
--keep-daily over a volume's snapshots, as restic's forget counts them.

Snapshots are made with `haven snap create`, then re-dated (their ID and
`created` rewritten: the root hash does not cover them) so the hours and
days are known: two on day 1 (10:05, 10:40), one on day 2 at 09:00, three
on day 3 (08:00, 08:30, 11:00). --dry-run deletes nothing; the real run
deletes exactly what no rule keeps; gc then frees their chunks.
"""

import calendar
import os
import re
import subprocess

import pytest

WHEN = [(1, 10, 5), (1, 10, 40), (2, 9, 0), (3, 8, 0), (3, 8, 30),
        (3, 11, 0)]


def snap(haven_bin, store, *args, check=0):
    r = subprocess.run([haven_bin, "snap", args[0], "--store", store]
                       + [str(a) for a in args[1:]], capture_output=True,
                       text=True, timeout=60)
    if check is not None:
        assert r.returncode == check, (r.returncode, r.stdout, r.stderr)
    return r


@pytest.fixture
def store(tmp_path, haven_bin):
    """A store with volume vm's six snapshots re-dated to WHEN; returns
    (store, ids) with ids in WHEN's order."""
    st, img = str(tmp_path / "store"), str(tmp_path / "vm.img")
    ids = []
    for i, (d, h, m) in enumerate(WHEN):
        with open(img, "wb") as f:
            f.write(os.urandom(4096) * (i + 1))
        r = snap(haven_bin, st, "create", "--volume", "vm", img)
        old = re.search(r"^snapshot vm/(\S+)$", r.stdout, re.M).group(1)
        t = calendar.timegm((2026, 11, d, h, m, 0))
        new = "202611%02dT%02d%02d00.000000Z-0000000%d" % (d, h, m, i)
        path = os.path.join(st, "snapshots", "vm", old)
        text = open(path).read()
        text = text.replace("id %s\n" % old, "id %s\n" % new)
        text = re.sub(r"^created \d+$", "created %d" % t, text, flags=re.M)
        with open(os.path.join(st, "snapshots", "vm", new), "w") as f:
            f.write(text)
        os.unlink(path)
        ids.append(new)
    # Later snapshots name re-dated parents that are gone: harmless, a
    # manifest never needs its parent.
    return st, ids


def listed(haven_bin, st):
    return sorted(os.listdir(os.path.join(st, "snapshots", "vm")))


def test_dry_run_deletes_nothing(store, haven_bin):
    st, ids = store
    r = snap(haven_bin, st, "prune", "--volume", "vm", "--keep-last", "1",
             "--dry-run")
    assert r.stdout.count("would-delete ") == 5, r.stdout
    assert "would_delete=5" in r.stdout
    assert listed(haven_bin, st) == ids


@pytest.mark.parametrize("flags,kept", [
    (["--keep-last", "2"], [4, 5]),
    # newest of each of the 2 newest hours that have one: 11h, 08h (day 3)
    (["--keep-hourly", "2"], [4, 5]),
    (["--keep-hourly", "4"], [2, 4, 5, 1]),
    # newest of each day: day 3, day 2, day 1
    (["--keep-daily", "3"], [1, 2, 5]),
    (["--keep-last", "1", "--keep-daily", "2"], [2, 5]),
])
def test_policies(store, haven_bin, flags, kept):
    st, ids = store
    r = snap(haven_bin, st, "prune", "--volume", "vm", *flags)
    assert listed(haven_bin, st) == sorted(ids[i] for i in kept), r.stdout
    assert "deleted=%d" % (6 - len(kept)) in r.stdout
    for i in range(6):
        word = "keep" if i in kept else "delete"
        assert "%s vm/%s\n" % (word, ids[i]) in r.stdout, r.stdout


def test_prune_then_gc_frees(store, haven_bin):
    st, ids = store
    snap(haven_bin, st, "prune", "--volume", "vm", "--keep-last", "1")
    r = snap(haven_bin, st, "gc")
    assert int(re.search(r"deleted=(\d+)", r.stdout).group(1)) > 0
    snap(haven_bin, st, "verify", ids[5])


def test_usage(store, haven_bin):
    st, _ = store
    r = snap(haven_bin, st, "prune", "--volume", "vm", check=2)
    assert "at least one" in r.stderr
    snap(haven_bin, st, "prune", "--keep-last", "1", check=2)
    snap(haven_bin, st, "prune", "--volume", "vm", "--keep-last", "x",
         check=2)
