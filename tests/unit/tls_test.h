/* Helpers shared by the tls unit tests (test_tls*.c): both ends of a
 * connection in one process over a non-blocking socketpair, stepped with
 * poll(). Certificates come from tests/mkcerts.sh via STACKD_CERTS. */
#ifndef STACKD_TLS_TEST_H
#define STACKD_TLS_TEST_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tls.h"
#include "suites.h"

#define TT_DEADLINE_MS	20000
#define TT_ERRLEN	512

/* Error buffer for calls under test; read it right after the call. */
extern char	 tt_err[TT_ERRLEN];

/* Two connected ends: c (client) on fd[0], s (server) on fd[1]. */
struct tt_pair {
	int		 fd[2];
	struct tls_conn	*c, *s;
	int		 rc_c, rc_s;	/* last tls_handshake() results */
};

uint64_t	 tt_now_ms(void);
const char	*tt_certs_dir(void);
char		*tt_certpath(char *buf, size_t len, const char *name);
/* A path in a block-scoped buffer: valid until the end of the enclosing
 * block, which is all any caller needs. */
#define TT_CERT(name)	tt_certpath((char[PATH_MAX]){ 0 }, PATH_MAX, (name))

struct tls_config *tt_server_cfg(const struct tls_server_opts *,
		    const char *crt, const char *key);
struct tls_config *tt_client_cfg(const char *ca, bool verify);
void		 tt_set_nonblock(int fd);
short		 tt_poll_events(int rc);

void		 tt_pair_open(struct tt_pair *, struct tls_config *ccfg,
		    struct tls_config *scfg, const char *name);
void		 tt_pair_close(struct tt_pair *);
/* Both handshakes to the end: 0 if both succeeded. */
int		 tt_pump_handshake(struct tt_pair *);
void		 tt_handshake_ok(struct tt_pair *);
void		 tt_ping_pong(struct tt_pair *);

void		 tt_write_all(struct tls_conn *, int fd, const void *, size_t);
void		 tt_read_exact(struct tls_conn *, int fd, void *, size_t);
void		 tt_peer_subject(struct tls_conn *, char *buf, size_t len);
void		 tt_fill_pattern(unsigned char *, size_t, uint32_t seed);

/* Test cases defined in test_tls_io.c and test_tls_peers.c. */
TCase		*tls_data_tcase(void);
TCase		*tls_peers_tcase(void);

#endif
