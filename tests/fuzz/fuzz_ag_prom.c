/* libFuzzer target: agentd's exposition reader — iterate, sum with a
 * selector, relabel — over arbitrary text. */
#include <stdint.h>
#include <string.h>

#include "ag_prom.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	const char	*text = (const char *)data;
	struct ag_sample s;
	struct buf	 out;
	size_t		 pos = 0;
	double		 v;

	while (ag_prom_next(text, len, &pos, &s) != 0)
		(void)ag_prom_match(&s, "a=b,code=200");
	(void)ag_prom_sum(text, len, "x", "a=b", &v);
	buf_init(&out, 1 << 20);
	(void)ag_prom_relabel(text, len, "daemon", "webd", 1, true, "process_",
	    &out);
	buf_free(&out);
	return 0;
}
