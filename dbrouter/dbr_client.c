/* dbrouter's client connections: the listeners, the login as a MariaDB
 * server does it (Initial Handshake v10, mysql_native_password checked
 * against the users file, switching a client that offers another method
 * over to it), reading commands and writing answers. Where a command goes
 * is dbr_route.c's business. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "log.h"
#include "metrics.h"
#include "stream.h"
#include "tls.h"
#include "dbr_client.h"

#define CL_IN_MAX		(256 * 1024)
/* Above this much unsent output the backend is not read from. */
#define CL_OUT_HIGH		(1024 * 1024)
#define CL_SERVER_VERSION	"5.5.5-10.11.0-MariaDB-dbrouter"
#define CL_CHARSET		45	/* utf8mb4_general_ci */
#define CL_LOGIN_MAX		(64 * 1024)

/* What the router offers clients: what it passes on to the servers, plus
 * what it handles itself. */
#define CL_CAPS	(MYSQL_CLIENT_MYSQL | MYSQL_CLIENT_FOUND_ROWS |		\
	MYSQL_CLIENT_LONG_FLAG | MYSQL_CLIENT_CONNECT_WITH_DB |		\
	MYSQL_CLIENT_NO_SCHEMA | MYSQL_CLIENT_ODBC |			\
	MYSQL_CLIENT_LOCAL_FILES | MYSQL_CLIENT_IGNORE_SPACE |		\
	MYSQL_CLIENT_PROTOCOL_41 | MYSQL_CLIENT_INTERACTIVE |		\
	MYSQL_CLIENT_IGNORE_SIGPIPE | MYSQL_CLIENT_TRANSACTIONS |	\
	MYSQL_CLIENT_SECURE_CONNECTION | MYSQL_CLIENT_MULTI_STATEMENTS | \
	MYSQL_CLIENT_MULTI_RESULTS | MYSQL_CLIENT_PS_MULTI_RESULTS |	\
	MYSQL_CLIENT_PLUGIN_AUTH | MYSQL_CLIENT_CONNECT_ATTRS |		\
	MYSQL_CLIENT_PLUGIN_AUTH_LENENC_DATA |				\
	MYSQL_CLIENT_SESSION_TRACK | MYSQL_CLIENT_DEPRECATE_EOF)

/* MariaDB's error codes the router answers with. */
#define ER_CON_COUNT_ERROR	1040
#define ER_ACCESS_DENIED	1045
#define ER_NET_PACKET_TOO_LARGE	1153
#define ER_UNKNOWN_COM_ERROR	1047
#define ER_NOT_SUPPORTED_AUTH	1251

static void	cl_io(struct ev_loop *, int, unsigned, void *);
static void	cl_read(struct dbr_client *);

static uint32_t next_conn_id = 1;

static struct ev_loop *
cl_loop(struct dbr_client *c)
{
	return dbr_loop(c->d);
}

static void
count_error(struct dbr *d, const char *reason)
{
	counter_inc(metric_with(d->m_client_errors,
	    (const char *const[]){ reason, NULL }));
}

static void
cl_free(struct dbr_client *c)
{
	struct dbr	*d = c->d;
	struct cl_stmt	*st;
	unsigned	 i;

	route_release_all(c);
	if (c->waiting_on != NULL) {
		struct dbr_client **pp = &c->waiting_on->waiters;

		while (*pp != NULL && *pp != c)
			pp = &(*pp)->wnext;
		if (*pp == c)
			*pp = c->wnext;
	}
	while ((st = c->stmts) != NULL) {
		c->stmts = st->next;
		free(st->sql);
		free(st->types);
		free(st);
	}
	for (i = 0; i < c->nreplay; i++)
		free(c->replay[i]);
	free(c->replay);
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		d->clients = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	d->nclients--;
	gauge_set(metric_series0(d->m_clients), d->nclients);
	ev_timer_stop(cl_loop(c), &c->timer);
	ev_defer_cancel(cl_loop(c), &c->kick);
	if (c->tls != NULL) {
		if (tls_conn_handshake_done(c->tls))
			(void)tls_close(c->tls);	/* best effort */
		tls_conn_free(c->tls);
	}
	ev_fd_close(cl_loop(c), c->fd);
	mysql_reader_free(&c->rd);
	buf_free(&c->in);
	buf_free(&c->out);
	buf_free(&c->cmd);
	explicit_bzero(&c->id, sizeof(c->id));
	free(c);
	if (d->stopping && d->nclients == 0)
		service_stopped(d->svc);
}

