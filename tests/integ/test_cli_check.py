"""`haven check -c FILE`: every error reported as file:line:col, exit 1;
a good config passes with exit 0; every subcommand has --help."""

import os
import subprocess

import pytest

from havenlib.configs import BASE, MINIMAL

GOOD = MINIMAL

# (name, config text, expected line, expected col, substring of message)
BROKEN = [
    ("unknown_key", """\
haven:
  state_dir: /tmp/x
  log_levle: info
""", 3, 3, "did you mean 'log_level'"),
    ("wrong_type", """\
haven:
  shutdown_timeout: fast
""", 2, 21, "duration"),
    ("duration_out_of_range", """\
haven:
  shutdown_timeout: 10h
""", 2, 21, "range"),
    ("duplicate_name", """\
health:
  checks:
    - { name: web, type: tcp, address: 127.0.0.1:80 }
    - { name: web, type: tcp, address: 127.0.0.1:81 }
""", 4, 15, "duplicate"),
    ("yaml_syntax", """\
haven:
  state_dir: [unclosed
api:
  socket: /tmp/s
""", None, None, ""),
]


def run_check(haven_bin, path):
    return subprocess.run([haven_bin, "check", "-c", str(path)],
                          capture_output=True, text=True, timeout=10)


def test_good_config_passes(haven_bin, workdir):
    p = workdir / "good.yaml"
    p.write_text(GOOD.format(dir=workdir))
    r = run_check(haven_bin, p)
    assert r.returncode == 0, r.stderr
    assert "ok" in r.stdout + r.stderr


EXAMPLES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                        "examples")


@pytest.mark.parametrize("name", sorted(f for f in os.listdir(EXAMPLES)
                                        if f.endswith(".yaml")))
def test_examples_pass(haven_bin, name):
    """The configs in examples/ are what users copy: each must check."""
    r = run_check(haven_bin, os.path.join(EXAMPLES, name))
    assert r.returncode == 0, r.stdout + r.stderr


@pytest.mark.parametrize("name,text,line,col,msg", BROKEN,
                         ids=[b[0] for b in BROKEN])
def test_broken_config_reports_position(haven_bin, workdir, name, text, line,
                                        col, msg):
    p = workdir / (name + ".yaml")
    p.write_text(text)
    r = run_check(haven_bin, p)
    print(r.stderr)
    assert r.returncode == 1
    first = r.stderr.strip().splitlines()[0]
    assert first.startswith(str(p) + ":"), first
    parts = first[len(str(p)) + 1:].split(":", 2)
    got_line, got_col = int(parts[0]), int(parts[1])
    if line is not None:
        assert (got_line, got_col) == (line, col), first
    else:
        assert got_line >= 2, first
    assert msg in first, first


# A file that configures no plane would start a daemon that runs nothing:
# `haven check` and `haven run` refuse it, naming the file.
NO_PLANE = [("empty", ""), ("comments", "# nothing yet\n# really\n"),
            ("base_only", BASE)]


@pytest.mark.parametrize("name,text", NO_PLANE, ids=[n[0] for n in NO_PLANE])
def test_no_plane_refused(haven_bin, workdir, name, text):
    p = workdir / (name + ".yaml")
    p.write_text(text.format(dir=workdir))
    r = run_check(haven_bin, p)
    assert r.returncode == 1, r.stdout
    assert r.stderr.startswith(str(p) + ": no plane configured"), r.stderr
    r = subprocess.run([haven_bin, "run", "-c", str(p)], capture_output=True,
                       text=True, timeout=10)
    assert r.returncode == 1
    assert ("no plane configured (add a health:, lb:, vrrp:, havip:, dns: "
            "or snap: section") in r.stderr
    assert not (workdir / "haven.sock").exists()


def test_missing_file(haven_bin, workdir):
    r = run_check(haven_bin, workdir / "nope.yaml")
    assert r.returncode == 1
    assert "nope.yaml" in r.stderr


@pytest.mark.parametrize("cmd", ["run", "check", "status", "ctl", "snap"])
def test_help(haven_bin, cmd):
    r = subprocess.run([haven_bin, cmd, "--help"], capture_output=True,
                       text=True, timeout=10)
    assert r.returncode == 0
    assert "usage: haven " + cmd in r.stdout


def test_version_and_unknown_command(haven_bin):
    r = subprocess.run([haven_bin, "version"], capture_output=True,
                       text=True, timeout=10)
    assert r.returncode == 0 and r.stdout.startswith("haven ")
    r = subprocess.run([haven_bin, "frobnicate"], capture_output=True,
                       text=True, timeout=10)
    assert r.returncode == 2 and "unknown command" in r.stderr
