/*
 * Unit tests for the check types (hc_http.c, hc_dns.c, hc_icmp.c,
 * hc_exec.c, hc_sock.c) against real loopback peers made here: each test
 * forks a small blocking server (HTTP, TLS, DNS) that the probe talks to on
 * a real event loop. Every probe must end in exactly one result, never from
 * inside start(), with the expected reason, inside its timeout, and leave
 * no descriptor or timer behind. Slow peers pace their bytes themselves;
 * the tests never sleep to wait for a result.
 */
#include <sys/types.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sched.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include "hc/hc_conf.h"
#include "hc/hc_probe.h"
#include "hc/hc_sock.h"
#include "lib/ev.h"
#include "lib/util.h"
#include "runner.h"

struct thc_res {
	int n; /* results delivered: must end at exactly 1 */
	struct hc_result r;
};

static void
thc_done(const struct hc_result *r, void *arg)
{
	struct thc_res *t = arg;

	t->n++;
	t->r = *r;
}

static int
thc_nfds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	T_ASSERT(d != NULL);
	while ((e = readdir(d)) != NULL)
		n += e->d_name[0] != '.';
	closedir(d);
	return n - 1; /* the DIR's own descriptor */
}

static void
thc_conf(struct hc_check_conf *cc, int type, uint64_t timeout_ms)
{
	memset(cc, 0, sizeof(*cc));
	cc->type = type;
	cc->timing.timeout_ms = timeout_ms;
	cc->max_body = 65536;
}

static void
thc_addr(struct sockaddr_storage *ss, const char *ip, uint16_t port)
{
	memset(ss, 0, sizeof(*ss));
	if (strchr(ip, ':') != NULL) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		T_ASSERT(inet_pton(AF_INET6, ip, &s6->sin6_addr) == 1);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		T_ASSERT(inet_pton(AF_INET, ip, &s4->sin_addr) == 1);
	}
}

/*
 * Run one probe to its result on a fresh real loop. Checks the contract:
 * no result from inside start, one result, within timeout (+ slack), and
 * nothing left registered or open afterwards.
 */
static struct hc_result
thc_run(const struct hc_check_type *ty, const struct hc_check_conf *cc,
    const struct sockaddr_storage *ss)
{
	int fds = thc_nfds();
	struct ev_loop *loop = ev_loop_new();
	struct thc_res t = { 0 };
	struct hc_probe *p = NULL;
	uint64_t t0 = util_mono_ms(), limit = cc->timing.timeout_ms + 1000;

	T_EQ_INT(ty->start(loop, cc, ss, thc_done, &t, &p), 0);
	T_ASSERT(p != NULL);
	T_EQ_INT(t.n, 0);
	while (t.n == 0 && util_mono_ms() - t0 < limit)
		ev_run_once(loop, 50);
	T_EQ_INT(t.n, 1);
	/* Let deferred frees and any reaper finish, bounded. */
	for (int i = 0; i < 100 && ev_pending(loop) > 0; i++)
		ev_run_once(loop, 20);
	ev_run_once(loop, 0);
	T_EQ_INT(ev_pending(loop), 0);
	T_EQ_INT(t.n, 1);
	ev_loop_free(loop);
	T_EQ_INT(thc_nfds(), fds);
	printf("# %s: reason %d, %u us, \"%s\"\n", ty->name, t.r.reason,
	    t.r.latency_us, t.r.detail);
	return t.r;
}

/* ---- TCP servers in a forked child ---------------------------------- */

enum thc_mode {
	THC_CANNED,  /* read the request, write resp, close */
	THC_HANG,    /* accept and say nothing */
	THC_RESET,   /* read the request, then RST */
	THC_TRICKLE, /* resp one byte per 50 ms */
	THC_FLOOD,   /* head, then body bytes until the peer goes */
	THC_TLS,     /* TLS, then like CANNED */
};

struct thc_srv {
	pid_t pid;
	uint16_t port;
};

static const char *thc_resp;
static const char *thc_tls_dir;

static void
thc_read_req(int fd, SSL *ssl)
{
	char b[4096];
	size_t n = 0;
	ssize_t r;

	while (n < sizeof(b) - 1) {
		if (n > 0 && (b[0] < 'A' || b[0] > 'Z'))
			return; /* not HTTP (a TLS hello): answer anyway */
		r = ssl ? SSL_read(ssl, b + n, (int)(sizeof(b) - 1 - n)) :
		          read(fd, b + n, sizeof(b) - 1 - n);
		if (r <= 0)
			return;
		n += (size_t)r;
		b[n] = '\0';
		if (strstr(b, "\r\n\r\n") != NULL)
			return;
	}
}

static void
thc_write_all(int fd, const char *p, size_t n)
{
	ssize_t r;

	while (n > 0 && (r = write(fd, p, n)) > 0) {
		p += r;
		n -= (size_t)r;
	}
}

