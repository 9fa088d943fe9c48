/* tls_int — state shared by tls_conf.c and tls_conn.c. Private: only the
 * tls module includes mbedTLS headers. */
#ifndef STACKD_TLS_INT_H
#define STACKD_TLS_INT_H

#include <stdbool.h>
#include <stddef.h>

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/pk.h>
#include <mbedtls/ssl.h>
#include <mbedtls/ssl_cache.h>
#include <mbedtls/ssl_ticket.h>
#include <mbedtls/x509_crt.h>

#include "tls.h"

#define TLS_NAME_MAX		253	/* longest DNS name */
#define TLS_NAMES_PER_CERT	128	/* SAN entries kept for SNI */
#define TLS_FILE_MAX		(1024 * 1024)	/* PEM files we read */
#define TLS_ERRSTR_MAX		256

/* One server certificate and the names SNI matches it by. */
struct tls_cert {
	mbedtls_x509_crt	 chain;
	mbedtls_pk_context	 key;
	char			**names;	/* lower case, "*." wildcards kept */
	size_t			 nnames;
};

struct tls_config {
	unsigned		 refs;
	bool			 server;
	bool			 frozen;	/* a connection exists: no more certs */
	mbedtls_ssl_config	 ssl;
	mbedtls_entropy_context	 entropy;
	mbedtls_ctr_drbg_context drbg;
	mbedtls_x509_crt	 ca;
	bool			 verify;	/* client: verify the server */
	struct tls_cert		*certs[TLS_MAX_CERTS];	/* [0] is the default */
	size_t			 ncerts;
	mbedtls_ssl_cache_context cache;
	mbedtls_ssl_ticket_context ticket;
	bool			 has_cache, has_tickets;
	/* A reloaded config resumes the sessions of the one it replaced:
	 * the config whose cache and ticket keys it uses (ref), or NULL. */
	struct tls_config	*sessions;
};

struct tls_session {
	mbedtls_ssl_session	 s;
};

/* mbedtls_strerror(code) into buf, prefixed by what failed. */
void	 tls_errstr(char *buf, size_t len, int code, const char *fmt, ...)
	    __attribute__((format(printf, 4, 5)));
/* SNI callback (tls_conf.c): picks certificates for the handshake. */
int	 tls_sni_select(void *cfg, mbedtls_ssl_context *, const unsigned char *,
	    size_t);
/* Whether crt's subjectAltName lists the IP address (4 or 16 bytes). */
bool	 tls_crt_has_ip(const mbedtls_x509_crt *, const unsigned char *, size_t);
/* tls_conn.c: record the SNI name on the connection owning ssl. */
int	 tls_conn_set_sni(mbedtls_ssl_context *, const unsigned char *, size_t);

#endif
