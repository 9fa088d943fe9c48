/* mysql_resp — find where a server's response to one command ends, frame
 * by frame, so the daemon can relay frames untouched and know when the
 * backend connection is free again, and in which transaction state.
 *
 * A text or binary result set is: column count; that many column
 * definitions; an EOF unless DEPRECATE_EOF; rows; then an EOF, or with
 * DEPRECATE_EOF an OK whose header is 0xfe. The terminator's status flags
 * say whether another result follows (MORE_RESULTS). A row may also start
 * with 0xfe (an 8-byte length prefix), but then it is at least 9 bytes,
 * and under DEPRECATE_EOF at least a whole frame long: that is what tells
 * the two apart. ERR ends the response wherever it comes. */
#include <stdio.h>
#include <string.h>

#include "mysql_proto.h"

#define MAX_COLUMNS	4096	/* the servers' own limit */

static int
bad(struct mysql_resp *r, const char *why)
{
	snprintf(r->why, sizeof(r->why), "%s", why);
	return MYSQL_RESP_BAD;
}

static int
done(struct mysql_resp *r)
{
	r->state = MYSQL_RS_DONE;
	return MYSQL_RESP_DONE;
}

static void
set_status(struct mysql_resp *r, uint16_t status)
{
	r->status = status;
	r->have_status = true;
}

void
mysql_resp_start(struct mysql_resp *r, enum mysql_reply kind, uint32_t caps)
{
	memset(r, 0, sizeof(*r));
	r->caps = caps;
	r->kind = kind;
	r->state = kind == MYSQL_REPLY_ROWS ? MYSQL_RS_ROWS : MYSQL_RS_FIRST;
}

static bool
deprecate_eof(const struct mysql_resp *r)
{
	return (r->caps & MYSQL_CLIENT_DEPRECATE_EOF) != 0;
}

/* The packet that ends rows or a field list: EOF, or OK-as-EOF. */
static bool
is_terminator(const struct mysql_resp *r, const uint8_t *p, size_t len)
{
	if (deprecate_eof(r))
		return p[0] == MYSQL_HDR_EOF && len < MYSQL_MAX_FRAME;
	return mysql_is_eof(p, len);
}

static int
terminator_status(struct mysql_resp *r, const uint8_t *p, size_t len)
{
	struct mysql_ok ok;
	struct mysql_eof eof;

	if (deprecate_eof(r)) {
		if (mysql_ok_parse(p, len, r->caps, &ok) == -1)
			return -1;
		set_status(r, ok.status);
	} else {
		if (mysql_eof_parse(p, len, &eof) == -1)
			return -1;
		set_status(r, eof.status);
	}
	return 0;
}

/* One result ended with status flags r->status: another may follow. */
static int
end_result(struct mysql_resp *r)
{
	r->results++;
	if (r->kind == MYSQL_REPLY_RESULTSET &&
	    (r->status & MYSQL_STATUS_MORE_RESULTS)) {
		r->state = MYSQL_RS_FIRST;
		return MYSQL_RESP_MORE;
	}
	return done(r);
}

static int
first_of_resultset(struct mysql_resp *r, const uint8_t *p, size_t len)
{
	struct mysql_cur c;
	struct mysql_ok ok;
	uint64_t n;

	switch (p[0]) {
	case MYSQL_HDR_OK:
		if (mysql_ok_parse(p, len, r->caps, &ok) == -1)
			return bad(r, "malformed OK packet");
		set_status(r, ok.status);
		return end_result(r);
	case MYSQL_HDR_LOCAL_INFILE:
		r->local_infile = true;
		return MYSQL_RESP_INFILE;	/* then OK or ERR */
	}
	mysql_cur_init(&c, p, len);
	if (mysql_get_lenenc(&c, &n) == -1 || mysql_cur_left(&c) != 0 ||
	    n == 0 || n > MAX_COLUMNS)
		return bad(r, "malformed column count");
	r->columns = r->left = n;
	r->state = MYSQL_RS_COLUMNS;
	return MYSQL_RESP_MORE;
}

static int
first_of_prepare(struct mysql_resp *r, const uint8_t *p, size_t len)
{
	if (mysql_prepare_ok_parse(p, len, &r->prepare) == -1)
		return bad(r, "malformed COM_STMT_PREPARE_OK");
	r->columns = r->prepare.columns;
	if (r->prepare.params > 0) {
		r->left = r->prepare.params;
		r->state = MYSQL_RS_PARAMS;
		return MYSQL_RESP_MORE;
	}
	if (r->columns > 0) {
		r->left = r->columns;
		r->state = MYSQL_RS_COLUMNS;
		return MYSQL_RESP_MORE;
	}
	return done(r);
}

