/*
 * fuzz_statefile.c - arbitrary bytes as <state_dir>/health.json: the health
 * engine restores what it can understand and starts cold from the rest.
 * Must never crash or leak; a restored entry must be usable as is (a name
 * that fits, a state that is up or down).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hc/hc_engine.h"
#include "hc/hc_persist.h"
#include "lib/ev.h"
#include "lib/log.h"

#define FUZZ_NOW_MS 1763769660000ull

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ev_loop *loop;
	struct hc_engine *e;

	if (loop == NULL) {
		loop = ev_loop_new();
		log_set_level(LOG_ERR);
	}
	e = hc_engine_new(loop, NULL, 1);
	/* A fixed "now", so the corpus's written_ms stays recent. */
	e->wall_off = (int64_t)FUZZ_NOW_MS - (int64_t)ev_now_ms(loop);
	hc_persist_load_buf(e, (const char *)data, size);
	for (size_t i = 0; i < e->nrestore; i++) {
		if (strnlen(e->restore[i].name, sizeof(e->restore[i].name)) ==
		        sizeof(e->restore[i].name) ||
		    (e->restore[i].state != HC_UP &&
		        e->restore[i].state != HC_DOWN))
			abort();
		if (hc_persist_find(e, e->restore[i].name) == NULL)
			abort();
	}
	hc_engine_free(e);
	return 0;
}
