"""havenlib - helpers for haven's pytest integration suite.

Modules:
    poll    wait_until(): the only way a test waits; no bare sleeps.
    proc    processes with logs in the test's directory, stop/kill/pause.
    netns   network namespaces, bridges and veths on 198.18.0.0/15, with
            iptables partitions and link flaps; everything is removed on exit.
    configs config templates: the state dir and socket, fast health
            checks, an lb section around a test's listeners and pools.
    haven   start haven, talk to its control API over the unix socket, and
            an nginx backend helper.

Every resource a helper creates is registered for cleanup when it is
created, so a failing or interrupted test leaves nothing behind.
"""
