/* Unit tests for lbd/lbd_state: the state file's lines (good ones, every
 * kind of bad one with its line number and message), formatting that
 * parses back, and reading and atomically replacing the file. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "lbd_state.h"
#include "suites.h"
#include "testutil.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))
#define MAXGOT		8

/* What a parse reported, in order. */
struct got {
	struct lb_state_entry e[MAXGOT];
	unsigned	 eline[MAXGOT];
	int		 ne;
	char		 why[MAXGOT][256];
	unsigned	 bline[MAXGOT];
	int		 nb;
};

static void
on_entry(const struct lb_state_entry *e, unsigned line, void *arg)
{
	struct got	*g = arg;

	ck_assert_int_lt(g->ne, MAXGOT);
	g->e[g->ne] = *e;
	g->eline[g->ne++] = line;
}

static void
on_bad(unsigned line, const char *why, void *arg)
{
	struct got	*g = arg;

	ck_assert_int_lt(g->nb, MAXGOT);
	snprintf(g->why[g->nb], sizeof(g->why[0]), "%s", why);
	g->bline[g->nb++] = line;
}

static unsigned
parse(const char *text, size_t len, struct got *g)
{
	const struct lb_state_cb cb = { on_entry, on_bad, g };

	memset(g, 0, sizeof(*g));
	return lb_state_parse(text, len, &cb);
}

struct line_case {
	const char	*in;
	const char	*pool;		/* NULL: no entry */
	const char	*server;
	enum lb_admin	 admin;
	unsigned	 weight;
	const char	*why;		/* NULL: no error; else a substring */
};

static const struct line_case line_cases[] = {
	{ "server web/web-01 drain", "web", "web-01", ADMIN_DRAIN, 0, NULL },
	{ "server web/web-01 maint weight 3", "web", "web-01", ADMIN_MAINT, 3,
	    NULL },
	{ "  server\tp.1/a_b-C   ready   weight 256  ", "p.1", "a_b-C",
	    ADMIN_READY, 256, NULL },
	{ "server web/web-01 ready\r", "web", "web-01", ADMIN_READY, 0, NULL },
	{ "# server web/web-01 drain", NULL, NULL, 0, 0, NULL },
	{ "   # indented comment", NULL, NULL, 0, 0, NULL },
	{ " \t ", NULL, NULL, 0, 0, NULL },
	{ "", NULL, NULL, 0, 0, NULL },
	{ "garbage", NULL, NULL, 0, 0, "expected \"server POOL/NAME "
	    "ready|drain|maint [weight N]\", got \"garbage\"" },
	{ "Server web/web-01 drain", NULL, NULL, 0, 0, "got \"Server\"" },
	{ "server", NULL, NULL, 0, 0, "server: expected POOL/NAME" },
	{ "server web drain", NULL, NULL, 0, 0, "expected POOL/NAME (letters, "
	    "digits, '-', '_', '.'), got \"web\"" },
	{ "server web/ drain", NULL, NULL, 0, 0, "got \"web/\"" },
	{ "server /web-01 drain", NULL, NULL, 0, 0, "got \"/web-01\"" },
	{ "server a/b/c drain", NULL, NULL, 0, 0, "got \"a/b/c\"" },
	{ "server web/w\x01\xff drain", NULL, NULL, 0, 0, "got \"web/w??\"" },
	{ "server web/0123456789012345678901234567890123456789012345678901234"
	    "567890123 drain", NULL, NULL, 0, 0, "got \"web/0123456789012345"
	    "678901234567...\"" },
	{ "server web/web-01", NULL, NULL, 0, 0, "server web/web-01: expected "
	    "ready, drain or maint" },
	{ "server web/web-01 down", NULL, NULL, 0, 0, "expected ready, drain "
	    "or maint, got \"down\"" },
	{ "server web/web-01 drain weight", NULL, NULL, 0, 0,
	    "weight: expected 1..256" },
	{ "server web/web-01 drain weight 0", NULL, NULL, 0, 0,
	    "weight: expected 1..256, got \"0\"" },
	{ "server web/web-01 drain weight 257", NULL, NULL, 0, 0,
	    "got \"257\"" },
	{ "server web/web-01 drain weight -1", NULL, NULL, 0, 0,
	    "got \"-1\"" },
	{ "server web/web-01 drain weight 3x", NULL, NULL, 0, 0,
	    "got \"3x\"" },
	{ "server web/web-01 drain weight 99999999999999999999", NULL, NULL,
	    0, 0, "got \"99999999999999999999\"" },
	{ "server web/web-01 drain heavy 3", NULL, NULL, 0, 0,
	    "expected \"weight N\" or the end of the line, got \"heavy\"" },
	{ "server web/web-01 drain # why", NULL, NULL, 0, 0,
	    "got \"#\"" },
	{ "server web/web-01 drain weight 3 more", NULL, NULL, 0, 0,
	    "server web/web-01: expected the end of the line after the weight, "
	    "got \"more\"" },
	{ "this is not a state line at all", NULL, NULL, 0, 0,
	    "got \"this\"" },
};

