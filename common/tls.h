/* tls — TLS 1.2 for every daemon, the one place that talks to mbedTLS.
 *
 * Everything is opaque so the move from mbedTLS 2.28 to 3.x touches only
 * common/tls*.c. Policy is fixed, not configurable: TLS 1.2 only, ECDHE
 * with ECDSA or RSA certificates, AES-128-GCM, AES-256-GCM and
 * CHACHA20-POLY1305 in the server's order, curves X25519, P-256, P-384,
 * signatures with SHA-256 or better, no renegotiation.
 *
 * A config holds the certificates, the CA, the RNG, the session cache and
 * the ticket keys. It is reference counted: every connection holds a
 * reference, so a daemon may drop its config on reload while connections
 * made with it run to their end.
 *
 * Connections are non-blocking over a file descriptor the caller owns.
 * I/O calls return TLS_WANT_READ or TLS_WANT_WRITE when the fd must become
 * readable or writable first (tls_want_events() maps them to EV_READ and
 * EV_WRITE), or TLS_ERR, after which tls_conn_error() says why and the
 * connection can only be freed. */
#ifndef STACKD_TLS_H
#define STACKD_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define TLS_ERR		(-1)
#define TLS_WANT_READ	(-2)
#define TLS_WANT_WRITE	(-3)

#define TLS_MAX_CERTS			64	/* per server config */
#define TLS_CACHE_ENTRIES_DEFAULT	10000
#define TLS_CACHE_TIMEOUT_DEFAULT	3600	/* seconds */
#define TLS_TICKET_LIFETIME_DEFAULT	7200	/* seconds */

struct tls_config;
struct tls_conn;
struct tls_session;

struct tls_server_opts {
	/* Session tickets: key lifetime in seconds; keys rotate every
	 * lifetime and a ticket is accepted for at most that long.
	 * 0 disables tickets. */
	unsigned	 ticket_lifetime;
	/* Server-side session cache (session ids). 0 entries disables it;
	 * a timeout of 0 means TLS_CACHE_TIMEOUT_DEFAULT. */
	size_t		 cache_entries;
	unsigned	 cache_timeout;
	/* Ask for a client certificate and refuse the handshake without a
	 * valid one issued by a CA in client_ca (a PEM file). */
	bool		 require_client_cert;
	const char	*client_ca;
};

/* Fill opts with the defaults above: tickets and a 10,000 entry cache. */
void	 tls_server_opts_default(struct tls_server_opts *);

/* A server config without certificates; add at least one before use.
 * opts NULL means the defaults. */
struct tls_config *tls_server_new(const struct tls_server_opts *,
	    char *err, size_t errlen);
/* Add a certificate chain (PEM, leaf first) and its private key (ECDSA
 * or RSA of 2048 bits or more). The first one added is the default; SNI
 * picks another one whose subjectAltName DNS names (or CN, without SAN)
 * match the name the client asked for: exact names first, then
 * "*.example.com" wildcards covering one label. When several match (an
 * ECDSA and an RSA certificate for one name), the first whose key suits
 * the negotiated suite is used, ECDSA preferred. A key file that group or
 * others may read, or a key that does not match the certificate, is
 * refused. At most TLS_MAX_CERTS. Not after the first connection. */
int	 tls_server_add_cert(struct tls_config *, const char *certfile,
	    const char *keyfile, char *err, size_t errlen);

/* A client config. verify: require a peer certificate chaining to a CA
 * in cafile (PEM) and matching the name given to tls_conn_new(); cafile
 * is then mandatory. Without verify, cafile is ignored and any peer is
 * accepted. certfile/keyfile: an optional client certificate (both or
 * neither). */
struct tls_config *tls_client_new(const char *cafile, bool verify,
	    const char *certfile, const char *keyfile, char *err, size_t errlen);

/* Take another reference; tls_config_free() drops one and frees the
 * config with the last. NULL is ignored by both. */
struct tls_config *tls_config_ref(struct tls_config *);
void	 tls_config_free(struct tls_config *);
/* In a forked child: reseed the config's random generator from the
 * system (and the pid), or parent and children would draw the same
 * "random" bytes for handshakes. NULL is fine. 0, or -1 and err. */
