/* Unit tests for dbrouter/mysql_proto, mysql_auth and mysql_resp: known
 * bytes and round trips of the connection-phase messages, the native
 * password check against an independent vector, OK/ERR/EOF, the command
 * table, and response scanning over hand-built server replies. */
#include <stdlib.h>
#include <string.h>

#include "mysql_proto.h"
#include "sha1.h"
#include "suites.h"

#define V(d)	(const uint8_t *)(d), sizeof(d) - 1
#define P41	MYSQL_CLIENT_PROTOCOL_41
#define DEOF	MYSQL_CLIENT_DEPRECATE_EOF

static const uint8_t scramble[20] = "abcdefghijklmnopqrst";

/* PASSWORD('password') and the response to scramble, from Python's
 * hashlib, not from this code. */
#define PW_HASH	"*2470C0C06DEE42FD1618BB99005ADCA2EC9D1E19"
static const uint8_t pw_response[20] =
    "\xbf\xdd\x49\x58\x4b\x91\x7d\x42\xc7\x58\xed\xd2\xa7\xa5\x41\xf7"
    "\x21\x84\x30\x41";

START_TEST(native_password)
{
	uint8_t	 stage1[20], stage2[20], stored[20], resp[20], got[20];

	mysql_native_stage1("password", 8, stage1);
	mysql_native_stage2(stage1, stage2);
	ck_assert_int_eq(mysql_native_hash_parse(PW_HASH, stored), 0);
	ck_assert_mem_eq(stored, stage2, 20);
	mysql_native_response(stage1, scramble, resp);
	ck_assert_mem_eq(resp, pw_response, 20);
	memset(got, 0, sizeof(got));
	ck_assert_int_eq(mysql_native_verify(stored, scramble, resp, 20, got),
	    0);
	ck_assert_mem_eq(got, stage1, 20);
	/* Wrong password, wrong length, wrong scramble. */
	mysql_native_stage1("passwore", 8, stage1);
	mysql_native_response(stage1, scramble, resp);
	ck_assert_int_eq(mysql_native_verify(stored, scramble, resp, 20, got),
	    -1);
	ck_assert_int_eq(mysql_native_verify(stored, scramble, pw_response,
	    19, got), -1);
	ck_assert_int_eq(mysql_native_verify(stored,
	    (const uint8_t *)"abcdefghijklmnopqrsX", pw_response, 20, got), -1);
	/* No password: only an empty response. */
	ck_assert_int_eq(mysql_native_verify(NULL, scramble, resp, 0, got), 0);
	ck_assert_int_eq(mysql_native_verify(NULL, scramble, resp, 20, got),
	    -1);
}
END_TEST

START_TEST(native_hash_parse_refuses)
{
	static const char *const bad[] = {
		"", "*", "2470C0C06DEE42FD1618BB99005ADCA2EC9D1E19",
		"*2470C0C06DEE42FD1618BB99005ADCA2EC9D1E1",
		"*2470C0C06DEE42FD1618BB99005ADCA2EC9D1E199",
		"*2470C0C06DEE42FD1618BB99005ADCA2EC9D1E1G",
	};
	uint8_t	 h[20];
	size_t	 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_int_eq(mysql_native_hash_parse(bad[i], h), -1);
	ck_assert_int_eq(mysql_native_hash_parse(
	    "*2470c0c06dee42fd1618bb99005adca2ec9d1e19", h), 0);
}
END_TEST

#define SERVER_CAPS	(MYSQL_CLIENT_PROTOCOL_41 | \
	MYSQL_CLIENT_SECURE_CONNECTION | MYSQL_CLIENT_PLUGIN_AUTH | \
	MYSQL_CLIENT_CONNECT_WITH_DB | MYSQL_CLIENT_DEPRECATE_EOF | \
	MYSQL_CLIENT_PLUGIN_AUTH_LENENC_DATA | MYSQL_CLIENT_TRANSACTIONS | \
	MYSQL_CLIENT_SESSION_TRACK | MYSQL_CLIENT_MULTI_RESULTS)

