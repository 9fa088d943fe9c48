/* mysql_proto — messages of the MySQL/MariaDB client/server protocol that
 * a router speaking as the server needs, built and parsed over payloads
 * (framing is mysql_packet's job). Pure: no I/O.
 *
 *   mysql_proto.c	generic responses (OK, ERR, EOF), the command table,
 *			COM_STMT_PREPARE_OK
 *   mysql_auth.c	connection phase: Initial Handshake v10,
 *			HandshakeResponse41 / SSLRequest, AuthSwitchRequest,
 *			mysql_native_password
 *   mysql_resp.c	scanning a server's response to one command to find
 *			where it ends, without re-encoding it
 *
 * Parsers take a payload and its length, check every read against it,
 * return 0 or -1, and on -1 leave a reason in the error argument when
 * there is one. Strings point into the payload (struct mysql_str). */
#ifndef STACKD_MYSQL_PROTO_H
#define STACKD_MYSQL_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "mysql_packet.h"

/* Capability flags (lower and upper 16 bits of the 32-bit field). */
/* Bit 0 was CLIENT_LONG_PASSWORD; MariaDB calls it CLIENT_MYSQL and,
 * when it is clear, uses the reserved bytes for extended capabilities. */
#define MYSQL_CLIENT_MYSQL			(1u << 0)
#define MYSQL_CLIENT_FOUND_ROWS			(1u << 1)
#define MYSQL_CLIENT_LONG_FLAG			(1u << 2)
#define MYSQL_CLIENT_CONNECT_WITH_DB		(1u << 3)
#define MYSQL_CLIENT_NO_SCHEMA			(1u << 4)
#define MYSQL_CLIENT_COMPRESS			(1u << 5)
#define MYSQL_CLIENT_ODBC			(1u << 6)
#define MYSQL_CLIENT_LOCAL_FILES		(1u << 7)
#define MYSQL_CLIENT_IGNORE_SPACE		(1u << 8)
#define MYSQL_CLIENT_PROTOCOL_41		(1u << 9)
#define MYSQL_CLIENT_INTERACTIVE		(1u << 10)
#define MYSQL_CLIENT_SSL			(1u << 11)
#define MYSQL_CLIENT_IGNORE_SIGPIPE		(1u << 12)
#define MYSQL_CLIENT_TRANSACTIONS		(1u << 13)
#define MYSQL_CLIENT_RESERVED			(1u << 14)
#define MYSQL_CLIENT_SECURE_CONNECTION		(1u << 15)
#define MYSQL_CLIENT_MULTI_STATEMENTS		(1u << 16)
#define MYSQL_CLIENT_MULTI_RESULTS		(1u << 17)
#define MYSQL_CLIENT_PS_MULTI_RESULTS		(1u << 18)
#define MYSQL_CLIENT_PLUGIN_AUTH		(1u << 19)
#define MYSQL_CLIENT_CONNECT_ATTRS		(1u << 20)
#define MYSQL_CLIENT_PLUGIN_AUTH_LENENC_DATA	(1u << 21)
#define MYSQL_CLIENT_CAN_HANDLE_EXPIRED_PASSWORDS (1u << 22)
#define MYSQL_CLIENT_SESSION_TRACK		(1u << 23)
#define MYSQL_CLIENT_DEPRECATE_EOF		(1u << 24)

/* Server status flags (OK and EOF packets). */
#define MYSQL_STATUS_IN_TRANS			(1u << 0)
#define MYSQL_STATUS_AUTOCOMMIT			(1u << 1)
#define MYSQL_STATUS_MORE_RESULTS		(1u << 3)
#define MYSQL_STATUS_NO_GOOD_INDEX_USED		(1u << 4)
#define MYSQL_STATUS_NO_INDEX_USED		(1u << 5)
#define MYSQL_STATUS_CURSOR_EXISTS		(1u << 6)
#define MYSQL_STATUS_LAST_ROW_SENT		(1u << 7)
#define MYSQL_STATUS_DB_DROPPED			(1u << 8)
#define MYSQL_STATUS_NO_BACKSLASH_ESCAPES	(1u << 9)
#define MYSQL_STATUS_METADATA_CHANGED		(1u << 10)
#define MYSQL_STATUS_QUERY_WAS_SLOW		(1u << 11)
#define MYSQL_STATUS_PS_OUT_PARAMS		(1u << 12)
#define MYSQL_STATUS_IN_TRANS_READONLY		(1u << 13)
#define MYSQL_STATUS_SESSION_STATE_CHANGED	(1u << 14)

