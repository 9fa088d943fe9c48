/* dbrouter's routing: where each command of a session goes, and the
 * relaying of the answer.
 *
 * A session holds at most two backend connections, one to the writer
 * (the primary slot) and one to a replica. Writes, anything in a
 * transaction (the primary's status flags say so: IN_TRANS, and
 * autocommit off), reads that need the primary (FOR UPDATE, LOCK IN SHARE
 * MODE, LAST_INSERT_ID(), ...) and state that lives in one connection
 * (temporary tables, GET_LOCK, LOCK TABLES, SQL PREPARE: the session is
 * then pinned to the primary) go to the primary slot; other reads go to a
 * replica that is up and within max-lag, or to the primary when there is
 * none. Session state that can be replayed (SET of session and user
 * variables, SET NAMES, USE) is kept in order and run on a connection
 * before the session first uses it there. Prepared statements get ids of
 * the router's own; each is prepared on a connection the first time it
 * runs there, and executions that bound their parameter types once are
 * given those types again on a new connection.
 *
 * Before the client's command goes out on a connection, the connection is
 * brought along in steps (database, replayed statements, prepare), each
 * answered to the router, not relayed; then the command is sent and its
 * answer relayed frame by frame, untouched but for the sequence ids and
 * the statement id of COM_STMT_PREPARE_OK. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "metrics.h"
#include "dbr_client.h"

#define ER_UNKNOWN_STMT_HANDLER	1243
#define ER_UNKNOWN_COM_ERROR	1047
#define ER_CONNECTION_KILLED	1927
#define ER_ACCESS_DENIED	1045
/* Not the client library's 2013 and 2003: libmariadb takes a code in its
 * own range from a server for a malformed packet and drops the message.
 * 9001 is what ProxySQL answers when no backend could be reached. */
#define ER_NO_BACKEND		9001
#define MAX_REPLAY		64
#define MAX_RETRIES		2

static void	slot_ready(struct dbr_bconn *, void *);
static void	slot_input(struct dbr_bconn *, void *);
static void	slot_failed(struct dbr_bconn *, struct dbr_server *,
		    const char *, bool, void *);
static void	route_go(struct dbr_client *);
static void	route_step(struct dbr_client *);

static const struct dbr_bconn_ops slot_ops = {
	.ready = slot_ready,
	.input = slot_input,
	.failed = slot_failed,
};

static const char *const slot_names[NSLOTS] = { "primary", "replica" };

static int
slot_of(struct dbr_client *c, struct dbr_bconn *bc)
{
	int	 i;

	for (i = 0; i < NSLOTS; i++)
		if (c->slot[i].bc == bc)
			return i;
	return -1;
}

static void
slot_release(struct dbr_client *c, int i, bool reusable)
{
	struct cl_stmt	*st;

	if (c->slot[i].bc != NULL)
		dbr_bconn_put(c->slot[i].bc, reusable);
	c->slot[i].bc = NULL;
	c->slot[i].replayed = 0;
	for (st = c->stmts; st != NULL; st = st->next) {
		st->prepared[i] = false;
		if (st->last_slot == i)
			st->last_slot = -1;
	}
	if (c->last_slot == i)
		c->last_slot = -1;
}

void
route_release_all(struct dbr_client *c)
{
	int	 i;

	for (i = 0; i < NSLOTS; i++)
		slot_release(c, i, c->state == CL_IDLE);
}

static void
stmt_free(struct dbr_client *c, struct cl_stmt *st)
{
	struct cl_stmt **pp;

	for (pp = &c->stmts; *pp != NULL; pp = &(*pp)->next)
		if (*pp == st) {
			*pp = st->next;
			break;
		}
	free(st->sql);
	free(st->types);
	free(st);
}

void
route_session_reset(struct dbr_client *c, bool keep_conns)
{
	unsigned i;

	for (i = 0; i < NSLOTS; i++)
		if (!keep_conns)
			slot_release(c, (int)i, true);
	while (c->stmts != NULL)
		stmt_free(c, c->stmts);
	for (i = 0; i < c->nreplay; i++)
		free(c->replay[i]);
	free(c->replay);
	c->replay = NULL;
	c->nreplay = 0;
	c->pinned = false;
	c->ryw_gtid[0] = '\0';
	c->ryw_reached = NULL;
	c->in_trans = false;
	c->autocommit_off = false;
	c->status = MYSQL_STATUS_AUTOCOMMIT;
	c->last_slot = -1;
}

static struct cl_stmt *
stmt_find(struct dbr_client *c, uint32_t id)
{
	struct cl_stmt *st;

	for (st = c->stmts; st != NULL; st = st->next)
		if (st->id == id)
			return st;
	return NULL;
}

/* ---- where to ---- */

static bool
usable(const struct dbr_server *s)
{
	return s->up && s->admin == ADMIN_READY;
}

static bool
writer_ok(const struct dbr *d)
{
	return d->writer != NULL && d->writer->up &&
	    d->writer->admin != ADMIN_MAINT;
}

/* A replica fit for reads: up, applying, within max-lag. When its
 * primary dies the lag becomes unknown (the IO thread reconnects): it
 * stays fit for max-lag after it was last known within it, and for as
 * long as there is no writer, since it is then the freshest data there
 * is. */
static bool
replica_fit(const struct dbr *d, const struct dbr_server *s)
{
	const struct dbr_health *h = &s->health;

	if (!usable(s) || s->role != ROLE_REPLICA || s == d->writer ||
	    !h->sql_running)
		return false;
	if (h->lag >= 0)
		return (uint64_t)h->lag * 1000 <= d->conf->max_lag_ms;
	if (!writer_ok(d))
		return true;
	return s->lag_ok_at != 0 &&
	    ev_now(dbr_loop(s->dbr)) - s->lag_ok_at <= d->conf->max_lag_ms;
}

