"""Least privilege under `haven run` as root: every child runs as
haven.user (haven, else nobody) with no_new_privs and only the capabilities
its plane needs, read from /proc/PID/status as the kernel sees them:

- hc keeps CAP_NET_RAW only for an icmp check that cannot use a ping socket
  (net.ipv4.ping_group_range of its namespace excludes its group);
- lb keeps nothing, even with a listener on port 80: the parent binds the
  listeners and hands the sockets over;
- otherwise a child has no capability at all, in any set.

The icmp check still sees its host up, the lb on port 80 still serves
through curl, hc still writes its state file, and /v1/status and
`haven status --json` report each process's uid and capabilities. A
reload that moves a listener to port 80 works; one that would need a
capability a child gave up is refused by it, and the running config keeps
serving. Everything runs in namespaces on 198.18.0.0/15."""

import json
import os
import pwd
import subprocess

import pytest

from havenlib import hc
from havenlib.haven import free_port, http_get
from havenlib.poll import wait_until

CAP_NET_BIND_SERVICE = 10
CAP_NET_RAW = 13
# CHOWN DAC_OVERRIDE KILL SETGID SETUID SETPCAP NET_BIND_SERVICE NET_ADMIN
# NET_RAW IPC_LOCK SYS_NICE: what the parent keeps (lib/priv.h,
# PRIV_PARENT_KEEP, and the planes' caps_bound in cmd/planes.c). BPF only
# with dns.xdp in the start config (parent_socks_caps; test_dns_xdp).
PARENT_KEEP = sum(1 << c for c in (0, 1, 5, 6, 7, 8, 10, 12, 13, 14, 23))
LB_ADDR = hc.HAVEN_ADDR


def run_as():
    """The user children drop to by default."""
    for name in ("haven", "nobody"):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            pass
    raise AssertionError("neither haven nor nobody exists")


def proc_status(pid):
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            out[k] = v.split()
    return out


def assert_dropped(pid, user, caps):
    """pid runs as user with exactly caps (a bit mask) in every set that
    could give it more, and no_new_privs."""
    st = proc_status(pid)
    assert [int(x) for x in st["Uid"]] == [user.pw_uid] * 4, st["Uid"]
    assert [int(x) for x in st["Gid"]] == [user.pw_gid] * 4, st["Gid"]
    assert st["NoNewPrivs"] == ["1"], st["NoNewPrivs"]
    for k in ("CapEff", "CapPrm", "CapBnd"):
        assert int(st[k][0], 16) == caps, (pid, k, st[k], caps)
    for k in ("CapInh", "CapAmb"):
        assert int(st[k][0], 16) == 0, (pid, k, st[k])


def cap_names(mask):
    return sorted({CAP_NET_RAW: "cap_net_raw",
                   CAP_NET_BIND_SERVICE: "cap_net_bind_service"}[c]
                  for c in (CAP_NET_RAW, CAP_NET_BIND_SERVICE)
                  if mask >> c & 1)


def ns_sysctl(ns, key):
    return ns.run(["cat", "/proc/sys/" + key.replace(".", "/")]).stdout


def running(h, want):
    """The status's processes once want of them run (pids known)."""
    def ready():
        ps = [p for p in h.status()["processes"] if p["state"] == "running"]
        return ps if len(ps) == want else None
    return wait_until(ready, timeout=10, what="%d processes running" % want)


CONFIG = """\
haven:
  state_dir: {dir}/state
api:
  socket: {dir}/haven.sock
health:
  defaults: {{ interval: 300ms, timeout: 1s, rise: 1, fall: 1 }}
  checks:
{icmp}    - {{ name: web-tcp, type: tcp }}
lb:
  workers: 2
  listeners:
    - {{ name: web, bind: "{lb}:{port}", mode: http, pool: web }}
  pools:
    - name: web
      health_check: web-tcp
      servers:
        - {{ name: n, address: "{be}:{be_port}" }}
"""
ICMP = "    - {{ name: host, type: icmp, address: \"{be}\" }}\n"


def two_namespaces(netns, nginx, workdir, port, icmp):
    hv, be, _ = hc.two_hosts(netns)
    n = nginx(hc.BACKEND_ADDR, free_port(), body="through\n", ns=be)
    text = CONFIG.format(dir=workdir, lb=LB_ADDR, port=port,
                         be=hc.BACKEND_ADDR, be_port=n.port,
                         icmp=ICMP.format(be=hc.BACKEND_ADDR) if icmp else "")
    return hv, text