static SSL_CTX *
thc_srv_tls(void)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	char path[512];

	snprintf(path, sizeof(path), "%s/cert.pem", thc_tls_dir);
	if (SSL_CTX_use_certificate_file(ctx, path, SSL_FILETYPE_PEM) != 1)
		_exit(3);
	snprintf(path, sizeof(path), "%s/key.pem", thc_tls_dir);
	if (SSL_CTX_use_PrivateKey_file(ctx, path, SSL_FILETYPE_PEM) != 1)
		_exit(3);
	return ctx;
}

static void
thc_serve_one(int c, enum thc_mode mode, SSL_CTX *ctx)
{
	struct linger lg = { 1, 0 };
	const char *p;
	char junk[8192];
	SSL *ssl;

	switch (mode) {
	case THC_HANG:
		pause();
		break;
	case THC_RESET:
		thc_read_req(c, NULL);
		setsockopt(c, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		break;
	case THC_TRICKLE:
		thc_read_req(c, NULL);
		for (p = thc_resp; *p != '\0'; p++) {
			struct timespec ts = { 0, 50 * 1000 * 1000 };

			if (write(c, p, 1) != 1)
				break;
			nanosleep(&ts, NULL); /* the peer's pace, not a wait */
		}
		break;
	case THC_FLOOD:
		thc_read_req(c, NULL);
		thc_write_all(c, thc_resp, strlen(thc_resp));
		memset(junk, 'x', sizeof(junk));
		/* Bounded: 64 MiB at most, the probe stops far earlier. */
		for (int i = 0; i < 8192; i++)
			if (write(c, junk, sizeof(junk)) <= 0)
				break;
		break;
	case THC_TLS:
		ssl = SSL_new(ctx);
		SSL_set_fd(ssl, c);
		if (SSL_accept(ssl) == 1) {
			thc_read_req(c, ssl);
			SSL_write(ssl, thc_resp, (int)strlen(thc_resp));
			SSL_shutdown(ssl);
		}
		SSL_free(ssl);
		break;
	case THC_CANNED:
		thc_read_req(c, NULL);
		thc_write_all(c, thc_resp, strlen(thc_resp));
		break;
	}
	close(c);
}

/* A server child dies with its test and keeps off the TAP stream. */
static void
thc_child_setup(void)
{
	int null = open("/dev/null", O_WRONLY);

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (null != -1) {
		dup2(null, 1);
		close(null);
	}
}

static struct thc_srv
thc_srv_start(enum thc_mode mode, const char *resp)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t len = sizeof(sin);
	struct thc_srv s;
	int l, c;

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	l = socket(AF_INET, SOCK_STREAM, 0);
	T_ASSERT(l != -1);
	T_ASSERT(bind(l, (struct sockaddr *)&sin, sizeof(sin)) == 0);
	T_ASSERT(listen(l, 16) == 0);
	T_ASSERT(getsockname(l, (struct sockaddr *)&sin, &len) == 0);
	s.port = ntohs(sin.sin_port);
	thc_resp = resp;
	fflush(stdout);
	if ((s.pid = fork()) == 0) {
		SSL_CTX *ctx;

		thc_child_setup();
		ctx = mode == THC_TLS ? thc_srv_tls() : NULL;
		signal(SIGPIPE, SIG_IGN);
		if (mode == THC_HANG)
			pause(); /* the backlog completes the connect */
		for (;;) {
			if ((c = accept(l, NULL, NULL)) == -1)
				_exit(1);
			thc_serve_one(c, mode, ctx);
		}
	}
	T_ASSERT(s.pid > 0);
	close(l);
	return s;
}

static void
thc_srv_stop(struct thc_srv *s)
{
	kill(s->pid, SIGKILL);
	waitpid(s->pid, NULL, 0);
}

/* Run an http probe against a fresh server of the given behaviour. */
static struct hc_result
thc_http(enum thc_mode mode, const char *resp, struct hc_check_conf *cc)
{
	struct thc_srv s = thc_srv_start(mode, resp);
	struct sockaddr_storage ss;
	struct hc_result r;

	thc_addr(&ss, "127.0.0.1", s.port);
	r = thc_run(cc->type == HC_TYPE_HTTPS ? &hc_https_type : &hc_http_type,
	    cc, &ss);
	thc_srv_stop(&s);
	return r;
}

#define THC_OK_HEAD "HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\nhello world"

static void
test_http_ok(void)
{
	struct hc_check_conf cc;
	struct hc_result r;

	thc_conf(&cc, HC_TYPE_HTTP, 1000);
	r = thc_http(THC_CANNED, THC_OK_HEAD, &cc);
	T_EQ_INT(r.reason, HC_R_OK);
	T_EQ_STR(r.detail, "status 200");
}

