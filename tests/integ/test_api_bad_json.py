"""A request body that is not the JSON an endpoint expects gets a 400 with a
JSON error naming the problem, and nothing changes."""

from test_lb_balance import spread, start

BAD = [
    b"{bad",
    b"[1, 2]",
    b'{"weight": "heavy"}',
    b'{"weight": -1}',
    b'{"wieght": 5}',
    b"\xff\xfe",
]


def test_bad_json_bodies(haven, nginx, workdir):
    h, url = start(haven, nginx, workdir)
    before = h.lb_server("web", "a")
    for body in BAD:
        r = h.api("POST", "/v1/lb/pools/web/servers/a/weight", body)
        print(body, r.status, r.text)
        assert r.status == 400, (body, r)
        assert r.json and r.json.get("error"), (body, r)
    after = h.lb_server("web", "a")
    assert after["admin_weight"] == before["admin_weight"]
    assert after["admin"] == before["admin"]
    assert set(spread(url, 4)) == {"A", "B"}
    assert h.api("GET", "/v1/status").status == 200
