/*
 * conf_scalar.c - binding one scalar: type check, parse, range check.
 *
 * The same function binds a value from the document and a default from the
 * schema table, so a default can never be spelt in a way a user could not
 * write. Booleans and numbers must be plain (YAML 1.2 core schema: "80" in
 * quotes is a string); the other types take quoted text too, because a JSON
 * body can only send "2s" as a string.
 *
 * Ranges: min and max bound CT_INT, CT_UINT, CT_DURATION and CT_SIZE; max 0
 * means no upper bound (so 0,0 is any value), and CT_UINT never exceeds
 * UINT32_MAX.
 */
#include <sys/socket.h>

#include <netinet/in.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "conf_int.h"
#include "util.h"

static void
conf_scalar_fmt(const struct conf_key *k, int64_t v, char *out, size_t len)
{
	if (k->type == CT_DURATION)
		conf_fmt_duration((uint64_t)v, out, len);
	else if (k->type == CT_SIZE)
		conf_fmt_size((uint64_t)v, out, len);
	else
		snprintf(out, len, "%lld", (long long)v);
}

/* Unsigned values are compared as unsigned: a size may exceed INT64_MAX. */
static int
conf_scalar_range_u(struct conf_ctx *ctx, const struct conf_key *k,
    struct conf_node *node, uint64_t v)
{
	uint64_t lo = k->min > 0 ? (uint64_t)k->min : 0;
	uint64_t hi = k->max > 0 ? (uint64_t)k->max : UINT64_MAX;
	char a[32], b[32], c[32];

	if (k->type == CT_UINT && hi > UINT32_MAX)
		hi = UINT32_MAX;
	if (v >= lo && v <= hi)
		return 0;
	conf_scalar_fmt(k, (int64_t)v, a, sizeof(a));
	conf_scalar_fmt(k, (int64_t)lo, b, sizeof(b));
	if (hi == UINT64_MAX)
		c[0] = '\0';
	else
		conf_scalar_fmt(k, (int64_t)hi, c, sizeof(c));
	if (k->type == CT_SIZE || k->type == CT_DURATION || v <= INT64_MAX)
		conf_error(
		    ctx, node, "%s %s out of range (%s..%s)", k->name, a, b, c);
	else
		conf_error(ctx, node, "%s %llu out of range (%s..%s)", k->name,
		    (unsigned long long)v, b, c);
	return -1;
}

static int
conf_scalar_int(struct conf_ctx *ctx, const struct conf_key *k,
    struct conf_node *node, const char *str, int64_t *out)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(str, &end, 10);
	if (str[0] == '\0' || end == str || *end != '\0' || errno != 0 ||
	    !(str[0] == '-' || str[0] == '+' ||
	        (str[0] >= '0' && str[0] <= '9'))) {
		conf_error(ctx, node, "expected an integer, got '%s'", str);
		return -1;
	}
	if ((k->min != 0 || k->max != 0) &&
	    (v < k->min || (k->max != 0 && v > k->max))) {
		char c[32] = "";

		if (k->max != 0)
			snprintf(c, sizeof(c), "%lld", (long long)k->max);
		conf_error(ctx, node, "%s %lld out of range (%lld..%s)",
		    k->name, v, (long long)k->min, c);
		return -1;
	}
	*out = v;
	return 0;
}