static void
test_http_refused(void)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t len = sizeof(sin);
	struct sockaddr_storage ss;
	struct hc_check_conf cc;
	int l = socket(AF_INET, SOCK_STREAM, 0);

	/* A port just bound and released: nothing listens there. */
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	T_ASSERT(bind(l, (struct sockaddr *)&sin, sizeof(sin)) == 0);
	T_ASSERT(getsockname(l, (struct sockaddr *)&sin, &len) == 0);
	close(l);
	thc_addr(&ss, "127.0.0.1", ntohs(sin.sin_port));
	thc_conf(&cc, HC_TYPE_HTTP, 1000);
	T_EQ_INT(thc_run(&hc_http_type, &cc, &ss).reason, HC_R_CONNECT_REFUSED);
}

static void
test_http_hang_times_out(void)
{
	struct hc_check_conf cc;
	struct hc_result r;

	thc_conf(&cc, HC_TYPE_HTTP, 200);
	r = thc_http(THC_HANG, NULL, &cc);
	T_EQ_INT(r.reason, HC_R_TIMEOUT);
	T_ASSERT(r.latency_us >= 190000 && r.latency_us < 700000);
	T_ASSERT(strstr(r.detail, "response") != NULL);
}

static void
test_http_reset(void)
{
	struct hc_check_conf cc;

	thc_conf(&cc, HC_TYPE_HTTP, 1000);
	T_EQ_INT(thc_http(THC_RESET, NULL, &cc).reason, HC_R_RESET);
}

static void
test_http_closed(void)
{
	struct hc_check_conf cc;

	thc_conf(&cc, HC_TYPE_HTTP, 1000);
	T_EQ_INT(thc_http(THC_CANNED, "", &cc).reason, HC_R_CLOSED);
	T_EQ_INT(thc_http(THC_CANNED, "HTTP/1.1 200 OK\r\nCont", &cc).reason,
	    HC_R_CLOSED);
}

static void
test_http_wrong_status(void)
{
	static uint32_t only_204[] = { 204, 204 };
	struct hc_check_conf cc;
	struct hc_result r;

	thc_conf(&cc, HC_TYPE_HTTP, 1000);
	r = thc_http(THC_CANNED,
	    "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n",
	    &cc);
	T_EQ_INT(r.reason, HC_R_BAD_STATUS);
	T_EQ_STR(r.detail, "status 503");
	/* A configured set replaces the default 200-399. */
	cc.expect_status = only_204;
	cc.nexpect_status = 1;
	T_EQ_INT(
	    thc_http(THC_CANNED, THC_OK_HEAD, &cc).reason, HC_R_BAD_STATUS);
	T_EQ_INT(
	    thc_http(THC_CANNED, "HTTP/1.1 204 No Content\r\n\r\n", &cc).reason,
	    HC_R_OK);
}

static void
test_http_garbage(void)
{
	struct hc_check_conf cc;

	thc_conf(&cc, HC_TYPE_HTTP, 1000);
	T_EQ_INT(thc_http(THC_CANNED, "SSH-2.0-OpenSSH_9.2\r\n", &cc).reason,
	    HC_R_PROTOCOL_ERROR);
	T_EQ_INT(thc_http(THC_CANNED, "HTTP/1.1 2x0 OK\r\n\r\n", &cc).reason,
	    HC_R_PROTOCOL_ERROR);
	T_EQ_INT(thc_http(THC_CANNED,
	             "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n"
	             "Content-Length: 2\r\n\r\nab",
	             &cc)
	             .reason,
	    HC_R_PROTOCOL_ERROR);
}

static void
test_http_body_match(void)
{
	struct hc_check_conf cc;
	struct hc_result r;

	thc_conf(&cc, HC_TYPE_HTTP, 1000);
	cc.body = "world";
	r = thc_http(THC_CANNED, THC_OK_HEAD, &cc);
	T_EQ_INT(r.reason, HC_R_OK);
	T_EQ_STR(r.detail, "status 200, body matched");
	cc.body = "planet";
	T_EQ_INT(
	    thc_http(THC_CANNED, THC_OK_HEAD, &cc).reason, HC_R_BODY_MISMATCH);
	/* Read until close, no framing headers. */
	cc.body = "alive";
	T_EQ_INT(
	    thc_http(THC_CANNED, "HTTP/1.0 200 OK\r\n\r\nstill alive\n", &cc)
	        .reason,
	    HC_R_OK);
	T_EQ_INT(
	    thc_http(THC_CANNED, "HTTP/1.0 200 OK\r\n\r\nstill dead\n", &cc)
	        .reason,
	    HC_R_BODY_MISMATCH);
	/* Content-Length bounds the body: bytes after it do not count. */
	T_EQ_INT(
	    thc_http(THC_CANNED,
	        "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabcalive", &cc)
	        .reason,
	    HC_R_BODY_MISMATCH);
}

