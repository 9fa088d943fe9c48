/* dbrouter's backend connections: log in to a server with the client's own
 * account (SHA1(password), recovered when the client logged in, answers
 * the server's scramble), hand the connection to a session, and keep it
 * in the server's pool when the session is done with it.
 *
 * A pooled connection is reset first (COM_RESET_CONNECTION: session
 * variables, temporary tables, prepared statements, locks are gone; the
 * current database stays), so the next session starts from a clean state
 * and replays its own. It is reused only for the same identity: account,
 * capabilities and character set, which decide how the server frames
 * what the session relays untouched.
 *
 * A server that says tls gets, after its greeting, an SSLRequest (seq 1)
 * and a TLS handshake (common/tls, backend-tls's CA and name); the login
 * (seq 2) and everything after it go inside TLS. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "stream.h"
#include "tls.h"
#include "dbr.h"

/* A frame of the largest size, so responses relay frame by frame. */
#define BC_IN_MAX	(MYSQL_HDR_LEN + MYSQL_MAX_FRAME + 65536)

/* Capabilities the router passes through from the client. The rest are
 * off: compression and TLS are per hop, attributes are not forwarded,
 * and CLIENT_MYSQL stays set so no MariaDB extension changes the format
 * of what is relayed. */
#define BC_CAPS_PASSED	(MYSQL_CLIENT_FOUND_ROWS |			\
	MYSQL_CLIENT_LONG_FLAG | MYSQL_CLIENT_NO_SCHEMA |		\
	MYSQL_CLIENT_ODBC | MYSQL_CLIENT_LOCAL_FILES |			\
	MYSQL_CLIENT_IGNORE_SPACE | MYSQL_CLIENT_INTERACTIVE |		\
	MYSQL_CLIENT_IGNORE_SIGPIPE | MYSQL_CLIENT_TRANSACTIONS |	\
	MYSQL_CLIENT_MULTI_STATEMENTS | MYSQL_CLIENT_MULTI_RESULTS |	\
	MYSQL_CLIENT_PS_MULTI_RESULTS | MYSQL_CLIENT_SESSION_TRACK |	\
	MYSQL_CLIENT_DEPRECATE_EOF)
#define BC_CAPS_ALWAYS	(MYSQL_CLIENT_MYSQL | MYSQL_CLIENT_PROTOCOL_41 | \
	MYSQL_CLIENT_SECURE_CONNECTION | MYSQL_CLIENT_PLUGIN_AUTH |	\
	MYSQL_CLIENT_LONG_FLAG | MYSQL_CLIENT_TRANSACTIONS)

static void	bc_io(struct ev_loop *, int, unsigned, void *);

static struct ev_loop *
bc_loop(struct dbr_bconn *bc)
{
	return dbr_loop(bc->srv->dbr);
}

static void
idle_unlink(struct dbr_bconn *bc)
{
	struct dbr_server *s = bc->srv;

	if (bc->iprev != NULL)
		bc->iprev->inext = bc->inext;
	else if (s->idle == bc)
		s->idle = bc->inext;
	else
		return;		/* not in the list */
	if (bc->inext != NULL)
		bc->inext->iprev = bc->iprev;
	bc->inext = bc->iprev = NULL;
	s->nidle--;
}

static void
bc_free(struct dbr_bconn *bc)
{
	struct dbr_server *s = bc->srv;

	idle_unlink(bc);
	if (bc->prev != NULL)
		bc->prev->next = bc->next;
	else
		s->conns = bc->next;
	if (bc->next != NULL)
		bc->next->prev = bc->prev;
	s->nconns--;
	ev_timer_stop(bc_loop(bc), &bc->timer);
	ev_defer_cancel(bc_loop(bc), &bc->kick);
	if (bc->tls != NULL) {
		if (tls_conn_handshake_done(bc->tls))
			(void)tls_close(bc->tls);	/* best effort */
		tls_conn_free(bc->tls);
	}
	if (bc->fd != -1)
		ev_fd_close(bc_loop(bc), bc->fd);
	buf_free(&bc->in);
	buf_free(&bc->out);
	explicit_bzero(&bc->id, sizeof(bc->id));
	free(bc);
}

