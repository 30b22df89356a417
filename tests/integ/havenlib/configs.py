"""havenlib.configs - the config text integration tests have in common.

Every function returns a str.format() template, not a finished config: {dir}
stands for the test's work directory, the caller's own placeholders ({port},
{pa}, ...) pass through untouched, and literal YAML braces are doubled. A
test keeps the part of its config that is its subject (listeners, pools,
the probe being tested) in its own file, readable top to bottom, and takes
the rest from here.
"""

# The state directory and the control socket, both inside the test's
# directory so that tests never share them.
BASE = """\
haven:
  state_dir: {dir}/state
api:
  socket: {dir}/haven.sock
"""

# The smallest config a daemon runs with: an empty health engine, then BASE
# (a config without any plane section is refused). api: stays last, so a
# test can append keys to it.
MINIMAL = "health: {{}}\n" + BASE

# Probe timings short enough that a test sees a transition within a second;
# damping off, so that a test's deliberate flaps are not held down.
FAST = ("interval: 200ms, timeout: 200ms, fall: 2, rise: 2,\n"
        "              fast_interval: 100ms, down_interval: 200ms, "
        "damping: false")

# The HTTP check every nginx backend (havenlib.haven.Nginx) passes.
WEB_HTTP = ("{{ name: web-http, type: http, path: /healthz, "
            "expect_status: [200] }}")


def health(defaults, *checks):
    """A `health:` section: defaults is the inside of the flow mapping
    (timing keys, see FAST), checks one flow mapping per check template."""
    lines = ["health:",
             "  defaults: {{ %s }}" % defaults,
             "  checks:"]
    lines += ["    - " + c for c in checks]
    return "\n".join(lines) + "\n"


def lb_config(lb, health=None, workers=1):
    """A whole config: BASE, then health (a section from health() or None),
    then `lb:` with `workers` and lb, the section's remaining keys indented
    by two spaces (listeners:, pools:)."""
    return BASE + (health or "") + "lb:\n  workers: %d\n" % workers + lb