static void
test_http_chunked_body(void)
{
	struct hc_check_conf cc;

	thc_conf(&cc, HC_TYPE_HTTP, 1000);
	cc.body = "status=green";
	/* The pattern straddles two chunks. */
	T_EQ_INT(thc_http(THC_CANNED,
	             "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	             "9\r\nstatus=gr\r\n3;ext=1\r\neen\r\n0\r\n\r\n",
	             &cc)
	             .reason,
	    HC_R_OK);
	T_EQ_INT(thc_http(THC_CANNED,
	             "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	             "9\r\nstatus=re\r\n1\r\nd\r\n0\r\n\r\n",
	             &cc)
	             .reason,
	    HC_R_BODY_MISMATCH);
	T_EQ_INT(thc_http(THC_CANNED,
	             "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	             "zz\r\nstatus=green\r\n0\r\n\r\n",
	             &cc)
	             .reason,
	    HC_R_PROTOCOL_ERROR);
	/* Chunk chain cut short by the peer. */
	T_EQ_INT(thc_http(THC_CANNED,
	             "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	             "9\r\nstatus=re",
	             &cc)
	             .reason,
	    HC_R_CLOSED);
}

static void
test_http_trickle_one_timeout(void)
{
	struct hc_check_conf cc;
	struct hc_result r;

	/* 1 byte / 50 ms: each read is progress, but the budget is total. */
	thc_conf(&cc, HC_TYPE_HTTP, 300);
	r = thc_http(THC_TRICKLE, THC_OK_HEAD, &cc);
	T_EQ_INT(r.reason, HC_R_TIMEOUT);
	T_ASSERT(r.latency_us >= 290000 && r.latency_us < 800000);
}

static void
test_http_huge_body(void)
{
	struct hc_check_conf cc;
	struct hc_result r;
	const char *head =
	    "HTTP/1.1 200 OK\r\nContent-Length: 67108864\r\n\r\n";

	thc_conf(&cc, HC_TYPE_HTTP, 2000);
	cc.max_body = 100000;
	/* No body check: the head decides, the body is never read. */
	T_EQ_INT(thc_http(THC_FLOOD, head, &cc).reason, HC_R_OK);
	cc.body = "needle";
	r = thc_http(THC_FLOOD, head, &cc);
	T_EQ_INT(r.reason, HC_R_TOO_LARGE);
	T_ASSERT(strstr(r.detail, "100000") != NULL);
	/* Read-until-close bodies are bounded the same way. */
	T_EQ_INT(thc_http(THC_FLOOD, "HTTP/1.0 200 OK\r\n\r\n", &cc).reason,
	    HC_R_TOO_LARGE);
}

static void
test_http_cancel(void)
{
	struct thc_srv s = thc_srv_start(THC_HANG, NULL);
	int fds = thc_nfds();
	struct ev_loop *loop = ev_loop_new();
	struct sockaddr_storage ss;
	struct hc_check_conf cc;
	struct thc_res t = { 0 };
	struct hc_probe *p;

	thc_addr(&ss, "127.0.0.1", s.port);
	thc_conf(&cc, HC_TYPE_HTTP, 100);
	T_EQ_INT(hc_http_type.start(loop, &cc, &ss, thc_done, &t, &p), 0);
	for (int i = 0; i < 5; i++)
		ev_run_once(loop, 10);
	hc_http_type.cancel(p);
	ev_run_once(loop, 0);
	T_EQ_INT(ev_pending(loop), 0);
	ev_run_once(loop, 200); /* past the deadline: done must stay silent */
	T_EQ_INT(t.n, 0);
	ev_loop_free(loop);
	T_EQ_INT(thc_nfds(), fds);
	thc_srv_stop(&s);
}

/* A hung peer must not delay another probe on the same loop. */
static void
test_http_no_stall(void)
{
	struct thc_srv hang = thc_srv_start(THC_HANG, NULL);
	struct thc_srv ok = thc_srv_start(THC_CANNED, THC_OK_HEAD);
	struct ev_loop *loop = ev_loop_new();
	struct sockaddr_storage a, b;
	struct hc_check_conf cc;
	struct thc_res th = { 0 }, to = { 0 };
	struct hc_probe *ph, *po;
	uint64_t t0 = util_mono_ms();

	thc_addr(&a, "127.0.0.1", hang.port);
	thc_addr(&b, "127.0.0.1", ok.port);
	thc_conf(&cc, HC_TYPE_HTTP, 5000);
	T_EQ_INT(hc_http_type.start(loop, &cc, &a, thc_done, &th, &ph), 0);
	T_EQ_INT(hc_http_type.start(loop, &cc, &b, thc_done, &to, &po), 0);
	while (to.n == 0 && util_mono_ms() - t0 < 2000)
		ev_run_once(loop, 50);
	T_EQ_INT(to.n, 1);
	T_EQ_INT(to.r.reason, HC_R_OK);
	T_ASSERT(util_mono_ms() - t0 < 1000);
	T_EQ_INT(th.n, 0);
	hc_http_type.cancel(ph);
	ev_run_once(loop, 0);
	T_EQ_INT(ev_pending(loop), 0);
	ev_loop_free(loop);
	thc_srv_stop(&hang);
	thc_srv_stop(&ok);
}

