/*
 * conf_yaml.c - YAML text to a conf_tree, with libfyaml confined to a child
 * process that may die.
 *
 * libfyaml 0.7.12 (the newest in Debian 12) dereferences NULL on some inputs
 * as short as eight bytes, and a config file, a reload or a state file must
 * never take the daemon down with it. So conf_yaml_load() forks; the child
 * parses, walks the document and writes the stream form of conf_node.h to a
 * pipe, then _exit()s; the parent decodes what arrived. A child killed by a
 * signal becomes "the YAML parser crashed on this input", one that runs past
 * CONF_YAML_DEADLINE_MS is killed and reported the same way, and a stream cut
 * short or corrupted is refused by the decoder: none of it reaches the
 * caller's memory.
 *
 * In the child, the text goes through libfyaml twice, as before the split:
 * the event pass checks syntax, refuses a second document and nesting past
 * CONF_DEPTH_MAX, and records where each mapping and sequence starts (libfyaml
 * 0.7 gives collections no position); the document pass builds the tree and
 * finds duplicate keys. Both report through one collecting diag. Aliases are
 * sent as references to the node already sent, so an alias bomb stays small
 * on the wire; the binder's value limit stops its expansion.
 *
 * The child only calls conf_yaml_emit() and _exit(): no atexit handlers, no
 * event loop, no signal handling of the parent's runs there.
 */
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <libfyaml.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "conf.h"
#include "conf_int.h"
#include "conf_node.h"
#include "util.h"

#define CONF_YAML_DEADLINE_MS 10000
#define CONF_STREAM_MAX       (256u << 20)

struct conf_ymark {
	struct fy_node *node; /* borrowed: from the document */
	int line, col;        /* 1-based */
};

/* Identity of a sent node, so an alias is sent as a reference. */
struct conf_yid {
	struct fy_node *node; /* borrowed; NULL: free slot */
	uint32_t id;
	bool done;
};

struct conf_yaml {
	const char *text; /* borrowed */
	size_t len;
	struct conf_ymark *marks; /* owned: sorted by node address */
	size_t nmarks;
	struct conf_yid *ids; /* owned: open addressing, ncap a power of 2 */
	size_t nids, ncap;
	uint32_t next_id; /* node numbers, as the decoder counts them */
	struct buf errs;  /* 'E' records */
	struct buf nodes; /* the root node's records */
	unsigned nerrors;
};

static void
conf_yaml_error(struct conf_yaml *y, int line, int col, const char *msg)
{
	if (y->nerrors++ < CONF_ERRORS_MAX)
		conf_stream_error(&y->errs, line, col, msg);
}

static int
conf_yaml_mark_cmp(const void *a, const void *b)
{
	const struct conf_ymark *x = a, *y = b;

	if (x->node == y->node)
		return 0;
	return (uintptr_t)x->node < (uintptr_t)y->node ? -1 : 1;
}

/* The key whose value is node, or NULL if node is no value. */
static struct fy_node *
conf_yaml_key_of(struct fy_node *parent, struct fy_node *node)
{
	struct fy_node_pair *p;
	void *it = NULL;

	while ((p = fy_node_mapping_iterate(parent, &it)) != NULL)
		if (fy_node_pair_value(p) == node)
			return fy_node_pair_key(p);
	return NULL;
}

/*
 * Scalars carry a token with a mark; collections are looked up in the mark
 * table. An empty value ("key:") has neither, so it borrows the position of
 * its key, and an element without one that of its list.
 */
static void
conf_yaml_pos(struct conf_yaml *y, struct fy_node *node, int *line, int *col)
{
	*line = *col = 0;
	for (int hops = 0; node != NULL && hops < 4; hops++) {
		struct fy_node *parent;

		if (fy_node_is_scalar(node)) {
			struct fy_token *t = fy_node_get_scalar_token(node);
			const struct fy_mark *m;

			m = t != NULL ? fy_token_start_mark(t) : NULL;
			if (m != NULL && m->line >= 0) {
				enum fy_node_style st = fy_node_get_style(node);

				/* The mark is past the opening quote. */
				*line = m->line + 1;
				*col = m->column + 1;
				if ((st == FYNS_SINGLE_QUOTED ||
				        st == FYNS_DOUBLE_QUOTED) &&
				    *col > 1)
					(*col)--;
				return;
			}
		} else if (y->nmarks > 0) {
			struct conf_ymark key = { .node = node }, *m;

			m = bsearch(&key, y->marks, y->nmarks, sizeof(*m),
			    conf_yaml_mark_cmp);
			if (m != NULL) {
				*line = m->line;
				*col = m->col;
				return;
			}
		}
		parent = fy_node_get_parent(node);
		if (parent != NULL && fy_node_is_mapping(parent)) {
			struct fy_node *k = conf_yaml_key_of(parent, node);

			node = k != NULL && k != node ? k : parent;
		} else {
			node = parent;
		}
	}
}

