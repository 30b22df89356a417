/*
 * hc_persist.h - last-known verdicts in <state_dir>/health.json, so that a
 * restart starts from what was true instead of "all up" or "all down".
 *
 * The file is replaced atomically (lib/statefile: temp, fsync, rename, fsync
 * of the directory); the engine coalesces writes to one per HC_PERSIST_MS.
 * Only up/down verdicts are written: "unknown" carries no knowledge.
 *
 *   {"version":1,"written_ms":1763769660000,"targets":{"web/a":
 *     {"state":"up","reason":"ok","since_ms":1763769600000}}}
 *
 * A verdict is only worth something while it is recent: a file written more
 * than HC_RESTORE_MAX_AGE_MS ago (or without written_ms) is not restored,
 * and every target starts unknown and is probed at once.
 */
#ifndef HAVEN_HC_PERSIST_H
#define HAVEN_HC_PERSIST_H

#include <stdint.h>

#include "hc/hc.h"
#include "lib/ipc.h"

struct hc_engine;

#define HC_RESTORE_MAX_AGE_MS (10u * 60 * 1000)
#define HC_RESTORE_SKEW_MS    (60u * 1000) /* a file from the "future" */

struct hc_restore {
	char name[IPC_NAME_MAX];
	enum hc_state state; /* HC_UP or HC_DOWN */
	uint64_t since_ms;   /* wall clock */
};

/*
 * Read the state file into e->restore (sorted by name). A missing file is a
 * cold start; a damaged one is logged, counted and ignored.
 */
void hc_persist_load(struct hc_engine *e);
/* The same from the file's bytes (tests and the fuzz target). */
void hc_persist_load_buf(struct hc_engine *e, const char *data, size_t len);
const struct hc_restore *hc_persist_find(
    const struct hc_engine *e, const char *name);
/* Write every target's verdict now. Returns 0 or -errno. */
int hc_persist_write(const struct hc_engine *e);
/* Render the file's contents (exposed for tests). */
void hc_persist_render(const struct hc_engine *e, struct buf *out);

#endif
