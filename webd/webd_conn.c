/* webd connections: read a request, answer it, keep alive or close. Plain
 * and TLS share everything but the three I/O calls below. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "stream.h"
#include "tls.h"
#include "webd_conn.h"

#define CONN_IN_MAX_EXTRA	1024
#define CONN_OUT_MAX		(256 * 1024)
#define CONN_HEADERS		128
#define CONN_FILE_CHUNK		(16 * 1024)
#define CONN_LINGER_MS		2000
#define CONN_LISTING_MAX	(1024 * 1024)
#define CONN_DRAIN_GRACE_MS	1000	/* idle keep-alive while draining */

enum step { STEP_FREED = -1, STEP_BLOCKED, STEP_NEXT };

void
conn_free(struct webd_conn *c)
{
	struct webd *w = c->w;

	ev_timer_stop(loop_of(c), &c->timer);
	ev_fd_close(loop_of(c), c->io.fd);
	if (c->file_fd != -1)
		close(c->file_fd);
	tls_conn_free(c->io.tls);
	buf_free(&c->in);
	buf_free(&c->out);
	free(c->chunk);
	free(c->logline);
	upstream_free(c->up);
	if ((*c->prevp = c->next) != NULL)
		c->next->prevp = c->prevp;
	w->nconns--;
	__atomic_fetch_sub(&w->stats->conns, 1, __ATOMIC_RELAXED);
	free(c);
	if (w->stopping && w->nconns == 0)
		w->drained(w);
}

static void
conn_timeout(struct ev_loop *loop, void *arg)
{
	struct webd_conn *c = arg;

	if (c->state == C_LINGER)
		;
	else if (c->state == C_PROXY)
		webd_limit_hit(c->w, buf_used(&c->out) > 0 ? "send_timeout" :
		    "body_timeout");
	else if (c->in_request)
		webd_limit_hit(c->w, "header_timeout");
	else if (c->state == C_READ && c->w->stopping)
		;	/* the drain grace: no limit */
	else if (c->state == C_READ)
		webd_limit_hit(c->w, "idle_timeout");
	else
		webd_limit_hit(c->w, "send_timeout");
	conn_free(c);
}

/* Access log and metrics for the response just finished. */
static void
conn_account(struct webd_conn *c)
{
	struct webd	*w = c->w;
	char		 when[64], addr[NET_ADDRSTRLEN];
	uint64_t	 ms;
	double		 secs;
	time_t		 now;
	struct tm	 tm;
	bool		 json = w->conf->log_format == LOG_JSON;
	const char	*req = c->logline != NULL ? c->logline : json ?
	    "\"request\":\"-\",\"referer\":\"-\",\"user_agent\":\"-\"" :
	    "\"-\" \"-\" \"-\"";

	ev_update_now(loop_of(c));
	ms = ev_now(loop_of(c)) - c->t_start;
	secs = (double)ms / 1000.0;
	webd_count_response(w, c->status, c->body_bytes, ms);
	if (!alog_enabled(&w->alog))
		return;
	now = time(NULL);
	localtime_r(&now, &tm);
	net_addr_str(&c->peer, addr, sizeof(addr));
	if (json) {
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S%z", &tm);
		alog_printf(&w->alog, "{\"time\":\"%s\",\"client\":\"%s\",%s,"
		    "\"status\":%d,\"bytes\":%llu,\"duration\":%.6f}\n", when,
		    addr, req, c->status,
		    (unsigned long long)c->body_bytes, secs);
	} else {
		strftime(when, sizeof(when), "%d/%b/%Y:%H:%M:%S %z", &tm);
		alog_printf(&w->alog, "%s - - [%s] %s %d %llu %.3f\n", addr,
		    when, req, c->status,
		    (unsigned long long)c->body_bytes, secs);
	}
	free(c->logline);
	c->logline = NULL;
}

/* Quote a header value for the access log: printable ASCII, with '"' and
 * '\' escaped; other bytes as \xHH. Cut (with "...") at max. */