static struct dbr_server *
replica_pick(struct dbr_client *c)
{
	struct dbr	*d = c->d;
	struct dbr_bconn *bc = c->slot[SLOT_REPLICA].bc;
	int		 i, n;

	if (bc != NULL && replica_fit(d, bc->srv))
		return bc->srv;
	for (i = 0; i < d->nservers; i++) {
		n = (int)((d->replica_rr + (unsigned)i) % (unsigned)d->nservers);
		if (replica_fit(d, d->servers[n])) {
			d->replica_rr = (unsigned)n + 1;
			return d->servers[n];
		}
	}
	return NULL;
}

/* The slot for a statement of this class, given the session's state. */
static int
target_for(struct dbr_client *c, enum qc_class cls, unsigned flags,
    enum ql_hint hint)
{
	if (c->pinned || c->in_trans || c->autocommit_off)
		return SLOT_PRIMARY;
	if ((flags & QC_PREV_BACKEND) && c->last_slot >= 0)
		return c->last_slot;
	if (hint == QL_HINT_PRIMARY)
		return SLOT_PRIMARY;
	if (cls == QC_READ && (flags & (QC_PRIMARY | QC_UNTERMINATED)) == 0)
		return SLOT_REPLICA;
	return SLOT_PRIMARY;
}

/* ---- state kept for replay ---- */

/* The database of "USE db" (the classifier said it is one). */
static bool
use_target(const char *sql, size_t len, char *db, size_t dblen)
{
	struct ql_lexer	 lx;
	struct ql_token	 t;
	size_t		 n;

	ql_init(&lx, sql, len, false);
	ql_next(&lx, &t);		/* USE */
	ql_next(&lx, &t);
	if (t.type != QL_WORD && t.type != QL_IDENT)
		return false;
	n = t.len;
	if (t.type == QL_IDENT) {
		if (n < 2)
			return false;
		n -= 2;
	}
	if (n == 0 || n >= dblen)
		return false;
	memcpy(db, t.type == QL_IDENT ? t.p + 1 : t.p, n);
	db[n] = '\0';
	return true;
}

static int
replay_add(struct dbr_client *c, const char *sql, size_t len)
{
	char	**v, *s;

	if (c->nreplay == MAX_REPLAY) {
		/* Too much to replay: keep to one connection instead. */
		c->pinned = true;
		snprintf(c->pin_why, sizeof(c->pin_why), "over %d SETs",
		    MAX_REPLAY);
		return 0;
	}
	if ((s = strndup(sql, len)) == NULL)
		return -1;
	if ((v = reallocarray(c->replay, c->nreplay + 1, sizeof(*v))) == NULL) {
		free(s);
		return -1;
	}
	c->replay = v;
	c->replay[c->nreplay++] = s;
	return 0;
}

/* ---- sending ---- */

static int
bc_command(struct dbr_bconn *bc, const void *payload, size_t len)
{
	uint8_t	 seq = 0;

	if (mysql_write(&bc->out, &seq, payload, len) == -1)
		return -1;
	dbr_bconn_send(bc);
	return 0;
}

static int
bc_command2(struct dbr_bconn *bc, uint8_t cmd, const void *arg, size_t len)
{
	struct buf	 p;
	int		 rv;

	buf_init(&p, 0);
	if (buf_append(&p, &cmd, 1) == -1 || buf_append(&p, arg, len) == -1)
		rv = -1;
	else
		rv = bc_command(bc, buf_head(&p), buf_used(&p));
	buf_free(&p);
	return rv;
}

static uint8_t
cmd_code(const struct dbr_client *c)
{
	return (uint8_t)buf_head(&c->cmd)[0];
}

/* Offset of new_params_bound_flag in a COM_STMT_EXECUTE of st, or 0
 * when it has no parameters or the packet is too short. */
static size_t
bound_flag_at(const struct dbr_client *c, const struct cl_stmt *st)
{
	size_t	 at = 1 + 4 + 1 + 4 + ((size_t)st->params + 7) / 8;

	if (st->params == 0 || buf_used(&c->cmd) <= at)
		return 0;
	return at;
}

/* COM_STMT_EXECUTE for the target: the backend's statement id, and the
 * parameter types when the client bound them on another connection. */
static int
send_execute(struct dbr_client *c, struct dbr_bconn *bc, struct cl_stmt *st)
{
	uint8_t		*p = (uint8_t *)buf_head(&c->cmd);
	size_t		 len = buf_used(&c->cmd);
	size_t		 at = bound_flag_at(c, st);
	struct buf	 q;
	int		 rv;

	mysql_stmt_id_set(p, len, st->backend_id[c->target]);
	if (at == 0)
		return bc_command(bc, p, len);
	if (p[at] == 1) {
		if (len < at + 1 + 2 * (size_t)st->params)
			return bc_command(bc, p, len);	/* the server says */
		free(st->types);
		if ((st->types = malloc(2 * (size_t)st->params)) == NULL)
			return -1;
		memcpy(st->types, p + at + 1, 2 * (size_t)st->params);
		return bc_command(bc, p, len);
	}
	if (st->types == NULL || st->last_slot == c->target)
		return bc_command(bc, p, len);
	/* New on this connection: give the types the client bound. */
	buf_init(&q, 0);
	rv = buf_append(&q, p, at) == -1 || buf_append(&q, "\1", 1) == -1 ||
	    buf_append(&q, st->types, 2 * (size_t)st->params) == -1 ||
	    buf_append(&q, p + at + 1, len - at - 1) == -1 ? -1 :
	    bc_command(bc, buf_head(&q), buf_used(&q));
	buf_free(&q);
	return rv;
}

static void
count_query(struct dbr_client *c, struct dbr_server *s)
{
	struct metric_series **ms = &s->m_queries[c->target];

	s->queries++;
	/* Looked up once per server and slot: this runs every query. */
	if (*ms == NULL)
		*ms = metric_with(c->d->m_queries, (const char *const[]){
		    s->name, slot_names[c->target], NULL });
	counter_inc(*ms);
}

