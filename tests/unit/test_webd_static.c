/* Unit tests for webd's static-file engine and MIME table: a small tree
 * in a scratch directory, requests fed straight to static_serve(). Every
 * test ends with as many open fds as it started with (teardown checks). */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "http.h"
#include "suites.h"
#include "testutil.h"
#include "webd.h"

#define T0		1700000000	/* Tue, 14 Nov 2023 22:13:20 GMT */
#define T0_DATE		"Tue, 14 Nov 2023 22:13:20 GMT"
#define T0_NSEC		500000000

static const struct node {
	const char	*name;
	char		 kind;	/* f file, d dir, l symlink, p fifo */
	const char	*data;	/* contents or link target */
	int		 dt;	/* files: mtime T0 + dt */
} tree[] = {
	{ "root", 'd', NULL, 0 },
	{ "outside.txt", 'f', "secret\n", 0 },
	{ "root/index.html", 'f', "<h1>home</h1>\n", 0 },
	{ "root/a.txt", 'f', "hello\n", 0 },
	{ "root/ten.txt", 'f', "0123456789", 0 },
	{ "root/with space.txt", 'f', "spaced\n", 0 },
	{ "root/style.css", 'f', "body { color: red }\n", 0 },
	{ "root/style.css.gz", 'f', "GZ-new", 10 },
	{ "root/old.css", 'f', "p {}\n", 0 },
	{ "root/old.css.gz", 'f', "GZ-old", -10 },
	{ "root/dir", 'd', NULL, 0 },
	{ "root/dir/index.html", 'f', "dir index\n", 0 },
	{ "root/dir/up.txt", 'l', "../a.txt", 0 },
	{ "root/noindex", 'd', NULL, 0 },
	{ "root/noindex/b.txt", 'f', "b\n", 0 },
	{ "root/noindex/a<b>.txt", 'f', "x\n", 0 },
	{ "root/noindex/.hidden", 'f', "h\n", 0 },
	{ "root/noindex/sub", 'd', NULL, 0 },
	{ "root/both", 'd', NULL, 0 },
	{ "root/both/index.htm", 'f', "htm\n", 0 },
	{ "root/both/index.html", 'f', "html\n", 0 },
	{ "root/sp ace", 'd', NULL, 0 },
	{ "root/link.txt", 'l', "a.txt", 0 },
	{ "root/passwd", 'l', "/etc/passwd", 0 },
	{ "root/out.txt", 'l', "../outside.txt", 0 },
	{ "root/loop1", 'l', "loop2", 0 },
	{ "root/loop2", 'l', "loop1", 0 },
	{ "root/fifo", 'p', NULL, 0 },
};

static char *const index_names[] = { "missing.html", "index.htm", "index.html" };

/* Fixture state (Check fixtures take no arguments). */
static struct {
	struct tmpdir	 t;
	int		 tfd;		/* the scratch directory */
	int		 nfd;		/* open fds after setup */
	struct static_conf sc;
	struct buf	 head, body;
} fx;

static int
fd_count(void)
{
	DIR	*d = opendir("/proc/self/fd");
	int	 n = 0;

	ck_assert_ptr_nonnull(d);
	while (readdir(d) != NULL)
		n++;
	closedir(d);
	return n;
}

