/* Helpers shared by the unit suites. */
#include <sys/stat.h>

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "buf.h"
#include "metrics.h"
#include "testutil.h"

void
tmpdir_make(struct tmpdir *t, const char *tag)
{
	int	 n;

	n = snprintf(t->dir, sizeof(t->dir), "/tmp/stackd-%s-XXXXXX", tag);
	ck_assert(n > 0 && (size_t)n < sizeof(t->dir));
	ck_assert_ptr_nonnull(mkdtemp(t->dir));
}

const char *
tmpdir_file(struct tmpdir *t, const char *name)
{
	int	 n;

	n = snprintf(t->path, sizeof(t->path), "%s/%s", t->dir, name);
	ck_assert(n > 0 && (size_t)n < sizeof(t->path));
	return t->path;
}

static int
rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	return remove(path);
}

void
tmpdir_remove(struct tmpdir *t)
{
	ck_assert_int_eq(nftw(t->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS), 0);
}

double
mvalue(const struct metrics *m, const char *needle)
{
	struct buf b;
	const char *p;
	double	 v = -1;

	buf_init(&b, 0);
	ck_assert_int_eq(metrics_render(m, &b), 0);
	if ((p = strstr(buf_cstr(&b), needle)) != NULL)
		v = strtod(p + strlen(needle), NULL);
	buf_free(&b);
	return v;
}