/* The client's command itself, on the target's connection. */
static void
send_command(struct dbr_client *c)
{
	struct dbr_bconn *bc = c->slot[c->target].bc;
	struct cl_stmt	*st = c->cmd_stmt;
	uint8_t		 cmd = cmd_code(c);
	enum mysql_reply kind = mysql_cmd_reply(cmd);
	int		 rv;

	c->step = STEP_COMMAND;
	c->relayed = false;
	mysql_resp_start(&c->resp, kind, bc->caps);
	count_query(c, bc->srv);
	if (st != NULL && cmd == MYSQL_COM_STMT_EXECUTE)
		rv = send_execute(c, bc, st);
	else if (st != NULL && cmd != MYSQL_COM_STMT_PREPARE) {
		mysql_stmt_id_set((uint8_t *)buf_head(&c->cmd),
		    buf_used(&c->cmd), st->backend_id[c->target]);
		rv = bc_command(bc, buf_head(&c->cmd), buf_used(&c->cmd));
	} else
		rv = bc_command(bc, buf_head(&c->cmd), buf_used(&c->cmd));
	if (rv == -1) {
		cl_close(c, "out of memory");
		return;
	}
	if (st != NULL && cmd != MYSQL_COM_STMT_PREPARE)
		st->last_slot = c->target;
	if (kind == MYSQL_REPLY_NONE) {
		/* SEND_LONG_DATA: no answer comes. */
		c->last_slot = c->target;
		cl_command_done(c);
	}
}

/* ---- read-your-writes ---- */

/* The statement just answered changed data: a write, or the end of a
 * transaction. */
static bool
command_wrote(const struct dbr_client *c)
{
	const struct cl_stmt *st = c->cmd_stmt;
	uint8_t		 cmd = cmd_code(c);

	if (cmd == MYSQL_COM_QUERY && c->qc_valid)
		return c->qc.cls == QC_WRITE || (c->qc.flags & QC_TRX_END);
	if ((cmd == MYSQL_COM_STMT_EXECUTE ||
	    cmd == MYSQL_COM_STMT_BULK_EXECUTE) && st != NULL)
		return st->cls == QC_WRITE || (st->flags & QC_TRX_END);
	return false;
}

/* The first column of the first row of a one-value step's answer. */
static void
step_value(struct dbr_client *c, const struct mysql_frame *f)
{
	struct mysql_cur cur;
	struct mysql_str v;

	c->step_value[0] = '\0';
	if (c->step != STEP_GTID_WAIT && c->step != STEP_LAST_GTID)
		return;
	mysql_cur_init(&cur, f->payload, f->len);
	if (mysql_get_lenenc_str(&cur, &v) == 0 &&
	    v.len < sizeof(c->step_value)) {
		memcpy(c->step_value, v.p, v.len);
		c->step_value[v.len] = '\0';
	}
}

static int
ryw_last_gtid_send(struct dbr_client *c, struct dbr_bconn *bc)
{
	static const char q[] = "SELECT @@last_gtid";

	c->step = STEP_LAST_GTID;
	c->step_value[0] = '\0';
	mysql_resp_start(&c->resp, MYSQL_REPLY_RESULTSET, bc->caps);
	return bc_command2(bc, MYSQL_COM_QUERY, q, sizeof(q) - 1);
}

/* A GTID as servers print them: domain-server-seqno, comma separated. */
static bool
gtid_valid(const char *g)
{
	return g[0] != '\0' && strspn(g, "0123456789-,") == strlen(g);
}

static void
ryw_note(struct dbr_client *c, const char *gtid)
{
	if (!gtid_valid(gtid))
		return;		/* nothing binlogged: nothing to wait for */
	snprintf(c->ryw_gtid, sizeof(c->ryw_gtid), "%s", gtid);
	c->ryw_reached = NULL;
}

static int
ryw_wait_send(struct dbr_client *c, struct dbr_bconn *bc)
{
	char	 q[DBR_GTID_MAX + 64];
	int	 n;

	n = snprintf(q, sizeof(q), "SELECT MASTER_GTID_WAIT('%s', %.3f)",
	    c->ryw_gtid, (double)c->d->conf->ryw_timeout_ms / 1000);
	c->step = STEP_GTID_WAIT;
	c->step_value[0] = '\0';
	mysql_resp_start(&c->resp, MYSQL_REPLY_RESULTSET, bc->caps);
	return bc_command2(bc, MYSQL_COM_QUERY, q, (size_t)n);
}

/* The replica did not catch up in time: this read goes to the primary. */
static void
ryw_fallback(struct dbr_client *c, struct dbr_server *s)
{
	log_debug("client %s (%u): server %s has not applied %s within "
	    "read-your-writes-timeout; reading from the primary", c->peer,
	    c->conn_id, s->name, c->ryw_gtid);
	counter_inc(metric_with(c->d->m_ryw, (const char *const[]){
	    "primary", NULL }));
}

/* Bring the target's connection along, one step per round trip, then
 * send the command. */
static void
route_step(struct dbr_client *c)
{
	struct cl_slot	*sl = &c->slot[c->target];
	struct dbr_bconn *bc = sl->bc;
	struct cl_stmt	*st = c->cmd_stmt;
	int		 rv = 0;

	if (c->db[0] != '\0' && strcmp(bc->db, c->db) != 0) {
		c->step = STEP_INIT_DB;
		mysql_resp_start(&c->resp, MYSQL_REPLY_OK, bc->caps);
		rv = bc_command2(bc, MYSQL_COM_INIT_DB, c->db, strlen(c->db));
	} else if (sl->replayed < c->nreplay) {
		c->step = STEP_REPLAY;
		mysql_resp_start(&c->resp, MYSQL_REPLY_RESULTSET, bc->caps);
		rv = bc_command2(bc, MYSQL_COM_QUERY, c->replay[sl->replayed],
		    strlen(c->replay[sl->replayed]));
	} else if (st != NULL && cmd_code(c) != MYSQL_COM_STMT_PREPARE &&
	    !st->prepared[c->target]) {
		c->step = STEP_PREPARE;
		mysql_resp_start(&c->resp, MYSQL_REPLY_PREPARE, bc->caps);
		rv = bc_command2(bc, MYSQL_COM_STMT_PREPARE, st->sql,
		    st->sql_len);
	} else if (c->target == SLOT_REPLICA && c->ryw_gtid[0] != '\0' &&
	    c->ryw_reached != bc->srv) {
		rv = ryw_wait_send(c, bc);
	} else {
		send_command(c);
		return;
	}
	if (rv == -1)
		cl_close(c, "out of memory");
}

