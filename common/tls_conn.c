/* tls_conn — one non-blocking TLS connection over a caller's fd. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <mbedtls/error.h>
#include <mbedtls/net_sockets.h>	/* MBEDTLS_ERR_NET_* only */

#include "ev.h"
#include "log.h"
#include "tls_int.h"

/* Empty application records are legal (OpenSSL once sent them); mbedTLS
 * returns 0 for one. Skip at most this many before calling it a stall. */
#define TLS_EMPTY_RECORDS_MAX	8

struct tls_conn {
	mbedtls_ssl_context	 ssl;
	struct tls_config	*cfg;
	int			 fd;
	bool			 server;
	bool			 hs_done;
	bool			 full_hs;	/* a certificate was exchanged */
	bool			 failed;	/* sticky after TLS_ERR */
	bool			 bio_eof;	/* read(2) returned 0 */
	bool			 read_eof;	/* tls_read returned 0 */
	bool			 eof_clean;	/* ... after close_notify */
	bool			 close_queued;	/* close_notify handed to mbedTLS */
	size_t			 wpending;	/* bytes of a retried tls_write */
	int			 sys_errno;	/* errno of a failed send/recv */
	bool			 has_sni;
	char			 sni[TLS_NAME_MAX + 1];
	unsigned char		 peer_ip[16];	/* client: IP literal to verify */
	size_t			 peer_iplen;
	char			 error[TLS_ERRSTR_MAX];
};

/* mbedTLS hands callbacks the ssl context; it is embedded in the conn. */
static struct tls_conn *
conn_of(mbedtls_ssl_context *ssl)
{
	return (struct tls_conn *)(void *)((char *)ssl -
	    offsetof(struct tls_conn, ssl));
}

static int
bio_send(void *arg, const unsigned char *p, size_t len)
{
	struct tls_conn	*c = arg;
	ssize_t		 n;

	/* MSG_NOSIGNAL: a peer that went away is an error, not SIGPIPE. */
	n = send(c->fd, p, len, MSG_NOSIGNAL);
	if (n == -1 && errno == ENOTSOCK)
		n = write(c->fd, p, len);
	if (n >= 0)
		return (int)n;
	if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
		return MBEDTLS_ERR_SSL_WANT_WRITE;
	c->sys_errno = errno;
	return errno == EPIPE || errno == ECONNRESET ?
	    MBEDTLS_ERR_NET_CONN_RESET : MBEDTLS_ERR_NET_SEND_FAILED;
}

static int
bio_recv(void *arg, unsigned char *p, size_t len)
{
	struct tls_conn	*c = arg;
	ssize_t		 n;

	n = read(c->fd, p, len);
	if (n == 0)
		c->bio_eof = true;
	if (n >= 0)
		return (int)n;
	if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
		return MBEDTLS_ERR_SSL_WANT_READ;
	c->sys_errno = errno;
	return errno == ECONNRESET ? MBEDTLS_ERR_NET_CONN_RESET :
	    MBEDTLS_ERR_NET_RECV_FAILED;
}

/* Client side with an IP literal: mbedTLS 2.28 only matches DNS names,
 * so check the leaf's iPAddress entries here. */
static int
verify_ip(void *arg, mbedtls_x509_crt *crt, int depth, uint32_t *flags)
{
	struct tls_conn	*c = arg;

	if (depth == 0 && !tls_crt_has_ip(crt, c->peer_ip, c->peer_iplen))
		*flags |= MBEDTLS_X509_BADCERT_CN_MISMATCH;
	return 0;
}

