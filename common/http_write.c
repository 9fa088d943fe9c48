/* http_write — heads, chunks, reason phrases and HTTP dates.
 *
 * Every writer first checks what it was given (a CR or LF smuggled into a
 * field value would split the message), then reserves the whole size in
 * one go, so the buffer either gets all of it or is left untouched. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "http.h"

static const struct {
	int		 code;
	const char	*reason;
} status_reasons[] = {
	{ 100, "Continue" },
	{ 101, "Switching Protocols" },
	{ 103, "Early Hints" },
	{ 200, "OK" },
	{ 201, "Created" },
	{ 202, "Accepted" },
	{ 203, "Non-Authoritative Information" },
	{ 204, "No Content" },
	{ 205, "Reset Content" },
	{ 206, "Partial Content" },
	{ 300, "Multiple Choices" },
	{ 301, "Moved Permanently" },
	{ 302, "Found" },
	{ 303, "See Other" },
	{ 304, "Not Modified" },
	{ 305, "Use Proxy" },
	{ 307, "Temporary Redirect" },
	{ 308, "Permanent Redirect" },
	{ 400, "Bad Request" },
	{ 401, "Unauthorized" },
	{ 402, "Payment Required" },
	{ 403, "Forbidden" },
	{ 404, "Not Found" },
	{ 405, "Method Not Allowed" },
	{ 406, "Not Acceptable" },
	{ 407, "Proxy Authentication Required" },
	{ 408, "Request Timeout" },
	{ 409, "Conflict" },
	{ 410, "Gone" },
	{ 411, "Length Required" },
	{ 412, "Precondition Failed" },
	{ 413, "Content Too Large" },
	{ 414, "URI Too Long" },
	{ 415, "Unsupported Media Type" },
	{ 416, "Range Not Satisfiable" },
	{ 417, "Expectation Failed" },
	{ 421, "Misdirected Request" },
	{ 422, "Unprocessable Content" },
	{ 425, "Too Early" },
	{ 426, "Upgrade Required" },
	{ 428, "Precondition Required" },
	{ 429, "Too Many Requests" },
	{ 431, "Request Header Fields Too Large" },
	{ 451, "Unavailable For Legal Reasons" },
	{ 500, "Internal Server Error" },
	{ 501, "Not Implemented" },
	{ 502, "Bad Gateway" },
	{ 503, "Service Unavailable" },
	{ 504, "Gateway Timeout" },
	{ 505, "HTTP Version Not Supported" },
	{ 511, "Network Authentication Required" },
};

static const char *const day_names[] = {
	"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat",
};
static const char *const day_names_long[] = {
	"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday",
	"Saturday",
};
static const char *const month_names[] = {
	"Jan", "Feb", "Mar", "Apr", "May", "Jun",
	"Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
};

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

const char *
http_status_reason(int status)
{
	size_t	 i;

	for (i = 0; i < NELEM(status_reasons); i++)
		if (status_reasons[i].code == status)
			return status_reasons[i].reason;
	return NULL;
}

/* Bytes allowed in a reason phrase or field value: HTAB, SP, VCHAR,
 * obs-text; never CR, LF, NUL or another control character. */
static int
valid_text(const char *s, size_t len)
{
	size_t	 i;
	unsigned char c;

	for (i = 0; i < len; i++) {
		c = s[i];
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return 0;
	}
	return 1;
}

static int
valid_token(const char *s, size_t len)
{
	size_t	 i;

	if (len == 0)
		return 0;
	for (i = 0; i < len; i++)
		if (!http_is_tchar(s[i]))
			return 0;
	return 1;
}

static int
valid_fields(const struct http_header *h, size_t n, size_t *total)
{
	size_t	 i, one;

	for (i = 0; i < n; i++) {
		if (!valid_token(h[i].name, h[i].name_len) ||
		    !valid_text(h[i].value, h[i].value_len))
			return 0;
		one = h[i].name_len + h[i].value_len + 4;	/* ": " CRLF */
		if (one < h[i].name_len || *total > SIZE_MAX - one)
			return 0;
		*total += one;
	}
	return 1;
}