static void
setup(void)
{
	const struct node *nd;
	struct timespec	 ts[2];
	size_t		 i;
	int		 fd;

	tmpdir_make(&fx.t, "webd-static");
	fx.tfd = open(fx.t.dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ck_assert_int_ne(fx.tfd, -1);
	for (i = 0; i < sizeof(tree) / sizeof(tree[0]); i++) {
		nd = &tree[i];
		switch (nd->kind) {
		case 'd':
			ck_assert_int_eq(mkdirat(fx.tfd, nd->name, 0755), 0);
			break;
		case 'l':
			ck_assert_int_eq(symlinkat(nd->data, fx.tfd, nd->name), 0);
			break;
		case 'p':
			ck_assert_int_eq(mkfifoat(fx.tfd, nd->name, 0644), 0);
			break;
		case 'f':
			fd = openat(fx.tfd, nd->name, O_WRONLY | O_CREAT | O_EXCL |
			    O_CLOEXEC, 0644);
			ck_assert_int_ne(fd, -1);
			ck_assert_int_eq(write(fd, nd->data, strlen(nd->data)),
			    (ssize_t)strlen(nd->data));
			ck_assert_int_eq(close(fd), 0);
			ts[0].tv_sec = ts[1].tv_sec = T0 + nd->dt;
			ts[0].tv_nsec = ts[1].tv_nsec = T0_NSEC;
			ck_assert_int_eq(utimensat(fx.tfd, nd->name, ts, 0), 0);
			break;
		}
	}
	memset(&fx.sc, 0, sizeof(fx.sc));
	fx.sc.root_fd = openat(fx.tfd, "root", O_PATH | O_DIRECTORY | O_CLOEXEC);
	ck_assert_int_ne(fx.sc.root_fd, -1);
	fx.sc.index = index_names;
	fx.sc.nindex = 3;
	fx.sc.gzip_static = true;
	buf_init(&fx.head, 0);
	buf_init(&fx.body, 0);
	fx.nfd = fd_count();
}

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

static void
teardown(void)
{
	ck_assert_int_eq(fd_count(), fx.nfd);	/* no fd leaked */
	buf_free(&fx.head);
	buf_free(&fx.body);
	close(fx.sc.root_fd);
	close(fx.tfd);
	nftw(fx.t.dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* A request as the tests write it; NULL fields are absent headers. */
struct rq {
	const char	*path;
	enum http_method m;	/* 0: GET */
	const char	*inm, *ims, *range, *ifr, *ae;
	int		 minor;	/* 0 or 1; -1 in the table means 1 */
};

static size_t
len0(const char *s)
{
	return s != NULL ? strlen(s) : 0;
}

static int
run(const struct rq *q, struct static_result *res)
{
	struct static_req sr = {
		.method = q->m != 0 ? q->m : HTTP_M_GET,
		.minor = q->minor == 0 ? 1 : q->minor == -1 ? 0 : q->minor,
		.path = q->path, .path_len = strlen(q->path),
		.if_none_match = q->inm, .if_none_match_len = len0(q->inm),
		.if_modified_since = q->ims,
		.if_modified_since_len = len0(q->ims),
		.range = q->range, .range_len = len0(q->range),
		.if_range = q->ifr, .if_range_len = len0(q->ifr),
		.accept_encoding = q->ae, .accept_encoding_len = len0(q->ae),
	};

	buf_reset(&fx.head);
	buf_reset(&fx.body);
	return static_serve(&fx.sc, &sr, &fx.head, &fx.body, res);
}

/* Serve, check the status, read the file part into got (if not NULL) and
 * close the fd. The head stays in fx.head. */
static struct static_result
expect(const struct rq *q, int status, char *got, size_t gotlen)
{
	struct static_result res;
	ssize_t		 n;

	ck_assert_int_eq(run(q, &res), 0);
	ck_assert_msg(res.status == status, "%s: status %d (%s), want %d",
	    q->path, res.status, res.reason ? res.reason : "", status);
	ck_assert_ptr_nonnull(res.reason);
	if (got != NULL) {
		ck_assert_int_ne(res.fd, -1);
		ck_assert_uint_lt((size_t)res.length, gotlen);
		n = pread(res.fd, got, res.length, res.offset);
		ck_assert_int_eq(n, res.length);
		got[n] = '\0';
	}
	if (res.fd != -1)
		ck_assert_int_eq(close(res.fd), 0);
	return res;
}

/* A response field's value from fx.head (static storage), or NULL. */
static const char *
hdr(const char *name)
{
	static char	 val[256];
	char		 needle[64];
	const char	*p, *e;

	snprintf(needle, sizeof(needle), "\r\n%s: ", name);
	if ((p = strstr(buf_cstr(&fx.head), needle)) == NULL)
		return NULL;
	p += strlen(needle);
	e = strstr(p, "\r\n");
	ck_assert_ptr_nonnull(e);
	ck_assert_uint_lt((size_t)(e - p), sizeof(val));
	memcpy(val, p, e - p);
	val[e - p] = '\0';
	return val;
}

/* The ETag static_serve documents for root/rel. */
static const char *
etag_of(const char *rel, char out[96])
{
	struct stat	 st;
	char		 path[128];

	snprintf(path, sizeof(path), "root/%s", rel);
	ck_assert_int_eq(fstatat(fx.tfd, path, &st, 0), 0);
	snprintf(out, 96, "\"%jx.%lx-%jx-%jx\"", (uintmax_t)st.st_mtim.tv_sec,
	    (unsigned long)st.st_mtim.tv_nsec, (uintmax_t)st.st_size,
	    (uintmax_t)st.st_ino);
	return out;
}

START_TEST(mime_lookup)
{
	static const struct {
		const char	*name;
		const char	*type;
	} cases[] = {
		{ "index.html", "text/html; charset=utf-8" },
		{ "INDEX.HTM", "text/html; charset=utf-8" },
		{ "/a/b/style.Css", "text/css; charset=utf-8" },
		{ "app.js", "text/javascript; charset=utf-8" },
		{ "mod.mjs", "text/javascript; charset=utf-8" },
		{ "README.md", "text/markdown; charset=utf-8" },
		{ "data.csv", "text/csv; charset=utf-8" },
		{ "a.txt", "text/plain; charset=utf-8" },
		{ "x.json", "application/json" },
		{ "x.jsonld", "application/ld+json" },
		{ "logo.svg", "image/svg+xml" },
		{ "p.JPEG", "image/jpeg" },
		{ "f.woff2", "font/woff2" },
		{ "f.woff", "font/woff" },
		{ "site.webmanifest", "application/manifest+json" },
		{ "v.webm", "video/webm" },
		{ "style.css.gz", "application/gzip" },
		{ "x.wasm", "application/wasm" },
		{ "a.zst", "application/zstd" },
		{ "noext", "application/octet-stream" },
		{ "trailing.", "application/octet-stream" },
		{ "dir.d/file", "application/octet-stream" },
		{ ".html", "text/html; charset=utf-8" },
		{ "x.unknown", "application/octet-stream" },
		{ "x.htmlx", "application/octet-stream" },
		{ "", "application/octet-stream" },
	};
	/* Every listed extension resolves: the table is sorted for bsearch. */
	static const char *const exts[] = {
		"html", "htm", "css", "js", "mjs", "json", "xml", "txt", "csv",
		"md", "svg", "png", "jpg", "jpeg", "gif", "webp", "avif", "ico",
		"bmp", "tif", "tiff", "woff", "woff2", "ttf", "otf", "eot", "pdf",
		"zip", "gz", "tgz", "tar", "bz2", "xz", "zst", "wasm", "mp3",
		"ogg", "wav", "mp4", "webm", "m4a", "mov", "avi", "mpeg",
		"jsonld", "map", "rss", "atom", "webmanifest",
	};
	char	 name[32];
	size_t	 i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		ck_assert_msg(strcmp(mime_type(cases[i].name,
		    strlen(cases[i].name)), cases[i].type) == 0, "%s -> %s",
		    cases[i].name, mime_type(cases[i].name, strlen(cases[i].name)));
	for (i = 0; i < sizeof(exts) / sizeof(exts[0]); i++) {
		snprintf(name, sizeof(name), "f.%s", exts[i]);
		ck_assert_msg(strcmp(mime_type(name, strlen(name)),
		    "application/octet-stream") != 0, "%s unknown", name);
	}
	/* Only len bytes count. */
	ck_assert_str_eq(mime_type("a.txt.gz", 5), "text/plain; charset=utf-8");
}
END_TEST

START_TEST(normalize_cases)
{
	static const struct {
		const char	*raw;
		ssize_t		 rv;	/* -1, -2, or 0 for strlen(want) */
		const char	*want;
	} cases[] = {
		{ "/", 0, "/" },
		{ "/a/b", 0, "/a/b" },
		{ "/a//b/", 0, "/a/b/" },
		{ "//etc/passwd", 0, "/etc/passwd" },
		{ "/a/./b/.", 0, "/a/b/" },
		{ "/a/b/..", 0, "/a/" },
		{ "/a/b/../c", 0, "/a/c" },
		{ "/a/..", 0, "/" },
		{ "/...", 0, "/..." },
		{ "/..a/.b", 0, "/..a/.b" },
		{ "/%41%2e%7E", 0, "/A.~" },
		{ "/with%20space.txt", 0, "/with space.txt" },
		{ "/q%3Fx%25", 0, "/q?x%" },
		{ "/..", -2, NULL },
		{ "/../etc/passwd", -2, NULL },
		{ "/a/../../x", -2, NULL },
		{ "/%2e%2e/", -2, NULL },
		{ "/%2E%2E", -2, NULL },
		{ "/.%2e/x", -2, NULL },
		{ "/%00", -1, NULL },
		{ "/a%00.txt", -1, NULL },
		{ "/a%2fb", -1, NULL },
		{ "/a%2Fb", -1, NULL },
		{ "/%zz", -1, NULL },
		{ "/%4", -1, NULL },
		{ "/%", -1, NULL },
		{ "/%g0", -1, NULL },
		{ "", -1, NULL },
		{ "a/b", -1, NULL },
	};
	char	 out[64];
	ssize_t	 n, want;
	size_t	 i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		n = static_path_normalize(cases[i].raw, strlen(cases[i].raw),
		    out, sizeof(out));
		want = cases[i].want ? (ssize_t)strlen(cases[i].want) :
		    cases[i].rv;
		ck_assert_msg(n == want, "%s: %zd, want %zd", cases[i].raw, n,
		    want);
		if (n >= 0)
			ck_assert_str_eq(out, cases[i].want);
	}
	/* A raw NUL, the length decides. */
	ck_assert_int_eq(static_path_normalize("/a\0b", 4, out, sizeof(out)), -1);
	ck_assert_int_eq(static_path_normalize("/ab/x", 3, out, sizeof(out)), 3);
	ck_assert_str_eq(out, "/ab");
	/* Too small: refused, never cut short. "/abc" needs 5 bytes. */
	ck_assert_int_eq(static_path_normalize("/abc", 4, out, 5), 4);
	errno = 0;
	ck_assert_int_eq(static_path_normalize("/abc", 4, out, 4), -1);
	ck_assert_int_eq(errno, ENAMETOOLONG);
	ck_assert_int_eq(static_path_normalize("/abc/", 5, out, 5), -1);
	ck_assert_int_eq(static_path_normalize("/", 1, out, 1), -1);
}
END_TEST

START_TEST(paths_and_files)
{
	static const struct {
		const char	*path;
		int		 status;
		const char	*content;	/* 200: the file's bytes */
		const char	*reason;	/* NULL: not checked */
	} cases[] = {
		{ "/../etc/passwd", 403, NULL, "traversal" },
		{ "/%2e%2e/%2e%2e/etc/passwd", 403, NULL, "traversal" },
		{ "/%2E%2E/", 403, NULL, NULL },
		{ "/a/../../x", 403, NULL, NULL },
		{ "/.%2e/x", 403, NULL, NULL },
		{ "/%00", 400, NULL, NULL },
		{ "/a%00.txt", 400, NULL, NULL },
		{ "/a%2fb", 400, NULL, NULL },
		{ "/%zz", 400, NULL, NULL },
		{ "//etc/passwd", 404, NULL, "not found" },
		{ "/a.txt/", 404, NULL, NULL },
		{ "/nope.txt", 404, NULL, NULL },
		{ "/a.txt%3F", 404, NULL, NULL },
		{ "/passwd", 403, NULL, "symlink escapes root" },
		{ "/out.txt", 403, NULL, "symlink escapes root" },
		{ "/loop1", 403, NULL, NULL },
		{ "/fifo", 403, NULL, "not a regular file" },
		{ "/a.txt", 200, "hello\n", "file" },
		{ "/dir/../a.txt", 200, "hello\n", NULL },
		{ "/link.txt", 200, "hello\n", NULL },
		{ "/dir/up.txt", 200, "hello\n", NULL },
		{ "/with%20space.txt", 200, "spaced\n", NULL },
		{ "/style.css.gz", 200, "GZ-new", NULL },
	};
	struct static_result res;
	char	 got[64], text[64];
	size_t	 i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct rq q = { .path = cases[i].path };

		res = expect(&q, cases[i].status,
		    cases[i].content ? got : NULL, sizeof(got));
		if (cases[i].reason != NULL)
			ck_assert_str_eq(res.reason, cases[i].reason);
		if (cases[i].content != NULL) {
			ck_assert_str_eq(got, cases[i].content);
			ck_assert_uint_eq(buf_used(&fx.body), 0);
			continue;
		}
		/* Errors: text/plain one-liner in body, no file. */
		ck_assert_int_eq(res.fd, -1);
		snprintf(text, sizeof(text), "%d %s\n", cases[i].status,
		    http_status_reason(cases[i].status));
		ck_assert_str_eq(buf_cstr(&fx.body), text);
		ck_assert_str_eq(hdr("Content-Type"), "text/plain; charset=utf-8");
		ck_assert_int_eq(atoi(hdr("Content-Length")), strlen(text));
	}
}
END_TEST

START_TEST(full_response_bytes)
{
	struct rq	 get = { .path = "/a.txt" }, head = get;
	struct static_result res;
	char		 want[512], etag[96], got[16];

	snprintf(want, sizeof(want), "HTTP/1.1 200 OK\r\n"
	    "Content-Type: text/plain; charset=utf-8\r\n"
	    "Content-Length: 6\r\n"
	    "Last-Modified: " T0_DATE "\r\n"
	    "ETag: %s\r\n"
	    "Accept-Ranges: bytes\r\n", etag_of("a.txt", etag));
	ck_assert(strncmp(etag, "\"6553f100.1dcd6500-6-", 21) == 0);
	res = expect(&get, 200, got, sizeof(got));
	ck_assert_str_eq(buf_cstr(&fx.head), want);
	ck_assert_int_eq(res.offset, 0);
	ck_assert_int_eq(res.length, 6);
	ck_assert_str_eq(got, "hello\n");

	/* HEAD: the same head, no file, no body. */
	head.m = HTTP_M_HEAD;
	res = expect(&head, 200, NULL, 0);
	ck_assert_str_eq(buf_cstr(&fx.head), want);
	ck_assert_int_eq(res.fd, -1);
	ck_assert_int_eq(res.length, 0);
	ck_assert_uint_eq(buf_used(&fx.body), 0);

	/* HTTP/1.0 keeps its version. */
	get.minor = -1;
	expect(&get, 200, NULL, 0);
	ck_assert(strncmp(buf_cstr(&fx.head), "HTTP/1.0 200 OK\r\n", 17) == 0);
}
END_TEST

START_TEST(method_and_head_errors)
{
	struct rq	 post = { .path = "/a.txt", .m = HTTP_M_POST };
	struct rq	 head404 = { .path = "/nope", .m = HTTP_M_HEAD };
	struct static_result res;

	res = expect(&post, 405, NULL, 0);
	ck_assert_str_eq(buf_cstr(&fx.head),
	    "HTTP/1.1 405 Method Not Allowed\r\n"
	    "Allow: GET, HEAD\r\n"
	    "Content-Type: text/plain; charset=utf-8\r\n"
	    "Content-Length: 23\r\n");
	ck_assert_str_eq(buf_cstr(&fx.body), "405 Method Not Allowed\n");
	ck_assert_int_eq(res.fd, -1);
	post.m = HTTP_M_OPTIONS;
	expect(&post, 405, NULL, 0);

	/* HEAD of an error: the length of the text, no text. */
	expect(&head404, 404, NULL, 0);
	ck_assert_str_eq(hdr("Content-Length"), "14");
	ck_assert_uint_eq(buf_used(&fx.body), 0);
}
END_TEST

START_TEST(directories)
{
	static const struct {
		const char	*path;
		int		 status;
		const char	*expect;	/* Location, or the body */
	} cases[] = {
		{ "/", 200, "<h1>home</h1>\n" },
		{ "/dir", 301, "/dir/" },
		{ "/dir/", 200, "dir index\n" },
		{ "/dir/.", 200, "dir index\n" },
		{ "/x/../dir", 301, "/dir/" },
		{ "//dir", 301, "/dir/" },	/* never "//host" */
		{ "/sp%20ace", 301, "/sp%20ace/" },
		{ "/sp%20ace/", 403, NULL },
		{ "/noindex", 301, "/noindex/" },
		{ "/noindex/", 403, NULL },
		{ "/both/", 200, "htm\n" },	/* index order wins */
	};
	struct static_result res;
	char	 got[64];
	size_t	 i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct rq q = { .path = cases[i].path };

		res = expect(&q, cases[i].status,
		    cases[i].status == 200 ? got : NULL, sizeof(got));
		if (cases[i].status == 301) {
			ck_assert_str_eq(hdr("Location"), cases[i].expect);
			ck_assert_str_eq(buf_cstr(&fx.body),
			    "301 Moved Permanently\n");
			ck_assert_str_eq(res.reason, "directory redirect");
		} else if (cases[i].status == 200)
			ck_assert_str_eq(got, cases[i].expect);
	}
	/* The index's own name gives the type. */
	expect(&(struct rq){ .path = "/" }, 200, NULL, 0);
	ck_assert_str_eq(hdr("Content-Type"), "text/html; charset=utf-8");
}
END_TEST

