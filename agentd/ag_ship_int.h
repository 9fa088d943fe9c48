/* ag_ship internals shared by ag_ship.c, ag_ship_conf.c, ag_ship_body.c:
 * the parsed URL, conf copies, request bodies. Not for other parts. */
#ifndef AG_SHIP_INT_H
#define AG_SHIP_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ag_ship.h"
#include "ag_spool.h"

struct buf;

#define AG_SHIP_DEFAULT_CA	"/etc/ssl/certs/ca-certificates.crt"
#define AG_SHIP_MAX_REQUEST	(1024 * 1024)

struct ag_url {
	bool		 tls;
	char		*host;		/* without brackets */
	uint16_t	 port;
	char		*authority;	/* host[:port] as written: Host, DNS */
	char		*path;		/* "/..." with any query */
};

/* "http(s)://host[:port][/path]". 0, or -1 and err (saying what is wrong
 * without repeating the URL, which may hold a token). */
int	 ag_url_parse(const char *, struct ag_url *, char *err, size_t errlen);
void	 ag_url_clear(struct ag_url *);
/* The URL without its path, for logs and status: "https://host:443/...". */
void	 ag_url_redacted(const struct ag_url *, char *buf, size_t len);

/* A deep copy (next is NULL). */
struct ag_output_conf *ag_output_conf_dup(const struct ag_output_conf *);

/* Log record payloads in the spool: "CATEGORY\nLINE". */
int	 ag_rec_split(const char *rec, size_t len, const char **cat,
	    size_t *catlen, const char **line, size_t *linelen);

/* Append Prometheus text lines as carbon2 lines ("metric=NAME k=v  VALUE
 * SECONDS"); comments and blank lines are skipped, a line it cannot read
 * is passed as it is. -1 when out is full. */
int	 ag_carbon2(struct buf *out, const char *text, size_t len);
/* gzip in[0..len) into out (replacing its contents). 0 or -1 and err. */
int	 ag_gzip(struct buf *out, const void *in, size_t len, char *err,
	    size_t errlen);

/* The `agentctl spool` line into out; unsent records (test drivers). */
void	 ag_ship_status_buf(struct ag_ship *, struct buf *out);
uint64_t ag_ship_pending(const struct ag_ship *);

#endif