START_TEST(handshake_bytes_and_roundtrip)
{
	struct mysql_handshake h = {
		.server_version = "5.5.5-10.11.6-MariaDB-stackd",
		.conn_id = 0x01020304,
		.caps = SERVER_CAPS,
		.mariadb_caps = 0x1d,
		.charset = 45,
		.status = MYSQL_STATUS_AUTOCOMMIT,
	};
	struct mysql_handshake_in in;
	struct buf b;
	const uint8_t *p;
	size_t	 vlen = strlen(h.server_version), n;
	char	 err[80];

	memcpy(h.scramble, scramble, 20);
	buf_init(&b, 0);
	ck_assert_int_eq(mysql_handshake_build(&b, &h), 0);
	p = (const uint8_t *)buf_head(&b);
	ck_assert_uint_eq(p[0], 10);
	ck_assert_str_eq((const char *)p + 1, h.server_version);
	p += 2 + vlen;
	ck_assert_mem_eq(p, "\x04\x03\x02\x01" "abcdefgh" "\0", 13);
	ck_assert_uint_eq(p[20], 21);			/* auth data length */
	ck_assert_mem_eq(p + 27, "\x1d\0\0\0", 4);	/* MariaDB caps */
	ck_assert_mem_eq(p + 31, "ijklmnopqrst\0", 13);
	ck_assert_str_eq((const char *)p + 44, MYSQL_NATIVE_PLUGIN);
	ck_assert_uint_eq(buf_used(&b), 2 + vlen + 44 + 22);

	ck_assert_int_eq(mysql_handshake_parse((const uint8_t *)buf_head(&b),
	    buf_used(&b), &in, err, sizeof(err)), 0);
	ck_assert_str_eq(in.h.server_version, h.server_version);
	ck_assert_uint_eq(in.h.conn_id, h.conn_id);
	ck_assert_mem_eq(in.h.scramble, scramble, 20);
	ck_assert_uint_eq(in.h.caps, h.caps);
	ck_assert_uint_eq(in.h.mariadb_caps, 0x1d);
	ck_assert_uint_eq(in.h.charset, 45);
	ck_assert_uint_eq(in.h.status, MYSQL_STATUS_AUTOCOMMIT);
	ck_assert_str_eq(in.h.auth_plugin, MYSQL_NATIVE_PLUGIN);
	/* Every truncation before the plugin name fails. */
	for (n = 0; n < buf_used(&b) - 22; n++)
		ck_assert_int_eq(mysql_handshake_parse(
		    (const uint8_t *)buf_head(&b), n, &in, err, sizeof(err)),
		    -1);
	/* A scramble with a NUL cannot be sent. */
	h.scramble[19] = 0;
	ck_assert_int_eq(mysql_handshake_build(&b, &h), -1);
	mysql_scramble_fix(h.scramble);
	ck_assert_ptr_null(memchr(h.scramble, 0, 20));
	buf_free(&b);
}
END_TEST

/* Hand-built HandshakeResponse41 packets, one per auth encoding. */
#define RESP_HEAD(caps) caps "\0\0\0\x01" "\x21" \
	"\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0" "\0\0\0\0"
/* PROTOCOL_41|SECURE|PLUGIN_AUTH|LENENC|CONNECT_WITH_DB|ATTRS */
#define CAPS_LENENC	"\x08\x82\x38\x00"
#define CAPS_LEN8	"\x08\x82\x08\x00"	/* no LENENC, no ATTRS */
#define CAPS_NUL	"\x00\x02\x00\x00"	/* PROTOCOL_41 only */

static const struct {
	const char	*name;
	const uint8_t	*data;
	size_t		 len;
	int		 want;
	enum mysql_auth_enc enc;
	const char	*db;
	unsigned	 attrs;
} resps[] = {
	{ "lenenc auth, db, plugin, 2 attrs", V(RESP_HEAD(CAPS_LENENC)
	    "app\0" "\x04" "abcd" "shop\0" "mysql_native_password\0"
	    "\x0e" "\x03" "_os" "\x05" "Linux" "\x01" "a" "\x01" "b"), 0,
	    MYSQL_AUTH_LENENC, "shop", 2 },
	{ "1-byte auth length", V(RESP_HEAD(CAPS_LEN8) "app\0" "\x04" "abcd"
	    "shop\0" "mysql_native_password\0"), 0, MYSQL_AUTH_LEN8, "shop",
	    0 },
	{ "NUL-terminated auth", V(RESP_HEAD(CAPS_NUL) "app\0" "abcd\0"), 0,
	    MYSQL_AUTH_NUL, "", 0 },
	{ "db and plugin cut off by the end", V(RESP_HEAD(CAPS_LEN8) "app\0"
	    "\x04" "abcd"), 0, MYSQL_AUTH_LEN8, "", 0 },
	{ "attrs longer than the packet", V(RESP_HEAD(CAPS_LENENC) "app\0"
	    "\x04" "abcd" "shop\0" "p\0" "\x0f" "\x03" "_os" "\x05" "Linux"
	    "\x01" "a" "\x01" "b"), -1, 0, NULL, 0 },
	{ "attr value past its block", V(RESP_HEAD(CAPS_LENENC) "app\0"
	    "\x04" "abcd" "shop\0" "p\0" "\x03" "\x01" "a" "\x05" "bcdef"),
	    -1, 0, NULL, 0 },
	{ "auth longer than the packet", V(RESP_HEAD(CAPS_LEN8) "app\0"
	    "\x05" "abcd"), -1, 0, NULL, 0 },
	{ "user not terminated", V(RESP_HEAD(CAPS_LEN8) "app"), -1, 0, NULL,
	    0 },
	{ "no PROTOCOL_41", V(RESP_HEAD("\x00\x80\x00\x00") "app\0" "\0"),
	    -1, 0, NULL, 0 },
	{ "32 bytes without SSL", V(RESP_HEAD(CAPS_LEN8)), -1, 0, NULL, 0 },
	{ "short", V("\x08\x82\x08\x00\0\0\0\x01"), -1, 0, NULL, 0 },
};