/* Only after a successful buf_reserve() of the sum of all puts. */
static void
put(struct buf *b, const void *p, size_t len)
{
	if (len == 0)
		return;
	memcpy(buf_tail(b), p, len);
	buf_commit(b, len);
}

static void
put_fields(struct buf *b, const struct http_header *h, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++) {
		put(b, h[i].name, h[i].name_len);
		put(b, ": ", 2);
		put(b, h[i].value, h[i].value_len);
		put(b, "\r\n", 2);
	}
}

static int
einval(void)
{
	errno = EINVAL;
	return -1;
}

/* Check the status line parts; pre gets "HTTP/1.x NNN ". */
static int
status_line_parts(int minor, int status, const char **reason, char pre[16])
{
	if ((minor != 0 && minor != 1) || status < 100 || status > 599)
		return -1;
	if (*reason == NULL && (*reason = http_status_reason(status)) == NULL)
		*reason = "";
	if (!valid_text(*reason, strlen(*reason)))
		return -1;
	snprintf(pre, 16, "HTTP/1.%d %03d ", minor, status);
	return 0;
}

static int
write_status_head(struct buf *b, int minor, int status, const char *reason,
    const struct http_header *h, size_t n, int end)
{
	char	 pre[16];
	size_t	 total = 0, rlen;

	if (status_line_parts(minor, status, &reason, pre) == -1 ||
	    !valid_fields(h, n, &total))
		return einval();
	rlen = strlen(reason);
	if (total > SIZE_MAX - 32 - rlen)
		return einval();
	total += strlen(pre) + rlen + 2 + (end ? 2 : 0);
	if (buf_reserve(b, total) == -1)
		return -1;
	put(b, pre, strlen(pre));
	put(b, reason, rlen);
	put(b, "\r\n", 2);
	put_fields(b, h, n);
	if (end)
		put(b, "\r\n", 2);
	return 0;
}

int
http_write_status_line(struct buf *b, int minor, int status, const char *reason)
{
	return write_status_head(b, minor, status, reason, NULL, 0, 0);
}

int
http_write_response_head(struct buf *b, int minor, int status,
    const struct http_header *extra, size_t n)
{
	return write_status_head(b, minor, status, NULL, extra, n, 1);
}

static int
write_request_head(struct buf *b, const char *method, const char *target,
    int minor, const struct http_header *h, size_t n, int end)
{
	size_t	 total = 0, mlen, tlen, i;
	char	 ver[16];

	mlen = strlen(method);
	tlen = strlen(target);
	if ((minor != 0 && minor != 1) || !valid_token(method, mlen) ||
	    tlen == 0 || !valid_fields(h, n, &total))
		return einval();
	for (i = 0; i < tlen; i++)
		if ((unsigned char)target[i] <= 0x20 || (unsigned char)target[i] >= 0x7f)
			return einval();
	if (total > SIZE_MAX - 32 - mlen || total + mlen > SIZE_MAX - 32 - tlen)
		return einval();
	snprintf(ver, sizeof(ver), " HTTP/1.%d\r\n", minor);
	total += mlen + 1 + tlen + strlen(ver) + (end ? 2 : 0);
	if (buf_reserve(b, total) == -1)
		return -1;
	put(b, method, mlen);
	put(b, " ", 1);
	put(b, target, tlen);
	put(b, ver, strlen(ver));
	put_fields(b, h, n);
	if (end)
		put(b, "\r\n", 2);
	return 0;
}

int
http_write_request_line(struct buf *b, const char *method, const char *target,
    int minor)
{
	return write_request_head(b, method, target, minor, NULL, 0, 0);
}

