/* lbd client connections: the state shared by the HTTP relay
 * (lbd_client.c) and the Upgrade tunnel (lbd_tunnel.c). Private to them. */
#ifndef LBD_CLIENT_H
#define LBD_CLIENT_H

#include "lbd.h"
#include "proxyproto.h"

#define CL_IN_MAX	(HTTP_MAX_HEAD_DEFAULT + 1024)
#define CL_OUT_MAX	(256 * 1024)
#define CL_OUT_HIGH	(64 * 1024)	/* stop reading the server above it */
#define CL_FIELDS	128
#define SRV_OUT_MAX	(128 * 1024 + 2 * HTTP_MAX_HEAD_DEFAULT)
#define SRV_IN_MAX	(128 * 1024)
#define CL_LINGER_MS	2000

/* CL_PROXYHDR collects a PROXY header in c->in before anything else. */
_Static_assert(CL_IN_MAX >= PROXYPROTO_MAX, "c->in holds a PROXY header");

/* CL_TUNNEL: after a 101 (WebSocket and other Upgrades) bytes flow both
 * ways unparsed until one side closes (lbd_tunnel.c). */
enum cl_state { CL_PROXYHDR, CL_HANDSHAKE, CL_HEAD, CL_PROXY, CL_WRITE,
	CL_LINGER, CL_TUNNEL };

struct lb_req {
	struct lb_pool		*pool;
	struct lb_server	*srv;
	int			 srv_idx;
	struct lb_bconn		*b;
	unsigned		 tries;
	bool			 wrote;		/* bytes went to the server */
	/* the request, copied out of the client's input */
	char			*head;
	struct http_msg		 msg;
	struct http_header	 fields[CL_FIELDS];
	struct http_body_reader	 body;
	bool			 body_done, end_queued;
	struct buf		 to_srv;
	/* the answer */
	struct buf		 from_srv;
	struct http_parser	 rparser;
	struct http_body_reader	 rbody;
	bool			 head_sent, resp_keepalive;
	struct http_out		 out;		/* framing towards the client */
	struct ev_timer		 timer;		/* server-timeout */
	uint64_t		 t_sent;	/* ev_clock_us() it left; 0: not yet */
	/* waiting in pool->queue for a server with room */
	bool			 queued;
	struct lb_req		*qnext, **qprevp;
	struct lb_client	*client;
	/* the tunnel after a 101: which side closed, what blocked I/O
	 * waits for (TLS may read on a write and the reverse) */
	bool			 cl_eof, srv_eof;
	unsigned		 cl_rwant, cl_wwant, srv_rwant, srv_wwant;
};

struct lb_client {
	struct lb		*lb;
	struct lb_frontend	*fe;
	struct stream		 io;
	struct net_addr		 peer;
	char			 peer_str[NET_ADDRSTRLEN];
	struct net_addr		 local;		/* for send-proxy-v2 */
	bool			 local_known;
	enum cl_state		 state;
	struct buf		 in, out;
	struct http_parser	 parser;
	struct ev_timer		 timer;
	bool			 close_after, unread_body, in_request;
	unsigned		 out_want;
	struct lb_req		*req;
	/* for the log */
	uint64_t		 t_start;
	int			 status;
	uint64_t		 bytes;
	char			 reqline[512];
	char			 server[LBD_NAME_MAX * 2 + 2];
	struct lb_client	*next, **prevp;
};

/* lbd_client.c */
struct ev_loop	*cl_loop(struct lb_client *);
void	 cl_free(struct lb_client *);
/* The request ended: metrics and the access log line. */
void	 cl_log(struct lb_client *);

/* lbd_tunnel.c. Start: rm is the server's 101 (n bytes of head at the
 * start of from_srv); -1 when the 101 cannot be passed on (caller fails
 * the request). */
int	 lb_tunnel_start(struct lb_client *, const struct http_msg *rm,
	    size_t n);
/* Move bytes both ways as far as the sockets allow; may free c. */
void	 lb_tunnel_io(struct lb_client *);
/* Idle for tunnel-timeout: log and close. */
void	 lb_tunnel_timeout(struct lb_client *);

#endif