/* First payload byte of generic responses. */
#define MYSQL_HDR_OK		0x00
#define MYSQL_HDR_LOCAL_INFILE	0xfb
#define MYSQL_HDR_EOF		0xfe	/* also AuthSwitchRequest, OK-as-EOF */
#define MYSQL_HDR_ERR		0xff

#define MYSQL_SCRAMBLE_LEN	20
#define MYSQL_NATIVE_PLUGIN	"mysql_native_password"

/* -- Generic responses (mysql_proto.c) -- */

struct mysql_ok {
	uint64_t	 affected_rows;
	uint64_t	 last_insert_id;
	uint16_t	 status;
	uint16_t	 warnings;
	struct mysql_str info;
	struct mysql_str session_state;	/* raw, with SESSION_TRACK */
};

/* header is MYSQL_HDR_OK, or MYSQL_HDR_EOF for the OK that ends a result
 * set under DEPRECATE_EOF. caps: the negotiated capabilities. */
int	 mysql_ok_build(struct buf *out, const struct mysql_ok *,
	    uint32_t caps, uint8_t header);
/* Accepts either header (0xfe only when shorter than a frame). */
int	 mysql_ok_parse(const uint8_t *, size_t, uint32_t caps,
	    struct mysql_ok *);
/* The value of system variable name in ok's session-state changes
 * (SESSION_TRACK_SYSTEM_VARIABLES), e.g. MariaDB's "last_gtid". 0 when
 * found, -1 when absent or malformed. */
int	 mysql_ok_sysvar(const struct mysql_ok *, const char *name,
	    struct mysql_str *value);

struct mysql_err {
	uint16_t	 code;
	char		 sqlstate[6];	/* "" when the packet has none */
	struct mysql_str message;
};

/* sqlstate NULL: "HY000". The state is written with PROTOCOL_41 only. */
int	 mysql_err_build(struct buf *out, uint16_t code, const char *sqlstate,
	    const char *message, uint32_t caps);
int	 mysql_err_parse(const uint8_t *, size_t, struct mysql_err *);

struct mysql_eof {
	uint16_t	 warnings;
	uint16_t	 status;
};

int	 mysql_eof_build(struct buf *out, const struct mysql_eof *);
/* An old-style EOF: 0xfe and fewer than 9 bytes. */
bool	 mysql_is_eof(const uint8_t *, size_t);
int	 mysql_eof_parse(const uint8_t *, size_t, struct mysql_eof *);

/* -- Commands (mysql_proto.c) -- */

enum mysql_cmd {
	MYSQL_COM_SLEEP = 0x00, MYSQL_COM_QUIT = 0x01,
	MYSQL_COM_INIT_DB = 0x02, MYSQL_COM_QUERY = 0x03,
	MYSQL_COM_FIELD_LIST = 0x04, MYSQL_COM_CREATE_DB = 0x05,
	MYSQL_COM_DROP_DB = 0x06, MYSQL_COM_REFRESH = 0x07,
	MYSQL_COM_SHUTDOWN = 0x08, MYSQL_COM_STATISTICS = 0x09,
	MYSQL_COM_PROCESS_INFO = 0x0a, MYSQL_COM_CONNECT = 0x0b,
	MYSQL_COM_PROCESS_KILL = 0x0c, MYSQL_COM_DEBUG = 0x0d,
	MYSQL_COM_PING = 0x0e, MYSQL_COM_TIME = 0x0f,
	MYSQL_COM_DELAYED_INSERT = 0x10, MYSQL_COM_CHANGE_USER = 0x11,
	MYSQL_COM_BINLOG_DUMP = 0x12, MYSQL_COM_TABLE_DUMP = 0x13,
	MYSQL_COM_CONNECT_OUT = 0x14, MYSQL_COM_REGISTER_SLAVE = 0x15,
	MYSQL_COM_STMT_PREPARE = 0x16, MYSQL_COM_STMT_EXECUTE = 0x17,
	MYSQL_COM_STMT_SEND_LONG_DATA = 0x18, MYSQL_COM_STMT_CLOSE = 0x19,
	MYSQL_COM_STMT_RESET = 0x1a, MYSQL_COM_SET_OPTION = 0x1b,
	MYSQL_COM_STMT_FETCH = 0x1c, MYSQL_COM_DAEMON = 0x1d,
	MYSQL_COM_BINLOG_DUMP_GTID = 0x1e, MYSQL_COM_RESET_CONNECTION = 0x1f,
	MYSQL_COM_STMT_BULK_EXECUTE = 0xfa,	/* MariaDB */
};

