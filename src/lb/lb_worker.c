/*
 * lb_worker.c - creation and teardown of one lb worker's data-path state
 * (lb_worker.h); every part is set up and torn down by its own file.
 */
#include <stdlib.h>

#include "lb/lb_proxy.h"
#include "lb/lb_worker.h"
#include "lib/util.h"

struct lb_worker *
lb_worker_new(struct ev_loop *loop, struct lb_runtime *rt)
{
	struct lb_worker *w = xcalloc(1, sizeof(*w));

	w->loop = loop;
	w->rt = rt;
	lb_listener_init(w);
	lb_http_init(&w->http);
	lb_mem_init(w);
	return w;
}

/*
 * Everything closes at once, as at a stop deadline; what is freed through
 * ev_defer_free (connections, listeners) does not point back here.
 */
void
lb_worker_free(struct lb_worker *w)
{
	if (w == NULL)
		return;
	lb_conn_stop(w, NULL, true);
	lb_listener_fini(w);
	lb_bconn_fini(w);
	lb_iobuf_shrink(&w->bufs, 0);
	lb_uring_fini(&w->uring);
	lb_mem_stop(w);
	free(w);
}