/* ---- getting a connection ---- */

/* A wait (for a writer, for a free backend connection) ran out. */
static bool
waited_out(struct dbr_client *c)
{
	return c->wait_until != 0 && ev_now(dbr_loop(c->d)) >= c->wait_until;
}

static void
wait_for_slot(struct dbr_client *c, struct dbr_server *s)
{
	struct dbr_client **pp = &s->waiters;

	while (*pp != NULL)
		pp = &(*pp)->wnext;
	*pp = c;
	c->wnext = NULL;
	c->waiting_on = s;
	if (c->wait_until == 0) {
		c->wait_until = ev_now(dbr_loop(c->d)) + c->d->conf->writer_wait_ms;
		ev_timer_start(dbr_loop(c->d), &c->timer, c->d->conf->writer_wait_ms);
	}
}

static void
stop_waiting(struct dbr_client *c)
{
	if (c->waiting_on != NULL) {
		struct dbr_client **pp = &c->waiting_on->waiters;

		while (*pp != NULL && *pp != c)
			pp = &(*pp)->wnext;
		if (*pp == c)
			*pp = c->wnext;
		c->waiting_on = NULL;
	}
}

void
dbr_server_slot_free(struct dbr_server *s)
{
	struct dbr_client *c = s->waiters;

	if (c == NULL)
		return;
	s->waiters = c->wnext;
	c->waiting_on = NULL;
	route_resume(c);
}

void
dbr_clients_writer_changed(struct dbr *d)
{
	struct dbr_client *c, *next;

	for (c = d->clients; c != NULL; c = next) {
		next = c->next;
		if (c->state == CL_BUSY && c->wait_until != 0 &&
		    c->waiting_on == NULL && c->step == STEP_NONE)
			route_resume(c);
	}
}

/* The primary slot's connection belongs to a writer that is no longer
 * the writer: what the session had there is gone. */
static bool
primary_stale(struct dbr_client *c)
{
	struct cl_slot	*sl = &c->slot[SLOT_PRIMARY];

	if (sl->bc == NULL || sl->writer_gen == c->d->writer_gen)
		return false;
	return true;
}

/* Lost the primary's connection with state on it: the client is told
 * and, when the state cannot come back (pinned), closed. */
static void
primary_lost(struct dbr_client *c, const char *why)
{
	bool	 pinned = c->pinned;

	c->in_trans = false;
	c->autocommit_off = false;
	c->status = MYSQL_STATUS_AUTOCOMMIT;
	cl_error(c, ER_CONNECTION_KILLED, "70100", "dbrouter: %s; %s", why,
	    pinned ? "the session's state on it is lost" :
	    "the transaction was rolled back");
	if (pinned) {
		c->state = CL_CLOSING;
		cl_flush(c);
		return;
	}
	cl_command_done(c);
}

/* Take (or start taking) the connection for c->target. */
static void
route_go(struct dbr_client *c)
{
	struct dbr	*d = c->d;
	struct dbr_server *s = NULL;
	struct cl_slot	*sl;
	char		 why[256];

	stop_waiting(c);
	if (c->target == SLOT_REPLICA) {
		if ((s = replica_pick(c)) == NULL)
			c->target = SLOT_PRIMARY;	/* reads go on */
		else if (c->slot[SLOT_REPLICA].bc != NULL &&
		    c->slot[SLOT_REPLICA].bc->srv != s)
			slot_release(c, SLOT_REPLICA, true);
	}
	if (c->target == SLOT_PRIMARY) {
		if (primary_stale(c)) {
			bool	 had_state = c->in_trans || c->pinned;

			slot_release(c, SLOT_PRIMARY, false);
			if (had_state) {
				primary_lost(c, "the primary changed");
				return;
			}
		}
		if (!writer_ok(d)) {
			if (waited_out(c)) {
				cl_error(c, ER_NO_BACKEND, "HY000",
				    "dbrouter: no primary to write to "
				    "(waited %llu ms)", (unsigned long long)
				    d->conf->writer_wait_ms);
				cl_command_done(c);
				return;
			}
			if (c->wait_until == 0) {
				c->wait_until = ev_now(dbr_loop(d)) +
				    d->conf->writer_wait_ms;
				ev_timer_start(dbr_loop(d), &c->timer,
				    d->conf->writer_wait_ms);
			}
			return;		/* dbr_clients_writer_changed */
		}
		s = d->writer;
	}
	sl = &c->slot[c->target];
	if (sl->bc != NULL) {
		ev_timer_stop(dbr_loop(d), &c->timer);
		c->wait_until = 0;
		if (sl->bc->state == BC_OWNED)
			route_step(c);
		return;		/* still logging in: slot_ready */
	}
	sl->bc = dbr_bconn_get(s, &c->id, &slot_ops, c, why, sizeof(why));
	if (sl->bc == NULL && !s->up) {
		/* refused at once: s is down now (passive), choose again */
		route_go(c);
		return;
	}
	if (sl->bc == NULL) {
		if (s->nconns >= d->conf->backend_max) {
			if (waited_out(c)) {
				cl_error(c, ER_NO_BACKEND, "HY000",
				    "dbrouter: %s (waited %llu ms)", why,
				    (unsigned long long)d->conf->writer_wait_ms);
				cl_command_done(c);
				return;
			}
			wait_for_slot(c, s);
			return;
		}
		if (c->target == SLOT_REPLICA) {
			c->target = SLOT_PRIMARY;
			route_go(c);
			return;
		}
		cl_error(c, ER_NO_BACKEND, "HY000", "dbrouter: %s", why);
		cl_command_done(c);
		return;
	}
	ev_timer_stop(dbr_loop(d), &c->timer);
	c->wait_until = 0;
	sl->replayed = 0;
	if (c->target == SLOT_PRIMARY)
		sl->writer_gen = d->writer_gen;
	if (sl->bc->state == BC_OWNED)
		route_step(c);
}

