"""Notification hooks: on every published transition an exec hook runs with
the transition in its environment (HAVEN_TARGET, HAVEN_STATE, ...) and a
webhook receives one JSON POST. A tiny HTTP server here records the POSTs;
the exec hook writes its environment to one file per run. Both must match
the transitions GET /v1/checks/NAME reports, one for one."""

import http.server
import json
import threading

import pytest

from havenlib import hc
from havenlib.haven import free_port
from havenlib.poll import wait_until

DEFAULTS = {"interval": "1s", "timeout": "1s", "rise": 2, "fall": 2}


class _Hook(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n)
        self.server.posts.append((self.path, self.headers.get(
            "Content-Type"), body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *a):
        pass


@pytest.fixture
def webhook():
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Hook)
    srv.posts = []
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield srv
    srv.shutdown()
    srv.server_close()


def _env_files(d):
    out = []
    for p in sorted(d.iterdir(), key=lambda p: int(p.name.split(".")[-1])):
        env = dict(ln.split("=", 1) for ln in p.read_text().splitlines()
                   if "=" in ln)
        out.append(env)
    return out


def test_exec_hook_and_webhook_per_transition(haven, nginx, workdir,
                                              webhook):
    hooks = workdir / "hooks"
    own = workdir / "own"
    for d in (hooks, own):
        d.mkdir()
        # Started as root, hooks run as haven.user (README, Privileges).
        d.chmod(0o777)
    n = nginx("127.0.0.1", free_port())
    url = "http://127.0.0.1:%d/alert" % webhook.server_address[1]
    h = haven(hc.config(workdir, [
        {"name": "web", "type": "http", "path": "/healthz",
         "address": "127.0.0.1:%d" % n.port,
         "hooks": {"exec": "env > %s/$(date +%%s%%N)" % own}}],
        defaults=DEFAULTS,
        hooks={"exec": "env | grep ^HAVEN_ > %s/run.$(date +%%s%%N)" % hooks,
               "webhook": url, "timeout": "2s"}))
    hc.wait_state(h, "web", "up", timeout=5)
    n.kill()
    hc.wait_state(h, "web", "down", timeout=6)
    trans = list(reversed(hc.check(h, "web")["transitions"]))  # oldest 1st
    print("\ntransitions: %r" % [(t["from"], t["to"], t["reason"])
                                 for t in trans])
    assert [t["to"] for t in trans][-2:] == ["up", "down"], trans

    wait_until(lambda: len(webhook.posts) >= len(trans), timeout=5,
               what="%d webhook POSTs" % len(trans))
    wait_until(lambda: len(list(hooks.iterdir())) >= len(trans), timeout=5,
               what="%d exec hook runs" % len(trans))
    wait_until(lambda: len(list(own.iterdir())) >= len(trans), timeout=5,
               what="%d per-check hook runs" % len(trans))

    envs = _env_files(hooks)
    assert len(envs) == len(trans), envs
    for env, t in zip(envs, trans):
        assert env["HAVEN_TARGET"] == "web", env
        assert env["HAVEN_STATE"] == t["to"], (env, t)
        assert env["HAVEN_PREV_STATE"] == t["from"], (env, t)
        assert env["HAVEN_REASON"] == t["reason"], (env, t)
        assert "HAVEN_SINCE_MS" in env and "HAVEN_DETAIL" in env, env
    assert "refused" in envs[-1]["HAVEN_DETAIL"].lower(), envs[-1]

    assert len(webhook.posts) == len(trans), webhook.posts
    for (path, ctype, body), t in zip(webhook.posts, trans):
        assert path == "/alert"
        assert ctype is not None and "json" in ctype, ctype
        j = json.loads(body)
        assert j["target"] == "web", j
        assert (j["previous"], j["state"], j["reason"]) == (
            t["from"], t["to"], t["reason"]), (j, t)