START_TEST(handshake_response_vectors)
{
	struct mysql_handshake_resp r;
	char	 err[80] = "";
	int	 rc;

	rc = mysql_handshake_resp_parse(resps[_i].data, resps[_i].len, &r,
	    err, sizeof(err));
	ck_assert_msg(rc == resps[_i].want, "%s: %d (%s)", resps[_i].name,
	    rc, err);
	if (rc == -1) {
		ck_assert_str_ne(err, "");
		return;
	}
	ck_assert(mysql_str_eq(&r.user, "app"));
	ck_assert(mysql_str_eq(&r.auth, "abcd"));
	ck_assert_int_eq(r.auth_enc, resps[_i].enc);
	ck_assert(mysql_str_eq(&r.database, resps[_i].db));
	ck_assert_uint_eq(r.attrs, resps[_i].attrs);
	ck_assert_uint_eq(r.max_packet, 0x01000000);
	ck_assert_uint_eq(r.charset, 0x21);
	ck_assert(!r.ssl_request);
}
END_TEST

START_TEST(handshake_response_every_truncation)
{
	struct mysql_handshake_resp r;
	size_t	 n;

	/* Never reads past the end; each prefix parses or fails cleanly. */
	for (n = 0; n <= resps[0].len; n++) {
		uint8_t *copy = malloc(n + 1);

		memcpy(copy, resps[0].data, n);
		(void)mysql_handshake_resp_parse(copy, n, &r, NULL, 0);
		free(copy);
	}
}
END_TEST

START_TEST(ssl_request_and_build_roundtrip)
{
	struct mysql_handshake_resp r = {
		.caps = SERVER_CAPS | MYSQL_CLIENT_SSL |
		    MYSQL_CLIENT_CONNECT_ATTRS,
		.max_packet = 1 << 24, .charset = 45,
		.user = { "root", 4 },
		.auth = { (const char *)pw_response, 20 },
		.database = { "db", 2 },
		.auth_plugin = { MYSQL_NATIVE_PLUGIN, 21 },
	}, got;
	struct buf b;
	char	 err[80];

	buf_init(&b, 0);
	r.ssl_request = true;
	ck_assert_int_eq(mysql_handshake_resp_build(&b, &r), 0);
	ck_assert_uint_eq(buf_used(&b), 32);
	ck_assert_int_eq(mysql_handshake_resp_parse(
	    (const uint8_t *)buf_head(&b), buf_used(&b), &got, err,
	    sizeof(err)), 0);
	ck_assert(got.ssl_request);
	ck_assert_uint_eq(got.caps, r.caps);
	buf_reset(&b);
	r.ssl_request = false;
	r.caps &= ~MYSQL_CLIENT_MYSQL;
	r.mariadb_caps = 0x4;
	ck_assert_int_eq(mysql_handshake_resp_build(&b, &r), 0);
	ck_assert_int_eq(mysql_handshake_resp_parse(
	    (const uint8_t *)buf_head(&b), buf_used(&b), &got, err,
	    sizeof(err)), 0);
	ck_assert(!got.ssl_request);
	ck_assert(mysql_str_eq(&got.user, "root"));
	ck_assert_uint_eq(got.auth.len, 20);
	ck_assert_mem_eq(got.auth.p, pw_response, 20);
	ck_assert(mysql_str_eq(&got.database, "db"));
	ck_assert(mysql_str_eq(&got.auth_plugin, MYSQL_NATIVE_PLUGIN));
	ck_assert_uint_eq(got.mariadb_caps, 0x4);
	buf_free(&b);
}
END_TEST

