/* Unit tests for common/conf: grammar, includes, macros, value parsers and
 * directive tables. */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "suites.h"
#include "testutil.h"

static struct conf_doc *
parse_ok(const char *text)
{
	struct conf_doc *doc = NULL;
	char	 err[512] = "";

	ck_assert_msg(conf_parse_string("t.conf", text, strlen(text), &doc,
	    err, sizeof(err)) == 0, "parse of [%s] failed: %s", text, err);
	ck_assert_ptr_nonnull(doc);
	return doc;
}

/* Parse must fail with exactly the message want. */
static void
parse_fails(const char *text, size_t len, const struct conf_limits *lim,
    const char *want)
{
	struct conf_doc *doc = (struct conf_doc *)1;
	char	 err[512] = "";

	ck_assert_msg(conf_parse_string_limits("t.conf", text, len, lim, &doc,
	    err, sizeof(err)) == -1, "parse of [%s] succeeded", text);
	ck_assert_ptr_null(doc);
	ck_assert_str_eq(err, want);
}

static const struct conf_stmt *
nth(const struct conf_stmt *st, int n)
{
	while (st != NULL && n-- > 0)
		st = st->next;
	ck_assert_ptr_nonnull(st);
	return st;
}

static int
count(const struct conf_stmt *st)
{
	int	 n = 0;

	for (; st != NULL; st = st->next)
		n++;
	return n;
}

START_TEST(words_lines_and_comments)
{
	struct conf_doc *doc = parse_ok(
	    "# leading comment\n"
	    "listen 127.0.0.1 8080   # trailing\n"
	    "\n"
	    "\tworkers\t4\n"
	    "path /a#b\n"
	    "flag; other x;;\n");
	const struct conf_stmt *st = conf_doc_root(doc);

	ck_assert_int_eq(count(st), 5);
	ck_assert_int_eq(st->argc, 3);
	ck_assert_str_eq(st->argv[0], "listen");
	ck_assert_str_eq(st->argv[1], "127.0.0.1");
	ck_assert_str_eq(st->argv[2], "8080");
	ck_assert_ptr_null(st->argv[3]);
	ck_assert_str_eq(st->file, "t.conf");
	ck_assert_int_eq(st->line, 2);
	ck_assert(!st->has_block && st->block == NULL);
	ck_assert(!conf_quoted(st, 1));
	st = nth(conf_doc_root(doc), 1);
	ck_assert_int_eq(st->line, 4);
	ck_assert_str_eq(st->argv[1], "4");
	/* '#' outside quotes starts a comment even inside a word. */
	st = nth(conf_doc_root(doc), 2);
	ck_assert_int_eq(st->argc, 2);
	ck_assert_str_eq(st->argv[1], "/a");
	st = nth(conf_doc_root(doc), 3);
	ck_assert_int_eq(st->argc, 1);
	ck_assert_str_eq(st->argv[0], "flag");
	st = nth(conf_doc_root(doc), 4);
	ck_assert_int_eq(st->line, 6);
	ck_assert_str_eq(st->argv[1], "x");
	conf_doc_free(doc);
}
END_TEST

START_TEST(empty_inputs)
{
	struct conf_doc *doc = parse_ok("");

	ck_assert_ptr_null(conf_doc_root(doc));
	conf_doc_free(doc);
	doc = parse_ok("\n\n# only a comment\n  ;\n");
	ck_assert_ptr_null(conf_doc_root(doc));
	conf_doc_free(doc);
	conf_doc_free(NULL);
	ck_assert_ptr_null(conf_doc_root(NULL));
}
END_TEST

START_TEST(quoted_strings)
{
	struct conf_doc *doc = parse_ok(
	    "header \"a b { } # ; x\" \"say \\\"hi\\\"\" \"c:\\\\dir\" "
	    "\"l1\\nl2\\tt\" \"\" \"{\"\n"
	    "\"quoted name\" 1\n"
	    "s \"split \\\n"
	    "line\" after\n");
	const struct conf_stmt *st = conf_doc_root(doc);

	ck_assert_int_eq(st->argc, 7);
	ck_assert_str_eq(st->argv[1], "a b { } # ; x");
	ck_assert_str_eq(st->argv[2], "say \"hi\"");
	ck_assert_str_eq(st->argv[3], "c:\\dir");
	ck_assert_str_eq(st->argv[4], "l1\nl2\tt");
	ck_assert_str_eq(st->argv[5], "");
	ck_assert_str_eq(st->argv[6], "{");
	ck_assert(!conf_quoted(st, 0));
	ck_assert(conf_quoted(st, 1) && conf_quoted(st, 6));
	ck_assert(!conf_quoted(st, 7) && !conf_quoted(st, -1));
	ck_assert(!st->has_block);
	st = st->next;
	ck_assert_str_eq(st->argv[0], "quoted name");
	ck_assert(conf_quoted(st, 0));
	st = st->next;
	ck_assert_int_eq(st->line, 3);
	ck_assert_str_eq(st->argv[1], "split line");
	ck_assert_str_eq(st->argv[2], "after");
	conf_doc_free(doc);
}
END_TEST

static const struct {
	const char	*text;
	const char	*err;
} lex_errors[] = {
	{ "a \"open\n", "t.conf:1: unterminated quoted string (write \\n "
	    "for a newline inside quotes)" },
	{ "a\nb \"open", "t.conf:2: unterminated quoted string" },
	{ "a \"x\\q\"", "t.conf:1: unknown escape '\\q' in quoted string "
	    "(write \\\\ for a backslash)" },
	{ "a \"x\\", "t.conf:1: unterminated quoted string" },
	{ "a \"x\"y", "t.conf:1: expected a space after the closing '\"'" },
	{ "a x\"y\"", "t.conf:1: unexpected '\"' inside a word "
	    "(quote the whole word)" },
	{ "a\n\nb \x01", "t.conf:3: unexpected byte 0x01" },
	{ "a \"\x7f\"", "t.conf:1: unexpected byte 0x7f in quoted string" },
	{ "{ a }", "t.conf:1: expected a directive name before '{'" },
	{ "a 1\n}\n", "t.conf:2: unexpected '}' (no block is open)" },
	{ "a { b } c", "t.conf:1: expected end of line after '}', got \"c\"" },
	{ "server {\n  listen 1\n\n", "t.conf:3: expected '}' before end "
	    "of file (block \"server\" opened at line 1)" },
	{ "a {\n b {\n }\n", "t.conf:3: expected '}' before end of file "
	    "(block \"a\" opened at line 1)" },
	{ "a { b { } } }", "t.conf:1: unexpected '}' (no block is open)" },
	{ "a { } {\n}", "t.conf:1: expected end of line after '}', got '{'" },
	{ "a \"\\\x01\"", "t.conf:1: unknown escape '\\x01' in quoted "
	    "string (write \\\\ for a backslash)" },
};

