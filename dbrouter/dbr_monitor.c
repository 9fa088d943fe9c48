/* dbrouter monitor: one libmariadb session per server, kept open between
 * checks and driven by the event loop through the client library's
 * non-blocking API (the _start/_cont calls return what the socket must
 * wait for). A check reads the server's variables, then its replica
 * status; any error closes the session and the next check reconnects.
 * The whole check has check-timeout. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "log.h"
#include "dbr.h"

#define VARS_QUERY	"SELECT @@read_only, @@gtid_current_pos, " \
			"@@gtid_slave_pos, @@gtid_binlog_pos"
#define SLAVE_QUERY	"SHOW SLAVE STATUS"

/* The steps of a check, in order; connect only without a session, the
 * failover lock's statement only when dbr_lock_sql has one. */
enum mon_step { S_CONNECT, S_QUERY_VARS, S_STORE_VARS, S_QUERY_SLAVE,
	S_STORE_SLAVE, S_QUERY_LOCK, S_STORE_LOCK, S_DONE };

struct dbr_mon {
	struct dbr_server	*srv;
	MYSQL			*my;		/* NULL between sessions */
	bool			 connected;
	int			 fd;		/* watched socket, or -1 */
	enum mon_step		 step;
	bool			 running;
	bool			 again;		/* check again once this ends */
	/* what the last call returned once it was done */
	MYSQL			*ret_my;
	int			 ret_int;
	MYSQL_RES		*res;
	const char		*lock_sql;	/* this check's, or NULL */
	struct dbr_health	 h;		/* being filled */
	uint64_t		 started;
	struct ev_timer		 interval;	/* next check */
	struct ev_timer		 deadline;	/* check-timeout */
	struct ev_timer		 lib_timer;	/* MYSQL_WAIT_TIMEOUT */
};

static void	mon_run(struct dbr_mon *, int status);
static void	mon_io(struct ev_loop *, int fd, unsigned events, void *arg);

static struct ev_loop *
loop_of(struct dbr_mon *m)
{
	return dbr_loop(m->srv->dbr);
}

/* End the session without blocking: the socket goes first, so the
 * library's COM_QUIT cannot wait on it. */
static void
mon_disconnect(struct dbr_mon *m)
{
	if (m->fd != -1) {
		ev_fd_del(loop_of(m), m->fd);
		shutdown(m->fd, SHUT_RDWR);
		m->fd = -1;
	}
	if (m->res != NULL) {
		mysql_free_result(m->res);
		m->res = NULL;
	}
	if (m->my != NULL) {
		mysql_close(m->my);
		m->my = NULL;
	}
	m->connected = false;
	ev_timer_stop(loop_of(m), &m->lib_timer);
	dbr_lock_dropped(m->srv);	/* the server let go of it */
}

static void
mon_finish(struct dbr_mon *m, bool ok, const char *why)
{
	struct dbr_conf	*conf = m->srv->dbr->conf;

	ev_timer_stop(loop_of(m), &m->deadline);
	ev_timer_stop(loop_of(m), &m->lib_timer);
	if (m->fd != -1)
		ev_fd_mod(loop_of(m), m->fd, 0);
	if (!ok)
		mon_disconnect(m);
	else
		m->srv->health = m->h;
	m->running = false;
	ev_update_now(loop_of(m));
	m->srv->check_ms = ev_now(loop_of(m)) - m->started;
	ev_timer_start(loop_of(m), &m->interval, m->again ? 0 :
	    conf->check_interval_ms);
	m->again = false;
	dbr_server_checked(m->srv, ok, why);
}

static void
mon_fail(struct dbr_mon *m, const char *what)
{
	char	 why[256];

	snprintf(why, sizeof(why), "%s: %s", what,
	    m->my != NULL && mysql_errno(m->my) != 0 ? mysql_error(m->my) :
	    "failed");
	mon_finish(m, false, why);
}

static void
copy_field(char *dst, size_t len, const char *src)
{
	snprintf(dst, len, "%s", src != NULL ? src : "");
}

static bool
is_yes(const char *v)
{
	return v != NULL && strcmp(v, "Yes") == 0;
}

/* SELECT @@read_only, @@gtid_current_pos, @@gtid_slave_pos,
 * @@gtid_binlog_pos: one row. */
static int
take_vars(struct dbr_mon *m)
{
	MYSQL_ROW	 row;

	if (mysql_num_fields(m->res) != 4 ||
	    (row = mysql_fetch_row(m->res)) == NULL)
		return -1;
	m->h.read_only = row[0] != NULL && strcmp(row[0], "0") != 0;
	copy_field(m->h.gtid_current, sizeof(m->h.gtid_current), row[1]);
	copy_field(m->h.gtid_slave, sizeof(m->h.gtid_slave), row[2]);
	copy_field(m->h.gtid_binlog, sizeof(m->h.gtid_binlog), row[3]);
	return 0;
}

