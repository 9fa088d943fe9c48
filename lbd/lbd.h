/* lbd — the TLS load balancer of www.foobar.com: HTTPS frontends with the
 * site certificates, HTTP/1.1 reverse proxy over pools of web servers with
 * health checks, re-encrypting to them. The one private header. */
#ifndef LBD_H
#define LBD_H

#include <stdbool.h>
#include <stdint.h>

#include "alog.h"
#include "buf.h"
#include "ctl.h"
#include "ev.h"
#include "http.h"
#include "lbd_balance.h"
#include "lbd_state.h"
#include "net.h"
#include "service.h"
#include "stream.h"

#define LBD_VERSION		"0.1"
#define LBD_MAX_FRONTENDS	16
#define LBD_MAX_POOLS		32
#define LBD_MAX_SERVERS		64	/* per pool */
#define LBD_NAME_MAX		LB_STATE_NAME_MAX
/* lbctl server drain ... wait [TIMEOUT] */
#define LB_DRAIN_WAIT_DEFAULT_MS	(60 * 1000)
#define LB_DRAIN_WAIT_MAX_MS		(24 * 3600 * 1000)

/* ---- configuration (lbd_conf.c) ---- */

enum lb_check_kind { CHECK_NONE, CHECK_TCP, CHECK_HTTP, CHECK_TLS };

struct lb_server_conf {
	char			*name;
	struct net_addr		 addr;
	char			*addr_str;
	unsigned		 weight;
};

struct lb_pool_conf {
	char			*name;
	enum lb_balance		 balance;
	char			*hash_header;
	struct lb_server_conf	 servers[LBD_MAX_SERVERS];
	int			 nservers;
	/* towards the servers */
	struct tls_config	*tls;		/* client side; NULL: plain */
	char			*tls_name;	/* expected name; NULL: address */
	bool			 tls_verify;
	uint64_t		 connect_timeout_ms;
	uint64_t		 server_timeout_ms;	/* idle wait for bytes */
	uint64_t		 tunnel_timeout_ms;	/* idle Upgrade tunnel */
	uint64_t		 keepalive_ms;	/* idle pooled connection life */
	unsigned		 max_idle;	/* pooled idle connections/server */
	unsigned		 max_conns;	/* per server, 0: none */
	unsigned		 retries;
	unsigned		 queue_max;	/* waiting for a full server */
	uint64_t		 queue_timeout_ms;
	bool			 send_proxy_v2;	/* PROXY v2 header first */
	/* health */
	enum lb_check_kind	 check;
	char			*check_path;
	int			 check_status;	/* expected; 0: any 2xx/3xx */
	uint64_t		 check_interval_ms;
	uint64_t		 check_timeout_ms;
	unsigned		 rise, fall;
	unsigned		 eject_after;	/* passive: failures in a row */
};

struct lb_frontend_conf {
	char			*name;
	struct net_addr		 addr;
	char			*addr_str;
	struct tls_config	*tls;		/* server side; NULL: plain */
	int			 ncerts;
	char			*pool_name;
	int			 pool;		/* index, resolved after parsing */
	bool			 redirect_https;
	uint64_t		 hsts_max_age;	/* 0: no HSTS */
	bool			 hsts_subdomains;
	uint64_t		 header_timeout_ms;
	uint64_t		 idle_timeout_ms;
	uint64_t		 max_conns;
	bool			 proxy_protocol;	/* PROXY header first */
};

struct lb_conf {
	struct service_conf	 svc;
	struct lb_frontend_conf	 fe[LBD_MAX_FRONTENDS];
	int			 nfe;
	struct lb_pool_conf	 pool[LBD_MAX_POOLS];
	int			 npool;
	char			*access_log;
	char			*state_file;
	uint64_t		 max_body;	/* 0: no cap */
	uint64_t		 max_conns;	/* client connections, all frontends */
};

void	*lb_conf_load(const struct conf_stmt *, struct conf_ctx *);
void	 lb_conf_free(void *);
int	 lb_conf_pool_index(const struct lb_conf *, const char *name);

/* ---- runtime ---- */

struct lb;
struct lb_client;
struct lb_bconn;
struct lb_wait;

/* Counters snapshotted once a second (lbd_stats.c): status shows rates
 * and means over the last LB_WINDOW_SECS seconds. */