/* Append single-quoted content p[0..n) to out, unescaped and folded. */
static void
conf_yaml_sq_fold(const char *p, size_t n, struct buf *out)
{
	for (size_t i = 0; i < n;) {
		size_t breaks = 0;

		if (p[i] != '\n' && p[i] != '\r') {
			buf_putc(out, p[i]);
			/* Inside the quotes a quote is always doubled. */
			i += p[i] == '\'' && i + 1 < n ? 2 : 1;
			continue;
		}
		/* YAML 1.2 §7.3.2: trim around the break; one break is a space,
		 * each further (empty) line a newline. */
		while (out->len > 0 &&
		    (out->data[out->len - 1] == ' ' ||
		        out->data[out->len - 1] == '\t'))
			out->data[--out->len] = '\0';
		for (;;) {
			i += p[i] == '\r' && i + 1 < n && p[i + 1] == '\n' ? 2 :
			                                                     1;
			while (i < n && (p[i] == ' ' || p[i] == '\t'))
				i++;
			if (i >= n || (p[i] != '\n' && p[i] != '\r'))
				break;
			breaks++;
		}
		if (breaks == 0)
			buf_putc(out, ' ');
		for (; breaks > 0; breaks--)
			buf_putc(out, '\n');
	}
}

/*
 * A single-quoted scalar decoded from the source bytes: libfyaml 0.7.12
 * leaks a buffer formatting some of them (many '' escapes), and the rules
 * are two: '' is a quote, and lines fold. false: not that case.
 */
static bool
conf_yaml_sq(struct conf_yaml *y, struct fy_node *node, struct buf *out)
{
	struct fy_token *t = fy_node_get_scalar_token(node);
	const struct fy_mark *a, *b;
	const char *p;
	size_t n;

	if (t == NULL || fy_node_get_style(node) != FYNS_SINGLE_QUOTED)
		return false;
	a = fy_token_start_mark(t);
	b = fy_token_end_mark(t);
	if (a == NULL || b == NULL || a->input_pos == 0 ||
	    b->input_pos < a->input_pos || b->input_pos >= y->len)
		return false;
	p = y->text + a->input_pos;
	n = b->input_pos - a->input_pos;
	if (p[-1] != '\'' || p[n] != '\'')
		return false;
	conf_yaml_sq_fold(p, n, out);
	return true;
}

/* Hand libfyaml's collected errors over as stream errors. */
static int
conf_yaml_diag_take(struct conf_yaml *y, struct fy_diag *diag)
{
	struct fy_diag_error *de;
	void *it = NULL;
	int n = 0;

	while ((de = fy_diag_errors_iterate(diag, &it)) != NULL) {
		conf_yaml_error(y, de->line, de->column,
		    de->msg != NULL ? de->msg : "YAML syntax error");
		n++;
	}
	if (n == 0 && fy_diag_got_error(diag)) {
		conf_yaml_error(y, 0, 0, "YAML syntax error");
		n++;
	}
	return n;
}

/* Diagnostics are collected; the text output would only reach stderr. */
static void
conf_yaml_diag_discard(
    struct fy_diag *diag, void *user, const char *buf, size_t len)
{
}

static void
conf_yaml_marks_push(struct conf_yaml *y, size_t *cap, int line, int col)
{
	if (y->nmarks == *cap) {
		*cap = *cap != 0 ? *cap * 2 : 64;
		y->marks = xrealloc(y->marks, *cap * sizeof(*y->marks));
	}
	y->marks[y->nmarks].node = NULL;
	y->marks[y->nmarks].line = line + 1;
	y->marks[y->nmarks].col = col + 1;
	y->nmarks++;
}

/* A structural limit hit in the event pass; returns -1 to stop it. */
static int
conf_yaml_limit(struct conf_yaml *y, struct fy_event *ev, const char *what)
{
	const struct fy_mark *m = fy_event_start_mark(ev);

	conf_yaml_error(y, m != NULL ? m->line + 1 : 0,
	    m != NULL ? m->column + 1 : 0, what);
	return -1;
}