void
cl_close(struct dbr_client *c, const char *why)
{
	log_debug("client %s (%u): closed: %s", c->peer, c->conn_id, why);
	cl_free(c);
}

static struct stream
cl_stream(const struct dbr_client *c)
{
	return (struct stream){ .fd = c->fd, .tls = c->tls };
}

static const char *
cl_io_error(const struct dbr_client *c)
{
	return c->tls != NULL ? tls_conn_error(c->tls) : strerror(errno);
}

static void
cl_watch(struct dbr_client *c)
{
	unsigned ev = 0;
	struct stream st = cl_stream(c);

	if (c->state == CL_TLS_HANDSHAKE)
		return;		/* the handshake says what it waits for */

	if (buf_used(&c->out) > 0)
		ev |= EV_WRITE;
	/* Read interest stays on while a command is busy (turning it off
	 * and on again costs two epoll_ctl a query): a pipelining client's
	 * next command waits in c->in, and in the kernel once c->in is
	 * full; LOAD DATA's file is read as the backend takes it. */
	if (c->state != CL_CLOSING && buf_used(&c->in) < CL_IN_MAX)
		ev |= EV_READ;
	ev_fd_mod(cl_loop(c), c->fd, ev);
	if ((ev & EV_READ) && c->state != CL_BUSY && stream_pending(&st))
		ev_defer(cl_loop(c), &c->kick);
}

bool
cl_out_full(const struct dbr_client *c)
{
	return buf_used(&c->out) >= CL_OUT_HIGH;
}

void
cl_flush(struct dbr_client *c)
{
	struct stream	 st = cl_stream(c);
	unsigned	 want;
	bool		 was_full = cl_out_full(c);

	if (stream_flush(&st, &c->out, &want) == STREAM_ERROR) {
		cl_close(c, cl_io_error(c));
		return;
	}
	if (c->state == CL_CLOSING && buf_used(&c->out) == 0) {
		cl_close(c, "done");
		return;
	}
	cl_watch(c);
	if (was_full && !cl_out_full(c))
		route_output_drained(c);
}

/* payload as one packet to the client, with the next sequence id. */
static int
cl_send(struct dbr_client *c, const struct buf *payload)
{
	return mysql_write(&c->out, &c->seq, buf_head(payload),
	    buf_used(payload));
}

void
cl_error(struct dbr_client *c, uint16_t code, const char *state,
    const char *fmt, ...)
{
	struct buf	 p;
	char		 msg[512];
	va_list		 ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	buf_init(&p, 0);
	if (mysql_err_build(&p, code, state, msg, c->caps) == -1 ||
	    cl_send(c, &p) == -1) {
		buf_free(&p);
		cl_close(c, "out of memory");
		return;
	}
	buf_free(&p);
	cl_flush(c);
}

void
cl_ok(struct dbr_client *c)
{
	struct mysql_ok	 ok = { .status = c->status };
	struct buf	 p;

	buf_init(&p, 0);
	if (mysql_ok_build(&p, &ok, c->caps, MYSQL_HDR_OK) == -1 ||
	    cl_send(c, &p) == -1) {
		buf_free(&p);
		cl_close(c, "out of memory");
		return;
	}
	buf_free(&p);
	cl_flush(c);
}

/* Refuse and close once the error is out. */
static void
cl_refuse(struct dbr_client *c, const char *reason, uint16_t code,
    const char *state, const char *msg)
{
	log_info("client %s (%u): refused: %s", c->peer, c->conn_id, msg);
	count_error(c->d, reason);
	cl_error(c, code, state, "%s", msg);
	c->state = CL_CLOSING;
	cl_flush(c);
}

static void
cl_idle_timeout(struct ev_loop *loop, void *arg)
{
	struct dbr_client *c = arg;

	(void)loop;
	if (c->state == CL_IDLE || c->state == CL_LOGIN ||
	    c->state == CL_TLS_HANDSHAKE || c->state == CL_AUTH_SWITCH)
		cl_close(c, "idle timeout");
	else
		route_resume(c);	/* a wait for a writer ran out */
}

