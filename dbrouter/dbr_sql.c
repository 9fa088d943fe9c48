/* dbr_sql — a one-shot SQL session for failover and switchover: connect
 * to one server as the monitor user, run a short list of statements in
 * order, keep the first row of each result, close. Driven by the event
 * loop through libmariadb's non-blocking calls exactly as the monitor is
 * (dbr_monitor.c), bounded as a whole by a timeout. The first statement
 * that fails ends the run. The session copies the server's address and
 * the credentials, so a reload that drops the server cannot pull them
 * from under it; the caller's callback always runs later from the loop
 * (never inside dbr_sql_start), once, unless dbr_sql_free came first.
 * A statement that dbr_sql_add could not take fails the run at start. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "log.h"
#include "dbr.h"

#define SQL_MAX_STMTS	12
#define SQL_STMT_MAX	1024
#define SQL_SHOWN	48	/* of a statement, in errors (no passwords) */

struct sql_result {
	bool		 row;		/* a first row came back */
	unsigned	 ncols;
	char		**names;
	char		**vals;		/* NULL for SQL NULL */
};

/* step 0 connects; step 1 + 2i queries statement i, 2 + 2i stores it */
struct dbr_sql {
	struct dbr		*d;
	char			 server[DBR_NAME_MAX];
	char			*host, *socket, *user, *password;
	unsigned		 port;
	uint64_t		 timeout_ms;
	dbr_sql_cb		 cb;
	void			*arg;
	char			*stmt[SQL_MAX_STMTS];
	struct sql_result	 res[SQL_MAX_STMTS];
	int			 nstmt;
	int			 step;
	MYSQL			*my;
	int			 fd;
	MYSQL			*ret_my;
	int			 ret_int;
	MYSQL_RES		*cur;
	bool			 done;
	char			 error[512];
	struct ev_timer		 deadline;
	struct ev_timer		 lib_timer;
	struct ev_deferred	 report;
};

static void	sql_run(struct dbr_sql *, int status);

static struct ev_loop *
loop_of(struct dbr_sql *q)
{
	return dbr_loop(q->d);
}

static void
sql_disconnect(struct dbr_sql *q)
{
	if (q->fd != -1) {
		ev_fd_del(loop_of(q), q->fd);
		shutdown(q->fd, SHUT_RDWR);
		q->fd = -1;
	}
	if (q->cur != NULL) {
		mysql_free_result(q->cur);
		q->cur = NULL;
	}
	if (q->my != NULL) {
		mysql_close(q->my);
		q->my = NULL;
	}
	ev_timer_stop(loop_of(q), &q->lib_timer);
	ev_timer_stop(loop_of(q), &q->deadline);
}

static void
sql_report(struct ev_loop *loop, void *arg)
{
	struct dbr_sql	*q = arg;

	q->cb(q, q->arg);
}

/* The run is over: close and tell the caller from the loop. */
static void
sql_finish(struct dbr_sql *q, const char *fmt, ...)
{
	va_list	 ap;

	if (fmt != NULL) {
		va_start(ap, fmt);
		vsnprintf(q->error, sizeof(q->error), fmt, ap);
		va_end(ap);
	}
	q->done = true;
	sql_disconnect(q);
	ev_defer(loop_of(q), &q->report);
}

/* The statement as errors show it: its start, never a password. */
static const char *
shown(const struct dbr_sql *q, int i, char *buf, size_t len)
{
	snprintf(buf, len, "%.*s%s", SQL_SHOWN, q->stmt[i],
	    strlen(q->stmt[i]) > SQL_SHOWN ? "..." : "");
	return buf;
}

static void
sql_fail(struct dbr_sql *q)
{
	char		 what[SQL_SHOWN + 8];
	const char	*why = q->my != NULL && mysql_errno(q->my) != 0 ?
	    mysql_error(q->my) : "failed";

	if (q->step == 0)
		sql_finish(q, "%s: connect: %s", q->server, why);
	else
		sql_finish(q, "%s: %s: %s", q->server,
		    shown(q, (q->step - 1) / 2, what, sizeof(what)), why);
}

/* Keep the first row of statement i's result. */
static int
keep_row(struct dbr_sql *q, int i)
{
	struct sql_result *r = &q->res[i];
	MYSQL_FIELD	*f;
	MYSQL_ROW	 row;
	unsigned	 c, n;

	if (q->cur == NULL)
		return 0;
	n = mysql_num_fields(q->cur);
	f = mysql_fetch_fields(q->cur);
	if ((row = mysql_fetch_row(q->cur)) == NULL)
		return 0;
	if ((r->names = calloc(n, sizeof(char *))) == NULL ||
	    (r->vals = calloc(n, sizeof(char *))) == NULL)
		return -1;
	r->ncols = n;
	r->row = true;
	for (c = 0; c < n; c++) {
		if ((r->names[c] = strdup(f[c].name)) == NULL)
			return -1;
		if (row[c] != NULL && (r->vals[c] = strdup(row[c])) == NULL)
			return -1;
	}
	return 0;
}

