/* dbrouter — MySQL primary/replica query router of www.foobar.com: the
 * configuration, the monitor (every server is checked over its own
 * non-blocking libmariadb session for read_only, replication state, lag
 * and GTID positions), the client sessions that speak the server side of
 * the protocol, and the backend connections and pools they route over.
 * The private header. */
#ifndef DBR_H
#define DBR_H

#include <stdbool.h>
#include <stdint.h>

#include <mysql.h>

#include "buf.h"
#include "conf_tls.h"
#include "ctl.h"
#include "ev.h"
#include "mysql_packet.h"
#include "mysql_proto.h"
#include "net.h"
#include "query_class.h"
#include "service.h"

#define DBR_VERSION		"0.1"
#define DBR_MAX_SERVERS		16
#define DBR_NAME_MAX		64
#define DBR_GTID_MAX		512
#define DBR_MAX_LISTEN		8
#define DBR_USER_MAX		81	/* MariaDB: 80 characters */
#define DBR_DB_MAX		193	/* 64 characters, utf8mb3 */

/* ---- failover: configuration (dbr_failover.c) ---- */

struct conf_ctx;
struct conf_directive;
struct conf_stmt;
struct ctl_command;
struct ctl_conn;

struct dbr_failover_conf {
	bool		 enabled;		/* failover yes|no */
	bool		 semi_sync;		/* semi-sync yes|no */
	bool		 lock;			/* failover-lock yes|no */
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
	{ "failover-lock", 1, 1, CONF_BLOCK_NONE, CONF_ONCE, conf_set_flag, \
	    offsetof(type, member.lock), 0, 0 },				\
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
	struct net_addr		 addr;		/* for backend connections */
	bool			 tls;		/* TLS to it (backend-tls) */
};

/* users-file: "NAME *HASH" per line (the mysql_native_password hash, as
 * SELECT PASSWORD('pw') prints it), or "NAME" alone for no password. */
struct dbr_user {
	char			 name[DBR_USER_MAX];
	bool			 has_password;
	uint8_t			 stage2[20];	/* SHA1(SHA1(password)) */
};

struct dbr_users {
	struct dbr_user		*v;
	size_t			 n;
};

struct dbr_listen_conf {
	char			*addr_str;
	struct net_addr		 addr;
	bool			 tls;		/* CLIENT_SSL offered */
	bool			 tls_required;	/* and nothing else accepted */
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
	/* client side */
	struct dbr_listen_conf	 listen[DBR_MAX_LISTEN];
	int			 nlisten;
	char			*users_file;
	struct dbr_users	 users;
	unsigned		 max_clients;
	uint64_t		 client_idle_ms;
	uint64_t		 max_packet;
	struct tls_config	*tls_server;	/* certificate: tls listeners */
	unsigned		 ncerts;
	/* backend-tls: for the servers that say tls */
	struct conf_tls_client	 backend_tls;
	/* routing */
	uint64_t		 max_lag_ms;
	uint64_t		 writer_wait_ms;
	bool			 read_your_writes;
	uint64_t		 ryw_timeout_ms;
	/* backends */
	unsigned		 backend_max;	/* per server */
	uint64_t		 backend_idle_ms;
	uint64_t		 connect_timeout_ms;
	/* ---- failover ---- */
	struct dbr_failover_conf fo;
};

void	*dbr_conf_load(const struct conf_stmt *, struct conf_ctx *);
void	 dbr_conf_free(void *);
/* The password file: its first line. Refused if others may read it. */
int	 dbr_read_secret(const char *path, char **out, char *err,
	    size_t errlen);

/* dbr_users.c */
int	 dbr_users_load(const char *path, struct dbr_users *, char *err,
	    size_t errlen);
void	 dbr_users_free(struct dbr_users *);
const struct dbr_user *dbr_users_find(const struct dbr_users *,
	    const char *name, size_t len);

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
struct dbr_bconn;
struct dbr_client;

/* Administrative state set with dbctl. */
enum dbr_admin { ADMIN_READY, ADMIN_DRAIN, ADMIN_MAINT };
struct dbr_failover;

/* failover-lock: what this dbrouter has of a server's named lock, over
 * its monitor session (dbr_lock.c). */