/* What the server sends back, so the daemon knows what to scan. */
enum mysql_reply {
	MYSQL_REPLY_UNKNOWN = 0,	/* not a command a client may send */
	MYSQL_REPLY_NONE,		/* QUIT, STMT_CLOSE, SEND_LONG_DATA */
	MYSQL_REPLY_OK,			/* one OK, ERR (or EOF) packet */
	MYSQL_REPLY_RESULTSET,		/* OK/ERR, or result set(s) */
	MYSQL_REPLY_PREPARE,		/* STMT_PREPARE_OK + definitions */
	MYSQL_REPLY_FIELD_LIST,		/* column definitions until EOF */
	MYSQL_REPLY_ROWS,		/* STMT_FETCH: rows until EOF */
	MYSQL_REPLY_STRING,		/* STATISTICS: one text packet */
	MYSQL_REPLY_AUTH,		/* CHANGE_USER: an auth exchange */
};

/* "COM_QUERY" etc.; "COM_0x42" style is not produced: unknown is NULL. */
const char	*mysql_cmd_name(uint8_t cmd);
enum mysql_reply mysql_cmd_reply(uint8_t cmd);

struct mysql_prepare_ok {
	uint32_t	 stmt_id;
	uint16_t	 columns;
	uint16_t	 params;
	uint16_t	 warnings;
};

/* The statement id at offset 1 of COM_STMT_EXECUTE, SEND_LONG_DATA,
 * CLOSE, RESET, FETCH and BULK_EXECUTE payloads, and of a
 * STMT_PREPARE_OK: read it, or overwrite it in place to map client ids
 * to backend ids. -1 when the payload is too short or not one of those. */
int	 mysql_stmt_id_get(const uint8_t *, size_t, uint32_t *id);
int	 mysql_stmt_id_set(uint8_t *, size_t, uint32_t id);

int	 mysql_prepare_ok_parse(const uint8_t *, size_t,
	    struct mysql_prepare_ok *);
int	 mysql_prepare_ok_build(struct buf *, const struct mysql_prepare_ok *);

/* -- Connection phase (mysql_auth.c) -- */

struct mysql_handshake {
	const char	*server_version;	/* "5.5.5-10.11.6-MariaDB" */
	uint32_t	 conn_id;
	uint8_t		 scramble[MYSQL_SCRAMBLE_LEN];	/* no NUL bytes */
	uint32_t	 caps;
	uint32_t	 mariadb_caps;	/* sent when CLIENT_MYSQL is clear */
	uint8_t		 charset;
	uint16_t	 status;
	const char	*auth_plugin;	/* NULL: mysql_native_password */
};

/* Turn 20 random bytes into a valid scramble (printable, no NUL). */
void	 mysql_scramble_fix(uint8_t scramble[MYSQL_SCRAMBLE_LEN]);
int	 mysql_handshake_build(struct buf *, const struct mysql_handshake *);
/* The client side, for backend connections and tests. The strings of h
 * point into a copy held in version/plugin (both NUL-terminated). */
struct mysql_handshake_in {
	struct mysql_handshake h;
	char		 version[64];
	char		 plugin[64];
};
int	 mysql_handshake_parse(const uint8_t *, size_t,
	    struct mysql_handshake_in *, char *err, size_t errlen);

/* How the client sent its auth response (for tests and logs). */
enum mysql_auth_enc {
	MYSQL_AUTH_LENENC,	/* PLUGIN_AUTH_LENENC_CLIENT_DATA */
	MYSQL_AUTH_LEN8,	/* SECURE_CONNECTION: 1-byte length */
	MYSQL_AUTH_NUL,		/* neither: NUL-terminated */
};

struct mysql_handshake_resp {
	bool		 ssl_request;	/* only the 32-byte SSLRequest */
	uint32_t	 caps;
	uint32_t	 mariadb_caps;
	uint32_t	 max_packet;
	uint8_t		 charset;
	struct mysql_str user;
	struct mysql_str auth;
	enum mysql_auth_enc auth_enc;
	struct mysql_str database;	/* len 0 without CONNECT_WITH_DB */
	struct mysql_str auth_plugin;	/* len 0 without PLUGIN_AUTH */
	unsigned	 attrs;		/* connect attribute pairs seen */
};

