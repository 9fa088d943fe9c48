/* Unit tests for dbrouter/query_class and query_lex: one table of SQL
 * texts with the class, exact flags and hint each must get, good and
 * tricky (keywords in strings and comments, executable comments, hints,
 * several statements), and the lexer's tokens on its own. */
#include <string.h>

#include "query_class.h"
#include "suites.h"

#define R	QC_READ
#define W	QC_WRITE
#define T	QC_TRX
#define S	QC_SESSION
#define HP	QL_HINT_PRIMARY
#define HR	QL_HINT_REPLICA

static const struct {
	const char	*sql;
	enum qc_class	 cls;
	unsigned	 flags;
	enum ql_hint	 hint;
} cases[] = {
	/* Plain reads. */
	{ "SELECT 1", R, 0, 0 },
	{ "  \n\tselect * from t where a = 1", R, 0, 0 },
	{ "select/*x*/1", R, 0, 0 },
	{ "SeLeCt 1", R, 0, 0 },
	{ "SHOW TABLES", R, 0, 0 },
	{ "show full processlist", R, 0, 0 },
	{ "DESCRIBE t", R, 0, 0 },
	{ "desc t", R, 0, 0 },
	{ "EXPLAIN SELECT * FROM t", R, 0, 0 },
	{ "EXPLAIN UPDATE t SET a = 1", R, 0, 0 },
	{ "WITH c AS (SELECT 1) SELECT * FROM c", R, 0, 0 },
	{ "WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c "
	    "WHERE n < 5) SELECT n FROM c", R, 0, 0 },
	{ "(SELECT a FROM t) UNION (SELECT b FROM u)", R, 0, 0 },
	{ "VALUES (1, 2)", R, 0, 0 },
	{ "SELECT SQL_CALC_FOUND_ROWS * FROM t LIMIT 10", R, 0, 0 },
	{ "SELECT @x", R, 0, 0 },
	{ "SELECT @@version", R, 0, 0 },
	/* Keywords where they do not count. */
	{ "SELECT 'FOR UPDATE'", R, 0, 0 },
	{ "SELECT \"LOCK IN SHARE MODE\" AS `for update`", R, 0, 0 },
	{ "SELECT 'it''s FOR UPDATE'", R, 0, 0 },
	{ "SELECT 'a\\' FOR UPDATE'", R, 0, 0 },
	{ "SELECT `a``b` FROM `into`", R, 0, 0 },
	{ "SELECT 1 /* FOR UPDATE */", R, 0, 0 },
	{ "SELECT 1 -- INTO OUTFILE '/tmp/x'\n", R, 0, 0 },
	{ "SELECT 1 # GET_LOCK('x', 1)", R, 0, 0 },
	{ "SELECT last_insert_id FROM t", R, 0, 0 },
	{ "SELECT 'GET_LOCK(' FROM t", R, 0, 0 },
	/* Reads that need the primary. */
	{ "SELECT * FROM t WHERE id = 1 FOR UPDATE", W, QC_PRIMARY, 0 },
	{ "select * from t for\nupdate", W, QC_PRIMARY, 0 },
	{ "SELECT * FROM t LOCK IN SHARE MODE", W, QC_PRIMARY, 0 },
	{ "SELECT * FROM t FOR SHARE", W, QC_PRIMARY, 0 },
	{ "SELECT a INTO @x FROM t", W, QC_PRIMARY, 0 },
	{ "SELECT * INTO OUTFILE '/tmp/t' FROM t", W, QC_PRIMARY, 0 },
	{ "SELECT LAST_INSERT_ID()", W, QC_PRIMARY, 0 },
	{ "select last_insert_id ( )", W, QC_PRIMARY, 0 },
	{ "SELECT @@identity", W, QC_PRIMARY, 0 },
	{ "SELECT @@session.last_insert_id", W, QC_PRIMARY, 0 },
	{ "SELECT GET_LOCK('job', 10)", W, QC_PRIMARY | QC_PIN, 0 },
	{ "SELECT RELEASE_LOCK('job')", W, QC_PRIMARY | QC_PIN, 0 },
	{ "SELECT IS_FREE_LOCK('job')", W, QC_PRIMARY, 0 },
	{ "SELECT NEXTVAL(s)", W, QC_PRIMARY, 0 },
	{ "SELECT NEXT VALUE FOR s", W, QC_PRIMARY, 0 },
	{ "SELECT FOUND_ROWS()", W, QC_PRIMARY | QC_PREV_BACKEND, 0 },
	{ "SELECT @n := @n + 1 AS rownum FROM t", W, QC_PRIMARY, 0 },
	{ "WITH c AS (SELECT 1) SELECT * FROM c FOR UPDATE", W, QC_PRIMARY,
	    0 },
	{ "SHOW WARNINGS", R, QC_PREV_BACKEND, 0 },
	{ "SHOW COUNT(*) ERRORS", R, QC_PREV_BACKEND, 0 },
	{ "SELECT @@warning_count", R, QC_PREV_BACKEND, 0 },
	/* Writes. */
	{ "INSERT INTO t VALUES (1)", W, 0, 0 },
	{ "update t set a = 'SELECT'", W, 0, 0 },
	{ "DELETE FROM t", W, 0, 0 },
	{ "REPLACE INTO t VALUES (1)", W, 0, 0 },
	{ "INSERT INTO t SELECT * FROM u", W, 0, 0 },
	{ "WITH c AS (SELECT 1) UPDATE t, c SET t.a = 1", W, 0, 0 },
	{ "WITH c AS (SELECT 1) DELETE FROM t", W, 0, 0 },
	{ "CREATE TABLE t (a INT)", W, 0, 0 },
	{ "ALTER TABLE t ADD b INT", W, 0, 0 },
	{ "DROP TABLE t", W, 0, 0 },
	{ "TRUNCATE t", W, 0, 0 },
	{ "CALL p()", W, 0, 0 },
	{ "LOAD DATA LOCAL INFILE 'x' INTO TABLE t", W, 0, 0 },
	{ "ANALYZE TABLE t", W, 0, 0 },
	{ "ANALYZE SELECT * FROM t", R, 0, 0 },
	{ "ANALYZE UPDATE t SET a = 1", W, 0, 0 },
	{ "EXPLAIN ANALYZE SELECT 1", R, 0, 0 },
	{ "START SLAVE", W, 0, 0 },
	{ "DO GET_LOCK('x', 0)", W, QC_PRIMARY | QC_PIN, 0 },
	{ "", W, 0, 0 },
	{ "  ;; -- nothing\n", W, 0, 0 },
	/* Transactions. */
	{ "BEGIN", T, QC_TRX_BEGIN, 0 },
	{ "begin work", T, QC_TRX_BEGIN, 0 },
	{ "START TRANSACTION", T, QC_TRX_BEGIN, 0 },
	{ "START TRANSACTION READ ONLY", T, QC_TRX_BEGIN | QC_TRX_READ_ONLY,
	    0 },
	{ "start transaction with consistent snapshot, read write", T,
	    QC_TRX_BEGIN, 0 },
	{ "COMMIT", T, QC_TRX_END, 0 },
	{ "COMMIT WORK AND CHAIN", T, QC_TRX_END | QC_TRX_BEGIN, 0 },
	{ "COMMIT AND NO CHAIN", T, QC_TRX_END, 0 },
	{ "ROLLBACK", T, QC_TRX_END, 0 },
	{ "ROLLBACK TO SAVEPOINT s1", T, 0, 0 },
	{ "SAVEPOINT s1", T, 0, 0 },
	{ "RELEASE SAVEPOINT s1", T, 0, 0 },
	{ "XA START 'x'", T, QC_XA | QC_TRX_BEGIN, 0 },
	{ "XA END 'x'", T, QC_XA, 0 },
	{ "XA COMMIT 'x'", T, QC_XA | QC_TRX_END, 0 },
	{ "SET TRANSACTION ISOLATION LEVEL SERIALIZABLE", T, 0, 0 },
	{ "BEGIN NOT ATOMIC SELECT 1; SELECT 2; END", W, 0, 0 },
	/* Session state. */
	{ "SET autocommit=0", S, QC_REPLAY | QC_AUTOCOMMIT_OFF, 0 },
	{ "set AUTOCOMMIT = OFF", S, QC_REPLAY | QC_AUTOCOMMIT_OFF, 0 },
	{ "SET @@autocommit := 1", S, QC_REPLAY | QC_AUTOCOMMIT_ON, 0 },
	{ "SET SESSION autocommit = true", S, QC_REPLAY | QC_AUTOCOMMIT_ON,
	    0 },
	{ "SET @@session.autocommit = @x", S, QC_REPLAY | QC_AUTOCOMMIT_OFF,
	    0 },
	{ "SET autocommit = 1, sql_mode = ''", S,
	    QC_REPLAY | QC_AUTOCOMMIT_ON, 0 },
	{ "SET sql_mode = 'autocommit=0'", S, QC_REPLAY, 0 },
	{ "SET NAMES utf8mb4 COLLATE utf8mb4_unicode_ci", S, QC_REPLAY, 0 },
	{ "SET CHARACTER SET utf8", S, QC_REPLAY, 0 },
	{ "SET @x = 1, @y := 'a'", S, QC_REPLAY, 0 },
	{ "SET @id = LAST_INSERT_ID()", S, QC_REPLAY | QC_PIN | QC_PRIMARY, 0 },
	{ "SET SESSION TRANSACTION READ ONLY", S, QC_REPLAY, 0 },
	{ "SET GLOBAL max_connections = 10", W, QC_REPLAY, 0 },
	{ "SET @@global.read_only = 1", W, QC_REPLAY, 0 },
	{ "SET PASSWORD = PASSWORD('x')", W, 0, 0 },
	{ "SET STATEMENT max_statement_time=1 FOR SELECT * FROM t", R, 0, 0 },
	{ "SET STATEMENT max_statement_time=1 FOR UPDATE t SET a=1", W, 0,
	    0 },
	{ "USE shop", S, QC_REPLAY | QC_USE, 0 },
	{ "CREATE TEMPORARY TABLE tmp (a INT)", S, QC_PIN, 0 },
	{ "create or replace temporary table tmp select 1", S, QC_PIN, 0 },
	{ "DROP TEMPORARY TABLE tmp", S, QC_PIN, 0 },
	{ "PREPARE s FROM 'SELECT 1'", S, QC_PIN, 0 },
	{ "EXECUTE s USING @a", S, QC_PIN, 0 },
	{ "DEALLOCATE PREPARE s", S, QC_PIN, 0 },
	{ "DROP PREPARE s", S, QC_PIN, 0 },
	{ "LOCK TABLES t READ", S, QC_PIN, 0 },
	{ "UNLOCK TABLES", S, QC_PIN, 0 },
	{ "HANDLER t OPEN", S, QC_PIN, 0 },
	/* Executable comments are SQL. */
	{ "/*!40101 SET NAMES utf8 */", S, QC_REPLAY, 0 },
	{ "/*!SELECT 1*/", R, 0, 0 },
	{ "SELECT 1 /*!50000 FOR UPDATE */", W, QC_PRIMARY, 0 },
	{ "SELECT 1 /*M!100300 FOR UPDATE */", W, QC_PRIMARY, 0 },
	{ "/*M! INSERT INTO t VALUES (1) */", W, 0, 0 },
	{ "/*!40101 SET @x = 1 /* inner */ */; SELECT 1", W,
	    QC_REPLAY | QC_MULTI, 0 },
	{ "/*!40101 SELECT 1", W, QC_UNTERMINATED, 0 },
	/* Hints. */
	{ "/* route=primary */ SELECT 1", R, 0, HP },
	{ "SELECT 1 -- ROUTE=REPLICA", R, 0, HR },
	{ "# route=replica\nSELECT * FROM t FOR UPDATE", W, QC_PRIMARY, HR },
	{ "SELECT /* route=replica */ 1 /* route=primary */", R, 0, HR },
	{ "SELECT /* route=primaryx */ 1", R, 0, 0 },
	{ "SELECT 'route=primary'", R, 0, 0 },
	{ "SELECT 1 /*! route=primary */", R, 0, 0 },
	{ "SELECT 1 /*+ route=primary */", R, 0, HP },
	/* Comment forms. */
	{ "--\nSELECT 1", R, 0, 0 },
	{ "-- c\nSELECT 1", R, 0, 0 },
	{ "SELECT 1--1", R, 0, 0 },
	{ "SELECT 1 /* open", W, QC_UNTERMINATED, 0 },
	{ "SELECT 'open", W, QC_UNTERMINATED, 0 },
	/* Several statements. */
	{ "SELECT 1; SELECT 2", R, QC_MULTI, 0 },
	{ "SELECT 1;", R, 0, 0 },
	{ "SELECT 1; UPDATE t SET a = 1", W, QC_MULTI, 0 },
	{ "BEGIN; SELECT 1; COMMIT", W, QC_MULTI | QC_TRX_BEGIN | QC_TRX_END,
	    0 },
	{ "SELECT ';'; SELECT \";\"", R, QC_MULTI, 0 },
	{ "SET @a = 1; SELECT @a", W, QC_MULTI | QC_REPLAY, 0 },
	{ "CREATE PROCEDURE p() BEGIN SELECT 1; SET @x = 1; END", W, 0, 0 },
};

