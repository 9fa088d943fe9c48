/* Helpers shared by the unit suites. */
#ifndef STACKD_TESTUTIL_H
#define STACKD_TESTUTIL_H

/* A scratch directory under /tmp named after the suite. */
struct tmpdir {
	char	 dir[64];
	char	 path[256];	/* last tmpdir_file() result */
};

void		 tmpdir_make(struct tmpdir *, const char *tag);
/* dir/name in t->path; a path that does not fit fails the test. */
const char	*tmpdir_file(struct tmpdir *, const char *name);
/* Remove the directory and everything in it; a failure fails the test. */
void		 tmpdir_remove(struct tmpdir *);

struct metrics;

/* The value after needle (a sample's name and labels, and the space) in
 * the rendering of m, or -1 when it is not there. */
double		 mvalue(const struct metrics *m, const char *needle);

#endif