START_TEST(change_user)
{
	static const char pkt[] = "\x11" "bob\0" "\x14" "0123456789abcdefghij"
	    "shop\0" "\x21\x00" "mysql_native_password\0"
	    "\x06" "\x01" "k" "\x03" "val";
	uint32_t caps = SERVER_CAPS | MYSQL_CLIENT_CONNECT_ATTRS;
	struct mysql_handshake_resp r;
	uint16_t cs;
	char	 err[80];
	size_t	 n;

	ck_assert_int_eq(mysql_change_user_parse(V(pkt), caps, &r, &cs, err,
	    sizeof(err)), 0);
	ck_assert(mysql_str_eq(&r.user, "bob"));
	ck_assert_uint_eq(r.auth.len, 20);
	ck_assert_int_eq(r.auth_enc, MYSQL_AUTH_LEN8);	/* even with LENENC */
	ck_assert(mysql_str_eq(&r.database, "shop"));
	ck_assert_uint_eq(cs, 0x21);
	ck_assert(mysql_str_eq(&r.auth_plugin, MYSQL_NATIVE_PLUGIN));
	ck_assert_uint_eq(r.attrs, 1);
	/* The old short form: user, auth, database only. */
	ck_assert_int_eq(mysql_change_user_parse(V("\x11" "bob\0" "\0"
	    "db\0"), caps, &r, &cs, err, sizeof(err)), 0);
	ck_assert_uint_eq(cs, 0);
	ck_assert(mysql_str_eq(&r.database, "db"));
	/* Cut before the end of the auth data or inside a name: refused. */
	for (n = 1; n < 26; n++)
		ck_assert_int_eq(mysql_change_user_parse((const uint8_t *)pkt,
		    n, caps, &r, &cs, err, sizeof(err)), -1);
	ck_assert_int_eq(mysql_change_user_parse(V("\x03" "bob\0"), caps, &r,
	    &cs, err, sizeof(err)), -1);
}
END_TEST

START_TEST(stmt_ids)
{
	uint8_t	 exec[] = "\x17\x01\x00\x00\x00\x00\x01\x00\x00\x00";
	uint8_t	 pok[] = "\x00\x07\x00\x00\x00\x01\x00\x00\x00\x00\x00"
	    "\x00";
	uint32_t id;

	ck_assert_int_eq(mysql_stmt_id_get(exec, 10, &id), 0);
	ck_assert_uint_eq(id, 1);
	ck_assert_int_eq(mysql_stmt_id_set(exec, 10, 0xa1b2c3d4), 0);
	ck_assert_mem_eq(exec, "\x17\xd4\xc3\xb2\xa1\x00", 6);
	ck_assert_int_eq(mysql_stmt_id_get(pok, 12, &id), 0);
	ck_assert_uint_eq(id, 7);
	ck_assert_int_eq(mysql_stmt_id_get(exec, 4, &id), -1);
	ck_assert_int_eq(mysql_stmt_id_get((const uint8_t *)"\x03SELECT", 7,
	    &id), -1);
}
END_TEST

START_TEST(auth_switch)
{
	struct mysql_str plugin, data;
	struct buf b;

	buf_init(&b, 0);
	ck_assert_int_eq(mysql_auth_switch_build(&b, MYSQL_NATIVE_PLUGIN,
	    scramble, 20), 0);
	ck_assert_uint_eq(buf_used(&b), 1 + 22 + 21);
	ck_assert_uint_eq((uint8_t)buf_head(&b)[0], 0xfe);
	ck_assert_int_eq(mysql_auth_switch_parse((const uint8_t *)buf_head(&b),
	    buf_used(&b), &plugin, &data), 0);
	ck_assert(mysql_str_eq(&plugin, MYSQL_NATIVE_PLUGIN));
	ck_assert_uint_eq(data.len, 20);
	ck_assert_mem_eq(data.p, scramble, 20);
	ck_assert_int_eq(mysql_auth_switch_parse(V("\xfe" "abc"), &plugin,
	    &data), -1);
	buf_free(&b);
}
END_TEST