void
cl_command_done(struct dbr_client *c)
{
	c->state = CL_IDLE;
	c->step = STEP_NONE;
	c->cmd_stmt = NULL;
	c->retries = 0;
	buf_reset(&c->cmd);
	mysql_reader_expect(&c->rd, 0);
	ev_timer_start(cl_loop(c), &c->timer, c->d->conf->client_idle_ms);
	cl_flush(c);
	/* A pipelined command may already be here. */
	if (c->state == CL_IDLE && buf_used(&c->in) > 0)
		cl_read(c);
}

/* ---- login ---- */

static int
send_handshake(struct dbr_client *c)
{
	struct mysql_handshake h = {
		.server_version = CL_SERVER_VERSION,
		.conn_id = c->conn_id,
		.caps = CL_CAPS | (c->tls_offered ? MYSQL_CLIENT_SSL : 0),
		.charset = CL_CHARSET,
		.status = MYSQL_STATUS_AUTOCOMMIT,
	};
	struct buf	 p;
	int		 rv;

	if (getrandom(c->scramble, sizeof(c->scramble), 0) !=
	    sizeof(c->scramble))
		return -1;
	mysql_scramble_fix(c->scramble);
	memcpy(h.scramble, c->scramble, sizeof(h.scramble));
	buf_init(&p, 0);
	rv = mysql_handshake_build(&p, &h) == -1 ? -1 : cl_send(c, &p);
	buf_free(&p);
	return rv;
}

/* Drive the server side of the TLS handshake; then the login goes on
 * inside TLS. */
static void
cl_handshake(struct dbr_client *c)
{
	int	 rc;

	if ((rc = tls_handshake(c->tls)) == TLS_ERR) {
		log_info("client %s (%u): TLS: %s", c->peer,
		    c->conn_id, tls_conn_error(c->tls));
		count_error(c->d, "tls");
		cl_close(c, "TLS handshake failed");
		return;
	}
	if (rc != 0) {
		ev_fd_mod(cl_loop(c), c->fd, tls_want_events(rc));
		return;
	}
	log_debug("client %s (%u): %s %s", c->peer, c->conn_id,
	    tls_conn_version(c->tls), tls_conn_cipher(c->tls));
	c->state = CL_LOGIN;
	cl_watch(c);		/* the response may already be inside TLS */
}

/* An SSLRequest: TLS from here on, if the listener offers it. */
static void
cl_starttls(struct dbr_client *c)
{
	struct tls_config *cfg = c->d->conf->tls_server;
	char		 err[256];

	if (!c->tls_offered || cfg == NULL) {
		cl_refuse(c, "tls", 1043, "08S01",
		    "TLS is not offered on this listener");
		return;
	}
	if (c->tls != NULL) {
		cl_refuse(c, "malformed", 1043, "08S01", "Bad handshake");
		return;
	}
	/* cl_fill_login read no further than the SSLRequest: anything
	 * here would be plaintext taken as if it came through TLS. */
	if (buf_used(&c->in) > 0) {
		log_info("client %s (%u): bytes after the SSLRequest, before "
		    "TLS", c->peer, c->conn_id);
		count_error(c->d, "malformed");
		cl_close(c, "bytes after the SSLRequest");
		return;
	}
	if ((c->tls = tls_conn_new(cfg, c->fd, NULL, err,
	    sizeof(err))) == NULL) {
		log_warnx("client %s (%u): TLS: %s", c->peer, c->conn_id, err);
		cl_close(c, "TLS setup failed");
		return;
	}
	c->state = CL_TLS_HANDSHAKE;
	mysql_reader_expect(&c->rd, c->seq);
	cl_handshake(c);
}

