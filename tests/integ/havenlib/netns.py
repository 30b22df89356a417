"""netns - throwaway hosts and links built from Linux network namespaces.

A Network owns every namespace it creates; all names start with
"hv<pid>-" so two concurrent test runs never collide and a sweep can tell a
leftover of a dead run (its pid is gone) from a live one. Two shapes of
topology from ARCHITECTURE.md §5 are built from three calls:

    net = Network()
    lan = net.bridge("lan")            # L2 segment: namespace with br0
    a = net.ns("a"); net.attach(a, lan, "198.18.0.1/24")
    r = net.router("r"); net.link(a, r, "198.18.1.1/30", "198.18.1.2/30")

A process runs in a namespace with ns.run()/ns.popen() (or Proc's ns=);
the test process itself talks from inside one through ns.socket(), e.g. to
a daemon listening on that namespace's loopback.

Invariants:
  * every address assigned is inside 198.18.0.0/15 (asserted), so test
    traffic can never leave the machine for a real network;
  * deleting a namespace destroys the veths in it and their peers, so
    cleanup() is "delete our namespaces"; it runs from the pytest fixture
    finalizer, at interpreter exit, and from the SIGTERM handler conftest.py
    installs, and it is idempotent;
  * partitions are iptables DROP rules in one chain, HV-PART, hooked from
    INPUT, OUTPUT and FORWARD of the namespace, so heal() is one flush.

Without root or a working `ip netns`, require() skips the test: a test that
could not run must never report "passed".
"""

import atexit
import ctypes
import ipaddress
import os
import re
import shutil
import socket as _socket
import subprocess
import threading

ALLOWED = ipaddress.ip_network("198.18.0.0/15")
PART_CHAIN = "HV-PART"
_networks = []
_probe = None
_CLONE_NEWNET = 0x40000000


class NetnsError(Exception):
    """A command failed; carries its argv, exit code and output."""

    def __init__(self, argv, rc, out, err):
        self.argv, self.rc, self.out, self.err = argv, rc, out, err
        super().__init__("%s exited %s: %s" % (
            " ".join(argv), rc, (err or out).strip()[-500:]))


def _run(argv, check=True, timeout=30, input=None):
    argv = [str(a) for a in argv]
    cp = subprocess.run(argv, capture_output=True, text=True,
                        timeout=timeout, input=input)
    if check and cp.returncode != 0:
        raise NetnsError(argv, cp.returncode, cp.stdout, cp.stderr)
    return cp


def check_addr(cidr):
    """Return cidr as an ip_interface; assert it lies in 198.18.0.0/15."""
    iface = ipaddress.ip_interface(cidr)
    if iface.version != 4 or iface.ip not in ALLOWED:
        raise AssertionError(
            "test address %s is outside %s: test traffic must stay in the "
            "benchmarking range" % (cidr, ALLOWED))
    return iface


def available():
    """(True, "") when namespaces can be made here, else (False, why)."""
    global _probe
    if _probe is not None:
        return _probe
    if os.geteuid() != 0:
        _probe = (False, "network namespaces need root")
    elif shutil.which("ip") is None:
        _probe = (False, "iproute2 `ip` not found")
    else:
        name = "hv%d-_probe" % os.getpid()
        cp = _run(["ip", "netns", "add", name], check=False)
        if cp.returncode != 0:
            _probe = (False, "`ip netns add` failed: " + cp.stderr.strip())
        else:
            _run(["ip", "netns", "del", name], check=False)
            _probe = (True, "")
    return _probe


def require():
    """Skip the calling test unless namespaces are available."""
    ok, why = available()
    if not ok:
        import pytest
        pytest.skip(why)


def _pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def sweep_stale():
    """Delete hv<pid>-* namespaces whose creating process is gone."""
    cp = _run(["ip", "netns", "list"], check=False)
    removed = []
    for line in cp.stdout.splitlines():
        name = line.split()[0] if line.split() else ""
        m = re.match(r"hv(\d+)-", name)
        if m and int(m.group(1)) != os.getpid() and \
                not _pid_alive(int(m.group(1))):
            _run(["ip", "netns", "del", name], check=False)
            removed.append(name)
    return removed


