/* webd — the web tier of www.foobar.com: static files, dynamic pages via
 * FastCGI (php-fpm) or an HTTP upstream, plain and TLS listeners.
 * The one private header of the daemon. */
#ifndef WEBD_H
#define WEBD_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "alog.h"
#include "buf.h"
#include "ev.h"
#include "http.h"
#include "net.h"
#include "service.h"

#define WEBD_VERSION		"0.1"
#define WEBD_MAX_LISTEN		16
#define WEBD_MAX_INDEX		8
#define WEBD_MAX_LOCATIONS	64
#define WEBD_PATH_MAX		PATH_MAX

/* ---- configuration (webd_conf.c) ---- */

enum webd_handler { H_STATIC, H_FASTCGI, H_PROXY };
enum webd_match { M_PREFIX, M_SUFFIX, M_EXACT };
enum webd_logfmt { LOG_COMBINED, LOG_JSON };

struct webd_location {
	enum webd_match		 match;
	char			*pattern;	/* "/api/", "*.php" -> ".php" */
	enum webd_handler	 handler;
	struct net_addr		 upstream;	/* fastcgi / proxy target */
	char			*upstream_str;
	char			*script;	/* fastcgi: fixed script, or NULL */
};

struct webd_listen {
	struct net_addr		 addr;
	char			*addr_str;
	struct tls_config	*tls;		/* NULL: plain HTTP */
};

struct webd_conf {
	struct service_conf	 svc;
	struct webd_listen	 listen[WEBD_MAX_LISTEN];
	int			 nlisten;
	char			*root;
	char			*index[WEBD_MAX_INDEX];
	int			 nindex;
	bool			 gzip_static;
	bool			 listing;
	char			*health;	/* "/healthz" or NULL */
	char			*access_log;
	enum webd_logfmt	 log_format;
	struct webd_location	 loc[WEBD_MAX_LOCATIONS];
	int			 nloc;
	uint64_t		 workers;
	uint64_t		 max_conns;
	uint64_t		 max_head;	/* bytes of request head */
	uint64_t		 max_body;	/* 413 past it */
	uint64_t		 header_timeout_ms;
	uint64_t		 idle_timeout_ms;
	uint64_t		 body_timeout_ms;
	uint64_t		 upstream_timeout_ms;
};

void	*webd_conf_load(const struct conf_stmt *, struct conf_ctx *);
void	 webd_conf_free(void *);
/* The location a decoded path falls in, or NULL for plain static. */
const struct webd_location *webd_location_find(const struct webd_conf *,
	    const char *path, size_t len);

/* ---- MIME types (webd_mime.c) ---- */

/* Content-Type for a file name by its extension (case-insensitive), from a
 * built-in table; "application/octet-stream" when unknown. */
const char *mime_type(const char *name, size_t len);

/* ---- static files (webd_static.c) ----
 *
 * Pure decision + open: no socket I/O, so unit tests drive it directly.
 * static_serve() maps the request path beneath the root (no way out: "..",
 * encoded dots, NUL, symlinks leaving the root), applies conditional and
 * range headers and writes the status line and entity headers into head
 * (WITHOUT the final empty line: the caller adds Date, Server, Connection
 * and the CRLF). For a body it opens the file: res->fd, offset, length. */

struct static_conf {
	int		 root_fd;	/* O_PATH|O_DIRECTORY of the root */
	char *const	*index;		/* index file names, in order */
	int		 nindex;
	bool		 gzip_static;	/* serve NAME.gz to gzip-accepting clients */
	bool		 listing;	/* directory listing (off by default) */
};

/* The request facts static_serve needs, copied out of the parser's view. */
struct static_req {
	enum http_method method;	/* GET or HEAD; others -> 405 */
	int		 minor;
	const char	*path;		/* origin-form target before '?', raw */
	size_t		 path_len;
	const char	*if_none_match;	size_t if_none_match_len;
	const char	*if_modified_since; size_t if_modified_since_len;
	const char	*range;		size_t range_len;
	const char	*if_range;	size_t if_range_len;
	const char	*accept_encoding; size_t accept_encoding_len;
};

struct static_result {
	int		 status;	/* 200 206 301 304 400 403 404 405 416 */
	int		 fd;		/* file to send, or -1 */
	off_t		 offset;
	off_t		 length;	/* bytes of body to send */
	const char	*reason;	/* short why, for logs (static string) */
};

/* 0 with res filled and head written for every status. Errors and
 * redirects carry a short text/plain body, appended to body (res->fd is
 * then -1); a file body is res->fd from offset for length bytes (the
 * caller closes fd). -1 only if head or body ran out of room. */
int	 static_serve(const struct static_conf *, const struct static_req *,
	    struct buf *head, struct buf *body, struct static_result *res);

/* Percent-decode and normalise an origin-form path into out (NUL-ended,
 * starting with '/'): resolves "." and "..", collapses "//". Refuses bad
 * %-escapes, %00 and an encoded "/" (%2F would change the segments) with
 * -1 (400), and a path that climbs above the root with -2 (403). Returns
 * the length otherwise. */
