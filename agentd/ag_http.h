/* ag_http — agentd's Prometheus endpoint: GET /metrics over HTTP/1.1
 * (keep-alive), answered with what render() appends. */
#ifndef AG_HTTP_H
#define AG_HTTP_H

#include "buf.h"
#include "ev.h"
#include "net.h"

struct ag_http;

struct ag_http	*ag_http_new(struct ev_loop *, const struct net_addr *,
		    int (*render)(void *arg, struct buf *out), void *arg,
		    char *err, size_t errlen);
void		 ag_http_free(struct ag_http *);

#endif
