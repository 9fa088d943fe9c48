/* conf_tls — the shared client-side "tls { ca name verify certificate }"
 * block. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "conf_tls.h"
#include "tls.h"

struct tls_block {
	char	*ca;
	char	*name;
	bool	 verify;
	char	*cert, *key;
};

static int
dup_arg(struct conf_ctx *ctx, const struct conf_stmt *st, int i, char **out)
{
	free(*out);
	if ((*out = strdup(st->argv[i])) == NULL)
		return conf_error(ctx, st, "out of memory");
	return 0;
}

static int
tb_ca(struct conf_ctx *ctx, const struct conf_stmt *st,
    const struct conf_directive *d, void *obj)
{
	return dup_arg(ctx, st, 1, &((struct tls_block *)obj)->ca);
}

static int
tb_name(struct conf_ctx *ctx, const struct conf_stmt *st,
    const struct conf_directive *d, void *obj)
{
	return dup_arg(ctx, st, 1, &((struct tls_block *)obj)->name);
}

static int
tb_cert(struct conf_ctx *ctx, const struct conf_stmt *st,
    const struct conf_directive *d, void *obj)
{
	struct tls_block *t = obj;

	if (dup_arg(ctx, st, 1, &t->cert) == -1)
		return -1;
	return dup_arg(ctx, st, 2, &t->key);
}

static const struct conf_directive tls_block_directives[] = {
	{ "ca", 1, 1, CONF_BLOCK_NONE, CONF_ONCE, tb_ca, 0, 0, 0 },
	{ "name", 1, 1, CONF_BLOCK_NONE, CONF_ONCE, tb_name, 0, 0, 0 },
	{ "verify", 0, 1, CONF_BLOCK_NONE, CONF_ONCE, conf_set_flag,
	    offsetof(struct tls_block, verify), 0, 0 },
	{ "certificate", 2, 2, CONF_BLOCK_NONE, CONF_ONCE, tb_cert, 0, 0, 0 },
	{ NULL, 0, 0, 0, 0, NULL, 0, 0, 0 }
};

int
conf_tls_client_block(struct conf_ctx *ctx, const struct conf_stmt *st,
    struct conf_tls_client *out)
{
	struct tls_block t = { .verify = true };
	char		 err[512];
	int		 rv = -1;

	memset(out, 0, sizeof(*out));
	if (conf_apply(ctx, st->block, tls_block_directives, &t) == -1)
		goto done;
	if (t.verify && t.ca == NULL) {
		conf_error(ctx, st, "%s: verification needs a ca (or say "
		    "'verify off')", st->argv[0]);
		goto done;
	}
	if ((out->tls = tls_client_new(t.ca, t.verify, t.cert, t.key, err,
	    sizeof(err))) == NULL) {
		conf_error(ctx, st, "%s: %s", st->argv[0], err);
		goto done;
	}
	out->name = t.name;
	t.name = NULL;
	out->verify = t.verify;
	rv = 0;
 done:
	free(t.ca);
	free(t.name);
	free(t.cert);
	free(t.key);
	return rv;
}

void
conf_tls_client_clear(struct conf_tls_client *c)
{
	tls_config_free(c->tls);
	free(c->name);
	memset(c, 0, sizeof(*c));
}