int	 mysql_handshake_resp_parse(const uint8_t *, size_t,
	    struct mysql_handshake_resp *, char *err, size_t errlen);
/* Builds with r->caps deciding the layout (auth as lenenc when
 * PLUGIN_AUTH_LENENC_DATA, else 1-byte length); attrs are not sent. */
int	 mysql_handshake_resp_build(struct buf *,
	    const struct mysql_handshake_resp *);

/* COM_CHANGE_USER (command byte included), read with the session's
 * negotiated caps: user, auth (1-byte length with SECURE_CONNECTION,
 * else NUL-terminated), database, then optionally a 2-byte character set
 * (into *change_charset, 0 when absent), plugin name, attributes. */
int	 mysql_change_user_parse(const uint8_t *, size_t, uint32_t caps,
	    struct mysql_handshake_resp *, uint16_t *change_charset,
	    char *err, size_t errlen);

/* 0xfe, plugin name, data, NUL (as servers send for native). */
int	 mysql_auth_switch_build(struct buf *, const char *plugin,
	    const uint8_t *data, size_t len);
int	 mysql_auth_switch_parse(const uint8_t *, size_t,
	    struct mysql_str *plugin, struct mysql_str *data);

/* mysql_native_password. The server stores stage2 = SHA1(SHA1(pw)); the
 * client sends SHA1(pw) XOR SHA1(scramble + stage2). */
void	 mysql_native_stage1(const char *pw, size_t len,
	    uint8_t stage1[20]);
void	 mysql_native_stage2(const uint8_t stage1[20], uint8_t stage2[20]);
/* The response a client with stage1 = SHA1(pw) sends. */
void	 mysql_native_response(const uint8_t stage1[20],
	    const uint8_t scramble[MYSQL_SCRAMBLE_LEN], uint8_t out[20]);
/*
 * Check a client's response against the stored stage2 hash; stage2 NULL
 * means an account without a password, which only an empty response
 * passes. On success 0 and, with a password, stage1 = SHA1(pw) recovered
 * (enough to log in to backends with the same account). Else -1.
 */
int	 mysql_native_verify(const uint8_t *stage2,
	    const uint8_t scramble[MYSQL_SCRAMBLE_LEN],
	    const uint8_t *resp, size_t resp_len, uint8_t stage1[20]);
/* "*" + 40 hex digits, as in mysql.user / SHOW GRANTS, into stage2. */
int	 mysql_native_hash_parse(const char *, uint8_t stage2[20]);

/* -- Response scanning (mysql_resp.c) -- */

enum mysql_resp_state {
	MYSQL_RS_FIRST,		/* first packet of a response or result */
	MYSQL_RS_COLUMNS,	/* column definitions */
	MYSQL_RS_COLUMNS_EOF,	/* the EOF after them (no DEPRECATE_EOF) */
	MYSQL_RS_ROWS,
	MYSQL_RS_PARAMS,	/* PREPARE: parameter definitions */
	MYSQL_RS_PARAMS_EOF,
	MYSQL_RS_DONE,
};

struct mysql_resp {
	uint32_t	 caps;		/* negotiated */
	enum mysql_reply kind;
	enum mysql_resp_state state;
	uint64_t	 left;		/* definitions left in this part */
	uint64_t	 columns;
	bool		 in_long;	/* inside a multi-frame packet */
	uint16_t	 status;	/* last status flags seen */
	bool		 have_status;
	bool		 error;		/* ended with ERR */
	bool		 local_infile;	/* LOCAL INFILE request seen */
	uint64_t	 rows;
	unsigned	 results;	/* result sets and OKs ended */
	struct mysql_prepare_ok prepare;
	char		 why[80];	/* on MYSQL_RESP_BAD */
};

#define MYSQL_RESP_MORE		0	/* relay and feed the next frame */
#define MYSQL_RESP_DONE		1	/* that frame ended the response */
#define MYSQL_RESP_INFILE	2	/* client must now send the file */
#define MYSQL_RESP_BAD		(-1)	/* not a valid response: r->why */

void	 mysql_resp_start(struct mysql_resp *, enum mysql_reply kind,
	    uint32_t caps);
/* Feed each frame (payload of one physical packet) in order. */
int	 mysql_resp_feed(struct mysql_resp *, const uint8_t *, size_t);

#endif
