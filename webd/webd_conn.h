/* webd connections, shared by the connection state machine (webd_conn.c)
 * and the upstream relay (webd_upstream.c). Private to those two. */
#ifndef WEBD_CONN_H
#define WEBD_CONN_H

#include "stream.h"
#include "webd.h"

/* C_PROXY: an upstream (FastCGI or HTTP app server) answers the request;
 * webd_upstream.c drives both sockets until the answer is complete. */
enum conn_state { C_HANDSHAKE, C_READ, C_WRITE, C_LINGER, C_PROXY };

#define CONN_LOGLINE_MAX	2048

struct webd_upstream;

struct webd_conn {
	struct webd		*w;
	struct stream		 io;		/* fd, and TLS or NULL */
	struct net_addr		 peer;
	enum conn_state		 state;
	struct buf		 in, out;
	struct http_parser	 parser;
	bool			 close_after;
	bool			 unread_body;	/* a request body we did not read */
	bool			 in_request;	/* bytes of a request arrived */
	bool			 nodelay;	/* TCP_NODELAY set */
	struct ev_timer		 timer;
	/* the file part of the response */
	int			 file_fd;
	off_t			 file_off, file_left;
	char			*chunk;		/* TLS: file bytes being written */
	size_t			 chunk_len, chunk_off;
	/* the upstream answering this request (C_PROXY), or NULL */
	struct webd_upstream	*up;
	unsigned		 out_want;	/* what a blocked flush waits for */
	/* for the access log and metrics */
	uint64_t		 t_start;
	int			 status;
	uint64_t		 body_bytes;
	char			*logline;	/* request part; NULL: "-" */
	struct webd_conn	*next, **prevp;
};

static inline struct ev_loop *
loop_of(struct webd_conn *c)
{
	return c->w->loop;
}

/* webd_conn.c */
void	 conn_free(struct webd_conn *);
/* Date, Server, Connection and the empty line that ends a response head. */
int	 conn_finish_head(struct webd_conn *);
/* A short text/plain answer made by webd itself. */
int	 conn_respond_text(struct webd_conn *, int minor, int status,
	    const char *text);
/* Run the state machine as if the client socket had signalled. */
void	 conn_kick(struct webd_conn *);

/* webd_upstream.c */
/* Hand the request whose head (headlen bytes at the start of c->in) is
 * msg to the location's upstream. path is the normalised request path.
 * 0: c is in C_PROXY, or in C_WRITE with an error answer queued; -1: no
 * room for any answer (the caller answers 500). Does not consume the
 * head: the caller does, once this returns. */
int	 upstream_start(struct webd_conn *, const struct http_msg *msg,
	    size_t headlen, const struct webd_location *, const char *path);
/* Client socket events while in C_PROXY. */
void	 upstream_client_io(struct webd_conn *, unsigned events);
/* The client side timed out (body or send): the upstream goes too. */
void	 upstream_free(struct webd_upstream *);

#endif
