/*
 * http1.h - HTTP/1.0 and HTTP/1.1 message-head parser and chunked-body
 * scanner. Pure: no I/O, no allocation, no clock, no globals.
 *
 * Shared by the control API, the load balancer (both directions) and the HTTP
 * health checks, so it is strict where leniency lets two parsers disagree
 * about where a message ends (request smuggling, RFC 9112 §11.2):
 *   - Content-Length and Transfer-Encoding together, a repeated or
 *     non-numeric Content-Length, a Transfer-Encoding whose final coding is
 *     not chunked: rejected;
 *   - obs-fold (a header line starting with SP/HTAB), whitespace before the
 *     colon, bare LF / bare CR, NUL and other control characters in names or
 *     values: rejected;
 *   - a request line that is not METHOD SP TARGET SP HTTP/1.x: rejected.
 * Limits (head size, header count) are the caller's, so the LB and the API
 * can differ.
 *
 * Parsing is restartable: call again with the same buffer grown by new bytes;
 * HTTP1_AGAIN means "not complete yet", never a partial result. Lines are
 * checked as they complete, so garbage is refused before the head ends, and
 * feeding a head byte by byte ends in the answer one call would give. Empty
 * lines before a request line are skipped (RFC 9112 §2.2) and counted in
 * head_len. A request-target must be in one of the four forms of RFC 9112
 * §3.2; Host must be one uri-host[:port] (empty allowed). Every pointer
 * in the results points into the caller's buffer (borrowed) and stays valid
 * only as long as that buffer is not moved or changed.
 */
#ifndef HAVEN_HTTP1_H
#define HAVEN_HTTP1_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HTTP1_MAX_HDRS       100 /* hard cap on the header array */
/* Chunked-body bounds (RFC 9112 §7.1); beyond them: HTTP1_E_BAD_CHUNK. */
#define HTTP1_CHUNK_SIZE_MAX (1ULL << 62) /* largest chunk-size accepted */
#define HTTP1_CHUNK_LINE_MAX 4096         /* chunk-size + extensions */
#define HTTP1_TRAILER_MAX    8192         /* whole trailer section */

enum http1_result {
	HTTP1_DONE = 0,  /* head complete: see head_len */
	HTTP1_AGAIN = 1, /* need more bytes */
	HTTP1_ERROR = -1 /* malformed: see err; answer 400 and close */
};

/* Why a message was rejected: one value per cause, counted by callers. */
enum http1_err {
	HTTP1_E_NONE,
	HTTP1_E_TOO_LARGE,     /* head longer than limit: 431 */
	HTTP1_E_TOO_MANY_HDRS, /* more headers than limit: 431 */
	HTTP1_E_BAD_METHOD,
	HTTP1_E_BAD_TARGET,
	HTTP1_E_BAD_VERSION, /* not HTTP/1.0 or HTTP/1.1: 505 */
	HTTP1_E_BAD_STATUS,
	HTTP1_E_BAD_HEADER_NAME,
	HTTP1_E_BAD_HEADER_VALUE,
	HTTP1_E_OBS_FOLD,
	HTTP1_E_BARE_LF, /* LF or CR not part of CRLF */
	HTTP1_E_BAD_CONTENT_LENGTH,
	HTTP1_E_DUP_CONTENT_LENGTH,
	HTTP1_E_CL_AND_TE, /* both Content-Length and Transfer-Encoding */
	HTTP1_E_BAD_TRANSFER_ENCODING,
	HTTP1_E_BAD_HOST, /* missing in 1.1, repeated, or invalid */
	HTTP1_E_BAD_CHUNK,
	HTTP1_E__COUNT
};

enum http1_method {
	HTTP1_M_OTHER,
	HTTP1_M_GET,
	HTTP1_M_HEAD,
	HTTP1_M_POST,
	HTTP1_M_PUT,
	HTTP1_M_DELETE,
	HTTP1_M_OPTIONS,
	HTTP1_M_TRACE,
	HTTP1_M_PATCH,
	HTTP1_M_CONNECT,
};