/* Sets *docs to the number of documents seen (0: empty or comments). */
static int
conf_yaml_event_pass(struct conf_yaml *y, struct fy_parse_cfg *cfg, int *docs)
{
	struct fy_parser *fyp;
	struct fy_event *ev;
	size_t cap = 0;
	int depth = 0, rc = 0;

	if ((fyp = fy_parser_create(cfg)) == NULL ||
	    fy_parser_set_string(fyp, y->text, y->len) != 0)
		_exit(3);
	while (rc == 0 && (ev = fy_parser_parse(fyp)) != NULL) {
		const struct fy_mark *m = fy_event_start_mark(ev);

		switch (ev->type) {
		case FYET_DOCUMENT_START:
			if (++*docs > 1)
				rc = conf_yaml_limit(
				    y, ev, "more than one YAML document");
			break;
		case FYET_MAPPING_START:
		case FYET_SEQUENCE_START:
			if (++depth > CONF_DEPTH_MAX) {
				rc = conf_yaml_limit(
				    y, ev, "nested deeper than 64 levels");
				break;
			}
			conf_yaml_marks_push(y, &cap, m != NULL ? m->line : -1,
			    m != NULL ? m->column : -1);
			break;
		case FYET_MAPPING_END:
		case FYET_SEQUENCE_END:
			depth--;
			break;
		default:
			break;
		}
		fy_parser_event_free(fyp, ev);
	}
	fy_parser_destroy(fyp);
	return rc;
}

/* Collection nodes in pre-order, as the event pass met their starts. */
static void
conf_yaml_marks_walk(struct conf_yaml *y, struct fy_node *n, size_t *i)
{
	struct fy_node_pair *p;
	struct fy_node *c;
	void *it = NULL;

	if (n == NULL || fy_node_is_scalar(n))
		return;
	if (*i < y->nmarks)
		y->marks[*i].node = n;
	(*i)++;
	if (fy_node_is_mapping(n)) {
		while ((p = fy_node_mapping_iterate(n, &it)) != NULL) {
			conf_yaml_marks_walk(y, fy_node_pair_key(p), i);
			conf_yaml_marks_walk(y, fy_node_pair_value(p), i);
		}
	} else {
		while ((c = fy_node_sequence_iterate(n, &it)) != NULL)
			conf_yaml_marks_walk(y, c, i);
	}
}

static void
conf_yaml_marks_bind(struct conf_yaml *y, struct fy_document *doc)
{
	size_t n = 0;

	conf_yaml_marks_walk(y, fy_document_root(doc), &n);
	/* Both walks see the same tree; if not, positions are only missing. */
	if (n < y->nmarks)
		y->nmarks = n;
	if (y->nmarks > 0)
		qsort(
		    y->marks, y->nmarks, sizeof(*y->marks), conf_yaml_mark_cmp);
}

/* The slot of node in the identity table (a free one if absent). */
static struct conf_yid *
conf_yaml_id_slot(struct conf_yaml *y, struct fy_node *node)
{
	size_t h = ((uintptr_t)node >> 4) * 0x9e3779b97f4a7c15ull;

	if (y->nids * 2 >= y->ncap) {
		struct conf_yid *old = y->ids;
		size_t ocap = y->ncap;

		y->ncap = ocap != 0 ? ocap * 2 : 256;
		y->ids = xcalloc(y->ncap, sizeof(*y->ids));
		y->nids = 0;
		for (size_t i = 0; i < ocap; i++)
			if (old[i].node != NULL) {
				*conf_yaml_id_slot(y, old[i].node) = old[i];
				y->nids++;
			}
		free(old);
	}
	for (h &= y->ncap - 1;; h = (h + 1) & (y->ncap - 1))
		if (y->ids[h].node == NULL || y->ids[h].node == node)
			return &y->ids[h];
}

static void conf_yaml_node(
    struct conf_yaml *y, struct fy_node *n, struct fy_node *at, int depth);

static void
conf_yaml_scalar(struct conf_yaml *y, struct fy_node *n, int line, int col)
{
	struct buf text;
	const char *s;
	size_t len = 0;

	buf_init(&text);
	buf_puts(&text, "");
	if (n != NULL && !conf_yaml_sq(y, n, &text) &&
	    (s = fy_node_get_scalar(n, &len)) != NULL)
		buf_append(&text, s, len);
	buf_putc(&y->nodes, 'S');
	conf_stream_u32(
	    &y->nodes, n == NULL || fy_node_get_style(n) == FYNS_PLAIN ? 1 : 0);
	conf_stream_u32(&y->nodes, (uint32_t)line);
	conf_stream_u32(&y->nodes, (uint32_t)col);
	conf_stream_u32(&y->nodes, (uint32_t)text.len);
	buf_append(&y->nodes, text.data, text.len);
	buf_fini(&text);
}