void
route_resume(struct dbr_client *c)
{
	if (c->state != CL_BUSY || c->step != STEP_NONE)
		return;
	route_go(c);
}

/* ---- commands ---- */

static struct cl_stmt *
stmt_of_command(struct dbr_client *c)
{
	uint32_t	 id;
	struct cl_stmt	*st;

	if (mysql_stmt_id_get((const uint8_t *)buf_head(&c->cmd),
	    buf_used(&c->cmd), &id) == -1) {
		cl_error(c, 1835, "HY000", "Malformed communication packet");
		cl_command_done(c);
		return NULL;
	}
	if ((st = stmt_find(c, id)) == NULL) {
		cl_error(c, ER_UNKNOWN_STMT_HANDLER, "HY000", "Unknown prepared "
		    "statement handler (%u) given to %s", id,
		    mysql_cmd_name(cmd_code(c)));
		cl_command_done(c);
	}
	return st;
}

static void
classify(struct dbr_client *c, const char *sql, size_t len)
{
	qc_classify(sql, len, (c->status & MYSQL_STATUS_NO_BACKSLASH_ESCAPES) ?
	    QC_OPT_NO_BACKSLASH_ESCAPES : 0, &c->qc);
	c->qc_valid = true;
}

static void
command_query(struct dbr_client *c)
{
	const char	*sql = buf_head(&c->cmd) + 1;
	size_t		 len = buf_used(&c->cmd) - 1;
	unsigned	 f;

	classify(c, sql, len);
	f = c->qc.flags;
	if ((f & QC_PIN) && !c->pinned) {
		c->pinned = true;
		snprintf(c->pin_why, sizeof(c->pin_why), "%.*s",
		    (int)(c->qc.verb_len < 40 ? c->qc.verb_len : 40),
		    c->qc.verb != NULL ? c->qc.verb : "?");
	}
	c->target = target_for(c, c->qc.cls, f, c->qc.hint);
	/* Session state runs where the session is now; the other slot
	 * catches up before it is next used. */
	if ((f & QC_REPLAY) && !c->pinned) {
		if (c->slot[SLOT_PRIMARY].bc == NULL &&
		    c->slot[SLOT_REPLICA].bc != NULL && !c->in_trans &&
		    !c->autocommit_off)
			c->target = SLOT_REPLICA;
		else
			c->target = SLOT_PRIMARY;
	}
	route_go(c);
}

static void
command_prepare(struct dbr_client *c)
{
	struct cl_stmt	*st;
	const char	*sql = buf_head(&c->cmd) + 1;
	size_t		 len = buf_used(&c->cmd) - 1;

	if ((st = calloc(1, sizeof(*st))) == NULL ||
	    (st->sql = malloc(len + 1)) == NULL) {
		free(st);
		cl_close(c, "out of memory");
		return;
	}
	memcpy(st->sql, sql, len);
	st->sql[len] = '\0';
	st->sql_len = len;
	classify(c, sql, len);
	st->cls = c->qc.cls;
	st->flags = c->qc.flags;
	st->hint = c->qc.hint;
	st->last_slot = -1;
	st->id = ++c->next_stmt_id;
	st->next = c->stmts;
	c->stmts = st;
	c->cmd_stmt = st;
	c->target = target_for(c, st->cls, st->flags, st->hint);
	route_go(c);
}

static void
command_stmt(struct dbr_client *c)
{
	struct cl_stmt	*st;
	uint8_t		 cmd = cmd_code(c);
	int		 i;

	if ((st = stmt_of_command(c)) == NULL)
		return;
	switch (cmd) {
	case MYSQL_COM_STMT_CLOSE:
		for (i = 0; i < NSLOTS; i++)
			if (st->prepared[i] && c->slot[i].bc != NULL) {
				uint8_t	 close[5] = { MYSQL_COM_STMT_CLOSE };

				mysql_stmt_id_set(close, sizeof(close),
				    st->backend_id[i]);
				if (bc_command(c->slot[i].bc, close,
				    sizeof(close)) == -1) {
					cl_close(c, "out of memory");
					return;
				}
			}
		stmt_free(c, st);
		cl_command_done(c);
		return;
	case MYSQL_COM_STMT_SEND_LONG_DATA:
		st->long_data = true;
		c->target = SLOT_PRIMARY;
		break;
	case MYSQL_COM_STMT_RESET:
	case MYSQL_COM_STMT_FETCH:
		if (st->last_slot < 0 || !st->prepared[st->last_slot]) {
			if (cmd == MYSQL_COM_STMT_RESET) {
				st->long_data = false;
				cl_ok(c);
				cl_command_done(c);
				return;
			}
			cl_error(c, 1421, "HY000", "The statement (%u) has no "
			    "open cursor", st->id);
			cl_command_done(c);
			return;
		}
		c->target = st->last_slot;
		if (cmd == MYSQL_COM_STMT_RESET)
			st->long_data = false;
		break;
	default:	/* EXECUTE, BULK_EXECUTE */
		c->target = st->long_data ? SLOT_PRIMARY :
		    target_for(c, st->cls, st->flags, st->hint);
		break;
	}
	c->cmd_stmt = st;
	route_go(c);
}