START_TEST(ok_packets)
{
	struct mysql_ok ok = {
		.affected_rows = 300, .last_insert_id = 7,
		.status = MYSQL_STATUS_AUTOCOMMIT | MYSQL_STATUS_IN_TRANS,
		.warnings = 2, .info = { "Rows matched", 12 },
	}, got;
	struct buf b;

	buf_init(&b, 0);
	ck_assert_int_eq(mysql_ok_build(&b, &ok, P41, MYSQL_HDR_OK), 0);
	ck_assert_mem_eq(buf_head(&b), "\x00\xfc\x2c\x01\x07\x03\x00\x02\x00"
	    "Rows matched", 21);
	ck_assert_int_eq(mysql_ok_parse((const uint8_t *)buf_head(&b),
	    buf_used(&b), P41, &got), 0);
	ck_assert(got.affected_rows == 300 && got.last_insert_id == 7);
	ck_assert_uint_eq(got.status, ok.status);
	ck_assert_uint_eq(got.warnings, 2);
	ck_assert(mysql_str_eq(&got.info, "Rows matched"));
	/* OK-as-EOF with session tracking: info as a lenenc string. */
	buf_reset(&b);
	ck_assert_int_eq(mysql_ok_build(&b, &ok,
	    P41 | MYSQL_CLIENT_SESSION_TRACK, MYSQL_HDR_EOF), 0);
	ck_assert_uint_eq((uint8_t)buf_head(&b)[0], 0xfe);
	ck_assert_int_eq(mysql_ok_parse((const uint8_t *)buf_head(&b),
	    buf_used(&b), P41 | MYSQL_CLIENT_SESSION_TRACK, &got), 0);
	ck_assert(mysql_str_eq(&got.info, "Rows matched"));
	/* The short form servers send: no info at all. */
	ck_assert_int_eq(mysql_ok_parse(V("\x00\x00\x00\x02\x00\x00\x00"),
	    P41 | MYSQL_CLIENT_SESSION_TRACK, &got), 0);
	ck_assert_uint_eq(got.status, MYSQL_STATUS_AUTOCOMMIT);
	/* Truncated counters, wrong header. */
	ck_assert_int_eq(mysql_ok_parse(V("\x00\x00\x00\x02"), P41, &got), -1);
	ck_assert_int_eq(mysql_ok_parse(V("\x00\xfc\x01"), P41, &got), -1);
	ck_assert_int_eq(mysql_ok_parse(V("\x01\x00\x00\x02\x00\x00\x00"),
	    P41, &got), -1);
	buf_free(&b);
}
END_TEST

/* MariaDB's OK after a write with session_track_system_variables =
 * last_gtid: info "", then one SYSTEM_VARIABLES change. */
START_TEST(ok_session_state_gtid)
{
	static const char pkt[] = "\x00\x01\x00" "\x02\x40" "\x00\x00"
	    "\x00" "\x13" "\x00" "\x11" "\x09" "last_gtid" "\x06" "0-1-42";
	struct mysql_ok ok;
	struct mysql_str v;
	uint32_t caps = P41 | MYSQL_CLIENT_SESSION_TRACK;

	ck_assert_int_eq(mysql_ok_parse(V(pkt), caps, &ok), 0);
	ck_assert(ok.status & MYSQL_STATUS_SESSION_STATE_CHANGED);
	ck_assert_int_eq(mysql_ok_sysvar(&ok, "last_gtid", &v), 0);
	ck_assert(mysql_str_eq(&v, "0-1-42"));
	ck_assert_int_eq(mysql_ok_sysvar(&ok, "autocommit", &v), -1);
}
END_TEST

START_TEST(err_and_eof)
{
	struct mysql_err e;
	struct mysql_eof eof = { 1, MYSQL_STATUS_MORE_RESULTS }, got;
	struct buf b;

	buf_init(&b, 0);
	ck_assert_int_eq(mysql_err_build(&b, 1045, "28000",
	    "Access denied", P41), 0);
	ck_assert_mem_eq(buf_head(&b), "\xff\x15\x04#28000Access denied", 22);
	ck_assert_int_eq(mysql_err_parse((const uint8_t *)buf_head(&b),
	    buf_used(&b), &e), 0);
	ck_assert_uint_eq(e.code, 1045);
	ck_assert_str_eq(e.sqlstate, "28000");
	ck_assert(mysql_str_eq(&e.message, "Access denied"));
	buf_reset(&b);
	ck_assert_int_eq(mysql_err_build(&b, 1040, NULL, "Too many", 0), 0);
	ck_assert_int_eq(mysql_err_parse((const uint8_t *)buf_head(&b),
	    buf_used(&b), &e), 0);
	ck_assert_str_eq(e.sqlstate, "");
	ck_assert(mysql_str_eq(&e.message, "Too many"));
	ck_assert_int_eq(mysql_err_parse(V("\xff\x01"), &e), -1);

	buf_reset(&b);
	ck_assert_int_eq(mysql_eof_build(&b, &eof), 0);
	ck_assert_mem_eq(buf_head(&b), "\xfe\x01\x00\x08\x00", 5);
	ck_assert_int_eq(mysql_eof_parse((const uint8_t *)buf_head(&b),
	    buf_used(&b), &got), 0);
	ck_assert_uint_eq(got.status, MYSQL_STATUS_MORE_RESULTS);
	ck_assert(mysql_is_eof(V("\xfe")));
	ck_assert(!mysql_is_eof(V("\xfe\0\0\0\0\0\0\0\0")));
	ck_assert_int_eq(mysql_eof_parse(V("\xfe\x01\x00"), &got), -1);
	buf_free(&b);
}
END_TEST

