/* ag_ship — shipping logs, metrics and alerts to a collector over HTTP(S)
 * with a disk spool (the contract is in ag_ship.h).
 *
 * The `output` block (one per collector; at most 8):
 *
 *	output NAME {			NAME: [a-z0-9_-], at most 64; also the
 *					spool directory's name and the
 *					metrics' output label
 *	    url URL			required: http://HOST[:PORT][/PATH] or
 *					https://...; HOST a name (resolved when
 *					the configuration is loaded or reloaded)
 *					or an address ([v6] in brackets). No
 *					user@, no #fragment. The path (a Sumo
 *					Logic token) is never logged.
 *	    kind sumo | webhook		default sumo. webhook: every log record
 *					(an alert's JSON document) is POSTed
 *					alone as application/json; metrics are
 *					refused (counted as dropped)
 *	    ca FILE			PEM CA bundle for https (default
 *					/etc/ssl/certs/ca-certificates.crt)
 *	    verify on | off		check the collector's certificate and
 *					name (default on)
 *	    category STRING		X-Sumo-Category for logs without their
 *					own and for metrics (default none)
 *	    name STRING			X-Sumo-Name (default none)
 *	    fields "k=v,k=v"		X-Sumo-Fields (default none)
 *	    metrics-format prometheus | carbon2
 *					default prometheus (Content-Type
 *					application/vnd.sumologic.prometheus);
 *					carbon2 converts each line to
 *					"metric=NAME k=v  VALUE SECONDS"
 *	    gzip on | off		Content-Encoding gzip (default on for
 *					sumo, off for webhook)
 *	    max-request SIZE		body bytes before compression, 1k-1m
 *					(default 1m, Sumo's limit)
 *	    flush-interval DURATION	how often queued records are sent
 *					(default 5s; sooner when a request's
 *					worth is queued), 10ms-1h
 *	    spool-max SIZE		bytes of unsent records kept on disk
 *					(default 256m, at least 4k); a record
 *					past it is dropped and counted
 *	    backoff-min DURATION	first retry delay (default 1s)
 *	    backoff-max DURATION	longest retry delay (default 5m)
 *	    timeout DURATION		connect + send + answer (default 30s)
 *	}
 *
 * Each directive at most once. Strings sent as headers may not hold
 * control characters.
 *
 * Delivery: records are appended to the spool (ag_spool.h) under
 * STATE-DIR/spool/NAME (the caller's spool_dir). One request is in flight
 * per output, one connection per request (Connection: close). A request
 * carries the oldest records of one queue — logs (newline-separated lines
 * of one category: a run of consecutive records with the same category)
 * or metrics — up to max-request bytes; queues take turns. 2xx: the
 * records are acknowledged (the cursor moves, finished segments go).
 * Anything else — 429, 5xx, another 4xx, a timeout, a connection error —
 * retries the same records after a delay drawn uniformly between
 * backoff-min and min(backoff-max, backoff-min * 2^attempts), at least
 * Retry-After (up to backoff-max). A 4xx other than 429 is logged as an
 * error each time and shown by `agentctl spool`: the data stays spooled
 * until the collector takes it (or the spool fills). Delivery is at least
 * once: a 2xx lost on the way back sends the records again. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "ctl.h"
#include "ev.h"
#include "http.h"
#include "log.h"
#include "metrics.h"
#include "net.h"
#include "stream.h"
#include "tls.h"
#include "ag_ship_int.h"

#define SHIP_MAX_ADDRS		8
#define SHIP_RESP_MAX		(64 * 1024)
#define SHIP_BUF_MAX		(4 * 1024 * 1024)
#define SHIP_ERRBODY		160

enum conn_state { C_IDLE, C_CONNECTING, C_HANDSHAKE, C_SENDING, C_READING };

/* ship_requests_total{code}: the outcomes of a request. */
enum outcome { O_2XX, O_3XX, O_4XX, O_429, O_5XX, O_ERROR, O_TIMEOUT, O_N };
static const char *const outcome_names[O_N] = {
	"2xx", "3xx", "4xx", "429", "5xx", "error", "timeout"
};

struct ag_ship {
	struct ev_loop		*loop;
	struct ag_output_conf	*conf;		/* own copy */
	struct ag_url		 url;
	char			 url_shown[300];
	struct net_addr		 addrs[SHIP_MAX_ADDRS];
	size_t			 naddrs, addr_i;
	char			 resolve_err[256];
	struct tls_config	*tls;
	char			*host;
	struct ag_spool		*spool;

	/* Metrics. */
	struct metrics		*reg;
	struct metric		*f_requests;
	struct metric_series	*m_bytes, *m_records, *m_dropped,
				*m_backoff, *m_sent[AG_SPOOL_NQ];

	/* Scheduling. */
	struct ev_timer		 flush_timer, retry_timer, io_timer;
	struct ev_deferred	 kick;
	bool			 flushing;	/* send until the queues are empty */
	bool			 backing_off;
	unsigned		 attempts;	/* failures in a row */
	uint64_t		 backoff_ms;
	int			 next_q;
	uint64_t		 rng;