START_TEST(line_table)
{
	const struct line_case *lc = &line_cases[_i];
	struct got	 g;
	unsigned	 nbad;

	nbad = parse(lc->in, strlen(lc->in), &g);
	ck_assert_uint_eq(nbad, lc->why != NULL);
	ck_assert_int_eq(g.nb, lc->why != NULL);
	ck_assert_int_eq(g.ne, lc->pool != NULL);
	if (lc->why != NULL) {
		ck_assert_msg(strstr(g.why[0], lc->why) != NULL,
		    "'%s': message '%s', want '%s'", lc->in, g.why[0], lc->why);
		ck_assert_uint_eq(g.bline[0], 1);
	}
	if (lc->pool != NULL) {
		ck_assert_str_eq(g.e[0].pool, lc->pool);
		ck_assert_str_eq(g.e[0].server, lc->server);
		ck_assert_int_eq(g.e[0].admin, lc->admin);
		ck_assert_uint_eq(g.e[0].weight, lc->weight);
		ck_assert_uint_eq(g.eline[0], 1);
	}
}
END_TEST

/* Good lines apply whatever the bad ones around them; numbers are right
 * across comments, blank and CRLF lines and a last line without LF. */
START_TEST(file_lines_numbered)
{
	static const char text[] =
	    "# header\n"
	    "bogus line\n"
	    "server web/web-01 drain\r\n"
	    "\n"
	    "server web/web-02 maint weight\n"
	    "server app/app-01 maint weight 2";
	struct got	 g;

	ck_assert_uint_eq(parse(text, sizeof(text) - 1, &g), 2);
	ck_assert_int_eq(g.ne, 2);
	ck_assert_uint_eq(g.eline[0], 3);
	ck_assert_str_eq(g.e[0].server, "web-01");
	ck_assert_uint_eq(g.eline[1], 6);
	ck_assert_str_eq(g.e[1].pool, "app");
	ck_assert_uint_eq(g.e[1].weight, 2);
	ck_assert_int_eq(g.nb, 2);
	ck_assert_uint_eq(g.bline[0], 2);
	ck_assert_uint_eq(g.bline[1], 5);
	/* Nothing at all is fine too. */
	ck_assert_uint_eq(parse("", 0, &g), 0);
	ck_assert_int_eq(g.ne + g.nb, 0);
}
END_TEST

START_TEST(long_lines_and_nul)
{
	char		 text[LB_STATE_LINE_MAX + 64];
	struct got	 g;
	size_t		 n;

	/* Exactly the limit is a line (a bad one: it is all 'x'). */
	memset(text, 'x', LB_STATE_LINE_MAX);
	memcpy(text + LB_STATE_LINE_MAX, "\nserver p/s drain\n", 18);
	n = LB_STATE_LINE_MAX + 18;
	ck_assert_uint_eq(parse(text, n, &g), 1);
	ck_assert_msg(strstr(g.why[0], "got \"xxxx") != NULL, "%s", g.why[0]);
	ck_assert_int_eq(g.ne, 1);
	ck_assert_uint_eq(g.eline[0], 2);
	/* One more byte is too long, and says so. */
	memset(text, 'x', LB_STATE_LINE_MAX + 1);
	memcpy(text + LB_STATE_LINE_MAX + 1, "\nserver p/s drain\n", 18);
	ck_assert_uint_eq(parse(text, n + 1, &g), 1);
	ck_assert_str_eq(g.why[0], "line longer than 512 bytes");
	ck_assert_int_eq(g.ne, 1);
	ck_assert_uint_eq(g.eline[0], 2);
	/* A NUL does not cut a line short into something valid. */
	memcpy(text, "server p/s drain\0weight 3\nserver p/t maint\n", 43);
	ck_assert_uint_eq(parse(text, 43, &g), 1);
	ck_assert_str_eq(g.why[0], "NUL byte in line");
	ck_assert_int_eq(g.ne, 1);
	ck_assert_str_eq(g.e[0].server, "t");
}
END_TEST