void
dbr_bconn_close(struct dbr_bconn *bc)
{
	struct dbr_server *s = bc->srv;

	bc_free(bc);
	dbr_server_slot_free(s);
}

static bool
bc_logging_in(const struct dbr_bconn *bc)
{
	return bc->state == BC_CONNECTING || bc->state == BC_GREETING ||
	    bc->state == BC_TLS || bc->state == BC_AUTH;
}

/* The errors of a server that is gone or unreachable. */
static bool
net_errno(int err)
{
	switch (err) {
	case ECONNREFUSED:
	case ECONNRESET:
	case ECONNABORTED:
	case ETIMEDOUT:
	case EHOSTUNREACH:
	case ENETUNREACH:
	case EHOSTDOWN:
	case EPIPE:
	case ENOENT:		/* a unix socket gone with its server */
		return true;
	default:
		return false;
	}
}

/* Broken: tell the owner, if there is one, after it is gone. */
static void
bc_fail(struct dbr_bconn *bc, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void
bc_fail(struct dbr_bconn *bc, const char *fmt, ...)
{
	const struct dbr_bconn_ops *ops = bc->ops;
	struct dbr_server *srv = bc->srv;
	void		*arg = bc->arg;
	bool		 owned = bc->state != BC_IDLE &&
			    bc->state != BC_RESETTING;
	bool		 net = bc->net_failed;
	char		 why[256];
	va_list		 ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	if (bc_logging_in(bc)) {
		bc->srv->connect_failures++;
		log_warnx("server %s: backend connection for %s: %s",
		    bc->srv->name, bc->id.user, why);
		/* the server did not take a connection: passive health (an
		 * ERR it sent, max_connections or a login refused, is an
		 * answer and says it is up) */
		if (net)
			dbr_server_lost(srv, why);
	} else
		log_debug("server %s: backend connection %u: %s",
		    bc->srv->name, bc->thread_id, why);
	dbr_bconn_close(bc);
	if (owned && ops != NULL)
		ops->failed(bc, srv, why, net, arg);
}

/* The same, for a failure of the network (err: the errno, or 0 for a
 * close or a timeout); an errno the network did not cause (EMFILE,
 * ENOMEM, a TLS error) is an ordinary failure. */
static void
bc_net_fail(struct dbr_bconn *bc, int err, const char *what)
{
	bc->net_failed = err == 0 || net_errno(err);
	if (err != 0)
		bc_fail(bc, "%s: %s", what, bc->tls != NULL ?
		    tls_conn_error(bc->tls) : strerror(err));
	else
		bc_fail(bc, "%s", what);
}

static void
bc_timeout(struct ev_loop *loop, void *arg)
{
	struct dbr_bconn *bc = arg;

	(void)loop;
	if (bc->state == BC_IDLE) {
		log_debug("server %s: idle backend connection %u closed",
		    bc->srv->name, bc->thread_id);
		dbr_bconn_close(bc);
		return;
	}
	bc_net_fail(bc, 0, "no answer within connect-timeout");
}

static struct stream
bc_stream(const struct dbr_bconn *bc)
{
	return (struct stream){ .fd = bc->fd, .tls = bc->tls };
}

static void
bc_watch(struct dbr_bconn *bc)
{
	unsigned ev = bc->paused ? 0 : EV_READ;
	struct stream st = bc_stream(bc);

	if (bc->state == BC_TLS && bc->tls != NULL)
		return;		/* the handshake says what it waits for */
	if (bc->state == BC_CONNECTING || buf_used(&bc->out) > 0)
		ev |= EV_WRITE;
	ev_fd_mod(bc_loop(bc), bc->fd, ev);
	if ((ev & EV_READ) && stream_pending(&st))
		ev_defer(bc_loop(bc), &bc->kick);
}

void
dbr_bconn_send(struct dbr_bconn *bc)
{
	struct stream	 st = bc_stream(bc);
	unsigned	 want;

	if (stream_flush(&st, &bc->out, &want) == STREAM_ERROR) {
		bc_net_fail(bc, errno, "write");
		return;
	}
	bc_watch(bc);
}

static int
bc_frame(struct dbr_bconn *bc, struct mysql_frame *f)
{
	int	 rv = mysql_frame_peek(buf_head(&bc->in), buf_used(&bc->in), f);

	if (rv == MYSQL_PACKET && f->continued) {
		bc_fail(bc, "a login packet spans frames");
		return MYSQL_ERROR;
	}
	return rv;
}

static void
bc_consume(struct dbr_bconn *bc, const struct mysql_frame *f)
{
	buf_consume(&bc->in, MYSQL_HDR_LEN + f->len);
}

static void
bc_owned(struct dbr_bconn *bc)
{
	bc->state = BC_OWNED;
	ev_timer_stop(bc_loop(bc), &bc->timer);
	bc->ops->ready(bc, bc->arg);
}

/* A HandshakeResponse41 (or SSLRequest) framed into bc->out with the next
 * sequence id; on failure bc has failed and -1 says so. */
static int
bc_write_resp(struct dbr_bconn *bc, const struct mysql_handshake_resp *r)
{
	size_t		 used = buf_used(&bc->out);
	struct buf	 payload;
	int		 rv;

	buf_init(&payload, 0);
	rv = mysql_handshake_resp_build(&payload, r) == -1 ||
	    mysql_write(&bc->out, &bc->seq, buf_head(&payload),
	    buf_used(&payload)) == -1 ? -1 : 0;
	buf_free(&payload);
	if (rv == -1) {
		mysql_buf_truncate(&bc->out, used);
		bc_fail(bc, "out of memory");
	}
	return rv;
}

/* The login: HandshakeResponse41 with the client's account, after the
 * greeting or, with TLS, inside it. */
static void
bc_login_send(struct dbr_bconn *bc)
{
	struct mysql_handshake_resp r = { 0 };
	uint8_t		 auth[20];

	r.caps = bc->caps;
	r.max_packet = 1u << 30;
	r.charset = bc->id.charset;
	r.user.p = bc->id.user;
	r.user.len = strlen(bc->id.user);
	if (bc->id.has_password) {
		mysql_native_response(bc->id.stage1, bc->scramble, auth);
		r.auth.p = (const char *)auth;
		r.auth.len = sizeof(auth);
	}
	r.auth_plugin.p = MYSQL_NATIVE_PLUGIN;
	r.auth_plugin.len = strlen(MYSQL_NATIVE_PLUGIN);
	if (bc_write_resp(bc, &r) == -1)
		return;
	bc->state = BC_AUTH;
	dbr_bconn_send(bc);
}

/* Drive the TLS client handshake: the SSLRequest goes out in the clear
 * first, then TLS, then the login inside it. */
static void
bc_tls(struct dbr_bconn *bc)
{
	const struct dbr_conf *conf = bc->srv->dbr->conf;
	struct stream	 st = bc_stream(bc);
	unsigned	 want;
	char		 err[256];
	int		 rc;

	if (bc->tls == NULL) {
		if (stream_flush(&st, &bc->out, &want) == STREAM_ERROR) {
			bc_net_fail(bc, errno, "write");
			return;
		}
		if (buf_used(&bc->out) > 0) {
			ev_fd_mod(bc_loop(bc), bc->fd, EV_WRITE);
			return;
		}
		if (conf->backend_tls.tls == NULL) {
			bc_fail(bc, "TLS: no backend-tls configured");
			return;
		}
		/* The name checked is backend-tls's name, else the host. */
		if ((bc->tls = tls_conn_new(conf->backend_tls.tls, bc->fd,
		    conf->backend_tls.name != NULL ? conf->backend_tls.name :
		    bc->srv->conf->host, err, sizeof(err))) == NULL) {
			bc_fail(bc, "TLS: %s", err);
			return;
		}
	}
	if ((rc = tls_handshake(bc->tls)) == TLS_ERR) {
		bc_fail(bc, "TLS: %s", tls_conn_error(bc->tls));
		return;
	}
	if (rc != 0) {
		ev_fd_mod(bc_loop(bc), bc->fd, tls_want_events(rc));
		return;
	}
	log_debug("server %s: backend connection %u: %s %s", bc->srv->name,
	    bc->thread_id, tls_conn_version(bc->tls), tls_conn_cipher(bc->tls));
	bc_login_send(bc);
}

static void
bc_greeting(struct dbr_bconn *bc, const struct mysql_frame *f)
{
	struct mysql_handshake_in hs;
	char		 err[128];

	if (f->len > 0 && f->payload[0] == MYSQL_HDR_ERR) {
		struct mysql_err e;

		if (mysql_err_parse(f->payload, f->len, &e) == 0)
			bc_fail(bc, "server refused: %.*s", (int)e.message.len,
			    e.message.p);
		else
			bc_fail(bc, "server refused the connection");
		return;
	}
	if (mysql_handshake_parse(f->payload, f->len, &hs, err,
	    sizeof(err)) == -1) {
		bc_fail(bc, "bad handshake: %s", err);
		return;
	}
	if ((hs.h.caps & MYSQL_CLIENT_PROTOCOL_41) == 0 ||
	    (hs.h.caps & MYSQL_CLIENT_SECURE_CONNECTION) == 0) {
		bc_fail(bc, "server too old (no PROTOCOL_41)");
		return;
	}
	bc->thread_id = hs.h.conn_id;
	bc->caps = ((bc->id.caps & BC_CAPS_PASSED) | BC_CAPS_ALWAYS) &
	    (hs.h.caps | MYSQL_CLIENT_MYSQL);
	memcpy(bc->scramble, hs.h.scramble, sizeof(bc->scramble));
	bc->seq = (uint8_t)(f->seq + 1);
	bc_consume(bc, f);
	if (!bc->srv->conf->tls) {
		bc_login_send(bc);
		return;
	}
	if ((hs.h.caps & MYSQL_CLIENT_SSL) == 0) {
		bc_fail(bc, "tls is configured but the server does not offer "
		    "TLS (no CLIENT_SSL in its greeting: ssl_cert unset?)");
		return;
	}
	if (buf_used(&bc->in) > 0) {
		bc_fail(bc, "bytes after the greeting, before TLS");
		return;
	}
	bc->caps |= MYSQL_CLIENT_SSL;
	{
		struct mysql_handshake_resp r = { .caps = bc->caps,
		    .max_packet = 1u << 30, .charset = bc->id.charset,
		    .ssl_request = true };

		if (bc_write_resp(bc, &r) == -1)
			return;
	}
	bc->state = BC_TLS;
	bc_tls(bc);
}

/* The server's answer to the login: OK, ERR, or a switch to native with
 * a new scramble. */
static void
bc_auth(struct dbr_bconn *bc, const struct mysql_frame *f)
{
	struct mysql_str plugin, data;
	struct mysql_err e;
	uint8_t		 auth[20];
	uint8_t		 seq;

	if (f->len == 0) {
		bc_fail(bc, "empty login answer");
		return;
	}
	switch (f->payload[0]) {
	case MYSQL_HDR_OK:
		bc_consume(bc, f);
		bc_owned(bc);
		return;
	case MYSQL_HDR_ERR:
		if (mysql_err_parse(f->payload, f->len, &e) == 0)
			bc_fail(bc, "login refused: %u %.*s", e.code,
			    (int)e.message.len, e.message.p);
		else
			bc_fail(bc, "login refused");
		return;
	case MYSQL_HDR_EOF:
		if (mysql_auth_switch_parse(f->payload, f->len, &plugin,
		    &data) == -1 || !mysql_str_eq(&plugin, MYSQL_NATIVE_PLUGIN) ||
		    data.len < MYSQL_SCRAMBLE_LEN) {
			bc_fail(bc, "the server wants an authentication "
			    "method other than mysql_native_password");
			return;
		}
		seq = (uint8_t)(f->seq + 1);
		if (bc->id.has_password)
			mysql_native_response(bc->id.stage1,
			    (const uint8_t *)data.p, auth);
		bc_consume(bc, f);
		if (mysql_write(&bc->out, &seq, auth,
		    bc->id.has_password ? sizeof(auth) : 0) == -1) {
			bc_fail(bc, "out of memory");
			return;
		}
		dbr_bconn_send(bc);
		return;
	default:
		bc_fail(bc, "unexpected login answer 0x%02x", f->payload[0]);
	}
}

static void
bc_reset_done(struct dbr_bconn *bc, const struct mysql_frame *f)
{
	struct dbr_server *s = bc->srv;

	if (f->len == 0 || f->payload[0] != MYSQL_HDR_OK) {
		bc_fail(bc, "COM_RESET_CONNECTION failed");
		return;
	}
	bc_consume(bc, f);
	bc->state = BC_IDLE;
	bc->idle_since = ev_now(bc_loop(bc));
	bc->inext = s->idle;
	if (s->idle != NULL)
		s->idle->iprev = bc;
	s->idle = bc;
	s->nidle++;
	ev_timer_start(bc_loop(bc), &bc->timer, s->dbr->conf->backend_idle_ms);
	dbr_server_slot_free(s);
}

/* Bytes from the server during login, reset or while pooled. */
static void
bc_login_input(struct dbr_bconn *bc)
{
	struct mysql_frame f;
	int		 rv;

	while (bc->state != BC_OWNED &&
	    (rv = bc_frame(bc, &f)) == MYSQL_PACKET) {
		switch (bc->state) {
		case BC_GREETING:
			bc_greeting(bc, &f);
			break;
		case BC_AUTH:
			bc_auth(bc, &f);
			break;
		case BC_RESETTING:
			bc_reset_done(bc, &f);
			break;
		default:
			bc_fail(bc, "unexpected bytes from the server");
			return;
		}
		return;	/* bc may be gone; one packet per wake-up */
	}
}

static void
bc_io(struct ev_loop *loop, int fd, unsigned events, void *arg)
{
	struct dbr_bconn *bc = arg;
	struct stream	 st = bc_stream(bc);
	unsigned	 want;
	int		 rv;

	(void)loop;
	if (bc->state == BC_TLS) {
		bc_tls(bc);
		return;
	}
	if (bc->state == BC_CONNECTING) {
		if (net_connect_finish(fd) == -1) {
			bc_net_fail(bc, errno, "connect");
			return;
		}
		bc->state = BC_GREETING;
		bc_watch(bc);
		return;
	}
	if (events & EV_WRITE) {
		dbr_bconn_send(bc);
		return;		/* input comes on the next wake-up */
	}
	if ((rv = stream_fill(&st, &bc->in, &want)) == STREAM_ERROR) {
		bc_net_fail(bc, errno, "read");
		return;
	}
	if (rv == 0) {
		bc_net_fail(bc, 0, "the server closed the connection");
		return;
	}
	if (bc->state == BC_OWNED)
		bc->ops->input(bc, bc->arg);
	else if (bc->state == BC_IDLE)
		bc_fail(bc, "the server spoke while the connection was idle");
	else
		bc_login_input(bc);
}

static void
bc_kick(struct ev_loop *loop, void *arg)
{
	struct dbr_bconn *bc = arg;

	bc_io(loop, bc->fd, EV_READ, bc);
}

static bool
same_ident(const struct dbr_ident *a, const struct dbr_ident *b)
{
	return strcmp(a->user, b->user) == 0 &&
	    a->has_password == b->has_password &&
	    memcmp(a->stage1, b->stage1, sizeof(a->stage1)) == 0 &&
	    a->caps == b->caps && a->charset == b->charset;
}

static struct dbr_bconn *
bc_connect(struct dbr_server *s, const struct dbr_ident *id, char *why,
    size_t whylen)
{
	struct dbr_bconn *bc;
	struct dbr	*d = s->dbr;

	if ((bc = calloc(1, sizeof(*bc))) == NULL) {
		snprintf(why, whylen, "out of memory");
		return NULL;
	}
	bc->srv = s;
	bc->id = *id;
	buf_init(&bc->in, BC_IN_MAX);
	buf_init(&bc->out, d->conf->max_packet + 2 * MYSQL_HDR_LEN +
	    d->conf->max_packet / MYSQL_MAX_FRAME * MYSQL_HDR_LEN + 4096);
	ev_timer_init(&bc->timer, bc_timeout, bc);
	ev_deferred_init(&bc->kick, bc_kick, bc);
	if ((bc->fd = net_connect(&s->conf->addr, why, whylen)) == -1) {
		int	 err = errno;

		s->connect_failures++;
		free(bc);
		if (net_errno(err))
			dbr_server_lost(s, why);
		return NULL;
	}
	net_set_nodelay(bc->fd);
	if (ev_fd_add(dbr_loop(d), bc->fd, EV_WRITE, bc_io, bc) == -1) {
		snprintf(why, whylen, "event loop: %s", strerror(errno));
		close(bc->fd);
		free(bc);
		return NULL;
	}
	bc->state = BC_CONNECTING;
	bc->next = s->conns;
	if (s->conns != NULL)
		s->conns->prev = bc;
	s->conns = bc;
	s->nconns++;
	ev_timer_start(dbr_loop(d), &bc->timer, d->conf->connect_timeout_ms);
	return bc;
}

struct dbr_bconn *
dbr_bconn_get(struct dbr_server *s, const struct dbr_ident *id,
    const struct dbr_bconn_ops *ops, void *arg, char *why, size_t whylen)
{
	struct dbr_bconn *bc, *oldest = NULL;

	for (bc = s->idle; bc != NULL; bc = bc->inext) {
		if (same_ident(&bc->id, id))
			break;
		oldest = bc;
	}
	if (bc != NULL) {
		idle_unlink(bc);
		ev_timer_stop(dbr_loop(s->dbr), &bc->timer);
		bc->ops = ops;
		bc->arg = arg;
		bc->state = BC_OWNED;
		return bc;
	}
	if (s->nconns >= s->dbr->conf->backend_max) {
		if (oldest == NULL) {
			snprintf(why, whylen, "server %s: all %u backend "
			    "connections in use", s->name, s->nconns);
			return NULL;
		}
		/* Someone else's idle connection makes room. */
		bc_free(oldest);
	}
	if ((bc = bc_connect(s, id, why, whylen)) == NULL)
		return NULL;
	bc->ops = ops;
	bc->arg = arg;
	return bc;
}

void
dbr_bconn_pause(struct dbr_bconn *bc, bool paused)
{
	if (bc->paused == paused)
		return;
	bc->paused = paused;
	bc_watch(bc);
}

void
dbr_bconn_put(struct dbr_bconn *bc, bool reusable)
{
	uint8_t		 seq = 0;
	uint8_t		 cmd = MYSQL_COM_RESET_CONNECTION;

	bc->ops = NULL;
	bc->arg = NULL;
	bc->paused = false;
	if (!reusable || bc->state != BC_OWNED || buf_used(&bc->in) > 0 ||
	    bc->srv->dbr->stopping) {
		dbr_bconn_close(bc);
		return;
	}
	buf_reset(&bc->out);
	if (mysql_write(&bc->out, &seq, &cmd, 1) == -1) {
		dbr_bconn_close(bc);
		return;
	}
	bc->state = BC_RESETTING;
	ev_timer_start(bc_loop(bc), &bc->timer,
	    bc->srv->dbr->conf->connect_timeout_ms);
	dbr_bconn_send(bc);
}

void
dbr_bconns_close_all(struct dbr_server *s)
{
	while (s->conns != NULL)
		bc_fail(s->conns, "closed by dbrouter");
}

void
dbr_bconns_close_idle(struct dbr_server *s)
{
	while (s->idle != NULL)
		bc_free(s->idle);
}

unsigned
dbr_bconns_busy(const struct dbr_server *s)
{
	return s->nconns - s->nidle;
}
