/* conf_tls — the client-side TLS block daemons share, for the
 * connections they make to their backends:
 *
 *	tls {
 *		ca "ca.crt"			CAs that may sign the peer
 *		name "db.internal"		expected name (else the address)
 *		verify on			the default; off needs no ca
 *		certificate "c.crt" "c.key"	optional client certificate
 *	}
 *
 * The caller names the block (lbd's "tls" in a pool, dbrouter's
 * "backend-tls") and keeps what it returns. */
#ifndef STACKD_CONF_TLS_H
#define STACKD_CONF_TLS_H

#include <stdbool.h>

#include "conf.h"

struct tls_config;

struct conf_tls_client {
	struct tls_config	*tls;	/* a client config (tls_client_new) */
	char			*name;	/* expected peer name; NULL: none given */
	bool			 verify;
};

/* Parse st's block into out (which must be zeroed or cleared) and make
 * the config. Verification is on unless the block says "verify off", and
 * then a ca is required. 0, or -1 with the error reported through ctx
 * (file:line of the statement at fault) and out left empty. */
int	 conf_tls_client_block(struct conf_ctx *, const struct conf_stmt *st,
	    struct conf_tls_client *out);
/* Free what conf_tls_client_block filled in; out is zeroed. */
void	 conf_tls_client_clear(struct conf_tls_client *);

#endif