#define LB_WINDOW_SECS		10
#define LB_WINDOW_SLOTS		(LB_WINDOW_SECS + 1)
#define LB_WINDOW_VALUES	3
struct lb_snap {
	uint64_t		 t;		/* ev_now() ms */
	uint64_t		 v[LB_WINDOW_VALUES];
};
struct lb_window {
	struct lb_snap		 snap[LB_WINDOW_SLOTS];
	unsigned		 head, len;	/* next slot, slots used */
};

/* A server of a pool at run time; survives reloads by (pool, name). */
struct lb_server {
	struct lb_pool		*pool;
	char			 name[LBD_NAME_MAX];
	struct net_addr		 addr;
	char			 addr_str[NET_ADDRSTRLEN];
	struct lb_target	 t;		/* what the balancer reads */
	unsigned		 conf_weight;
	bool			 weight_set;	/* by lbctl: survives reloads */
	bool			 retired;	/* gone from the config */
	bool			 fresh;		/* new: takes its state-file line */
	struct lb_health	 health;
	char			 check_result[96];	/* last, for status */
	unsigned		 fail_run;	/* passive: failures in a row */
	struct lb_bconn		*idle;		/* pooled idle connections */
	/* the last full TLS handshake's session: new connections and
	 * checks resume it (dropped on reload: the CA may have changed) */
	struct tls_session	*tls_session;
	unsigned		 nidle;
	unsigned		 nconns;	/* open, idle or busy */
	/* checks */
	struct ev_timer		 check_timer;
	struct lb_check		*check;		/* the one in flight, or NULL */
	/* numbers for status and metrics */
	uint64_t		 requests, failures;
	uint64_t		 answered, latency_sum_us;	/* ok ones */
	struct lb_window	 win;
};

struct lb_pool {
	struct lb		*lb;
	unsigned		 refs;		/* lbd, and each request on it */
	struct lb_pool_conf	*conf;
	struct lb_server	*servers[LBD_MAX_SERVERS];
	struct lb_target	*targets[LBD_MAX_SERVERS];
	int			 nservers;
	struct lb_balancer	 bal;
	/* requests waiting while every usable server is at
	 * max-connections-per-server, oldest first (lbd_client.c) */
	struct lb_req		*queue, **queue_tail;
	unsigned		 nqueued;
	uint64_t		 queue_timeouts;
};

struct lb_frontend {
	struct lb		*lb;
	struct lb_frontend_conf	*conf;
	int			 fd;
	struct tls_config	*tls;		/* ref */
	uint64_t		 nconns;
	uint64_t		 refused;	/* at max-connections */
	uint64_t		 requests;
	uint64_t		 proxy_refused;	/* connections without a header */
	struct lb_window	 win;
};

struct lb {
	struct service		*svc;
	struct lb_conf		*conf;
	struct lb_frontend	 fe[LBD_MAX_FRONTENDS];
	int			 nfe;
	struct lb_pool		*pools[LBD_MAX_POOLS];
	int			 npool;
	struct lb_client	*clients;
	size_t			 nclients;
	bool			 stopping;
	bool			 state_dirty;	/* the state file is behind */
	struct lb_wait		*waits;		/* drain ... wait, answer due */
	struct ev_timer		 stats_timer;
	struct alog		 alog;		/* access log */
	struct metric		*m_requests;	/* {frontend, class} */
	struct metric		*m_server_requests;	/* {pool, server} */
	struct metric		*m_server_failures;	/* {pool, server} */
	struct metric		*m_server_tls;	/* {pool, server, session} */
	struct metric		*m_server_up;	/* gauge {pool, server} */
	struct metric		*m_server_latency;	/* {pool, server} */
	struct metric		*m_duration;	/* {frontend} */
	struct metric		*m_retries;
	struct metric		*m_proxy_refused;	/* {frontend, reason} */
	struct metric		*m_handshakes;	/* {frontend, session} */
};

static inline struct ev_loop *
lb_loop(struct lb *lb)
{
	return service_loop(lb->svc);
}

/* lbd_pool.c: pools and servers, built from a configuration; on reload
 * servers with the same pool and name keep their state. */