static int
step_start(struct dbr_sql *q)
{
	int	 i = (q->step - 1) / 2;

	if (q->step == 0)
		return mysql_real_connect_start(&q->ret_my, q->my, q->host,
		    q->user, q->password, NULL, q->port, q->socket, 0);
	if (q->step % 2 == 1)
		return mysql_real_query_start(&q->ret_int, q->my, q->stmt[i],
		    strlen(q->stmt[i]));
	return mysql_store_result_start(&q->cur, q->my);
}

static int
step_cont(struct dbr_sql *q, int ready)
{
	if (q->step == 0)
		return mysql_real_connect_cont(&q->ret_my, q->my, ready);
	if (q->step % 2 == 1)
		return mysql_real_query_cont(&q->ret_int, q->my, ready);
	return mysql_store_result_cont(&q->cur, q->my, ready);
}

/* The step ended: 0 to go on, -1 when the run is over. */
static int
step_done(struct dbr_sql *q)
{
	int	 i = (q->step - 1) / 2, rv;

	if (q->step == 0 ? q->ret_my == NULL :
	    q->step % 2 == 1 ? q->ret_int != 0 :
	    q->cur == NULL && mysql_errno(q->my) != 0) {
		sql_fail(q);
		return -1;
	}
	if (q->step > 0 && q->step % 2 == 0) {
		rv = keep_row(q, i);
		if (q->cur != NULL) {
			mysql_free_result(q->cur);
			q->cur = NULL;
		}
		if (rv == -1) {
			sql_finish(q, "%s: out of memory", q->server);
			return -1;
		}
	}
	return 0;
}

static void
sql_io(struct ev_loop *loop, int fd, unsigned events, void *arg)
{
	struct dbr_sql	*q = arg;
	int		 ready = 0;

	if (events & (EV_READ | EV_ERROR))
		ready |= MYSQL_WAIT_READ;
	if (events & EV_WRITE)
		ready |= MYSQL_WAIT_WRITE;
	ev_timer_stop(loop, &q->lib_timer);
	sql_run(q, step_cont(q, ready));
}

static int
sql_wait(struct dbr_sql *q, int status)
{
	unsigned	 ev = 0;
	int		 fd = (int)mysql_get_socket(q->my);

	if (status & MYSQL_WAIT_READ)
		ev |= EV_READ;
	if (status & MYSQL_WAIT_WRITE)
		ev |= EV_WRITE;
	if (fd != q->fd) {
		if (q->fd != -1)
			ev_fd_del(loop_of(q), q->fd);
		q->fd = -1;
		if (fd >= 0 && ev_fd_add(loop_of(q), fd, ev, sql_io, q) == -1)
			return -1;
		q->fd = fd;
	}
	if (q->fd != -1)
		ev_fd_mod(loop_of(q), q->fd, ev);
	if (status & MYSQL_WAIT_TIMEOUT)
		ev_timer_start(loop_of(q), &q->lib_timer,
		    (uint64_t)mysql_get_timeout_value_ms(q->my));
	return 0;
}

static void
sql_run(struct dbr_sql *q, int status)
{
	for (;;) {
		if (status != 0) {
			if (sql_wait(q, status) == -1)
				sql_finish(q, "%s: event loop", q->server);
			return;
		}
		if (step_done(q) == -1)
			return;
		if (++q->step > 2 * q->nstmt) {
			sql_finish(q, NULL);
			return;
		}
		status = step_start(q);
	}
}

static void
sql_lib_timeout(struct ev_loop *loop, void *arg)
{
	struct dbr_sql	*q = arg;

	sql_run(q, step_cont(q, MYSQL_WAIT_TIMEOUT));
}

static void
sql_deadline(struct ev_loop *loop, void *arg)
{
	struct dbr_sql	*q = arg;
	char		 what[SQL_SHOWN + 8];

	if (q->step == 0)
		sql_finish(q, "%s: connect: timed out after %llums", q->server,
		    (unsigned long long)q->timeout_ms);
	else
		sql_finish(q, "%s: %s: timed out after %llums", q->server,
		    shown(q, (q->step - 1) / 2, what, sizeof(what)),
		    (unsigned long long)q->timeout_ms);
}

