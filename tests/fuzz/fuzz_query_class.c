/* fuzz_query_class: arbitrary bytes as COM_QUERY text.
 *
 * Byte 0 picks the options. The rest is classified from an exact-size
 * copy (no NUL after it): the class, hint and counts stay in range, no
 * statement means no class but WRITE, an unterminated text is WRITE, a
 * READ never carries transaction or session flags, and the same text
 * classifies the same twice. The lexer alone walks it to QL_END with
 * every token inside the text. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "query_class.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
check(int cond)
{
	if (!cond)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct qc_result r, again;
	struct ql_lexer l;
	struct ql_token t;
	unsigned opts;
	char	*text;
	size_t	 len, tokens = 0;

	if (size < 1)
		return 0;
	opts = data[0] & QC_OPT_NO_BACKSLASH_ESCAPES;
	len = size - 1;
	text = malloc(len ? len : 1);
	memcpy(text, data + 1, len);

	qc_classify(text, len, opts, &r);
	check(r.cls <= QC_SESSION && r.hint <= QL_HINT_REPLICA);
	check(r.statements <= len);
	if (r.statements == 0)
		check(r.cls == QC_WRITE && r.verb_len == 0);
	else
		check(r.verb >= text && r.verb + r.verb_len <= text + len);
	if (r.flags & QC_UNTERMINATED)
		check(r.cls == QC_WRITE);
	if (r.cls == QC_READ)
		check((r.flags & (QC_TRX_BEGIN | QC_TRX_END | QC_REPLAY |
		    QC_PIN | QC_PRIMARY | QC_AUTOCOMMIT_OFF)) == 0);
	check((r.statements > 1) == ((r.flags & QC_MULTI) != 0));
	qc_classify(text, len, opts, &again);
	check(again.cls == r.cls && again.flags == r.flags &&
	    again.hint == r.hint && again.statements == r.statements);

	ql_init(&l, text, len, opts != 0);
	do {
		ql_next(&l, &t);
		check(t.p >= text && t.p + t.len <= text + len);
		check(t.type == QL_END || t.len > 0);
		check(++tokens <= len + 1);
	} while (t.type != QL_END);
	free(text);
	return 0;
}