class Ns:
    """One namespace: a host with its own interfaces, routes and iptables."""

    def __init__(self, net, short):
        self.net = net  # borrowed: the Network that deletes us
        self.short = short
        self.name = net.prefix + short
        self.addrs = []  # ip_interface of every address we assigned
        self._nif = 0
        self._part = False

    def __repr__(self):
        return "<Ns %s %s>" % (self.name, [str(a) for a in self.addrs])

    def wrap(self, argv):
        """argv prefixed so that it runs inside this namespace."""
        return ["ip", "netns", "exec", self.name] + [str(a) for a in argv]

    def run(self, argv, check=True, timeout=30, input=None):
        """Run argv in the namespace; CompletedProcess with text output."""
        if isinstance(argv, str):
            argv = ["/bin/sh", "-c", argv]
        return _run(self.wrap(argv), check=check, timeout=timeout,
                    input=input)

    def popen(self, argv, **kw):
        """subprocess.Popen of argv in the namespace (caller reaps it)."""
        if isinstance(argv, str):
            argv = ["/bin/sh", "-c", argv]
        return subprocess.Popen(self.wrap(argv), **kw)

    def ip(self, *args, check=True):
        return _run(["ip", "-n", self.name] + list(args), check=check)

    def socket(self, family=_socket.AF_INET, type=_socket.SOCK_DGRAM):
        """A socket of this namespace, for the test process itself: made
        on a short-lived thread that entered the namespace (setns(2) moves
        only the calling thread), so a client in the test can reach a
        daemon's loopback address in here. The caller closes it."""
        out = {}

        def make():
            try:
                fd = os.open("/run/netns/" + self.name, os.O_RDONLY)
                try:
                    libc = ctypes.CDLL(None, use_errno=True)
                    if libc.setns(fd, _CLONE_NEWNET) != 0:
                        e = ctypes.get_errno()
                        raise OSError(e, "setns %s: %s" % (
                            self.name, os.strerror(e)))
                finally:
                    os.close(fd)
                out["sock"] = _socket.socket(family, type)
            except Exception as e:  # re-raised on the caller's thread
                out["error"] = e

        t = threading.Thread(target=make, daemon=True)
        t.start()
        t.join()
        if "error" in out:
            raise out["error"]
        return out["sock"]

    def next_ifname(self, stem="eth"):
        name = "%s%d" % (stem, self._nif)
        self._nif += 1
        return name

    def add_addr(self, ifname, cidr):
        iface = check_addr(cidr)
        self.ip("addr", "add", str(iface), "dev", ifname)
        self.addrs.append(iface)
        return iface

    def del_addr(self, ifname, cidr):
        iface = check_addr(cidr)
        self.ip("addr", "del", str(iface), "dev", ifname)
        if iface in self.addrs:
            self.addrs.remove(iface)

    def add_route(self, dest, via):
        """A route; dest is "default" or a prefix in the allowed range."""
        if dest != "default":
            check_addr(dest)
        check_addr(via)
        self.ip("route", "replace", dest, "via", via)

    def link_down(self, ifname):
        self.ip("link", "set", ifname, "down")

    def link_up(self, ifname):
        self.ip("link", "set", ifname, "up")

    def sysctl(self, key, value):
        self.run(["sysctl", "-q", "-w", "%s=%s" % (key, value)])

    def ping(self, addr, count=1, timeout=1):
        """True when `addr` answers an ICMP echo from this namespace."""
        cp = self.run(["ping", "-n", "-q", "-c", str(count), "-W",
                       str(timeout), str(addr)], check=False,
                      timeout=count * timeout + 10)
        return cp.returncode == 0

    def _part_init(self):
        if self._part:
            return
        self.run(["iptables", "-w", "-N", PART_CHAIN])
        for hook in ("INPUT", "OUTPUT", "FORWARD"):
            self.run(["iptables", "-w", "-I", hook, "-j", PART_CHAIN])
        self._part = True

    def _targets(self, peer):
        if isinstance(peer, Ns):
            return [str(a.ip) for a in peer.addrs]
        return [str(check_addr(peer).ip)]

    def block(self, peer):
        """Drop all traffic between this namespace and peer (an Ns or an
        address) in both directions: a partition as this host sees it."""
        self._part_init()
        for ip in self._targets(peer):
            self.run(["iptables", "-w", "-A", PART_CHAIN, "-s", ip,
                      "-j", "DROP"])
            self.run(["iptables", "-w", "-A", PART_CHAIN, "-d", ip,
                      "-j", "DROP"])

    def unblock(self, peer):
        for ip in self._targets(peer):
            for flag in ("-s", "-d"):
                self.run(["iptables", "-w", "-D", PART_CHAIN, flag, ip,
                          "-j", "DROP"], check=False)

    def heal(self):
        """Remove every partition rule of this namespace."""
        if self._part:
            self.run(["iptables", "-w", "-F", PART_CHAIN])