START_TEST(syntax_errors)
{
	size_t	 i = _i;

	parse_fails(lex_errors[i].text, strlen(lex_errors[i].text), NULL,
	    lex_errors[i].err);
}
END_TEST

START_TEST(nul_byte_refused)
{
	parse_fails("a b\0c\n", 6, NULL, "t.conf:1: unexpected byte 0x00");
	parse_fails("a \"b\0c\"\n", 8, NULL,
	    "t.conf:1: unexpected byte 0x00 in quoted string");
}
END_TEST

START_TEST(nested_blocks)
{
	struct conf_doc *doc = parse_ok(
	    "server web {\n"
	    "  listen 443\n"
	    "  location \"/x\" { root /srv; index a.html }\n"
	    "  empty {}\n"
	    "}\n"
	    "server other{ listen 80 }\n"
	    "last\n");
	const struct conf_stmt *srv = conf_doc_root(doc), *st;

	ck_assert_int_eq(count(srv), 3);
	ck_assert(srv->has_block);
	ck_assert_int_eq(srv->argc, 2);
	ck_assert_int_eq(count(srv->block), 3);
	st = nth(srv->block, 1);
	ck_assert_str_eq(st->argv[0], "location");
	ck_assert_int_eq(st->line, 3);
	ck_assert(st->has_block);
	ck_assert_int_eq(count(st->block), 2);
	ck_assert_str_eq(nth(st->block, 1)->argv[1], "a.html");
	ck_assert_int_eq(nth(st->block, 1)->line, 3);
	st = nth(srv->block, 2);
	ck_assert(st->has_block);
	ck_assert_ptr_null(st->block);
	st = srv->next;
	ck_assert_str_eq(st->argv[1], "other");
	ck_assert_str_eq(st->block->argv[1], "80");
	ck_assert_int_eq(st->next->line, 7);
	conf_doc_free(doc);
}
END_TEST

START_TEST(line_continuation_and_crlf)
{
	struct conf_doc *doc = parse_ok(
	    "listen 1 \\\n   2 \\\r\n 3\n"
	    "next a\\b\r\n"
	    "last\r\n");
	const struct conf_stmt *st = conf_doc_root(doc);

	ck_assert_int_eq(st->argc, 4);
	ck_assert_str_eq(st->argv[3], "3");
	ck_assert_int_eq(st->next->line, 4);
	/* A backslash not before a newline is an ordinary character. */
	ck_assert_str_eq(st->next->argv[1], "a\\b");
	ck_assert_int_eq(st->next->next->line, 5);
	ck_assert_int_eq(st->next->next->argc, 1);
	conf_doc_free(doc);
}
END_TEST

