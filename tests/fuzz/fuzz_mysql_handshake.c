/* fuzz_mysql_handshake: arbitrary bytes as connection-phase payloads.
 *
 * 1. As a HandshakeResponse41 (from an exact-size copy): an error always
 *    has a reason; strings lie inside the payload; a response whose auth
 *    was length-prefixed is built again and parses to the same fields.
 * 2. As an Initial Handshake v10; when it parses, built again (scramble
 *    made valid) and parsed to the same fields.
 * 3. As OK (with and without session tracking, and its last_gtid), ERR,
 *    EOF, AuthSwitchRequest, COM_STMT_PREPARE_OK, a statement id and
 *    COM_CHANGE_USER (strings inside the payload); and as a native
 *    password response, which a random input never passes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mysql_proto.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
check(int cond)
{
	if (!cond)
		abort();
}

static void
inside(const struct mysql_str *s, const uint8_t *p, size_t len)
{
	if (s->len > 0)
		check((const uint8_t *)s->p >= p &&
		    (const uint8_t *)s->p + s->len <= p + len);
}

static int
same(const struct mysql_str *a, const struct mysql_str *b)
{
	return a->len == b->len && memcmp(a->p, b->p, a->len) == 0;
}

static void
response(const uint8_t *p, size_t len)
{
	struct mysql_handshake_resp r, back;
	struct buf b;
	char	 err[96] = "";

	if (mysql_handshake_resp_parse(p, len, &r, err, sizeof(err)) == -1) {
		check(err[0] != '\0');
		return;
	}
	inside(&r.user, p, len);
	inside(&r.auth, p, len);
	inside(&r.database, p, len);
	inside(&r.auth_plugin, p, len);
	if (r.ssl_request || r.auth_enc == MYSQL_AUTH_NUL)
		return;
	buf_init(&b, 0);
	r.caps &= ~MYSQL_CLIENT_CONNECT_ATTRS;
	check(mysql_handshake_resp_build(&b, &r) == 0);
	check(mysql_handshake_resp_parse((const uint8_t *)buf_head(&b),
	    buf_used(&b), &back, err, sizeof(err)) == 0);
	check(back.caps == r.caps && back.charset == r.charset &&
	    back.max_packet == r.max_packet);
	check(same(&back.user, &r.user) && same(&back.auth, &r.auth));
	check(same(&back.database, &r.database) &&
	    same(&back.auth_plugin, &r.auth_plugin));
	buf_free(&b);
}

static void
handshake(const uint8_t *p, size_t len)
{
	struct mysql_handshake_in in, back;
	struct buf b;
	char	 err[96] = "";

	if (mysql_handshake_parse(p, len, &in, err, sizeof(err)) == -1) {
		check(err[0] != '\0');
		return;
	}
	mysql_scramble_fix(in.h.scramble);
	/* The builder pads part 2 to 12 bytes: give it the caps it needs. */
	buf_init(&b, 0);
	check(mysql_handshake_build(&b, &in.h) == 0);
	check(mysql_handshake_parse((const uint8_t *)buf_head(&b),
	    buf_used(&b), &back, err, sizeof(err)) == 0);
	check(back.h.conn_id == in.h.conn_id && back.h.caps == in.h.caps &&
	    back.h.charset == in.h.charset && back.h.status == in.h.status);
	check(memcmp(back.h.scramble, in.h.scramble, MYSQL_SCRAMBLE_LEN) == 0);
	check(strcmp(back.version, in.version) == 0);
	buf_free(&b);
}

static void
generic(const uint8_t *p, size_t len)
{
	static const uint8_t stage2[20], scramble[20];
	struct mysql_ok ok;
	struct mysql_err e;
	struct mysql_eof eof;
	struct mysql_str a, d, v;
	struct mysql_prepare_ok pok;
	struct mysql_handshake_resp cu;
	uint8_t	 stage1[20];
	uint32_t id;
	uint16_t cs;
	char	 err[96];

	if (mysql_ok_parse(p, len, MYSQL_CLIENT_PROTOCOL_41 |
	    MYSQL_CLIENT_SESSION_TRACK, &ok) == 0) {
		inside(&ok.info, p, len);
		inside(&ok.session_state, p, len);
		if (mysql_ok_sysvar(&ok, "last_gtid", &v) == 0)
			inside(&v, p, len);
	}
	if (mysql_ok_parse(p, len, MYSQL_CLIENT_PROTOCOL_41, &ok) == 0)
		inside(&ok.info, p, len);
	if (mysql_err_parse(p, len, &e) == 0)
		inside(&e.message, p, len);
	(void)mysql_eof_parse(p, len, &eof);
	if (mysql_auth_switch_parse(p, len, &a, &d) == 0) {
		inside(&a, p, len);
		inside(&d, p, len);
	}
	(void)mysql_prepare_ok_parse(p, len, &pok);
	(void)mysql_stmt_id_get(p, len, &id);
	if (mysql_change_user_parse(p, len, MYSQL_CLIENT_PROTOCOL_41 |
	    MYSQL_CLIENT_SECURE_CONNECTION | MYSQL_CLIENT_PLUGIN_AUTH |
	    MYSQL_CLIENT_CONNECT_ATTRS, &cu, &cs, err, sizeof(err)) == 0) {
		inside(&cu.user, p, len);
		inside(&cu.auth, p, len);
		inside(&cu.database, p, len);
		inside(&cu.auth_plugin, p, len);
	}
	/* SHA1(x) == all zeros is not going to happen by chance. */
	check(mysql_native_verify(stage2, scramble, p, len, stage1) == -1);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t	*copy = malloc(size ? size : 1);

	memcpy(copy, data, size);
	response(copy, size);
	handshake(copy, size);
	generic(copy, size);
	free(copy);
	return 0;
}