static void
command_change_user(struct dbr_client *c)
{
	struct mysql_handshake_resp r;
	const struct dbr_user *u;
	uint16_t	 charset;
	char		 err[128];
	uint8_t		 stage1[20];

	if (mysql_change_user_parse((const uint8_t *)buf_head(&c->cmd),
	    buf_used(&c->cmd), c->caps, &r, &charset, err, sizeof(err)) == -1 ||
	    r.user.len == 0 || r.user.len >= sizeof(c->id.user) ||
	    r.database.len >= sizeof(c->db)) {
		cl_error(c, 1043, "08S01", "Bad handshake");
		c->state = CL_CLOSING;
		cl_flush(c);
		return;
	}
	u = dbr_users_find(&c->d->conf->users, r.user.p, r.user.len);
	if (u == NULL || (r.auth_plugin.len > 0 &&
	    !mysql_str_eq(&r.auth_plugin, MYSQL_NATIVE_PLUGIN)) ||
	    mysql_native_verify(u->has_password ? u->stage2 : NULL,
	    c->scramble, (const uint8_t *)r.auth.p, r.auth.len, stage1) == -1) {
		cl_error(c, ER_ACCESS_DENIED, "28000", "Access denied for user "
		    "'%.*s'@'%s' (using password: %s)", (int)r.user.len,
		    r.user.p, c->host, r.auth.len > 0 ? "YES" : "NO");
		c->state = CL_CLOSING;
		cl_flush(c);
		return;
	}
	route_session_reset(c, false);
	memcpy(c->id.user, r.user.p, r.user.len);
	c->id.user[r.user.len] = '\0';
	memcpy(c->id.stage1, stage1, sizeof(stage1));
	c->id.has_password = u->has_password;
	if (charset != 0)
		c->id.charset = (uint8_t)charset;
	memcpy(c->db, r.database.p, r.database.len);
	c->db[r.database.len] = '\0';
	cl_ok(c);
	cl_command_done(c);
}

void
route_command(struct dbr_client *c)
{
	uint8_t		 cmd = cmd_code(c);

	c->qc_valid = false;
	c->cmd_stmt = NULL;
	c->step = STEP_NONE;
	c->wait_until = 0;
	c->retries = 0;
	c->relayed = false;
	switch (cmd) {
	case MYSQL_COM_PING:
		cl_ok(c);
		cl_command_done(c);
		return;
	case MYSQL_COM_QUERY:
		command_query(c);
		return;
	case MYSQL_COM_INIT_DB:
		c->target = c->slot[SLOT_PRIMARY].bc == NULL &&
		    c->slot[SLOT_REPLICA].bc != NULL && !c->pinned &&
		    !c->in_trans ? SLOT_REPLICA : SLOT_PRIMARY;
		route_go(c);
		return;
	case MYSQL_COM_STMT_PREPARE:
		command_prepare(c);
		return;
	case MYSQL_COM_STMT_EXECUTE:
	case MYSQL_COM_STMT_BULK_EXECUTE:
	case MYSQL_COM_STMT_CLOSE:
	case MYSQL_COM_STMT_RESET:
	case MYSQL_COM_STMT_FETCH:
	case MYSQL_COM_STMT_SEND_LONG_DATA:
		command_stmt(c);
		return;
	case MYSQL_COM_RESET_CONNECTION:
		route_session_reset(c, false);
		cl_ok(c);
		cl_command_done(c);
		return;
	case MYSQL_COM_CHANGE_USER:
		command_change_user(c);
		return;
	case MYSQL_COM_SET_OPTION:
		/* Multi-statements on or off for this connection only. */
		c->pinned = true;
		snprintf(c->pin_why, sizeof(c->pin_why), "COM_SET_OPTION");
		c->target = SLOT_PRIMARY;
		route_go(c);
		return;
	}
	switch (mysql_cmd_reply(cmd)) {
	case MYSQL_REPLY_OK:
	case MYSQL_REPLY_RESULTSET:
	case MYSQL_REPLY_FIELD_LIST:
	case MYSQL_REPLY_STRING:
		c->target = SLOT_PRIMARY;	/* FIELD_LIST, STATISTICS, ... */
		route_go(c);
		return;
	default:
		cl_error(c, ER_UNKNOWN_COM_ERROR, "08S01", "Unknown command "
		    "0x%02x", cmd);
		cl_command_done(c);
	}
}

/* ---- answers ---- */

/* A step of the router's own ended. */
static void
step_done(struct dbr_client *c, struct dbr_bconn *bc)
{
	struct cl_slot	*sl = &c->slot[c->target];
	struct cl_stmt	*st = c->cmd_stmt;

	switch (c->step) {
	case STEP_INIT_DB:
		snprintf(bc->db, sizeof(bc->db), "%s", c->db);
		break;
	case STEP_REPLAY:
		sl->replayed++;
		break;
	case STEP_PREPARE:
		st->prepared[c->target] = true;
		st->backend_id[c->target] = c->resp.prepare.stmt_id;
		st->params = c->resp.prepare.params;
		if (st->last_slot == c->target)
			st->last_slot = -1;	/* types are not bound there */
		break;
	case STEP_GTID_WAIT:
		if (strcmp(c->step_value, "0") != 0) {
			ryw_fallback(c, bc->srv);
			c->target = SLOT_PRIMARY;
			c->step = STEP_NONE;
			route_go(c);
			return;
		}
		c->ryw_reached = bc->srv;
		counter_inc(metric_with(c->d->m_ryw, (const char *const[]){
		    "replica", NULL }));
		break;
	case STEP_LAST_GTID:
		ryw_note(c, c->step_value);
		cl_command_done(c);
		return;
	default:
		break;
	}
	route_step(c);
}

