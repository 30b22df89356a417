/*
 * cmd.h - the subcommands of the haven binary. main() dispatches on
 * argv[1] and passes the rest, so argv[0] is the subcommand's name. Each
 * returns the process exit status: 0 success, 1 failure, 2 usage.
 */
#ifndef HAVEN_CMD_H
#define HAVEN_CMD_H

/* haven run [-c FILE]: the daemon, in the foreground (parent.c). */
int cmd_run(int argc, char **argv);
/* haven check [-q] [-c FILE]: validate a config file (cmd_check.c). */
int cmd_check(int argc, char **argv);
/* haven status: what the running daemon runs (cmd_status.c). */
int cmd_status(int argc, char **argv);
/* haven ctl: a raw request to the control API (cmd_ctl.c). */
int cmd_ctl(int argc, char **argv);
/* haven vrrp events [--follow]: the transition stream (cmd_vrrp.c). */
int cmd_vrrp(int argc, char **argv);
/* haven snap COMMAND --store DIR ...: image snapshots (cmd_snap.c). */
int cmd_snap(int argc, char **argv);
/* haven snap replicate ...: to a peer's snap plane (cmd_snap_repl.c). */
int cmd_snap_replicate(int argc, char **argv);
/* haven snap promote|demote|role: failover roles (cmd_snap_role.c). */
int cmd_snap_role(int argc, char **argv);
/* haven snap init: a new store, sealed with a key or not (cmd_snap_init.c). */
int cmd_snap_init(int argc, char **argv);

#endif