/* The client's answer to the scramble, checked; then OK and ready. */
static void
login_verify(struct dbr_client *c, const uint8_t *resp, size_t len)
{
	const struct dbr_user *u;

	u = dbr_users_find(&c->d->conf->users, c->id.user, strlen(c->id.user));
	if (u == NULL || mysql_native_verify(u->has_password ? u->stage2 :
	    NULL, c->scramble, resp, len, c->id.stage1) == -1) {
		char	 msg[256];

		snprintf(msg, sizeof(msg), "Access denied for user '%s'@'%s' "
		    "(using password: %s)", c->id.user, c->host,
		    len > 0 ? "YES" : "NO");
		cl_refuse(c, "auth", ER_ACCESS_DENIED, "28000", msg);
		return;
	}
	c->id.has_password = u->has_password;
	c->status = MYSQL_STATUS_AUTOCOMMIT;
	mysql_reader_set_max(&c->rd, c->d->conf->max_packet);
	log_debug("client %s (%u): logged in as %s", c->peer, c->conn_id,
	    c->id.user);
	cl_ok(c);
	if (c->state == CL_LOGIN || c->state == CL_AUTH_SWITCH)
		cl_command_done(c);
}

static void
login_response(struct dbr_client *c, const struct mysql_packet *p)
{
	struct mysql_handshake_resp r;
	struct buf	 sw;
	char		 err[128];

	if (mysql_handshake_resp_parse(p->data, p->len, &r, err,
	    sizeof(err)) == -1) {
		cl_refuse(c, "malformed", 1043, "08S01", "Bad handshake");
		return;
	}
	if (r.ssl_request) {
		cl_starttls(c);
		return;
	}
	if (c->tls == NULL && c->tls_required) {
		cl_refuse(c, "tls_required", ER_ACCESS_DENIED, "28000",
		    "connections to this listener must use TLS");
		return;
	}
	if ((r.caps & MYSQL_CLIENT_PROTOCOL_41) == 0) {
		cl_refuse(c, "malformed", 1043, "08S01",
		    "clients before protocol 4.1 are not supported");
		return;
	}
	if (r.user.len == 0 || r.user.len >= sizeof(c->id.user) ||
	    r.database.len >= sizeof(c->db)) {
		cl_refuse(c, "malformed", 1043, "08S01", "Bad handshake");
		return;
	}
	c->caps = r.caps & CL_CAPS;
	memcpy(c->id.user, r.user.p, r.user.len);
	c->id.user[r.user.len] = '\0';
	c->id.caps = c->caps & ~(uint32_t)(MYSQL_CLIENT_CONNECT_WITH_DB |
	    MYSQL_CLIENT_CONNECT_ATTRS | MYSQL_CLIENT_PLUGIN_AUTH_LENENC_DATA);
	c->id.charset = r.charset;
	if (r.caps & MYSQL_CLIENT_CONNECT_WITH_DB) {
		memcpy(c->db, r.database.p, r.database.len);
		c->db[r.database.len] = '\0';
	}
	/* Native, or a client that names no method (then it is native). */
	if (r.auth_plugin.len == 0 ||
	    mysql_str_eq(&r.auth_plugin, MYSQL_NATIVE_PLUGIN)) {
		login_verify(c, (const uint8_t *)r.auth.p, r.auth.len);
		return;
	}
	if ((c->caps & MYSQL_CLIENT_PLUGIN_AUTH) == 0) {
		cl_refuse(c, "auth", ER_NOT_SUPPORTED_AUTH, "08004",
		    "Client does not support authentication protocol "
		    "requested by server");
		return;
	}
	buf_init(&sw, 0);
	if (mysql_auth_switch_build(&sw, MYSQL_NATIVE_PLUGIN, c->scramble,
	    sizeof(c->scramble)) == -1 || cl_send(c, &sw) == -1) {
		buf_free(&sw);
		cl_close(c, "out of memory");
		return;
	}
	buf_free(&sw);
	c->state = CL_AUTH_SWITCH;
	mysql_reader_expect(&c->rd, c->seq);
	cl_flush(c);
}

/* ---- commands ---- */

static void
cl_packet(struct dbr_client *c, const struct mysql_packet *p)
{
	switch (c->state) {
	case CL_LOGIN:
		c->seq = (uint8_t)(p->seq + 1);
		login_response(c, p);
		return;
	case CL_AUTH_SWITCH:
		c->seq = (uint8_t)(p->seq + 1);
		login_verify(c, p->data, p->len);
		return;
	case CL_IDLE:
		break;
	default:
		return;
	}
	if (p->len == 0) {
		cl_refuse(c, "malformed", 1047, "08S01", "empty command packet");
		return;
	}
	if (p->data[0] == MYSQL_COM_QUIT) {
		cl_close(c, "COM_QUIT");
		return;
	}
	c->cmd_seq = p->seq;
	c->seq = (uint8_t)(p->seq + 1);
	c->state = CL_BUSY;
	ev_timer_stop(cl_loop(c), &c->timer);
	route_command(c);
}