int
http_write_request_head(struct buf *b, const char *method, const char *target,
    int minor, const struct http_header *extra, size_t n)
{
	return write_request_head(b, method, target, minor, extra, n, 1);
}

int
http_write_headern(struct buf *b, const char *name, size_t name_len,
    const char *value, size_t value_len)
{
	struct http_header h = { name, name_len, value, value_len };
	size_t	 total = 0;

	if (!valid_fields(&h, 1, &total))
		return einval();
	if (buf_reserve(b, total) == -1)
		return -1;
	put_fields(b, &h, 1);
	return 0;
}

int
http_write_header(struct buf *b, const char *name, const char *value)
{
	return http_write_headern(b, name, strlen(name), value, strlen(value));
}

int
http_write_end_head(struct buf *b)
{
	return buf_append(b, "\r\n", 2);
}

int
http_write_chunk(struct buf *b, const void *data, size_t len)
{
	char	 size[24];
	int	 n;

	if (len == 0)
		return 0;
	n = snprintf(size, sizeof(size), "%zx\r\n", len);
	if (len > SIZE_MAX - 2 - (size_t)n)
		return einval();
	if (buf_reserve(b, (size_t)n + len + 2) == -1)
		return -1;
	put(b, size, n);
	put(b, data, len);
	put(b, "\r\n", 2);
	return 0;
}

int
http_write_last_chunk(struct buf *b, const struct http_header *trailers, size_t n)
{
	size_t	 total = 0;

	if (!valid_fields(trailers, n, &total) || total > SIZE_MAX - 5)
		return einval();
	if (buf_reserve(b, total + 5) == -1)
		return -1;
	put(b, "0\r\n", 3);
	put_fields(b, trailers, n);
	put(b, "\r\n", 2);
	return 0;
}

char *
http_date(time_t t, char out[HTTP_DATE_LEN])
{
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL || tm.tm_year + 1900 < 0 ||
	    tm.tm_year + 1900 > 9999)
		return NULL;
	snprintf(out, HTTP_DATE_LEN, "%s, %02d %s %04d %02d:%02d:%02d GMT",
	    day_names[tm.tm_wday], tm.tm_mday, month_names[tm.tm_mon],
	    tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
	return out;
}

/* A cursor over the date text; each matcher advances only on success. */
struct cursor {
	const char	*s;
	size_t		 len;
	size_t		 pos;
};

static int
lit(struct cursor *c, const char *word)
{
	size_t	 n = strlen(word);

	if (c->len - c->pos < n || memcmp(c->s + c->pos, word, n) != 0)
		return -1;
	c->pos += n;
	return 0;
}

static int
digits(struct cursor *c, int count, int *out)
{
	int	 i, v = 0;
	char	 ch;

	if (c->len - c->pos < (size_t)count)
		return -1;
	for (i = 0; i < count; i++) {
		ch = c->s[c->pos + i];
		if (ch < '0' || ch > '9')
			return -1;
		v = v * 10 + (ch - '0');
	}
	c->pos += count;
	*out = v;
	return 0;
}

/* Day and month names are case-sensitive (%s"..." in RFC 9110 5.6.7). */
static int
name(struct cursor *c, const char *const *names, size_t n, int *idx)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if (lit(c, names[i]) == 0) {
			*idx = (int)i;
			return 0;
		}
	return -1;
}

/* time-of-day = hour ":" minute ":" second */
static int
time_of_day(struct cursor *c, struct tm *tm)
{
	if (digits(c, 2, &tm->tm_hour) == -1 || lit(c, ":") == -1 ||
	    digits(c, 2, &tm->tm_min) == -1 || lit(c, ":") == -1 ||
	    digits(c, 2, &tm->tm_sec) == -1)
		return -1;
	return 0;
}