static size_t
log_quote(char *out, size_t max, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	size_t	 o = 0, i;
	unsigned char ch;

	for (i = 0; i < len && o + 8 < max; i++) {
		ch = (unsigned char)s[i];
		if (ch == '"' || ch == '\\') {
			out[o++] = '\\';
			out[o++] = (char)ch;
		} else if (ch < 0x20 || ch > 0x7e) {
			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = hex[ch >> 4];
			out[o++] = hex[ch & 15];
		} else
			out[o++] = (char)ch;
	}
	if (i < len && o + 4 <= max) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
	return o;
}

static void
log_request(struct webd_conn *c, const struct http_msg *msg, const char *head,
    size_t headlen)
{
	const struct http_header *ref, *ua;
	char	 rl[768], rf[512], uas[512], line[CONN_LOGLINE_MAX];
	const char *eol = memchr(head, '\r', headlen);

	/* Kept only while a request is on its way to the log: an idle
	 * keep-alive connection holds no log line. */
	free(c->logline);
	c->logline = NULL;
	if (!alog_enabled(&c->w->alog))
		return;

	log_quote(rl, sizeof(rl), head, eol ? (size_t)(eol - head) : 0);
	ref = http_header_get(msg, "Referer");
	ua = http_header_get(msg, "User-Agent");
	log_quote(rf, sizeof(rf), ref ? ref->value : "-", ref ? ref->value_len : 1);
	log_quote(uas, sizeof(uas), ua ? ua->value : "-", ua ? ua->value_len : 1);
	if (c->w->conf->log_format == LOG_JSON)
		snprintf(line, sizeof(line), "\"request\":\"%s\","
		    "\"referer\":\"%s\",\"user_agent\":\"%s\"", rl, rf, uas);
	else
		snprintf(line, sizeof(line), "\"%s\" \"%s\" \"%s\"",
		    rl, rf, uas);
	c->logline = strdup(line);	/* NULL logs "-": not worth failing */
}

/* Date, Server, Connection and the end of the head. */
int
conn_finish_head(struct webd_conn *c)
{
	struct webd	*w = c->w;
	time_t		 now = time(NULL);

	/* Formatted once a second, not once a response. */
	if (now != w->date_sec) {
		if (http_date(now, w->date) == NULL)
			return -1;
		w->date_sec = now;
	}
	if (http_write_header(&c->out, "Date", w->date) == -1 ||
	    http_write_header(&c->out, "Server", "webd") == -1 ||
	    (c->close_after &&
	    http_write_header(&c->out, "Connection", "close") == -1))
		return -1;
	return http_write_end_head(&c->out);
}

/* A short text answer made here (health, errors of the request itself). */
int
conn_respond_text(struct webd_conn *c, int minor, int status, const char *text)
{
	char	 len[24];

	snprintf(len, sizeof(len), "%zu", strlen(text));
	c->status = status;
	c->body_bytes = strlen(text);
	if (http_write_status_line(&c->out, minor, status, NULL) == -1 ||
	    http_write_header(&c->out, "Content-Type",
	    "text/plain; charset=utf-8") == -1 ||
	    http_write_header(&c->out, "Content-Length", len) == -1 ||
	    conn_finish_head(c) == -1 || buf_puts(&c->out, text) == -1)
		return -1;
	return 0;
}

#define HDR(msg, name, field)	do {					\
	const struct http_header *h_ = http_header_get(msg, name);	\
	sr.field = h_ ? h_->value : NULL;				\
	sr.field##_len = h_ ? h_->value_len : 0;			\
} while (0)

