/* ctl_int — state shared by ctl.c (the server: listener, peers, command
 * table, dispatch) and ctl_conn.c (one connection: request line, reply,
 * stream). Private to the ctl module. */
#ifndef STACKD_CTL_INT_H
#define STACKD_CTL_INT_H

#include <stdbool.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "buf.h"
#include "ctl.h"
#include "ev.h"

enum conn_state {
	CONN_READING,		/* waiting for the request line */
	CONN_HANDLING,		/* inside the handler */
	CONN_STREAMING,		/* after ctl_stream: output flushed as made */
	CONN_ENDING,		/* after ctl_end: flush, then close */
	CONN_DEAD,		/* free at the next deferred run */
};

struct ctl_conn {
	LIST_ENTRY(ctl_conn) entry;
	struct ctl_server *srv;
	int		 fd;
	enum conn_state	 state;
	struct buf	 in;
	struct buf	 out;
	struct ev_timer	 timer;		/* request timeout, then reply stall */
	struct ev_deferred service;	/* flush, or free when dead */
	uid_t		 uid;
	gid_t		 gid;
	pid_t		 pid;
	bool		 status_sent;	/* the first line is written */
	bool		 flushed;	/* some output reached the socket */
	bool		 overflow;	/* output dropped over output_max */
	bool		 rd_eof;	/* client shut its side down */
	ctl_close_cb	 on_close;
	void		*cbarg;
};

struct ctl_server {
	struct ev_loop	*loop;
	int		 fd;
	char		*path;
	dev_t		 dev;		/* the socket file we bound */
	ino_t		 ino;
	const struct ctl_command *table;
	void		*arg;
	bool		 own_help;
	struct ctl_limits limits;
	gid_t		 allow[CTL_ALLOW_GIDS_MAX];
	size_t		 nallow;
	struct ev_timer	 resume;	/* accepting paused after EMFILE */
	LIST_HEAD(, ctl_conn) conns;
	struct ctl_stats stats;
};

/* ctl_conn.c */
/* Takes fd (a peer already let in) as a new connection. */
void	ctl_conn_open(struct ctl_server *, int fd, const struct ucred *);
/* Closes at once; on_close fires. Only from the loop or server_free. */
void	ctl_conn_free(struct ctl_conn *);
/* An error reply, then ctl_end. */
void	ctl_conn_fail(struct ctl_conn *, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
/* Send "error: msg" on a socket with nothing in flight, and close it. */
void	ctl_reject(int fd, const char *msg);

/* ctl.c */
/* The request line is buf_head(&c->in)[0 .. len), its LF at len. */
void	ctl_dispatch(struct ctl_conn *, size_t len);

#endif
