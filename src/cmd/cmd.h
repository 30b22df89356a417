/*
 * cmd.h - the subcommands of the haven binary. Each takes the arguments after
 * "haven" (argv[0] is the command name) and returns the process exit status.
 */
#ifndef HAVEN_CMD_H
#define HAVEN_CMD_H

int cmd_run(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_ctl(int argc, char **argv);

#endif