/* Node n (NULL: an empty value, placed at node at) and what it holds. */
static void
conf_yaml_node(
    struct conf_yaml *y, struct fy_node *n, struct fy_node *at, int depth)
{
	struct conf_yid *slot;
	struct fy_node_pair *p;
	struct fy_node *c;
	uint32_t id;
	void *it = NULL;
	int line, col;

	if (n != NULL && fy_node_is_alias(n) &&
	    (n = fy_node_resolve_alias(n)) == NULL) {
		conf_yaml_pos(y, at, &line, &col);
		conf_yaml_error(y, line, col, "alias to an unknown anchor");
		n = NULL;
	}
	if (n != NULL) {
		slot = conf_yaml_id_slot(y, n);
		if (slot->node != NULL) {
			if (!slot->done) {
				conf_yaml_pos(y, n, &line, &col);
				conf_yaml_error(
				    y, line, col, "an alias refers to itself");
				return;
			}
			buf_putc(&y->nodes, 'R');
			conf_stream_u32(&y->nodes, slot->id);
			return;
		}
	}
	id = y->next_id++;
	if (id >= CONF_NODES_MAX || depth > CONF_DEPTH_MAX + 1) {
		conf_yaml_error(y, 0, 0,
		    id >= CONF_NODES_MAX ? "more than 1048576 nodes" :
		                           "nested deeper than 64 levels");
		return;
	}
	conf_yaml_pos(y, n != NULL ? n : at, &line, &col);
	if (n == NULL || fy_node_is_scalar(n)) {
		/* A NULL value has no identity: nothing can refer to it. */
		if (n != NULL) {
			*conf_yaml_id_slot(y, n) =
			    (struct conf_yid){ n, id, true };
			y->nids++;
		}
		conf_yaml_scalar(y, n, line, col);
		return;
	}
	*conf_yaml_id_slot(y, n) = (struct conf_yid){ n, id, false };
	y->nids++;
	if (fy_node_is_mapping(n)) {
		buf_putc(&y->nodes, 'M');
		conf_stream_u32(&y->nodes, (uint32_t)line);
		conf_stream_u32(&y->nodes, (uint32_t)col);
		conf_stream_u32(
		    &y->nodes, (uint32_t)fy_node_mapping_item_count(n));
		while ((p = fy_node_mapping_iterate(n, &it)) != NULL &&
		    y->nerrors == 0) {
			conf_yaml_node(y, fy_node_pair_key(p), n, depth + 1);
			conf_yaml_node(y, fy_node_pair_value(p),
			    fy_node_pair_key(p), depth + 1);
		}
	} else {
		buf_putc(&y->nodes, 'Q');
		conf_stream_u32(&y->nodes, (uint32_t)line);
		conf_stream_u32(&y->nodes, (uint32_t)col);
		conf_stream_u32(
		    &y->nodes, (uint32_t)fy_node_sequence_item_count(n));
		while ((c = fy_node_sequence_iterate(n, &it)) != NULL &&
		    y->nerrors == 0)
			conf_yaml_node(y, c, n, depth + 1);
	}
	/* The table may have grown: find the slot again. */
	conf_yaml_id_slot(y, n)->done = true;
}

void
conf_yaml_emit(const char *text, size_t len, struct buf *out)
{
	struct fy_parse_cfg cfg = { 0 };
	struct fy_diag_cfg dcfg;
	struct fy_document *doc = NULL;
	struct fy_diag *diag;
	struct conf_yaml y;
	int docs = 0;

	memset(&y, 0, sizeof(y));
	y.text = text;
	y.len = len;
	buf_init(&y.errs);
	buf_init(&y.nodes);
	fy_diag_cfg_default(&dcfg);
	dcfg.fp = NULL;
	dcfg.output_fn = conf_yaml_diag_discard;
	dcfg.colorize = false;
	if ((diag = fy_diag_create(&dcfg)) == NULL)
		_exit(3);
	fy_diag_set_collect_errors(diag, true);
	cfg.flags = FYPCF_QUIET;
	cfg.diag = diag;
	if (conf_yaml_event_pass(&y, &cfg, &docs) == 0 &&
	    conf_yaml_diag_take(&y, diag) == 0 && docs > 0) {
		doc = fy_document_build_from_string(&cfg, text, len);
		if (conf_yaml_diag_take(&y, diag) == 0 && doc != NULL) {
			conf_yaml_marks_bind(&y, doc);
			conf_yaml_node(&y, fy_document_root(doc), NULL, 0);
		} else if (y.nerrors == 0) {
			conf_yaml_error(&y, 0, 0, "YAML syntax error");
		}
	}
	buf_append(out, CONF_STREAM_MAGIC, 4);
	if (y.nerrors > 0)
		buf_append(out, y.errs.data, y.errs.len);
	else if (y.nodes.len > 0)
		buf_append(out, y.nodes.data, y.nodes.len);
	else
		buf_putc(out, '0');
	buf_putc(out, 'Z');
	/* The child exits next; the parent's fuzz and unit builds call this
	 * in-process, so free what was taken. */
	if (doc != NULL)
		fy_document_destroy(doc);
	fy_diag_destroy(diag);
	buf_fini(&y.errs);
	buf_fini(&y.nodes);
	free(y.marks);
	free(y.ids);
}