/* The client's command was answered. */
static void
command_done(struct dbr_client *c, struct dbr_bconn *bc)
{
	struct cl_stmt	*st = c->cmd_stmt;
	uint8_t		 cmd = cmd_code(c);
	struct mysql_resp *r = &c->resp;

	c->last_slot = c->target;
	if (c->target == SLOT_PRIMARY && r->have_status) {
		c->status = r->status;
		c->in_trans = (r->status & MYSQL_STATUS_IN_TRANS) != 0;
		c->autocommit_off = (r->status & MYSQL_STATUS_AUTOCOMMIT) == 0;
	}
	if (r->error) {
		if (cmd == MYSQL_COM_STMT_PREPARE && st != NULL)
			stmt_free(c, st);
	} else if (cmd == MYSQL_COM_STMT_PREPARE && st != NULL) {
		st->prepared[c->target] = true;
		st->backend_id[c->target] = r->prepare.stmt_id;
		st->params = r->prepare.params;
	} else if (cmd == MYSQL_COM_INIT_DB) {
		size_t	 n = buf_used(&c->cmd) - 1;

		if (n < sizeof(c->db)) {
			memcpy(c->db, buf_head(&c->cmd) + 1, n);
			c->db[n] = '\0';
			snprintf(bc->db, sizeof(bc->db), "%s", c->db);
		}
	} else if (cmd == MYSQL_COM_QUERY && c->qc_valid &&
	    (c->qc.flags & QC_REPLAY) &&
	    (c->qc.flags & (QC_AUTOCOMMIT_ON | QC_AUTOCOMMIT_OFF)) == 0 &&
	    !c->pinned) {
		if (c->qc.flags & QC_USE) {
			if (use_target(buf_head(&c->cmd) + 1,
			    buf_used(&c->cmd) - 1, c->db, sizeof(c->db)))
				snprintf(bc->db, sizeof(bc->db), "%s", c->db);
		} else if (replay_add(c, buf_head(&c->cmd) + 1,
		    buf_used(&c->cmd) - 1) == -1) {
			cl_close(c, "out of memory");
			return;
		} else if (!c->pinned)
			c->slot[c->target].replayed = c->nreplay;
	}
	if (c->target == SLOT_PRIMARY && !r->error && !c->in_trans &&
	    c->d->conf->read_your_writes && command_wrote(c)) {
		cl_flush(c);	/* the client has its answer meanwhile */
		if (ryw_last_gtid_send(c, bc) == -1)
			cl_close(c, "out of memory");
		return;
	}
	cl_command_done(c);
}

/* A frame of the command's answer, to the client. */
static int
relay_frame(struct dbr_client *c, const struct mysql_frame *f, bool first)
{
	size_t		 at = buf_used(&c->out);
	uint8_t		*hdr;

	if (buf_append(&c->out, f->payload - MYSQL_HDR_LEN,
	    MYSQL_HDR_LEN + f->len) == -1)
		return -1;
	hdr = (uint8_t *)buf_head(&c->out) + at;
	hdr[3] = c->seq++;
	if (first && cmd_code(c) == MYSQL_COM_STMT_PREPARE &&
	    c->cmd_stmt != NULL && f->len > 0 && hdr[4] == MYSQL_HDR_OK)
		mysql_stmt_id_set(hdr + MYSQL_HDR_LEN, f->len,
		    c->cmd_stmt->id);
	c->relayed = true;
	return 0;
}

/* An ERR to one of the router's steps is the command's answer. */
static int
relay_step_error(struct dbr_client *c, const struct mysql_frame *f)
{
	c->relayed = true;
	return relay_frame(c, f, false);
}

static void
slot_input(struct dbr_bconn *bc, void *arg)
{
	struct dbr_client *c = arg;
	struct mysql_frame f;
	bool		 first;
	uint64_t	 rows;
	int		 rv;

	if (slot_of(c, bc) != c->target || c->step == STEP_NONE ||
	    c->step == STEP_INFILE) {
		/* Nothing was asked of it. */
		log_info("server %s: spoke unasked; connection closed",
		    bc->srv->name);
		slot_release(c, slot_of(c, bc), false);
		return;
	}
	while (mysql_frame_peek(buf_head(&bc->in), buf_used(&bc->in),
	    &f) == MYSQL_PACKET) {
		if (c->step == STEP_COMMAND && cl_out_full(c)) {
			dbr_bconn_pause(bc, true);
			c->paused = true;
			cl_flush(c);
			return;
		}
		first = c->resp.state == MYSQL_RS_FIRST && !c->resp.in_long &&
		    c->resp.results == 0;
		rows = c->resp.rows;
		rv = mysql_resp_feed(&c->resp, f.payload, f.len);
		if (c->resp.rows == 1 && rows == 0)
			step_value(c, &f);
		if (rv == MYSQL_RESP_BAD) {
			log_warnx("server %s: bad answer to %s: %s",
			    bc->srv->name, mysql_cmd_name(cmd_code(c)),
			    c->resp.why);
			slot_release(c, c->target, false);
			cl_close(c, "bad answer from the server");
			return;
		}
		if (c->step == STEP_COMMAND) {
			if (relay_frame(c, &f, first) == -1) {
				cl_close(c, "out of memory");
				return;
			}
		} else if (c->resp.error && c->step != STEP_GTID_WAIT &&
		    c->step != STEP_LAST_GTID &&
		    relay_step_error(c, &f) == -1) {
			cl_close(c, "out of memory");
			return;
		}
		buf_consume(&bc->in, MYSQL_HDR_LEN + f.len);
		if (rv == MYSQL_RESP_INFILE) {
			c->state = CL_INFILE;
			c->step = STEP_INFILE;
			cl_flush(c);
			return;
		}
		if (rv != MYSQL_RESP_DONE)
			continue;
		if (buf_used(&bc->in) > 0) {
			log_warnx("server %s: bytes after the answer to %s",
			    bc->srv->name, mysql_cmd_name(cmd_code(c)));
			slot_release(c, c->target, false);
			cl_close(c, "protocol error from the server");
			return;
		}
		if (c->step == STEP_COMMAND)
			command_done(c, bc);
		else if (c->resp.error && (c->step == STEP_GTID_WAIT ||
		    c->step == STEP_LAST_GTID)) {
			c->step_value[0] = '\0';	/* as if it timed out */
			step_done(c, bc);
		} else if (c->resp.error) {
			if (c->step == STEP_PREPARE && c->cmd_stmt != NULL &&
			    cmd_code(c) == MYSQL_COM_STMT_PREPARE)
				stmt_free(c, c->cmd_stmt);
			cl_command_done(c);
		} else
			step_done(c, bc);
		return;
	}
}

