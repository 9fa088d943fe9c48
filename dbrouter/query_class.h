/* query_class — classify the text of a COM_QUERY for routing.
 *
 * Classes: READ may go to a replica (SELECT, SHOW, DESCRIBE/DESC,
 * EXPLAIN, WITH ... SELECT, VALUES, TABLE) unless something in it needs
 * the primary; TRX starts or ends a transaction (or is only meaningful
 * inside one); SESSION changes state of the connection; WRITE is
 * everything else and always goes to the primary. Flags say why and what
 * follows from it:
 *
 *   QC_TRX_BEGIN	BEGIN, START TRANSACTION, XA START, COMMIT AND CHAIN
 *   QC_TRX_READ_ONLY	START TRANSACTION READ ONLY
 *   QC_TRX_END		COMMIT, ROLLBACK (not TO SAVEPOINT), XA COMMIT/ROLLBACK
 *   QC_AUTOCOMMIT_OFF	SET autocommit=0/OFF/FALSE (or to an expression):
 *			what follows is a transaction
 *   QC_AUTOCOMMIT_ON	SET autocommit=1/ON/TRUE
 *   QC_XA		an XA statement
 *   QC_REPLAY		session state the daemon replays on every backend the
 *			session uses: SET [SESSION] var, SET NAMES, SET
 *			CHARACTER SET, SET @user_var, USE db, SET ROLE
 *   QC_USE		USE db (also QC_REPLAY)
 *   QC_PIN		state that lives in one backend connection: pin the
 *			session to the primary (CREATE/DROP TEMPORARY TABLE,
 *			PREPARE/EXECUTE/DEALLOCATE, LOCK/UNLOCK TABLES,
 *			HANDLER, GET_LOCK/RELEASE_LOCK, and SET @v = x
 *			where x needs the primary)
 *   QC_PRIMARY		a read that must run on the primary: FOR UPDATE, FOR
 *			SHARE, LOCK IN SHARE MODE, INTO, @v := in a SELECT,
 *			LAST_INSERT_ID(), @@identity, NEXTVAL, NEXT VALUE FOR
 *   QC_PREV_BACKEND	the answer is about the previous statement: send it
 *			where that one ran (SHOW WARNINGS/ERRORS, FOUND_ROWS(),
 *			ROW_COUNT(), @@warning_count, @@error_count)
 *   QC_MULTI		several statements separated by ';'
 *   QC_UNTERMINATED	a string or comment runs off the end
 *
 * Several statements: READ only if all are READ, else WRITE, with the
 * flags of all of them; the daemon should then trust the status flags
 * the server returns (IN_TRANS) over QC_TRX_*. CREATE and BEGIN NOT
 * ATOMIC take the rest of the text as their body (procedures contain ';').
 *
 * Hints: a comment that contains route=primary or route=replica (any
 * case, as a whole word), anywhere in the text, sets hint; the first one
 * wins. Examples: "SELECT 1 -- route=primary", "# route=replica" on a
 * line of its own, or the same words in a block comment. The class is
 * unchanged: whether a hint may send a write to a replica (it must not)
 * or leave a transaction is the daemon's policy. Executable comments are
 * SQL, so hints inside them are not hints.
 *
 * Keywords match case-insensitively and never inside strings, quoted
 * identifiers or comments; executable comments count as SQL. */
#ifndef STACKD_QUERY_CLASS_H
#define STACKD_QUERY_CLASS_H

#include <stdbool.h>
#include <stddef.h>

#include "query_lex.h"

enum qc_class {
	QC_READ,
	QC_WRITE,
	QC_TRX,
	QC_SESSION,
};

#define QC_TRX_BEGIN		0x0001u
#define QC_TRX_READ_ONLY	0x0002u
#define QC_TRX_END		0x0004u
#define QC_AUTOCOMMIT_OFF	0x0008u
#define QC_AUTOCOMMIT_ON	0x0010u
#define QC_XA			0x0020u
#define QC_REPLAY		0x0040u
#define QC_USE			0x0080u
#define QC_PIN			0x0100u
#define QC_PRIMARY		0x0200u
#define QC_PREV_BACKEND		0x0400u
#define QC_MULTI		0x0800u
#define QC_UNTERMINATED		0x1000u

/* Options. */
#define QC_OPT_NO_BACKSLASH_ESCAPES	0x1u	/* server status flag 0x200 */

struct qc_result {
	enum qc_class	 cls;
	unsigned	 flags;
	enum ql_hint	 hint;
	unsigned	 statements;	/* non-empty ones */
	const char	*verb;		/* first word of the first statement */
	size_t		 verb_len;	/* (for logs and metrics); 0: none */
};

void	 qc_classify(const char *sql, size_t len, unsigned opts,
	    struct qc_result *);
const char *qc_class_name(enum qc_class);

#endif