class Network:
    """A set of namespaces and links, torn down together by cleanup()."""

    def __init__(self, tag=""):
        require()
        self.prefix = "hv%d-%s" % (os.getpid(), tag)
        self.nss = {}
        self.closed = False
        sweep_stale()
        _networks.append(self)

    def ns(self, short):
        """A new namespace named prefix+short with loopback up."""
        if short in self.nss:
            raise ValueError("namespace %s exists" % short)
        ns = Ns(self, short)
        _run(["ip", "netns", "add", ns.name])
        self.nss[short] = ns  # before any further step can fail
        ns.ip("link", "set", "lo", "up")
        return ns

    def bridge(self, short="lan"):
        """A namespace holding bridge br0: one L2 segment."""
        ns = self.ns(short)
        ns.ip("link", "add", "br0", "type", "bridge")
        ns.ip("link", "set", "br0", "up")
        return ns

    def router(self, short="rtr"):
        """A namespace that forwards IPv4 between its links."""
        ns = self.ns(short)
        ns.sysctl("net.ipv4.ip_forward", 1)
        return ns

    def link(self, a, b, addr_a=None, addr_b=None, ifname_a=None,
             ifname_b=None):
        """A veth pair between namespaces a and b, both ends up; returns
        (ifname in a, ifname in b)."""
        ifa = ifname_a or a.next_ifname()
        ifb = ifname_b or b.next_ifname()
        _run(["ip", "link", "add", ifa, "netns", a.name, "type", "veth",
              "peer", "name", ifb, "netns", b.name])
        for ns, ifn, addr in ((a, ifa, addr_a), (b, ifb, addr_b)):
            if addr is not None:
                ns.add_addr(ifn, addr)
            ns.link_up(ifn)
        return ifa, ifb

    def attach(self, ns, bridge, addr=None, ifname=None):
        """Plug ns into bridge's segment; returns ns's ifname."""
        ifn, port = self.link(ns, bridge, addr, None, ifname_a=ifname,
                              ifname_b=bridge.next_ifname("p"))
        bridge.ip("link", "set", port, "master", "br0")
        return ifn

    def port_of(self, ns, bridge):
        """The bridge port name facing ns (for a link flap on the switch
        side), found through the veth peer index."""
        out = bridge.ip("-o", "link", "show", "master", "br0").stdout
        peers = {}
        for line in out.splitlines():
            m = re.match(r"\d+: ([^@:]+)@", line)
            nm = re.search(r"link-netns (\S+)", line)
            if m and nm:
                peers.setdefault(nm.group(1), []).append(m.group(1))
        ports = peers.get(ns.name, [])
        if len(ports) != 1:
            raise LookupError("%s has %d ports on %s" % (
                ns.name, len(ports), bridge.name))
        return ports[0]

    def cleanup(self):
        """Delete every namespace of this Network. Idempotent."""
        errors = []
        for ns in reversed(list(self.nss.values())):
            cp = _run(["ip", "netns", "del", ns.name], check=False)
            if cp.returncode != 0 and "No such file" not in cp.stderr:
                errors.append("%s: %s" % (ns.name, cp.stderr.strip()))
        self.nss.clear()
        self.closed = True
        if self in _networks:
            _networks.remove(self)
        if errors:
            raise NetnsError(["ip", "netns", "del"], 1, "", "; ".join(errors))


def cleanup_all():
    """Tear down every Network still alive (atexit, SIGTERM)."""
    for net in list(_networks):
        try:
            net.cleanup()
        except NetnsError:
            pass


def ours():
    """Names of the namespaces of this process that exist right now."""
    cp = _run(["ip", "netns", "list"], check=False)
    pre = "hv%d-" % os.getpid()
    return [ln.split()[0] for ln in cp.stdout.splitlines()
            if ln.startswith(pre)]


atexit.register(cleanup_all)