/* IMF-fixdate = day-name "," SP 2DIGIT SP month SP 4DIGIT SP time SP "GMT" */
static int
parse_imf(struct cursor *c, struct tm *tm)
{
	int	 wday, year;

	if (name(c, day_names, NELEM(day_names), &wday) == -1 ||
	    lit(c, ", ") == -1 || digits(c, 2, &tm->tm_mday) == -1 ||
	    lit(c, " ") == -1 ||
	    name(c, month_names, NELEM(month_names), &tm->tm_mon) == -1 ||
	    lit(c, " ") == -1 || digits(c, 4, &year) == -1 || lit(c, " ") == -1 ||
	    time_of_day(c, tm) == -1 || lit(c, " GMT") == -1)
		return -1;
	tm->tm_year = year - 1900;
	return 0;
}

/* rfc850-date = day-name-l "," SP 2DIGIT "-" month "-" 2DIGIT SP time SP "GMT" */
static int
parse_rfc850(struct cursor *c, struct tm *tm)
{
	struct tm now;
	time_t	 t = time(NULL);
	int	 wday, yy, year;

	if (name(c, day_names_long, NELEM(day_names_long), &wday) == -1 ||
	    lit(c, ", ") == -1 || digits(c, 2, &tm->tm_mday) == -1 ||
	    lit(c, "-") == -1 ||
	    name(c, month_names, NELEM(month_names), &tm->tm_mon) == -1 ||
	    lit(c, "-") == -1 || digits(c, 2, &yy) == -1 || lit(c, " ") == -1 ||
	    time_of_day(c, tm) == -1 || lit(c, " GMT") == -1)
		return -1;
	/* A two-digit year more than 50 years ahead is in the past century. */
	if (gmtime_r(&t, &now) == NULL)
		return -1;
	year = (now.tm_year + 1900) / 100 * 100 + yy;
	if (year > now.tm_year + 1900 + 50)
		year -= 100;
	tm->tm_year = year - 1900;
	return 0;
}

/* asctime-date = day-name SP month SP ( 2DIGIT / ( SP DIGIT ) ) SP time SP 4DIGIT */
static int
parse_asctime(struct cursor *c, struct tm *tm)
{
	int	 wday, year;

	if (name(c, day_names, NELEM(day_names), &wday) == -1 ||
	    lit(c, " ") == -1 ||
	    name(c, month_names, NELEM(month_names), &tm->tm_mon) == -1 ||
	    lit(c, " ") == -1)
		return -1;
	if (lit(c, " ") == 0) {
		if (digits(c, 1, &tm->tm_mday) == -1)
			return -1;
	} else if (digits(c, 2, &tm->tm_mday) == -1)
		return -1;
	if (lit(c, " ") == -1 || time_of_day(c, tm) == -1 || lit(c, " ") == -1 ||
	    digits(c, 4, &year) == -1)
		return -1;
	tm->tm_year = year - 1900;
	return 0;
}

static int
days_in_month(int mon, int year)
{
	static const int days[] = {
		31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31,
	};

	if (mon == 1 && ((year % 4 == 0 && year % 100 != 0) || year % 400 == 0))
		return 29;
	return days[mon];
}

int
http_date_parse(const char *s, size_t len, time_t *out)
{
	static int (*const formats[])(struct cursor *, struct tm *) = {
		parse_imf, parse_rfc850, parse_asctime,
	};
	struct cursor c;
	struct tm tm;
	size_t	 i;
	time_t	 t;

	for (i = 0; i < NELEM(formats); i++) {
		memset(&tm, 0, sizeof(tm));
		c.s = s;
		c.len = len;
		c.pos = 0;
		if (formats[i](&c, &tm) == 0 && c.pos == len)
			break;
	}
	if (i == NELEM(formats))
		return -1;
	/* second 60 is a leap second: timegm() carries it into the minute. */
	if (tm.tm_mday < 1 ||
	    tm.tm_mday > days_in_month(tm.tm_mon, tm.tm_year + 1900) ||
	    tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 60)
		return -1;
	if ((t = timegm(&tm)) == (time_t)-1)
		return -1;
	*out = t;
	return 0;
}
