/*
 * cmd_check.c - `haven check`: load a config exactly as `haven run` would
 * and report every problem as file:line:col, so it can gate a deploy or a
 * reload (exit 0: the daemon would accept this file).
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cmd/cmd.h"
#include "cmd/config.h"
#include "lib/conf.h"

static void
cmd_check_usage(FILE *f)
{
	fprintf(f,
	    "usage: haven check [-q] [-c FILE]\n"
	    "  -c FILE  config to validate (default " HAVEN_CONF_PATH ")\n"
	    "  -q       print nothing when the config is valid\n");
}

int
cmd_check(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = HAVEN_CONF_PATH;
	struct conf_errors errs;
	struct haven_conf c;
	bool quiet = false;
	int ch;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "c:qh", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			path = optarg;
			break;
		case 'q':
			quiet = true;
			break;
		case 'h':
			cmd_check_usage(stdout);
			return 0;
		default:
			cmd_check_usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		cmd_check_usage(stderr);
		return 2;
	}
	conf_errors_init(&errs);
	if (haven_conf_load(path, &c, &errs) != 0) {
		conf_errors_print(&errs, stderr);
		conf_errors_fini(&errs);
		return 1;
	}
	if (!quiet)
		printf("%s: ok (digest %s)\n", path, c.digest);
	haven_conf_free(&c);
	conf_errors_fini(&errs);
	return 0;
}