START_TEST(listing)
{
	struct rq	 q = { .path = "/noindex/" };
	struct static_result res;
	const char	*b, *pa, *pb, *ps;
	char		 clen[24];

	fx.sc.listing = true;
	res = expect(&q, 200, NULL, 0);
	ck_assert_int_eq(res.fd, -1);
	ck_assert_str_eq(hdr("Content-Type"), "text/html; charset=utf-8");
	b = buf_cstr(&fx.body);
	ck_assert_int_eq(atoi(hdr("Content-Length")), strlen(b));
	ck_assert_ptr_nonnull(strstr(b, "<title>Index of /noindex/</title>"));
	pa = strstr(b, "<a href=\"./a%3Cb%3E.txt\">a&lt;b&gt;.txt</a>");
	pb = strstr(b, "<a href=\"./b.txt\">b.txt</a>");
	ps = strstr(b, "<a href=\"./sub/\">sub/</a>");
	ck_assert(pa != NULL && pb != NULL && ps != NULL);
	ck_assert(pa < pb && pb < ps);
	ck_assert_ptr_null(strstr(b, "hidden"));
	ck_assert_ptr_null(strstr(b, "<b>"));
	snprintf(clen, sizeof(clen), "%s", hdr("Content-Length"));

	q.m = HTTP_M_HEAD;
	expect(&q, 200, NULL, 0);
	ck_assert_str_eq(hdr("Content-Length"), clen);
	ck_assert_uint_eq(buf_used(&fx.body), 0);
}
END_TEST