START_TEST(format_parses_back)
{
	static const struct lb_state_entry in[] = {
		{ "web", "web-01", ADMIN_DRAIN, 0 },
		{ "web", "web-02", ADMIN_READY, 3 },
		{ "app.x", "a_1", ADMIN_MAINT, 256 },
	};
	struct buf	 b;
	struct got	 g;
	size_t		 i;

	buf_init(&b, 0);
	ck_assert_int_eq(lb_state_format_header(&b), 0);
	for (i = 0; i < NELEM(in); i++)
		ck_assert_int_eq(lb_state_format(&b, &in[i]), 0);
	ck_assert_str_eq(buf_cstr(&b) + strcspn(buf_cstr(&b), "\n") + 1,
	    "server web/web-01 drain\n"
	    "server web/web-02 ready weight 3\n"
	    "server app.x/a_1 maint weight 256\n");
	ck_assert_uint_eq(parse(buf_head(&b), buf_used(&b), &g), 0);
	ck_assert_int_eq(g.ne, (int)NELEM(in));
	for (i = 0; i < NELEM(in); i++) {
		ck_assert_str_eq(g.e[i].pool, in[i].pool);
		ck_assert_str_eq(g.e[i].server, in[i].server);
		ck_assert_int_eq(g.e[i].admin, in[i].admin);
		ck_assert_uint_eq(g.e[i].weight, in[i].weight);
	}
	buf_free(&b);
	ck_assert_str_eq(lb_admin_name(ADMIN_MAINT), "maint");
	ck_assert(lb_name_valid("web-01", 6));
	ck_assert(!lb_name_valid("", 0));
	ck_assert(!lb_name_valid("a\0b", 3));
}
END_TEST

/* Files in dir other than "." and "..". */
static int
count_files(const char *dir)
{
	DIR		*d;
	struct dirent	*de;
	int		 n = 0;

	ck_assert_ptr_nonnull(d = opendir(dir));
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

START_TEST(write_read_replace)
{
	struct tmpdir	 t;
	struct buf	 b;
	struct stat	 st;
	char		 path[256], err[512];

	tmpdir_make(&t, "lbdstate");
	snprintf(path, sizeof(path), "%s", tmpdir_file(&t, "lbd.state"));
	ck_assert_int_eq(lb_state_read(path, &b, err, sizeof(err)), -1);
	ck_assert_int_eq(errno, ENOENT);
	ck_assert_msg(strstr(err, "lbd.state: No such file") != NULL, "%s", err);
	ck_assert_int_eq(lb_state_write(path, "one\n", 4, err, sizeof(err)), 0);
	ck_assert_int_eq(lb_state_write(path, "two\n", 4, err, sizeof(err)), 0);
	ck_assert_int_eq(lb_state_read(path, &b, err, sizeof(err)), 0);
	ck_assert_str_eq(buf_cstr(&b), "two\n");
	buf_free(&b);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0644);
	/* No temporary file is left behind. */
	ck_assert_int_eq(count_files(t.dir), 1);
	/* A directory is not a state file. */
	ck_assert_int_eq(lb_state_read(t.dir, &b, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "not a regular file") != NULL, "%s", err);
	/* Nowhere to write: the error names the file, nothing is made. */
	snprintf(path, sizeof(path), "%s/no/such/dir/lbd.state", t.dir);
	ck_assert_int_eq(lb_state_write(path, "x\n", 2, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "no/such/dir/lbd.state.") != NULL &&
	    strstr(err, "No such file or directory") != NULL, "%s", err);
	ck_assert_int_eq(count_files(t.dir), 1);
	/* Renaming over a directory fails; the temporary file goes. */
	snprintf(path, sizeof(path), "%s", tmpdir_file(&t, "adir"));
	ck_assert_int_eq(mkdir(path, 0755), 0);
	ck_assert_int_eq(lb_state_write(path, "x\n", 2, err, sizeof(err)), -1);
	ck_assert_msg(strncmp(err, "rename ", 7) == 0, "%s", err);
	ck_assert_int_eq(count_files(t.dir), 2);
	ck_assert_int_eq(rmdir(path), 0);
	ck_assert_int_eq(unlink(tmpdir_file(&t, "lbd.state")), 0);
	ck_assert_int_eq(rmdir(t.dir), 0);
}
END_TEST

START_TEST(read_size_limit)
{
	struct tmpdir	 t;
	struct buf	 b;
	char		 path[256], err[512];
	FILE		*fp;

	tmpdir_make(&t, "lbdstate");
	snprintf(path, sizeof(path), "%s", tmpdir_file(&t, "big.state"));
	ck_assert_ptr_nonnull(fp = fopen(path, "w"));
	ck_assert_int_eq(fseek(fp, LB_STATE_FILE_MAX + 10, SEEK_SET), 0);
	ck_assert_int_ne(fputc('\n', fp), EOF);
	ck_assert_int_eq(fclose(fp), 0);
	ck_assert_int_eq(lb_state_read(path, &b, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "larger than 1m") != NULL, "%s", err);
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_eq(rmdir(t.dir), 0);
}
END_TEST

Suite *
suite_lbd_state(void)
{
	Suite	*s = suite_create("lbd_state");
	TCase	*tc;

	tc = tcase_create("parse");
	tcase_add_loop_test(tc, line_table, 0, NELEM(line_cases));
	tcase_add_test(tc, file_lines_numbered);
	tcase_add_test(tc, long_lines_and_nul);
	tcase_add_test(tc, format_parses_back);
	suite_add_tcase(s, tc);

	tc = tcase_create("file");
	tcase_add_test(tc, write_read_replace);
	tcase_add_test(tc, read_size_limit);
	suite_add_tcase(s, tc);
	return s;
}