ssize_t	 static_path_normalize(const char *raw, size_t len, char *out,
	    size_t outlen);
/* Open a normalised path beneath root_fd (never above it, symlinks
 * included); the fd or -1 with errno. */
int	 static_open_beneath(int root_fd, const char *path);
/* The status an open error answers with: 404, 403, else 500. */
int	 static_errno_status(int err);

/* ---- FastCGI codec (webd_fcgi.c): records, params, CGI response head ---- */

#define FCGI_VERSION_1		1
#define FCGI_BEGIN_REQUEST	1
#define FCGI_ABORT_REQUEST	2
#define FCGI_END_REQUEST	3
#define FCGI_PARAMS		4
#define FCGI_STDIN		5
#define FCGI_STDOUT		6
#define FCGI_STDERR		7
#define FCGI_RESPONDER		1
#define FCGI_MAX_CONTENT	65535

struct fcgi_param {
	const char	*name;	size_t name_len;
	const char	*value;	size_t value_len;
};

/* Writers append whole records to out; -1 (ENOBUFS) leaves out unchanged. */
int	 fcgi_write_begin(struct buf *out, uint16_t id, bool keep_conn);
/* All params, split over as many PARAMS records as needed, then the empty
 * PARAMS record that ends them. */
int	 fcgi_write_params(struct buf *out, uint16_t id,
	    const struct fcgi_param *, size_t n);
/* Body bytes as STDIN records (split at FCGI_MAX_CONTENT); len 0 writes
 * the empty record that ends the stream. */
int	 fcgi_write_stdin(struct buf *out, uint16_t id, const void *, size_t len);
int	 fcgi_write_abort(struct buf *out, uint16_t id);

struct fcgi_record {
	uint8_t		 type;
	uint16_t	 id;
	const char	*content;	/* inside the input, zero-copy */
	size_t		 content_len;
	/* FCGI_END_REQUEST */
	uint32_t	 app_status;
	uint8_t		 protocol_status;
};

#define FCGI_NEED_MORE	0
#define FCGI_RECORD	1
#define FCGI_ERROR	(-1)

/* Parse one record at the start of in: FCGI_RECORD with *consumed set
 * (header + content + padding), FCGI_NEED_MORE, or FCGI_ERROR (bad version,
 * malformed END_REQUEST). */
int	 fcgi_parse_record(const char *in, size_t len, size_t *consumed,
	    struct fcgi_record *);

/* The CGI response head at the start of the application's STDOUT:
 * "Status: 404 Not Found", "Location:", "Content-Type:" and other fields
 * up to the empty line (CRLF or bare LF as CGI allows). Returns the head's
 * length, 0 when incomplete, -1 when malformed (caller answers 502). */
struct cgi_head {
	int		 status;	/* from Status:, 302 with Location, else 200 */
	struct http_header *headers;	/* caller's storage, Status: excluded */
	size_t		 nheaders;
	size_t		 cap;
	bool		 has_length;	/* Content-Length given by the app */
	uint64_t	 length;	/* its value */
};
int	 cgi_parse_head(const char *in, size_t len, size_t max_head,
	    struct cgi_head *);

/* ---- statistics (webd.c) ----
 *
 * What a process serving requests counts, in a slot of its own: plain
 * memory with `workers 1`; else a slot per worker process in memory the
 * master maps MAP_SHARED before forking (a pool of four per worker index,
 * as generations overlap on reload), so a slot has one writer at a time.
 * Workers add with relaxed atomics and the master reads at any time. When
 * a worker is reaped its slot is added to the master's retired totals and
 * cleared for the next one: counters never go down. Rendered: retired +
 * every slot. Every member is a uint64_t: slots are summed word by word. */

#define WEBD_NCLASSES		5	/* 1xx .. 5xx */
#define WEBD_NLIMITS		9	/* webd.c's limit_names[] */
#define WEBD_NBOUNDS		14	/* webd.c's duration_bounds[] */

struct webd_stats {
	uint64_t	 requests[WEBD_NCLASSES];
	uint64_t	 body_bytes;
	uint64_t	 duration[WEBD_NBOUNDS + 1];	/* per bucket, last +Inf */
	uint64_t	 duration_us;			/* their sum */
	uint64_t	 limits[WEBD_NLIMITS];
	uint64_t	 conns;		/* open now: a gauge, never retired */
};

static inline void
webd_stat_add(uint64_t *p, uint64_t n)
{
	__atomic_fetch_add(p, n, __ATOMIC_RELAXED);
}

/* The memory the master shares with its workers. */
struct webd_shared {
	uint64_t		 gen;	/* generation that accepts connections */
	struct webd_stats	 slot[];	/* one per worker process */
};

/* ---- runtime (webd.c, webd_conn.c, webd_workers.c) ---- */

#define WEBD_MAX_WORKERS	64
#define WEBD_GEN_STOP		UINT64_MAX	/* shared gen: daemon stopping */