START_TEST(conditionals)
{
	static const struct {
		const char	*inm;	/* %s: our ETag */
		const char	*ims;
		int		 status;
	} cases[] = {
		{ "%s", NULL, 304 },
		{ "\"x\", %s", NULL, 304 },
		{ "\"x\",%s , \"y\"", NULL, 304 },
		{ "*", NULL, 304 },
		{ "W/%s", NULL, 304 },		/* weak comparison */
		{ "\"other\"", NULL, 200 },
		{ "\"other\"", "Wed, 01 Jan 2031 00:00:00 GMT", 200 },
		{ "%s garbage", NULL, 200 },
		{ NULL, T0_DATE, 304 },
		{ NULL, "Tue, 14 Nov 2023 22:13:19 GMT", 200 },
		{ NULL, "Wed, 01 Jan 2031 00:00:00 GMT", 304 },
		{ NULL, "Tuesday, 14-Nov-23 22:13:20 GMT", 304 },
		{ NULL, "yesterday", 200 },
	};
	struct static_result res;
	char	 etag[96], inm[256], want[512];
	size_t	 i;

	etag_of("a.txt", etag);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct rq q = { .path = "/a.txt", .ims = cases[i].ims };

		if (cases[i].inm != NULL) {
			snprintf(inm, sizeof(inm), cases[i].inm, etag);
			q.inm = inm;
		}
		res = expect(&q, cases[i].status, NULL, 0);
		ck_assert_msg(res.status == cases[i].status, "case %zu", i);
		if (cases[i].status == 304) {
			ck_assert_int_eq(res.fd, -1);
			ck_assert_int_eq(res.length, 0);
			ck_assert_uint_eq(buf_used(&fx.body), 0);
		}
		q.m = HTTP_M_HEAD;
		expect(&q, cases[i].status, NULL, 0);
	}
	/* A 304 carries the validators only. */
	snprintf(want, sizeof(want), "HTTP/1.1 304 Not Modified\r\n"
	    "Last-Modified: " T0_DATE "\r\nETag: %s\r\n", etag);
	expect(&(struct rq){ .path = "/a.txt", .inm = etag }, 304, NULL, 0);
	ck_assert_str_eq(buf_cstr(&fx.head), want);
}
END_TEST

