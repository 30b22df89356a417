/*
 * cmd_ctl.c - `haven ctl METHOD PATH [JSON]`: raw access to the control API.
 * Prints the response body; exits 0 on 2xx, 1 otherwise.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cmd/client.h"
#include "cmd/cmd.h"

static void
cmd_ctl_usage(FILE *f)
{
	fprintf(f,
	    "usage: haven ctl [-c FILE] [-s SOCKET | -a ADDR:PORT] METHOD "
	    "PATH [JSON]\n"
	    "  Send one request to the control API and print the "
	    "answer.\n"
	    "  Over TCP (-a, or $HAVEN_ADDR) the bearer token is "
	    "$HAVEN_TOKEN,\n"
	    "  else api.token (or api.read_token) of -c FILE.\n"
	    "  examples: haven ctl GET /v1/status\n"
	    "            haven ctl POST /v1/reload\n"
	    "            haven ctl POST /v1/lb/pools/web/servers/a1/"
	    "weight '{\"weight\": 50}'\n");
}

int
cmd_ctl(int argc, char **argv)
{
	static const struct option opts[] = { { "config", 1, NULL, 'c' },
		{ "socket", 1, NULL, 's' }, { "addr", 1, NULL, 'a' },
		{ "help", 0, NULL, 'h' }, { NULL, 0, NULL, 0 } };
	const char *conf = NULL, *sockopt = NULL, *addr = NULL, *body = NULL;
	struct client_target t;
	struct buf out;
	int c, status;

	while ((c = getopt_long(argc, argv, "+c:s:a:h", opts, NULL)) != -1) {
		if (c == 'c')
			conf = optarg;
		else if (c == 's')
			sockopt = optarg;
		else if (c == 'a')
			addr = optarg;
		else {
			cmd_ctl_usage(c == 'h' ? stdout : stderr);
			return c == 'h' ? 0 : 2;
		}
	}
	if (argc - optind < 2 || argc - optind > 3) {
		cmd_ctl_usage(stderr);
		return 2;
	}
	if (argc - optind == 3)
		body = argv[optind + 2];
	if (client_target_init(&t, sockopt, addr, conf) != 0)
		return 1;
	buf_init(&out);
	status = client_request(&t, argv[optind], argv[optind + 1], body,
	    body ? strlen(body) : 0, &out);
	if (status > 0) {
		fwrite(out.data ? out.data : "", 1, out.len, stdout);
		if (out.len > 0 && out.data[out.len - 1] != '\n')
			putchar('\n');
	}
	buf_fini(&out);
	client_target_fini(&t);
	return status >= 200 && status < 300 ? 0 : 1;
}