START_TEST(command_table)
{
	ck_assert_str_eq(mysql_cmd_name(MYSQL_COM_QUERY), "COM_QUERY");
	ck_assert_str_eq(mysql_cmd_name(0x1f), "COM_RESET_CONNECTION");
	ck_assert_str_eq(mysql_cmd_name(0xfa), "COM_STMT_BULK_EXECUTE");
	ck_assert_ptr_null(mysql_cmd_name(0x20));
	ck_assert_ptr_null(mysql_cmd_name(0xff));
	ck_assert_int_eq(mysql_cmd_reply(MYSQL_COM_QUIT), MYSQL_REPLY_NONE);
	ck_assert_int_eq(mysql_cmd_reply(MYSQL_COM_STMT_CLOSE),
	    MYSQL_REPLY_NONE);
	ck_assert_int_eq(mysql_cmd_reply(MYSQL_COM_PING), MYSQL_REPLY_OK);
	ck_assert_int_eq(mysql_cmd_reply(MYSQL_COM_STMT_PREPARE),
	    MYSQL_REPLY_PREPARE);
	ck_assert_int_eq(mysql_cmd_reply(MYSQL_COM_STMT_EXECUTE),
	    MYSQL_REPLY_RESULTSET);
	ck_assert_int_eq(mysql_cmd_reply(0x99), MYSQL_REPLY_UNKNOWN);
}
END_TEST

START_TEST(prepare_ok)
{
	struct mysql_prepare_ok ok = { 0x11223344, 3, 2, 1 }, got;
	struct buf b;

	buf_init(&b, 0);
	ck_assert_int_eq(mysql_prepare_ok_build(&b, &ok), 0);
	ck_assert_uint_eq(buf_used(&b), 12);
	ck_assert_int_eq(mysql_prepare_ok_parse((const uint8_t *)buf_head(&b),
	    12, &got), 0);
	ck_assert_uint_eq(got.stmt_id, 0x11223344);
	ck_assert_uint_eq(got.columns, 3);
	ck_assert_uint_eq(got.params, 2);
	ck_assert_uint_eq(got.warnings, 1);
	ck_assert_int_eq(mysql_prepare_ok_parse((const uint8_t *)buf_head(&b),
	    8, &got), -1);
	buf_free(&b);
}
END_TEST

/* Response scanning: a script of server packets and the result expected
 * after each ('M' more, 'D' done, 'I' infile, 'B' bad). */
struct pkt {
	const char	*data;
	size_t		 len;
};
#define PK(d)	{ d, sizeof(d) - 1 }
#define COLDEF	PK("\x03" "def" "\0\0\0\x01" "a\0\x0c\x3f\0\x0b\0\0\0\x03\x80"\
		    "\0\0\0")
#define EOF_ST(s) PK("\xfe\x00\x00" s "\x00")
#define OKEOF_ST(s) PK("\xfe\x00\x00" s "\x00\x00\x00")
#define ROW1	PK("\x01" "1")

struct script {
	const char	*name;
	enum mysql_reply kind;
	uint32_t	 caps;
	struct pkt	 pkts[12];
	const char	*want;
	uint16_t	 status;	/* flags at the end */
	uint64_t	 rows;
};