START_TEST(ranges)
{
	static const struct {
		const char	*range;
		const char	*ifr;	/* %s: our ETag */
		int		 status;
		const char	*body;	/* 206: the part */
		const char	*crange;
	} cases[] = {
		{ "bytes=0-4", NULL, 206, "01234", "bytes 0-4/10" },
		{ "bytes=5-", NULL, 206, "56789", "bytes 5-9/10" },
		{ "bytes=-3", NULL, 206, "789", "bytes 7-9/10" },
		{ "bytes=9-100", NULL, 206, "9", "bytes 9-9/10" },
		{ "bytes=-20", NULL, 206, "0123456789", "bytes 0-9/10" },
		{ "BYTES=3-3", NULL, 206, "3", "bytes 3-3/10" },
		{ "bytes=0-99999999999999999999999", NULL, 206, "0123456789",
		    "bytes 0-9/10" },
		{ "bytes=10-", NULL, 416, NULL, "bytes */10" },
		{ "bytes=-0", NULL, 416, NULL, "bytes */10" },
		{ "bytes=99999999999999999999999-", NULL, 416, NULL,
		    "bytes */10" },
		{ "bytes=a-b", NULL, 200, NULL, NULL },
		{ "bytes=5-2", NULL, 200, NULL, NULL },
		{ "bytes=-", NULL, 200, NULL, NULL },
		{ "bytes=0-1,3-4", NULL, 200, NULL, NULL },
		{ "bytes=0-1, 3-", NULL, 200, NULL, NULL },
		{ "items=0-1", NULL, 200, NULL, NULL },
		{ "bytes=0-4", "%s", 206, "01234", "bytes 0-4/10" },
		{ "bytes=0-4", "\"nope\"", 200, NULL, NULL },
		{ "bytes=0-4", "W/%s", 200, NULL, NULL },	/* strong only */
		{ "bytes=0-4", T0_DATE, 206, "01234", "bytes 0-4/10" },
		{ "bytes=0-4", "Wed, 01 Jan 2031 00:00:00 GMT", 200, NULL, NULL },
		{ "bytes=0-4", "junk", 200, NULL, NULL },
		{ "bytes=10-", "\"nope\"", 200, NULL, NULL },
	};
	struct static_result res;
	char	 etag[96], ifr[128], got[64];
	size_t	 i;

	etag_of("ten.txt", etag);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct rq q = { .path = "/ten.txt", .range = cases[i].range };

		if (cases[i].ifr != NULL) {
			snprintf(ifr, sizeof(ifr), cases[i].ifr, etag);
			q.ifr = ifr;
		}
		res = expect(&q, cases[i].status,
		    cases[i].status == 416 ? NULL : got, sizeof(got));
		ck_assert_msg(res.status == cases[i].status, "case %zu", i);
		if (cases[i].status == 200)
			ck_assert_str_eq(got, "0123456789");
		if (cases[i].body != NULL) {
			ck_assert_str_eq(got, cases[i].body);
			ck_assert_int_eq(atoi(hdr("Content-Length")),
			    strlen(cases[i].body));
		}
		if (cases[i].crange != NULL)
			ck_assert_str_eq(hdr("Content-Range"), cases[i].crange);
		else
			ck_assert_ptr_null(hdr("Content-Range"));
	}
	/* 416 is a text answer; Range is for GET only. */
	expect(&(struct rq){ .path = "/ten.txt", .range = "bytes=10-" }, 416,
	    NULL, 0);
	ck_assert_str_eq(buf_cstr(&fx.body), "416 Range Not Satisfiable\n");
	res = expect(&(struct rq){ .path = "/ten.txt", .m = HTTP_M_HEAD,
	    .range = "bytes=0-4" }, 200, NULL, 0);
	ck_assert_str_eq(hdr("Content-Length"), "10");
	/* Conditionals come first: 304 even with Range. */
	expect(&(struct rq){ .path = "/ten.txt", .inm = etag,
	    .range = "bytes=0-4" }, 304, NULL, 0);
	/* An empty file has no satisfiable range. */
	ck_assert_int_eq(close(openat(fx.tfd, "root/empty", O_CREAT | O_WRONLY,
	    0644)), 0);
	expect(&(struct rq){ .path = "/empty", .range = "bytes=-5" }, 416,
	    NULL, 0);
	ck_assert_str_eq(hdr("Content-Range"), "bytes */0");
}
END_TEST

