/* dbctl — control dbrouter over its socket (see dbctl(8)). */
#include <string.h>

#include "conf.h"
#include "ctl.h"

/* switchover NAME [TIMEOUT] answers once it is over: dbrouter waits at
 * most TIMEOUT (default 10s, its switchover-timeout) for the catch-up,
 * plus each statement's failover-timeout; wait for the reply as long as
 * that may take, with a margin. */
static int
reply_timeout(int argc, char *const argv[], int default_ms)
{
	uint64_t	 ms = 10000;

	if (argc < 2 || strcmp(argv[0], "switchover") != 0)
		return -1;
	if (argc == 3) {
		if (conf_parse_uint(argv[2], &ms) == 0)
			ms *= 1000;
		else if (conf_parse_duration(argv[2], &ms) == -1)
			return -1;	/* dbrouter refuses it at once */
	}
	if (ms > 3600 * 1000)
		return -1;
	return (int)ms + 60000 + default_ms;
}

int
main(int argc, char **argv)
{
	static const struct ctl_tool dbctl = { "dbctl",
	    "/run/stackd/dbrouter.sock", reply_timeout };

	return ctl_tool_run(&dbctl, argc, argv);
}