/* ---- TLS ----------------------------------------------------------- */

static char thc_dir[] = "/tmp/hc_types_XXXXXX";

/* EC key + self-signed cert for localhost/127.0.0.1, as PEM files. */
static void
thc_make_cert(void)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	X509_NAME *nm;
	X509_EXTENSION *ext;
	X509V3_CTX v3;
	char path[512];
	FILE *f;

	T_ASSERT(k != NULL && x != NULL && mkdtemp(thc_dir) != NULL);
	thc_tls_dir = thc_dir;
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), -60);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_set_pubkey(x, k);
	nm = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(nm, "CN", MBSTRING_ASC,
	    (const unsigned char *)"localhost", -1, -1, 0);
	X509_set_issuer_name(x, nm);
	X509V3_set_ctx_nodb(&v3);
	X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(
	    NULL, &v3, NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1");
	T_ASSERT(ext != NULL);
	X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	T_ASSERT(X509_sign(x, k, EVP_sha256()) > 0);
	snprintf(path, sizeof(path), "%s/cert.pem", thc_dir);
	T_ASSERT((f = fopen(path, "w")) != NULL);
	PEM_write_X509(f, x);
	fclose(f);
	snprintf(path, sizeof(path), "%s/key.pem", thc_dir);
	T_ASSERT((f = fopen(path, "w")) != NULL);
	PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL);
	fclose(f);
	X509_free(x);
	EVP_PKEY_free(k);
}

static void
thc_rm_cert(void)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/cert.pem", thc_dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/key.pem", thc_dir);
	unlink(path);
	rmdir(thc_dir);
}

static void
test_https_verify(void)
{
	struct hc_check_conf cc;
	struct hc_result r;
	char ca[512];

	thc_make_cert();
	snprintf(ca, sizeof(ca), "%s/cert.pem", thc_dir);
	thc_conf(&cc, HC_TYPE_HTTPS, 2000);
	cc.tls_verify = true;
	r = thc_http(THC_TLS, THC_OK_HEAD, &cc);
	T_EQ_INT(r.reason, HC_R_TLS_ERROR);
	T_ASSERT(strstr(r.detail, "certificate verify failed: ") != NULL);
	T_ASSERT(strstr(r.detail, "self") != NULL);
	/* Trusting the cert and naming the host it was made for passes. */
	cc.ca_file = ca;
	cc.sni = "localhost";
	cc.body = "hello";
	r = thc_http(THC_TLS, THC_OK_HEAD, &cc);
	T_EQ_INT(r.reason, HC_R_OK);
	/* The same trusted cert under another name does not. */
	cc.sni = "other.example";
	r = thc_http(THC_TLS, THC_OK_HEAD, &cc);
	T_EQ_INT(r.reason, HC_R_TLS_ERROR);
	T_ASSERT(strstr(r.detail, "hostname mismatch") != NULL);
	/* Without verification the self-signed cert is fine. */
	cc.tls_verify = false;
	cc.ca_file = NULL;
	cc.sni = NULL;
	T_EQ_INT(thc_http(THC_TLS, THC_OK_HEAD, &cc).reason, HC_R_OK);
	thc_rm_cert();
}

static void
test_https_against_plain_http(void)
{
	struct hc_check_conf cc;

	thc_conf(&cc, HC_TYPE_HTTPS, 1000);
	T_EQ_INT(
	    thc_http(THC_CANNED,
	        "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n", &cc)
	        .reason,
	    HC_R_TLS_ERROR);
}

/* ---- DNS ----------------------------------------------------------- */

enum thc_dns_mode {
	THC_DNS_ANSWER, /* NOERROR, A 192.0.2.7 via a compressed name */
	THC_DNS_SPOOF,  /* a wrong-id answer first, then the right one */
	THC_DNS_NXDOMAIN,
	THC_DNS_SILENT,
	THC_DNS_CUT, /* ANCOUNT 1 but the RR cut short */
};

static size_t
thc_dns_reply(enum thc_dns_mode mode, unsigned char *b, size_t n)
{
	static const unsigned char rr[] = { 0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60,
		0, 4, 192, 0, 2, 7 };

	b[2] = 0x81; /* QR, RD */
	b[3] = mode == THC_DNS_NXDOMAIN ? 0x83 : 0x80;
	if (mode == THC_DNS_NXDOMAIN)
		return n;
	b[7] = 1; /* ANCOUNT */
	memcpy(b + n, rr, sizeof(rr));
	return n + (mode == THC_DNS_CUT ? 9 : sizeof(rr));
}

