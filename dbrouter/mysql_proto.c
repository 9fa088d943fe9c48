/* mysql_proto — OK, ERR and EOF packets, the command table and
 * COM_STMT_PREPARE_OK. */
#include <stdio.h>
#include <string.h>

#include "mysql_proto.h"

#define SESSION_TRACK_SYSTEM_VARIABLES	0

/* Run a build step list: on any failure, cut out back and fail. */
#define TRY(b, used, expr) do {				\
	if ((expr) == -1) {				\
		mysql_buf_truncate((b), (used));	\
		return -1;				\
	}						\
} while (0)

int
mysql_ok_build(struct buf *out, const struct mysql_ok *ok, uint32_t caps,
    uint8_t header)
{
	size_t	 used = buf_used(out);

	TRY(out, used, mysql_put_u8(out, header));
	TRY(out, used, mysql_put_lenenc(out, ok->affected_rows));
	TRY(out, used, mysql_put_lenenc(out, ok->last_insert_id));
	if (caps & MYSQL_CLIENT_PROTOCOL_41) {
		TRY(out, used, mysql_put_u16(out, ok->status));
		TRY(out, used, mysql_put_u16(out, ok->warnings));
	} else if (caps & MYSQL_CLIENT_TRANSACTIONS)
		TRY(out, used, mysql_put_u16(out, ok->status));
	if (caps & MYSQL_CLIENT_SESSION_TRACK) {
		TRY(out, used, mysql_put_lenenc_str(out, ok->info.p,
		    ok->info.len));
		if (ok->status & MYSQL_STATUS_SESSION_STATE_CHANGED)
			TRY(out, used, mysql_put_lenenc_str(out,
			    ok->session_state.p, ok->session_state.len));
	} else
		TRY(out, used, buf_append(out, ok->info.p, ok->info.len));
	return 0;
}

int
mysql_ok_parse(const uint8_t *p, size_t len, uint32_t caps,
    struct mysql_ok *ok)
{
	struct mysql_cur c;
	uint8_t	 header;

	memset(ok, 0, sizeof(*ok));
	mysql_cur_init(&c, p, len);
	if (mysql_get_u8(&c, &header) == -1 ||
	    (header != MYSQL_HDR_OK && header != MYSQL_HDR_EOF) ||
	    (header == MYSQL_HDR_EOF && len >= MYSQL_MAX_FRAME))
		return -1;
	if (mysql_get_lenenc(&c, &ok->affected_rows) == -1 ||
	    mysql_get_lenenc(&c, &ok->last_insert_id) == -1)
		return -1;
	if (caps & MYSQL_CLIENT_PROTOCOL_41) {
		if (mysql_get_u16(&c, &ok->status) == -1 ||
		    mysql_get_u16(&c, &ok->warnings) == -1)
			return -1;
	} else if (caps & MYSQL_CLIENT_TRANSACTIONS) {
		if (mysql_get_u16(&c, &ok->status) == -1)
			return -1;
	}
	if (!(caps & MYSQL_CLIENT_SESSION_TRACK)) {
		mysql_get_rest(&c, &ok->info);
		return 0;
	}
	/* Servers may stop after the counters when there is no info. */
	if (mysql_cur_left(&c) == 0)
		return 0;
	if (mysql_get_lenenc_str(&c, &ok->info) == -1)
		return -1;
	if ((ok->status & MYSQL_STATUS_SESSION_STATE_CHANGED) &&
	    mysql_get_lenenc_str(&c, &ok->session_state) == -1)
		return -1;
	return 0;
}

int
mysql_ok_sysvar(const struct mysql_ok *ok, const char *name,
    struct mysql_str *value)
{
	struct mysql_cur c, d;
	struct mysql_str data, n, v;
	uint8_t	 type;

	mysql_cur_init(&c, ok->session_state.p, ok->session_state.len);
	while (mysql_cur_left(&c) > 0) {
		if (mysql_get_u8(&c, &type) == -1 ||
		    mysql_get_lenenc_str(&c, &data) == -1)
			return -1;
		if (type != SESSION_TRACK_SYSTEM_VARIABLES)
			continue;
		mysql_cur_init(&d, data.p, data.len);
		if (mysql_get_lenenc_str(&d, &n) == -1 ||
		    mysql_get_lenenc_str(&d, &v) == -1)
			return -1;
		if (mysql_str_eq(&n, name)) {
			*value = v;
			return 0;
		}
	}
	return -1;
}

int
mysql_err_build(struct buf *out, uint16_t code, const char *sqlstate,
    const char *message, uint32_t caps)
{
	size_t	 used = buf_used(out);
	char	 state[6] = "HY000";

	if (sqlstate != NULL)
		memcpy(state, sqlstate, strnlen(sqlstate, 5));
	TRY(out, used, mysql_put_u8(out, MYSQL_HDR_ERR));
	TRY(out, used, mysql_put_u16(out, code));
	if (caps & MYSQL_CLIENT_PROTOCOL_41) {
		TRY(out, used, buf_append(out, "#", 1));
		TRY(out, used, buf_append(out, state, 5));
	}
	TRY(out, used, buf_append(out, message, strlen(message)));
	return 0;
}

