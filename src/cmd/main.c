/*
 * main.c - the haven binary: one subcommand per job.
 */
#include <stdio.h>
#include <string.h>

#include "cmd/child.h"
#include "cmd/cmd.h"

struct main_cmd {
	const char *name; /* static: the subcommand */
	int (*fn)(int argc, char **argv);
	const char *help; /* static: one line for the usage text */
};

static int main_version(int argc, char **argv);

static const struct main_cmd main_cmds[] = {
	{ "run", cmd_run, "run the daemon in the foreground (-c FILE)" },
	{ "check", cmd_check, "validate a config file (-c FILE)" },
	{ "status", cmd_status, "show what the running daemon runs" },
	{ "ctl", cmd_ctl, "send a raw request to the control API" },
	{ "vrrp", cmd_vrrp, "VRRP transitions: vrrp events [--follow]" },
	{ "snap", cmd_snap, "snapshots of image files: snap create|list|..." },
	{ "version", main_version, "print the version" },
};

static int
main_version(int argc, char **argv)
{
	printf("haven %s\n", HAVEN_VERSION);
	return 0;
}

static void
main_usage(FILE *f)
{
	fprintf(f, "usage: haven COMMAND [OPTIONS]\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(main_cmds) / sizeof(main_cmds[0]); i++)
		fprintf(f, "  %-8s %s\n", main_cmds[i].name, main_cmds[i].help);
	fprintf(f, "\n`haven COMMAND --help` describes each command.\n");
}

int
main(int argc, char **argv)
{
	if (argc < 2) {
		main_usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		main_usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "--version") == 0)
		return main_version(0, NULL);
	/* Internal: a plane's child process, started by the supervisor. */
	if (strcmp(argv[1], "__child") == 0)
		return child_main(argc - 1, argv + 1);
	for (size_t i = 0; i < sizeof(main_cmds) / sizeof(main_cmds[0]); i++)
		if (strcmp(argv[1], main_cmds[i].name) == 0)
			return main_cmds[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "haven: unknown command '%s'\n", argv[1]);
	main_usage(stderr);
	return 2;
}
