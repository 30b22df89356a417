"""hc - helpers for the health-engine integration tests (test_hc_*.py).

config() writes a haven config whose `health:` section holds the given
checks (each a dict, rendered as a JSON flow mapping, which is YAML 1.2);
checks()/check() read GET /v1/checks and /v1/checks/NAME; wait_state()
polls a target until it reaches a state and returns how long that took, so
a test can both bound and print a detection time; two_hosts() builds the
usual topology: haven's namespace and a backend namespace joined by a veth.

Times measured here are wall-clock from the test process: they include the
poll interval (POLL_S), which is why bounds carry a slack.
"""

import json
import time
import urllib.parse

from .poll import wait_until

POLL_S = 0.05
HAVEN_ADDR = "198.18.0.1"
BACKEND_ADDR = "198.18.0.2"


def config(workdir, checks, defaults=None, hooks=None, extra=""):
    """The text of a haven config with these health checks."""
    lines = ["haven:",
             "  state_dir: %s/state" % workdir,
             "  log_level: info",
             "api:",
             "  socket: %s/haven.sock" % workdir,
             "health:"]
    if defaults:
        lines.append("  defaults: " + json.dumps(defaults))
    if hooks:
        lines.append("  hooks: " + json.dumps(hooks))
    lines.append("  checks:")
    for c in checks:
        lines.append("    - " + json.dumps(c))
    return "\n".join(lines) + "\n" + extra


def checks(h):
    """{name: summary} from GET /v1/checks."""
    r = h.api("GET", "/v1/checks", timeout=2.0)
    assert r.status == 200, r
    return {c["name"]: c for c in r.json["checks"]}


def check(h, name):
    """GET /v1/checks/NAME as parsed JSON (asserts 200)."""
    r = h.api("GET", "/v1/checks/" + urllib.parse.quote(name, safe=""),
              timeout=2.0)
    assert r.status == 200, r
    return r.json


def wait_state(h, name, state, timeout, reason=None, t0=None):
    """Poll NAME until its state is `state` (and reason, if given).
    Returns (seconds since t0 or since the call, the check's detail)."""
    t0 = time.monotonic() if t0 is None else t0

    def reached():
        c = check(h, name)
        if c["state"] == state and (reason is None or c["reason"] == reason):
            return c
        return None

    c = wait_until(reached, timeout=timeout, interval=POLL_S,
                   what="%s to be %s%s" % (name, state,
                                           "/" + reason if reason else ""))
    return time.monotonic() - t0, c


def report(what, seconds, bound):
    """One line per measurement, visible with -s and in the CI log."""
    print("\nMEASURE %s: %.3f s (bound %.3f s)" % (what, seconds, bound))


def two_hosts(netns):
    """(haven ns, backend ns, backend ifname): a veth 198.18.0.1 <->
    198.18.0.2."""
    hv, be = netns.ns("hv"), netns.ns("be")
    _, be_if = netns.link(hv, be, HAVEN_ADDR + "/24", BACKEND_ADDR + "/24")
    return hv, be, be_if


def hc_pid(h, timeout=5.0):
    """Pid of the running hc child, from /v1/status (waits for it: right
    after startup the child may still be "starting")."""
    def running():
        for p in h.status()["processes"]:
            if p["plane"] == "hc" and p["state"] == "running":
                return p["pid"]
        return None

    return wait_until(running, timeout=timeout, what="a running hc child")


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS for pid %d" % pid)