static struct thc_srv
thc_dns_start(enum thc_dns_mode mode)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t len = sizeof(sin);
	struct thc_srv s;
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	T_ASSERT(bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0);
	T_ASSERT(getsockname(fd, (struct sockaddr *)&sin, &len) == 0);
	s.port = ntohs(sin.sin_port);
	fflush(stdout);
	if ((s.pid = fork()) == 0) {
		thc_child_setup();
		for (;;) {
			unsigned char b[600];
			struct sockaddr_storage from;
			socklen_t fl = sizeof(from);
			ssize_t r = recvfrom(
			    fd, b, 512, 0, (struct sockaddr *)&from, &fl);
			size_t out;

			if (r < 12 || mode == THC_DNS_SILENT)
				continue;
			out = thc_dns_reply(mode, b, (size_t)r);
			if (mode == THC_DNS_SPOOF) {
				b[0] ^= 0xff;
				sendto(fd, b, out, 0, (struct sockaddr *)&from,
				    fl);
				b[0] ^= 0xff;
			}
			sendto(fd, b, out, 0, (struct sockaddr *)&from, fl);
		}
	}
	close(fd);
	return s;
}

static struct hc_result
thc_dns(enum thc_dns_mode mode, struct hc_check_conf *cc)
{
	struct thc_srv s = thc_dns_start(mode);
	struct sockaddr_storage ss;
	struct hc_result r;

	thc_addr(&ss, "127.0.0.1", s.port);
	r = thc_run(&hc_dns_type, cc, &ss);
	thc_srv_stop(&s);
	return r;
}

static void
thc_dns_conf(struct hc_check_conf *cc, uint64_t timeout_ms)
{
	thc_conf(cc, HC_TYPE_DNS, timeout_ms);
	cc->query_name = "www.Example.org.";
	cc->query_type = "A";
	cc->expect_rcode = "NOERROR";
}

static void
test_dns_rcode_and_address(void)
{
	struct hc_check_conf cc;
	struct hc_result r;

	thc_dns_conf(&cc, 1000);
	T_EQ_INT(thc_dns(THC_DNS_ANSWER, &cc).reason, HC_R_OK);
	thc_addr(&cc.expect_address, "192.0.2.7", 0);
	cc.has_expect_address = true;
	T_EQ_INT(thc_dns(THC_DNS_ANSWER, &cc).reason, HC_R_OK);
	thc_addr(&cc.expect_address, "192.0.2.8", 0);
	r = thc_dns(THC_DNS_ANSWER, &cc);
	T_EQ_INT(r.reason, HC_R_DNS_ANSWER);
	r = thc_dns(THC_DNS_NXDOMAIN, &cc);
	T_EQ_INT(r.reason, HC_R_DNS_RCODE);
	T_EQ_STR(r.detail, "rcode NXDOMAIN, want NOERROR");
	r = thc_dns(THC_DNS_CUT, &cc);
	T_EQ_INT(r.reason, HC_R_PROTOCOL_ERROR);
	/* An IPv4 address never matches an AAAA-only expectation. */
	thc_addr(&cc.expect_address, "2001:db8::7", 0);
	T_EQ_INT(thc_dns(THC_DNS_ANSWER, &cc).reason, HC_R_DNS_ANSWER);
	cc.has_expect_address = false;
	cc.expect_rcode = "nxdomain";
	T_EQ_INT(thc_dns(THC_DNS_NXDOMAIN, &cc).reason, HC_R_OK);
}

static void
test_dns_wrong_id_dropped(void)
{
	struct hc_check_conf cc;
	uint64_t before = hc_sock_stats.dns_rx_bad_id;

	thc_dns_conf(&cc, 1000);
	T_EQ_INT(thc_dns(THC_DNS_SPOOF, &cc).reason, HC_R_OK);
	/* The spoof arrives first; it may be read in the same batch. */
	T_ASSERT(hc_sock_stats.dns_rx_bad_id == before + 1);
}

static void
test_dns_silent_and_refused(void)
{
	struct hc_check_conf cc;
	struct sockaddr_storage ss;
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	thc_dns_conf(&cc, 200);
	T_EQ_INT(thc_dns(THC_DNS_SILENT, &cc).reason, HC_R_TIMEOUT);
	/* A closed UDP port answers ICMP port unreachable. */
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	T_ASSERT(bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0);
	T_ASSERT(getsockname(fd, (struct sockaddr *)&sin, &len) == 0);
	close(fd);
	thc_addr(&ss, "127.0.0.1", ntohs(sin.sin_port));
	T_EQ_INT(thc_run(&hc_dns_type, &cc, &ss).reason, HC_R_CONNECT_REFUSED);
	/* A name that cannot be encoded is refused at start. */
	cc.query_name = "a..b";
	{
		struct ev_loop *loop = ev_loop_new();
		struct hc_probe *p;
		struct thc_res t = { 0 };

		T_EQ_INT(hc_dns_type.start(loop, &cc, &ss, thc_done, &t, &p),
		    -EINVAL);
		ev_run_once(loop, 0);
		T_EQ_INT(ev_pending(loop), 0);
		T_EQ_INT(t.n, 0);
		ev_loop_free(loop);
	}
}