@pytest.mark.root
def test_children_keep_only_what_their_plane_needs(netns, haven, nginx,
                                                   workdir, haven_bin):
    user = run_as()
    hv, text = two_namespaces(netns, nginx, workdir, 80, icmp=True)
    h = haven(text, ns=hv)
    procs = running(h, 3)

    lo, hi = (int(x) for x in ns_sysctl(
        hv, "net.ipv4.ping_group_range").split())
    hc_caps = 0 if lo <= user.pw_gid <= hi else 1 << CAP_NET_RAW
    lb_caps = 0
    want = {"hc": hc_caps, "lb": lb_caps}
    for p in procs:
        assert_dropped(p["pid"], user, want[p["plane"]])
        # The API reports what /proc says.
        assert p["uid"] == user.pw_uid, p
        assert sorted(p["caps"]) == cap_names(want[p["plane"]]), p

    # The parent stays root (it supervises, binds and owns the API
    # socket) with only what that needs, in its bounding set too.
    st = h.status()
    assert st["uid"] == 0 and "cap_setuid" in st["caps"], st
    assert "cap_sys_admin" not in st["caps"], st
    parent = proc_status(st["pid"])
    for k in ("CapEff", "CapPrm", "CapBnd"):
        assert int(parent[k][0], 16) == PARENT_KEEP, (k, parent[k])

    # Still working: icmp sees its host, the lb serves on port 80.
    hc.wait_state(h, "host", "up", timeout=5)
    url = "http://%s:80/" % LB_ADDR
    wait_until(lambda: http_get(url, ns=hv) == (200, b"through\n"),
               timeout=10, what="lb on port 80 through curl")
    # hc writes its state as the unprivileged user.
    state = workdir / "state" / "health.json"
    wait_until(state.exists, timeout=10, what="health.json written")
    assert state.stat().st_uid == user.pw_uid

    cp = subprocess.run([haven_bin, "status", "-c", h.config, "--json"],
                        capture_output=True, text=True, timeout=10)
    assert cp.returncode == 0, cp.stderr
    doc = json.loads(cp.stdout)
    for p in doc["processes"]:
        assert p["uid"] == user.pw_uid and \
            sorted(p["caps"]) == cap_names(want[p["plane"]]), p
    cp = subprocess.run([haven_bin, "status", "-c", h.config],
                        capture_output=True, text=True, timeout=10)
    assert cp.returncode == 0, cp.stderr
    lb_rows = [ln.split() for ln in cp.stdout.splitlines()
               if ln.startswith("lb ")]
    assert len(lb_rows) == 2, cp.stdout
    assert all(r[6] == str(user.pw_uid) and
               r[7] == (",".join(cap_names(lb_caps)) or "none")
               for r in lb_rows), cp.stdout


@pytest.mark.root
def test_nothing_kept_when_nothing_needed_and_reload_cannot_add(
        netns, haven, nginx, workdir):
    user = run_as()
    port = free_port()
    hv, text = two_namespaces(netns, nginx, workdir, port, icmp=False)
    cfg = workdir / "haven.yaml"
    cfg.write_text(text)
    h = haven(str(cfg), ns=hv)
    for p in running(h, 3):
        assert_dropped(p["pid"], user, 0)
        assert p["caps"] == [], p
    url = "http://%s:%d/" % (LB_ADDR, port)
    wait_until(lambda: http_get(url, ns=hv) == (200, b"through\n"),
               timeout=10, what="lb serving")

    # The parent binds port 80 for the workers: nothing to keep for it.
    cfg.write_text(text.replace(":%d\"" % port, ":80\"", 1))
    r = h.api("POST", "/v1/reload")
    assert r.status == 200, r
    url80 = "http://%s:80/" % LB_ADDR
    wait_until(lambda: http_get(url80, ns=hv) == (200, b"through\n"),
               timeout=10, what="lb moved to port 80")

    # An icmp check without ping sockets needs CAP_NET_RAW, which hc gave
    # up at start: it refuses the config with the reason and keeps
    # serving the old one; the reload's answer says so (422).
    lo, hi = (int(x) for x in ns_sysctl(
        hv, "net.ipv4.ping_group_range").split())
    if lo <= user.pw_gid <= hi:
        pytest.skip("ping sockets allowed for %d here" % user.pw_gid)
    text80 = cfg.read_text()
    cfg.write_text(text80.replace(
        "  checks:\n", "  checks:\n" + ICMP.format(be=hc.BACKEND_ADDR), 1))
    r = h.api("POST", "/v1/reload")
    assert r.status == 422, r
    assert r.json["ok"] is False, r.json
    got = {(x["plane"], x["worker"]): x for x in r.json["processes"]}
    assert got[("lb", 0)]["result"] == got[("lb", 1)]["result"] == \
        "applied", r.json
    assert got[("hc", 0)]["result"] == "rejected", r.json
    assert any("needs cap_net_raw, given up when it dropped root" in e
               for e in got[("hc", 0)]["errors"]), r.json
    assert h.proc.log_text().count(
        "needs cap_net_raw, given up when it dropped root: "
        "restart haven") == 1
    assert http_get(url80, ns=hv) == (200, b"through\n")
    assert "host" not in hc.checks(h)


@pytest.mark.root
def test_user_root_keeps_root(haven, workdir):
    """haven.user: root is the operator's way back to the old behaviour."""
    h = haven("haven:\n  state_dir: %s/state\n  user: root\n"
              "api:\n  socket: %s/haven.sock\nhealth: {}\n"
              % (workdir, workdir))
    (p,) = running(h, 1)
    st = proc_status(p["pid"])
    assert st["Uid"] == ["0"] * 4 and st["NoNewPrivs"] == ["0"], st
    assert os.stat(workdir / "state").st_uid == 0