static void
cl_read(struct dbr_client *c)
{
	struct mysql_packet p, q;
	int		 rv;

	if (c->state != CL_LOGIN && c->state != CL_AUTH_SWITCH &&
	    c->state != CL_IDLE) {
		if (c->state == CL_INFILE)
			route_client_input(c);
		else
			cl_watch(c);
		return;
	}
	rv = mysql_read(&c->rd, &c->in, &p);
	if (rv == MYSQL_NEED_MORE) {
		cl_watch(c);
		return;
	}
	if (rv == MYSQL_ERROR) {
		log_info("client %s (%u): %s", c->peer, c->conn_id,
		    c->rd.error);
		if (strstr(c->rd.error, "exceeds the limit") != NULL)
			cl_refuse(c, "too_large", ER_NET_PACKET_TOO_LARGE,
			    "08S01", "Got a packet bigger than "
			    "'max_allowed_packet' bytes");
		else {
			count_error(c->d, "malformed");
			cl_close(c, c->rd.error);
		}
		return;
	}
	/* The command is kept (a read that fails on one replica is retried
	 * on another), so the reader is done with the input at once. */
	buf_reset(&c->cmd);
	if (buf_append(&c->cmd, p.data, p.len) == -1) {
		mysql_reader_done(&c->rd, &c->in);
		cl_refuse(c, "too_large", ER_NET_PACKET_TOO_LARGE, "08S01",
		    "Got a packet bigger than 'max_allowed_packet' bytes");
		return;
	}
	q.data = (const uint8_t *)buf_head(&c->cmd);
	q.len = buf_used(&c->cmd);
	q.seq = p.seq;
	q.frames = p.frames;
	mysql_reader_done(&c->rd, &c->in);
	cl_packet(c, &q);
}

/* Before TLS on a listener that offers it, read no further than the
 * first packet: a client sends its ClientHello right behind the
 * SSLRequest, and those bytes are TLS's to read. Returns as stream_fill. */
static int
cl_fill_login(struct dbr_client *c)
{
	const uint8_t	*h = (const uint8_t *)buf_head(&c->in);
	size_t		 have = buf_used(&c->in), need, len;
	ssize_t		 n;

	if (have < MYSQL_HDR_LEN)
		need = MYSQL_HDR_LEN - have;
	else {
		len = h[0] | (size_t)h[1] << 8 | (size_t)h[2] << 16;
		if (len > CL_LOGIN_MAX || have >= MYSQL_HDR_LEN + len)
			return 1;	/* cl_read refuses or takes it */
		need = MYSQL_HDR_LEN + len - have;
	}
	if (buf_reserve(&c->in, need) == -1)
		return STREAM_ERROR;
	n = read(c->fd, buf_tail(&c->in), need);
	if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK ||
	    errno == EINTR))
		return 1;
	if (n <= 0)
		return n == 0 ? 0 : STREAM_ERROR;
	buf_commit(&c->in, (size_t)n);
	return 1;
}

static void
cl_io(struct ev_loop *loop, int fd, unsigned events, void *arg)
{
	struct dbr_client *c = arg;
	struct stream	 st = cl_stream(c);
	unsigned	 want;
	int		 rv;

	(void)loop;
	if (c->state == CL_TLS_HANDSHAKE) {
		cl_handshake(c);
		return;
	}
	if (events & EV_WRITE) {
		cl_flush(c);
		return;
	}
	if (c->tls == NULL && c->tls_offered && c->state == CL_LOGIN)
		rv = cl_fill_login(c);
	else
		rv = stream_fill(&st, &c->in, &want);
	if (rv == STREAM_ERROR) {
		cl_close(c, cl_io_error(c));
		return;
	}
	if (rv == 0) {
		cl_close(c, c->state == CL_IDLE ? "client left" :
		    "client left mid-command");
		return;
	}
	cl_read(c);
}