START_TEST(gzip_static)
{
	static const struct {
		const char	*path;
		const char	*ae;
		const char	*range;
		bool		 on;	/* gzip_static */
		const char	*body;
		bool		 gz, vary;
	} cases[] = {
		{ "/style.css", "gzip", NULL, true, "GZ-new", true, true },
		{ "/style.css", "deflate, gzip;q=0.5", NULL, true, "GZ-new",
		    true, true },
		{ "/style.css", "GZIP ; Q=1.0", NULL, true, "GZ-new", true, true },
		{ "/style.css", "x-gzip", NULL, true, "GZ-new", true, true },
		{ "/style.css", "*", NULL, true, "GZ-new", true, true },
		{ "/style.css", "gzip;q=0", NULL, true, NULL, false, true },
		{ "/style.css", "gzip;q=0.000", NULL, true, NULL, false, true },
		{ "/style.css", "*, gzip;q=0", NULL, true, NULL, false, true },
		{ "/style.css", "gzip;q=2", NULL, true, NULL, false, true },
		{ "/style.css", "gzipper, deflate", NULL, true, NULL, false, true },
		{ "/style.css", "br", NULL, true, NULL, false, true },
		{ "/style.css", NULL, NULL, true, NULL, false, true },
		{ "/style.css", "gzip", "bytes=0-3", true, "body", false, true },
		{ "/style.css", "gzip", NULL, false, NULL, false, false },
		{ "/old.css", "gzip", NULL, true, "p {}\n", false, true },
		{ "/a.txt", "gzip", NULL, true, "hello\n", false, false },
	};
	struct static_result res;
	char	 got[64], etag[96];
	size_t	 i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct rq q = { .path = cases[i].path, .ae = cases[i].ae,
		    .range = cases[i].range };

		fx.sc.gzip_static = cases[i].on;
		res = expect(&q, cases[i].range ? 206 : 200, got, sizeof(got));
		ck_assert_str_eq(got, cases[i].body ? cases[i].body :
		    "body { color: red }\n");
		ck_assert_msg((hdr("Content-Encoding") != NULL) == cases[i].gz,
		    "case %zu: Content-Encoding", i);
		ck_assert_msg((hdr("Vary") != NULL) == cases[i].vary,
		    "case %zu: Vary", i);
		ck_assert_str_eq(hdr("Content-Type"), mime_type(cases[i].path,
		    strlen(cases[i].path)));
		if (cases[i].gz) {
			ck_assert_str_eq(hdr("Content-Encoding"), "gzip");
			ck_assert_str_eq(hdr("Vary"), "Accept-Encoding");
			ck_assert_str_eq(hdr("ETag"), etag_of("style.css.gz", etag));
			ck_assert_str_eq(res.reason, "gzip sibling");
		}
	}
	/* A 304 for the gzip representation still says Vary. */
	fx.sc.gzip_static = true;
	expect(&(struct rq){ .path = "/style.css", .ae = "gzip",
	    .inm = etag_of("style.css.gz", etag) }, 304, NULL, 0);
	ck_assert_str_eq(hdr("Vary"), "Accept-Encoding");
	ck_assert_ptr_null(hdr("Content-Encoding"));
}
END_TEST

