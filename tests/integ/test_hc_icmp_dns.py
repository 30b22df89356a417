"""icmp and dns checks against real peers: a host in another namespace
answers echo requests until its link goes down; a tiny UDP DNS responder
written here answers A queries, and the check holds it to the rcode and the
address configured."""

import socket
import struct
import threading
import time

import pytest

from havenlib import hc

DEFAULTS = {"interval": "1s", "timeout": "1s", "rise": 2, "fall": 2}
DOWN_BOUND = 1.0 * 2 + 1.0 + 1.5


@pytest.mark.root
def test_icmp_up_then_link_down(netns, haven, workdir):
    hv, be, be_if = hc.two_hosts(netns)
    h = haven(hc.config(workdir, [
        {"name": "host", "type": "icmp", "address": hc.BACKEND_ADDR}],
        defaults=DEFAULTS), ns=hv)
    _, c = hc.wait_state(h, "host", "up", timeout=5)
    assert c["probes"][0]["ok"]
    t0 = time.monotonic()
    be.link_down(be_if)
    took, c = hc.wait_state(h, "host", "down", timeout=DOWN_BOUND + 5,
                            t0=t0)
    hc.report("icmp: link down -> down", took, DOWN_BOUND)
    assert took <= DOWN_BOUND
    assert c["reason"] in ("timeout", "unreachable"), c
    be.link_up(be_if)
    hc.wait_state(h, "host", "up", timeout=2 * 1.0 + 1.5 + 3)


# --- a tiny DNS responder (RFC 1035 §4.1) ----------------------------------

ZONE = {"www.example.test.": "198.18.5.5"}


def _qname(msg, off):
    labels = []
    while msg[off]:
        n = msg[off]
        labels.append(msg[off + 1:off + 1 + n].decode())
        off += 1 + n
    return ".".join(labels) + ".", off + 1


def dns_answer(query):
    """The response to one query: an A record from ZONE or NXDOMAIN."""
    qid, flags = struct.unpack("!HH", query[:4])
    name, end = _qname(query, 12)
    qtype, _ = struct.unpack("!HH", query[end:end + 4])
    question = query[12:end + 4]
    addr = ZONE.get(name.lower())
    rcode = 0 if addr is not None else 3  # NOERROR / NXDOMAIN
    an = addr is not None and qtype == 1
    head = struct.pack("!HHHHHH", qid, 0x8400 | (flags & 0x0100) | rcode, 1,
                       1 if an else 0, 0, 0)
    rr = b""
    if an:  # name pointer to offset 12, type A, class IN, ttl 5, rdlen 4
        rr = struct.pack("!HHHIH", 0xC00C, 1, 1, 5, 4) + socket.inet_aton(
            addr)
    return head + question + rr


class DnsResponder:
    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.queries = 0
        self.stop = False
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        while not self.stop:
            try:
                q, peer = self.sock.recvfrom(512)
            except socket.timeout:
                continue
            self.queries += 1
            try:
                self.sock.sendto(dns_answer(q), peer)
            except (IndexError, struct.error, UnicodeDecodeError):
                pass

    def close(self):
        self.stop = True
        self.thread.join(2)
        self.sock.close()


@pytest.fixture
def dns():
    d = DnsResponder()
    yield d
    d.close()


def test_dns_rcode_and_address(haven, workdir, dns):
    addr = "127.0.0.1:%d" % dns.port

    def chk(name, qname, **kw):
        c = {"name": name, "type": "dns", "address": addr,
             "query_name": qname}
        c.update(kw)
        return c

    h = haven(hc.config(workdir, [
        chk("match", "www.example.test", expect_address="198.18.5.5"),
        chk("noerror", "www.example.test"),
        chk("wrong-addr", "www.example.test", expect_address="198.18.5.6"),
        chk("nxdomain", "gone.example.test"),
        chk("want-nx", "gone.example.test", expect_rcode="NXDOMAIN")],
        defaults=DEFAULTS))
    for name in ("match", "noerror", "want-nx"):
        hc.wait_state(h, name, "up", timeout=5)
    _, c = hc.wait_state(h, "wrong-addr", "down", timeout=5)
    assert c["reason"] == "dns_answer", c
    _, c = hc.wait_state(h, "nxdomain", "down", timeout=5)
    assert c["reason"] == "dns_rcode", c
    assert "NXDOMAIN" in c["detail"].upper(), c
    assert dns.queries >= 10
