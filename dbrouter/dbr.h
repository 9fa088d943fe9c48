/* dbrouter — MySQL primary/replica query router of www.foobar.com. This
 * first part holds the configuration and the monitor: every server is
 * checked over its own non-blocking libmariadb session for read_only,
 * replication state, lag and GTID positions. The private header. */
#ifndef DBR_H
#define DBR_H

#include <stdbool.h>
#include <stdint.h>

#include <mysql.h>

#include "ev.h"
#include "service.h"

#define DBR_VERSION		"0.1"
#define DBR_MAX_SERVERS		16
#define DBR_NAME_MAX		64
#define DBR_GTID_MAX		512

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
};

struct dbr;
struct dbr_mon;

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

#endif
