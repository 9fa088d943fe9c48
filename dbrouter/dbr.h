/* dbrouter — MySQL primary/replica query router of www.foobar.com. This
 * first part holds the configuration and the monitor: every server is
 * checked over its own non-blocking libmariadb session for read_only,
 * replication state, lag and GTID positions. The private header. */
#ifndef DBR_H
#define DBR_H

#include <stdbool.h>
#include <stdint.h>

#include <mysql.h>

#include "ctl.h"
#include "ev.h"
#include "service.h"

#define DBR_VERSION		"0.1"
#define DBR_MAX_SERVERS		16
#define DBR_NAME_MAX		64
#define DBR_GTID_MAX		512

/* ---- failover: configuration (dbr_failover.c) ---- */

struct conf_ctx;
struct conf_directive;
struct conf_stmt;
struct ctl_command;
struct ctl_conn;

struct dbr_failover_conf {
	bool		 enabled;		/* failover yes|no */
	bool		 semi_sync;		/* semi-sync yes|no */
	char		*repl_user;		/* replication-user */
	char		*repl_password;		/* replication-password-file */
	uint64_t	 timeout_ms;		/* failover-timeout */
	uint64_t	 switchover_timeout_ms;	/* switchover-timeout */
};

int	 dbr_set_repl_user(struct conf_ctx *, const struct conf_stmt *,
	    const struct conf_directive *, void *);
int	 dbr_set_repl_password(struct conf_ctx *, const struct conf_stmt *,
	    const struct conf_directive *, void *);

#define DBR_FAILOVER_DIRECTIVES(type, member)				\
	{ "failover", 1, 1, CONF_BLOCK_NONE, CONF_ONCE, conf_set_flag,	\
	    offsetof(type, member.enabled), 0, 0 },			\
	{ "semi-sync", 1, 1, CONF_BLOCK_NONE, CONF_ONCE, conf_set_flag,	\
	    offsetof(type, member.semi_sync), 0, 0 },			\
	{ "replication-user", 1, 1, CONF_BLOCK_NONE, CONF_ONCE,		\
	    dbr_set_repl_user, offsetof(type, member.repl_user), 0, 0 },	\
	{ "replication-password-file", 1, 1, CONF_BLOCK_NONE, CONF_ONCE,	\
	    dbr_set_repl_password, offsetof(type, member.repl_password),	\
	    0, 0 },							\
	{ "failover-timeout", 1, 1, CONF_BLOCK_NONE, CONF_ONCE,		\
	    conf_set_duration, offsetof(type, member.timeout_ms),	\
	    100, 3600 * 1000 },						\
	{ "switchover-timeout", 1, 1, CONF_BLOCK_NONE, CONF_ONCE,	\
	    conf_set_duration, offsetof(type, member.switchover_timeout_ms), \
	    100, 3600 * 1000 }

/* ---- configuration (dbr_conf.c) ---- */

struct dbr_server_conf {
	char			*name;
	char			*addr_str;	/* as written */
	char			*host;		/* TCP: numeric host, else NULL */
	unsigned		 port;
	char			*socket;	/* unix: path, else NULL */
};

struct dbr_conf {
	struct service_conf	 svc;
	struct dbr_server_conf	 servers[DBR_MAX_SERVERS];
	int			 nservers;
	char			*monitor_user;
	char			*monitor_password;	/* read from the file */
	uint64_t		 check_interval_ms;
	uint64_t		 check_timeout_ms;
	unsigned		 fall, rise;
	/* ---- failover ---- */
	struct dbr_failover_conf fo;
};

void	*dbr_conf_load(const struct conf_stmt *, struct conf_ctx *);
void	 dbr_conf_free(void *);
/* The password file: its first line. Refused if others may read it. */
int	 dbr_read_secret(const char *path, char **out, char *err,
	    size_t errlen);

/* ---- runtime ---- */

enum dbr_role { ROLE_UNKNOWN, ROLE_PRIMARY, ROLE_REPLICA };

/* What the last good check saw. */
struct dbr_health {
	bool		 read_only;
	bool		 replicating;	/* SHOW SLAVE STATUS has a row */
	bool		 io_running, sql_running;
	int64_t		 lag;		/* Seconds_Behind_Master; -1 NULL */
	char		 master_host[256];
	unsigned	 master_port;
	char		 gtid_current[DBR_GTID_MAX];
	char		 gtid_slave[DBR_GTID_MAX];
	char		 gtid_binlog[DBR_GTID_MAX];
	char		 gtid_io[DBR_GTID_MAX];	/* Gtid_IO_Pos (failover) */
};