int	 tls_config_forked(struct tls_config *, char *err, size_t errlen);
/* On reload: the new server config nc resumes the sessions (cache and
 * ticket keys) of old, the one it replaces, so clients do not all come
 * back with full handshakes. Call before nc's first connection; each
 * config keeps what it enabled. NULLs and client configs are ignored. */
void	 tls_config_inherit_sessions(struct tls_config *nc,
	    struct tls_config *old);

/* A connection on fd (non-blocking, owned by the caller: tls_conn_free()
 * does not close it). Client side: servername is sent as SNI (unless it
 * is an IP address) and, with verify, must match the peer certificate
 * (DNS names, or IP addresses for an IP literal); it is required with
 * verify. Server side: servername must be NULL. */
struct tls_conn *tls_conn_new(struct tls_config *, int fd,
	    const char *servername, char *err, size_t errlen);
void	 tls_conn_free(struct tls_conn *);

/* Drive the handshake: 0 when done, TLS_WANT_*, TLS_ERR. Optional:
 * tls_read and tls_write finish the handshake themselves. */
int	 tls_handshake(struct tls_conn *);

/* Read up to len (> 0) bytes. Returns the count, 0 at end of stream
 * (tls_conn_eof_clean() tells a close_notify from a bare EOF, which may be
 * a truncation attack), TLS_WANT_* (either: a read may need to write) or
 * TLS_ERR. Errors are sticky: after TLS_ERR every call returns it.
 *
 * Decrypted bytes, or a whole record, may already sit inside the
 * connection after a read: the fd will not become readable for them, so
 * keep reading while tls_pending() is true before waiting on the fd. */
ssize_t	 tls_read(struct tls_conn *, void *, size_t len);
bool	 tls_pending(const struct tls_conn *);

/* Write up to len bytes: returns how many were taken (at most one record,
 * 16 KiB, per call: loop for more), TLS_WANT_* or TLS_ERR.
 *
 * Retry contract: after TLS_WANT_*, bytes may already be encrypted inside
 * the connection. Call tls_write again with a buffer that starts with the
 * same bytes; it may be longer (more data queued meanwhile) but not
 * shorter. Only the bytes of the first attempt are sent and their count
 * is returned. A shorter retry is TLS_ERR. */
ssize_t	 tls_write(struct tls_conn *, const void *, size_t len);

/* Send close_notify: 0, TLS_WANT_WRITE (call again) or TLS_ERR. The fd
 * stays open; the peer's close_notify, if wanted, arrives via tls_read. */
int	 tls_close(struct tls_conn *);

/* EV_READ for TLS_WANT_READ, EV_WRITE for TLS_WANT_WRITE, 0 otherwise. */
unsigned tls_want_events(int rc);

/* Introspection. Strings live as long as the connection; version and
 * cipher are NULL until the handshake is done. */
const char *tls_conn_version(const struct tls_conn *);	/* "TLSv1.2" */
/* mbedTLS's suite name: "TLS-ECDHE-ECDSA-WITH-AES-128-GCM-SHA256" */
const char *tls_conn_cipher(const struct tls_conn *);
/* Server side: the SNI name the client sent (lower case), or NULL. */
const char *tls_conn_sni(const struct tls_conn *);
/* The handshake resumed a session (ticket or cache): no certificate was
 * sent; the peer certificate is the one of the original handshake. */
bool	 tls_conn_resumed(const struct tls_conn *);
bool	 tls_conn_handshake_done(const struct tls_conn *);
bool	 tls_conn_eof_clean(const struct tls_conn *);
/* Why the last call returned TLS_ERR: mbedTLS's text, a system error, or
 * "certificate verify failed: <reasons>". "" if nothing failed. */
const char *tls_conn_error(const struct tls_conn *);
/* Subject DN of the peer certificate ("O=..., CN=..."). -1 if there is
 * none or it does not fit in buf. */
int	 tls_conn_peer_subject(const struct tls_conn *, char *buf, size_t len);

/* Client side resumption: after a handshake, copy its session out; before
 * the next handshake to the same server (same name), hand it back. If the
 * server no longer knows it, a full handshake follows. Sessions are
 * secrets: keep them in memory only. */
struct tls_session *tls_conn_get_session(const struct tls_conn *,
	    char *err, size_t errlen);
int	 tls_conn_set_session(struct tls_conn *, const struct tls_session *,
	    char *err, size_t errlen);
void	 tls_session_free(struct tls_session *);

#endif