static int
first(struct mysql_resp *r, const uint8_t *p, size_t len)
{
	struct mysql_ok ok;
	struct mysql_eof eof;

	if (p[0] == MYSQL_HDR_ERR) {
		r->error = true;
		return done(r);
	}
	switch (r->kind) {
	case MYSQL_REPLY_RESULTSET:
		return first_of_resultset(r, p, len);
	case MYSQL_REPLY_PREPARE:
		return first_of_prepare(r, p, len);
	case MYSQL_REPLY_OK:
		/* COM_SET_OPTION answers with an EOF. */
		if (mysql_eof_parse(p, len, &eof) == 0)
			set_status(r, eof.status);
		else if (mysql_ok_parse(p, len, r->caps, &ok) == 0)
			set_status(r, ok.status);
		else
			return bad(r, "expected OK, ERR or EOF");
		return done(r);
	case MYSQL_REPLY_STRING:
		return done(r);
	case MYSQL_REPLY_FIELD_LIST:
		if (!is_terminator(r, p, len))
			return MYSQL_RESP_MORE;		/* a definition */
		if (terminator_status(r, p, len) == -1)
			return bad(r, "malformed end of field list");
		return done(r);
	default:
		return bad(r, "no response to scan for this command");
	}
}

/* After the parameter definitions of a prepared statement. */
static int
after_params(struct mysql_resp *r)
{
	if (r->columns == 0)
		return done(r);
	r->left = r->columns;
	r->state = MYSQL_RS_COLUMNS;
	return MYSQL_RESP_MORE;
}

static int
after_columns(struct mysql_resp *r)
{
	if (r->kind == MYSQL_REPLY_PREPARE)
		return done(r);
	r->state = MYSQL_RS_ROWS;
	return MYSQL_RESP_MORE;
}

static int
definitions_eof(struct mysql_resp *r, const uint8_t *p, size_t len)
{
	struct mysql_eof eof;

	if (mysql_eof_parse(p, len, &eof) == -1)
		return bad(r, "expected EOF after definitions");
	set_status(r, eof.status);
	if (r->state == MYSQL_RS_PARAMS_EOF)
		return after_params(r);
	/* A cursor was opened: rows come later, with COM_STMT_FETCH. */
	if (r->kind != MYSQL_REPLY_PREPARE &&
	    (eof.status & MYSQL_STATUS_CURSOR_EXISTS))
		return done(r);
	return after_columns(r);
}

static int
row(struct mysql_resp *r, const uint8_t *p, size_t len)
{
	if (p[0] == MYSQL_HDR_ERR) {
		r->error = true;
		return done(r);
	}
	if (!is_terminator(r, p, len)) {
		r->rows++;
		return MYSQL_RESP_MORE;
	}
	if (terminator_status(r, p, len) == -1)
		return bad(r, "malformed end of rows");
	return end_result(r);
}

int
mysql_resp_feed(struct mysql_resp *r, const uint8_t *p, size_t len)
{
	bool	 first_frame = !r->in_long;

	if (r->state == MYSQL_RS_DONE)
		return bad(r, "packet after the end of the response");
	r->in_long = len == MYSQL_MAX_FRAME;
	/* The rest of a long packet was classified by its first frame. */
	if (!first_frame)
		return MYSQL_RESP_MORE;
	if (len == 0)
		return bad(r, "empty packet");
	switch (r->state) {
	case MYSQL_RS_FIRST:
		return first(r, p, len);
	case MYSQL_RS_PARAMS:
	case MYSQL_RS_COLUMNS:
		if (p[0] == MYSQL_HDR_ERR && r->kind != MYSQL_REPLY_PREPARE) {
			r->error = true;
			return done(r);
		}
		if (--r->left > 0)
			return MYSQL_RESP_MORE;
		if (!deprecate_eof(r)) {
			r->state = r->state == MYSQL_RS_PARAMS ?
			    MYSQL_RS_PARAMS_EOF : MYSQL_RS_COLUMNS_EOF;
			return MYSQL_RESP_MORE;
		}
		return r->state == MYSQL_RS_PARAMS ? after_params(r) :
		    after_columns(r);
	case MYSQL_RS_PARAMS_EOF:
	case MYSQL_RS_COLUMNS_EOF:
		return definitions_eof(r, p, len);
	case MYSQL_RS_ROWS:
		return row(r, p, len);
	default:
		return bad(r, "bad scanner state");
	}
}