START_TEST(classify_cases)
{
	struct qc_result r;

	qc_classify(cases[_i].sql, strlen(cases[_i].sql), 0, &r);
	ck_assert_msg(r.cls == cases[_i].cls && r.flags == cases[_i].flags &&
	    r.hint == cases[_i].hint,
	    "\"%s\": got %s flags 0x%x hint %d, want %s 0x%x hint %d",
	    cases[_i].sql, qc_class_name(r.cls), r.flags, r.hint,
	    qc_class_name(cases[_i].cls), cases[_i].flags, cases[_i].hint);
}
END_TEST

START_TEST(no_backslash_escapes)
{
	struct qc_result r;
	const char *q = "SELECT 'a\\' FOR UPDATE";	/* 'a\' is a string */

	qc_classify(q, strlen(q), 0, &r);
	ck_assert_int_eq(r.cls, QC_WRITE);		/* unterminated */
	ck_assert(r.flags & QC_UNTERMINATED);
	qc_classify(q, strlen(q), QC_OPT_NO_BACKSLASH_ESCAPES, &r);
	ck_assert_int_eq(r.cls, QC_WRITE);
	ck_assert_uint_eq(r.flags, QC_PRIMARY);
}
END_TEST

START_TEST(verb_and_counts)
{
	struct qc_result r;
	const char *q = "/* c */ update t set a=1;; select 1 ;";

	qc_classify(q, strlen(q), 0, &r);
	ck_assert_uint_eq(r.statements, 2);
	ck_assert_uint_eq(r.verb_len, 6);
	ck_assert(strncmp(r.verb, "update", 6) == 0);
	/* Not NUL-terminated: only len bytes are read. */
	qc_classify("SELECT 1; DROP TABLE t", 8, 0, &r);
	ck_assert_int_eq(r.cls, QC_READ);
	ck_assert_uint_eq(r.statements, 1);
}
END_TEST

