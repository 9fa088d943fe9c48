/* fuzz_conf: arbitrary bytes through conf_parse_string, then a directive
 * table (every generic setter, the argument helpers and a recursive block
 * handler) over whatever tree comes out.
 *
 * conf_parse_string runs with includes disabled (max_include 0): an input
 * could name any file on the machine. Inputs without a '/' can only reach
 * files beside the including one, so those that say "include" are also
 * written to a scratch directory holding a few small configs and parsed
 * with conf_parse_file, includes enabled. (No chdir: libFuzzer's corpus
 * and artifact paths may be relative to the cwd.) */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

struct fz_conf {
	char		*name;
	int64_t		 num;
	uint64_t	 unum;
	bool		 flag;
	uint64_t	 ms;
	uint64_t	 bytes;
	int		 depth;
};

static int	fz_block(struct conf_ctx *, const struct conf_stmt *,
		    const struct conf_directive *, void *);
static int	fz_args(struct conf_ctx *, const struct conf_stmt *,
		    const struct conf_directive *, void *);

static const struct conf_directive fz_table[] = {
	{ "name", 1, 1, CONF_BLOCK_NONE, 0, conf_set_string,
	    offsetof(struct fz_conf, name), 0, 0 },
	{ "num", 1, 1, CONF_BLOCK_NONE, CONF_ONCE, conf_set_int,
	    offsetof(struct fz_conf, num), -100, 100 },
	{ "unum", 1, 1, CONF_BLOCK_NONE, 0, conf_set_uint,
	    offsetof(struct fz_conf, unum), 0, 0 },
	{ "flag", 0, 1, CONF_BLOCK_NONE, 0, conf_set_flag,
	    offsetof(struct fz_conf, flag), 0, 0 },
	{ "timeout", 1, 1, CONF_BLOCK_NONE, 0, conf_set_duration,
	    offsetof(struct fz_conf, ms), 1, 86400000 },
	{ "size", 1, 1, CONF_BLOCK_NONE, 0, conf_set_size,
	    offsetof(struct fz_conf, bytes), 0, 0 },
	{ "server", 0, 2, CONF_BLOCK_REQUIRED, 0, fz_block, 0, 0, 0 },
	{ "opt", 0, -1, CONF_BLOCK_OPTIONAL, 0, fz_block, 0, 0, 0 },
	{ "args", 0, -1, CONF_BLOCK_NONE, 0, fz_args, 0, 0, 0 },
	{ NULL, 0, 0, 0, 0, NULL, 0, 0, 0 }
};

static int
fz_block(struct conf_ctx *ctx, const struct conf_stmt *st,
    const struct conf_directive *d, void *obj)
{
	struct fz_conf *c = obj;
	int	 rv;

	c->depth++;
	rv = conf_apply(ctx, st->block, fz_table, obj);
	c->depth--;
	return rv;
}

static int
fz_args(struct conf_ctx *ctx, const struct conf_stmt *st,
    const struct conf_directive *d, void *obj)
{
	static const char *const names[] = { "a", "bb", "ccc", NULL };
	int64_t	 i;
	uint64_t u;
	bool	 b;
	int	 e, idx;

	for (idx = 0; idx <= st->argc; idx++) {
		conf_arg_int(ctx, st, idx, INT64_MIN, INT64_MAX, &i);
		conf_arg_uint(ctx, st, idx, 1, 1000, &u);
		conf_arg_duration(ctx, st, idx, &u);
		conf_arg_size(ctx, st, idx, &u);
		conf_arg_flag(ctx, st, idx, &b);
		conf_arg_enum(ctx, st, idx, names, &e);
	}
	return 0;
}

static char scratch[] = "/tmp/fuzz_conf.XXXXXX";
static char input_path[sizeof(scratch) + 16];

static const struct {
	const char	*name;
	const char	*text;
} fz_files[] = {
	{ "a.conf", "num 1\ninclude b.conf\n" },
	{ "b.conf", "server x { name \"b\" }\n" },
	{ "c.conf", "m = 5\n" },
	{ "loop.conf", "include loop.conf\n" },
	{ "open.conf", "server {\n" },
};

static int
write_file(const char *name, const void *data, size_t size)
{
	char	 path[sizeof(scratch) + 32];
	FILE	*fp;
	int	 rv = 0;

	snprintf(path, sizeof(path), "%s/%s", scratch, name);
	if ((fp = fopen(path, "w")) == NULL)
		return -1;
	if (size > 0 && fwrite(data, size, 1, fp) != 1)
		rv = -1;
	if (fclose(fp) == EOF)
		rv = -1;
	return rv;
}

static void
fz_cleanup(void)
{
	char	 path[sizeof(scratch) + 32];
	size_t	 i;

	for (i = 0; i < sizeof(fz_files) / sizeof(fz_files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", scratch, fz_files[i].name);
		unlink(path);
	}
	unlink(input_path);
	rmdir(scratch);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	size_t	 i;

	if (mkdtemp(scratch) == NULL) {
		perror("fuzz_conf: mkdtemp");
		exit(1);
	}
	atexit(fz_cleanup);
	snprintf(input_path, sizeof(input_path), "%s/fuzz.conf", scratch);
	for (i = 0; i < sizeof(fz_files) / sizeof(fz_files[0]); i++)
		if (write_file(fz_files[i].name, fz_files[i].text,
		    strlen(fz_files[i].text)) == -1) {
			perror(fz_files[i].name);
			exit(1);
		}
	return 0;
}

static void
walk(struct conf_doc *doc)
{
	const struct conf_stmt *st;
	struct conf_ctx ctx;
	struct fz_conf c;
	uint64_t u;
	int64_t	 i;

	for (st = conf_doc_root(doc); st != NULL; st = st->next) {
		if (st->argc < 1 || st->argv[st->argc] != NULL ||
		    st->file == NULL || st->line < 1)
			abort();
		conf_parse_duration(st->argv[0], &u);
		conf_parse_size(st->argv[0], &u);
		conf_parse_int(st->argv[0], &i);
	}
	memset(&c, 0, sizeof(c));
	conf_ctx_init(&ctx, 8, NULL);
	/* -1 must come with at least one message. */
	if (conf_apply(&ctx, conf_doc_root(doc), fz_table, &c) == -1 &&
	    (ctx.nerrors == 0 || conf_errors(&ctx)[0] == '\0'))
		abort();
	(void)conf_errors(&ctx);
	conf_ctx_free(&ctx);
	free(c.name);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct conf_limits lim;
	struct conf_doc *doc;
	char	 err[256];

	conf_limits_default(&lim);
	lim.max_bytes = 1 << 20;
	lim.max_mem = 16 << 20;
	lim.max_include = 0;
	err[0] = '\0';
	if (conf_parse_string_limits("fuzz.conf", (const char *)data, size,
	    &lim, &doc, err, sizeof(err)) == 0) {
		walk(doc);
		conf_doc_free(doc);
	} else if (strncmp(err, "fuzz.conf", 9) != 0)
		abort();	/* every error names the file */

	/* Writing the file costs more than parsing: only when it matters. */
	if (memmem(data, size, "include", 7) == NULL ||
	    memchr(data, '/', size) != NULL ||
	    write_file("fuzz.conf", data, size) == -1)
		return 0;
	lim.max_include = 4;
	if (conf_parse_file_limits(input_path, &lim, &doc, err,
	    sizeof(err)) == 0) {
		walk(doc);
		conf_doc_free(doc);
	} else if (strncmp(err, scratch, sizeof(scratch) - 1) != 0)
		abort();
	return 0;
}