static const struct script scripts[] = {
	{ "OK to an INSERT", MYSQL_REPLY_RESULTSET, P41,
	    { PK("\x00\x01\x05\x03\x00\x00\x00") }, "D",
	    MYSQL_STATUS_IN_TRANS | MYSQL_STATUS_AUTOCOMMIT, 0 },
	{ "ERR", MYSQL_REPLY_RESULTSET, P41,
	    { PK("\xff\x7a\x04#42S02Table 'x' doesn't exist") }, "D", 0, 0 },
	{ "result set with EOFs", MYSQL_REPLY_RESULTSET, P41,
	    { PK("\x02"), COLDEF, COLDEF, EOF_ST("\x02"), ROW1, ROW1, ROW1,
	    EOF_ST("\x22") }, "MMMMMMMD", 0x22, 3 },
	{ "result set, DEPRECATE_EOF", MYSQL_REPLY_RESULTSET, P41 | DEOF,
	    { PK("\x01"), COLDEF, ROW1, OKEOF_ST("\x03") }, "MMMD", 3, 1 },
	{ "empty result set, DEPRECATE_EOF", MYSQL_REPLY_RESULTSET,
	    P41 | DEOF, { PK("\x01"), COLDEF, OKEOF_ST("\x02") }, "MMD", 2, 0 },
	{ "a row that starts with 0xfe is not an EOF", MYSQL_REPLY_RESULTSET,
	    P41, { PK("\x01"), COLDEF, EOF_ST("\x02"),
	    PK("\xfe\x01\0\0\0\0\0\0\0" "x"), EOF_ST("\x02") }, "MMMMD", 2, 1 },
	{ "two results (CALL / multi-statement)", MYSQL_REPLY_RESULTSET,
	    P41 | DEOF, { PK("\x01"), COLDEF, ROW1, OKEOF_ST("\x0a"),
	    PK("\x00\x00\x00\x02\x00\x00\x00") }, "MMMMD", 2, 1 },
	{ "ERR in the middle of rows", MYSQL_REPLY_RESULTSET, P41,
	    { PK("\x01"), COLDEF, EOF_ST("\x02"), ROW1,
	    PK("\xff\x25\x05#70100Query execution was interrupted") }, "MMMMD",
	    2, 1 },
	{ "LOAD DATA LOCAL INFILE", MYSQL_REPLY_RESULTSET, P41,
	    { PK("\xfb" "/tmp/x.csv"), PK("\x00\x02\x00\x02\x00\x00\x00") },
	    "ID", 2, 0 },
	{ "cursor opened: no rows yet", MYSQL_REPLY_RESULTSET, P41,
	    { PK("\x01"), COLDEF, EOF_ST("\x42") }, "MMD", 0x42, 0 },
	{ "prepare with params and columns", MYSQL_REPLY_PREPARE, P41,
	    { PK("\x00\x01\0\0\0\x01\0\x02\0\0\0\0"), COLDEF, COLDEF,
	    EOF_ST("\x02"), COLDEF, EOF_ST("\x02") }, "MMMMMD", 2, 0 },
	{ "prepare, DEPRECATE_EOF", MYSQL_REPLY_PREPARE, P41 | DEOF,
	    { PK("\x00\x01\0\0\0\x01\0\x01\0\0\0\0"), COLDEF, COLDEF }, "MMD",
	    0, 0 },
	{ "prepare without params or columns", MYSQL_REPLY_PREPARE, P41,
	    { PK("\x00\x01\0\0\0\0\0\0\0\0\0\0") }, "D", 0, 0 },
	{ "prepare error", MYSQL_REPLY_PREPARE, P41,
	    { PK("\xff\x28\x04#42000syntax") }, "D", 0, 0 },
	{ "ping", MYSQL_REPLY_OK, P41, { PK("\x00\x00\x00\x02\x00\x00\x00") },
	    "D", 2, 0 },
	{ "set option answers EOF", MYSQL_REPLY_OK, P41,
	    { EOF_ST("\x02") }, "D", 2, 0 },
	{ "field list", MYSQL_REPLY_FIELD_LIST, P41,
	    { COLDEF, COLDEF, EOF_ST("\x02") }, "MMD", 2, 0 },
	{ "fetch", MYSQL_REPLY_ROWS, P41,
	    { PK("\x00\x00\x01"), EOF_ST("\x82") }, "MD", 0x82, 1 },
	{ "packet after the end", MYSQL_REPLY_OK, P41,
	    { PK("\x00\x00\x00\x02\x00\x00\x00"), PK("\x00") }, "DB", 2, 0 },
	{ "zero columns", MYSQL_REPLY_RESULTSET, P41, { PK("\x00\x00") }, "B",
	    0, 0 },
	{ "bad column count", MYSQL_REPLY_RESULTSET, P41, { PK("\xfc\x01") },
	    "B", 0, 0 },
	{ "missing EOF after columns", MYSQL_REPLY_RESULTSET, P41,
	    { PK("\x01"), COLDEF, ROW1 }, "MMB", 0, 0 },
	{ "empty packet", MYSQL_REPLY_RESULTSET, P41, { PK("\x01"), PK("") },
	    "MB", 0, 0 },
	{ "nothing to scan after COM_QUIT", MYSQL_REPLY_NONE, P41,
	    { PK("\x00") }, "B", 0, 0 },
};