/* Deep nesting is bounded: classified as a write, not a stack overflow. */
START_TEST(recursion_bounded)
{
	char	 q[4096] = "";
	struct qc_result r;
	int	 i;

	for (i = 0; i < 200; i++)
		strcat(q, "EXPLAIN ANALYZE ");
	strcat(q, "SELECT 1");
	qc_classify(q, strlen(q), 0, &r);
	ck_assert_int_eq(r.cls, QC_WRITE);
}
END_TEST

START_TEST(lexer_tokens)
{
	static const struct {
		enum ql_type	 type;
		const char	*text;
	} want[] = {
		{ QL_WORD, "SELECT" }, { QL_VAR, "@`a b`" },
		{ QL_PUNCT, ":=" }, { QL_SYSVAR, "@@session.x" },
		{ QL_PUNCT, "," }, { QL_NUMBER, "1.5e3" }, { QL_PUNCT, "," },
		{ QL_STRING, "'x''y'" }, { QL_IDENT, "`t`" },
		{ QL_WORD, "ü_1" }, { QL_PUNCT, ";" },
	};
	const char *q = "SELECT @`a b` := @@session.x, 1.5e3, 'x''y' /* c */"
	    "`t` ü_1;";
	struct ql_lexer l;
	struct ql_token t;
	size_t	 i;

	ql_init(&l, q, strlen(q), false);
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		ql_next(&l, &t);
		ck_assert_int_eq(t.type, want[i].type);
		ck_assert_uint_eq(t.len, strlen(want[i].text));
		ck_assert(memcmp(t.p, want[i].text, t.len) == 0);
	}
	ql_next(&l, &t);
	ck_assert_int_eq(t.type, QL_END);
	ql_next(&l, &t);
	ck_assert_int_eq(t.type, QL_END);
	ck_assert(!l.unterminated);
}
END_TEST

Suite *
query_class_suite(void)
{
	Suite	*s = suite_create("query_class");
	TCase	*tc = tcase_create("classify");

	tcase_add_loop_test(tc, classify_cases, 0,
	    sizeof(cases) / sizeof(cases[0]));
	tcase_add_test(tc, no_backslash_escapes);
	tcase_add_test(tc, verb_and_counts);
	tcase_add_test(tc, recursion_bounded);
	tcase_add_test(tc, lexer_tokens);
	suite_add_tcase(s, tc);
	return s;
}
