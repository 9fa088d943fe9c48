/* agentctl — control agentd over its socket (see agentctl(8)). */
#include "ctl.h"

int
main(int argc, char **argv)
{
	static const struct ctl_tool agentctl = { "agentctl",
	    "/run/stackd/agentd.sock", NULL };

	return ctl_tool_run(&agentctl, argc, argv);
}
