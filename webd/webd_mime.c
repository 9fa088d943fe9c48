/* webd_mime — Content-Type by file extension, from a built-in table. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "webd.h"

#define TEXT(t)		t "; charset=utf-8"

struct mime {
	const char	*ext;
	const char	*type;
};

/* Sorted by ext (lower case, ASCII order): searched with bsearch. */
static const struct mime mime_table[] = {
	{ "atom",	"application/atom+xml" },
	{ "avi",	"video/x-msvideo" },
	{ "avif",	"image/avif" },
	{ "bmp",	"image/bmp" },
	{ "bz2",	"application/x-bzip2" },
	{ "css",	TEXT("text/css") },
	{ "csv",	TEXT("text/csv") },
	{ "eot",	"application/vnd.ms-fontobject" },
	{ "gif",	"image/gif" },
	{ "gz",		"application/gzip" },
	{ "htm",	TEXT("text/html") },
	{ "html",	TEXT("text/html") },
	{ "ico",	"image/x-icon" },
	{ "jpeg",	"image/jpeg" },
	{ "jpg",	"image/jpeg" },
	{ "js",		TEXT("text/javascript") },
	{ "json",	"application/json" },
	{ "jsonld",	"application/ld+json" },
	{ "m4a",	"audio/mp4" },
	{ "map",	"application/json" },
	{ "md",		TEXT("text/markdown") },
	{ "mjs",	TEXT("text/javascript") },
	{ "mov",	"video/quicktime" },
	{ "mp3",	"audio/mpeg" },
	{ "mp4",	"video/mp4" },
	{ "mpeg",	"video/mpeg" },
	{ "ogg",	"audio/ogg" },
	{ "otf",	"font/otf" },
	{ "pdf",	"application/pdf" },
	{ "png",	"image/png" },
	{ "rss",	"application/rss+xml" },
	{ "svg",	"image/svg+xml" },
	{ "tar",	"application/x-tar" },
	{ "tgz",	"application/gzip" },
	{ "tif",	"image/tiff" },
	{ "tiff",	"image/tiff" },
	{ "ttf",	"font/ttf" },
	{ "txt",	TEXT("text/plain") },
	{ "wasm",	"application/wasm" },
	{ "wav",	"audio/wav" },
	{ "webm",	"video/webm" },
	{ "webmanifest", "application/manifest+json" },
	{ "webp",	"image/webp" },
	{ "woff",	"font/woff" },
	{ "woff2",	"font/woff2" },
	{ "xml",	"application/xml" },
	{ "xz",		"application/x-xz" },
	{ "zip",	"application/zip" },
	{ "zst",	"application/zstd" },
};

struct ext_key {
	const char	*s;
	size_t		 len;
};

static int
mime_cmp(const void *k, const void *e)
{
	const struct ext_key *key = k;
	const struct mime *m = e;
	size_t		 mlen = strlen(m->ext);
	int		 c;

	c = strncasecmp(key->s, m->ext, key->len < mlen ? key->len : mlen);
	if (c != 0)
		return c;
	return (key->len > mlen) - (key->len < mlen);
}

const char *
mime_type(const char *name, size_t len)
{
	struct ext_key	 key;
	const struct mime *m;
	size_t		 i;

	/* The extension: after the last '.' of the last path component. */
	for (i = len; i > 0 && name[i - 1] != '.' && name[i - 1] != '/'; i--)
		;
	if (i == 0 || name[i - 1] != '.' || i == len)
		return "application/octet-stream";
	key.s = name + i;
	key.len = len - i;
	if (memchr(key.s, '\0', key.len) != NULL)
		return "application/octet-stream";
	m = bsearch(&key, mime_table, sizeof(mime_table) / sizeof(mime_table[0]),
	    sizeof(mime_table[0]), mime_cmp);
	return m != NULL ? m->type : "application/octet-stream";
}