static int
serve_static(struct webd_conn *c, const struct http_msg *msg, size_t pathlen)
{
	struct static_req sr = { 0 };
	struct static_result res;
	struct buf	 body;
	int		 rv = -1;

	sr.method = msg->method;
	sr.minor = msg->minor;
	sr.path = msg->target;
	sr.path_len = pathlen;
	HDR(msg, "If-None-Match", if_none_match);
	HDR(msg, "If-Modified-Since", if_modified_since);
	HDR(msg, "Range", range);
	HDR(msg, "If-Range", if_range);
	HDR(msg, "Accept-Encoding", accept_encoding);
	/* Error and redirect texts are short; a listing may be long. */
	buf_init(&body, c->w->conf->listing ? CONN_LISTING_MAX : 4096);
	if (static_serve(&c->w->sconf, &sr, &c->out, &body, &res) == 0 &&
	    conn_finish_head(c) == 0 &&
	    buf_append(&c->out, buf_head(&body), buf_used(&body)) == 0) {
		c->status = res.status;
		c->body_bytes = buf_used(&body) + (uint64_t)res.length;
		c->file_fd = res.fd;
		c->file_off = res.offset;
		c->file_left = res.length;
		if (res.status >= 400)
			log_debug("%s: %d %s", sr.path ? "static" : "", res.status,
			    res.reason ? res.reason : "");
		rv = 0;
	} else if (res.fd != -1)
		close(res.fd);
	buf_free(&body);
	return rv;
}

/* One complete head at the start of c->in: build the whole answer, or
 * hand the request to an upstream (state C_PROXY). */
static int
dispatch(struct webd_conn *c, const struct http_msg *msg, size_t headlen)
{
	struct webd	*w = c->w;
	const struct webd_location *loc = NULL;
	const char	*q;
	char		 path[WEBD_PATH_MAX];
	size_t		 pathlen;
	ssize_t		 n;
	bool		 has_body;
	int		 rv;

	log_request(c, msg, buf_head(&c->in), headlen);
	c->close_after = !msg->keep_alive || w->stopping;
	has_body = msg->body != HTTP_BODY_NONE &&
	    !(msg->body == HTTP_BODY_LENGTH && msg->content_length == 0);
	if (has_body && msg->body == HTTP_BODY_LENGTH &&
	    msg->content_length > w->conf->max_body) {
		webd_limit_hit(w, "max_body");
		c->close_after = c->unread_body = true;
		rv = conn_respond_text(c, msg->minor, 413,
		    "413 Content Too Large\n");
		goto done;
	}
	if (msg->target_form != HTTP_TARGET_ORIGIN) {
		c->close_after = c->unread_body = has_body;
		rv = conn_respond_text(c, msg->minor, 400, "400 Bad Request\n");
		goto done;
	}
	q = memchr(msg->target, '?', msg->target_len);
	pathlen = q ? (size_t)(q - msg->target) : msg->target_len;
	if (w->conf->health != NULL && strlen(w->conf->health) == pathlen &&
	    memcmp(w->conf->health, msg->target, pathlen) == 0) {
		/* A worker replaced on reload drains, but the daemon runs on. */
		bool stopping = webd_daemon_stopping(w);

		c->close_after |= has_body;
		c->unread_body = has_body;
		rv = conn_respond_text(c, msg->minor, stopping ? 503 : 200,
		    stopping ? "stopping\n" : "ok\n");
		goto done;
	}
	/* Locations match the normalised path, so "/a/../x.php" or "%2e"
	 * tricks cannot slip past one; a path that does not normalise is
	 * refused by the static handler with the right status. */
	if (w->conf->nloc > 0 &&
	    (n = static_path_normalize(msg->target, pathlen, path,
	    sizeof(path))) > 0)
		loc = webd_location_find(w->conf, path, (size_t)n);
	if (loc != NULL && loc->handler != H_STATIC) {
		rv = upstream_start(c, msg, headlen, loc, path);
		goto done;
	}
	/* Static files take no body: answer, then close without reading it. */
	if (has_body)
		c->close_after = c->unread_body = true;
	rv = serve_static(c, msg, pathlen);
 done:
	buf_consume(&c->in, headlen);
	return rv;
}

