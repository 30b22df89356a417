/*
 * main.c - the haven binary: dispatches to a subcommand.
 */
#include <stdio.h>
#include <string.h>

int
main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "version") == 0) {
		printf("haven %s\n", HAVEN_VERSION);
		return 0;
	}
	fprintf(stderr, "usage: haven COMMAND\n");
	return 2;
}
