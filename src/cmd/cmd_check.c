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
#include "cmd/planes.h"
#include "dns/dns_conf.h"
#include "dns/dns_key.h"
#include "lib/conf.h"

/*
 * The DS record of each signed zone, for the operator to give the parent
 * zone: without it there is no chain of trust to the keys. The keys were
 * read and checked when the config was bound.
 */
static void
cmd_check_ds(const struct haven_conf *c)
{
	const struct plane_row *row = planes_find("dns");
	const struct dns_conf *dc;
	char ds[DNS_KEY_DS_TEXT], err[256];
	struct dns_key k;

	if (row == NULL || (dc = haven_conf_section(c, row)) == NULL)
		return;
	for (size_t i = 0; i < dc->nzones; i++) {
		const struct dns_zone_item *z = &dc->zones[i];
		char name[DNS_NAME_TEXT_MAX];

		/* The parent points at the KSKs (and CSKs), published or
		 * active: a rollover's next KSK needs its DS out first. */
		for (size_t j = 0; j < z->nkeys; j++) {
			const struct dns_zone_key *zk = &z->keys[j];

			if (zk->pem == NULL || zk->flags != DNS_KEY_FLAGS_CSK ||
			    dns_key_parse(&k, zk->pem, zk->pem_len, zk->path,
			        err, sizeof(err)) != 0)
				continue;
			if (dns_key_ds_text(&k, z->apex, ds, sizeof(ds)) == 0 &&
			    dns_name_to_text(z->apex, name, sizeof(name)) >= 0)
				printf("%s IN DS %s\n", name, ds);
			dns_key_fini(&k);
		}
	}
}

static void
cmd_check_usage(FILE *f)
{
	fprintf(f,
	    "usage: haven check [-q] [-c FILE]\n"
	    "  -c FILE  config to validate (default " HAVEN_CONF_PATH ")\n"
	    "  -q       print nothing when the config is valid\n"
	    "A valid config's signed zones get their DS record printed, for "
	    "the parent zone.\n");
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
	if (!quiet) {
		printf("%s: ok (digest %s)\n", path, c.digest);
		cmd_check_ds(&c);
	}
	haven_conf_free(&c);
	conf_errors_fini(&errs);
	return 0;
}