static void
cl_kick(struct ev_loop *loop, void *arg)
{
	struct dbr_client *c = arg;

	cl_io(loop, c->fd, EV_READ, c);
}

static void
cl_accept(struct ev_loop *loop, int lfd, unsigned events, void *arg)
{
	struct dbr_lsock *ls = arg;
	struct dbr	*d = ls->d;
	const struct dbr_listen_conf *lc = &d->conf->listen[ls->idx];
	struct dbr_client *c;
	struct net_addr	 peer;
	int		 fd, n;

	(void)loop;
	(void)events;
	for (n = 0; n < 64; n++) {
		if ((fd = net_accept(lfd, &peer)) == -1) {
			if (errno != EAGAIN && errno != EWOULDBLOCK &&
			    errno != EINTR)
				log_warn("accept");
			return;
		}
		if ((c = calloc(1, sizeof(*c))) == NULL) {
			close(fd);
			continue;
		}
		c->d = d;
		c->fd = fd;
		c->conn_id = next_conn_id++;
		c->last_slot = -1;
		c->tls_offered = lc->tls;
		c->tls_required = lc->tls_required;
		ev_deferred_init(&c->kick, cl_kick, c);
		/* Until the client says, errors are 4.1 ones (with SQLSTATE). */
		c->caps = CL_CAPS;
		net_addr_str(&peer, c->peer, sizeof(c->peer));
		net_addr_host(&peer, c->host, sizeof(c->host));
		if (c->host[0] == '\0')
			snprintf(c->host, sizeof(c->host), "localhost");
		buf_init(&c->in, CL_IN_MAX);
		buf_init(&c->out, 0);
		c->out.max = d->conf->max_packet + CL_OUT_HIGH + 65536;
		buf_init(&c->cmd, d->conf->max_packet);
		/* Login packets are small: a client that announces a
		 * bigger one is refused at once, not waited for. */
		mysql_reader_init(&c->rd, CL_LOGIN_MAX);
		mysql_reader_expect(&c->rd, 1);
		ev_timer_init(&c->timer, cl_idle_timeout, c);
		net_set_nodelay(fd);
		if (ev_fd_add(dbr_loop(d), fd, EV_READ, cl_io, c) == -1) {
			close(fd);
			mysql_reader_free(&c->rd);
			free(c);
			continue;
		}
		c->next = d->clients;
		if (d->clients != NULL)
			d->clients->prev = c;
		d->clients = c;
		d->nclients++;
		gauge_set(metric_series0(d->m_clients), d->nclients);
		c->state = CL_LOGIN;
		if (d->nclients > d->conf->max_clients) {
			cl_refuse(c, "max_connections", ER_CON_COUNT_ERROR,
			    "08004", "Too many connections");
			continue;
		}
		if (send_handshake(c) == -1) {
			cl_close(c, "handshake: out of memory");
			continue;
		}
		ev_timer_start(dbr_loop(d), &c->timer,
		    d->conf->connect_timeout_ms * 5);
		cl_flush(c);
	}
}

int
dbr_listen_start(struct dbr *d, char *err, size_t errlen)
{
	int	 i, fd;

	for (i = 0; i < d->conf->nlisten; i++) {
		if ((fd = net_listen(&d->conf->listen[i].addr, 1024, 0, err,
		    errlen)) == -1) {
			dbr_listen_stop(d);
			return -1;
		}
		d->lsock[i].d = d;
		d->lsock[i].idx = i;
		if (ev_fd_add(dbr_loop(d), fd, EV_READ, cl_accept,
		    &d->lsock[i]) == -1) {
			close(fd);
			dbr_listen_stop(d);
			return seterr(err, errlen, "event loop: %s",
			    strerror(errno));
		}
		d->lfds[d->nlfds++] = fd;
	}
	return 0;
}

void
dbr_listen_stop(struct dbr *d)
{
	int	 i;

	for (i = 0; i < d->nlfds; i++)
		ev_fd_close(dbr_loop(d), d->lfds[i]);
	d->nlfds = 0;
}

void
dbr_clients_close_all(struct dbr *d)
{
	while (d->clients != NULL)
		cl_close(d->clients, "dbrouter stops");
}