START_TEST(out_of_room)
{
	struct rq	 q = { .path = "/a.txt" };
	struct static_result res;

	/* Head too small: -1, head untouched, no fd handed out. */
	buf_free(&fx.head);
	buf_init(&fx.head, 64);
	ck_assert_int_eq(run(&q, &res), -1);
	ck_assert_int_eq(errno, ENOBUFS);
	ck_assert_int_eq(res.fd, -1);
	ck_assert_uint_eq(buf_used(&fx.head), 0);
	buf_puts(&fx.head, "kept");
	q.path = "/nope";
	ck_assert_int_eq(static_serve(&fx.sc, &(struct static_req){
	    .method = HTTP_M_GET, .minor = 1, .path = "/a.txt", .path_len = 6 },
	    &fx.head, &fx.body, &res), -1);
	ck_assert_str_eq(buf_cstr(&fx.head), "kept");

	/* Body too small for the error text. */
	buf_free(&fx.head);
	buf_init(&fx.head, 0);
	buf_free(&fx.body);
	buf_init(&fx.body, 8);
	ck_assert_int_eq(run(&q, &res), -1);
	ck_assert_uint_eq(buf_used(&fx.head), 0);
	ck_assert_uint_eq(buf_used(&fx.body), 0);
}
END_TEST

Suite *
webd_static_suite(void)
{
	Suite	*s = suite_create("webd_static");
	TCase	*tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, mime_lookup);
	tcase_add_test(tc, normalize_cases);
	tcase_add_test(tc, paths_and_files);
	tcase_add_test(tc, full_response_bytes);
	tcase_add_test(tc, method_and_head_errors);
	tcase_add_test(tc, directories);
	tcase_add_test(tc, listing);
	tcase_add_test(tc, conditionals);
	tcase_add_test(tc, ranges);
	tcase_add_test(tc, gzip_static);
	tcase_add_test(tc, out_of_room);
	suite_add_tcase(s, tc);
	return s;
}
