/* ctl — the control protocol every daemon answers and every ctl tool speaks.
 *
 * A SOCK_STREAM Unix socket (mode 0660), one request per connection:
 *
 *	request	= word *( (SP / HTAB) word ) [CR] LF	at most CTL_LINE_MAX
 *	word	= 1*( plain / quoted )			bytes before CR LF,
 *	quoted	= DQUOTE *( char / "\" DQUOTE / "\\" ) DQUOTE	CTL_MAX_WORDS
 *							words, UTF-8, no
 *							control characters
 *	reply	= ( "ok" / "error: " message ) LF *payload-line EOF
 *
 * A backslash outside quotes is an ordinary character; inside quotes only
 * \" and \\ are escapes. "" is an empty word. A request must end with LF:
 * bytes up to EOF without one are refused (a cut-off request is never run).
 * Bytes after the first line are read and ignored. Payload lines may follow
 * an error line too (details such as config errors on reload).
 *
 * Server: handlers run from the event loop with the words of the request;
 * they reply with ctl_reply_ok/ctl_reply_error, add payload with
 * ctl_printf/ctl_write and finish with ctl_end (or just return: a handler
 * that returns without ctl_end or ctl_stream is ended for it). A handler
 * that answers later, or streams, calls ctl_stream first; then the
 * connection stays open, output is flushed as the socket allows, and
 * on_close fires exactly once when it goes away for any reason (client
 * gone, dropped for falling behind, after ctl_end has flushed, or
 * ctl_server_free), after which the ctl_conn pointer is invalid. on_close
 * never runs inside a ctl_* call made by the daemon, except ctl_server_free.
 * A client that only shuts its write side (echo watch | socat -t 60 ...)
 * keeps its stream; closing the socket ends it. A stream whose output
 * passes output_max while the socket takes nothing is dropped (counted).
 *
 * The first line written (explicitly or by the first payload) is the
 * status; ctl_reply_error discards payload not yet sent to the client, and
 * once some of it is sent appends the error line instead. */
#ifndef STACKD_CTL_H
#define STACKD_CTL_H

#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "buf.h"

#define CTL_LINE_MAX		4096	/* request bytes, CR LF excluded */
#define CTL_MAX_WORDS		64	/* words in a request, command too */
#define CTL_ERROR_MAX		1024	/* bytes of an error message */
#define CTL_TIMEOUT_MS		5000	/* whole request line must arrive */
#define CTL_STALL_MS		30000	/* reply stalled this long: dropped */
#define CTL_MAX_CONNS		64
#define CTL_OUTPUT_MAX		(4 * 1024 * 1024)
#define CTL_OUTPUT_MIN		(CTL_ERROR_MAX + 64)	/* lower is raised */
#define CTL_ALLOW_GIDS_MAX	16

struct ev_loop;
struct ctl_server;
struct ctl_conn;

/* argv[0] is the command, argv[argc] is NULL. The words live in the
 * connection's input buffer: copy what must outlive the call. */
typedef void (*ctl_handler)(struct ctl_conn *, int argc, char **argv, void *arg);
typedef void (*ctl_close_cb)(struct ctl_conn *, void *arg);

/* Command tables end with a NULL name. Argument counts exclude the name;
 * max_args -1 means no limit (CTL_MAX_WORDS still applies). A command with
 * sub-words ("server drain NAME") dispatches them in its handler. Without
 * a "help" entry, help lists the usages. */
struct ctl_command {
	const char	*name;
	int		 min_args;
	int		 max_args;
	const char	*usage;		/* "server drain NAME [wait]", or NULL */
	ctl_handler	 fn;
};

/* Zero fields keep the current value (the CTL_* defaults above). */
struct ctl_limits {
	unsigned	 timeout_ms;	/* request line must arrive within */
	unsigned	 stall_ms;	/* ended reply with no write progress */
	size_t		 max_conns;	/* more: "too many connections" */
	size_t		 output_max;	/* reply bytes buffered per connection */
};

struct ctl_stats {
	uint64_t	 requests;	/* complete request lines */
	uint64_t	 errors;	/* error replies, all causes */
	uint64_t	 refused;	/* permission denied */
	uint64_t	 busy;		/* too many connections */
	uint64_t	 timeouts;	/* request late, or reply stalled */
	uint64_t	 overflows;	/* over output_max (stream dropped) */
	uint64_t	 active;	/* connections open now */
};

/* Binds path (a stale socket file is replaced, a live one refused), sets
 * its mode, listens and accepts on loop. The table and arg must outlive
 * the server. NULL with err filled on failure. */