	/* The request in flight. */
	enum ag_spool_queue	 bq;
	struct ag_spool_pos	 bend;
	uint64_t		 bnrec;
	struct buf		 rec, body, gz, req;
	size_t			 sent;
	enum conn_state		 state;
	struct stream		 st;
	struct buf		 resp;
	struct http_parser	 hp;
	struct http_msg		 msg;
	struct http_header	 hdrs[64];
	struct http_body_reader	 br;
	bool			 head_done;
	int			 status;
	uint64_t		 retry_after_ms;
	char			 errbody[SHIP_ERRBODY];
	size_t			 errbody_len;
	uint64_t		 t_start_us;

	/* Status. */
	uint64_t		 sent_records, dropped;
	char			 last[200];
	char			 refused[300];	/* the last 4xx, until a 2xx */
	bool			 warned_write;
};

static void	ship_kick(struct ev_loop *, void *);
static void	ship_io(struct ev_loop *, int, unsigned, void *);

/* --- metrics --- */

static const char *const lbl_output[] = { "output", NULL };
static const char *const lbl_kind[] = { "output", "kind", NULL };
static const char *const lbl_code[] = { "output", "code", NULL };

enum { F_BYTES, F_RECORDS, F_DROPPED, F_SENT, F_REQUESTS, F_BACKOFF, F_N };
static const struct {
	const char		*name, *help;
	bool			 counter;
	const char *const	*labels;
} families[F_N] = {
	[F_BYTES] = { "ship_spool_bytes",
	    "Bytes of unsent records in the spool.", false, lbl_output },
	[F_RECORDS] = { "ship_spool_records",
	    "Unsent records in the spool.", false, lbl_output },
	[F_DROPPED] = { "ship_dropped_records_total",
	    "Records refused because the spool was full (or unwritable).",
	    true, lbl_output },
	[F_SENT] = { "ship_sent_records_total",
	    "Records the collector acknowledged with 2xx.", true, lbl_kind },
	[F_REQUESTS] = { "ship_requests_total",
	    "Requests by outcome: 2xx, 3xx, 4xx, 429, 5xx, error, timeout.",
	    true, lbl_code },
	[F_BACKOFF] = { "ship_backoff_seconds",
	    "The delay before the next retry, 0 when not backing off.",
	    false, lbl_output },
};

static struct metric *
family(struct metrics *reg, int i)
{
	struct metric	*f;

	if ((f = metrics_find(reg, families[i].name)) != NULL)
		return f;
	f = families[i].counter ?
	    metrics_counter(reg, families[i].name, families[i].help,
	    families[i].labels) :
	    metrics_gauge(reg, families[i].name, families[i].help,
	    families[i].labels);
	if (f == NULL)
		fatalx("ag_ship: cannot register %s", families[i].name);
	return f;
}

static void
metrics_setup(struct ag_ship *s)
{
	const char	*one[] = { s->conf->name, NULL };
	const char	*two[] = { s->conf->name, NULL, NULL };
	int		 q;

	s->m_bytes = metric_with(family(s->reg, F_BYTES), one);
	s->m_records = metric_with(family(s->reg, F_RECORDS), one);
	s->m_dropped = metric_with(family(s->reg, F_DROPPED), one);
	s->m_backoff = metric_with(family(s->reg, F_BACKOFF), one);
	for (q = 0; q < AG_SPOOL_NQ; q++) {
		two[1] = ag_spool_queue_name(q);
		s->m_sent[q] = metric_with(family(s->reg, F_SENT), two);
	}
	s->f_requests = family(s->reg, F_REQUESTS);
	for (q = 0; q < O_N; q++) {
		two[1] = outcome_names[q];
		(void)metric_with(s->f_requests, two);
	}
}

static void
metrics_forget(struct ag_ship *s)
{
	const char	*one[] = { s->conf->name, NULL };
	const char	*two[] = { s->conf->name, NULL, NULL };
	struct metric	*f;
	int		 i, q;

	for (i = 0; i < F_N; i++) {
		if ((f = metrics_find(s->reg, families[i].name)) == NULL)
			continue;
		if (families[i].labels == lbl_output) {
			(void)metric_remove(f, one);
			continue;
		}
		if (i == F_SENT) {
			for (q = 0; q < AG_SPOOL_NQ; q++) {
				two[1] = ag_spool_queue_name(q);
				(void)metric_remove(f, two);
			}
			continue;
		}
		for (q = 0; q < O_N; q++) {
			two[1] = outcome_names[q];
			(void)metric_remove(f, two);
		}
	}
}

static void
count_request(struct ag_ship *s, enum outcome o)
{
	const char	*v[] = { s->conf->name, outcome_names[o], NULL };

	counter_inc(metric_with(s->f_requests, v));
}

