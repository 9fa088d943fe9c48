/* http_copy — a parsed head that outlives its input buffer: proxies copy
 * the request once, then stream the body through the same buffer. */
#include <stdlib.h>
#include <string.h>

#include "http.h"

int
http_msg_copy(const struct http_msg *src, const char *base, size_t len,
    char **copy, struct http_msg *dst, struct http_header *fields, size_t cap)
{
	char	*h;
	size_t	 i;

#define REBASE(p)	((p) != NULL ? h + ((p) - base) : NULL)
	if ((h = malloc(len)) == NULL)
		return -1;
	memcpy(h, base, len);
	*dst = *src;
	dst->method_str = REBASE(src->method_str);
	dst->target = REBASE(src->target);
	dst->reason = REBASE(src->reason);
	dst->host = REBASE(src->host);
	dst->upgrade_proto = REBASE(src->upgrade_proto);
	dst->headers = fields;
	dst->headers_cap = cap;
	dst->nheaders = src->nheaders < cap ? src->nheaders : cap;
	for (i = 0; i < dst->nheaders; i++) {
		fields[i] = src->headers[i];
		fields[i].name = REBASE(src->headers[i].name);
		fields[i].value = REBASE(src->headers[i].value);
	}
#undef REBASE
	*copy = h;
	return 0;
}