static int
conf_scalar_uint(struct conf_ctx *ctx, const struct conf_key *k,
    struct conf_node *node, const char *str, uint32_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(str, &end, 10);
	if (!(str[0] >= '0' && str[0] <= '9') || *end != '\0' || errno != 0) {
		conf_error(ctx, node,
		    "expected a non-negative integer, got '%s'", str);
		return -1;
	}
	if (conf_scalar_range_u(ctx, k, node, v) != 0)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

static int
conf_scalar_duration(struct conf_ctx *ctx, const struct conf_key *k,
    struct conf_node *node, const char *str, uint64_t *out)
{
	const char *p = str;
	uint64_t v;

	if (conf_parse_duration(str, &v) != 0) {
		while (*p >= '0' && *p <= '9')
			p++;
		if (*p == '\0' && p != str)
			conf_error(ctx, node,
			    "duration '%s' needs a unit: 250ms, 2s", str);
		else
			conf_error(ctx, node,
			    "expected a duration like 250ms or 2s, got '%s'",
			    str);
		return -1;
	}
	if (conf_scalar_range_u(ctx, k, node, v) != 0)
		return -1;
	*out = v;
	return 0;
}

static int
conf_scalar_size(struct conf_ctx *ctx, const struct conf_key *k,
    struct conf_node *node, const char *str, uint64_t *out)
{
	uint64_t v;

	if (conf_parse_size(str, &v) != 0) {
		conf_error(ctx, node,
		    "expected a size like 512, 16k or 1m, got '%s'", str);
		return -1;
	}
	if (conf_scalar_range_u(ctx, k, node, v) != 0)
		return -1;
	*out = v;
	return 0;
}

static int
conf_scalar_enum(struct conf_ctx *ctx, const struct conf_key *k,
    struct conf_node *node, const char *str, int *out)
{
	const char *best;
	struct buf b;
	size_t n;

	if (k->enum_names == NULL) {
		conf_error(
		    ctx, node, "'%s' has no values (schema bug)", k->name);
		return -1;
	}
	for (n = 0; k->enum_names[n] != NULL; n++) {
		if (strcmp(str, k->enum_names[n]) == 0) {
			*out = (int)n;
			return 0;
		}
	}
	buf_init(&b);
	for (size_t i = 0; i < n; i++)
		buf_printf(&b, "%s%s", i > 0 ? ", " : "", k->enum_names[i]);
	best = conf_suggest(str, k->enum_names, sizeof(k->enum_names[0]), n);
	if (best != NULL)
		buf_printf(&b, "; did you mean '%s'?", best);
	conf_error(ctx, node, "invalid %s '%s'; expected one of: %s", k->name,
	    str, b.data);
	buf_fini(&b);
	return -1;
}

static int
conf_scalar_addr(struct conf_ctx *ctx, const struct conf_key *k,
    struct conf_node *node, const char *str, struct sockaddr_storage *out)
{
	bool port = k->type == CT_ADDR_PORT;

	if (conf_parse_addr(str, port, out) == 0) {
		/* Port 0 asks the kernel for any port: no server or listener
		 * means that. */
		if (port && ((struct sockaddr_in *)out)->sin_port == 0) {
			conf_error(ctx, node,
			    "port 0 in '%s': give a port "
			    "from 1 to 65535",
			    str);
			return -1;
		}
		return 0;
	}
	if (port)
		conf_error(ctx, node,
		    "expected address:port like 192.0.2.1:80 or "
		    "[2001:db8::1]:80, got '%s'",
		    str);
	else
		conf_error(ctx, node,
		    "expected an IP address like 192.0.2.1 or 2001:db8::1, "
		    "got '%s'",
		    str);
	return -1;
}

static void
conf_scalar_bool(struct conf_ctx *ctx, struct conf_node *node, const char *str,
    bool plain, bool *out)
{
	if (plain && strcmp(str, "true") == 0)
		*out = true;
	else if (plain && strcmp(str, "false") == 0)
		*out = false;
	else
		conf_error(ctx, node, "expected true or false, got %s'%s'",
		    plain ? "" : "the string ", str);
}

void
conf_scalar_bind(struct conf_ctx *ctx, const struct conf_key *k,
    struct conf_node *node, const char *str, bool plain, void *field)
{
	if (!plain && (k->type == CT_INT || k->type == CT_UINT)) {
		conf_error(
		    ctx, node, "expected a number, got the string '%s'", str);
		return;
	}
	switch (k->type) {
	case CT_BOOL:
		conf_scalar_bool(ctx, node, str, plain, field);
		break;
	case CT_INT:
		conf_scalar_int(ctx, k, node, str, field);
		break;
	case CT_UINT:
		conf_scalar_uint(ctx, k, node, str, field);
		break;
	case CT_DURATION:
		conf_scalar_duration(ctx, k, node, str, field);
		break;
	case CT_SIZE:
		conf_scalar_size(ctx, k, node, str, field);
		break;
	case CT_STRING:
		free(*(char **)field);
		*(char **)field = xstrdup(str);
		break;
	case CT_ENUM:
		conf_scalar_enum(ctx, k, node, str, field);
		break;
	case CT_ADDR:
	case CT_ADDR_PORT:
		conf_scalar_addr(ctx, k, node, str, field);
		break;
	default:
		conf_error(
		    ctx, node, "'%s' cannot take a single value", k->name);
		break;
	}
}
