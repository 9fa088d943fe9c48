/* http_hop — what a proxy must not forward (RFC 9110 7.6.1): the
 * hop-by-hop fields and those a Connection field names. Shared by webd's
 * upstreams and lbd. */
#include <string.h>
#include <strings.h>

#include "http.h"

static const char *const hop_fields[] = {
	"Connection", "Keep-Alive", "Proxy-Connection", "TE", "Trailer",
	"Transfer-Encoding", "Upgrade",
};

int
http_header_is(const struct http_header *h, const char *name)
{
	return strlen(name) == h->name_len &&
	    strncasecmp(h->name, name, h->name_len) == 0;
}

int
http_header_hop_by_hop(const struct http_msg *msg, const struct http_header *h)
{
	const struct http_header *conn = NULL;
	char	 name[128];
	size_t	 i;

	for (i = 0; i < sizeof(hop_fields) / sizeof(hop_fields[0]); i++)
		if (http_header_is(h, hop_fields[i]))
			return 1;
	if (h->name_len >= sizeof(name))
		return 0;
	memcpy(name, h->name, h->name_len);
	name[h->name_len] = '\0';
	while ((conn = http_header_next(msg, "Connection", conn)) != NULL)
		if (http_header_has_token(conn->value, conn->value_len, name))
			return 1;
	return 0;
}