/* ---- ICMP ---------------------------------------------------------- */

static void
thc_icmp(const char *ip, int mode)
{
	struct sockaddr_storage ss;
	struct hc_check_conf cc;
	struct ev_loop *loop = ev_loop_new();
	struct thc_res t = { 0 };
	struct hc_probe *p;
	int rc;

	thc_addr(&ss, ip, 0);
	thc_conf(&cc, HC_TYPE_ICMP, 1000);
	hc_icmp_force(mode);
	/* Probe whether this host lets us ping at all. */
	rc = hc_icmp_type.start(loop, &cc, &ss, thc_done, &t, &p);
	if (rc == -EPERM || rc == -EACCES || rc == -EAFNOSUPPORT)
		T_SKIP("neither ping nor raw ICMP sockets allowed");
	T_EQ_INT(rc, 0);
	hc_icmp_type.cancel(p);
	ev_run_once(loop, 0);
	ev_loop_free(loop);
	T_EQ_INT(thc_run(&hc_icmp_type, &cc, &ss).reason, HC_R_OK);
}

static void
test_icmp_v4(void)
{
	thc_icmp("127.0.0.1", HC_ICMP_AUTO);
}

static void
test_icmp_v6(void)
{
	thc_icmp("::1", HC_ICMP_AUTO);
}

static void
test_icmp_raw_v4(void)
{
	thc_icmp("127.0.0.1", HC_ICMP_RAW);
}

static void
test_icmp_raw_v6(void)
{
	thc_icmp("::1", HC_ICMP_RAW);
}

/*
 * Allow ping sockets for our group, in a network namespace of our own when
 * we may make one (the sysctl is per namespace), so the host is untouched.
 */
static bool
thc_ping_allowed(void)
{
	struct ifreq ifr = { .ifr_name = "lo" };
	unsigned lo = 1, hi = 0;
	gid_t g = getgid();
	FILE *f;
	int fd;

	if (unshare(CLONE_NEWNET) == 0) {
		fd = socket(AF_INET, SOCK_DGRAM, 0);
		T_ASSERT(fd != -1 && ioctl(fd, SIOCGIFFLAGS, &ifr) == 0);
		ifr.ifr_flags |= IFF_UP;
		T_ASSERT(ioctl(fd, SIOCSIFFLAGS, &ifr) == 0);
		close(fd);
		f = fopen("/proc/sys/net/ipv4/ping_group_range", "w");
		T_ASSERT(f != NULL);
		fprintf(f, "%u %u\n", (unsigned)g, (unsigned)g);
		T_ASSERT(fclose(f) == 0);
	}
	if ((f = fopen("/proc/sys/net/ipv4/ping_group_range", "r")) != NULL) {
		if (fscanf(f, "%u %u", &lo, &hi) != 2)
			lo = 1, hi = 0;
		fclose(f);
	}
	return g >= lo && g <= hi;
}

static void
test_icmp_ping_socket(void)
{
	if (!thc_ping_allowed())
		T_SKIP("ping_group_range excludes our group");
	thc_icmp("127.0.0.1", HC_ICMP_DGRAM);
	thc_icmp("::1", HC_ICMP_DGRAM);
	/* Nothing routes there in a bare namespace: no echo, no hang. */
	{
		struct sockaddr_storage ss;
		struct hc_check_conf cc;
		struct hc_result r;

		thc_addr(&ss, "198.18.0.1", 0);
		thc_conf(&cc, HC_TYPE_ICMP, 200);
		r = thc_run(&hc_icmp_type, &cc, &ss);
		T_ASSERT(
		    r.reason == HC_R_UNREACHABLE || r.reason == HC_R_TIMEOUT);
	}
}

/* ---- exec ---------------------------------------------------------- */

static struct hc_result
thc_exec(const char *cmd, uint64_t timeout_ms)
{
	struct sockaddr_storage ss;
	struct hc_check_conf cc;

	thc_addr(&ss, "192.0.2.10", 8080);
	thc_conf(&cc, HC_TYPE_EXEC, timeout_ms);
	cc.command = (char *)cmd;
	return thc_run(&hc_exec_type, &cc, &ss);
}