/* Parse what is buffered; switch to writing once there is an answer. */
static void
conn_process(struct webd_conn *c)
{
	struct http_header storage[CONN_HEADERS];
	struct http_msg	 msg;
	int		 n;

	if (buf_used(&c->in) == 0)
		return;
	if (!c->in_request) {
		/* First byte of a request: the whole head must follow within
		 * header-timeout (not reset by each byte: slowloris). */
		c->in_request = true;
		c->t_start = ev_now(loop_of(c));
		ev_timer_start(loop_of(c), &c->timer,
		    c->w->conf->header_timeout_ms);
	}
	http_msg_init(&msg, storage, CONN_HEADERS);
	n = http_parse_request(&c->parser, buf_head(&c->in), buf_used(&c->in),
	    &msg);
	if (n == 0)
		return;
	ev_timer_stop(loop_of(c), &c->timer);
	c->in_request = false;
	if (n < 0) {
		if (c->parser.status == 431 || c->parser.status == 414)
			webd_limit_hit(c->w, "max_header_size");
		log_debug("fd %d: bad request: %s", c->io.fd, c->parser.error);
		free(c->logline);
		c->logline = NULL;
		c->close_after = true;
		c->unread_body = true;	/* the rest of a bad head may follow */
		buf_reset(&c->in);
		if (conn_respond_text(c, 1, c->parser.status,
		    http_status_reason(c->parser.status) ?
		    http_status_reason(c->parser.status) : "error") == -1)
			c->close_after = true;
	} else if (dispatch(c, &msg, (size_t)n) == -1) {
		buf_reset(&c->out);
		c->close_after = true;
		conn_respond_text(c, msg.minor, 500, "500 Internal Server Error\n");
	}
	http_parser_reset(&c->parser);
	if (c->state == C_PROXY)
		return;
	c->state = C_WRITE;
	/* A client that does not read its answer is cut at idle-timeout. */
	ev_timer_start(loop_of(c), &c->timer, c->w->conf->idle_timeout_ms);
}

static enum step
conn_read(struct webd_conn *c)
{
	unsigned want;
	int	 rc;

	if ((rc = stream_fill(&c->io, &c->in, &want)) <= 0) {
		conn_free(c);
		return STEP_FREED;
	}
	ev_fd_mod(loop_of(c), c->io.fd, want);
	conn_process(c);
	return c->state == C_READ ? STEP_BLOCKED : STEP_NEXT;
}

/* Send the file part: sendfile on plain sockets, read + tls_write on TLS
 * (the chunk stays put until fully written: the retry contract). */
static enum step
send_file(struct webd_conn *c)
{
	unsigned want = EV_WRITE;
	ssize_t	 n;

	while (c->file_left > 0 || c->chunk_off < c->chunk_len) {
		if (c->io.tls == NULL) {
			n = sendfile(c->io.fd, c->file_fd, &c->file_off,
			    (size_t)(c->file_left > (1 << 30) ? (1 << 30) :
			    c->file_left));
			if (n == -1 && errno == EAGAIN) {
				ev_fd_mod(loop_of(c), c->io.fd, EV_WRITE);
				return STEP_BLOCKED;
			}
			if (n <= 0)
				goto fail;
			c->file_left -= n;
			continue;
		}
		if (c->chunk_off == c->chunk_len) {
			if (c->chunk == NULL &&
			    (c->chunk = malloc(CONN_FILE_CHUNK)) == NULL)
				goto fail;
			n = pread(c->file_fd, c->chunk, (size_t)(c->file_left >
			    CONN_FILE_CHUNK ? CONN_FILE_CHUNK : c->file_left),
			    c->file_off);
			if (n <= 0)
				goto fail;
			c->chunk_len = (size_t)n;
			c->chunk_off = 0;
			c->file_off += n;
			c->file_left -= n;
		}
		n = stream_write(&c->io, c->chunk + c->chunk_off,
		    c->chunk_len - c->chunk_off, &want);
		if (n == STREAM_BLOCKED) {
			ev_fd_mod(loop_of(c), c->io.fd, want);
			return STEP_BLOCKED;
		}
		if (n < 0)
			goto fail;
		c->chunk_off += (size_t)n;
	}
	close(c->file_fd);
	c->file_fd = -1;
	return STEP_NEXT;
 fail:
	/* The file shrank under us or the peer went away: nothing to mend. */
	log_debug("fd %d: sending file: %s", c->io.fd, strerror(errno));
	conn_free(c);
	return STEP_FREED;
}

