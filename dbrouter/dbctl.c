/* dbctl — control dbrouter over its socket (see dbctl(8)). */
#include "ctl.h"

int
main(int argc, char **argv)
{
	static const struct ctl_tool dbctl = { "dbctl",
	    "/run/stackd/dbrouter.sock", NULL };

	return ctl_tool_run(&dbctl, argc, argv);
}