struct dbr_sql *
dbr_sql_new(struct dbr_server *s, uint64_t timeout_ms, dbr_sql_cb cb,
    void *arg)
{
	struct dbr_conf	*conf = s->dbr->conf;
	struct dbr_sql	*q;

	if ((q = calloc(1, sizeof(*q))) == NULL)
		return NULL;
	q->d = s->dbr;
	snprintf(q->server, sizeof(q->server), "%s", s->name);
	q->port = s->conf->port;
	q->timeout_ms = timeout_ms;
	q->cb = cb;
	q->arg = arg;
	q->fd = -1;
	ev_timer_init(&q->deadline, sql_deadline, q);
	ev_timer_init(&q->lib_timer, sql_lib_timeout, q);
	ev_deferred_init(&q->report, sql_report, q);
	if ((s->conf->host != NULL && (q->host = strdup(s->conf->host)) == NULL) ||
	    (s->conf->socket != NULL &&
	    (q->socket = strdup(s->conf->socket)) == NULL) ||
	    (q->user = strdup(conf->monitor_user)) == NULL ||
	    (conf->monitor_password != NULL &&
	    (q->password = strdup(conf->monitor_password)) == NULL)) {
		dbr_sql_free(q);
		return NULL;
	}
	return q;
}

int
dbr_sql_add(struct dbr_sql *q, const char *fmt, ...)
{
	va_list	 ap;
	int	 n;

	if (q->nstmt == SQL_MAX_STMTS ||
	    (q->stmt[q->nstmt] = malloc(SQL_STMT_MAX)) == NULL) {
		snprintf(q->error, sizeof(q->error), "%s: more than %d "
		    "statements", q->server, SQL_MAX_STMTS);
		return -1;
	}
	va_start(ap, fmt);
	n = vsnprintf(q->stmt[q->nstmt], SQL_STMT_MAX, fmt, ap);
	va_end(ap);
	if (n < 0 || n >= SQL_STMT_MAX) {
		free(q->stmt[q->nstmt]);
		q->stmt[q->nstmt] = NULL;
		snprintf(q->error, sizeof(q->error), "%s: a statement longer "
		    "than %d bytes", q->server, SQL_STMT_MAX - 1);
		return -1;
	}
	return q->nstmt++;
}

void
dbr_sql_start(struct dbr_sql *q)
{
	unsigned	 secs = (unsigned)((q->timeout_ms + 999) / 1000);

	if (q->error[0] != '\0') {	/* a statement could not be added */
		sql_finish(q, NULL);
		return;
	}
	ev_timer_start(loop_of(q), &q->deadline, q->timeout_ms);
	if ((q->my = mysql_init(NULL)) == NULL) {
		sql_finish(q, "%s: out of memory", q->server);
		return;
	}
	mysql_options(q->my, MYSQL_OPT_NONBLOCK, 0);
	mysql_options(q->my, MYSQL_OPT_CONNECT_TIMEOUT, &secs);
	mysql_options(q->my, MYSQL_OPT_READ_TIMEOUT, &secs);
	mysql_options(q->my, MYSQL_OPT_WRITE_TIMEOUT, &secs);
	q->step = 0;
	sql_run(q, step_start(q));
}

const char *
dbr_sql_error(const struct dbr_sql *q)
{
	return q->error[0] != '\0' ? q->error : NULL;
}

const char *
dbr_sql_server(const struct dbr_sql *q)
{
	return q->server;
}

bool
dbr_sql_has_row(const struct dbr_sql *q, int i)
{
	return i >= 0 && i < q->nstmt && q->res[i].row;
}

const char *
dbr_sql_value(const struct dbr_sql *q, int i, const char *col)
{
	unsigned	 c;

	if (!dbr_sql_has_row(q, i))
		return NULL;
	for (c = 0; c < q->res[i].ncols; c++)
		if (strcmp(q->res[i].names[c], col) == 0)
			return q->res[i].vals[c];
	return NULL;
}

void
dbr_sql_free(struct dbr_sql *q)
{
	unsigned	 c;
	int		 i;

	if (q == NULL)
		return;
	sql_disconnect(q);
	ev_defer_cancel(loop_of(q), &q->report);
	for (i = 0; i < SQL_MAX_STMTS; i++) {
		for (c = 0; c < q->res[i].ncols; c++) {
			free(q->res[i].names[c]);
			free(q->res[i].vals[c]);
		}
		free(q->res[i].names);
		free(q->res[i].vals);
		free(q->stmt[i]);
	}
	free(q->host);
	free(q->socket);
	free(q->user);
	if (q->password != NULL)
		explicit_bzero(q->password, strlen(q->password));
	free(q->password);
	free(q);
}