static void
conn_linger(struct webd_conn *c)
{
	/* Unread request bytes would turn our close into a reset that may
	 * destroy the answer in flight: half-close, drain, then close. */
	c->state = C_LINGER;
	if (c->io.tls != NULL)
		(void)tls_close(c->io.tls);
	shutdown(c->io.fd, SHUT_WR);
	ev_fd_mod(loop_of(c), c->io.fd, EV_READ);
	ev_timer_start(loop_of(c), &c->timer, CONN_LINGER_MS);
}

static enum step
conn_write(struct webd_conn *c)
{
	unsigned want;
	int	 rc;

	/* Head and a small file leave in one segment, without TCP_NODELAY. */
	c->io.more = c->file_fd != -1 && c->file_left > 0 && c->io.tls == NULL;
	rc = stream_flush(&c->io, &c->out, &want);
	c->io.more = false;
	if (rc == STREAM_BLOCKED) {
		ev_fd_mod(loop_of(c), c->io.fd, want);
		return STEP_BLOCKED;
	}
	if (rc == STREAM_ERROR) {
		conn_free(c);
		return STEP_FREED;
	}
	if (c->file_fd != -1) {
		enum step s = send_file(c);

		if (s != STEP_NEXT)
			return s;
	}
	conn_account(c);
	ev_timer_stop(loop_of(c), &c->timer);
	if (c->close_after) {
		/* Linger only when the client may still be sending: a plain
		 * close is then safe and saves a round trip per connection. */
		if (c->unread_body || buf_used(&c->in) > 0) {
			conn_linger(c);
			return STEP_BLOCKED;
		}
		if (c->io.tls != NULL)
			(void)tls_close(c->io.tls);
		conn_free(c);
		return STEP_FREED;
	}
	/* Kept alive: from now on a short answer must not wait for the ACK
	 * of the previous one (Nagle). Set here, not at accept, so
	 * Connection: close traffic saves the call, as nginx does. */
	if (!c->nodelay) {
		net_set_nodelay(c->io.fd);
		c->nodelay = true;
	}
	c->state = C_READ;
	/* Idle keep-alive connections hold no buffer (as nginx): with
	 * thousands open, that is most of their memory. */
	if (buf_used(&c->in) == 0)
		buf_free(&c->in);
	buf_free(&c->out);
	ev_fd_mod(loop_of(c), c->io.fd, EV_READ);
	ev_timer_start(loop_of(c), &c->timer, c->w->conf->idle_timeout_ms);
	/* A pipelined request may already be buffered. */
	conn_process(c);
	return c->state == C_READ ? STEP_BLOCKED : STEP_NEXT;
}

static void
conn_drain_linger(struct webd_conn *c)
{
	char	 sink[4096];
	unsigned want;
	ssize_t	 n;

	while ((n = stream_read(&c->io, sink, sizeof(sink), &want)) > 0)
		;
	if (n != STREAM_BLOCKED)
		conn_free(c);
}

static void
conn_io(struct ev_loop *loop, int fd, unsigned events, void *arg)
{
	struct webd_conn *c = arg;
	int		 rc;

	for (;;) {
		switch (c->state) {
		case C_HANDSHAKE:
			rc = tls_handshake(c->io.tls);
			if (rc == 0) {
				c->state = C_READ;
				continue;
			}
			if (rc == TLS_ERR) {
				log_debug("fd %d: handshake: %s", fd,
				    tls_conn_error(c->io.tls));
				conn_free(c);
				return;
			}
			ev_fd_mod(loop, fd, tls_want_events(rc));
			return;
		case C_READ:
			if (conn_read(c) != STEP_NEXT)
				return;
			continue;
		case C_WRITE:
			if (conn_write(c) != STEP_NEXT)
				return;
			continue;
		case C_LINGER:
			conn_drain_linger(c);
			return;
		case C_PROXY:
			upstream_client_io(c, events);
			return;
		}
	}
}

