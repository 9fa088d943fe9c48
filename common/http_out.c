/* http_out — how a proxy frames an answer it relays to its client: the
 * origin's length when it gave one, chunked for HTTP/1.1 clients when it
 * did not, close-delimited for HTTP/1.0 ones, nothing for HEAD, 1xx, 204
 * and 304. Shared by webd's upstreams and lbd. */
#include <stdio.h>

#include "buf.h"
#include "http.h"

void
http_out_plan(struct http_out *o, enum http_method method, int minor,
    int status, int has_length, uint64_t length, int has_body)
{
	o->left = 0;
	if (method == HTTP_M_HEAD || status < 200 || status == 204 ||
	    status == 304)
		o->mode = HTTP_OUT_NONE;
	else if (has_length)
		o->mode = HTTP_OUT_LENGTH, o->left = length;
	else if (!has_body)
		o->mode = HTTP_OUT_LENGTH;
	else if (minor >= 1)
		o->mode = HTTP_OUT_CHUNKED;
	else
		o->mode = HTTP_OUT_CLOSE;
}

int
http_out_fields(const struct http_out *o, struct buf *b,
    const struct http_msg *msg, const struct http_header *fields, size_t n,
    const char *const *drop)
{
	const char *const *d;
	char	 v[24];
	size_t	 i;

	for (i = 0; i < n; i++) {
		/* Without a body (HEAD, 304) the origin's length stays. */
		if (http_header_is(&fields[i], "Content-Length")) {
			if (o->mode != HTTP_OUT_NONE)
				continue;
		} else if (http_header_hop_by_hop(msg, &fields[i]))
			continue;
		for (d = drop; d != NULL && *d != NULL; d++)
			if (http_header_is(&fields[i], *d))
				break;
		if (d != NULL && *d != NULL)
			continue;
		if (http_write_headern(b, fields[i].name, fields[i].name_len,
		    fields[i].value, fields[i].value_len) == -1)
			return -1;
	}
	if (o->mode == HTTP_OUT_LENGTH) {
		snprintf(v, sizeof(v), "%llu", (unsigned long long)o->left);
		return http_write_header(b, "Content-Length", v);
	}
	if (o->mode == HTTP_OUT_CHUNKED)
		return http_write_header(b, "Transfer-Encoding", "chunked");
	return 0;
}

ssize_t
http_out_body(struct http_out *o, struct buf *b, const char *data, size_t len)
{
	switch (o->mode) {
	case HTTP_OUT_NONE:
		return 0;
	case HTTP_OUT_LENGTH:
		if (len > o->left)
			len = (size_t)o->left;	/* the origin overran */
		o->left -= len;
		break;
	case HTTP_OUT_CHUNKED:
		return http_write_chunk(b, data, len) == -1 ? -1 : (ssize_t)len;
	case HTTP_OUT_CLOSE:
		break;
	}
	return buf_append(b, data, len) == -1 ? -1 : (ssize_t)len;
}

int
http_out_end(const struct http_out *o, struct buf *b)
{
	if (o->mode == HTTP_OUT_CHUNKED)
		return http_write_last_chunk(b, NULL, 0);
	return 0;
}