enum dbr_lock { LOCK_NONE, LOCK_HELD, LOCK_TAKEN };

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
	/* routing and backend connections */
	enum dbr_admin		 admin;
	struct dbr_bconn	*conns;		/* all of them */
	struct dbr_bconn	*idle;		/* the pooled ones, LIFO */
	unsigned		 nconns, nidle;
	struct dbr_client	*waiters;	/* sessions waiting for a slot */
	uint64_t		 queries;	/* commands routed here */
	uint64_t		 queries_prev;	/* at the last rate tick */
	double			 qps;
	uint64_t		 connect_failures;
	/* passive health: a backend connection to it failed on the network
	 * (connect refused, reset, timed out; lost mid-command) and it was
	 * marked down before the monitor could tell */
	uint64_t		 lost_at;	/* ev_now of the last, or 0 */
	uint64_t		 passive_downs;
	struct ev_deferred	 lost_kick;	/* the rest, from the loop */
	uint64_t		 lag_ok_at;	/* ev_now: lag last within max-lag */
	struct metric_series	*m_queries[2];	/* by slot, looked up once */
	/* ---- failover: this server's part (dbr_failover.c) ---- */
	uint64_t		 fo_next_try;	/* no rejoin before (ev_now) */
	int			 fo_semi_role;	/* semi-sync set up for, or -1 */
	char			 fo_note[256];	/* why it is left alone */
	uint64_t		 fo_touched;	/* a job changed it (ev_now) */
	bool			 fo_fresh;	/* a good check since then */
	enum dbr_lock		 fo_lock;	/* failover-lock */
	bool			 fo_lock_release;	/* give it up */
	bool			 fo_lock_asked_get;	/* GET_LOCK, not RELEASE */
};