void
conn_kick(struct webd_conn *c)
{
	conn_io(loop_of(c), c->io.fd, 0, c);
}

void
webd_accept(struct ev_loop *loop, int lfd, unsigned events, void *arg)
{
	struct webd	*w = arg;
	struct webd_conn *c;
	struct net_addr	 peer;
	struct tls_config *tls = NULL;
	char		 err[256];
	int		 fd, i;

	if (webd_worker_replaced(w)) {
		webd_worker_retire(w);
		return;
	}
	for (i = 0; i < w->nlfd; i++)
		if (w->lfd[i] == lfd)
			tls = w->ltls[i];
	/* One connection per readiness, as nginx does by default: the loop
	 * is level-triggered and reports the listener again while more wait,
	 * and looping to EAGAIN would cost a failing accept per wakeup. */
	if ((fd = net_accept(lfd, &peer)) != -1) {
		if (w->nconns >= w->conf->max_conns) {
			webd_limit_hit(w, "max_connections");
			close(fd);
			return;
		}
		if ((c = calloc(1, sizeof(*c))) == NULL) {
			close(fd);
			return;
		}
		c->w = w;
		c->io.fd = fd;
		c->peer = peer;
		c->file_fd = -1;
		c->state = tls ? C_HANDSHAKE : C_READ;
		/* TLS writes handshake flights and records back to back. */
		if (tls != NULL && net_set_nodelay(fd) == 0)
			c->nodelay = true;
		buf_init(&c->in, w->conf->max_head + CONN_IN_MAX_EXTRA);
		buf_init(&c->out, CONN_OUT_MAX);
		{
			struct http_limits lim;

			http_limits_default(&lim);
			lim.max_head = w->conf->max_head;
			http_parser_init(&c->parser, &lim);
		}
		ev_timer_init(&c->timer, conn_timeout, c);
		if ((tls != NULL && (c->io.tls = tls_conn_new(tls, fd, NULL, err,
		    sizeof(err))) == NULL) ||
		    ev_fd_add(loop, fd, EV_READ, conn_io, c) == -1) {
			log_warnx("accept: %s", c->io.tls || !tls ? strerror(errno) : err);
			tls_conn_free(c->io.tls);
			buf_free(&c->in);
			buf_free(&c->out);
			close(fd);
			free(c);
			return;
		}
		if ((c->next = w->conns) != NULL)
			c->next->prevp = &c->next;
		c->prevp = &w->conns;
		w->conns = c;
		w->nconns++;
		webd_stat_add(&w->stats->conns, 1);
		/* Until the first byte: the idle timeout; then header-timeout. */
		ev_timer_start(loop, &c->timer, w->conf->idle_timeout_ms);
		return;
	}
	if (errno == EMFILE || errno == ENFILE)
		webd_limit_hit(w, "file_descriptors");
	else if (errno != EAGAIN && errno != EWOULDBLOCK)
		log_warn("accept");
}

void
webd_conns_drain(struct webd *w)
{
	struct webd_conn *c;

	for (c = w->conns; c != NULL; c = c->next) {
		c->close_after = true;
		/* Idle keep-alive: a request may be on its way already;
		 * closing now would reset it. Answer it (with "Connection:
		 * close") if it comes within the grace, else close. */
		if (c->state == C_READ && !c->in_request)
			ev_timer_start(loop_of(c), &c->timer,
			    w->conf->idle_timeout_ms < CONN_DRAIN_GRACE_MS ?
			    w->conf->idle_timeout_ms : CONN_DRAIN_GRACE_MS);
	}
}

void
webd_conns_close_all(struct webd *w)
{
	while (w->conns != NULL)
		conn_free(w->conns);
}
