/* mysql_auth — the connection phase: Initial Handshake v10, the client's
 * HandshakeResponse41 (or SSLRequest), AuthSwitchRequest and
 * mysql_native_password. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "mysql_proto.h"
#include "sha1.h"

#define SCRAMBLE_PART1		8
#define SCRAMBLE_PART2		(MYSQL_SCRAMBLE_LEN - SCRAMBLE_PART1)
#define RESERVED_LEN		6	/* then 4 bytes of MariaDB caps */
#define RESP_FILLER_LEN		19	/* then 4 bytes of MariaDB caps */
#define SSL_REQUEST_LEN		32

#define TRY(b, used, expr) do {				\
	if ((expr) == -1) {				\
		mysql_buf_truncate((b), (used));	\
		return -1;				\
	}						\
} while (0)

static int
fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list	 ap;

	if (err != NULL && errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

void
mysql_scramble_fix(uint8_t s[MYSQL_SCRAMBLE_LEN])
{
	int	 i;

	/* Printable ASCII without space: the last part is NUL-terminated
	 * on the wire, and clients treat it as a string. */
	for (i = 0; i < MYSQL_SCRAMBLE_LEN; i++)
		s[i] = (uint8_t)('!' + s[i] % 94);
}

int
mysql_handshake_build(struct buf *out, const struct mysql_handshake *h)
{
	static const uint8_t zeros[RESERVED_LEN + 4];
	const char *plugin = h->auth_plugin ? h->auth_plugin :
	    MYSQL_NATIVE_PLUGIN;
	size_t	 used = buf_used(out);

	if (memchr(h->scramble, 0, MYSQL_SCRAMBLE_LEN) != NULL)
		return -1;
	TRY(out, used, mysql_put_u8(out, 10));
	TRY(out, used, mysql_put_nulstr(out, h->server_version));
	TRY(out, used, mysql_put_u32(out, h->conn_id));
	TRY(out, used, buf_append(out, h->scramble, SCRAMBLE_PART1));
	TRY(out, used, mysql_put_u8(out, 0));
	TRY(out, used, mysql_put_u16(out, (uint16_t)h->caps));
	TRY(out, used, mysql_put_u8(out, h->charset));
	TRY(out, used, mysql_put_u16(out, h->status));
	TRY(out, used, mysql_put_u16(out, (uint16_t)(h->caps >> 16)));
	TRY(out, used, mysql_put_u8(out, (h->caps & MYSQL_CLIENT_PLUGIN_AUTH) ?
	    MYSQL_SCRAMBLE_LEN + 1 : 0));
	TRY(out, used, buf_append(out, zeros, RESERVED_LEN));
	if (h->caps & MYSQL_CLIENT_MYSQL)
		TRY(out, used, buf_append(out, zeros, 4));
	else
		TRY(out, used, mysql_put_u32(out, h->mariadb_caps));
	if (h->caps & MYSQL_CLIENT_SECURE_CONNECTION) {
		TRY(out, used, buf_append(out, h->scramble + SCRAMBLE_PART1,
		    SCRAMBLE_PART2));
		TRY(out, used, mysql_put_u8(out, 0));
	}
	if (h->caps & MYSQL_CLIENT_PLUGIN_AUTH)
		TRY(out, used, mysql_put_nulstr(out, plugin));
	return 0;
}

static void
str_copy(char *dst, size_t size, const struct mysql_str *s)
{
	size_t	 n = s->len < size - 1 ? s->len : size - 1;

	memcpy(dst, s->p, n);
	dst[n] = '\0';
}

int
mysql_handshake_parse(const uint8_t *p, size_t len,
    struct mysql_handshake_in *in, char *err, size_t errlen)
{
	struct mysql_handshake *h = &in->h;
	struct mysql_cur c;
	struct mysql_str version, plugin = { "", 0 };
	const uint8_t *part1, *part2;
	uint16_t caps_lo, caps_hi;
	uint8_t	 proto, data_len;
	size_t	 part2_len;

	memset(in, 0, sizeof(*in));
	mysql_cur_init(&c, p, len);
	if (mysql_get_u8(&c, &proto) == -1)
		return fail(err, errlen, "empty handshake");
	if (proto == MYSQL_HDR_ERR)
		return fail(err, errlen, "server sent an error instead");
	if (proto != 10)
		return fail(err, errlen, "handshake version %u, not 10", proto);
	if (mysql_get_nulstr(&c, &version) == -1 ||
	    mysql_get_u32(&c, &h->conn_id) == -1 ||
	    mysql_get_bytes(&c, SCRAMBLE_PART1, &part1) == -1 ||
	    mysql_skip(&c, 1) == -1 ||
	    mysql_get_u16(&c, &caps_lo) == -1 ||
	    mysql_get_u8(&c, &h->charset) == -1 ||
	    mysql_get_u16(&c, &h->status) == -1 ||
	    mysql_get_u16(&c, &caps_hi) == -1 ||
	    mysql_get_u8(&c, &data_len) == -1 ||
	    mysql_skip(&c, RESERVED_LEN) == -1 ||
	    mysql_get_u32(&c, &h->mariadb_caps) == -1)
		return fail(err, errlen, "handshake truncated");
	h->caps = (uint32_t)caps_hi << 16 | caps_lo;
	if (h->caps & MYSQL_CLIENT_MYSQL)
		h->mariadb_caps = 0;
	memcpy(h->scramble, part1, SCRAMBLE_PART1);
	if (!(h->caps & MYSQL_CLIENT_SECURE_CONNECTION))
		return fail(err, errlen, "server lacks SECURE_CONNECTION");
	/* Part 2 is max(13, data_len - 8) bytes: 12 and a NUL. */
	part2_len = data_len > SCRAMBLE_PART1 + 13 ? data_len - SCRAMBLE_PART1
	    : 13;
	if (mysql_get_bytes(&c, part2_len, &part2) == -1)
		return fail(err, errlen, "handshake scramble truncated");
	memcpy(h->scramble + SCRAMBLE_PART1, part2, SCRAMBLE_PART2);
	if ((h->caps & MYSQL_CLIENT_PLUGIN_AUTH) &&
	    mysql_get_nulstr(&c, &plugin) == -1)
		mysql_get_rest(&c, &plugin);	/* some omit the NUL */
	str_copy(in->version, sizeof(in->version), &version);
	str_copy(in->plugin, sizeof(in->plugin), &plugin);
	h->server_version = in->version;
	h->auth_plugin = in->plugin;
	return 0;
}

/* A NUL-terminated field that may also be cut off by the packet's end. */
static int
get_optional_nulstr(struct mysql_cur *c, struct mysql_str *s)
{
	if (mysql_cur_left(c) == 0) {
		s->p = "";
		s->len = 0;
		return 0;
	}
	return mysql_get_nulstr(c, s);
}

/* Connect attributes: a length, then that many bytes of key/value
 * lenenc strings. Only counted, but every length is checked. */
static int
skip_attrs(struct mysql_cur *c, unsigned *count)
{
	struct mysql_cur a;
	struct mysql_str k, v;
	const uint8_t *block;
	uint64_t total;

	if (mysql_cur_left(c) == 0)
		return 0;
	if (mysql_get_lenenc(c, &total) == -1 || total > mysql_cur_left(c))
		return -1;
	mysql_get_bytes(c, (size_t)total, &block);
	mysql_cur_init(&a, block, (size_t)total);
	while (mysql_cur_left(&a) > 0) {
		if (mysql_get_lenenc_str(&a, &k) == -1 ||
		    mysql_get_lenenc_str(&a, &v) == -1)
			return -1;
		(*count)++;
	}
	return 0;
}

static int
get_auth(struct mysql_cur *c, struct mysql_handshake_resp *r)
{
	uint8_t	 n;
	const uint8_t *data;

	if (r->caps & MYSQL_CLIENT_PLUGIN_AUTH_LENENC_DATA) {
		r->auth_enc = MYSQL_AUTH_LENENC;
		return mysql_get_lenenc_str(c, &r->auth);
	}
	if (r->caps & MYSQL_CLIENT_SECURE_CONNECTION) {
		r->auth_enc = MYSQL_AUTH_LEN8;
		if (mysql_get_u8(c, &n) == -1 ||
		    mysql_get_bytes(c, n, &data) == -1)
			return -1;
		r->auth.p = (const char *)data;
		r->auth.len = n;
		return 0;
	}
	r->auth_enc = MYSQL_AUTH_NUL;
	return mysql_get_nulstr(c, &r->auth);
}

int
mysql_handshake_resp_parse(const uint8_t *p, size_t len,
    struct mysql_handshake_resp *r, char *err, size_t errlen)
{
	struct mysql_cur c;

	memset(r, 0, sizeof(*r));
	r->database.p = r->auth_plugin.p = r->auth.p = r->user.p = "";
	mysql_cur_init(&c, p, len);
	if (len < SSL_REQUEST_LEN)
		return fail(err, errlen, "handshake response of %zu bytes "
		    "is too short", len);
	mysql_get_u32(&c, &r->caps);
	mysql_get_u32(&c, &r->max_packet);
	mysql_get_u8(&c, &r->charset);
	mysql_skip(&c, RESP_FILLER_LEN);
	mysql_get_u32(&c, &r->mariadb_caps);
	if (r->caps & MYSQL_CLIENT_MYSQL)
		r->mariadb_caps = 0;
	if (!(r->caps & MYSQL_CLIENT_PROTOCOL_41))
		return fail(err, errlen, "client lacks PROTOCOL_41 (caps 0x%x)",
		    r->caps);
	if (len == SSL_REQUEST_LEN) {
		if (!(r->caps & MYSQL_CLIENT_SSL))
			return fail(err, errlen, "handshake response without "
			    "a user name");
		r->ssl_request = true;
		return 0;
	}
	if (mysql_get_nulstr(&c, &r->user) == -1)
		return fail(err, errlen, "user name not terminated");
	if (get_auth(&c, r) == -1)
		return fail(err, errlen, "auth response runs past the packet");
	if ((r->caps & MYSQL_CLIENT_CONNECT_WITH_DB) &&
	    get_optional_nulstr(&c, &r->database) == -1)
		return fail(err, errlen, "database name not terminated");
	if ((r->caps & MYSQL_CLIENT_PLUGIN_AUTH) &&
	    get_optional_nulstr(&c, &r->auth_plugin) == -1)
		return fail(err, errlen, "auth plugin name not terminated");
	if ((r->caps & MYSQL_CLIENT_CONNECT_ATTRS) &&
	    skip_attrs(&c, &r->attrs) == -1)
		return fail(err, errlen, "malformed connect attributes");
	return 0;
}

int
mysql_change_user_parse(const uint8_t *p, size_t len, uint32_t caps,
    struct mysql_handshake_resp *r, uint16_t *charset, char *err,
    size_t errlen)
{
	struct mysql_cur c;
	uint8_t	 cmd;

	memset(r, 0, sizeof(*r));
	r->database.p = r->auth_plugin.p = r->auth.p = r->user.p = "";
	*charset = 0;
	/* Unlike the handshake response, the auth length is one byte. */
	r->caps = caps & ~MYSQL_CLIENT_PLUGIN_AUTH_LENENC_DATA;
	mysql_cur_init(&c, p, len);
	if (mysql_get_u8(&c, &cmd) == -1 || cmd != MYSQL_COM_CHANGE_USER)
		return fail(err, errlen, "not a COM_CHANGE_USER");
	if (mysql_get_nulstr(&c, &r->user) == -1)
		return fail(err, errlen, "user name not terminated");
	if (get_auth(&c, r) == -1)
		return fail(err, errlen, "auth response runs past the packet");
	if (get_optional_nulstr(&c, &r->database) == -1)
		return fail(err, errlen, "database name not terminated");
	r->caps = caps;
	if (mysql_cur_left(&c) == 0)
		return 0;
	if (mysql_get_u16(&c, charset) == -1)
		return fail(err, errlen, "character set truncated");
	r->charset = (uint8_t)*charset;
	if ((caps & MYSQL_CLIENT_PLUGIN_AUTH) &&
	    get_optional_nulstr(&c, &r->auth_plugin) == -1)
		return fail(err, errlen, "auth plugin name not terminated");
	if ((caps & MYSQL_CLIENT_CONNECT_ATTRS) &&
	    skip_attrs(&c, &r->attrs) == -1)
		return fail(err, errlen, "malformed connect attributes");
	return 0;
}

int
mysql_handshake_resp_build(struct buf *out,
    const struct mysql_handshake_resp *r)
{
	static const uint8_t zeros[RESP_FILLER_LEN];
	size_t	 used = buf_used(out);

	TRY(out, used, mysql_put_u32(out, r->caps));
	TRY(out, used, mysql_put_u32(out, r->max_packet));
	TRY(out, used, mysql_put_u8(out, r->charset));
	TRY(out, used, buf_append(out, zeros, RESP_FILLER_LEN));
	TRY(out, used, mysql_put_u32(out, (r->caps & MYSQL_CLIENT_MYSQL) ?
	    0 : r->mariadb_caps));
	if (r->ssl_request)
		return 0;
	TRY(out, used, buf_append(out, r->user.p, r->user.len));
	TRY(out, used, mysql_put_u8(out, 0));
	if (r->caps & MYSQL_CLIENT_PLUGIN_AUTH_LENENC_DATA)
		TRY(out, used, mysql_put_lenenc_str(out, r->auth.p,
		    r->auth.len));
	else {
		if (r->auth.len > 255)
			return -1;
		TRY(out, used, mysql_put_u8(out, (uint8_t)r->auth.len));
		TRY(out, used, buf_append(out, r->auth.p, r->auth.len));
	}
	if (r->caps & MYSQL_CLIENT_CONNECT_WITH_DB) {
		TRY(out, used, buf_append(out, r->database.p, r->database.len));
		TRY(out, used, mysql_put_u8(out, 0));
	}
	if (r->caps & MYSQL_CLIENT_PLUGIN_AUTH) {
		TRY(out, used, buf_append(out, r->auth_plugin.p,
		    r->auth_plugin.len));
		TRY(out, used, mysql_put_u8(out, 0));
	}
	if (r->caps & MYSQL_CLIENT_CONNECT_ATTRS)
		TRY(out, used, mysql_put_lenenc(out, 0));
	return 0;
}

int
mysql_auth_switch_build(struct buf *out, const char *plugin,
    const uint8_t *data, size_t len)
{
	size_t	 used = buf_used(out);

	TRY(out, used, mysql_put_u8(out, MYSQL_HDR_EOF));
	TRY(out, used, mysql_put_nulstr(out, plugin));
	TRY(out, used, buf_append(out, data, len));
	TRY(out, used, mysql_put_u8(out, 0));
	return 0;
}

int
mysql_auth_switch_parse(const uint8_t *p, size_t len,
    struct mysql_str *plugin, struct mysql_str *data)
{
	struct mysql_cur c;
	uint8_t	 header;

	mysql_cur_init(&c, p, len);
	if (mysql_get_u8(&c, &header) == -1 || header != MYSQL_HDR_EOF ||
	    mysql_get_nulstr(&c, plugin) == -1)
		return -1;
	mysql_get_rest(&c, data);
	if (data->len > 0 && data->p[data->len - 1] == '\0')
		data->len--;
	return 0;
}

void
mysql_native_stage1(const char *pw, size_t len, uint8_t stage1[20])
{
	sha1(pw, len, stage1);
}

void
mysql_native_stage2(const uint8_t stage1[20], uint8_t stage2[20])
{
	sha1(stage1, SHA1_LEN, stage2);
}

/* SHA1(scramble + stage2): the mask over stage1 on the wire. */
static void
native_mask(const uint8_t scramble[MYSQL_SCRAMBLE_LEN],
    const uint8_t stage2[20], uint8_t mask[20])
{
	struct sha1_ctx c;

	sha1_init(&c);
	sha1_update(&c, scramble, MYSQL_SCRAMBLE_LEN);
	sha1_update(&c, stage2, SHA1_LEN);
	sha1_final(&c, mask);
}

void
mysql_native_response(const uint8_t stage1[20],
    const uint8_t scramble[MYSQL_SCRAMBLE_LEN], uint8_t out[20])
{
	uint8_t	 stage2[20], mask[20];
	int	 i;

	mysql_native_stage2(stage1, stage2);
	native_mask(scramble, stage2, mask);
	for (i = 0; i < SHA1_LEN; i++)
		out[i] = stage1[i] ^ mask[i];
}

int
mysql_native_verify(const uint8_t *stage2,
    const uint8_t scramble[MYSQL_SCRAMBLE_LEN], const uint8_t *resp,
    size_t resp_len, uint8_t stage1[20])
{
	uint8_t	 mask[20], candidate[20], check[20], diff = 0;
	int	 i;

	if (stage2 == NULL)
		return resp_len == 0 ? 0 : -1;
	if (resp_len != SHA1_LEN)
		return -1;
	native_mask(scramble, stage2, mask);
	for (i = 0; i < SHA1_LEN; i++)
		candidate[i] = resp[i] ^ mask[i];
	mysql_native_stage2(candidate, check);
	/* Constant time, so timing says nothing about the stored hash. */
	for (i = 0; i < SHA1_LEN; i++)
		diff |= check[i] ^ stage2[i];
	if (diff != 0)
		return -1;
	memcpy(stage1, candidate, SHA1_LEN);
	return 0;
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
mysql_native_hash_parse(const char *s, uint8_t stage2[20])
{
	int	 i, hi, lo;

	if (s[0] != '*' || strlen(s) != 1 + 2 * SHA1_LEN)
		return -1;
	for (i = 0; i < SHA1_LEN; i++) {
		if ((hi = hexval(s[1 + 2 * i])) == -1 ||
		    (lo = hexval(s[2 + 2 * i])) == -1)
			return -1;
		stage2[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}
