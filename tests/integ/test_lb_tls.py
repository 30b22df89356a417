"""LB TLS termination with two certificates chosen by SNI: curl verifies
each name against its own self-signed CA, openssl s_client shows which
certificate was served, and a client without SNI gets the first (default)
certificate."""

import re
import subprocess

from havenlib.configs import lb_config
from havenlib.haven import free_port
from havenlib.poll import wait_until

CONFIG = lb_config("""\
  listeners:
    - name: web
      bind: 127.0.0.1:{port}
      pool: web
      tls:
        certificates:
          - {{ cert: {dir}/alpha.pem, key: {dir}/alpha.key }}
          - {{ cert: {dir}/beta.pem, key: {dir}/beta.key }}
  pools:
    - name: web
      servers: [ {{ name: n, address: 127.0.0.1:{backend} }} ]
""")


def make_cert(workdir, name):
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
                    "-subj", "/CN=%s.test" % name, "-addext",
                    "subjectAltName=DNS:%s.test" % name,
                    "-keyout", str(workdir / (name + ".key")),
                    "-out", str(workdir / (name + ".pem"))],
                   check=True, capture_output=True, timeout=30)


def curl(workdir, name, port):
    cp = subprocess.run(["curl", "-sS", "-m", "5", "--resolve",
                         "%s.test:%d:127.0.0.1" % (name, port), "--cacert",
                         str(workdir / (name + ".pem")),
                         "https://%s.test:%d/" % (name, port)],
                        capture_output=True, text=True, timeout=15)
    return cp.returncode, cp.stdout, cp.stderr


def served_cn(port, servername=None):
    argv = ["openssl", "s_client", "-connect", "127.0.0.1:%d" % port]
    if servername:
        argv += ["-servername", servername]
    else:
        argv += ["-noservername"]
    cp = subprocess.run(argv, input="", capture_output=True, text=True,
                        timeout=15)
    m = re.search(r"^subject=.*CN\s*=\s*([\w.]+)", cp.stdout, re.M)
    return m.group(1) if m else None


def test_sni_picks_certificate(haven, nginx, workdir):
    make_cert(workdir, "alpha")
    make_cert(workdir, "beta")
    backend = nginx(port=free_port(), body="tls ok\n")
    port = free_port()
    haven(CONFIG.format(dir=workdir, port=port, backend=backend.port))
    wait_until(lambda: curl(workdir, "alpha", port)[0] == 0, timeout=5,
               what="TLS listener up")

    for name in ("alpha", "beta"):
        rc, out, err = curl(workdir, name, port)
        assert (rc, out) == (0, "tls ok\n"), (name, rc, out, err)
        assert served_cn(port, name + ".test") == name + ".test"

    # Verifying beta.test against alpha's CA must fail: the certificate
    # really differs per name, it is not one cert with two SANs.
    cp = subprocess.run(["curl", "-sS", "-m", "5", "--resolve",
                         "beta.test:%d:127.0.0.1" % port, "--cacert",
                         str(workdir / "alpha.pem"),
                         "https://beta.test:%d/" % port],
                        capture_output=True, text=True, timeout=15)
    assert cp.returncode != 0, cp.stdout

    assert served_cn(port) == "alpha.test"
    assert served_cn(port, "unknown.test") == "alpha.test"