int	 lb_pools_build(struct lb *, struct lb_conf *, char *err, size_t errlen);
void	 lb_pools_free(struct lb *);
struct lb_server *lb_server_find(struct lb *, const char *pool, const char *name);
/* A request on s ended / a connection to s closed: a retired server is
 * freed with its last user. */
void	 lb_server_put(struct lb_server *);
void	 lb_server_conn_closed(struct lb_server *);
void	 lb_pool_unref(struct lb_pool *);
/* A request to s ended: ok false counts towards passive ejection. */
void	 lb_server_result(struct lb_server *, bool ok, uint64_t latency_us);
void	 lb_server_set_up(struct lb_server *, bool up, const char *why);

/* lbd_admin.c: the server commands and the state file. */
extern const struct ctl_command lb_commands[];
/* Apply the state file to the servers new since the last call (all of
 * them at start); problems are logged, never fatal. */
void	 lb_state_load(struct lb *);
/* s has no request in flight any more (from lb_server_put). */
void	 lb_admin_idle(struct lb_server *);
/* Answer the waits still due: lbd stops. */
void	 lb_admin_stop(struct lb *);

/* lbd_stats.c: windows over the counters, and the status lines. init
 * before anything that may fail, start once the frontends are there. */
void	 lb_window_push(struct lb_window *, uint64_t now,
	    const uint64_t v[LB_WINDOW_VALUES]);
void	 lb_stats_server_new(struct lb_server *, uint64_t now);
void	 lb_stats_init(struct lb *);
void	 lb_stats_start(struct lb *);
void	 lb_stats_stop(struct lb *);
void	 lb_status(struct service *, struct ctl_conn *);

/* lbd.c: a proxy-protocol connection closed without a valid header;
 * reason is "invalid", "closed" or "timeout". */
void	 lb_proxy_refused(struct lb_frontend *, const char *peer,
	    const char *reason, const char *why);

/* lbd_check.c: active health checks */
void	 lb_check_init(struct lb_server *);
void	 lb_checks_start(struct lb_pool *);
void	 lb_check_stop(struct lb_server *);

/* lbd_bconn.c: connections to servers, pooled when idle. */
struct lb_bconn_ops {
	void	(*ready)(struct lb_bconn *, void *arg);	/* connected (+TLS) */
	void	(*failed)(struct lb_bconn *, void *arg, const char *why);
	void	(*io)(struct lb_bconn *, void *arg, unsigned events);
};
struct lb_bconn {
	struct lb_server	*srv;
	struct stream		 io;
	int			 state;
	bool			 reused;
	struct ev_timer		 timer;
	const struct lb_bconn_ops *ops;
	void			*arg;
	struct lb_bconn		*next;		/* in srv->idle */
	uint64_t		 t_connect;
};
/* Whom a server connection is for, as send-proxy-v2 tells the server: the
 * client's address and the address it connected to. */
struct lb_origin {
	struct net_addr		 src, dst;
};
/* An idle pooled connection to s, or a new one (connect, PROXY header with
 * send-proxy-v2, TLS): ops->ready or ops->failed is called later, never
 * from inside this call. With send-proxy-v2 a pooled connection is only
 * reused for the same origin (NULL: a LOCAL header). */
struct lb_bconn *lb_bconn_get(struct lb_server *, const struct lb_origin *,
	    const struct lb_bconn_ops *, void *arg);
/* Always a new connection (health checks: a LOCAL header). */
struct lb_bconn *lb_bconn_new(struct lb_server *, const struct lb_bconn_ops *,
	    void *arg);
/* Close at once, whatever its state; no callback follows. */
void	 lb_bconn_cancel(struct lb_bconn *);
void	 lb_server_close_idle(struct lb_server *);
/* Back to the pool (reusable) or closed. */
void	 lb_bconn_release(struct lb_bconn *, bool reusable);
void	 lb_bconn_watch(struct lb_bconn *, unsigned events);

/* lbd_client.c: client connections. */
/* A server of p may have room again (a request ended, it came up, its
 * admin state or weight changed): queued requests get their turn. */
void	 lb_pool_queue_run(struct lb_pool *);
void	 lb_accept(struct ev_loop *, int fd, unsigned events, void *arg);
void	 lb_clients_drain(struct lb *);
void	 lb_clients_close_all(struct lb *);


#endif