static void
test_exec_exit_codes(void)
{
	struct hc_result r;

	r = thc_exec("echo up $HAVEN_TARGET_ADDR $HAVEN_TARGET_PORT", 2000);
	T_EQ_INT(r.reason, HC_R_OK);
	T_EQ_STR(r.detail, "exit 0: up 192.0.2.10 8080");
	r = thc_exec("echo 'db down' >&2; echo second; exit 3", 2000);
	T_EQ_INT(r.reason, HC_R_EXEC_FAILED);
	T_EQ_STR(r.detail, "exit 3: db down");
	r = thc_exec("kill -TERM $$", 2000);
	T_EQ_INT(r.reason, HC_R_EXEC_FAILED);
	T_EQ_STR(r.detail, "signal 15: ");
	/* A stdin read sees /dev/null, not our terminal. */
	T_EQ_INT(thc_exec("read x; test -z \"$x\"", 2000).reason, HC_R_OK);
}

/* Running, as opposed to gone or a zombie nobody reaped yet. */
static bool
thc_alive(int pid)
{
	char path[64], st[256], *p;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if ((f = fopen(path, "r")) == NULL)
		return false;
	n = fread(st, 1, sizeof(st) - 1, f);
	fclose(f);
	st[n] = '\0';
	p = strrchr(st, ')');
	return p != NULL && p[1] == ' ' && p[2] != 'Z' && p[2] != 'X';
}

static void
test_exec_hang_killed(void)
{
	char path[] = "/tmp/hc_exec_pid_XXXXXX", cmd[160];
	struct hc_result r;
	FILE *f;
	int fd = mkstemp(path), pid = 0;

	T_ASSERT(fd != -1);
	close(fd);
	/* The grandchild shares the group: it must die with the shell. */
	snprintf(cmd, sizeof(cmd), "sleep 30 & echo $! > %s; wait", path);
	r = thc_exec(cmd, 300);
	T_EQ_INT(r.reason, HC_R_TIMEOUT);
	T_ASSERT(r.latency_us >= 290000 && r.latency_us < 900000);
	T_ASSERT((f = fopen(path, "r")) != NULL);
	T_ASSERT(fscanf(f, "%d", &pid) == 1 && pid > 0);
	fclose(f);
	unlink(path);
	/* SIGKILL lands asynchronously: poll with a deadline. */
	for (int i = 0; i < 100 && thc_alive(pid); i++) {
		struct timespec ts = { 0, 10 * 1000 * 1000 };

		nanosleep(&ts, NULL);
	}
	T_ASSERT(!thc_alive(pid));
}

static void
test_exec_flood(void)
{
	struct hc_result r;
	uint64_t before = hc_sock_stats.exec_out_dropped;

	/* 8 MiB of output then success: drained, kept bounded, not blocked. */
	r = thc_exec(
	    "echo first line; head -c 8388608 /dev/zero; exit 0", 5000);
	T_EQ_INT(r.reason, HC_R_OK);
	T_EQ_STR(r.detail, "exit 0: first line");
	T_ASSERT(hc_sock_stats.exec_out_dropped - before >= 8388608 - 4096);
	/* Endless output and never exiting: still one timeout. */
	r = thc_exec("yes flood", 300);
	T_EQ_INT(r.reason, HC_R_TIMEOUT);
}

static void
test_sock_reason_map(void)
{
	T_EQ_INT(hc_sock_reason(ECONNREFUSED), HC_R_CONNECT_REFUSED);
	T_EQ_INT(hc_sock_reason(ETIMEDOUT), HC_R_TIMEOUT);
	T_EQ_INT(hc_sock_reason(EHOSTUNREACH), HC_R_UNREACHABLE);
	T_EQ_INT(hc_sock_reason(ENETUNREACH), HC_R_UNREACHABLE);
	T_EQ_INT(hc_sock_reason(ECONNRESET), HC_R_RESET);
	T_EQ_INT(hc_sock_reason(EMFILE), HC_R_INTERNAL);
}

static const struct test tests[] = {
	TEST(test_sock_reason_map),
	TEST(test_http_ok),
	TEST(test_http_refused),
	TEST(test_http_hang_times_out),
	TEST(test_http_reset),
	TEST(test_http_closed),
	TEST(test_http_wrong_status),
	TEST(test_http_garbage),
	TEST(test_http_body_match),
	TEST(test_http_chunked_body),
	TEST(test_http_trickle_one_timeout),
	TEST(test_http_huge_body),
	TEST(test_http_cancel),
	TEST(test_http_no_stall),
	TEST(test_https_verify),
	TEST(test_https_against_plain_http),
	TEST(test_dns_rcode_and_address),
	TEST(test_dns_wrong_id_dropped),
	TEST(test_dns_silent_and_refused),
	TEST(test_icmp_v4),
	TEST(test_icmp_v6),
	TEST(test_icmp_raw_v4),
	TEST(test_icmp_raw_v6),
	TEST(test_icmp_ping_socket),
	TEST(test_exec_exit_codes),
	TEST(test_exec_hang_killed),
	TEST(test_exec_flood),
};

TEST_MAIN(tests)