struct ctl_conn;
struct metric_series;
struct tls_conn;
struct webd_conn;
struct webd_workers;

struct webd {
	struct service		*svc;
	struct ev_loop		*loop;		/* this process's */
	struct webd_conf	*conf;		/* the running configuration */
	int			 lfd[WEBD_MAX_LISTEN];	/* sockets we accept on */
	struct tls_config	*ltls[WEBD_MAX_LISTEN];	/* ref per listener */
	int			 nlfd;
	int			 root_fd;
	struct static_conf	 sconf;
	struct webd_conn	*conns;
	size_t			 nconns;
	bool			 stopping;	/* accepting no more: draining */
	/* Called when stopping and the last connection is gone. */
	void			(*drained)(struct webd *);
	struct alog		 alog;		/* access log */
	char			 date[HTTP_DATE_LEN];	/* Date header, */
	time_t			 date_sec;		/* as of this second */
	/* statistics: where this process counts, and what is summed */
	struct webd_stats	*stats;
	struct webd_stats	*slots;
	size_t			 nslots;
	struct webd_stats	 retired;	/* of worker processes reaped */
	struct webd_stats	 own;		/* workers 1: the only slot */
	/* workers > 1 */
	struct webd_workers	*wk;		/* the master's process table */
	struct webd_shared	*shared;
	uint64_t		 gen;		/* generation forked workers get */
	int			 worker;	/* a worker's index; -1: none */
	struct ev_timer		 stop_timer;	/* a worker's drain deadline */
	/* metrics and status (the service process) */
	struct metric_series	*s_requests[WEBD_NCLASSES];
	struct metric_series	*s_bytes;
	struct metric_series	*s_duration;
	struct metric_series	*s_limits[WEBD_NLIMITS];
	uint64_t		 qps_ring[10];	/* requests seen, per second */
	uint64_t		 qps_last_sec;
	struct ev_timer		 qps_timer;
};

/* webd.c */
/* One socket per listener into fds[], SO_REUSEPORT. 0, or -1 and err
 * (what was bound stays in fds[] for the caller to close; the rest -1). */
int	 webd_bind(struct webd *, int *fds, char *err, size_t errlen);
/* Accept on w->lfd[] with w->loop. */
int	 webd_serve(struct webd *, char *err, size_t errlen);
/* Stop accepting and drain: see webd_conns_drain; w->drained() once no
 * connection is left (at once when there is none). */
void	 webd_serve_stop(struct webd *);
/* True once the daemon as a whole is stopping (health answers 503). */
bool	 webd_daemon_stopping(struct webd *);
void	 webd_limit_hit(struct webd *, const char *limit);
/* A response finished: its status, body bytes and milliseconds taken. */
void	 webd_count_response(struct webd *, int status, uint64_t body_bytes,
	    uint64_t ms);
void	 webd_stats_total(const struct webd *, struct webd_stats *);
uint64_t webd_stats_requests(const struct webd_stats *);
/* dst += src, word by word, reading src atomically. */
void	 webd_stats_add(struct webd_stats *dst, const struct webd_stats *src);
double	 webd_qps(struct webd *);

int	 webd_log_reopen(struct webd *, char *err, size_t errlen);

/* webd_conn.c */
void	 webd_accept(struct ev_loop *, int fd, unsigned events, void *arg);
/* Graceful stop: idle connections get a short grace to send one more
 * request (answered with Connection: close) since closing them at once
 * would race a request already on its way; busy ones close after their
 * response. */
void	 webd_conns_drain(struct webd *);
void	 webd_conns_close_all(struct webd *);

/* webd_workers.c: `workers N` with N > 1. The service process becomes a
 * master that binds every listener N times, keeps those sockets, forks N
 * workers (worker k accepts on socket k of each listener with its own
 * loop), reaps and respawns them and replaces them on reload. */
int	 webd_workers_start(struct webd *, char *err, size_t errlen);
/* Before a reload switches anything: -1 and err if it cannot be done. */
int	 webd_workers_reload_check(struct webd *, char *err, size_t errlen);
/* After it switched: a new generation with the new configuration, the
 * old one drains. */
void	 webd_workers_reload(struct webd *);
void	 webd_workers_stop(struct webd *);
void	 webd_workers_signal(struct webd *, int signo);
void	 webd_workers_status(struct webd *, struct ctl_conn *);
size_t	 webd_workers_running(const struct webd *);
uint64_t webd_workers_restarts(const struct webd *);
/* After the loop ended: SIGKILL and reap what is left, unmap, close. */
void	 webd_workers_cleanup(struct webd *);
/* In a worker: a newer generation took over (accept nothing more). */
static inline bool
webd_worker_replaced(const struct webd *w)
{
	return w->shared != NULL &&
	    __atomic_load_n(&w->shared->gen, __ATOMIC_RELAXED) != w->gen;
}
/* In a worker (SIGTERM, or replaced): stop accepting and drain, for at
 * most shutdown-timeout; then the worker exits. */
void	 webd_worker_retire(struct webd *);

#endif
