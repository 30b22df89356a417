/*
 * dns_zone_lex.c - the master-file tokenizer: bytes to entries, one per
 * logical line. Pure: no I/O, clock or globals.
 *
 * RFC 1035 §5.1: blank space separates items; ';' starts a comment to the
 * end of the line; "(" and ")" let an entry run over several lines, the
 * newlines inside counting as blank space; '"' quotes a string that may
 * hold blank space and the specials; '\' takes the next character
 * literally in both. Whether the owner was left out is a fact of the raw
 * line (it begins with blank space), so the tokenizer records it: no
 * later stage could tell.
 *
 * A quoted string may not span lines: no RFC grants it, and an
 * unterminated quote would otherwise swallow the rest of the file into
 * one error.
 */
#include <errno.h>
#include <stdlib.h>

#include "dns/dns_zone_priv.h"
#include "lib/util.h"

static void
dns_zone_lex_push(struct dns_zone_entry *e, const struct dns_zone_tok *t)
{
	if (e->ntok == e->cap) {
		e->cap = e->cap ? e->cap * 2 : 16;
		e->tok = xrealloc(e->tok, e->cap * sizeof(*e->tok));
	}
	e->tok[e->ntok++] = *t;
}

void
dns_zone_entry_fini(struct dns_zone_entry *e)
{
	free(e->tok);
	e->tok = NULL;
	e->ntok = e->cap = 0;
}

static unsigned
dns_zone_lex_col(const struct dns_zone_lex *lx, size_t pos)
{
	return (unsigned)(pos - lx->line_start + 1);
}

/* Move past the newline at lx->pos. */
static void
dns_zone_lex_newline(struct dns_zone_lex *lx)
{
	lx->pos++;
	lx->line++;
	lx->line_start = lx->pos;
}

/* Skip to the start of the next line (after an error). */
static void
dns_zone_lex_skip_line(struct dns_zone_lex *lx)
{
	while (lx->pos < lx->len && lx->text[lx->pos] != '\n')
		lx->pos++;
	if (lx->pos < lx->len)
		dns_zone_lex_newline(lx);
}

static bool
dns_zone_lex_delim(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == ';' ||
	    c == '(' || c == ')' || c == '"';
}

/* A quoted string from the '"' at lx->pos; 0 or -EINVAL. */
static int
dns_zone_lex_quoted(struct dns_zone_lex *lx, struct dns_zone_tok *t)
{
	size_t start = ++lx->pos;

	while (lx->pos < lx->len) {
		char c = lx->text[lx->pos];

		if (c == '"') {
			t->p = lx->text + start;
			t->len = lx->pos - start;
			t->quoted = true;
			lx->pos++;
			return 0;
		}
		if (c == '\n')
			return -EINVAL;
		if (c == '\\') {
			if (lx->pos + 1 >= lx->len ||
			    lx->text[lx->pos + 1] == '\n')
				return -EINVAL;
			lx->pos++;
		}
		lx->pos++;
	}
	return -EINVAL;
}

/* A plain token from lx->pos; 0 or -EINVAL (a '\' ends the file). */
static int
dns_zone_lex_plain(struct dns_zone_lex *lx, struct dns_zone_tok *t)
{
	size_t start = lx->pos;

	while (lx->pos < lx->len && !dns_zone_lex_delim(lx->text[lx->pos])) {
		if (lx->text[lx->pos] == '\\') {
			if (lx->pos + 1 >= lx->len ||
			    lx->text[lx->pos + 1] == '\n')
				return -EINVAL;
			lx->pos++;
		}
		lx->pos++;
	}
	t->p = lx->text + start;
	t->len = lx->pos - start;
	t->quoted = false;
	return 0;
}

int
dns_zone_lex_entry(struct dns_zone_lex *lx, struct dns_zone_entry *e,
    const char **why, unsigned *line, unsigned *col)
{
	unsigned paren = 0, pline = 0, pcol = 0;
	struct dns_zone_tok t;

	e->ntok = 0;
	e->blank_owner = false;
	for (;;) {
		char c;

		if (lx->pos >= lx->len) {
			if (paren > 0) {
				*why = "unbalanced '(': no ')' before the end";
				*line = pline;
				*col = pcol;
				return -EINVAL;
			}
			return e->ntok > 0;
		}
		c = lx->text[lx->pos];
		if (c == '\n') {
			if (paren == 0 && e->ntok > 0)
				return 1;
			if (e->ntok == 0)
				e->blank_owner = false; /* a blank line's */
			dns_zone_lex_newline(lx);
			continue;
		}
		if (c == ' ' || c == '\t' || c == '\r') {
			if (lx->pos == lx->line_start && e->ntok == 0)
				e->blank_owner = true;
			lx->pos++;
			continue;
		}
		if (c == ';') {
			while (lx->pos < lx->len && lx->text[lx->pos] != '\n')
				lx->pos++;
			continue;
		}
		*line = lx->line;
		*col = dns_zone_lex_col(lx, lx->pos);
		if (c == '(') {
			if (paren++ == 0) {
				pline = *line;
				pcol = *col;
			}
			lx->pos++;
			continue;
		}
		if (c == ')') {
			if (paren == 0) {
				*why = "unbalanced ')'";
				dns_zone_lex_skip_line(lx);
				return -EINVAL;
			}
			paren--;
			lx->pos++;
			continue;
		}
		t.line = *line;
		t.col = *col;
		if ((c == '"' ? dns_zone_lex_quoted(lx, &t) :
		                dns_zone_lex_plain(lx, &t)) < 0) {
			*why = c == '"' ? "unterminated quoted string" :
			                  "'\\' at the end of a line";
			dns_zone_lex_skip_line(lx);
			return -EINVAL;
		}
		if (e->ntok == 0)
			e->line = t.line;
		dns_zone_lex_push(e, &t);
	}
}
