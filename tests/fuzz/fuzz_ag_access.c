/* fuzz_ag_access: arbitrary bytes as one access log line.
 *
 * Byte 0 picks the format (raw, combined, json). The rest is parsed from
 * an exact-size copy (no NUL after it): every line is either counted as
 * one request or as one parse error, never both, and the same line gives
 * the same answer twice. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "metrics.h"
#include "ag_access.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
check(int cond)
{
	if (!cond)
		abort();
}

/* Sum of the samples whose line starts with prefix. */
static double
total(struct metrics *m, const char *prefix)
{
	struct buf b;
	const char *p, *nl;
	double	 sum = 0;

	buf_init(&b, 0);
	check(metrics_render(m, &b) == 0);
	for (p = buf_cstr(&b); *p != '\0'; p = nl + 1) {
		if ((nl = strchr(p, '\n')) == NULL)
			break;
		if (strncmp(p, prefix, strlen(prefix)) == 0)
			sum += strtod((const char *)memrchr(p, ' ',
			    (size_t)(nl - p)) + 1, NULL);
	}
	buf_free(&b);
	return sum;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct metrics *m;
	struct ag_access *a;
	enum ag_log_format fmt;
	char	*text;
	size_t	 len;
	int	 rv;

	if (size < 1)
		return 0;
	fmt = (enum ag_log_format)(data[0] % 3);
	len = size - 1;
	text = malloc(len ? len : 1);
	memcpy(text, data + 1, len);
	m = metrics_new("f_");
	a = ag_access_new(m);
	check(a != NULL);
	rv = ag_access_line(a, "l", fmt, text, len);
	check(rv == 0 || rv == -1);
	check(ag_access_line(a, "l", fmt, text, len) == rv);
	check(total(m, "f_web_requests_total{") == (rv == 0 ? 2 : 0));
	check(total(m, "f_web_parse_errors_total{") == (rv == -1 ? 2 : 0));
	ag_access_tick(a, 1000);
	ag_access_tick(a, 2000);
	ag_access_free(a);
	metrics_free(m);
	free(text);
	return 0;
}
