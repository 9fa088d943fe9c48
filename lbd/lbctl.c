/* lbctl — control lbd over its socket (see lbctl(8)). */
#include <string.h>

#include "conf.h"
#include "ctl.h"
#include "lbd.h"

/* server drain|maint POOL/NAME wait [TIMEOUT] answers when the server is
 * idle: wait for the reply as long as lbd waits, plus the usual margin. */
static int
reply_timeout(int argc, char *const argv[], int default_ms)
{
	uint64_t	 ms = LB_DRAIN_WAIT_DEFAULT_MS;

	if (argc < 4 || strcmp(argv[0], "server") != 0 ||
	    strcmp(argv[3], "wait") != 0)
		return -1;
	if (argc == 5 && (conf_parse_duration(argv[4], &ms) == -1 ||
	    ms > LB_DRAIN_WAIT_MAX_MS))
		return -1;	/* lbd refuses it at once */
	return ms == 0 ? 0 : (int)ms + default_ms;
}

int
main(int argc, char **argv)
{
	static const struct ctl_tool lbctl = { "lbctl", "/run/stackd/lbd.sock",
	    reply_timeout };

	return ctl_tool_run(&lbctl, argc, argv);
}