void
route_output_drained(struct dbr_client *c)
{
	struct dbr_bconn *bc;

	if (!c->paused || c->target < 0 || (bc = c->slot[c->target].bc) == NULL)
		return;
	c->paused = false;
	dbr_bconn_pause(bc, false);
	slot_input(bc, c);
}

/* LOAD DATA LOCAL: the client's file, frame by frame, to the server
 * until an empty frame; then the server answers. */
void
route_client_input(struct dbr_client *c)
{
	struct dbr_bconn *bc = c->slot[c->target].bc;
	struct mysql_frame f;

	while (mysql_frame_peek(buf_head(&c->in), buf_used(&c->in), &f) ==
	    MYSQL_PACKET) {
		if (buf_append(&bc->out, buf_head(&c->in), MYSQL_HDR_LEN +
		    f.len) == -1) {
			cl_close(c, "out of memory");
			return;
		}
		buf_consume(&c->in, MYSQL_HDR_LEN + f.len);
		c->seq = (uint8_t)(f.seq + 1);
		if (f.len == 0) {
			c->state = CL_BUSY;
			c->step = STEP_COMMAND;
			break;
		}
	}
	dbr_bconn_send(bc);
}

static void
slot_ready(struct dbr_bconn *bc, void *arg)
{
	struct dbr_client *c = arg;

	if (slot_of(c, bc) == c->target && c->state == CL_BUSY &&
	    c->step == STEP_NONE)
		route_step(c);
}

/* The current command's class, flags and hint; false for a command
 * that is not a statement (or a statement the classifier did not see). */
static bool
command_class(const struct dbr_client *c, enum qc_class *cls,
    unsigned *flags, enum ql_hint *hint)
{
	const struct cl_stmt *st = c->cmd_stmt;
	uint8_t		 cmd = cmd_code(c);

	if (cmd == MYSQL_COM_QUERY && c->qc_valid) {
		*cls = c->qc.cls;
		*flags = c->qc.flags;
		*hint = c->qc.hint;
	} else if (cmd == MYSQL_COM_STMT_EXECUTE && st != NULL &&
	    !st->long_data) {
		*cls = st->cls;
		*flags = st->flags;
		*hint = st->hint;
	} else
		return false;
	return true;
}

/* A read that may run again on another server once its answer was lost
 * (MaxScale's retry_failed_reads): a plain read in autocommit, outside a
 * transaction, in a session that is not pinned; nothing that depends on
 * the connection it ran on (FOUND_ROWS, locks, FOR UPDATE). Writes are
 * never run twice: their outcome is unknown. */
static bool
read_retryable(const struct dbr_client *c)
{
	enum qc_class	 cls;
	unsigned	 flags;
	enum ql_hint	 hint;

	if (c->pinned || c->in_trans || c->autocommit_off ||
	    !command_class(c, &cls, &flags, &hint))
		return false;
	return cls == QC_READ && (flags & (QC_PRIMARY | QC_PREV_BACKEND |
	    QC_PIN | QC_MULTI | QC_UNTERMINATED | QC_REPLAY)) == 0;
}

/* Where a command runs again after slot failed on srv. */
static int
retry_target(struct dbr_client *c, int failed, const struct dbr_server *srv)
{
	enum qc_class	 cls;
	unsigned	 flags;
	enum ql_hint	 hint;

	/* a replica still up failed on its own: the primary answers */
	if (failed == SLOT_REPLICA && usable(srv))
		return SLOT_PRIMARY;
	/* a read goes where it would go now: another replica, or the
	 * writer (waiting writer-wait for one) */
	if (read_retryable(c) && command_class(c, &cls, &flags, &hint))
		return target_for(c, cls, flags, hint);
	return failed;
}

static void
slot_failed(struct dbr_bconn *bc, struct dbr_server *srv, const char *why,
    bool net, void *arg)
{
	struct dbr_client *c = arg;
	int		 i = slot_of(c, bc);
	bool		 busy = c->state == CL_BUSY || c->state == CL_INFILE;
	bool		 sent = c->step == STEP_COMMAND || c->step == STEP_INFILE;
	bool		 had_state = i == SLOT_PRIMARY && (c->in_trans ||
			    c->pinned);
	char		 name[DBR_NAME_MAX];

	if (i < 0)
		return;
	snprintf(name, sizeof(name), "%s", srv->name);
	c->slot[i].bc = NULL;		/* already closed */
	slot_release(c, i, false);
	/* lost mid-command on the network: passive health (a connection
	 * merely idle may be closed by the server's wait_timeout) */
	if (net && busy && i == c->target && c->step != STEP_NONE)
		dbr_server_lost(srv, why);
	if (!busy) {
		/* Nothing to answer: a session whose state is gone ends as a
		 * direct connection to the server would. */
		if (had_state)
			cl_close(c, "the connection to the primary broke");
		return;
	}
	if (i != c->target) {
		if (had_state)
			primary_lost(c, "the connection to the primary broke");
		return;
	}
	c->step = STEP_NONE;
	if (c->relayed) {
		cl_close(c, "server lost mid-answer");
		return;
	}
	/* Nothing reached the client: a read, or a command that never left,
	 * runs again elsewhere. A write that may have run does not. */
	if (!had_state && (!sent || i == SLOT_REPLICA || read_retryable(c)) &&
	    c->retries++ < MAX_RETRIES) {
		log_info("client %s (%u): server %s failed (%s); %s again",
		    c->peer, c->conn_id, name, why, mysql_cmd_name(cmd_code(c)));
		c->seq = (uint8_t)(c->cmd_seq + 1);
		c->target = retry_target(c, i, srv);
		route_go(c);
		return;
	}
	if (had_state) {
		primary_lost(c, "the connection to the primary broke");
		return;
	}
	if (sent)
		cl_error(c, ER_CONNECTION_KILLED, "70100", "dbrouter: lost "
		    "connection to server %s during the command: %s", name,
		    why);
	else
		cl_error(c, ER_NO_BACKEND, "HY000", "dbrouter: server %s: %s",
		    name, why);
	cl_command_done(c);
}