static uint64_t
conf_yaml_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Read the child's stream until EOF or the deadline. 0, or -ETIMEDOUT. */
static int
conf_yaml_collect(int fd, struct buf *in)
{
	uint64_t deadline = conf_yaml_now_ms() + CONF_YAML_DEADLINE_MS;
	char chunk[65536];

	for (;;) {
		uint64_t now = conf_yaml_now_ms();
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (now >= deadline)
			return -ETIMEDOUT;
		if (poll(&pfd, 1, (int)(deadline - now)) == -1) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (pfd.revents == 0)
			continue;
		n = read(fd, chunk, sizeof(chunk));
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return n == 0 ? 0 : -errno;
		if (in->len + (size_t)n > CONF_STREAM_MAX)
			return -EMSGSIZE;
		buf_append(in, chunk, (size_t)n);
	}
}

static void
conf_yaml_child(int fd, const char *text, size_t len)
{
	static const int fatal_sigs[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE,
		SIGABRT };
	struct buf out;
	size_t off = 0;

	/* A crash here must end as a signal, whatever handler a sanitizer or
	 * fuzzer installed in the parent: that is how the parent tells it. */
	for (size_t i = 0; i < sizeof(fatal_sigs) / sizeof(fatal_sigs[0]); i++)
		signal(fatal_sigs[i], SIG_DFL);
	buf_init(&out);
	conf_yaml_emit(text, len, &out);
	while (off < out.len) {
		ssize_t n = write(fd, out.data + off, out.len - off);

		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			_exit(2);
		off += (size_t)n;
	}
	_exit(0);
}

int
conf_yaml_load(const char *file, const char *text, size_t len,
    struct conf_tree *t, struct conf_errors *errs)
{
	struct buf in;
	int pfd[2], status = 0, rc;
	pid_t pid;

	conf_tree_init(t);
	if (pipe2(pfd, O_CLOEXEC) == -1) {
		conf_errors_addf(errs, file, 0, 0,
		    "cannot start the YAML parser: %s", strerror(errno));
		return -1;
	}
	if ((pid = fork()) == -1) {
		conf_errors_addf(errs, file, 0, 0,
		    "cannot start the YAML parser: %s", strerror(errno));
		close(pfd[0]);
		close(pfd[1]);
		return -1;
	}
	if (pid == 0) {
		close(pfd[0]);
		conf_yaml_child(pfd[1], text, len);
	}
	close(pfd[1]);
	buf_init(&in);
	rc = conf_yaml_collect(pfd[0], &in);
	close(pfd[0]);
	if (rc != 0)
		kill(pid, SIGKILL);
	while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
		;
	if (WIFSIGNALED(status) && rc != -ETIMEDOUT) {
		conf_errors_addf(errs, file, 0, 0,
		    "the YAML parser crashed on this input (signal %d, %s)",
		    WTERMSIG(status), strsignal(WTERMSIG(status)));
		rc = -1;
	} else if (rc == -ETIMEDOUT) {
		conf_errors_addf(errs, file, 0, 0,
		    "the YAML parser did not finish within %d s on this input",
		    CONF_YAML_DEADLINE_MS / 1000);
		rc = -1;
	} else if (rc != 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		conf_errors_addf(errs, file, 0, 0,
		    "the YAML parser failed on this input (%s)",
		    rc != 0 ? strerror(-rc) : "exit status");
		rc = -1;
	} else {
		rc = conf_tree_decode(in.data, in.len, file, t, errs);
	}
	buf_fini(&in);
	return rc;
}