/* Tokens bigger than an arena chunk, between ordinary ones. */
START_TEST(big_tokens)
{
	struct conf_limits lim;
	struct conf_doc *doc;
	struct buf b;
	char	 err[256];
	size_t	 i;

	buf_init(&b, 1024 * 1024);
	buf_puts(&b, "a 1\nbig \"");
	for (i = 0; i < 100000; i++)
		buf_puts(&b, "q");
	buf_puts(&b, "\" ");
	for (i = 0; i < 20000; i++)
		buf_puts(&b, "w");
	buf_puts(&b, " small\nz 2\n");
	doc = parse_ok(buf_cstr(&b));
	ck_assert_str_eq(conf_doc_root(doc)->argv[1], "1");
	ck_assert_uint_eq(strlen(nth(conf_doc_root(doc), 1)->argv[1]), 100000);
	ck_assert_uint_eq(strspn(nth(conf_doc_root(doc), 1)->argv[1], "q"),
	    100000);
	ck_assert_uint_eq(strspn(nth(conf_doc_root(doc), 1)->argv[2], "w"),
	    20000);
	ck_assert_str_eq(nth(conf_doc_root(doc), 1)->argv[3], "small");
	ck_assert_str_eq(nth(conf_doc_root(doc), 2)->argv[1], "2");
	conf_doc_free(doc);
	/* The tokenizer reports the memory limit too. */
	conf_limits_default(&lim);
	lim.max_mem = 50000;
	ck_assert_int_eq(conf_parse_string_limits("t.conf", buf_head(&b),
	    buf_used(&b), &lim, &doc, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "t.conf:2: configuration too large: more than "
	    "50000 bytes of memory needed");
	buf_free(&b);
}
END_TEST

START_TEST(limits_enforced)
{
	struct conf_limits lim;
	struct conf_doc *doc;
	struct buf b;
	const char *text;
	char	 err[256];
	int	 i;

	conf_limits_default(&lim);
	ck_assert_int_eq(lim.max_args, CONF_MAX_ARGS);
	lim.max_args = 3;
	parse_fails("a 1 2 3\n", 8, &lim,
	    "t.conf:1: too many words in one statement (limit 3)");
	lim.max_args = CONF_MAX_ARGS;
	lim.max_depth = 2;
	text = "a {\n b {\n  c {\n  }\n }\n}\n";
	parse_fails(text, strlen(text), &lim,
	    "t.conf:3: blocks nested too deeply (limit 2)");
	lim.max_depth = CONF_MAX_DEPTH;
	lim.max_bytes = 4;
	parse_fails("a 1 2", 5, &lim, "t.conf: configuration too large: "
	    "more than 4 bytes in all");
	lim.max_bytes = CONF_MAX_BYTES;
	lim.max_mem = 64 * 1024;
	buf_init(&b, 1024 * 1024);
	for (i = 0; i < 20000; i++)
		buf_puts(&b, "word word word word\n");
	ck_assert_int_eq(conf_parse_string_limits("t.conf", buf_head(&b),
	    buf_used(&b), &lim, &doc, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "configuration too large") != NULL, "%s",
	    err);
	buf_free(&b);

	/* The defaults: 256 words pass, 257 do not; 32 levels pass. */
	buf_init(&b, 1024 * 1024);
	for (i = 0; i < CONF_MAX_ARGS; i++)
		buf_puts(&b, "w ");
	doc = parse_ok(buf_cstr(&b));
	ck_assert_int_eq(conf_doc_root(doc)->argc, CONF_MAX_ARGS);
	conf_doc_free(doc);
	buf_puts(&b, "w");
	parse_fails(buf_cstr(&b), buf_used(&b), NULL, "t.conf:1: too many "
	    "words in one statement (limit 256)");
	buf_reset(&b);
	for (i = 0; i < CONF_MAX_DEPTH; i++)
		buf_puts(&b, "b {\n");
	for (i = 0; i < CONF_MAX_DEPTH; i++)
		buf_puts(&b, "}\n");
	doc = parse_ok(buf_cstr(&b));
	conf_doc_free(doc);
	buf_reset(&b);
	for (i = 0; i <= CONF_MAX_DEPTH; i++)
		buf_puts(&b, "b {\n");
	parse_fails(buf_cstr(&b), buf_used(&b), NULL,
	    "t.conf:33: blocks nested too deeply (limit 32)");
	buf_free(&b);
}
END_TEST

START_TEST(macros)
{
	struct conf_doc *doc = parse_ok(
	    "addr = 10.0.0.1\n"
	    "port = \"8 080\"\n"
	    "both = $addr\n"
	    "dir = listen\n"
	    "listen $addr $port \"$addr\" x$addr $both\n"
	    "addr = 10.0.0.2\n"
	    "$dir $addr\n");
	const struct conf_stmt *st = conf_doc_root(doc);

	/* Definitions never reach the tree. */
	ck_assert_int_eq(count(st), 2);
	ck_assert_int_eq(st->line, 5);
	ck_assert_int_eq(st->argc, 6);
	ck_assert_str_eq(st->argv[1], "10.0.0.1");
	ck_assert(!conf_quoted(st, 1));
	ck_assert_str_eq(st->argv[2], "8 080");
	ck_assert(conf_quoted(st, 2));
	ck_assert_str_eq(st->argv[3], "$addr");
	ck_assert_str_eq(st->argv[4], "x$addr");
	ck_assert_str_eq(st->argv[5], "10.0.0.1");
	st = st->next;
	ck_assert_str_eq(st->argv[0], "listen");
	ck_assert_str_eq(st->argv[1], "10.0.0.2");
	conf_doc_free(doc);
}
END_TEST

static const struct {
	const char	*text;
	const char	*err;
} macro_errors[] = {
	{ "a 1\nlisten $nope\n", "t.conf:2: undefined macro \"$nope\"" },
	{ "later $x\nx = 1\n", "t.conf:1: undefined macro \"$x\"" },
	{ "a $1\n", "t.conf:1: expected a macro name after '$', got \"$1\" "
	    "(quote a literal '$')" },
	{ "a $\n", "t.conf:1: expected a macro name after '$', got \"$\" "
	    "(quote a literal '$')" },
	{ "s {\n x = 1\n}\n", "t.conf:2: macros can only be defined at top "
	    "level, not in a block" },
	{ "x =\n", "t.conf:1: macro x: expected a value after '='" },
	{ "x = 1 2\n", "t.conf:1: macro x: expected one value after '=', "
	    "got 2 (quote a value with spaces)" },
	{ "1x = 1\n", "t.conf:1: expected a macro name (letters, digits, "
	    "'_') before '=', got \"1x\"" },
	{ "\"x\" = 1\n", "t.conf:1: expected a macro name (letters, digits, "
	    "'_') before '=', got \"x\"" },
	{ "x = $y\n", "t.conf:1: undefined macro \"$y\"" },
};

START_TEST(macro_errors_test)
{
	size_t	 i = _i;

	parse_fails(macro_errors[i].text, strlen(macro_errors[i].text), NULL,
	    macro_errors[i].err);
}
END_TEST

START_TEST(macro_count_limited)
{
	struct conf_limits lim;

	conf_limits_default(&lim);
	lim.max_macros = 2;
	parse_fails("a = 1\nb = 2\na = 3\nc = 4\n", 24, &lim,
	    "t.conf:4: too many macros (limit 2)");
}
END_TEST

/* Include tests work in a fresh directory under /tmp (testutil.h). */
static void
tmp_write(struct tmpdir *t, const char *rel, const char *text)
{
	char	 path[PATH_MAX], *slash;
	FILE	*fp;

	ck_assert_int_lt(snprintf(path, sizeof(path), "%s/%s", t->dir, rel),
	    (int)sizeof(path));
	/* Make the parent directories. */
	for (slash = strchr(path + strlen(t->dir) + 1, '/'); slash != NULL;
	    slash = strchr(slash + 1, '/')) {
		*slash = '\0';
		ck_assert(mkdir(path, 0700) == 0 || errno == EEXIST);
		*slash = '/';
	}
	ck_assert_ptr_nonnull(fp = fopen(path, "w"));
	fputs(text, fp);
	ck_assert_int_eq(fclose(fp), 0);
}

static int
parse_tmp(struct tmpdir *t, const char *rel, struct conf_doc **doc, char *err,
    size_t errlen)
{
	char	 path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", t->dir, rel);
	return conf_parse_file(path, doc, err, errlen);
}

START_TEST(include_relative_and_glob)
{
	struct tmpdir t;
	struct conf_doc *doc;
	const struct conf_stmt *st;
	char	 err[512] = "", want[PATH_MAX];
	int	 cwd;

	tmpdir_make(&t, "conf");
	tmp_write(&t, "etc/main.conf",
	    "first 1\n"
	    "include \"sub/a.conf\"\n"
	    "server {\n"
	    "  include conf.d/*.conf\n"
	    "  own 1\n"
	    "}\n"
	    "include \"empty.d/*.conf\"\n"
	    "use $from_a\n");
	tmp_write(&t, "etc/sub/a.conf", "from_a = yes\nin_a 1\n"
	    "include \"b.conf\"\n");
	tmp_write(&t, "etc/sub/b.conf", "in_b 2\n");
	tmp_write(&t, "etc/conf.d/20-b.conf", "g b\n");
	tmp_write(&t, "etc/conf.d/10-a.conf", "g a\n");
	tmp_write(&t, "etc/conf.d/30-c.conf", "g c\n");
	tmp_write(&t, "etc/conf.d/ignored.txt", "nope\n");
	tmp_write(&t, "etc/empty.d/readme", "x\n");
	/* Relative to the including file, not to the cwd. */
	ck_assert_int_ge(cwd = open(".", O_RDONLY | O_DIRECTORY), 0);
	ck_assert_int_eq(chdir("/"), 0);
	ck_assert_msg(parse_tmp(&t, "etc/main.conf", &doc, err,
	    sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(fchdir(cwd), 0);
	close(cwd);
	st = conf_doc_root(doc);
	ck_assert_int_eq(count(st), 5);
	ck_assert_str_eq(nth(st, 1)->argv[0], "in_a");
	snprintf(want, sizeof(want), "%s/etc/sub/a.conf", t.dir);
	ck_assert_str_eq(nth(st, 1)->file, want);
	ck_assert_int_eq(nth(st, 1)->line, 2);
	ck_assert_str_eq(nth(st, 2)->argv[0], "in_b");
	st = nth(st, 3);
	ck_assert_str_eq(st->argv[0], "server");
	/* Glob matches in sorted order, inside the block. */
	ck_assert_int_eq(count(st->block), 4);
	ck_assert_str_eq(nth(st->block, 0)->argv[1], "a");
	ck_assert_str_eq(nth(st->block, 1)->argv[1], "b");
	ck_assert_str_eq(nth(st->block, 2)->argv[1], "c");
	ck_assert_str_eq(nth(st->block, 3)->argv[0], "own");
	snprintf(want, sizeof(want), "%s/etc/main.conf", t.dir);
	ck_assert_str_eq(nth(st->block, 3)->file, want);
	ck_assert_int_eq(nth(st->block, 3)->line, 5);
	/* A macro from an included file is visible afterwards. */
	ck_assert_str_eq(st->next->argv[1], "yes");
	conf_doc_free(doc);
	tmpdir_remove(&t);
}
END_TEST

START_TEST(include_errors)
{
	struct tmpdir t;
	struct conf_doc *doc;
	char	 err[512], want[1024];
	int	 i;

	tmpdir_make(&t, "conf");
	tmp_write(&t, "missing.conf", "a 1\n\ninclude \"nope.conf\"\n");
	ck_assert_int_eq(parse_tmp(&t, "missing.conf", &doc, err,
	    sizeof(err)), -1);
	ck_assert_ptr_null(doc);
	snprintf(want, sizeof(want), "%s/missing.conf:3: include \"%s/"
	    "nope.conf\": No such file or directory", t.dir, t.dir);
	ck_assert_str_eq(err, want);

	tmp_write(&t, "loop-a.conf", "x 1\ninclude loop-b.conf\n");
	tmp_write(&t, "loop-b.conf", "include \"loop-a.conf\"\n");
	ck_assert_int_eq(parse_tmp(&t, "loop-a.conf", &doc, err,
	    sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s/loop-b.conf:1: include \"%s/"
	    "loop-a.conf\": include loop, the file is already being read",
	    t.dir, t.dir);
	ck_assert_str_eq(err, want);

	tmp_write(&t, "self.conf", "include \"*.self\"\n");
	tmp_write(&t, "x.self", "include \"self.conf\"\n");
	ck_assert_int_eq(parse_tmp(&t, "self.conf", &doc, err,
	    sizeof(err)), -1);
	ck_assert_msg(strstr(err, "include loop") != NULL, "%s", err);

	/* A chain deeper than 16 that is not a loop. */
	for (i = 0; i < 20; i++) {
		char	 name[32], text[64];

		snprintf(name, sizeof(name), "d%d.conf", i);
		snprintf(text, sizeof(text), "include d%d.conf\n", i + 1);
		tmp_write(&t, name, text);
	}
	tmp_write(&t, "d20.conf", "end\n");
	ck_assert_int_eq(parse_tmp(&t, "d0.conf", &doc, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s/d16.conf:1: include \"d17.conf\": "
	    "includes nested too deeply (limit 16)", t.dir);
	ck_assert_str_eq(err, want);
	ck_assert_int_eq(parse_tmp(&t, "d4.conf", &doc, err, sizeof(err)), 0);
	ck_assert_str_eq(conf_doc_root(doc)->argv[0], "end");
	conf_doc_free(doc);

	/* Braces balance within each file. */
	tmp_write(&t, "open.conf", "s {\n include half.conf\n}\n");
	tmp_write(&t, "half.conf", "a 1\n}\n");
	ck_assert_int_eq(parse_tmp(&t, "open.conf", &doc, err,
	    sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s/half.conf:2: unexpected '}' (no "
	    "block is open)", t.dir);
	ck_assert_str_eq(err, want);

	tmp_write(&t, "noarg.conf", "include\n");
	ck_assert_int_eq(parse_tmp(&t, "noarg.conf", &doc, err,
	    sizeof(err)), -1);
	ck_assert_msg(strstr(err, "noarg.conf:1: include: expected a file "
	    "name, got end of line") != NULL, "%s", err);
	tmp_write(&t, "two.conf", "include a b\n");
	ck_assert_int_eq(parse_tmp(&t, "two.conf", &doc, err,
	    sizeof(err)), -1);
	ck_assert_msg(strstr(err, "two.conf:1: include: expected end of line "
	    "after the file name, got \"b\"") != NULL, "%s", err);
	tmp_write(&t, "blk.conf", "include a {\n}\n");
	ck_assert_int_eq(parse_tmp(&t, "blk.conf", &doc, err,
	    sizeof(err)), -1);
	ck_assert_msg(strstr(err, "got '{'") != NULL, "%s", err);
	tmp_write(&t, "dir.conf", "include \"sub\"\n");
	tmp_write(&t, "sub/x", "");
	ck_assert_int_eq(parse_tmp(&t, "dir.conf", &doc, err,
	    sizeof(err)), -1);
	ck_assert_msg(strstr(err, "dir.conf:1: include \"") != NULL &&
	    strstr(err, "is a directory") != NULL, "%s", err);
	/* A FIFO would block: includes must be regular files. */
	snprintf(want, sizeof(want), "%s/fifo", t.dir);
	ck_assert_int_eq(mkfifo(want, 0600), 0);
	tmp_write(&t, "fifo.conf", "include fifo\n");
	ck_assert_int_eq(parse_tmp(&t, "fifo.conf", &doc, err,
	    sizeof(err)), -1);
	ck_assert_msg(strstr(err, "fifo.conf:1: include \"") != NULL &&
	    strstr(err, "/fifo\": not a regular file") != NULL, "%s", err);
	tmp_write(&t, "bad.conf", "a 1\nb \"x\n");
	tmp_write(&t, "inc-bad.conf", "include bad.conf\n");
	ck_assert_int_eq(parse_tmp(&t, "inc-bad.conf", &doc, err,
	    sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s/bad.conf:2: unterminated quoted "
	    "string (write \\n for a newline inside quotes)", t.dir);
	ck_assert_str_eq(err, want);
	tmpdir_remove(&t);
}
END_TEST

START_TEST(include_odd_paths)
{
	struct tmpdir t;
	struct conf_doc *doc;
	struct buf b;
	char	 err[512];
	int	 i;

	tmpdir_make(&t, "conf");
	/* The including file's directory is literal even in a pattern. */
	tmp_write(&t, "we[i]rd*/main.conf", "f = \"one.inc\"\n"
	    "include $f\ninclude \"*.conf2\"\n");
	tmp_write(&t, "we[i]rd*/one.inc", "one 1\n");
	tmp_write(&t, "we[i]rd*/two.conf2", "two 2\n");
	tmp_write(&t, "wei*/three.conf2", "wrong 3\n");
	ck_assert_msg(parse_tmp(&t, "we[i]rd*/main.conf", &doc, err,
	    sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(count(conf_doc_root(doc)), 2);
	ck_assert_str_eq(nth(conf_doc_root(doc), 0)->argv[0], "one");
	ck_assert_str_eq(nth(conf_doc_root(doc), 1)->argv[0], "two");
	conf_doc_free(doc);
	/* Overlong paths are refused, not cut short. */
	buf_init(&b, 3 * PATH_MAX);
	buf_puts(&b, "include \"");
	for (i = 0; i < PATH_MAX; i++)
		buf_puts(&b, "p");
	buf_puts(&b, "\"\n");
	tmp_write(&t, "long.conf", buf_cstr(&b));
	buf_free(&b);
	ck_assert_int_eq(parse_tmp(&t, "long.conf", &doc, err, sizeof(err)),
	    -1);
	ck_assert_msg(strstr(err, "long.conf:1: include \"pppp") != NULL &&
	    strstr(err, "...\": path too long (limit 4095 bytes)") != NULL,
	    "%s", err);
	tmpdir_remove(&t);
}
END_TEST

START_TEST(include_limits)
{
	struct tmpdir t;
	struct conf_limits lim;
	struct conf_doc *doc;
	char	 err[512], path[PATH_MAX];

	tmpdir_make(&t, "conf");
	tmp_write(&t, "main.conf", "include \"x/*.conf\"\n");
	tmp_write(&t, "x/a.conf", "a 1234567890\n");
	tmp_write(&t, "x/b.conf", "b 1234567890\n");
	tmp_write(&t, "x/c.conf", "c 1234567890\n");
	snprintf(path, sizeof(path), "%s/main.conf", t.dir);
	conf_limits_default(&lim);
	lim.max_files = 3;
	ck_assert_int_eq(conf_parse_file_limits(path, &lim, &doc, err,
	    sizeof(err)), -1);
	ck_assert_msg(strstr(err, "main.conf:1: include \"") != NULL &&
	    strstr(err, "c.conf\": too many files (limit 3)") != NULL, "%s",
	    err);
	lim.max_files = CONF_MAX_FILES;
	/* The byte budget covers all files together. */
	lim.max_bytes = 19 + 13 * 3 - 1;
	ck_assert_int_eq(conf_parse_file_limits(path, &lim, &doc, err,
	    sizeof(err)), -1);
	ck_assert_msg(strstr(err, "main.conf:1: configuration too large: "
	    "more than 57 bytes in all") != NULL, "%s", err);
	lim.max_bytes = 19 + 13 * 3;
	ck_assert_int_eq(conf_parse_file_limits(path, &lim, &doc, err,
	    sizeof(err)), 0);
	ck_assert_int_eq(count(conf_doc_root(doc)), 3);
	conf_doc_free(doc);
	tmpdir_remove(&t);
}
END_TEST

START_TEST(parse_file_errors_and_string_includes)
{
	struct tmpdir t;
	struct conf_doc *doc;
	char	 err[512], want[PATH_MAX + 64];
	const char *text = "include \"inc/x.conf\"\n";
	int	 cwd;

	ck_assert_int_eq(conf_parse_file("/nonexistent/lbd.conf", &doc, err,
	    sizeof(err)), -1);
	ck_assert_str_eq(err, "/nonexistent/lbd.conf: No such file or "
	    "directory");
	tmpdir_make(&t, "conf");
	ck_assert_int_eq(conf_parse_file(t.dir, &doc, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s: is a directory", t.dir);
	ck_assert_str_eq(err, want);
	/* A string's includes are relative to the current directory. */
	tmp_write(&t, "inc/x.conf", "from_x 1\n");
	ck_assert_int_ge(cwd = open(".", O_RDONLY | O_DIRECTORY), 0);
	ck_assert_int_eq(chdir(t.dir), 0);
	ck_assert_int_eq(conf_parse_string("mem", text, strlen(text), &doc,
	    err, sizeof(err)), 0);
	ck_assert_str_eq(conf_doc_root(doc)->argv[0], "from_x");
	ck_assert_str_eq(conf_doc_root(doc)->file, "inc/x.conf");
	conf_doc_free(doc);
	ck_assert_int_eq(fchdir(cwd), 0);
	close(cwd);
	tmpdir_remove(&t);
}
END_TEST

START_TEST(durations)
{
	static const struct {
		const char	*s;
		uint64_t	 ms;
	} good[] = {
		{ "500ms", 500 }, { "2s", 2000 }, { "5m", 300000 },
		{ "1h", 3600000 }, { "1d", 86400000 }, { "0", 0 },
		{ "10", 10000 }, { "007s", 7000 },
		{ "18446744073709551615ms", UINT64_MAX },
	};
	static const char *const bad[] = {
		"", "5x", "-1", "+1", "1.5s", " 5s", "5s ", "5S", "ms", "s",
		"5 s", "5ss", "99999999999999999999s",
		"18446744073709551615", "18446744073709551616ms",
		"213503982334602d",
	};
	uint64_t v;
	size_t	 i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		v = 1;
		ck_assert_msg(conf_parse_duration(good[i].s, &v) == 0, "%s",
		    good[i].s);
		ck_assert_uint_eq(v, good[i].ms);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		v = 42;
		ck_assert_msg(conf_parse_duration(bad[i], &v) == -1,
		    "accepted \"%s\"", bad[i]);
		ck_assert_uint_eq(v, 42);
	}
}
END_TEST

START_TEST(sizes)
{
	static const struct {
		const char	*s;
		uint64_t	 bytes;
	} good[] = {
		{ "16k", 16384 }, { "16K", 16384 }, { "4m", 4194304 },
		{ "4M", 4194304 }, { "1g", 1073741824 }, { "1G", 1073741824 },
		{ "512", 512 }, { "0", 0 },
		{ "17179869183g", 17179869183ULL << 30 },
	};
	static const char *const bad[] = {
		"", "5x", "-1", "1kb", "1.5k", "k", " 1k", "1k ", "1t",
		"17179869184g", "99999999999999999999",
		"18446744073709551616",
	};
	uint64_t v;
	size_t	 i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		ck_assert_msg(conf_parse_size(good[i].s, &v) == 0, "%s",
		    good[i].s);
		ck_assert_uint_eq(v, good[i].bytes);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(conf_parse_size(bad[i], &v) == -1,
		    "accepted \"%s\"", bad[i]);
}
END_TEST

START_TEST(integers_and_flags)
{
	int64_t	 i;
	uint64_t u;
	bool	 f;

	ck_assert_int_eq(conf_parse_int("-5", &i), 0);
	ck_assert_int_eq(i, -5);
	ck_assert_int_eq(conf_parse_int("9223372036854775807", &i), 0);
	ck_assert_int_eq(i, INT64_MAX);
	ck_assert_int_eq(conf_parse_int("-9223372036854775808", &i), 0);
	ck_assert_int_eq(i, INT64_MIN);
	ck_assert_int_eq(conf_parse_int("-0", &i), 0);
	ck_assert_int_eq(i, 0);
	ck_assert_int_eq(conf_parse_int("9223372036854775808", &i), -1);
	ck_assert_int_eq(conf_parse_int("-9223372036854775809", &i), -1);
	ck_assert_int_eq(conf_parse_int("--1", &i), -1);
	ck_assert_int_eq(conf_parse_int("+1", &i), -1);
	ck_assert_int_eq(conf_parse_int("1a", &i), -1);
	ck_assert_int_eq(conf_parse_int("-", &i), -1);
	ck_assert_int_eq(conf_parse_int("", &i), -1);
	ck_assert_int_eq(conf_parse_uint("18446744073709551615", &u), 0);
	ck_assert_uint_eq(u, UINT64_MAX);
	ck_assert_int_eq(conf_parse_uint("18446744073709551616", &u), -1);
	ck_assert_int_eq(conf_parse_uint("-1", &u), -1);
	ck_assert_int_eq(conf_parse_flag("on", &f), 0);
	ck_assert(f);
	ck_assert_int_eq(conf_parse_flag("no", &f), 0);
	ck_assert(!f);
	ck_assert_int_eq(conf_parse_flag("true", &f), 0);
	ck_assert(f);
	ck_assert_int_eq(conf_parse_flag("false", &f), 0);
	ck_assert(!f);
	ck_assert_int_eq(conf_parse_flag("ON", &f), -1);
	ck_assert_int_eq(conf_parse_flag("1", &f), -1);
	ck_assert_int_eq(conf_parse_flag("", &f), -1);
}
END_TEST

/* A small daemon-shaped configuration for the directive-table tests. */
struct t_server {
	char		*name;
	int64_t		 port;
	int		 proto;
	bool		 seen_listen;
};

struct t_conf {
	char		*user;
	int64_t		 workers;
	uint64_t	 conns;
	bool		 tls;
	uint64_t	 timeout;
	uint64_t	 bufsize;
	uint64_t	 grace;
	struct t_server	 servers[4];
	int		 nservers;
};

static int
t_listen(struct conf_ctx *ctx, const struct conf_stmt *st,
    const struct conf_directive *d, void *obj)
{
	static const char *const protos[] = { "tcp", "udp", NULL };
	struct t_server *s = obj;

	if (conf_arg_int(ctx, st, 1, 1, 65535, &s->port) == -1)
		return -1;
	if (st->argc > 2 && conf_arg_enum(ctx, st, 2, protos, &s->proto) == -1)
		return -1;
	s->seen_listen = true;
	return 0;
}

static int
t_fail_quietly(struct conf_ctx *ctx, const struct conf_stmt *st,
    const struct conf_directive *d, void *obj)
{
	return -1;
}

static const struct conf_directive server_table[] = {
	{ "listen", 1, 2, CONF_BLOCK_NONE, CONF_ONCE, t_listen, 0, 0, 0 },
	{ "name", 1, 1, CONF_BLOCK_NONE, 0, conf_set_string,
	    offsetof(struct t_server, name), 0, 0 },
	{ "quiet", 0, -1, CONF_BLOCK_NONE, 0, t_fail_quietly, 0, 0, 0 },
	{ NULL, 0, 0, 0, 0, NULL, 0, 0, 0 }
};

static int
t_server_block(struct conf_ctx *ctx, const struct conf_stmt *st,
    const struct conf_directive *d, void *obj)
{
	struct t_conf *c = obj;
	struct t_server *s;
	int	 rv;

	if (c->nservers == 4)
		return conf_error(ctx, st, "server: too many (limit 4)");
	s = &c->servers[c->nservers++];
	/* Check the block as a whole even after errors inside it. */
	rv = conf_apply(ctx, st->block, server_table, s);
	if (!s->seen_listen)
		return conf_error(ctx, st, "server: missing 'listen'");
	return rv;
}

static const struct conf_directive top_table[] = {
	{ "user", 1, 1, CONF_BLOCK_NONE, CONF_ONCE, conf_set_string,
	    offsetof(struct t_conf, user), 0, 0 },
	{ "workers", 1, 1, CONF_BLOCK_NONE, 0, conf_set_int,
	    offsetof(struct t_conf, workers), 1, 64 },
	{ "max-connections", 1, 1, CONF_BLOCK_NONE, 0, conf_set_uint,
	    offsetof(struct t_conf, conns), 0, 0 },
	{ "tls", 0, 1, CONF_BLOCK_NONE, 0, conf_set_flag,
	    offsetof(struct t_conf, tls), 0, 0 },
	{ "timeout", 1, 1, CONF_BLOCK_NONE, 0, conf_set_duration,
	    offsetof(struct t_conf, timeout), 100, 3600000 },
	{ "buffer", 1, 1, CONF_BLOCK_NONE, 0, conf_set_size,
	    offsetof(struct t_conf, bufsize), 1024, 1 << 20 },
	{ "grace", 1, 1, CONF_BLOCK_NONE, 0, conf_set_duration,
	    offsetof(struct t_conf, grace), 0, 5000 },
	{ "server", 0, 1, CONF_BLOCK_REQUIRED, 0, t_server_block, 0, 0, 0 },
	{ "maybe", 0, 0, CONF_BLOCK_OPTIONAL, 0, NULL, 0, 0, 0 },
	{ "range", 1, 3, CONF_BLOCK_NONE, 0, NULL, 0, 0, 0 },
	{ "many", 2, -1, CONF_BLOCK_NONE, 0, NULL, 0, 0, 0 },
	{ NULL, 0, 0, 0, 0, NULL, 0, 0, 0 }
};

static void
t_conf_free(struct t_conf *c)
{
	int	 i;

	free(c->user);
	for (i = 0; i < c->nservers; i++)
		free(c->servers[i].name);
}

/* Parse text, apply top_table, and compare all error lines to want. */
static int
apply_text(const char *text, struct t_conf *c, const char *want, int maxerr)
{
	struct conf_doc *doc = parse_ok(text);
	struct conf_ctx ctx;
	int	 rv;

	memset(c, 0, sizeof(*c));
	conf_ctx_init(&ctx, maxerr, NULL);
	rv = conf_apply(&ctx, conf_doc_root(doc), top_table, c);
	ck_assert_str_eq(conf_errors(&ctx), want);
	ck_assert_int_eq(rv, want[0] == '\0' ? 0 : -1);
	conf_ctx_free(&ctx);
	conf_doc_free(doc);
	return rv;
}

START_TEST(generic_setters)
{
	struct t_conf c;

	apply_text(
	    "user nobody\n"
	    "workers 8\n"
	    "max-connections 18446744073709551615\n"
	    "tls\n"
	    "timeout 90s\n"
	    "buffer 64k\n"
	    "server { listen 443 tcp; name first; name second }\n"
	    "server b { listen 53 udp }\n"
	    "maybe\n"
	    "maybe { anything goes here }\n"
	    "range 1 2 3\n"
	    "many 1 2 3 4 5 6\n", &c, "", 0);
	ck_assert_str_eq(c.user, "nobody");
	ck_assert_int_eq(c.workers, 8);
	ck_assert_uint_eq(c.conns, UINT64_MAX);
	ck_assert(c.tls);
	ck_assert_uint_eq(c.timeout, 90000);
	ck_assert_uint_eq(c.bufsize, 65536);
	ck_assert_int_eq(c.nservers, 2);
	ck_assert_int_eq(c.servers[0].port, 443);
	ck_assert_int_eq(c.servers[0].proto, 0);
	/* Repeating a string directive replaces (and frees) the old value. */
	ck_assert_str_eq(c.servers[0].name, "second");
	ck_assert_int_eq(c.servers[1].proto, 1);
	t_conf_free(&c);
	apply_text("tls off\ntls yes\ntls no\n", &c, "", 0);
	ck_assert(!c.tls);
	t_conf_free(&c);
}
END_TEST

/* conf_set_unsigned fills an unsigned field: the directive's range, and
 * never past UINT_MAX when it has none. */
struct t_small {
	unsigned	 retries;
	unsigned	 any;
};

static const struct conf_directive small_table[] = {
	{ "retries", 1, 1, CONF_BLOCK_NONE, 0, conf_set_unsigned,
	    offsetof(struct t_small, retries), 0, 10 },
	{ "any", 1, 1, CONF_BLOCK_NONE, 0, conf_set_unsigned,
	    offsetof(struct t_small, any), 0, 0 },
	{ NULL, 0, 0, 0, 0, NULL, 0, 0, 0 }
};

static const char *
apply_small(const char *text, struct t_small *c, struct conf_ctx *ctx)
{
	struct conf_doc *doc = parse_ok(text);

	conf_ctx_init(ctx, 0, NULL);
	(void)conf_apply(ctx, conf_doc_root(doc), small_table, c);
	conf_doc_free(doc);
	return conf_errors(ctx);
}

START_TEST(set_unsigned)
{
	struct t_small	 c = { 7, 7 };
	struct conf_ctx	 ctx;

	ck_assert_str_eq(apply_small("retries 10\nany 4294967295\n", &c, &ctx), "");
	ck_assert_uint_eq(c.retries, 10);
	ck_assert_uint_eq(c.any, UINT_MAX);
	conf_ctx_free(&ctx);
	c = (struct t_small){ 7, 7 };
	ck_assert_ptr_nonnull(strstr(apply_small("retries 11\nany 4294967296\n",
	    &c, &ctx), "t.conf:1: "));
	ck_assert_ptr_nonnull(strstr(conf_errors(&ctx), "t.conf:2: "));
	/* Refused values leave the fields as they were. */
	ck_assert_uint_eq(c.retries, 7);
	ck_assert_uint_eq(c.any, 7);
	conf_ctx_free(&ctx);
}
END_TEST

START_TEST(table_errors_accumulate_in_order)
{
	struct t_conf c;

	apply_text(
	    "user a\n"
	    "listne 80\n"
	    "zzzzzz 1\n"
	    "workers 1 2 3\n"
	    "workers\n"
	    "tls on off\n"
	    "maybe 1\n"
	    "range\n"
	    "many 1\n"
	    "server\n"
	    "user c { }\n"
	    "user b\n"
	    "workers 100\n"
	    "workers -1x\n"
	    "max-connections -1\n"
	    "tls maybe\n"
	    "timeout 50ms\n"
	    "timeout 2h\n"
	    "timeout soon\n"
	    "buffer 2m\n"
	    "buffer 12\n"
	    "server {\n listen 80 sctp\n listen 0\n}\n"
	    "server {\n name x\n listen 1\n listen 2\n quiet\n}\n"
	    "usr x\n"
	    "grace 5001ms\n"
	    "\"we\\\"ird\\\\\\t\\n\" x\n", &c,
	    "t.conf:2: unknown directive \"listne\"\n"
	    "t.conf:3: unknown directive \"zzzzzz\"\n"
	    "t.conf:4: workers: expected 1 argument, got 3\n"
	    "t.conf:5: workers: expected 1 argument, got 0\n"
	    "t.conf:6: tls: expected 0 to 1 arguments, got 2\n"
	    "t.conf:7: maybe: expected no arguments, got 1\n"
	    "t.conf:8: range: expected 1 to 3 arguments, got 0\n"
	    "t.conf:9: many: expected at least 2 arguments, got 1\n"
	    "t.conf:10: server: expected a '{' block\n"
	    "t.conf:11: user: does not take a '{' block\n"
	    "t.conf:12: user: given more than once (first at t.conf:1)\n"
	    "t.conf:13: workers: 100 is out of range, expected 1 to 64\n"
	    "t.conf:14: workers: expected an integer, got \"-1x\"\n"
	    "t.conf:15: max-connections: expected a non-negative integer, "
	    "got \"-1\"\n"
	    "t.conf:16: tls: expected on or off (or yes/no, true/false), "
	    "got \"maybe\"\n"
	    "t.conf:17: timeout: 50ms is out of range, expected 100ms to 1h\n"
	    "t.conf:18: timeout: 2h is out of range, expected 100ms to 1h\n"
	    "t.conf:19: timeout: expected a duration like 500ms, 30s, 5m, 1h "
	    "or 1d, got \"soon\"\n"
	    "t.conf:20: buffer: 2m is out of range, expected 1k to 1m\n"
	    "t.conf:21: buffer: 12 is out of range, expected 1k to 1m\n"
	    "t.conf:23: listen: expected one of tcp, udp, got \"sctp\"\n"
	    "t.conf:24: listen: given more than once (first at t.conf:23)\n"
	    "t.conf:22: server: missing 'listen'\n"
	    "t.conf:29: listen: given more than once (first at t.conf:28)\n"
	    "t.conf:30: quiet: invalid\n"
	    "t.conf:32: unknown directive \"usr\" (did you mean 'user'?)\n"
	    "t.conf:33: grace: 5001ms is out of range, expected 0 to 5s\n"
	    "t.conf:34: unknown directive \"we\\\"ird\\\\\\t\\n\"\n",
	    0);
	t_conf_free(&c);
}
END_TEST

START_TEST(suggestions)
{
	struct t_conf c;

	apply_text("timeotu 1s\nworker 1\nbufer 1k\nservers {\n}\nx 1\n"
	    "max_connections 1\n", &c,
	    "t.conf:1: unknown directive \"timeotu\" (did you mean "
	    "'timeout'?)\n"
	    "t.conf:2: unknown directive \"worker\" (did you mean "
	    "'workers'?)\n"
	    "t.conf:3: unknown directive \"bufer\" (did you mean 'buffer'?)\n"
	    "t.conf:4: unknown directive \"servers\" (did you mean "
	    "'server'?)\n"
	    "t.conf:6: unknown directive \"x\"\n"
	    "t.conf:7: unknown directive \"max_connections\" (did you mean "
	    "'max-connections'?)\n", 0);
	t_conf_free(&c);
}
END_TEST

START_TEST(error_cap_and_long_names)
{
	struct t_conf c;
	struct conf_ctx ctx;
	struct buf b;
	int	 i;

	apply_text("a\nb\nc\nd\ne\n", &c,
	    "t.conf:1: unknown directive \"a\"\n"
	    "t.conf:2: unknown directive \"b\"\n"
	    "3 more errors not shown\n", 2);
	t_conf_free(&c);
	/* Long names are shortened in messages. */
	buf_init(&b, 4096);
	for (i = 0; i < 100; i++)
		buf_puts(&b, "x");
	buf_puts(&b, " 1\n");
	apply_text(buf_cstr(&b), &c, "t.conf:1: unknown directive "
	    "\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxx...\"\n", 0);
	t_conf_free(&c);
	buf_free(&b);
	/* conf_error without a statement, and asking twice is stable. */
	conf_ctx_init(&ctx, 1, &c);
	ck_assert_ptr_eq(ctx.user, &c);
	ck_assert_str_eq(conf_errors(&ctx), "");
	ck_assert_int_eq(conf_error(&ctx, NULL, "global %d", 1), -1);
	ck_assert_int_eq(conf_error(&ctx, NULL, "dropped"), -1);
	ck_assert_int_eq(ctx.nerrors, 2);
	ck_assert_str_eq(conf_errors(&ctx), "global 1\n1 more error not shown\n");
	ck_assert_str_eq(conf_errors(&ctx), "global 1\n1 more error not shown\n");
	conf_ctx_free(&ctx);
}
END_TEST

START_TEST(arg_helpers)
{
	static const char *const modes[] = { "rr", "leastconn", NULL };
	struct conf_doc *doc = parse_ok("x 5 2s 4k on leastconn -7\n");
	const struct conf_stmt *st = conf_doc_root(doc);
	struct conf_ctx ctx;
	int64_t	 i;
	uint64_t u;
	bool	 f;
	int	 e;

	conf_ctx_init(&ctx, 0, NULL);
	ck_assert_int_eq(conf_arg_uint(&ctx, st, 1, 0, 10, &u), 0);
	ck_assert_uint_eq(u, 5);
	ck_assert_int_eq(conf_arg_duration(&ctx, st, 2, &u), 0);
	ck_assert_uint_eq(u, 2000);
	ck_assert_int_eq(conf_arg_size(&ctx, st, 3, &u), 0);
	ck_assert_uint_eq(u, 4096);
	ck_assert_int_eq(conf_arg_flag(&ctx, st, 4, &f), 0);
	ck_assert(f);
	ck_assert_int_eq(conf_arg_enum(&ctx, st, 5, modes, &e), 0);
	ck_assert_int_eq(e, 1);
	ck_assert_int_eq(conf_arg_int(&ctx, st, 6, -10, 10, &i), 0);
	ck_assert_int_eq(i, -7);
	ck_assert_int_eq(ctx.nerrors, 0);
	ck_assert_int_eq(conf_arg_int(&ctx, st, 7, 0, 1, &i), -1);
	ck_assert_int_eq(conf_arg_duration(&ctx, st, 3, &u), -1);
	ck_assert_int_eq(conf_arg_size(&ctx, st, 2, &u), -1);
	ck_assert_int_eq(conf_arg_enum(&ctx, st, 1, modes, &e), -1);
	ck_assert_int_eq(conf_arg_uint(&ctx, st, 6, 0, 10, &u), -1);
	ck_assert_int_eq(conf_arg_int(&ctx, st, 1, 6, 10, &i), -1);
	ck_assert_int_eq(conf_arg_uint(&ctx, st, 1, 6, 10, &u), -1);
	ck_assert_int_eq(conf_arg_flag(&ctx, st, 0, &f), -1);
	ck_assert_str_eq(conf_errors(&ctx),
	    "t.conf:1: x: expected an integer as argument 7\n"
	    "t.conf:1: x: expected a duration like 500ms, 30s, 5m, 1h or 1d, "
	    "got \"4k\"\n"
	    "t.conf:1: x: expected a size like 512, 16k, 4m or 1g, "
	    "got \"2s\"\n"
	    "t.conf:1: x: expected one of rr, leastconn, got \"5\"\n"
	    "t.conf:1: x: expected a non-negative integer, got \"-7\"\n"
	    "t.conf:1: x: 5 is out of range, expected 6 to 10\n"
	    "t.conf:1: x: 5 is out of range, expected 6 to 10\n"
	    "t.conf:1: x: expected on or off as argument 0\n");
	conf_ctx_free(&ctx);
	conf_doc_free(doc);
}
END_TEST

Suite *
conf_suite(void)
{
	Suite	*s = suite_create("conf");
	TCase	*tc;

	tc = tcase_create("grammar");
	tcase_add_test(tc, words_lines_and_comments);
	tcase_add_test(tc, empty_inputs);
	tcase_add_test(tc, quoted_strings);
	tcase_add_loop_test(tc, syntax_errors, 0,
	    sizeof(lex_errors) / sizeof(lex_errors[0]));
	tcase_add_test(tc, nul_byte_refused);
	tcase_add_test(tc, nested_blocks);
	tcase_add_test(tc, line_continuation_and_crlf);
	tcase_add_test(tc, big_tokens);
	tcase_add_test(tc, limits_enforced);
	tcase_add_test(tc, macros);
	tcase_add_loop_test(tc, macro_errors_test, 0,
	    sizeof(macro_errors) / sizeof(macro_errors[0]));
	tcase_add_test(tc, macro_count_limited);
	suite_add_tcase(s, tc);

	tc = tcase_create("include");
	tcase_add_test(tc, include_relative_and_glob);
	tcase_add_test(tc, include_errors);
	tcase_add_test(tc, include_odd_paths);
	tcase_add_test(tc, include_limits);
	tcase_add_test(tc, parse_file_errors_and_string_includes);
	suite_add_tcase(s, tc);

	tc = tcase_create("values");
	tcase_add_test(tc, durations);
	tcase_add_test(tc, sizes);
	tcase_add_test(tc, integers_and_flags);
	suite_add_tcase(s, tc);

	tc = tcase_create("directives");
	tcase_add_test(tc, generic_setters);
	tcase_add_test(tc, set_unsigned);
	tcase_add_test(tc, table_errors_accumulate_in_order);
	tcase_add_test(tc, suggestions);
	tcase_add_test(tc, error_cap_and_long_names);
	tcase_add_test(tc, arg_helpers);
	suite_add_tcase(s, tc);
	return s;
}