START_TEST(scan_scripts)
{
	const struct script *s = &scripts[_i];
	struct mysql_resp r;
	size_t	 i;
	int	 rc;
	char	 got[16] = "";

	mysql_resp_start(&r, s->kind, s->caps);
	for (i = 0; i < strlen(s->want); i++) {
		rc = mysql_resp_feed(&r, (const uint8_t *)s->pkts[i].data,
		    s->pkts[i].len);
		got[i] = rc == MYSQL_RESP_MORE ? 'M' : rc == MYSQL_RESP_DONE ?
		    'D' : rc == MYSQL_RESP_INFILE ? 'I' : 'B';
		if (rc == MYSQL_RESP_BAD)
			break;
	}
	ck_assert_msg(strcmp(got, s->want) == 0, "%s: got %s, want %s (%s)",
	    s->name, got, s->want, r.why);
	if (strchr(s->want, 'B') == NULL) {
		ck_assert_uint_eq(r.status, s->status);
		ck_assert_uint_eq(r.rows, s->rows);
	}
}
END_TEST

/* A row of 2^24 bytes whose first byte is 0xfe, under DEPRECATE_EOF: a
 * full first frame, then the rest; only the short OK ends the set. */
START_TEST(scan_long_row)
{
	static const uint8_t one_col[] = "\x01";
	struct mysql_resp r;
	uint8_t	*big;

	ck_assert_ptr_nonnull(big = calloc(1, MYSQL_MAX_FRAME));
	big[0] = 0xfe;
	mysql_resp_start(&r, MYSQL_REPLY_RESULTSET, P41 | DEOF);
	ck_assert_int_eq(mysql_resp_feed(&r, one_col, 1), MYSQL_RESP_MORE);
	ck_assert_int_eq(mysql_resp_feed(&r, (const uint8_t *)"\x03" "def", 4),
	    MYSQL_RESP_MORE);
	ck_assert_int_eq(mysql_resp_feed(&r, big, MYSQL_MAX_FRAME),
	    MYSQL_RESP_MORE);
	/* The continuation starts with 0xfe too, and is short. */
	ck_assert_int_eq(mysql_resp_feed(&r, big, 10), MYSQL_RESP_MORE);
	ck_assert_uint_eq(r.rows, 1);
	ck_assert_int_eq(mysql_resp_feed(&r,
	    (const uint8_t *)"\xfe\x00\x00\x02\x00\x00\x00", 7),
	    MYSQL_RESP_DONE);
	free(big);
}
END_TEST

Suite *
mysql_proto_suite(void)
{
	Suite	*s = suite_create("mysql_proto");
	TCase	*ta = tcase_create("auth");
	TCase	*tg = tcase_create("generic");
	TCase	*tr = tcase_create("resp");

	tcase_add_test(ta, native_password);
	tcase_add_test(ta, native_hash_parse_refuses);
	tcase_add_test(ta, handshake_bytes_and_roundtrip);
	tcase_add_loop_test(ta, handshake_response_vectors, 0,
	    sizeof(resps) / sizeof(resps[0]));
	tcase_add_test(ta, handshake_response_every_truncation);
	tcase_add_test(ta, ssl_request_and_build_roundtrip);
	tcase_add_test(ta, auth_switch);
	tcase_add_test(ta, change_user);
	tcase_add_test(tg, stmt_ids);
	suite_add_tcase(s, ta);
	tcase_add_test(tg, ok_packets);
	tcase_add_test(tg, ok_session_state_gtid);
	tcase_add_test(tg, err_and_eof);
	tcase_add_test(tg, command_table);
	tcase_add_test(tg, prepare_ok);
	suite_add_tcase(s, tg);
	tcase_add_loop_test(tr, scan_scripts, 0,
	    sizeof(scripts) / sizeof(scripts[0]));
	tcase_add_test(tr, scan_long_row);
	suite_add_tcase(s, tr);
	return s;
}