int
mysql_err_parse(const uint8_t *p, size_t len, struct mysql_err *e)
{
	struct mysql_cur c;
	const uint8_t *state;
	uint8_t	 header;

	memset(e, 0, sizeof(*e));
	mysql_cur_init(&c, p, len);
	if (mysql_get_u8(&c, &header) == -1 || header != MYSQL_HDR_ERR ||
	    mysql_get_u16(&c, &e->code) == -1)
		return -1;
	/* The '#' marker and state come with PROTOCOL_41 only. */
	if (mysql_cur_left(&c) >= 6 && c.p[c.pos] == '#') {
		mysql_skip(&c, 1);
		mysql_get_bytes(&c, 5, &state);
		memcpy(e->sqlstate, state, 5);
	}
	mysql_get_rest(&c, &e->message);
	return 0;
}

int
mysql_eof_build(struct buf *out, const struct mysql_eof *eof)
{
	size_t	 used = buf_used(out);

	TRY(out, used, mysql_put_u8(out, MYSQL_HDR_EOF));
	TRY(out, used, mysql_put_u16(out, eof->warnings));
	TRY(out, used, mysql_put_u16(out, eof->status));
	return 0;
}

bool
mysql_is_eof(const uint8_t *p, size_t len)
{
	return len > 0 && len < 9 && p[0] == MYSQL_HDR_EOF;
}

int
mysql_eof_parse(const uint8_t *p, size_t len, struct mysql_eof *eof)
{
	struct mysql_cur c;

	memset(eof, 0, sizeof(*eof));
	if (!mysql_is_eof(p, len))
		return -1;
	/* A bare 0xfe is the pre-4.1 form, without counters. */
	if (len == 1)
		return 0;
	mysql_cur_init(&c, p + 1, len - 1);
	if (mysql_get_u16(&c, &eof->warnings) == -1 ||
	    mysql_get_u16(&c, &eof->status) == -1)
		return -1;
	return 0;
}

/* Commands: names for logs, and what kind of reply each one gets. */
static const struct {
	const char	*name;
	enum mysql_reply reply;
} commands[256] = {
	[MYSQL_COM_SLEEP] = { "COM_SLEEP", MYSQL_REPLY_UNKNOWN },
	[MYSQL_COM_QUIT] = { "COM_QUIT", MYSQL_REPLY_NONE },
	[MYSQL_COM_INIT_DB] = { "COM_INIT_DB", MYSQL_REPLY_OK },
	[MYSQL_COM_QUERY] = { "COM_QUERY", MYSQL_REPLY_RESULTSET },
	[MYSQL_COM_FIELD_LIST] = { "COM_FIELD_LIST", MYSQL_REPLY_FIELD_LIST },
	[MYSQL_COM_CREATE_DB] = { "COM_CREATE_DB", MYSQL_REPLY_OK },
	[MYSQL_COM_DROP_DB] = { "COM_DROP_DB", MYSQL_REPLY_OK },
	[MYSQL_COM_REFRESH] = { "COM_REFRESH", MYSQL_REPLY_OK },
	[MYSQL_COM_SHUTDOWN] = { "COM_SHUTDOWN", MYSQL_REPLY_OK },
	[MYSQL_COM_STATISTICS] = { "COM_STATISTICS", MYSQL_REPLY_STRING },
	[MYSQL_COM_PROCESS_INFO] = { "COM_PROCESS_INFO",
	    MYSQL_REPLY_RESULTSET },
	[MYSQL_COM_CONNECT] = { "COM_CONNECT", MYSQL_REPLY_UNKNOWN },
	[MYSQL_COM_PROCESS_KILL] = { "COM_PROCESS_KILL", MYSQL_REPLY_OK },
	[MYSQL_COM_DEBUG] = { "COM_DEBUG", MYSQL_REPLY_OK },
	[MYSQL_COM_PING] = { "COM_PING", MYSQL_REPLY_OK },
	[MYSQL_COM_TIME] = { "COM_TIME", MYSQL_REPLY_UNKNOWN },
	[MYSQL_COM_DELAYED_INSERT] = { "COM_DELAYED_INSERT",
	    MYSQL_REPLY_UNKNOWN },
	[MYSQL_COM_CHANGE_USER] = { "COM_CHANGE_USER", MYSQL_REPLY_AUTH },
	[MYSQL_COM_BINLOG_DUMP] = { "COM_BINLOG_DUMP", MYSQL_REPLY_UNKNOWN },
	[MYSQL_COM_TABLE_DUMP] = { "COM_TABLE_DUMP", MYSQL_REPLY_UNKNOWN },
	[MYSQL_COM_CONNECT_OUT] = { "COM_CONNECT_OUT", MYSQL_REPLY_UNKNOWN },
	[MYSQL_COM_REGISTER_SLAVE] = { "COM_REGISTER_SLAVE",
	    MYSQL_REPLY_UNKNOWN },
	[MYSQL_COM_STMT_PREPARE] = { "COM_STMT_PREPARE", MYSQL_REPLY_PREPARE },
	[MYSQL_COM_STMT_EXECUTE] = { "COM_STMT_EXECUTE",
	    MYSQL_REPLY_RESULTSET },
	[MYSQL_COM_STMT_SEND_LONG_DATA] = { "COM_STMT_SEND_LONG_DATA",
	    MYSQL_REPLY_NONE },
	[MYSQL_COM_STMT_CLOSE] = { "COM_STMT_CLOSE", MYSQL_REPLY_NONE },
	[MYSQL_COM_STMT_RESET] = { "COM_STMT_RESET", MYSQL_REPLY_OK },
	[MYSQL_COM_SET_OPTION] = { "COM_SET_OPTION", MYSQL_REPLY_OK },
	[MYSQL_COM_STMT_FETCH] = { "COM_STMT_FETCH", MYSQL_REPLY_ROWS },
	[MYSQL_COM_DAEMON] = { "COM_DAEMON", MYSQL_REPLY_UNKNOWN },
	[MYSQL_COM_BINLOG_DUMP_GTID] = { "COM_BINLOG_DUMP_GTID",
	    MYSQL_REPLY_UNKNOWN },
	[MYSQL_COM_RESET_CONNECTION] = { "COM_RESET_CONNECTION",
	    MYSQL_REPLY_OK },
	[MYSQL_COM_STMT_BULK_EXECUTE] = { "COM_STMT_BULK_EXECUTE",
	    MYSQL_REPLY_RESULTSET },
};