/* SHOW SLAVE STATUS: no row on a server that replicates from nobody;
 * columns are found by name, their order changes between versions. */
static int
take_slave(struct dbr_mon *m)
{
	MYSQL_FIELD	*f = mysql_fetch_fields(m->res);
	unsigned	 i, n = mysql_num_fields(m->res);
	MYSQL_ROW	 row = mysql_fetch_row(m->res);

	m->h.replicating = row != NULL;
	m->h.io_running = m->h.sql_running = false;
	m->h.lag = -1;
	m->h.master_host[0] = '\0';
	m->h.master_port = 0;
	m->h.gtid_io[0] = '\0';
	for (i = 0; row != NULL && i < n; i++) {
		if (strcmp(f[i].name, "Slave_IO_Running") == 0)
			m->h.io_running = is_yes(row[i]);
		else if (strcmp(f[i].name, "Slave_SQL_Running") == 0)
			m->h.sql_running = is_yes(row[i]);
		else if (strcmp(f[i].name, "Seconds_Behind_Master") == 0)
			m->h.lag = row[i] != NULL ? strtoll(row[i], NULL, 10) : -1;
		else if (strcmp(f[i].name, "Master_Host") == 0)
			copy_field(m->h.master_host, sizeof(m->h.master_host),
			    row[i]);
		else if (strcmp(f[i].name, "Master_Port") == 0 && row[i] != NULL)
			m->h.master_port = (unsigned)strtoul(row[i], NULL, 10);
		else if (strcmp(f[i].name, "Gtid_IO_Pos") == 0)
			copy_field(m->h.gtid_io, sizeof(m->h.gtid_io), row[i]);
	}
	return 0;
}

/* The failover lock's statement: one value. */
static int
take_lock(struct dbr_mon *m)
{
	MYSQL_ROW	 row;

	if (mysql_num_fields(m->res) != 1)
		return -1;
	row = mysql_fetch_row(m->res);
	dbr_lock_result(m->srv, row != NULL ? row[0] : NULL);
	return 0;
}

/* Start the current step: the library's wait status (0: done). */
static int
step_start(struct dbr_mon *m)
{
	struct dbr_conf	*conf = m->srv->dbr->conf;
	struct dbr_server_conf *sc = m->srv->conf;

	switch (m->step) {
	case S_CONNECT:
		return mysql_real_connect_start(&m->ret_my, m->my, sc->host,
		    conf->monitor_user, conf->monitor_password, NULL, sc->port,
		    sc->socket, 0);
	case S_QUERY_VARS:
		return mysql_real_query_start(&m->ret_int, m->my, VARS_QUERY,
		    strlen(VARS_QUERY));
	case S_QUERY_SLAVE:
		return mysql_real_query_start(&m->ret_int, m->my, SLAVE_QUERY,
		    strlen(SLAVE_QUERY));
	case S_QUERY_LOCK:
		return mysql_real_query_start(&m->ret_int, m->my, m->lock_sql,
		    strlen(m->lock_sql));
	case S_STORE_VARS:
	case S_STORE_SLAVE:
	case S_STORE_LOCK:
		return mysql_store_result_start(&m->res, m->my);
	case S_DONE:
		break;
	}
	return 0;
}

static int
step_cont(struct dbr_mon *m, int ready)
{
	switch (m->step) {
	case S_CONNECT:
		return mysql_real_connect_cont(&m->ret_my, m->my, ready);
	case S_QUERY_VARS:
	case S_QUERY_SLAVE:
	case S_QUERY_LOCK:
		return mysql_real_query_cont(&m->ret_int, m->my, ready);
	case S_STORE_VARS:
	case S_STORE_SLAVE:
	case S_STORE_LOCK:
		return mysql_store_result_cont(&m->res, m->my, ready);
	case S_DONE:
		break;
	}
	return 0;
}

/* The current step is done: check its outcome; 0 to go on. */
static int
step_done(struct dbr_mon *m)
{
	int	 rv = 0;

	switch (m->step) {
	case S_CONNECT:
		if (m->ret_my == NULL) {
			mon_fail(m, "connect");
			return -1;
		}
		m->connected = true;
		break;
	case S_QUERY_VARS:
	case S_QUERY_SLAVE:
	case S_QUERY_LOCK:
		if (m->ret_int != 0) {
			mon_fail(m, m->step == S_QUERY_VARS ? "variables" :
			    m->step == S_QUERY_SLAVE ? "replica status" :
			    "failover lock");
			return -1;
		}
		break;
	case S_STORE_VARS:
	case S_STORE_SLAVE:
	case S_STORE_LOCK:
		if (m->res == NULL) {
			mon_fail(m, "result");
			return -1;
		}
		rv = m->step == S_STORE_VARS ? take_vars(m) :
		    m->step == S_STORE_SLAVE ? take_slave(m) : take_lock(m);
		mysql_free_result(m->res);
		m->res = NULL;
		if (rv == -1) {
			mon_finish(m, false, "unexpected result shape");
			return -1;
		}
		break;
	case S_DONE:
		break;
	}
	return 0;
}