static void
update_gauges(struct ag_ship *s)
{
	gauge_set(s->m_bytes, (double)ag_spool_bytes(s->spool, AG_SPOOL_NQ));
	gauge_set(s->m_records, (double)ag_spool_records(s->spool,
	    AG_SPOOL_NQ));
}

/* --- configuration: URL, addresses, TLS --- */

struct ship_target {
	struct ag_url		 url;
	struct net_addr		 addrs[SHIP_MAX_ADDRS];
	size_t			 naddrs;
	char			 resolve_err[256];
	struct tls_config	*tls;
};

/* Everything a conf needs that may fail, before anything is replaced.
 * A name that does not resolve is not fatal: records keep spooling and a
 * reload tries again. */
static int
target_prepare(const struct ag_output_conf *o, struct ship_target *t,
    char *err, size_t errlen)
{
	char	 e[256];

	memset(t, 0, sizeof(*t));
	if (ag_url_parse(o->url, &t->url, e, sizeof(e)) == -1)
		return seterr(err, errlen, "output %s: url: %s", o->name, e);
	if (net_addr_resolve(t->url.authority, t->url.port, t->addrs,
	    SHIP_MAX_ADDRS, &t->naddrs, e, sizeof(e)) == -1) {
		t->naddrs = 0;
		snprintf(t->resolve_err, sizeof(t->resolve_err), "%s", e);
		log_warnx("output %s: %s: %s (records are spooled until a "
		    "reload resolves it)", o->name, t->url.host, e);
	}
	if (t->url.tls && (t->tls = tls_client_new(o->ca, o->verify, NULL,
	    NULL, e, sizeof(e))) == NULL) {
		ag_url_clear(&t->url);
		return seterr(err, errlen, "output %s: TLS: %s", o->name, e);
	}
	return 0;
}

static void
target_install(struct ag_ship *s, struct ship_target *t)
{
	ag_url_clear(&s->url);
	tls_config_free(s->tls);
	s->url = t->url;
	memcpy(s->addrs, t->addrs, sizeof(s->addrs));
	s->naddrs = t->naddrs;
	s->addr_i = 0;
	memcpy(s->resolve_err, t->resolve_err, sizeof(s->resolve_err));
	s->tls = t->tls;
	ag_url_redacted(&s->url, s->url_shown, sizeof(s->url_shown));
}

/* --- the request --- */

static void
conn_close(struct ag_ship *s)
{
	ev_timer_stop(s->loop, &s->io_timer);
	if (s->st.tls != NULL) {
		tls_conn_free(s->st.tls);
		s->st.tls = NULL;
	}
	if (s->st.fd != -1) {
		ev_fd_close(s->loop, s->st.fd);
		s->st.fd = -1;
	}
	s->state = C_IDLE;
}

static uint64_t
rng_next(struct ag_ship *s)
{
	uint64_t	 x = s->rng;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	s->rng = x;
	return x * 0x2545f4914f6cdd1dULL;
}

static void
backoff(struct ag_ship *s)
{
	const struct ag_output_conf *o = s->conf;
	uint64_t	 cap = o->backoff_min_ms, d;
	unsigned	 i;

	for (i = 0; i < s->attempts && cap < o->backoff_max_ms; i++)
		cap *= 2;
	if (cap > o->backoff_max_ms)
		cap = o->backoff_max_ms;
	d = o->backoff_min_ms + rng_next(s) % (cap - o->backoff_min_ms + 1);
	if (s->retry_after_ms > d)
		d = s->retry_after_ms < o->backoff_max_ms ? s->retry_after_ms :
		    o->backoff_max_ms;
	s->attempts++;
	s->backoff_ms = d;
	s->backing_off = true;
	gauge_set(s->m_backoff, (double)d / 1000.0);
	ev_timer_start(s->loop, &s->retry_timer, d);
}

static void
retry_tick(struct ev_loop *loop, void *arg)
{
	struct ag_ship	*s = arg;

	s->backing_off = false;
	s->backoff_ms = 0;
	gauge_set(s->m_backoff, 0);
	s->flushing = true;
	ship_kick(loop, s);
}