struct dbr;
struct dbr_mon;
struct dbr_failover;

struct dbr_server {
	struct dbr		*dbr;
	struct dbr_server_conf	*conf;
	char			 name[DBR_NAME_MAX];
	bool			 up;
	enum dbr_role		 role;
	struct dbr_health	 health;
	unsigned		 ok_run, fail_run;
	char			 check_result[256];	/* last, for status */
	uint64_t		 checks, check_failures;
	uint64_t		 check_ms;	/* how long the last check took */
	struct dbr_mon		*mon;
	/* ---- failover: this server's part (dbr_failover.c) ---- */
	uint64_t		 fo_next_try;	/* no rejoin before (ev_now) */
	int			 fo_semi_role;	/* semi-sync set up for, or -1 */
	char			 fo_note[256];	/* why it is left alone */
	uint64_t		 fo_touched;	/* a job changed it (ev_now) */
	bool			 fo_fresh;	/* a good check since then */
};

struct dbr {
	struct service		*svc;
	struct dbr_conf		*conf;
	struct dbr_server	*servers[DBR_MAX_SERVERS];
	int			 nservers;
	bool			 stopping;
	struct metric		*m_up;		/* {server} */
	struct metric		*m_read_only;
	struct metric		*m_lag;
	struct metric		*m_checks;	/* {server, result} */
	/* ---- failover: the seam with routing ----
	 * writer: the server writes go to, NULL while there is none (no
	 * primary seen yet, or mid-failover); writer_gen grows by one at
	 * every change. Routing reads these two and each server's up, role
	 * and health.lag; only dbr_failover.c writes them. */
	struct dbr_server	*writer;
	uint64_t		 writer_gen;
	struct dbr_failover	*fo;
};

static inline struct ev_loop *
dbr_loop(struct dbr *d)
{
	return service_loop(d->svc);
}

/* dbr_monitor.c: checks every check-interval, never blocking the loop. */
struct dbr_mon	*dbr_mon_new(struct dbr_server *);
void	 dbr_mon_free(struct dbr_mon *);
/* A check ended: ok, or why not (the monitor's own words). */
void	 dbr_server_checked(struct dbr_server *, bool ok, const char *why);

/* ---- failover (dbr_failover.c, dbr_sql.c) ---- */

/* The server called name, or NULL. */
struct dbr_server *dbr_server_find(struct dbr *, const char *name);

int	 dbr_failover_conf_check(struct dbr_conf *, struct conf_ctx *);
void	 dbr_failover_conf_free(struct dbr_failover_conf *);
int	 dbr_failover_start(struct dbr *, char *err, size_t errlen);
/* Before the servers of newconf replace the running ones. */
void	 dbr_failover_reload(struct dbr *, struct dbr_conf *newconf);
/* After every check of s, once its state is updated. */
void	 dbr_failover_checked(struct dbr_server *s, bool ok);
void	 dbr_failover_status(struct dbr *, struct ctl_conn *);
void	 dbr_failover_free(struct dbr *);
/* ctl: switchover NAME [TIMEOUT] */
extern const struct ctl_command dbr_failover_commands[];

/* A one-shot SQL session on a server: statements run in order, the
 * first failure ends the run; cb runs once from the loop afterwards
 * (free the session in it or later). */
struct dbr_sql;
typedef void (*dbr_sql_cb)(struct dbr_sql *, void *arg);
struct dbr_sql	*dbr_sql_new(struct dbr_server *, uint64_t timeout_ms,
		    dbr_sql_cb, void *arg);
/* Add a statement; its index, or -1 (too many, too long). */
int		 dbr_sql_add(struct dbr_sql *, const char *fmt, ...)
		    __attribute__((format(printf, 2, 3)));
void		 dbr_sql_start(struct dbr_sql *);
/* NULL when every statement ran, else "server: statement: why". */
const char	*dbr_sql_error(const struct dbr_sql *);
const char	*dbr_sql_server(const struct dbr_sql *);
bool		 dbr_sql_has_row(const struct dbr_sql *, int stmt);
/* Column col of statement stmt's first row; NULL when absent or NULL. */
const char	*dbr_sql_value(const struct dbr_sql *, int stmt,
		    const char *col);
void		 dbr_sql_free(struct dbr_sql *);

#endif