/* A NULL limits pointer or a 0 field means 8192 bytes / HTTP1_MAX_HDRS. */
struct http1_limits {
	size_t max_head;    /* bytes of request line + headers + CRLFCRLF */
	size_t max_headers; /* <= HTTP1_MAX_HDRS */
};

struct http1_header {
	const char *name; /* borrowed */
	size_t name_len;
	const char *value; /* borrowed; leading/trailing OWS trimmed */
	size_t value_len;
};

/*
 * What both requests and responses carry. Only hdr[0..nhdr) is set.
 * content_length is the framing length of the body that follows the head:
 * the Content-Length value, -1 when absent (a request without CL or TE has
 * no body), and 0 for 1xx, 204 and 304 responses whatever their fields say.
 * A response to HEAD or a 2xx to CONNECT has no body either; only the
 * caller knows the request, so that case is the caller's. close_delimited
 * (responses only) means the body runs until the server closes: no CL and
 * no TE, a final coding other than chunked, or TE in HTTP/1.0; keep_alive
 * is then false.
 */
struct http1_msg {
	int minor; /* HTTP/1.<minor>: 0 or 1 */
	struct http1_header hdr[HTTP1_MAX_HDRS];
	size_t nhdr;
	size_t head_len; /* bytes of the head, CRLFCRLF included */
	/* Framing derived from the headers (RFC 9112 §6). */
	int64_t content_length; /* -1 when absent */
	bool chunked;
	bool keep_alive;      /* version default adjusted by Connection */
	bool conn_close;      /* Connection: close present */
	bool upgrade;         /* Connection: upgrade + Upgrade header */
	bool close_delimited; /* response body ends at EOF */
	enum http1_err err;
};

struct http1_req {
	struct http1_msg m;
	enum http1_method method;
	const char *method_str; /* borrowed */
	size_t method_len;
	const char *target; /* borrowed */
	size_t target_len;
	const char *host; /* borrowed; NULL when absent */
	size_t host_len;
	bool expect_continue;
};

struct http1_resp {
	struct http1_msg m;
	int status;
	const char *reason; /* borrowed */
	size_t reason_len;
};

int http1_parse_request(const char *buf, size_t len,
    const struct http1_limits *lim, struct http1_req *req);
int http1_parse_response(const char *buf, size_t len,
    const struct http1_limits *lim, struct http1_resp *resp);

/* Case-insensitive lookup of the first header called name; NULL if absent. */
const struct http1_header *http1_find(
    const struct http1_msg *m, const char *name);

/* True if the method is idempotent (RFC 9110 §9.2.2): safe to retry. */
bool http1_method_idempotent(enum http1_method m);
const char *http1_err_name(enum http1_err e);
/* Status a server answers for a parse error: 400, 431 or 505. */
int http1_err_status(enum http1_err e);
const char *http1_reason(int status);

/*
 * Incremental chunked-body scanner (RFC 9112 §7.1). Feed it bytes as they
 * arrive; it reports how many it consumed, where the data inside them lies
 * (so a server can decode) and when the last chunk and trailers end (so a
 * proxy forwarding the raw bytes knows where the message stops).
 * Chunk extensions are skipped; trailers are consumed and ignored.
 */
struct http1_chunked {
	int state;          /* private */
	uint64_t remaining; /* bytes left in the current chunk */
	unsigned ext_len;   /* private: bounds extension/trailer lengths */
	bool done;
	enum http1_err err;
};

void http1_chunked_init(struct http1_chunked *c);
/*
 * Scan in[0..len). Returns bytes consumed (all of len unless the message
 * ended inside it), or -1 on a malformed body (c->err set). If data_off and
 * data_len are given, the first run of body data found is reported there
 * (data_len 0 if none) and the scan stops right after that run, so fewer
 * than len bytes may be consumed: call again on the rest to get the next
 * run. Once done, it consumes nothing more (returns 0).
 */
long http1_chunked_feed(struct http1_chunked *c, const char *in, size_t len,
    size_t *data_off, size_t *data_len);

#endif