/* The attempt failed without an answer worth parsing. */
static void
fail(struct ag_ship *s, enum outcome o, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void
fail(struct ag_ship *s, enum outcome o, const char *fmt, ...)
{
	va_list	 ap;
	char	 msg[200];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	conn_close(s);
	if (o == O_ERROR && s->naddrs > 1)
		s->addr_i = (s->addr_i + 1) % s->naddrs;
	count_request(s, o);
	snprintf(s->last, sizeof(s->last), "%s", msg);
	s->retry_after_ms = 0;
	backoff(s);
	log_info("output %s: %s; retrying in %" PRIu64 " ms", s->conf->name,
	    msg, s->backoff_ms);
}

static void
io_timeout(struct ev_loop *loop, void *arg)
{
	struct ag_ship	*s = arg;

	fail(s, O_TIMEOUT, "timeout after %" PRIu64 " ms", s->conf->timeout_ms);
}

/* Sanitise a line into the spool record format: no trailing newline. */
static size_t
line_len(const char *line, size_t len)
{
	if (len > 0 && line[len - 1] == '\n')
		len--;
	if (len > 0 && line[len - 1] == '\r')
		len--;
	return len;
}

/* Read the oldest records of queue q into s->body; 1 when there are
 * some, 0 when q is empty, -1 on a spool error. */
static int
batch_fill(struct ag_ship *s, enum ag_spool_queue q, struct buf *cat)
{
	struct ag_spool_pos pos = ag_spool_head(s->spool, q), prev;
	const char	*c, *line;
	size_t		 clen, llen, mark;
	bool		 webhook = s->conf->kind == AG_SHIP_WEBHOOK;
	int		 rc;

	buf_reset(&s->body);
	buf_reset(cat);
	s->bnrec = 0;
	for (;;) {
		prev = pos;
		if ((rc = ag_spool_read(s->spool, q, &pos, &s->rec)) == -1)
			return -1;
		if (rc == 0)
			break;
		mark = s->body.len;
		if (q == AG_SPOOL_LOGS) {
			if (ag_rec_split(buf_head(&s->rec), buf_used(&s->rec),
			    &c, &clen, &line, &llen) == -1) {
				c = "";
				clen = 0;
				line = buf_head(&s->rec);
				llen = buf_used(&s->rec);
			}
			if (s->bnrec == 0) {
				if (buf_append(cat, c, clen) == -1)
					return -1;
			} else if (clen != buf_used(cat) ||
			    memcmp(c, buf_head(cat), clen) != 0) {
				pos = prev;
				break;
			}
			if (buf_append(&s->body, line, llen) == -1 ||
			    (!webhook && buf_append(&s->body, "\n", 1) == -1))
				return -1;
		} else if (s->conf->metrics_format == AG_METRICS_CARBON2) {
			if (ag_carbon2(&s->body, buf_head(&s->rec),
			    buf_used(&s->rec)) == -1)
				return -1;
		} else {
			if (buf_append(&s->body, buf_head(&s->rec),
			    buf_used(&s->rec)) == -1 || (buf_used(&s->rec) > 0 &&
			    buf_head(&s->rec)[buf_used(&s->rec) - 1] != '\n' &&
			    buf_append(&s->body, "\n", 1) == -1))
				return -1;
		}
		if (s->bnrec > 0 && s->body.len > s->conf->max_request) {
			s->body.len = mark;
			pos = prev;
			break;
		}
		s->bnrec++;
		if (webhook)
			break;
	}
	s->bq = q;
	s->bend = pos;
	return s->bnrec > 0;
}

static const char *
content_type(const struct ag_ship *s)
{
	if (s->conf->kind == AG_SHIP_WEBHOOK)
		return "application/json";
	if (s->bq == AG_SPOOL_LOGS)
		return "text/plain";
	return s->conf->metrics_format == AG_METRICS_CARBON2 ?
	    "application/vnd.sumologic.carbon2" :
	    "application/vnd.sumologic.prometheus";
}

/* The whole request into s->req. */
static int
build_request(struct ag_ship *s, const char *cat, char *err, size_t errlen)
{
	const struct ag_output_conf *o = s->conf;
	const struct buf *payload = &s->body;
	char		 len[32];
	bool		 sumo = o->kind == AG_SHIP_SUMO;

	if (o->gzip) {
		if (ag_gzip(&s->gz, buf_head(&s->body), buf_used(&s->body),
		    err, errlen) == -1)
			return -1;
		payload = &s->gz;
	}
	if (cat[0] == '\0' && o->category != NULL)
		cat = o->category;
	snprintf(len, sizeof(len), "%zu", buf_used(payload));
	buf_reset(&s->req);
	if (http_write_request_line(&s->req, "POST", s->url.path, 1) == -1 ||
	    http_write_header(&s->req, "Host", s->url.authority) == -1 ||
	    http_write_header(&s->req, "User-Agent", "stackd-agentd") == -1 ||
	    http_write_header(&s->req, "Content-Type", content_type(s)) == -1 ||
	    (o->gzip && http_write_header(&s->req, "Content-Encoding",
	    "gzip") == -1) ||
	    http_write_header(&s->req, "Content-Length", len) == -1 ||
	    http_write_header(&s->req, "Connection", "close") == -1 ||
	    (sumo && cat[0] != '\0' && http_write_header(&s->req,
	    "X-Sumo-Category", cat) == -1) ||
	    (sumo && o->source_name != NULL && http_write_header(&s->req,
	    "X-Sumo-Name", o->source_name) == -1) ||
	    (sumo && http_write_header(&s->req, "X-Sumo-Host", s->host) == -1) ||
	    (sumo && o->fields != NULL && http_write_header(&s->req,
	    "X-Sumo-Fields", o->fields) == -1) ||
	    http_write_end_head(&s->req) == -1 ||
	    buf_append(&s->req, buf_head(payload), buf_used(payload)) == -1)
		return seterr(err, errlen, "building the request: %s",
		    strerror(errno));
	return 0;
}

/* Pick the next batch (queues take turns) and start sending it. */
static void
attempt(struct ag_ship *s)
{
	struct buf	 cat;
	char		 err[256];
	int		 i, q, rc = 0;

	buf_init(&cat, 4096);
	for (i = 0; i < AG_SPOOL_NQ; i++) {
		q = (s->next_q + i) % AG_SPOOL_NQ;
		if (ag_spool_records(s->spool, q) == 0)
			continue;
		if ((rc = batch_fill(s, q, &cat)) != 0)
			break;
	}
	if (rc == 0) {
		buf_free(&cat);
		s->flushing = false;
		return;
	}
	s->next_q = (s->bq + 1) % AG_SPOOL_NQ;
	if (rc == -1 || build_request(s, buf_cstr(&cat), err,
	    sizeof(err)) == -1) {
		if (rc == -1)
			snprintf(err, sizeof(err), "reading the spool: %s",
			    strerror(errno));
		buf_free(&cat);
		log_warnx("output %s: %s", s->conf->name, err);
		fail(s, O_ERROR, "%s", err);
		return;
	}
	buf_free(&cat);
	s->sent = 0;
	buf_reset(&s->resp);
	http_parser_init(&s->hp, NULL);
	http_msg_init(&s->msg, s->hdrs, sizeof(s->hdrs) / sizeof(s->hdrs[0]));
	s->head_done = false;
	s->errbody_len = 0;
	s->retry_after_ms = 0;
	s->t_start_us = ev_clock_us();
	ev_timer_start(s->loop, &s->io_timer, s->conf->timeout_ms);
	if (s->naddrs == 0) {
		fail(s, O_ERROR, "no address for %s%s%s", s->url.host,
		    s->resolve_err[0] ? ": " : "", s->resolve_err);
		return;
	}
	if ((s->st.fd = net_connect(&s->addrs[s->addr_i], err,
	    sizeof(err))) == -1) {
		fail(s, O_ERROR, "%s", err);
		return;
	}
	if (ev_fd_add(s->loop, s->st.fd, EV_WRITE, ship_io, s) == -1) {
		close(s->st.fd);
		s->st.fd = -1;
		fail(s, O_ERROR, "ev_fd_add: %s", strerror(errno));
		return;
	}
	s->state = C_CONNECTING;
}

static void
ship_kick(struct ev_loop *loop, void *arg)
{
	struct ag_ship	*s = arg;

	if (s->state != C_IDLE || s->backing_off || !s->flushing)
		return;
	attempt(s);
}

static void
flush_tick(struct ev_loop *loop, void *arg)
{
	struct ag_ship	*s = arg;

	ev_timer_start(loop, &s->flush_timer, s->conf->flush_ms);
	s->flushing = true;
	ship_kick(loop, s);
}

static uint64_t
retry_after(const struct http_msg *m)
{
	const struct http_header *h = http_header_get(m, "Retry-After");
	char		 v[64];
	unsigned long long n;
	char		*end;
	time_t		 t, now;

	if (h == NULL || h->value_len == 0 || h->value_len >= sizeof(v))
		return 0;
	memcpy(v, h->value, h->value_len);
	v[h->value_len] = '\0';
	n = strtoull(v, &end, 10);
	if (*end == '\0' && v[0] >= '0' && v[0] <= '9')
		return n > 86400 ? 86400000 : n * 1000;
	if (http_date_parse(h->value, h->value_len, &t) == 0) {
		now = time(NULL);
		return t > now ? (uint64_t)(t - now) * 1000 : 0;
	}
	return 0;
}

/* The whole answer is in: act on its status. */
static void
answered(struct ag_ship *s)
{
	uint64_t	 ms = (ev_clock_us() - s->t_start_us) / 1000;
	const char	*reason = http_status_reason(s->status);
	char		 err[256];
	enum outcome	 o;
	size_t		 i;

	conn_close(s);
	snprintf(s->last, sizeof(s->last), "%d %s %" PRIu64 "ms", s->status,
	    reason ? reason : "", ms);
	if (s->status >= 200 && s->status < 300) {
		count_request(s, O_2XX);
		if (ag_spool_ack(s->spool, s->bq, s->bend, s->bnrec, err,
		    sizeof(err)) == -1)
			log_warnx("output %s: %s", s->conf->name, err);
		counter_add_u64(s->m_sent[s->bq], s->bnrec);
		s->sent_records += s->bnrec;
		s->attempts = 0;
		s->refused[0] = '\0';
		update_gauges(s);
		log_debug("output %s: %" PRIu64 " %s records sent: %s",
		    s->conf->name, s->bnrec, ag_spool_queue_name(s->bq),
		    s->last);
		if (s->flushing)
			ev_defer(s->loop, &s->kick);
		return;
	}
	o = s->status == 429 ? O_429 : s->status >= 500 ? O_5XX :
	    s->status >= 400 ? O_4XX : s->status >= 300 ? O_3XX : O_ERROR;
	count_request(s, o);
	backoff(s);
	if (o == O_4XX || o == O_3XX) {
		for (i = 0; i < s->errbody_len; i++)
			if (s->errbody[i] < 0x20 || s->errbody[i] == 0x7f)
				s->errbody[i] = ' ';
		snprintf(s->refused, sizeof(s->refused), "%d %s: %.*s",
		    s->status, reason ? reason : "", (int)s->errbody_len,
		    s->errbody);
		log_warnx("output %s: %s REFUSES the %s: %s (check the url, "
		    "its token and the headers); %" PRIu64 " records wait in "
		    "the spool, retrying in %" PRIu64 " ms", s->conf->name,
		    s->url_shown, ag_spool_queue_name(s->bq), s->refused,
		    ag_spool_records(s->spool, AG_SPOOL_NQ), s->backoff_ms);
	} else
		log_info("output %s: %s; retrying in %" PRIu64 " ms",
		    s->conf->name, s->last, s->backoff_ms);
}

/* Parse what came in; true when the answer is complete. */
static int
parse_answer(struct ag_ship *s, bool eof)
{
	const char	*data;
	size_t		 used, consumed, dlen, n;
	int		 rc;

	while (!s->head_done) {
		rc = http_parse_response(&s->hp, buf_head(&s->resp),
		    buf_used(&s->resp), HTTP_M_POST, &s->msg);
		if (rc == 0)
			return eof ? -1 : 0;
		if (rc < 0)
			return -1;
		if (s->msg.status >= 200) {
			s->status = s->msg.status;
			s->retry_after_ms = retry_after(&s->msg);
			http_body_init(&s->br, &s->msg, NULL);
			s->head_done = true;
		}
		buf_consume(&s->resp, (size_t)rc);
	}
	for (;;) {
		used = buf_used(&s->resp);
		rc = http_body_read(&s->br, buf_head(&s->resp), used, &consumed,
		    &data, &dlen);
		if (rc == HTTP_BODY_DATA && s->errbody_len < SHIP_ERRBODY) {
			n = SHIP_ERRBODY - s->errbody_len;
			n = dlen < n ? dlen : n;
			memcpy(s->errbody + s->errbody_len, data, n);
			s->errbody_len += n;
		}
		buf_consume(&s->resp, consumed);
		if (rc == HTTP_BODY_DONE)
			return 1;
		if (rc == HTTP_BODY_ERROR)
			return -1;
		if (rc == HTTP_BODY_NEED_MORE) {
			if (!eof)
				return 0;
			return http_body_eof(&s->br) == HTTP_BODY_DONE ? 1 : -1;
		}
	}
}

static void
ship_io(struct ev_loop *loop, int fd, unsigned events, void *arg)
{
	struct ag_ship	*s = arg;
	char		 host[NET_ADDRSTRLEN], err[256];
	unsigned	 want = 0;
	int		 rc;

	switch (s->state) {
	case C_CONNECTING:
		if (net_connect_finish(fd) == -1) {
			fail(s, O_ERROR, "connect to %s: %s", net_addr_str(
			    &s->addrs[s->addr_i], host, sizeof(host)),
			    strerror(errno));
			return;
		}
		(void)net_set_nodelay(fd);
		if (s->tls != NULL) {
			if ((s->st.tls = tls_conn_new(s->tls, fd, s->url.host,
			    err, sizeof(err))) == NULL) {
				fail(s, O_ERROR, "TLS: %s", err);
				return;
			}
			s->state = C_HANDSHAKE;
		} else
			s->state = C_SENDING;
		/* FALLTHROUGH */
	case C_HANDSHAKE:
		if (s->state == C_HANDSHAKE) {
			rc = tls_handshake(s->st.tls);
			if (rc == TLS_ERR) {
				fail(s, O_ERROR, "TLS handshake with %s: %s",
				    s->url.host, tls_conn_error(s->st.tls));
				return;
			}
			if (rc != 0) {
				ev_fd_mod(loop, fd, tls_want_events(rc));
				return;
			}
			s->state = C_SENDING;
		}
		/* FALLTHROUGH */
	case C_SENDING:
		while (s->sent < buf_used(&s->req)) {
			ssize_t n = stream_write(&s->st, buf_head(&s->req) +
			    s->sent, buf_used(&s->req) - s->sent, &want);

			if (n == STREAM_BLOCKED) {
				ev_fd_mod(loop, fd, want);
				return;
			}
			if (n < 0) {
				fail(s, O_ERROR, "sending: %s", s->st.tls ?
				    tls_conn_error(s->st.tls) : strerror(errno));
				return;
			}
			s->sent += (size_t)n;
		}
		s->state = C_READING;
		ev_fd_mod(loop, fd, EV_READ);
		return;
	case C_READING:
		rc = stream_fill(&s->st, &s->resp, &want);
		if (rc == STREAM_ERROR) {
			fail(s, O_ERROR, "reading the answer: %s", s->st.tls ?
			    tls_conn_error(s->st.tls) : strerror(errno));
			return;
		}
		switch (parse_answer(s, rc == 0)) {
		case 1:
			answered(s);
			return;
		case -1:
			if (rc == 0 && !s->head_done && buf_used(&s->resp) == 0)
				fail(s, O_ERROR, "closed without an answer");
			else
				fail(s, O_ERROR, "a malformed answer");
			return;
		}
		if (rc == 0) {
			fail(s, O_ERROR, "closed without an answer");
			return;
		}
		if (buf_room(&s->resp) == 0 && buf_used(&s->resp) >=
		    SHIP_RESP_MAX) {
			fail(s, O_ERROR, "an answer head over %d bytes",
			    SHIP_RESP_MAX);
			return;
		}
		ev_fd_mod(loop, fd, want ? want : EV_READ);
		return;
	default:
		ev_fd_mod(loop, fd, 0);
		return;
	}
}

/* --- the interface --- */

struct ag_ship *
ag_ship_new(struct ev_loop *loop, const struct ag_output_conf *o,
    const char *spool_dir, const char *host, struct metrics *m, char *err,
    size_t errlen)
{
	struct ag_ship	*s;
	struct ship_target t;

	if ((s = calloc(1, sizeof(*s))) == NULL) {
		seterr(err, errlen, "out of memory");
		return NULL;
	}
	s->loop = loop;
	s->reg = m;
	s->st.fd = -1;
	s->rng = ((uint64_t)time(NULL) << 20) ^ (uint64_t)getpid() ^
	    (uint64_t)(uintptr_t)s ^ ev_clock_us();
	if (s->rng == 0)
		s->rng = 1;
	buf_init(&s->rec, AG_SPOOL_REC_MAX + 1);
	buf_init(&s->body, SHIP_BUF_MAX);
	buf_init(&s->gz, SHIP_BUF_MAX + 64 * 1024);
	buf_init(&s->req, SHIP_BUF_MAX + 128 * 1024);
	buf_init(&s->resp, SHIP_RESP_MAX);
	ev_timer_init(&s->flush_timer, flush_tick, s);
	ev_timer_init(&s->retry_timer, retry_tick, s);
	ev_timer_init(&s->io_timer, io_timeout, s);
	ev_deferred_init(&s->kick, ship_kick, s);
	snprintf(s->last, sizeof(s->last), "-");
	if ((s->conf = ag_output_conf_dup(o)) == NULL ||
	    (s->host = strdup(host)) == NULL) {
		seterr(err, errlen, "out of memory");
		goto fail;
	}
	if (target_prepare(o, &t, err, errlen) == -1)
		goto fail;
	target_install(s, &t);
	if ((s->spool = ag_spool_open(spool_dir, o->spool_max, 0, err,
	    errlen)) == NULL)
		goto fail;
	metrics_setup(s);
	update_gauges(s);
	if (ag_spool_records(s->spool, AG_SPOOL_NQ) > 0)
		log_info("output %s: %" PRIu64 " records (%" PRIu64 " bytes) "
		    "left in the spool from before", o->name,
		    ag_spool_records(s->spool, AG_SPOOL_NQ),
		    ag_spool_bytes(s->spool, AG_SPOOL_NQ));
	ev_timer_start(loop, &s->flush_timer, o->flush_ms);
	return s;
fail:
	ag_ship_free(s);
	return NULL;
}

int
ag_ship_reload(struct ag_ship *s, const struct ag_output_conf *o, char *err,
    size_t errlen)
{
	struct ag_output_conf *nc;
	struct ship_target t;
	uint64_t	 old_flush = s->conf->flush_ms;

	if (strcmp(o->name, s->conf->name) != 0)
		return seterr(err, errlen, "output %s: reload with the conf of "
		    "%s", s->conf->name, o->name);
	if ((nc = ag_output_conf_dup(o)) == NULL)
		return seterr(err, errlen, "out of memory");
	if (target_prepare(o, &t, err, errlen) == -1) {
		ag_output_conf_free(nc);
		return -1;
	}
	/* A request in flight finishes on its connection (which holds its
	 * own reference to the old TLS config). */
	target_install(s, &t);
	ag_output_conf_free(s->conf);
	s->conf = nc;
	ag_spool_set_max(s->spool, nc->spool_max);
	if (nc->flush_ms != old_flush)
		ev_timer_start(s->loop, &s->flush_timer, nc->flush_ms);
	/* A new URL deserves a try now rather than after a long backoff. */
	if (s->backing_off) {
		ev_timer_stop(s->loop, &s->retry_timer);
		s->attempts = 0;
		retry_tick(s->loop, s);
	}
	return 0;
}

static int
queue(struct ag_ship *s, enum ag_spool_queue q, const void *rec, size_t len)
{
	if (ag_spool_append(s->spool, q, rec, len) == -1) {
		if (errno != ENOSPC && !s->warned_write) {
			log_warn("output %s: spool", s->conf->name);
			s->warned_write = true;
		}
		s->dropped++;
		counter_inc(s->m_dropped);
		return -1;
	}
	s->warned_write = false;
	return 0;
}

static void
queued(struct ag_ship *s, enum ag_spool_queue q)
{
	update_gauges(s);
	if (!s->flushing && ag_spool_bytes(s->spool, q) >= s->conf->max_request) {
		s->flushing = true;
		ev_defer(s->loop, &s->kick);
	}
}

int
ag_ship_log(struct ag_ship *s, const char *category, const char *line,
    size_t len)
{
	size_t		 clen;
	int		 rc;

	if (category == NULL)
		category = s->conf->category ? s->conf->category : "";
	clen = strlen(category);
	if (strpbrk(category, "\r\n") != NULL) {
		s->dropped++;
		counter_inc(s->m_dropped);
		return -1;
	}
	len = line_len(line, len);
	if (len + 1 > s->conf->max_request)
		len = s->conf->max_request - 1;	/* a request holds it */
	buf_reset(&s->rec);
	if (buf_append(&s->rec, category, clen) == -1 ||
	    buf_append(&s->rec, "\n", 1) == -1 ||
	    buf_append(&s->rec, line, len) == -1) {
		s->dropped++;
		counter_inc(s->m_dropped);
		return -1;
	}
	rc = queue(s, AG_SPOOL_LOGS, buf_head(&s->rec), buf_used(&s->rec));
	queued(s, AG_SPOOL_LOGS);
	return rc;
}

int
ag_ship_metrics(struct ag_ship *s, const char *text, size_t len)
{
	size_t		 max = s->conf->max_request / 2, n;
	const char	*cut;
	int		 rc = 0;

	if (s->conf->kind == AG_SHIP_WEBHOOK) {
		s->dropped++;
		counter_inc(s->m_dropped);
		return -1;
	}
	/* Records small enough that a request holds one, even as carbon2. */
	while (len > 0) {
		n = len;
		if (n > max) {
			for (cut = text + max; cut > text && cut[-1] != '\n';
			    cut--)
				;
			n = cut > text ? (size_t)(cut - text) : max;
		}
		if (queue(s, AG_SPOOL_METRICS, text, n) == -1)
			rc = -1;
		text += n;
		len -= n;
	}
	queued(s, AG_SPOOL_METRICS);
	return rc;
}

int
ag_ship_sync(struct ag_ship *s, char *err, size_t errlen)
{
	return ag_spool_sync(s->spool, err, errlen);
}

void
ag_ship_status_buf(struct ag_ship *s, struct buf *out)
{
	buf_printf(out, "output %s: url %s, spool %" PRIu64 " records %"
	    PRIu64 " bytes (of %" PRIu64 "), sent %" PRIu64 ", dropped %"
	    PRIu64 ", last: %s, backoff ", s->conf->name, s->url_shown,
	    ag_spool_records(s->spool, AG_SPOOL_NQ),
	    ag_spool_bytes(s->spool, AG_SPOOL_NQ), ag_spool_max(s->spool),
	    s->sent_records, s->dropped, s->last);
	if (s->backing_off)
		buf_printf(out, "%" PRIu64 ".%03" PRIu64 "s (attempt %u)",
		    s->backoff_ms / 1000, s->backoff_ms % 1000, s->attempts);
	else
		buf_puts(out, "-");
	if (s->refused[0] != '\0')
		buf_printf(out, ", REFUSED: %s", s->refused);
	if (s->naddrs == 0)
		buf_printf(out, ", no address: %s", s->resolve_err);
	buf_puts(out, "\n");
}

void
ag_ship_status(struct ag_ship *s, struct ctl_conn *cc)
{
	struct buf	 b;

	buf_init(&b, 4096);
	ag_ship_status_buf(s, &b);
	ctl_write(cc, buf_head(&b), buf_used(&b));
	buf_free(&b);
}

uint64_t
ag_ship_pending(const struct ag_ship *s)
{
	return ag_spool_records(s->spool, AG_SPOOL_NQ);
}

const char *
ag_ship_name(const struct ag_ship *s)
{
	return s->conf->name;
}

void
ag_ship_free(struct ag_ship *s)
{
	if (s == NULL)
		return;
	if (s->loop != NULL) {
		conn_close(s);
		ev_timer_stop(s->loop, &s->flush_timer);
		ev_timer_stop(s->loop, &s->retry_timer);
		ev_defer_cancel(s->loop, &s->kick);
	}
	if (s->reg != NULL && s->m_bytes != NULL)
		metrics_forget(s);
	ag_spool_close(s->spool);
	tls_config_free(s->tls);
	ag_url_clear(&s->url);
	ag_output_conf_free(s->conf);
	free(s->host);
	buf_free(&s->rec);
	buf_free(&s->body);
	buf_free(&s->gz);
	buf_free(&s->req);
	buf_free(&s->resp);
	free(s);
}