static void
conn_seterr(struct tls_conn *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
conn_seterr(struct tls_conn *c, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(c->error, sizeof(c->error), fmt, ap);
	va_end(ap);
	c->failed = true;
}

/* mbedTLS's verify_info is one reason per line: join them. */
static void
conn_verify_error(struct tls_conn *c, const char *op)
{
	char	 info[TLS_ERRSTR_MAX], *nl;
	uint32_t flags = mbedtls_ssl_get_verify_result(&c->ssl);
	int	 n;

	n = mbedtls_x509_crt_verify_info(info, sizeof(info), "", flags);
	if (n <= 0)
		snprintf(info, sizeof(info), "flags 0x%x", (unsigned)flags);
	while ((nl = strrchr(info, '\n')) != NULL && nl[1] == '\0')
		*nl = '\0';
	while ((nl = strchr(info, '\n')) != NULL)
		*nl = ';';
	conn_seterr(c, "%s: certificate verify failed: %s", op, info);
}

/* Map an mbedTLS result to ours; remember why on failure. */
static int
conn_result(struct tls_conn *c, int ret, const char *op)
{
	char	 why[128];

	switch (ret) {
	case MBEDTLS_ERR_SSL_WANT_READ:
		return TLS_WANT_READ;
	case MBEDTLS_ERR_SSL_WANT_WRITE:
		return TLS_WANT_WRITE;
	case MBEDTLS_ERR_X509_CERT_VERIFY_FAILED:
		conn_verify_error(c, op);
		return TLS_ERR;
	case MBEDTLS_ERR_NET_CONN_RESET:
	case MBEDTLS_ERR_NET_SEND_FAILED:
	case MBEDTLS_ERR_NET_RECV_FAILED:
		if (c->sys_errno != 0) {
			conn_seterr(c, "%s: %s", op, strerror(c->sys_errno));
			return TLS_ERR;
		}
		break;
	case MBEDTLS_ERR_SSL_CONN_EOF:
		conn_seterr(c, "%s: connection closed by peer", op);
		return TLS_ERR;
	}
	mbedtls_strerror(ret, why, sizeof(why));
	conn_seterr(c, "%s: %s", op, why);
	return TLS_ERR;
}

struct tls_conn *
tls_conn_new(struct tls_config *cfg, int fd, const char *servername,
    char *err, size_t errlen)
{
	struct tls_conn	*c;
	int		 ret;

	if (cfg->server && servername != NULL) {
		snprintf(err, errlen, "tls: a server connection takes no name");
		return NULL;
	}
	if (cfg->server && cfg->ncerts == 0) {
		snprintf(err, errlen, "tls: server config has no certificate");
		return NULL;
	}
	if (!cfg->server && cfg->verify && servername == NULL) {
		snprintf(err, errlen, "tls: verifying the server needs its "
		    "name");
		return NULL;
	}
	if (servername != NULL && (servername[0] == '\0' ||
	    strlen(servername) > TLS_NAME_MAX)) {
		snprintf(err, errlen, "tls: server name \"%.64s\" is empty or "
		    "longer than %d", servername, TLS_NAME_MAX);
		return NULL;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		snprintf(err, errlen, "tls: %s", strerror(errno));
		return NULL;
	}
	c->fd = fd;
	c->server = cfg->server;
	mbedtls_ssl_init(&c->ssl);
	if ((ret = mbedtls_ssl_setup(&c->ssl, &cfg->ssl)) != 0) {
		tls_errstr(err, errlen, ret, "tls: connection setup");
		mbedtls_ssl_free(&c->ssl);
		free(c);
		return NULL;
	}
	if (servername != NULL) {
		/* No SNI for address literals (RFC 6066 section 3). */
		if (inet_pton(AF_INET, servername, c->peer_ip) == 1)
			c->peer_iplen = 4;
		else if (inet_pton(AF_INET6, servername, c->peer_ip) == 1)
			c->peer_iplen = 16;
		if (c->peer_iplen > 0)
			mbedtls_ssl_set_verify(&c->ssl, verify_ip, c);
		else if ((ret = mbedtls_ssl_set_hostname(&c->ssl,
		    servername)) != 0) {
			tls_errstr(err, errlen, ret, "tls: server name %s",
			    servername);
			mbedtls_ssl_free(&c->ssl);
			free(c);
			return NULL;
		}
	}
	mbedtls_ssl_set_bio(&c->ssl, c, bio_send, bio_recv, NULL);
	cfg->frozen = true;
	c->cfg = tls_config_ref(cfg);
	return c;
}

void
tls_conn_free(struct tls_conn *c)
{
	if (c == NULL)
		return;
	mbedtls_ssl_free(&c->ssl);
	tls_config_free(c->cfg);
	free(c);
}

int
tls_conn_set_sni(mbedtls_ssl_context *ssl, const unsigned char *name,
    size_t len)
{
	struct tls_conn	*c = conn_of(ssl);
	size_t		 i;

	if (len == 0 || len > TLS_NAME_MAX || memchr(name, '\0', len))
		return -1;
	for (i = 0; i < len; i++)
		c->sni[i] = (char)tolower(name[i]);
	c->sni[len] = '\0';
	c->has_sni = true;
	return 0;
}

/*
 * mbedtls_ssl_handshake() is this same loop; stepping ourselves lets us
 * see whether the certificate states were visited, which is how a full
 * handshake differs from a resumed one (2.28 has no query for it).
 */
int
tls_handshake(struct tls_conn *c)
{
	int	 ret;

	if (c->failed)
		return TLS_ERR;
	while (c->ssl.state != MBEDTLS_SSL_HANDSHAKE_OVER) {
		if (c->ssl.state == MBEDTLS_SSL_SERVER_CERTIFICATE)
			c->full_hs = true;
		if ((ret = mbedtls_ssl_handshake_step(&c->ssl)) != 0)
			return conn_result(c, ret, "handshake");
	}
	c->hs_done = true;
	return 0;
}

ssize_t
tls_read(struct tls_conn *c, void *buf, size_t len)
{
	int	 ret, i;

	if (c->failed)
		return TLS_ERR;
	if (len == 0) {
		conn_seterr(c, "read: zero-length buffer");
		return TLS_ERR;
	}
	if (c->read_eof)
		return 0;
	if (!c->hs_done && (ret = tls_handshake(c)) != 0)
		return ret;
	for (i = 0; i < TLS_EMPTY_RECORDS_MAX; i++) {
		ret = mbedtls_ssl_read(&c->ssl, buf, len);
		if (ret > 0)
			return ret;
		if (ret == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY) {
			c->read_eof = c->eof_clean = true;
			return 0;
		}
		if (ret != 0)
			return conn_result(c, ret, "read");
		if (c->bio_eof) {
			c->read_eof = true;
			return 0;
		}
		/* An empty record: the next may be buffered already. */
	}
	conn_seterr(c, "read: more than %d empty records",
	    TLS_EMPTY_RECORDS_MAX);
	return TLS_ERR;
}

bool
tls_pending(const struct tls_conn *c)
{
	return mbedtls_ssl_get_bytes_avail(&c->ssl) > 0 ||
	    mbedtls_ssl_check_pending(&c->ssl) != 0;
}

/*
 * mbedTLS encrypts before it sends: after WANT_* the record sits in its
 * output buffer and the retry must name the same length, which it then
 * reports as written without looking at the data. So pass the length of
 * the first attempt, not the caller's (possibly longer) retry length.
 */
ssize_t
tls_write(struct tls_conn *c, const void *buf, size_t len)
{
	size_t	 n;
	int	 ret, max;

	if (c->failed)
		return TLS_ERR;
	if (!c->hs_done && (ret = tls_handshake(c)) != 0)
		return ret;
	if (c->wpending > 0) {
		if (len < c->wpending) {
			conn_seterr(c, "write: retried with %zu bytes, %zu "
			    "already pending", len, c->wpending);
			return TLS_ERR;
		}
		n = c->wpending;
	} else {
		if (len == 0)
			return 0;
		if ((max = mbedtls_ssl_get_max_out_record_payload(&c->ssl)) <= 0)
			return conn_result(c, max, "write");
		n = len < (size_t)max ? len : (size_t)max;
	}
	ret = mbedtls_ssl_write(&c->ssl, buf, n);
	if (ret == MBEDTLS_ERR_SSL_WANT_READ ||
	    ret == MBEDTLS_ERR_SSL_WANT_WRITE) {
		c->wpending = n;
		return conn_result(c, ret, "write");
	}
	if (ret < 0)
		return conn_result(c, ret, "write");
	c->wpending = 0;
	return ret;
}

/*
 * mbedtls_ssl_close_notify() with output still queued (a write that got
 * WANT_WRITE) only flushes it and returns 0 without sending the alert:
 * go round again then. Once the alert is queued, later calls only flush.
 */
int
tls_close(struct tls_conn *c)
{
	bool	 queue;
	int	 ret;

	if (c->failed)
		return TLS_ERR;
	for (;;) {
		queue = c->ssl.out_left == 0 && !c->close_queued;
		ret = mbedtls_ssl_close_notify(&c->ssl);
		if (queue)
			c->close_queued = true;
		if (ret != 0)
			return conn_result(c, ret, "close");
		if (c->close_queued)
			return 0;
	}
}

unsigned
tls_want_events(int rc)
{
	switch (rc) {
	case TLS_WANT_READ:
		return EV_READ;
	case TLS_WANT_WRITE:
		return EV_WRITE;
	default:
		return 0;
	}
}

const char *
tls_conn_version(const struct tls_conn *c)
{
	return c->hs_done ? mbedtls_ssl_get_version(&c->ssl) : NULL;
}

const char *
tls_conn_cipher(const struct tls_conn *c)
{
	return c->hs_done ? mbedtls_ssl_get_ciphersuite(&c->ssl) : NULL;
}

const char *
tls_conn_sni(const struct tls_conn *c)
{
	return c->has_sni ? c->sni : NULL;
}

bool
tls_conn_resumed(const struct tls_conn *c)
{
	return c->hs_done && !c->full_hs;
}

bool
tls_conn_handshake_done(const struct tls_conn *c)
{
	return c->hs_done;
}

bool
tls_conn_eof_clean(const struct tls_conn *c)
{
	return c->eof_clean;
}

const char *
tls_conn_error(const struct tls_conn *c)
{
	return c->error;
}

int
tls_conn_peer_subject(const struct tls_conn *c, char *buf, size_t len)
{
	const mbedtls_x509_crt	*crt;

	if ((crt = mbedtls_ssl_get_peer_cert(&c->ssl)) == NULL)
		return -1;
	return mbedtls_x509_dn_gets(buf, len, &crt->subject) < 0 ? -1 : 0;
}

struct tls_session *
tls_conn_get_session(const struct tls_conn *c, char *err, size_t errlen)
{
	struct tls_session	*s;
	int			 ret;

	if (c->server || !c->hs_done) {
		snprintf(err, errlen, "tls: sessions are saved by clients "
		    "after the handshake");
		return NULL;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		snprintf(err, errlen, "tls: %s", strerror(errno));
		return NULL;
	}
	mbedtls_ssl_session_init(&s->s);
	if ((ret = mbedtls_ssl_get_session(&c->ssl, &s->s)) != 0) {
		tls_errstr(err, errlen, ret, "tls: saving the session");
		tls_session_free(s);
		return NULL;
	}
	return s;
}

int
tls_conn_set_session(struct tls_conn *c, const struct tls_session *s,
    char *err, size_t errlen)
{
	int	 ret;

	if (c->server || c->hs_done || c->ssl.state != MBEDTLS_SSL_HELLO_REQUEST) {
		snprintf(err, errlen, "tls: a session is set on a client "
		    "before the handshake");
		return -1;
	}
	if ((ret = mbedtls_ssl_set_session(&c->ssl, &s->s)) != 0) {
		tls_errstr(err, errlen, ret, "tls: resuming the session");
		return -1;
	}
	return 0;
}

void
tls_session_free(struct tls_session *s)
{
	if (s == NULL)
		return;
	mbedtls_ssl_session_free(&s->s);	/* zeroizes the master secret */
	free(s);
}