const char *
mysql_cmd_name(uint8_t cmd)
{
	return commands[cmd].name;
}

enum mysql_reply
mysql_cmd_reply(uint8_t cmd)
{
	return commands[cmd].reply;
}

/* Which payloads carry a statement id at offset 1. */
static bool
has_stmt_id(const uint8_t *p, size_t len)
{
	if (len < 5)
		return false;
	switch (p[0]) {
	case MYSQL_HDR_OK:		/* STMT_PREPARE_OK */
	case MYSQL_COM_STMT_EXECUTE:
	case MYSQL_COM_STMT_SEND_LONG_DATA:
	case MYSQL_COM_STMT_CLOSE:
	case MYSQL_COM_STMT_RESET:
	case MYSQL_COM_STMT_FETCH:
	case MYSQL_COM_STMT_BULK_EXECUTE:
		return true;
	default:
		return false;
	}
}

int
mysql_stmt_id_get(const uint8_t *p, size_t len, uint32_t *id)
{
	if (!has_stmt_id(p, len))
		return -1;
	*id = (uint32_t)p[1] | (uint32_t)p[2] << 8 | (uint32_t)p[3] << 16 |
	    (uint32_t)p[4] << 24;
	return 0;
}

int
mysql_stmt_id_set(uint8_t *p, size_t len, uint32_t id)
{
	int	 i;

	if (!has_stmt_id(p, len))
		return -1;
	for (i = 0; i < 4; i++)
		p[1 + i] = (uint8_t)(id >> (8 * i));
	return 0;
}

int
mysql_prepare_ok_parse(const uint8_t *p, size_t len,
    struct mysql_prepare_ok *ok)
{
	struct mysql_cur c;
	uint8_t	 header;

	memset(ok, 0, sizeof(*ok));
	mysql_cur_init(&c, p, len);
	if (mysql_get_u8(&c, &header) == -1 || header != MYSQL_HDR_OK ||
	    mysql_get_u32(&c, &ok->stmt_id) == -1 ||
	    mysql_get_u16(&c, &ok->columns) == -1 ||
	    mysql_get_u16(&c, &ok->params) == -1 ||
	    mysql_skip(&c, 1) == -1)
		return -1;
	/* The warning count is optional in old servers. */
	if (mysql_cur_left(&c) >= 2)
		mysql_get_u16(&c, &ok->warnings);
	return 0;
}

int
mysql_prepare_ok_build(struct buf *out, const struct mysql_prepare_ok *ok)
{
	size_t	 used = buf_used(out);

	TRY(out, used, mysql_put_u8(out, MYSQL_HDR_OK));
	TRY(out, used, mysql_put_u32(out, ok->stmt_id));
	TRY(out, used, mysql_put_u16(out, ok->columns));
	TRY(out, used, mysql_put_u16(out, ok->params));
	TRY(out, used, mysql_put_u8(out, 0));
	TRY(out, used, mysql_put_u16(out, ok->warnings));
	return 0;
}