struct dbr {
	struct service		*svc;
	struct dbr_conf		*conf;
	struct dbr_server	*servers[DBR_MAX_SERVERS];
	int			 nservers;
	bool			 stopping;
	int			 lfds[DBR_MAX_LISTEN];
	int			 nlfds;
	/* what each listener's accept callback gets: which listen it is */
	struct dbr_lsock {
		struct dbr	*d;
		int		 idx;
	}			 lsock[DBR_MAX_LISTEN];
	struct dbr_client	*clients;
	unsigned		 nclients;
	unsigned		 replica_rr;	/* round robin over replicas */
	struct ev_timer		 rate_timer;
	struct metric		*m_queries;	/* {server, route} */
	struct metric		*m_clients;
	struct metric		*m_backends;	/* {server, state} */
	struct metric		*m_client_errors;	/* {reason} */
	struct metric		*m_ryw;		/* {result} */
	struct metric		*m_up;		/* {server} */
	struct metric		*m_read_only;
	struct metric		*m_lag;
	struct metric		*m_checks;	/* {server, result} */
	struct metric		*m_passive;	/* {server} */
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
/* Check now (or as soon as the running one ends), not at the interval. */
void	 dbr_mon_check_now(struct dbr_mon *);
/* A check ended: ok, or why not (the monitor's own words). */
void	 dbr_server_checked(struct dbr_server *, bool ok, const char *why);
/* Passive health: a backend connection to s failed on the network (why).
 * s is down at once; its idle connections close, the sessions waiting
 * on it look again and the monitor checks it, from the loop. The
 * monitor's checks (rise) bring it back. */
void	 dbr_server_lost(struct dbr_server *s, const char *why);
/* The monitor's own failed checks say s is down (fall): more than one
 * broken connection, which may be a one-off. */
bool	 dbr_server_confirmed_down(const struct dbr_server *s);
struct dbr_server *dbr_server_find(struct dbr *, const char *name);

/* dbr_lock.c: failover-lock, run by the monitor as part of each check.
 * The statement for s's lock this check (GET_LOCK, RELEASE_LOCK), or
 * NULL; then its answer (NULL: SQL NULL or no row). */
const char *dbr_lock_sql(struct dbr_server *s);
void	 dbr_lock_result(struct dbr_server *s, const char *value);
/* The monitor's session to s ended: the server released the lock. */
void	 dbr_lock_dropped(struct dbr_server *s);

/* dbr_admin.c: dbrouter's own ctl commands. */
extern const struct ctl_command dbr_commands[];

/* ---- backend connections (dbr_backend.c) ---- */

/* Who a backend connection logs in as; pooled connections are reused
 * only for the same identity. */
struct dbr_ident {
	char		 user[DBR_USER_MAX];
	bool		 has_password;
	uint8_t		 stage1[20];	/* SHA1(password) */
	uint32_t	 caps;		/* what the client negotiated */
	uint8_t		 charset;
};

struct dbr_bconn_ops {
	/* Logged in (or reset, from the pool) and ready for a command. */
	void	(*ready)(struct dbr_bconn *, void *arg);
	/* New bytes in bc->in. */
	void	(*input)(struct dbr_bconn *, void *arg);
	/* Broken: the connection is already closed and freed (compare the
	 * pointer, never follow it); srv is the server it was to; net: the
	 * network failed (reset, closed, timed out), not the protocol. */
	void	(*failed)(struct dbr_bconn *, struct dbr_server *srv,
		    const char *why, bool net, void *arg);
};

enum dbr_bc_state {
	BC_CONNECTING, BC_GREETING, BC_TLS, BC_AUTH, BC_RESETTING, BC_IDLE,
	BC_OWNED,
};

struct dbr_bconn {
	struct dbr_server	*srv;
	struct dbr_bconn	*next, *prev;		/* srv->conns */
	struct dbr_bconn	*inext, *iprev;		/* srv->idle */
	enum dbr_bc_state	 state;
	int			 fd;
	struct tls_conn		*tls;		/* server says tls */
	/* TLS holds decrypted bytes the fd will not wake us for */
	struct ev_deferred	 kick;
	struct buf		 in, out;
	struct dbr_ident	 id;
	uint32_t		 caps;		/* negotiated with the server */
	uint32_t		 thread_id;
	char			 db[DBR_DB_MAX];	/* current, as we know */
	struct ev_timer		 timer;		/* connect / idle timeout */
	uint64_t		 idle_since;
	const struct dbr_bconn_ops *ops;
	void			*arg;
	uint8_t			 seq;		/* next in the login exchange */
	uint8_t			 scramble[MYSQL_SCRAMBLE_LEN];	/* greeting's */
	bool			 paused;	/* owner's output is full */
	bool			 net_failed;	/* bc_fail: the network's fault */
};

/* A connection for the session (ops, arg): an idle pooled one with the
 * same identity (ready is deferred) or a new one. NULL when the server is
 * at backend-max-connections (why says so); the caller waits. */
struct dbr_bconn *dbr_bconn_get(struct dbr_server *, const struct dbr_ident *,
	    const struct dbr_bconn_ops *, void *arg, char *why, size_t whylen);
/* Stop or resume reading from the server (the owner's output is full). */
void	 dbr_bconn_pause(struct dbr_bconn *, bool);
/* Give it back: reset and pooled when reusable, else closed. */
void	 dbr_bconn_put(struct dbr_bconn *, bool reusable);
void	 dbr_bconn_close(struct dbr_bconn *);
/* Queue bytes already in bc->out; flushes and watches for input. */
void	 dbr_bconn_send(struct dbr_bconn *);
/* Close every connection of s (server removed, or shutting down). */
void	 dbr_bconns_close_all(struct dbr_server *);
/* Close s's pooled connections (s is down: they are likely dead too). */
void	 dbr_bconns_close_idle(struct dbr_server *);
unsigned dbr_bconns_busy(const struct dbr_server *);

/* ---- client sessions (dbr_client.c, dbr_route.c) ---- */

int	 dbr_listen_start(struct dbr *, char *err, size_t errlen);
void	 dbr_listen_stop(struct dbr *);
void	 dbr_clients_close_all(struct dbr *);
/* A backend slot freed up on s: wake a waiting session. */
void	 dbr_server_slot_free(struct dbr_server *);
/* The writer changed: sessions waiting for one go on. */
void	 dbr_clients_writer_changed(struct dbr *);

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
/* s was marked down passively: see to the writer (from the loop). */
void	 dbr_failover_lost(struct dbr_server *s);
void	 dbr_failover_status(struct dbr *, struct ctl_conn *);
void	 dbr_failover_free(struct dbr *);
/* ctl: switchover NAME [TIMEOUT] (in dbr_admin.c's table) */
void	 dbr_cmd_switchover(struct ctl_conn *, int, char **, void *);

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