struct ctl_server *ctl_server_new(struct ev_loop *, const char *path,
		    mode_t mode, const struct ctl_command *table, void *arg,
		    char *err, size_t errlen);
/* Closes every connection (on_close fires for streams), the listener, and
 * removes the socket file if it is still the one bound. Not from inside a
 * ctl callback. */
void		 ctl_server_free(struct ctl_server *);
/* In a child forked from the server's process: close the inherited
 * listener and connection descriptors and free, without touching the
 * loop (the parent's), the socket file or the parent's clients (no reply,
 * no on_close). NULL is fine. */
void		 ctl_server_forget(struct ctl_server *);
void		 ctl_server_set_limits(struct ctl_server *,
		    const struct ctl_limits *);
void		 ctl_server_set_timeout(struct ctl_server *, unsigned ms);
/* Peers are let in when their uid is 0 or the daemon's euid, or one of
 * their groups is the daemon's egid or an allowed gid. 0, or -1 when
 * CTL_ALLOW_GIDS_MAX gids are already allowed. */
int		 ctl_server_allow_gid(struct ctl_server *, gid_t);
struct ctl_stats ctl_server_stats(const struct ctl_server *);
const char	*ctl_server_path(const struct ctl_server *);

void		 ctl_reply_ok(struct ctl_conn *);
void		 ctl_reply_error(struct ctl_conn *, const char *fmt, ...)
		    __attribute__((format(printf, 2, 3)));
/* Payload; the caller includes "\n". 0, or -1 when the output is over its
 * cap or the connection is ending or gone (a stream is then dropped). */
int		 ctl_printf(struct ctl_conn *, const char *fmt, ...)
		    __attribute__((format(printf, 2, 3)));
int		 ctl_write(struct ctl_conn *, const void *, size_t);
/* Flush what is buffered, then close. Idempotent. */
void		 ctl_end(struct ctl_conn *);
/* Only from inside the handler: keep the connection after it returns. */
void		 ctl_stream(struct ctl_conn *, ctl_close_cb on_close, void *arg);
uid_t		 ctl_conn_uid(const struct ctl_conn *);
gid_t		 ctl_conn_gid(const struct ctl_conn *);
pid_t		 ctl_conn_pid(const struct ctl_conn *);

/* Splits line (NUL-terminated, no LF) in place into words, decoding quotes.
 * argv must hold max + 1 pointers; argv[argc] is set to NULL. Returns argc
 * (0 for a blank line), or -1 with *error set to a static reason. */
int		 ctl_split(char *line, char **argv, int max, const char **error);
/* Appends argv as one request line (no LF), quoting the words that need it,
 * so that ctl_split gives them back. -1 with *error set and the buffer as
 * it was: errno EINVAL if a word holds a control character (tab aside) or
 * bad UTF-8, ENOBUFS when the buffer's cap is reached. */
int		 ctl_join(struct buf *, int argc, char *const argv[],
		    const char **error);

/* Client: connect, send argv as one request, copy the payload to out until
 * EOF (after an error line too). timeout_ms (0: none) bounds connecting and
 * the first reply line, not a stream. 0 for "ok", 1 for "error: ..." (the
 * message in err), -1 on connection or protocol failure or a word that
 * cannot be sent (err says what, e.g. "connect /run/stackd/lbd.sock: No
 * such file or directory (is lbd running?)"). Blocking: for CLIs only. */
int		 ctl_request(const char *path, int argc, char *const argv[],
		    FILE *out, int timeout_ms, char *err, size_t errlen);
/* The whole main() of a ctl tool:
 *	progname [-h] [-s socket] [-t seconds] command [argument ...]
 * Options stop at the command, so arguments may start with '-'. -t takes
 * seconds (fractions allowed, 0: no timeout; default 10). Payload goes to
 * stdout, "progname: message" to stderr. Exit status 0 ok, 1 error reply,
 * 2 usage or connection failure. */
int		 ctl_tool_main(int argc, char **argv, const char *progname,
		    const char *default_socket);
/* ctl_tool_main for a tool with commands that answer only once something
 * has finished (lbctl server drain ... wait): without -t, reply_timeout
 * (if set) gives the request's wait for the reply line from its words
 * (argv[0] is the command) and the default, in ms: 0 for none, -1 (or
 * any negative) to keep the default. */
struct ctl_tool {
	const char	*progname;
	const char	*default_socket;
	int		(*reply_timeout)(int argc, char *const argv[],
			    int default_ms);
};
int		 ctl_tool_run(const struct ctl_tool *, int argc, char **argv);

#endif
