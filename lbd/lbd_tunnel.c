/* lbd Upgrade tunnels (WebSocket and the like): once the server answered
 * 101 to a request that asked for an upgrade, the 101 goes to the client
 * and from then on bytes are copied both ways without parsing, in the
 * request's two bounded buffers (client -> server in to_srv, server ->
 * client in the client's out), until one side closes and what it sent
 * has been delivered, or nothing moves for tunnel-timeout. */
#include <string.h>

#include "log.h"
#include "tls.h"
#include "lbd_client.h"

/* Ends the tunnel: the access log line (status 101, bytes to the client,
 * duration of the whole tunnel), the server connection closed. */
static void
tunnel_end(struct lb_client *c, const char *why)
{
	log_debug("frontend %s: %s: tunnel to %s closed: %s",
	    c->fe->conf->name, c->peer_str, c->server, why);
	cl_log(c);
	cl_free(c);
}

void
lb_tunnel_timeout(struct lb_client *c)
{
	tunnel_end(c, "tunnel-timeout");
}

/* The 101 head for the client: the server's end-to-end fields, then the
 * Connection and Upgrade fields it switched with. */
static int
write_101(struct lb_client *c, const struct http_msg *rm)
{
	size_t	 i;

	if (http_write_status_line(&c->out, 1, 101, NULL) == -1)
		return -1;
	for (i = 0; i < rm->nheaders; i++)
		if (!http_header_hop_by_hop(rm, &rm->headers[i]) &&
		    http_write_headern(&c->out, rm->headers[i].name,
		    rm->headers[i].name_len, rm->headers[i].value,
		    rm->headers[i].value_len) == -1)
			return -1;
	if (buf_printf(&c->out, "Connection: upgrade\r\nUpgrade: %.*s\r\n",
	    (int)rm->upgrade_len, rm->upgrade_proto != NULL ?
	    rm->upgrade_proto : "") == -1)
		return -1;
	return http_write_end_head(&c->out);
}

int
lb_tunnel_start(struct lb_client *c, const struct http_msg *rm, size_t n)
{
	struct lb_req	*r = c->req;

	if (write_101(c, rm) == -1)
		return -1;
	c->status = 101;
	r->head_sent = true;
	lb_server_result(r->srv, true, ev_clock_us() - r->t_sent);
	/* Bytes that came behind either head belong to the tunnel. */
	buf_consume(&r->from_srv, n);
	if (buf_append(&c->out, buf_head(&r->from_srv),
	    buf_used(&r->from_srv)) == -1 ||
	    buf_append(&r->to_srv, buf_head(&c->in), buf_used(&c->in)) == -1)
		return -1;
	c->bytes += buf_used(&r->from_srv);
	buf_reset(&r->from_srv);
	buf_reset(&c->in);
	c->state = CL_TUNNEL;
	r->cl_rwant = r->srv_rwant = EV_READ;
	r->cl_wwant = r->srv_wwant = EV_WRITE;
	ev_timer_stop(cl_loop(c), &r->timer);
	ev_timer_start(cl_loop(c), &c->timer, r->pool->conf->tunnel_timeout_ms);
	lb_tunnel_io(c);
	return 0;
}

/* Read from one side into buf while it has room: progress, or the side
 * closed (*eof), or -1 on a hard error. */
static int
tunnel_read(struct stream *io, struct buf *b, size_t max, bool *eof,
    unsigned *want, uint64_t *count)
{
	ssize_t	 n;

	if (*eof || buf_used(b) >= max || buf_reserve(b, 4096) == -1)
		return 0;
	n = stream_read(io, buf_tail(b), buf_room(b), want);
	if (n == STREAM_BLOCKED)
		return 0;
	if (n == 0) {
		*eof = true;
		return 0;
	}
	if (n < 0)
		return -1;
	buf_commit(b, (size_t)n);
	if (count != NULL)
		*count += (uint64_t)n;
	return 1;
}

static int
tunnel_write(struct stream *io, struct buf *b, unsigned *want)
{
	size_t	 before = buf_used(b);

	if (before == 0)
		return 0;
	if (stream_flush(io, b, want) == STREAM_ERROR)
		return -1;
	return buf_used(b) < before;
}

void
lb_tunnel_io(struct lb_client *c)
{
	struct lb_req	*r = c->req;
	struct stream	*sio = &r->b->io;
	bool		 progress, moved = false;
	unsigned	 cev, sev;
	int		 rc[4];

	do {
		rc[0] = tunnel_read(&c->io, &r->to_srv, SRV_OUT_MAX / 2,
		    &r->cl_eof, &r->cl_rwant, NULL);
		rc[1] = tunnel_write(sio, &r->to_srv, &r->srv_wwant);
		rc[2] = tunnel_read(sio, &c->out, CL_OUT_HIGH, &r->srv_eof,
		    &r->srv_rwant, &c->bytes);
		rc[3] = tunnel_write(&c->io, &c->out, &r->cl_wwant);
		if (rc[0] == -1 || rc[1] == -1 || rc[2] == -1 || rc[3] == -1) {
			tunnel_end(c, "I/O error");
			return;
		}
		progress = rc[0] || rc[1] || rc[2] || rc[3];
		moved |= progress;
	} while (progress);
	/* A side that closed is done once what it sent was delivered. */
	if ((r->cl_eof && buf_used(&r->to_srv) == 0) ||
	    (r->srv_eof && buf_used(&c->out) == 0)) {
		tunnel_end(c, r->cl_eof ? "client closed" : "server closed");
		return;
	}
	cev = sev = 0;
	if (!r->cl_eof && buf_used(&r->to_srv) < SRV_OUT_MAX / 2)
		cev |= r->cl_rwant;
	if (buf_used(&c->out) > 0)
		cev |= r->cl_wwant;
	if (!r->srv_eof && buf_used(&c->out) < CL_OUT_HIGH)
		sev |= r->srv_rwant;
	if (buf_used(&r->to_srv) > 0)
		sev |= r->srv_wwant;
	ev_fd_mod(cl_loop(c), c->io.fd, cev);
	lb_bconn_watch(r->b, sev);
	if (moved)
		ev_timer_start(cl_loop(c), &c->timer,
		    r->pool->conf->tunnel_timeout_ms);
}