/* Watch what the library waits for. */
static int
mon_wait(struct dbr_mon *m, int status)
{
	unsigned	 ev = 0;
	int		 fd = (int)mysql_get_socket(m->my);

	if (status & MYSQL_WAIT_READ)
		ev |= EV_READ;
	if (status & MYSQL_WAIT_WRITE)
		ev |= EV_WRITE;
	if (fd != m->fd) {
		if (m->fd != -1)
			ev_fd_del(loop_of(m), m->fd);
		m->fd = -1;
		if (fd >= 0 && ev_fd_add(loop_of(m), fd, ev, mon_io, m) == -1)
			return -1;
		m->fd = fd;
	}
	if (m->fd != -1)
		ev_fd_mod(loop_of(m), m->fd, ev);
	if (status & MYSQL_WAIT_TIMEOUT)
		ev_timer_start(loop_of(m), &m->lib_timer,
		    (uint64_t)mysql_get_timeout_value_ms(m->my));
	return 0;
}

/* Carry the check forward: status is what the last call returned. */
static void
mon_run(struct dbr_mon *m, int status)
{
	for (;;) {
		if (status != 0) {
			if (mon_wait(m, status) == -1)
				mon_fail(m, "event loop");
			return;
		}
		if (step_done(m) == -1)
			return;
		m->step++;
		if (m->step == S_QUERY_LOCK &&
		    (m->lock_sql = dbr_lock_sql(m->srv)) == NULL)
			m->step = S_DONE;
		if (m->step == S_DONE) {
			mon_finish(m, true, "ok");
			return;
		}
		status = step_start(m);
	}
}

static void
mon_io(struct ev_loop *loop, int fd, unsigned events, void *arg)
{
	struct dbr_mon	*m = arg;
	int		 ready = 0;

	if (events & (EV_READ | EV_ERROR))
		ready |= MYSQL_WAIT_READ;
	if (events & EV_WRITE)
		ready |= MYSQL_WAIT_WRITE;
	ev_timer_stop(loop, &m->lib_timer);
	mon_run(m, step_cont(m, ready));
}

static void
mon_lib_timeout(struct ev_loop *loop, void *arg)
{
	struct dbr_mon	*m = arg;

	mon_run(m, step_cont(m, MYSQL_WAIT_TIMEOUT));
}

static void
mon_deadline(struct ev_loop *loop, void *arg)
{
	struct dbr_mon	*m = arg;
	char		 why[64];

	snprintf(why, sizeof(why), "timed out after %llums",
	    (unsigned long long)m->srv->dbr->conf->check_timeout_ms);
	mon_finish(m, false, why);
}

static void
mon_start(struct ev_loop *loop, void *arg)
{
	struct dbr_mon	*m = arg;
	struct dbr_conf	*conf = m->srv->dbr->conf;
	unsigned	 secs;

	m->running = true;
	m->started = ev_now(loop);
	memset(&m->h, 0, sizeof(m->h));
	ev_timer_start(loop, &m->deadline, conf->check_timeout_ms);
	if (m->connected) {
		m->step = S_QUERY_VARS;
		mon_run(m, step_start(m));
		return;
	}
	if ((m->my = mysql_init(NULL)) == NULL) {
		mon_finish(m, false, "out of memory");
		return;
	}
	secs = (unsigned)((conf->check_timeout_ms + 999) / 1000);
	mysql_options(m->my, MYSQL_OPT_NONBLOCK, 0);
	mysql_options(m->my, MYSQL_OPT_CONNECT_TIMEOUT, &secs);
	mysql_options(m->my, MYSQL_OPT_READ_TIMEOUT, &secs);
	mysql_options(m->my, MYSQL_OPT_WRITE_TIMEOUT, &secs);
	m->step = S_CONNECT;
	mon_run(m, step_start(m));
}

struct dbr_mon *
dbr_mon_new(struct dbr_server *s)
{
	struct dbr_mon	*m;

	if ((m = calloc(1, sizeof(*m))) == NULL)
		return NULL;
	m->srv = s;
	m->fd = -1;
	ev_timer_init(&m->interval, mon_start, m);
	ev_timer_init(&m->deadline, mon_deadline, m);
	ev_timer_init(&m->lib_timer, mon_lib_timeout, m);
	ev_timer_start(dbr_loop(s->dbr), &m->interval, 0);
	return m;
}

void
dbr_mon_check_now(struct dbr_mon *m)
{
	if (m == NULL)
		return;
	if (m->running) {
		m->again = true;	/* this one may have begun before */
		return;
	}
	ev_timer_start(loop_of(m), &m->interval, 0);
}

void
dbr_mon_free(struct dbr_mon *m)
{
	if (m == NULL)
		return;
	ev_timer_stop(loop_of(m), &m->interval);
	ev_timer_stop(loop_of(m), &m->deadline);
	mon_disconnect(m);
	free(m);
}
